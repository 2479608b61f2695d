//! The `schemars` feature: the JSON Schema of a request body accepts the body
//! the typed client sends, and rejects a malformed one.

#![cfg(feature = "schemars")]

use fanvue_api::types;
use serde_json::{Value, json};

/// A small JSON Schema (2020-12) checker for what schemars emits: `type`
/// (string or list), `properties`, `required`, `items`, `enum`, `anyOf`,
/// `oneOf`, `allOf`, `$ref` into `$defs`, `additionalProperties: false`.
/// Returns the JSON pointer of the first mismatch.
fn check(root: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let fail = |why: &str| Err(format!("{at}: {why}"));
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = root
            .pointer(reference.trim_start_matches('#'))
            .ok_or_else(|| format!("{at}: dangling $ref {reference}"))?;
        return check(root, target, value, at);
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !ok {
            return fail(&format!("{actual} is not {allowed:?}"));
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return fail(&format!("{value} is not one of {values:?}"));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let matching = branches
                .iter()
                .filter(|b| check(root, b, value, at).is_ok())
                .count();
            if matching == 0 || (key == "oneOf" && matching > 1) {
                return fail(&format!("{matching} branches of {key} match"));
            }
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            check(root, part, value, at)?;
        }
    }
    if let Value::Object(map) = value {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(name) {
                return fail(&format!("required `{name}` missing"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (key, child) in map {
            match props.and_then(|p| p.get(key)) {
                Some(child_schema) => check(root, child_schema, child, &format!("{at}/{key}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return fail(&format!("unexpected `{key}`"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(root, item_schema, item, &format!("{at}/{i}"))?;
        }
    }
    Ok(())
}

#[test]
fn a_real_send_message_body_validates_against_its_schema() {
    let schema = serde_json::to_value(schemars::schema_for!(types::SendMessageBody)).unwrap();
    assert_eq!(schema["type"], "object");
    assert!(schema["properties"]["text"].is_object(), "{schema:#}");

    // The body as the typed builder makes it and the client sends it.
    let body: types::SendMessageBody = types::SendMessageBody::builder()
        .text(Some("hello".to_string()))
        .price(Some(fanvue_api::Cents::from(500)))
        .media_uuids(vec![
            "0b7c7e5e-8f5a-4c55-9d2e-3d1f5c8a9b01".parse().unwrap(),
        ])
        .try_into()
        .unwrap();
    let sent = serde_json::to_value(&body).unwrap();
    assert_eq!(sent["text"], "hello");
    check(&schema, &schema, &sent, "").unwrap();

    // The checker is not vacuous: wrong types are rejected at their pointer.
    let err = check(&schema, &schema, &json!({"text": 5}), "").unwrap_err();
    assert!(err.starts_with("/text:"), "{err}");
    let err = check(&schema, &schema, &json!({"mediaUuids": "x"}), "").unwrap_err();
    assert!(err.starts_with("/mediaUuids:"), "{err}");
}

#[test]
fn tolerant_enums_list_their_known_values() {
    let schema =
        serde_json::to_value(schemars::schema_for!(fanvue_api::enums::MediaStatus)).unwrap();
    let values = schema["enum"].as_array().expect("enum values");
    assert!(values.contains(&json!("ready")), "{schema:#}");
    check(&schema, &schema, &json!("ready"), "").unwrap();
    assert!(check(&schema, &schema, &json!(3), "").is_err());
}
