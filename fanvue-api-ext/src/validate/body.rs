//! Checks a JSON request body against the spec's checks of its operation
//! ([`BodyNode`], a tree the build script writes from the spec): the bounds,
//! `type: integer`, `format` and `enum` of every value, and the required
//! properties of every object, through nested objects, array elements and map
//! values.
//!
//! The body is walked once as it is read (serde_json's reader, no
//! `serde_json::Value`): keys are looked up in the static tree without being
//! copied, unknown properties are skipped, and the required properties of an
//! object are tracked in a bit set. A valid body costs no allocation; the path
//! of a violation (`body.parts.0.PartNumber`) is only built when there is one.
//! `null` values are not checked (nullability is the typed builder's job).

use std::cell::RefCell;
use std::fmt;

use fanvue_api::bounds::{BodyNode, Rule};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::Error;

/// The most required properties of one object tracked (a bit each); more are not checked.
const MAX_REQUIRED: usize = 64;

/// Checks `body` (JSON text) against `node`. A body that is not JSON is not checked.
pub(crate) fn check(body: &[u8], node: &'static BodyNode) -> Result<(), Error> {
    let found = RefCell::new(None);
    let mut reader = serde_json::Deserializer::from_slice(body);
    let seed = Walk {
        node: Some(node),
        found: &found,
    };
    if seed.deserialize(&mut reader).is_ok() {
        return Ok(());
    }
    match found.into_inner() {
        Some(violation) => Err(violation.into_error()),
        // not JSON: the server says what is wrong with it
        None => Ok(()),
    }
}

/// The first violation found, its path built on the way out (innermost segment first).
struct Violation {
    /// The path segments, innermost first.
    path: Vec<String>,
    reason: String,
}

impl Violation {
    fn into_error(self) -> Error {
        let mut what = String::from("body");
        for segment in self.path.iter().rev() {
            what.push('.');
            what.push_str(segment);
        }
        Error::invalid_input(what, self.reason)
    }
}

type Found<'a> = &'a RefCell<Option<Violation>>;

/// Records a violation at the current place and returns the error that stops the walk.
fn violation<E: de::Error>(found: Found<'_>, reason: String) -> E {
    *found.borrow_mut() = Some(Violation {
        path: Vec::new(),
        reason,
    });
    E::custom("request body violates the spec")
}

/// Adds `segment` to the path of a violation found below (an error without one is the reader's).
fn below<E>(found: Found<'_>, segment: impl fmt::Display, error: E) -> E {
    if let Some(v) = found.borrow_mut().as_mut() {
        v.path.push(segment.to_string());
    }
    error
}

fn must_be(rule: &Rule, got: impl fmt::Display) -> String {
    format!("must be {rule}, got {got}")
}

/// Walks one value; `node` is `None` where nothing is checked (the value is read and skipped).
#[derive(Clone, Copy)]
struct Walk<'a> {
    node: Option<&'static BodyNode>,
    found: Found<'a>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.node {
            Some(_) => deserializer.deserialize_any(self),
            None => deserializer.deserialize_ignored_any(IgnoredAny).map(|_| ()),
        }
    }
}

