//! What each `number` of the document is, by the document's own words (the rules live in `openapi/numbers.yaml`),
//! and which `format: date` fields are timestamps.
//!
//! The official document types every number `number`. A number becomes:
//!
//! - `type: integer, format: int64` (its `nullable` and bounds kept) when a rule of `integers` matches it: the
//!   document's description makes it whole ("Number of ...", page numbers, part numbers, pixel sizes);
//! - `type: number, format: cents` (money in cents, decoded by the client without loss whatever the value) when a
//!   rule of `cents` matches it ("in cents", "in USD cents", "converted to USD cents");
//! - a plain `type: number` (a decimal) otherwise, and always when a rule of `decimals` matches it (averages,
//!   ratios, percentages, hours), whatever the other rules say.
//!
//! A rule matches by the words of the number's own description (for a parameter: the parameter's description),
//! by its name, or both; every rule quotes the document's words it rests on in its `reason`.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::walk;

/// The `format` of a number that is an amount of money in cents.
pub const CENTS_FORMAT: &str = "cents";

/// One rule of `numbers.yaml`: which numbers it matches, and why.
///
/// A number matches when its description contains one of `words` (case-insensitive; any description when `words`
/// is empty) and its name is one of `names`, starts with one of `prefixes` (followed by an upper-case letter or
/// nothing) or ends with one of `suffixes` (any name when all three are empty). With `undescribed`, only numbers
/// without a description match.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NumberRule {
    /// The rule's name (`counts`, `averages`, ...).
    pub rule: String,
    /// Words of the description (case-insensitive), e.g. `number of`.
    #[serde(default)]
    pub words: Vec<String>,
    /// Exact names.
    #[serde(default)]
    pub names: BTreeSet<String>,
    /// Name prefixes (case-sensitive), e.g. `avg`: `avgResponseMs` matches, `avgs` does not.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Name suffixes (case-sensitive), e.g. `Ratio`.
    #[serde(default)]
    pub suffixes: Vec<String>,
    /// Only numbers without a description match.
    #[serde(default)]
    pub undescribed: bool,
    /// Only numbers with exactly this `minimum` match.
    #[serde(default)]
    pub minimum: Option<f64>,
    /// Why, quoting the document's words (in double quotes).
    pub reason: String,
}

/// The legacy name of a decimal rule (the `decimals` list).
pub type DecimalRule = NumberRule;

impl NumberRule {
    /// True when the rule matches a number named `name` (if it has one) with description `description` and
    /// bound `minimum`.
    pub fn matches(
        &self,
        name: Option<&str>,
        description: Option<&str>,
        minimum: Option<f64>,
    ) -> bool {
        let description = description.map(str::trim).filter(|d| !d.is_empty());
        if self.undescribed && description.is_some() {
            return false;
        }
        if self.minimum.is_some() && self.minimum != minimum {
            return false;
        }
        let words_ok = self.words.is_empty()
            || description.is_some_and(|d| {
                let d = d.to_lowercase();
                self.words.iter().any(|w| d.contains(&w.to_lowercase()))
            });
        let by_name =
            !self.names.is_empty() || !self.prefixes.is_empty() || !self.suffixes.is_empty();
        let name_ok = !by_name
            || name.is_some_and(|name| {
                self.names.contains(name)
                    || self.prefixes.iter().any(|p| {
                        name.strip_prefix(p.as_str())
                            .is_some_and(|rest| rest.chars().next().is_none_or(char::is_uppercase))
                    })
                    || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
            });
        words_ok && name_ok
    }

    fn check(&self, list: &str) -> Result<(), String> {
        if self.words.is_empty()
            && self.names.is_empty()
            && self.prefixes.is_empty()
            && self.suffixes.is_empty()
        {
            return Err(format!(
                "{list} rule `{}` matches no name (no words, names, prefixes or suffixes)",
                self.rule
            ));
        }
        if self.reason.matches('"').count() < 2 {
            return Err(format!(
                "{list} rule `{}`: the reason must quote the document's words in double quotes",
                self.rule
            ));
        }
        Ok(())
    }
}

/// What a number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// A whole number: `type: integer, format: int64`.
    Integer,
    /// An amount of money in cents: `type: number, format: cents`.
    Cents,
    /// A decimal: `type: number`.
    Decimal,
}

/// The rules of `numbers.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberRules {
    /// Numbers that are whole.
    #[serde(default)]
    pub integers: Vec<NumberRule>,
    /// Numbers that are amounts of money in cents.
    #[serde(default)]
    pub cents: Vec<NumberRule>,
    /// Named exceptions: numbers that stay decimals whatever `integers` and `cents` say.
    #[serde(default)]
    pub decimals: Vec<NumberRule>,
    /// Name suffixes of timestamps: a `format: date` string field so named becomes `format: date-time`.
    #[serde(default)]
    pub timestamp_suffixes: Vec<String>,
}

