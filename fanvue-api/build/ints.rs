//! Integers that arrive as floats: every field of a generated type whose type
//! holds an integer (`i64`, `Option<u64>`, `Vec<i64>`, `HashMap<String, i64>`,
//! `NonZeroU64`, ...) gets `#[serde(deserialize_with =
//! "crate::int::field::<_, _, N>")]` (see `src/int.rs`), and the generated
//! module gets the `INT_FIELDS` table naming field `N` for error messages.

use quote::ToTokens;
use syn::{Fields, GenericArgument, Item, PathArguments, Type};

const OPTION_DESERIALIZE: &str = "::std::option::Option::deserialize";

/// Rewrites the `types` module in place; returns the field-name table item.
pub fn make_lenient(file: &mut syn::File) -> syn::Item {
    let mut names: Vec<String> = Vec::new();
    for items in crate::types_modules(file) {
        for item in items.iter_mut() {
            match item {
                Item::Struct(s) if derives_deserialize(&s.attrs) => {
                    if let Fields::Named(fields) = &mut s.fields {
                        lenient_fields(fields, &s.ident.to_string(), &mut names);
                    }
                }
                // Untagged unions with inline object branches (struct variants).
                Item::Enum(e) if derives_deserialize(&e.attrs) => {
                    let enum_name = e.ident.to_string();
                    for variant in e.variants.iter_mut() {
                        if let Fields::Named(fields) = &mut variant.fields {
                            let owner = format!("{enum_name}::{}", variant.ident);
                            lenient_fields(fields, &owner, &mut names);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    syn::parse_quote! {
        /// `Type.field` of every integer field, indexed by `crate::int::field`'s `N`.
        pub(crate) static INT_FIELDS: &[&str] = &[#(#names),*];
    }
}

/// Adds the lenient `deserialize_with` to the integer fields of one struct
/// (or struct variant) named `owner`.
fn lenient_fields(fields: &mut syn::FieldsNamed, owner: &str, names: &mut Vec<String>) {
    for field in fields.named.iter_mut() {
        if !holds_int(&field.ty) {
            continue;
        }
        // typify marks required nullable fields with
        // `deserialize_with = "::std::option::Option::deserialize"`
        // (no default: absent is an error); ours keeps that.
        let option_attr = field
            .attrs
            .iter()
            .position(|a| a.to_token_stream().to_string().contains(OPTION_DESERIALIZE));
        if option_attr.is_none() && has_custom_serde(&field.attrs) {
            continue;
        }
        let wire = wire_name(field);
        let index = names.len();
        let path = format!("crate::int::field::<_, _, {index}>");
        let attr: syn::Attribute = match option_attr {
            Some(at) => {
                let text = field.attrs[at]
                    .to_token_stream()
                    .to_string()
                    .replace(OPTION_DESERIALIZE, &path);
                let Ok(syn::Item::Struct(parsed)) = syn::parse_str(&format!("{text} struct X;"))
                else {
                    continue;
                };
                let Some(attr) = parsed.attrs.into_iter().next() else {
                    continue;
                };
                field.attrs.remove(at);
                attr
            }
            // serde treats an absent `Option` field as `None` only without
            // `deserialize_with`: keep that with `default`.
            None if is_option(&field.ty) && !has_default(&field.attrs) => {
                syn::parse_quote!(#[serde(default, deserialize_with = #path)])
            }
            None => syn::parse_quote!(#[serde(deserialize_with = #path)]),
        };
        field.attrs.push(attr);
        names.push(format!("{owner}.{wire}"));
    }
}

fn derives_deserialize(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive") && a.to_token_stream().to_string().contains("Deserialize")
    })
}

fn has_custom_serde(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let text = a.to_token_stream().to_string();
        a.path().is_ident("serde")
            && (text.contains("deserialize_with")
                || text.contains("with =")
                || text.contains("flatten"))
    })
}

fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

fn has_default(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("serde") && {
            let text = a.to_token_stream().to_string();
            text.contains("default")
        }
    })
}

/// The JSON name: the serde `rename`, else the ident.
fn wire_name(field: &syn::Field) -> String {
    for attr in &field.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let text = attr.to_token_stream().to_string();
        if let Some(rest) = text.split("rename = \"").nth(1)
            && let Some(name) = rest.split('"').next()
        {
            return name.to_string();
        }
    }
    field
        .ident
        .as_ref()
        .map(|i| i.to_string().trim_start_matches("r#").to_string())
        .unwrap_or_default()
}

/// Whether the type is an integer, or an `Option`/`Vec`/map of (...) integers.
fn holds_int(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    if p.qself.is_some() {
        return false;
    }
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    let name = last.ident.to_string();
    match name.as_str() {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "NonZeroU64"
        | "NonZeroU32" | "NonZeroI64" => true,
        "Option" | "Vec" | "HashMap" | "BTreeMap" => {
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return false;
            };
            // The element (Option, Vec) or the value (maps): the last type argument.
            args.args
                .iter()
                .filter_map(|a| match a {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .next_back()
                .is_some_and(holds_int)
        }
        _ => false,
    }
}