impl Walk<'_> {
    fn rules(&self) -> &'static [Rule] {
        self.node.map_or(&[], |n| n.rules)
    }

    fn number<E: de::Error>(self, n: f64, shown: &dyn fmt::Display) -> Result<(), E> {
        for rule in self.rules() {
            let ok = match *rule {
                Rule::Integer | Rule::Format("int64") => n.fract() == 0.0,
                Rule::Format("int32") => {
                    n.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n)
                }
                _ => rule.allows_number(n),
            };
            if !ok {
                return Err(violation(self.found, must_be(rule, shown)));
            }
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.number(v as f64, &v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.number(v as f64, &v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.number(v, &v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        for rule in self.rules() {
            let ok = match rule {
                Rule::MinLength(_) | Rule::MaxLength(_) => {
                    rule.allows_length(v.chars().count() as u64)
                }
                Rule::Format("uuid") => uuid::Uuid::try_parse(v).is_ok_and(|u| !u.is_nil()),
                Rule::Format(_) | Rule::Enum(_) => rule.allows_text(v),
                _ => true,
            };
            if !ok {
                let got = match rule {
                    Rule::MinLength(_) | Rule::MaxLength(_) => {
                        format!("{} characters", v.chars().count())
                    }
                    _ => format!("{v:?}"),
                };
                return Err(violation(self.found, must_be(rule, got)));
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let items = Walk {
            node: self.node.and_then(|n| n.items),
            found: self.found,
        };
        let mut count: u64 = 0;
        loop {
            match seq.next_element_seed(items) {
                Ok(Some(())) => count = count.saturating_add(1),
                Ok(None) => break,
                Err(e) => return Err(below(self.found, count, e)),
            }
        }
        for rule in self.rules() {
            if !rule.allows_items(count) {
                return Err(violation(
                    self.found,
                    must_be(rule, format!("{count} elements")),
                ));
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(node) = self.node else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let mut seen: u64 = 0;
        loop {
            let key = match map.next_key_seed(Key {
                node,
                keep: node.values.is_some(),
            }) {
                Ok(Some(key)) => key,
                Ok(None) => break,
                Err(e) => return Err(e),
            };
            if let Some(i) = key.required
                && i < MAX_REQUIRED
            {
                seen |= 1 << i;
            }
            let child = match (key.property, node.values) {
                (Some((_, child)), _) => Some(child),
                (None, values) => values,
            };
            let walk = Walk {
                node: child,
                found: self.found,
            };
            if let Err(e) = map.next_value_seed(walk) {
                let segment = match (key.property, key.name) {
                    (Some((name, _)), _) => name.to_string(),
                    (None, Some(name)) => name,
                    (None, None) => "*".to_string(),
                };
                return Err(below(self.found, segment, e));
            }
        }
        for (i, name) in node.required.iter().enumerate().take(MAX_REQUIRED) {
            if seen & (1 << i) == 0 {
                *self.found.borrow_mut() = Some(Violation {
                    path: vec![(*name).to_string()],
                    reason: "is required".to_string(),
                });
                return Err(de::Error::custom("request body violates the spec"));
            }
        }
        Ok(())
    }
}

/// A key of an object, looked up in the static tree (not copied, except for the
/// keys of a map whose values are checked, which a violation path names).
struct Key {
    node: &'static BodyNode,
    keep: bool,
}

struct KeyFound {
    property: Option<(&'static str, &'static BodyNode)>,
    required: Option<usize>,
    name: Option<String>,
}

impl<'de> DeserializeSeed<'de> for Key {
    type Value = KeyFound;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<KeyFound, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = KeyFound;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyFound, E> {
        let property = self
            .node
            .properties
            .binary_search_by(|(n, _)| (*n).cmp(v))
            .ok()
            .and_then(|i| self.node.properties.get(i).copied());
        Ok(KeyFound {
            property,
            required: self.node.required.iter().position(|r| *r == v),
            name: (self.keep && property.is_none()).then(|| v.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static AMOUNT: BodyNode = BodyNode {
        rules: &[Rule::ExclusiveMinimum(0.0)],
        required: &[],
        properties: &[],
        items: None,
        values: None,
    };
    static ITEM: BodyNode = BodyNode {
        rules: &[],
        required: &["amount"],
        properties: &[("amount", &AMOUNT)],
        items: None,
        values: None,
    };
    static ITEMS: BodyNode = BodyNode {
        rules: &[Rule::MaxItems(3)],
        required: &[],
        properties: &[],
        items: Some(&ITEM),
        values: None,
    };
    static AUDIENCE: BodyNode = BodyNode {
        rules: &[Rule::Enum(&["subscribers", "followers-and-subscribers"])],
        required: &[],
        properties: &[],
        items: None,
        values: None,
    };
    static PRICE: BodyNode = BodyNode {
        rules: &[Rule::Minimum(300.0)],
        required: &[],
        properties: &[],
        items: None,
        values: None,
    };
    static COUNT: BodyNode = BodyNode {
        rules: &[Rule::Integer, Rule::Minimum(1.0)],
        required: &[],
        properties: &[],
        items: None,
        values: None,
    };
    static TEXT: BodyNode = BodyNode {
        rules: &[Rule::MaxLength(5)],
        required: &[],
        properties: &[],
        items: None,
        values: None,
    };
    static ID: BodyNode = BodyNode {
        rules: &[Rule::Format("uuid")],
        required: &[],
        properties: &[],
        items: None,
        values: None,
    };
    static MAP: BodyNode = BodyNode {
        rules: &[],
        required: &[],
        properties: &[],
        items: None,
        values: Some(&COUNT),
    };
    static BODY: BodyNode = BodyNode {
        rules: &[],
        required: &["audience"],
        properties: &[
            ("audience", &AUDIENCE),
            ("count", &COUNT),
            ("counts", &MAP),
            ("id", &ID),
            ("items", &ITEMS),
            ("price", &PRICE),
            ("text", &TEXT),
        ],
        items: None,
        values: None,
    };

    fn run(json: &str) -> Result<(), (String, String)> {
        check(json.as_bytes(), &BODY).map_err(|e| match e {
            Error::InvalidInput { what, reason } => (what, reason),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn valid_bodies_pass() {
        for ok in [
            r#"{"audience":"subscribers"}"#,
            r#"{"audience":"subscribers","price":300,"text":"héllo","count":2.0,"other":{"x":[1,"y"]}}"#,
            r#"{"audience":"subscribers","items":[{"amount":1},{"amount":0.5}],"counts":{"a":1}}"#,
            r#"{"audience":"subscribers","price":null,"id":"2b8f1c1e-5b8a-4a53-9d6c-0d9f4e6a7b11"}"#,
            r#"{"audi\u0065nce":"subscribers"}"#,
            "not json",
        ] {
            assert_eq!(run(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn violations_name_the_field() {
        let cases = [
            (r#"{"audience":"everyone"}"#, "body.audience", "enum"),
            (r#"{"text":"x"}"#, "body.audience", "is required"),
            (
                r#"{"audience":"subscribers","price":299.5}"#,
                "body.price",
                "got 299.5",
            ),
            (
                r#"{"audience":"subscribers","text":"toolong"}"#,
                "body.text",
                "7 characters",
            ),
            (
                r#"{"audience":"subscribers","count":2.5}"#,
                "body.count",
                "whole number",
            ),
            (
                r#"{"audience":"subscribers","count":0}"#,
                "body.count",
                "at least 1",
            ),
            (
                r#"{"audience":"subscribers","items":[{"amount":1},{"amount":0}]}"#,
                "body.items.1.amount",
                "more than 0",
            ),
            (
                r#"{"audience":"subscribers","items":[{}]}"#,
                "body.items.0.amount",
                "is required",
            ),
            (
                r#"{"audience":"subscribers","items":[{"amount":1},{"amount":1},{"amount":1},{"amount":1}]}"#,
                "body.items",
                "4 elements",
            ),
            (
                r#"{"audience":"subscribers","counts":{"a":1,"b":0}}"#,
                "body.counts.b",
                "at least 1",
            ),
            (
                r#"{"audience":"subscribers","id":"nope"}"#,
                "body.id",
                "uuid",
            ),
        ];
        for (json, what, reason) in cases {
            let (w, r) = run(json).unwrap_err();
            assert_eq!(w, what, "{json}");
            assert!(r.contains(reason), "{json}: {r}");
        }
    }
}
