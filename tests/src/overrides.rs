//! Replacement answers for operations ([`Override`]) and the rules that pick one for a request.
//!
//! Each operation has an ordered list of rules. A request takes the first rule whose matcher matches
//! it and that has answers left; a rule with a count ([`Override::times`]) is dropped once used up,
//! so a list of counted rules is a sequence ([`crate::FakeFanvue::override_sequence`]). A request no
//! rule takes gets the operation's usual answer.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

/// A replacement answer for one operation ([`crate::FakeFanvue::override_operation`]): sent after the
/// request passed the version, token and validation checks.
///
/// ```
/// use std::time::Duration;
/// use fanvue_fake::Override;
/// let o = Override::status(503)
///     .with_body(serde_json::json!({"error": "down"}))
///     .with_latency(Duration::from_millis(5))
///     .times(2) // the next 2 matching requests, then the usual answer
///     .when_query("page", "2") // only requests with `page=2`
///     .when_body(serde_json::json!({"price": 300})); // only bodies containing this
/// # let _ = o;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
    pub(crate) latency: Duration,
    /// Answers left (`None`: every matching request).
    pub(crate) times: Option<u32>,
    /// Query parameters the request must carry, with these values.
    pub(crate) query: Vec<(String, String)>,
    /// A JSON value the request body must contain (objects: a subset of keys, recursively).
    pub(crate) body_subset: Option<Value>,
}

impl Override {
    /// Answer with this status (and, without [`Override::with_body`], an empty body).
    pub fn status(status: u16) -> Override {
        Override {
            status,
            body: None,
            latency: Duration::ZERO,
            times: None,
            query: Vec::new(),
            body_subset: None,
        }
    }

    /// Answer `200` with this JSON body.
    pub fn body(body: Value) -> Override {
        Override::status(200).with_body(body)
    }

    /// Sets the JSON body.
    #[must_use]
    pub fn with_body(mut self, body: Value) -> Override {
        self.body = Some(body);
        self
    }

    /// Waits this long before answering.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Override {
        self.latency = latency;
        self
    }

    /// Answers only the next `n` matching requests, then steps aside (default: every one).
    #[must_use]
    pub fn times(mut self, n: u32) -> Override {
        self.times = Some(n);
        self
    }

    /// Applies only to requests whose query carries `name=value` (all such conditions must hold).
    #[must_use]
    pub fn when_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Override {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Applies only to requests whose JSON body contains `subset`: every key of an object in `subset`
    /// is in the body with a value that contains the subset's value; other values are equal.
    #[must_use]
    pub fn when_body(mut self, subset: Value) -> Override {
        self.body_subset = Some(subset);
        self
    }

    /// Whether the request (its query pairs and body) is one this override applies to.
    fn matches(&self, query: &[(String, String)], body: &[u8]) -> bool {
        if !self
            .query
            .iter()
            .all(|(n, v)| query.iter().any(|(qn, qv)| qn == n && qv == v))
        {
            return false;
        }
        match &self.body_subset {
            None => true,
            Some(subset) => {
                serde_json::from_slice::<Value>(body).is_ok_and(|body| contains(&body, subset))
            }
        }
    }
}

/// Whether `value` contains `subset` (objects by key, recursively; anything else by equality).
fn contains(value: &Value, subset: &Value) -> bool {
    match (value, subset) {
        (Value::Object(v), Value::Object(s)) => s
            .iter()
            .all(|(k, sv)| v.get(k).is_some_and(|vv| contains(vv, sv))),
        _ => value == subset,
    }
}

/// The override rules of every operation, by `operationId`.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    rules: HashMap<String, Vec<Override>>,
}

impl Overrides {
    /// Replaces the rules of `operation_id`.
    pub fn set(&mut self, operation_id: &str, rules: Vec<Override>) {
        if rules.is_empty() {
            self.rules.remove(operation_id);
        } else {
            self.rules.insert(operation_id.to_string(), rules);
        }
    }

    /// Adds a rule after the existing ones of `operation_id`.
    pub fn add(&mut self, operation_id: &str, rule: Override) {
        self.rules
            .entry(operation_id.to_string())
            .or_default()
            .push(rule);
    }

    /// Removes the rules of one operation.
    pub fn remove(&mut self, operation_id: &str) {
        self.rules.remove(operation_id);
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Takes the answer for a request of `operation_id`: the first matching rule with answers left
    /// (one is used up).
    pub fn take(
        &mut self,
        operation_id: &str,
        query: &[(String, String)],
        body: &[u8],
    ) -> Option<Override> {
        let rules = self.rules.get_mut(operation_id)?;
        let index = rules
            .iter()
            .position(|r| r.times != Some(0) && r.matches(query, body))?;
        let rule = &mut rules[index];
        let answer = rule.clone();
        if let Some(n) = &mut rule.times {
            *n -= 1;
            if *n == 0 {
                rules.remove(index);
            }
        }
        if rules.is_empty() {
            self.rules.remove(operation_id);
        }
        Some(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sequence_answers_in_order_then_steps_aside() {
        let mut o = Overrides::default();
        o.set(
            "op",
            vec![
                Override::status(500).times(1),
                Override::status(503).times(2),
            ],
        );
        let statuses: Vec<Option<u16>> = (0..4)
            .map(|_| o.take("op", &[], b"").map(|a| a.status))
            .collect();
        assert_eq!(statuses, [Some(500), Some(503), Some(503), None]);
    }

    #[test]
    fn matchers_pick_the_rule() {
        let mut o = Overrides::default();
        o.add(
            "op",
            Override::status(402).when_body(json!({"a": {"b": 1}})),
        );
        o.add("op", Override::status(404).when_query("page", "2"));
        let q2 = [("page".to_string(), "2".to_string())];
        assert_eq!(o.take("op", &q2, b"{}").map(|a| a.status), Some(404));
        assert_eq!(
            o.take("op", &[], br#"{"a": {"b": 1, "c": 2}, "d": 3}"#)
                .map(|a| a.status),
            Some(402)
        );
        assert_eq!(o.take("op", &[], br#"{"a": {"b": 2}}"#), None);
    }
}
