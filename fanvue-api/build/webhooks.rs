//! The webhook payloads (`openapi/webhooks.json`, normalized by `cargo xtask normalize` from the hand-kept
//! `openapi/webhooks.yaml`): their schemas join the spec's components before generation, so they become
//! `types::Webhook*` like every other type (tolerant enums, lenient integers, unknown fields ignored), and
//! their event table becomes `fanvue_api::webhooks::EVENTS`.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

/// One row of the event table.
pub struct EventRow {
    kind: String,
    family: String,
    schema: String,
    confidence: String,
    topics: Vec<String>,
    aliases: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Adds the webhook schemas to `spec`'s components (a name both documents use is an error) and returns the
/// event table.
pub fn merge(spec: &mut Value, hooks: &Value) -> Result<Vec<EventRow>, String> {
    let schemas = hooks
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("webhooks.json has no components.schemas")?;
    let target = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or("the spec has no components.schemas")?;
    for (name, schema) in schemas {
        if target.insert(name.clone(), schema.clone()).is_some() {
            return Err(format!(
                "schema `{name}` is in both fanvue.json and webhooks.json"
            ));
        }
    }
    let events = hooks
        .pointer("/x-fanvue-webhooks/events")
        .and_then(Value::as_array)
        .ok_or("webhooks.json has no x-fanvue-webhooks.events")?;
    events
        .iter()
        .map(|e| {
            let field = |k: &str| {
                e.get(k)
                    .and_then(Value::as_str)
                    .map(String::from)
                    .ok_or_else(|| format!("a webhook event has no `{k}`"))
            };
            Ok(EventRow {
                kind: field("type")?,
                family: field("family")?,
                schema: field("schema")?,
                confidence: field("confidence")?,
                topics: strings(e.get("topics")),
                aliases: strings(e.get("aliases")),
            })
        })
        .collect()
}

/// `EVENTS`, the table of known webhook event types.
pub fn generate(rows: &[EventRow]) -> TokenStream {
    let rows = rows.iter().map(|r| {
        let EventRow {
            kind,
            schema,
            confidence,
            ..
        } = r;
        let family = match r.family.as_str() {
            "flat" => quote!(Family::Flat),
            _ => quote!(Family::Envelope),
        };
        let topics = &r.topics;
        let aliases = &r.aliases;
        quote! {
            EventInfo {
                kind: #kind,
                family: #family,
                schema: #schema,
                confidence: #confidence,
                topics: &[#(#topics),*],
                aliases: &[#(#aliases),*],
            }
        }
    });
    quote! {
        /// Every webhook event type the SDK types, from `openapi/webhooks.yaml`.
        pub const EVENTS: &[EventInfo] = &[#(#rows),*];
    }
}
