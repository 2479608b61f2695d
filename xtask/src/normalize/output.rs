//! The deterministic JSON text of the normalized document: 2-space indentation, trailing newline, keys of
//! OpenAPI objects in a fixed conventional order, names (paths, schemas, properties, ...) sorted.

use serde_json::Value;

use super::walk::METHODS;

/// Objects whose keys are names chosen by the API (sorted alphabetically), by the key that holds them.
const NAME_MAPS: &[&str] = &[
    "paths",
    "schemas",
    "properties",
    "responses",
    "content",
    "headers",
    "securitySchemes",
    "examples",
    "variables",
];

/// The conventional order of OpenAPI keywords (anything else follows, alphabetically).
const KEY_ORDER: &[&str] = &[
    "openapi",
    "info",
    "servers",
    "security",
    "tags",
    "paths",
    "components",
    "$ref",
    "name",
    "in",
    "title",
    "version",
    "url",
    "operationId",
    "summary",
    "description",
    "externalDocs",
    "x-fanvue-scopes",
    "deprecated",
    "required",
    "style",
    "explode",
    "type",
    "format",
    "nullable",
    "enum",
    "default",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "properties",
    "additionalProperties",
    "requiredProperties",
    "parameters",
    "requestBody",
    "responses",
    "headers",
    "content",
    "schema",
    "schemas",
    "securitySchemes",
    "scheme",
    "bearerFormat",
];

fn rank(parent_is_path_item: bool, key: &str, value: Option<&Value>) -> (usize, usize) {
    if parent_is_path_item && let Some(i) = METHODS.iter().position(|m| *m == key) {
        return (0, i);
    }
    // A schema's `required` list reads best after its `properties` (a parameter's `required` flag stays early).
    let key = match (key, value) {
        ("required", Some(Value::Array(_))) => "requiredProperties",
        _ => key,
    };
    match KEY_ORDER.iter().position(|k| *k == key) {
        Some(i) => (1, i),
        None => (2, 0),
    }
}

/// Renders `doc` as the committed JSON text.
pub fn render(doc: &Value) -> String {
    let mut out = String::new();
    write_value(doc, 0, Context::Keywords, &mut out);
    out.push('\n');
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// An OpenAPI object: keys in the conventional order.
    Keywords,
    /// A map of names: keys sorted.
    Names,
    /// A path item: methods in the fixed order first.
    PathItem,
}

fn indent(n: usize, out: &mut String) {
    for _ in 0..n {
        out.push_str("  ");
    }
}

fn write_value(v: &Value, depth: usize, ctx: Context, out: &mut String) {
    match v {
        Value::Object(obj) if obj.is_empty() => out.push_str("{}"),
        Value::Object(obj) => {
            let mut keys: Vec<&String> = obj.keys().collect();
            match ctx {
                Context::Names => keys.sort(),
                Context::Keywords | Context::PathItem => {
                    let path_item = ctx == Context::PathItem;
                    keys.sort_by(|a, b| {
                        let ra = rank(path_item, a, obj.get(a.as_str()));
                        let rb = rank(path_item, b, obj.get(b.as_str()));
                        ra.cmp(&rb).then(a.cmp(b))
                    });
                }
            }
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                indent(depth.saturating_add(1), out);
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                let child_ctx = if ctx == Context::Names && k.starts_with('/') {
                    Context::PathItem
                } else if ctx != Context::Names && NAME_MAPS.contains(&k.as_str()) {
                    Context::Names
                } else {
                    Context::Keywords
                };
                if let Some(child) = obj.get(k.as_str()) {
                    write_value(child, depth.saturating_add(1), child_ctx, out);
                }
                if i.saturating_add(1) < keys.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(depth, out);
            out.push('}');
        }
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(depth.saturating_add(1), out);
                write_value(item, depth.saturating_add(1), Context::Keywords, out);
                if i.saturating_add(1) < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(depth, out);
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
