//! Which `number` fields are integers (fix 8), and which `format: date` fields are timestamps. The rules live in
//! `openapi/numbers.yaml`.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::walk;

/// The integer rules: a `number` field or parameter whose name is in `names` or ends with one of `suffixes`
/// becomes `type: integer, format: int64` (its `nullable` kept).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberRules {
    /// Exact field / parameter names.
    #[serde(default)]
    pub names: BTreeSet<String>,
    /// Name suffixes (case-sensitive), e.g. `Count`, `Ms`.
    #[serde(default)]
    pub suffixes: Vec<String>,
    /// Name suffixes of timestamps: a `format: date` string field so named becomes `format: date-time`.
    #[serde(default)]
    pub timestamp_suffixes: Vec<String>,
}

impl NumberRules {
    /// Parses `numbers.yaml`.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_norway::from_str(text).map_err(|e| e.to_string())
    }

    /// True when a number named `name` is an integer.
    pub fn is_integer(&self, name: &str) -> bool {
        self.names.contains(name) || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
    }

    /// Applies the rules to a schema root named `name` (a parameter name), then to its properties.
    pub fn apply(&self, schema: &mut Value, name: Option<&str>) {
        if let Some(obj) = schema.as_object_mut() {
            let ty = obj.get("type").and_then(Value::as_str).map(str::to_string);
            let to_integer = match ty.as_deref() {
                Some("integer") => true,
                Some("number") => name.is_some_and(|n| self.is_integer(n)),
                _ => false,
            };
            let is_timestamp = ty.as_deref() == Some("string")
                && obj.get("format").and_then(Value::as_str) == Some("date")
                && name.is_some_and(|n| {
                    self.timestamp_suffixes
                        .iter()
                        .any(|s| n.ends_with(s.as_str()))
                });
            if is_timestamp {
                obj.insert("format".into(), Value::String("date-time".into()));
            }
            if to_integer {
                obj.insert("type".into(), Value::String("integer".into()));
                obj.insert("format".into(), Value::String("int64".into()));
                for key in ["default", "minimum", "maximum", "example", "multipleOf"] {
                    if let Some(Value::Number(n)) = obj.get(key)
                        && n.as_i64().is_none()
                        && let Some(f) = n.as_f64()
                        && f.fract() == 0.0
                        && f.abs() < 9.0e15
                    {
                        obj.insert(key.into(), Value::from(f as i64));
                    }
                }
            }
        }
        let _ = walk::for_each_child::<()>(schema, &mut |child, _, prop| {
            // Array items and composition branches keep the name of the field they belong to.
            self.apply(child, prop.or(name));
            Ok(())
        });
    }
}
