//! OpenAPI 3.1 (JSON Schema 2020-12) schemas become OpenAPI 3.0.3 schemas.
//!
//! - `enum: [{value: x}, ..]` (how the pages write enums) becomes `enum: [x, ..]` (fix 1);
//! - `type: [T, 'null']` becomes `type: T` + `nullable: true`; an enum's `null` value likewise;
//! - `oneOf`/`anyOf` with a `{type: 'null'}` branch loses the branch and becomes `nullable`; a single remaining
//!   `$ref` is written `allOf: [$ref]` (the 3.0 way to attach `nullable` to a reference);
//! - numeric `exclusiveMinimum`/`exclusiveMaximum` become `minimum`/`maximum` + `true`;
//! - `examples` is dropped (3.0 has `example` only), `additionalProperties: false` is dropped (the generated client
//!   must tolerate fields added upstream), siblings of `$ref` are dropped (3.0 ignores them);
//! - anything else 3.0 lacks (`const`, `prefixItems`, `$defs`, `type: [a, b]`, ...) is an error.

use serde_json::{Map, Value};

use super::walk;

/// A construct that cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The construct, e.g. `const`.
    pub construct: String,
    /// Where it is (JSON pointer within the page document).
    pub pointer: String,
    /// A text to look for in the page to find its line.
    pub needle: String,
}

/// The keywords of an OpenAPI 3.0 Schema Object (plus `x-` extensions, checked separately).
const SCHEMA_30_KEYS: &[&str] = &[
    "title",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "type",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "items",
    "properties",
    "additionalProperties",
    "description",
    "format",
    "default",
    "nullable",
    "discriminator",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "example",
    "deprecated",
    "$ref",
];

/// The JSON types OpenAPI 3.0 knows.
const TYPES_30: &[&str] = &["string", "number", "integer", "boolean", "array", "object"];

fn unsupported(
    construct: impl Into<String>,
    pointer: &str,
    needle: impl Into<String>,
) -> Unsupported {
    Unsupported {
        construct: construct.into(),
        pointer: pointer.to_string(),
        needle: needle.into(),
    }
}

/// True for `{type: 'null'}` (or `type: ['null']`), the 3.1 way to say "or null".
fn is_null_schema(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    let null_type = match obj.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => matches!(ts.as_slice(), [t] if t == "null"),
        _ => false,
    };
    null_type && obj.keys().all(|k| k == "type" || k == "description")
}

/// Converts the schema `schema` (at `pointer`) and all its sub-schemas to OpenAPI 3.0.
pub fn convert(schema: &mut Value, pointer: &str) -> Result<(), Unsupported> {
    let Value::Object(obj) = schema else {
        return Err(unsupported("boolean schema", pointer, ""));
    };
    let mut nullable = false;

    // `$ref` with siblings: 3.0 ignores the siblings; keep the reference only.
    if obj.contains_key("$ref") {
        if let Some(Value::Bool(true)) = obj.get("nullable") {
            let r = obj.remove("$ref").unwrap_or(Value::Null);
            obj.clear();
            obj.insert("allOf".into(), Value::Array(vec![single("$ref", r)]));
            obj.insert("nullable".into(), Value::Bool(true));
        } else {
            obj.retain(|k, _| k == "$ref");
        }
        return Ok(());
    }

    fix_enum_values(obj);

    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(branches)) = obj.get_mut(key) else {
            continue;
        };
        let before = branches.len();
        branches.retain(|b| !is_null_schema(b));
        if branches.len() == before {
            continue;
        }
        nullable = true;
        match branches.len() {
            0 => return Err(unsupported(format!("{key} of only null"), pointer, key)),
            1 => {
                let branch = branches.remove(0);
                obj.remove(key);
                match branch {
                    Value::Object(b) if b.contains_key("$ref") => {
                        let r = b.get("$ref").cloned().unwrap_or(Value::Null);
                        obj.insert("allOf".into(), Value::Array(vec![single("$ref", r)]));
                    }
                    Value::Object(b) => {
                        for (k, v) in b {
                            obj.entry(k).or_insert(v);
                        }
                    }
                    _ => return Err(unsupported("boolean schema", pointer, key)),
                }
            }
            _ => {}
        }
    }

    match obj.get("type").cloned() {
        Some(Value::Array(types)) => {
            let mut non_null = Vec::new();
            for t in &types {
                match t.as_str() {
                    Some("null") => nullable = true,
                    Some(t) => non_null.push(t.to_string()),
                    None => {
                        return Err(unsupported("type with a non-string entry", pointer, "type"));
                    }
                }
            }
            match non_null.as_slice() {
                [one] => {
                    obj.insert("type".into(), Value::String(one.clone()));
                }
                [] => return Err(unsupported("type: [null]", pointer, "type")),
                many => {
                    return Err(unsupported(
                        format!("type: [{}]", many.join(", ")),
                        pointer,
                        many.first().cloned().unwrap_or_default(),
                    ));
                }
            }
        }
        Some(Value::String(t)) if t == "null" => {
            return Err(unsupported("type: null", pointer, "'null'"));
        }
        Some(Value::String(t)) if !TYPES_30.contains(&t.as_str()) => {
            return Err(unsupported(format!("type: {t}"), pointer, t));
        }
        Some(Value::String(_)) | None => {}
        Some(_) => return Err(unsupported("type that is not a string", pointer, "type")),
    }

    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        let before = values.len();
        values.retain(|v| !v.is_null());
        if values.len() != before {
            nullable = true;
        }
    }

    for (key, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Number(n)) = obj.get(key).cloned() {
            obj.insert(bound.into(), Value::Number(n));
            obj.insert(key.into(), Value::Bool(true));
        }
    }
    obj.remove("examples");
    if obj.get("additionalProperties") == Some(&Value::Bool(false)) {
        obj.remove("additionalProperties");
    }
    if let Some(key) = obj
        .keys()
        .find(|k| !k.starts_with("x-") && !SCHEMA_30_KEYS.contains(&k.as_str()))
    {
        return Err(unsupported(key.clone(), pointer, format!("{key}:")));
    }
    if nullable {
        obj.insert("nullable".into(), Value::Bool(true));
    }
    walk::for_each_child(schema, &mut |child, suffix, _| {
        convert(child, &format!("{pointer}{suffix}"))
    })
}

/// `enum: [{value: x}]` → `enum: [x]`.
fn fix_enum_values(obj: &mut Map<String, Value>) {
    if let Some(Value::Array(values)) = obj.get_mut("enum") {
        for v in values.iter_mut() {
            if let Value::Object(m) = v
                && m.len() == 1
                && let Some(inner) = m.get("value")
            {
                *v = inner.clone();
            }
        }
    }
}

fn single(key: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), v);
    Value::Object(m)
}
