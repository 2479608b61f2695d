//! The scopes table: every operation's `x-fanvue-scopes` (the OAuth scopes
//! it requires), read from the raw document and emitted as
//! `operation_scopes(id) -> &'static [&'static str]`.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The required scopes of every operation that declares some, by operationId, in spec order.
pub fn collect(doc: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for item in paths.values() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let scopes: Vec<String> = op
                .get("x-fanvue-scopes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if !scopes.is_empty() {
                out.push((id.to_owned(), scopes));
            }
        }
    }
    out
}

/// `operation_scopes(operation_id) -> &'static [&'static str]`.
pub fn generate(scopes: &[(String, Vec<String>)]) -> TokenStream {
    let arms = scopes.iter().map(|(id, scopes)| {
        quote! { #id => &[#(#scopes),*], }
    });
    quote! {
        /// The OAuth scopes an operation requires (by operationId; `x-fanvue-scopes`).
        pub(crate) fn operation_scopes(operation_id: &str) -> &'static [&'static str] {
            match operation_id {
                #(#arms)*
                _ => &[],
            }
        }
    }
}
