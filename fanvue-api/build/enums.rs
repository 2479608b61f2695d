//! Tolerant Rust enums for every named string-enum schema of the spec.
//!
//! Each enum gets one variant per listed value plus `Unknown(String)`, so a
//! value Fanvue adds later decodes instead of failing the whole response, and
//! stays visible to the caller. progenitor is told to use these types in
//! place of the ones it would generate (`with_replacement`).

use openapiv3::{OpenAPI, ReferenceOr, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::names::pascal;

/// One named string enum of the spec.
pub struct StringEnum {
    /// The component name (also the Rust type name).
    pub name: String,
    /// The listed values, in spec order.
    pub values: Vec<String>,
    /// The schema's description, if any (already sanitized).
    pub description: Option<String>,
}

/// Finds every component schema that is a string enum.
pub fn collect(spec: &OpenAPI) -> Vec<StringEnum> {
    let Some(components) = &spec.components else {
        return Vec::new();
    };
    components
        .schemas
        .iter()
        .filter_map(|(name, schema)| {
            let ReferenceOr::Item(schema) = schema else {
                return None;
            };
            let SchemaKind::Type(Type::String(string)) = &schema.schema_kind else {
                return None;
            };
            if string.enumeration.is_empty() {
                return None;
            }
            Some(StringEnum {
                name: pascal(name),
                values: string.enumeration.iter().flatten().cloned().collect(),
                description: schema.schema_data.description.clone(),
            })
        })
        .collect()
}

/// Rust variant names for the values, unique and never `Unknown`.
fn variant_names(values: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for value in values {
        let mut name = pascal(value);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            name = format!("V{name}");
        }
        if name == "Unknown" {
            name = "UnknownValue".to_string();
        }
        let base = name.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// The code of all enums (the `enums` module's body).
pub fn generate(enums: &[StringEnum]) -> TokenStream {
    let items = enums.iter().map(generate_one);
    quote! { #(#items)* }
}

fn generate_one(e: &StringEnum) -> TokenStream {
    let ident = format_ident!("{}", e.name);
    let names = variant_names(&e.values);
    let variants: Vec<_> = names.iter().map(|n| format_ident!("{}", n)).collect();
    let values = &e.values;
    let name_str = &e.name;
    let value_docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let mut doc = e
        .description
        .clone()
        .unwrap_or_else(|| format!("The `{}` values of the Fanvue API.", e.name));
    doc.push_str(&format!(
        "\n\nKnown values: {}.\n\nA value this version of the spec does not list decodes to \
         [`{}::Unknown`], which keeps the raw string, so a response never fails to decode \
         because Fanvue added a value; it serializes back unchanged. The enum is \
         `#[non_exhaustive]`: a value added to the spec becomes a variant in a minor release, \
         so a `match` needs a `_` arm.",
        value_docs.join(", "),
        e.name
    ));
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        // Fanvue adds values: a new one becomes a variant in a minor release.
        #[non_exhaustive]
        pub enum #ident {
            #(
                #[doc = #value_docs]
                #variants,
            )*
            /// A value this version of the spec does not list (kept verbatim).
            Unknown(::std::string::String),
        }

        impl #ident {
            /// Every value the spec lists, in spec order.
            pub const KNOWN: &'static [Self] = &[#(Self::#variants),*];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #values,)*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value the spec does not list.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::convert::From<&str> for #ident {
            fn from(value: &str) -> Self {
                match value {
                    #(#values => Self::#variants,)*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #ident {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #(#values => Self::#variants,)*
                    _ => Self::Unknown(value),
                }
            }
        }

        impl ::std::str::FromStr for #ident {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#name_str)
            }

            /// The known values; any other string also decodes (to `Unknown`).
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({
                    "type": "string",
                    "enum": [#(#values),*],
                })
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value))
            }
        }
    }
}
