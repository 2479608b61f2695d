//! `openapi/webhooks.yaml` → `openapi/webhooks.json` (and the fanvue-api crate's copy): the webhook event
//! payloads, which Fanvue's OpenAPI document does not describe.
//!
//! The overlay is hand-kept (each event with its sources and confidence); normalizing it applies the rules the
//! API document goes through where they concern schemas: 3.1 constructs converted to 3.0 ([`super::convert31`]),
//! the integer rules of `numbers.yaml` ([`super::numbers`]), inline enums hoisted into named schemas
//! ([`super::enums`]), every `$ref` and every event's schema resolved, the result parsed by `openapiv3`, and the
//! same deterministic rendering ([`super::output`]). `cargo xtask check` compares the committed files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::numbers::NumberRules;
use super::walk::{self, SCHEMA_REF};
use super::{NormalizeError, convert31, enums, output};

/// The hand-kept overlay, in the openapi folder.
pub const WEBHOOKS_INPUT: &str = "webhooks.yaml";
/// The normalized file, in the openapi folder.
pub const WEBHOOKS_OUTPUT: &str = "webhooks.json";
/// The crate's copy, relative to the workspace root.
pub const WEBHOOKS_CRATE_COPY: &str = "fanvue-api/openapi/webhooks.json";
/// The extension holding the event table.
pub const EVENTS_EXTENSION: &str = "x-fanvue-webhooks";

/// The normalized webhook document.
#[derive(Debug, Clone)]
pub struct NormalizedWebhooks {
    /// The document.
    pub doc: Value,
    /// Its committed text.
    pub text: String,
}

impl NormalizedWebhooks {
    /// The number of event types in the table.
    pub fn event_count(&self) -> usize {
        events(&self.doc).map_or(0, <[Value]>::len)
    }
}

fn events(doc: &Value) -> Option<&[Value]> {
    doc.get(EVENTS_EXTENSION)
        .and_then(|w| w.get("events"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
}

/// Whether the openapi folder has a webhook overlay.
pub fn has_overlay(openapi_dir: &Path) -> bool {
    openapi_dir.join(WEBHOOKS_INPUT).is_file()
}

/// The files `normalize` writes for the overlay of `openapi_dir` (the output and, when it exists as a regular
/// file or the crate folder exists, the crate's copy).
pub fn output_files(openapi_dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![openapi_dir.join(WEBHOOKS_OUTPUT)];
    if let Some(root) = openapi_dir.parent()
        && root.join("fanvue-api").join("openapi").is_dir()
    {
        files.push(root.join(WEBHOOKS_CRATE_COPY));
    }
    files
}

/// Normalizes `openapi_dir/webhooks.yaml`.
pub fn normalize(
    openapi_dir: &Path,
    numbers: &NumberRules,
) -> Result<NormalizedWebhooks, NormalizeError> {
    let path = openapi_dir.join(WEBHOOKS_INPUT);
    let text = std::fs::read_to_string(&path).map_err(|source| NormalizeError::Io {
        path: path.clone(),
        source,
    })?;
    normalize_text(&text, numbers)
}

fn config(message: impl Into<String>) -> NormalizeError {
    NormalizeError::Config {
        file: format!("openapi/{WEBHOOKS_INPUT}"),
        message: message.into(),
    }
}

/// Normalizes the text of a webhook overlay.
pub fn normalize_text(
    text: &str,
    numbers: &NumberRules,
) -> Result<NormalizedWebhooks, NormalizeError> {
    let yaml: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| config(e.to_string()))?;
    let mut doc = super::page::yaml_to_json(yaml).map_err(config)?;
    walk::for_each_root(&mut doc, &mut |schema, _, ptr, _| {
        convert31::convert(schema, ptr)
    })
    .map_err(|u| config(format!("{} at {}", u.construct, u.pointer)))?;
    let _ = walk::for_each_root::<()>(&mut doc, &mut |schema, _, _, _| {
        numbers.apply(schema, None);
        Ok(())
    });
    enums::hoist_enums(&mut doc);
    check(&doc)?;
    super::validate(&doc)?;
    let text = output::render(&doc);
    Ok(NormalizedWebhooks { doc, text })
}

/// No operations; every event names a type and an existing schema, once; every `$ref` resolves.
fn check(doc: &Value) -> Result<(), NormalizeError> {
    if super::count_operations(doc) != 0 {
        return Err(config("webhook payloads only: `paths` must be empty"));
    }
    let events =
        events(doc).ok_or_else(|| config(format!("no `{EVENTS_EXTENSION}.events` list")))?;
    let mut seen = std::collections::BTreeSet::new();
    for event in events {
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| config("an event has no `type`"))?;
        if !seen.insert(kind.to_string()) {
            return Err(config(format!("event `{kind}` is listed twice")));
        }
        let family = event.get("family").and_then(Value::as_str);
        if !matches!(family, Some("flat" | "envelope")) {
            return Err(config(format!(
                "event `{kind}`: `family` must be flat or envelope"
            )));
        }
        for key in ["confidence", "sources"] {
            if event.get(key).is_none() {
                return Err(config(format!("event `{kind}` has no `{key}`")));
            }
        }
        let schema = event
            .get("schema")
            .and_then(Value::as_str)
            .ok_or_else(|| config(format!("event `{kind}` has no `schema`")))?;
        if doc
            .pointer(&format!("/components/schemas/{}", walk::escape(schema)))
            .is_none()
        {
            return Err(config(format!("event `{kind}`: no schema `{schema}`")));
        }
    }
    let mut refs = Vec::new();
    walk::collect_refs(doc, &mut refs);
    for r in refs {
        if !(r.starts_with(SCHEMA_REF) && r.get(1..).is_some_and(|p| doc.pointer(p).is_some())) {
            return Err(NormalizeError::DanglingRef {
                file: format!("openapi/{WEBHOOKS_INPUT}"),
                line: None,
                reference: r,
            });
        }
    }
    Ok(())
}

/// Writes the normalized text to every output file.
pub fn write(openapi_dir: &Path, normalized: &NormalizedWebhooks) -> Result<(), NormalizeError> {
    for path in output_files(openapi_dir) {
        super::write_atomically(&path, &normalized.text)?;
    }
    Ok(())
}
