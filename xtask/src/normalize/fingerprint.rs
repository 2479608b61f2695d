//! Structural identity of schemas: two schemas with the same fingerprint decode the same JSON the same way.
//!
//! The fingerprint is a canonical text of the schema with every `$ref` replaced by the fingerprint of its target
//! and documentation-only keywords (`description`, `example`, `title`, `externalDocs`) left out.

use serde_json::{Map, Value};

/// Keywords that do not change what a schema accepts.
const DOC_ONLY: [&str; 4] = ["description", "example", "title", "externalDocs"];

/// How deep references are followed before a reference is compared by name (guards against cycles).
const MAX_DEPTH: usize = 12;

/// The fingerprint of `v`; `resolve` maps a `$ref` to its target schema.
pub fn fingerprint<'a>(v: &'a Value, resolve: &dyn Fn(&str) -> Option<&'a Value>) -> String {
    let mut out = String::new();
    write(v, resolve, 0, &mut out);
    out
}

fn write<'a>(
    v: &'a Value,
    resolve: &dyn Fn(&str) -> Option<&'a Value>,
    depth: usize,
    out: &mut String,
) {
    match v {
        Value::Object(obj) => {
            if let Some(Value::String(r)) = obj.get("$ref") {
                match resolve(r) {
                    Some(target) if depth < MAX_DEPTH => {
                        write(target, resolve, depth.saturating_add(1), out);
                    }
                    _ => {
                        out.push_str("{\"$ref\":");
                        out.push_str(&Value::String(r.clone()).to_string());
                        out.push('}');
                    }
                }
                return;
            }
            let keys: Vec<&String> = obj
                .keys()
                .filter(|k| !DOC_ONLY.contains(&k.as_str()))
                .collect();
            write_sorted(obj, keys, out, |k, child, out| {
                if k == "properties" {
                    write_properties(child, resolve, depth, out);
                } else if let ("required" | "enum", Value::Array(items)) = (k, child) {
                    // Sets: their order does not change what is accepted.
                    let mut texts: Vec<String> = items.iter().map(Value::to_string).collect();
                    texts.sort();
                    out.push('[');
                    out.push_str(&texts.join(","));
                    out.push(']');
                } else {
                    write(child, resolve, depth, out);
                }
            });
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, resolve, depth, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `properties` is a map of names to schemas: its keys are data, not keywords, so none is skipped.
fn write_properties<'a>(
    v: &'a Value,
    resolve: &dyn Fn(&str) -> Option<&'a Value>,
    depth: usize,
    out: &mut String,
) {
    let Some(obj) = v.as_object() else {
        write(v, resolve, depth, out);
        return;
    };
    let keys: Vec<&String> = obj.keys().collect();
    write_sorted(obj, keys, out, |_, child, out| {
        write(child, resolve, depth, out);
    });
}

/// Writes the members of `obj` named by `keys` as a JSON object, keys sorted; `value` writes each member's value.
fn write_sorted<'a>(
    obj: &'a Map<String, Value>,
    mut keys: Vec<&String>,
    out: &mut String,
    mut value: impl FnMut(&str, &'a Value, &mut String),
) {
    keys.sort();
    out.push('{');
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String((*k).clone()).to_string());
        out.push(':');
        if let Some(child) = obj.get(k.as_str()) {
            value(k, child, out);
        }
    }
    out.push('}');
}
