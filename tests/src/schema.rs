//! OpenAPI 3.0 schemas as JSON Schema (draft 2020-12), and validators compiled from them once per process.
//!
//! The conversion: `nullable: true` becomes `type: [T, "null"]` (or `anyOf: [{type: null}, ...]` for
//! `allOf`/`oneOf`/untyped schemas, and `null` is added to an `enum`); OpenAPI 3.0's boolean
//! `exclusiveMinimum`/`exclusiveMaximum` become the numeric keywords; `#/components/schemas/X` becomes
//! `#/$defs/X`, every component converted once and carried in `$defs`; `example` is dropped. Formats
//! (`uuid`, `date-time`, `date`, `uri`, `email`) are validated.
//!
//! ```
//! use fanvue_fake::schema::Validators;
//! use serde_json::json;
//!
//! let v = Validators::get();
//! let errors = v.check_body("add-members-to-custom-list", &json!({})).unwrap_err();
//! assert!(errors[0].contains("userUuids"), "{errors:?}");
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::{Map, Value, json};

use crate::spec::Spec;

/// Converts one OpenAPI 3.0 schema to JSON Schema; `$ref`s point into `#/$defs`.
pub fn convert(schema: &Value) -> Value {
    match schema {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                match k.as_str() {
                    "nullable" | "example" | "externalDocs" | "x-fanvue-scopes" => {}
                    "$ref" => {
                        let r = v.as_str().unwrap_or_default();
                        let r = r.replace("#/components/schemas/", "#/$defs/");
                        out.insert(k.clone(), Value::String(r));
                    }
                    "exclusiveMinimum" | "exclusiveMaximum" if v.is_boolean() => {}
                    "properties" | "patternProperties" => {
                        let props = v
                            .as_object()
                            .map(|p| p.iter().map(|(n, s)| (n.clone(), convert(s))).collect())
                            .unwrap_or_default();
                        out.insert(k.clone(), Value::Object(props));
                    }
                    "items" | "additionalProperties" | "not" => {
                        out.insert(k.clone(), convert(v));
                    }
                    "allOf" | "oneOf" | "anyOf" => {
                        let parts = v
                            .as_array()
                            .map(|a| a.iter().map(convert).collect())
                            .unwrap_or_default();
                        out.insert(k.clone(), Value::Array(parts));
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            for (flag, num) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if o.get(flag).and_then(Value::as_bool) == Some(true) {
                    if let Some(m) = out.remove(num) {
                        out.insert(flag.to_string(), m);
                    }
                }
            }
            if o.get("nullable").and_then(Value::as_bool) == Some(true) {
                if let Some(Value::Array(e)) = out.get_mut("enum") {
                    if !e.contains(&Value::Null) {
                        e.push(Value::Null);
                    }
                }
                let composite = ["allOf", "oneOf", "anyOf", "$ref"]
                    .iter()
                    .any(|k| out.contains_key(*k));
                match out.get("type").and_then(Value::as_str).map(str::to_string) {
                    Some(t) if !composite => {
                        out.insert("type".into(), json!([t, "null"]));
                    }
                    _ if out.is_empty() || (!composite && !out.contains_key("type")) => {}
                    _ => {
                        let inner = Value::Object(std::mem::take(&mut out));
                        out.insert("anyOf".into(), json!([{"type": "null"}, inner]));
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Compiled validators for every operation's request body, parameters and success response.
pub struct Validators {
    defs: Value,
    bodies: HashMap<String, Validator>,
    responses: HashMap<String, Validator>,
    params: HashMap<(String, String), Validator>,
}

impl std::fmt::Debug for Validators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validators")
            .field("bodies", &self.bodies.len())
            .field("responses", &self.responses.len())
            .field("params", &self.params.len())
            .finish()
    }
}

/// Why a schema could not be compiled (a bug in the document or the conversion).
#[derive(Debug, thiserror::Error)]
#[error("schema of {what} does not compile: {message}")]
pub struct CompileError {
    what: String,
    message: String,
}

impl Validators {
    /// The validators of the embedded document, compiled on first use.
    ///
    /// # Panics
    /// Never for a released crate: the crate's tests compile every schema of the embedded document.
    #[allow(clippy::expect_used)]
    pub fn get() -> &'static Validators {
        static V: OnceLock<Validators> = OnceLock::new();
        V.get_or_init(|| {
            Validators::build(Spec::load()).expect("every schema of the embedded document compiles")
        })
    }

    /// Compiles the validators of `spec`.
    pub fn build(spec: &Spec) -> Result<Validators, CompileError> {
        let defs: Map<String, Value> = spec
            .doc()
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|s| s.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
            .unwrap_or_default();
        let mut v = Validators {
            defs: Value::Object(defs),
            bodies: HashMap::new(),
            responses: HashMap::new(),
            params: HashMap::new(),
        };
        for op in spec.operations() {
            if let Some(b) = &op.request_body {
                let c = v.compile(&b.schema, &op.id)?;
                v.bodies.insert(op.id.clone(), c);
            }
            if let Some(r) = &op.response {
                let c = v.compile(&r.schema, &op.id)?;
                v.responses.insert(op.id.clone(), c);
            }
            for p in &op.parameters {
                let c = v.compile(&p.schema, &op.id)?;
                v.params.insert((op.id.clone(), p.name.clone()), c);
            }
        }
        Ok(v)
    }

    /// Compiles any OpenAPI 3.0 schema of the document (its `$ref`s resolve into the components).
    pub fn compile(&self, schema: &Value, what: &str) -> Result<Validator, CompileError> {
        let mut root = match convert(schema) {
            Value::Object(o) => o,
            other => {
                let mut m = Map::new();
                m.insert("allOf".into(), json!([other]));
                m
            }
        };
        root.insert("$defs".into(), self.defs.clone());
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .map_err(|e| CompileError {
                what: what.to_string(),
                message: e.to_string(),
            })
    }

    /// Checks a request body of operation `op`; `Err` holds one message per problem, naming the field.
    /// An operation without a body schema accepts anything.
    pub fn check_body(&self, op: &str, body: &Value) -> Result<(), Vec<String>> {
        self.bodies
            .get(op)
            .map_or(Ok(()), |v| messages(v, body, "body"))
    }

    /// Checks a success response body of operation `op` against its schema.
    pub fn check_response(&self, op: &str, body: &Value) -> Result<(), Vec<String>> {
        self.responses
            .get(op)
            .map_or(Ok(()), |v| messages(v, body, "response"))
    }

    /// Checks one parameter value (already typed: numbers as numbers, arrays as arrays).
    pub fn check_param(&self, op: &str, name: &str, value: &Value) -> Result<(), Vec<String>> {
        self.params
            .get(&(op.to_string(), name.to_string()))
            .map_or(Ok(()), |v| messages(v, value, name))
    }
}

fn messages(v: &Validator, instance: &Value, root: &str) -> Result<(), Vec<String>> {
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| {
            let path = e
                .instance_path()
                .as_str()
                .trim_start_matches('/')
                .replace('/', ".");
            let field = if path.is_empty() {
                root.to_string()
            } else if root == "body" || root == "response" {
                path
            } else {
                format!("{root}.{path}")
            };
            format!("{field}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_and_exclusive_bounds_convert() {
        assert_eq!(
            convert(&json!({"type": "string", "nullable": true, "enum": ["a"]})),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            convert(&json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true})),
            json!({"type": "integer", "exclusiveMinimum": 0})
        );
        assert_eq!(
            convert(&json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/X"}]})),
            json!({"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/$defs/X"}]}]})
        );
    }

    #[test]
    fn every_schema_compiles() {
        let v = Validators::build(Spec::load()).unwrap();
        assert!(v.responses.len() > 100, "{v:?}");
    }
}
