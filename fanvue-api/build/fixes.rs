//! Generator-limitation fixes applied to the raw document before progenitor
//! reads it. Each fix is generic (no per-operation code) and reported as a
//! cargo warning so a spec problem stays visible.

use serde_json::Value;

/// Removes every `default` that its own schema rejects (outside
/// `minimum`/`maximum`, or not one of the `enum` values): typify refuses the
/// whole document ("value does not conform to the given schema") otherwise.
/// The official document has one (`limit` of the online subscribers:
/// `default: 1000`, `maximum: 50`). Returns where defaults were dropped.
pub fn drop_nonconforming_defaults(doc: &mut Value) -> Vec<String> {
    let mut dropped = Vec::new();
    walk(doc, "#", &mut dropped);
    dropped
}

fn walk(value: &mut Value, at: &str, dropped: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let bad = map.get("default").is_some_and(|d| !conforms(d, map));
            if bad {
                map.remove("default");
                dropped.push(at.to_string());
            }
            for (key, child) in map.iter_mut() {
                walk(child, &format!("{at}/{key}"), dropped);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                walk(child, &format!("{at}/{i}"), dropped);
            }
        }
        _ => {}
    }
}

fn conforms(default: &Value, schema: &serde_json::Map<String, Value>) -> bool {
    // Only schemas (with a type or enum) are judged; `default` can also be a
    // property named "default".
    if !(schema.contains_key("type") || schema.contains_key("enum")) {
        return true;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(default)
    {
        return false;
    }
    if let Some(n) = default.as_f64() {
        let exclusive_min = schema.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
        let exclusive_max = schema.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && (n < min || (exclusive_min && n == min))
        {
            return false;
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && (n > max || (exclusive_max && n == max))
        {
            return false;
        }
        if schema.get("type").and_then(Value::as_str) == Some("integer") && n.fract() != 0.0 {
            return false;
        }
    }
    if let Some(s) = default.as_str() {
        let len = s.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|min| len < min)
            || schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|max| len > max)
        {
            return false;
        }
    }
    true
}

/// Removes `minLength`/`maxLength` from every string schema (after the
/// bounds table has read them). typify would otherwise make each bounded
/// string a newtype (`SendMessageBodyText`) whose conversion error ("longer
/// than 5000 characters") names neither the field nor the operation, and
/// which callers cannot build from a `String` directly. The bounds are
/// checked before sending instead (`OperationMeta::bounds`, enforced by
/// `fanvue-api-ext`), with an error naming the field and the bound.
/// Returns how many were removed.
pub fn strip_string_lengths(doc: &mut Value) -> usize {
    fn walk(value: &mut Value, removed: &mut usize) {
        match value {
            Value::Object(map) => {
                if map.get("type").and_then(Value::as_str) == Some("string") {
                    for key in ["minLength", "maxLength"] {
                        if map.remove(key).is_some() {
                            *removed += 1;
                        }
                    }
                }
                map.values_mut().for_each(|v| walk(v, removed));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, removed)),
            _ => {}
        }
    }
    let mut removed = 0;
    walk(doc, &mut removed);
    removed
}
