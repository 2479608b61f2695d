//! Which `number` fields are integers (fix 8), and which `format: date` fields are timestamps. The rules live in
//! `openapi/numbers.yaml`.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::walk;

/// A named exception to the integer rules: a number whose name starts with one of `prefixes` (followed by an
/// upper-case letter or nothing) or ends with one of `suffixes` stays `type: number`, whatever `names` and
/// `suffixes` of [`NumberRules`] say (averages, ratios and percentages of whole numbers are decimals).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DecimalRule {
    /// The rule's name (`averages`, ...).
    pub rule: String,
    /// Name prefixes (case-sensitive), e.g. `avg`: `avgResponseMs` matches, `avgs` does not.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Name suffixes (case-sensitive), e.g. `Ratio`.
    #[serde(default)]
    pub suffixes: Vec<String>,
    /// Why, quoting the official document's words (in double quotes).
    pub reason: String,
}

impl DecimalRule {
    /// True when the rule keeps a number named `name` a decimal.
    pub fn matches(&self, name: &str) -> bool {
        let prefixed = self.prefixes.iter().any(|p| {
            name.strip_prefix(p.as_str())
                .is_some_and(|rest| rest.chars().next().is_none_or(char::is_uppercase))
        });
        prefixed || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
    }
}

/// The integer rules: a `number` field or parameter whose name is in `names` or ends with one of `suffixes`
/// becomes `type: integer, format: int64` (its `nullable` kept), unless a rule of `decimals` matches it.
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
    /// Named exceptions: numbers that stay decimals.
    #[serde(default)]
    pub decimals: Vec<DecimalRule>,
}

impl NumberRules {
    /// Parses `numbers.yaml`.
    ///
    /// Every decimal rule needs a unique name, at least one prefix or suffix, and a reason quoting the official
    /// document (a `"..."` in it).
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let rules: Self = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = BTreeSet::new();
        for rule in &rules.decimals {
            if !seen.insert(rule.rule.as_str()) {
                return Err(format!("decimal rule `{}` is listed twice", rule.rule));
            }
            if rule.prefixes.is_empty() && rule.suffixes.is_empty() {
                return Err(format!(
                    "decimal rule `{}` matches no name (no prefixes or suffixes)",
                    rule.rule
                ));
            }
            if rule.reason.matches('"').count() < 2 {
                return Err(format!(
                    "decimal rule `{}`: the reason must quote the official document's words in double quotes",
                    rule.rule
                ));
            }
        }
        Ok(rules)
    }

    /// The decimal rule that keeps a number named `name` a `number`, if any.
    pub fn decimal_rule(&self, name: &str) -> Option<&DecimalRule> {
        self.decimals.iter().find(|r| r.matches(name))
    }

    /// True when a number named `name` is an integer.
    pub fn is_integer(&self, name: &str) -> bool {
        self.decimal_rule(name).is_none()
            && (self.names.contains(name)
                || self.suffixes.iter().any(|s| name.ends_with(s.as_str())))
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
