//! Realistic response bodies (tests/fixtures/normalize/payloads) validate against the committed spec: the
//! integer/number rules of openapi/numbers.yaml never make a real response fail to decode.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn payloads() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/normalize/payloads")
}

fn spec() -> Value {
    let text =
        std::fs::read_to_string(xtask::workspace_root().join("openapi/fanvue.json")).expect("spec");
    serde_json::from_str(&text).expect("spec is JSON")
}

/// The JSON schema of the success response of operation `id`.
fn success_schema(doc: &Value, id: &str) -> Value {
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("item").values() {
            if op["operationId"] == id {
                for (code, r) in op["responses"].as_object().expect("responses") {
                    if code.starts_with('2')
                        && let Some(s) = r.pointer("/content/application~1json/schema")
                    {
                        return s.clone();
                    }
                }
            }
        }
    }
    panic!("no JSON success response for {id}");
}

/// A small validator of the OpenAPI 3.0 subset the spec uses, as strict as the generated serde types:
/// integers must be whole, required fields present, `null` only where nullable. Unknown enum values and extra
/// fields are accepted (the generated client tolerates both).
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc
            .pointer(&r[1..])
            .unwrap_or_else(|| panic!("dangling {r}"));
        validate(doc, target, value, at, errors);
        return;
    }
    if value.is_null() {
        if schema.get("nullable") != Some(&json!(true)) {
            errors.push(format!("{at}: null but not nullable"));
        }
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(doc, s, value, at, errors);
        }
    }
    let ok = match schema.get("type").and_then(Value::as_str) {
        None => true,
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("string") => value.is_string(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        Some(other) => panic!("unexpected type {other}"),
    };
    if !ok {
        errors.push(format!("{at}: {value} is not {}", schema["type"]));
        return;
    }
    if let (Some(format), Some(s)) = (schema.get("format").and_then(Value::as_str), value.as_str())
    {
        let ok = match format {
            "date-time" => s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T'),
            "date" => s.len() == 10,
            "uuid" => s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4,
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: {s:?} is not a {format}"));
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            validate(doc, items, v, &format!("{at}/{i}"), errors);
        }
    }
    if let Some(obj) = value.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = r.as_str().unwrap_or("");
            if !obj.contains_key(name) {
                errors.push(format!("{at}: missing required {name}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, v) in obj {
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => validate(doc, s, v, &format!("{at}/{k}"), errors),
                (None, Some(extra)) if extra.is_object() => {
                    validate(doc, extra, v, &format!("{at}/{k}"), errors)
                }
                _ => {}
            }
        }
    }
}

fn errors_for(doc: &Value, id: &str, body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(doc, &success_schema(doc, id), body, id, &mut errors);
    errors
}

#[test]
fn every_payload_fixture_validates() {
    let doc = spec();
    let mut files: Vec<PathBuf> = std::fs::read_dir(payloads())
        .expect("payloads")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{} payloads", files.len());
    let mut all = Vec::new();
    for f in &files {
        let stem = f.file_stem().and_then(|s| s.to_str()).expect("name");
        let id = stem.split('.').next().expect("operation id");
        let body: Value = serde_json::from_str(&std::fs::read_to_string(f).expect("read"))
            .expect("payload is JSON");
        all.extend(errors_for(&doc, id, &body));
    }
    assert!(all.is_empty(), "{all:#?}");
}

#[test]
fn the_checker_rejects_what_the_generated_types_would_reject() {
    let doc = spec();
    let bad = json!({ "data": [], "pagination": { "page": 1.5, "size": 15, "hasMore": false } });
    assert_eq!(
        errors_for(&doc, "get-user-media", &bad),
        ["get-user-media/pagination/page: 1.5 is not \"integer\""]
    );
    let bad = json!({ "uuid": "4f1c2a7e-9b3d-4e21-8c55-0d6f3a1b2c3d" });
    assert_eq!(
        errors_for(&doc, "get-user-media-by-uuid", &bad),
        ["get-user-media-by-uuid: missing required status"]
    );
    let bad = json!({ "unreadChatsCount": null, "unreadMessagesCount": 1,
        "unreadNotifications": { "newFollower": 0, "newPostComment": 0, "newPostLike": 0, "newPromotion": 0,
            "newPurchase": 0, "newSubscriber": 0, "newTip": 0 } });
    assert_eq!(
        errors_for(&doc, "get-unread-chats-count", &bad),
        ["get-unread-chats-count/unreadChatsCount: null but not nullable"]
    );
    // A decimal recommended price is fine: that field stays a number.
    let ok = json!({ "uuid": "4f1c2a7e-9b3d-4e21-8c55-0d6f3a1b2c3d", "status": "ready", "recommendedPrice": 4.99 });
    assert!(errors_for(&doc, "get-user-media-by-uuid", &ok).is_empty());
}