impl NumberRules {
    /// Parses `numbers.yaml`.
    ///
    /// Every rule needs a name unique across the three lists, at least one of words, names, prefixes or
    /// suffixes, and a reason quoting the document (a `"..."` in it).
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let rules: Self = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = BTreeSet::new();
        for (list, rules) in [
            ("integer", &rules.integers),
            ("cents", &rules.cents),
            ("decimal", &rules.decimals),
        ] {
            for rule in rules {
                if !seen.insert(rule.rule.as_str()) {
                    return Err(format!("rule `{}` is listed twice", rule.rule));
                }
                rule.check(list)?;
            }
        }
        Ok(rules)
    }

    /// The decimal rule that keeps a number named `name` (described `description`) a `number`, if any.
    pub fn decimal_rule(&self, name: &str) -> Option<&NumberRule> {
        self.decimals
            .iter()
            .find(|r| r.matches(Some(name), None, None))
    }

    /// The rule deciding what a number named `name` with description `description` and bound `minimum` is,
    /// and what it is.
    pub fn classify(
        &self,
        name: Option<&str>,
        description: Option<&str>,
        minimum: Option<f64>,
    ) -> (NumberKind, Option<&NumberRule>) {
        if let Some(rule) = self
            .decimals
            .iter()
            .find(|r| r.matches(name, description, minimum))
        {
            return (NumberKind::Decimal, Some(rule));
        }
        if let Some(rule) = self
            .cents
            .iter()
            .find(|r| r.matches(name, description, minimum))
        {
            return (NumberKind::Cents, Some(rule));
        }
        if let Some(rule) = self
            .integers
            .iter()
            .find(|r| r.matches(name, description, minimum))
        {
            return (NumberKind::Integer, Some(rule));
        }
        (NumberKind::Decimal, None)
    }

    /// True when a number named `name` with description `description` is an integer.
    pub fn is_integer(&self, name: &str, description: Option<&str>) -> bool {
        self.classify(Some(name), description, None).0 == NumberKind::Integer
    }

    /// Applies the rules to the parameters of every operation of `doc` (by the parameter's name and description),
    /// and to the schemas inside them.
    pub fn apply_parameters(&self, doc: &mut Value) {
        let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
            return;
        };
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (key, value) in item.iter_mut() {
                let params = if key == "parameters" {
                    Some(value)
                } else if walk::METHODS.contains(&key.as_str()) {
                    value.get_mut("parameters")
                } else {
                    None
                };
                let Some(params) = params.and_then(Value::as_array_mut) else {
                    continue;
                };
                for param in params {
                    let name = param
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let description = param
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    if let Some(schema) = param.get_mut("schema") {
                        self.apply_described(schema, name.as_deref(), description.as_deref());
                    }
                }
            }
        }
    }

    /// Applies the rules to a schema root named `name` (a parameter name), then to its properties.
    pub fn apply(&self, schema: &mut Value, name: Option<&str>) {
        self.apply_described(schema, name, None);
    }

    /// Applies the rules to a schema root named `name` whose description, when the schema has none, is
    /// `description` (a parameter's), then to its properties.
    pub fn apply_described(
        &self,
        schema: &mut Value,
        name: Option<&str>,
        description: Option<&str>,
    ) {
        if let Some(obj) = schema.as_object_mut() {
            let ty = obj.get("type").and_then(Value::as_str).map(str::to_string);
            let own = obj
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string);
            let description = own.as_deref().or(description);
            let kind = match ty.as_deref() {
                Some("integer") => NumberKind::Integer,
                Some("number")
                    if obj.get("format").and_then(Value::as_str) == Some(CENTS_FORMAT) =>
                {
                    NumberKind::Cents
                }
                Some("number") => {
                    let minimum = obj.get("minimum").and_then(Value::as_f64);
                    self.classify(name, description, minimum).0
                }
                _ => NumberKind::Decimal,
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
            match kind {
                NumberKind::Integer => {
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
                NumberKind::Cents if ty.as_deref() == Some("number") => {
                    obj.insert("format".into(), Value::String(CENTS_FORMAT.into()));
                }
                _ => {}
            }
        }
        let _ = walk::for_each_child::<()>(schema, &mut |child, _, prop| {
            // Array items and composition branches keep the name of the field they belong to (not its
            // description: an item's own words, if any, decide).
            self.apply_described(child, prop.or(name), None);
            Ok(())
        });
    }
}
