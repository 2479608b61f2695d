//! The `schemars` feature: every struct and enum of the generated `types`
//! module gets `#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]`.
//! Fields decoded through a custom function (`deserialize_with`) get
//! `schemars(with = "<their own type>")`, so their schema is the field type's.

use quote::ToTokens;
use syn::{Fields, Item};

/// Adds the derive (and the `with` hints) in place.
pub fn derive_json_schema(file: &mut syn::File) {
    for items in crate::types_modules(file) {
        for item in items.iter_mut() {
            let (attrs, fields) = match item {
                Item::Struct(s) => (&mut s.attrs, Some(&mut s.fields)),
                Item::Enum(e) => (&mut e.attrs, None),
                _ => continue,
            };
            if !derives_serde(attrs) {
                continue;
            }
            attrs.push(syn::parse_quote!(
                #[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]
            ));
            let Some(Fields::Named(fields)) = fields else {
                continue;
            };
            for field in fields.named.iter_mut() {
                let custom = field.attrs.iter().any(|a| {
                    a.path().is_ident("serde")
                        && a.to_token_stream().to_string().contains("deserialize_with")
                });
                if custom {
                    let ty = field.ty.to_token_stream().to_string();
                    field.attrs.push(syn::parse_quote!(
                        #[cfg_attr(feature = "schemars", schemars(with = #ty))]
                    ));
                }
            }
        }
    }
}

fn derives_serde(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive") && {
            let text = a.to_token_stream().to_string();
            text.contains("Deserialize") || text.contains("Serialize")
        }
    })
}
