//! Request validation against the document, for every operation (stateful or not): path and query
//! parameters (typed, enums, bounds, `explode: false` arrays as one comma-separated value) and JSON
//! bodies. Each problem is one message naming the field; the API answers them as 400 `{errors: [..]}`
//! (the document's `ApiError` validation shape).
//!
//! Unknown query parameters are ignored, as the real server does; a scalar parameter given twice, an
//! `explode: false` array sent as repeated keys, a value of the wrong type, outside its bounds or its
//! enum, and a missing required parameter or body are refused.

use serde_json::Value;

use crate::schema::Validators;
use crate::spec::{Operation, ParamLocation, Spec};

/// Checks a request of `op`: its path parameters (decoded), raw query pairs and body bytes.
pub(crate) fn check_request(
    op: &Operation,
    path_params: &[(String, String)],
    query: &[(String, String)],
    body: &[u8],
) -> Result<(), Vec<String>> {
    let spec = Spec::load();
    let v = Validators::get();
    let mut errors = Vec::new();
    for p in &op.parameters {
        let schema = spec.resolve(&p.schema);
        let values: Vec<&str> = match p.location {
            ParamLocation::Path => path_params
                .iter()
                .filter(|(k, _)| k == &p.name)
                .map(|(_, v)| v.as_str())
                .collect(),
            ParamLocation::Query => query
                .iter()
                .filter(|(k, _)| k == &p.name)
                .map(|(_, v)| v.as_str())
                .collect(),
            ParamLocation::Header => continue,
        };
        if values.is_empty() {
            if p.required {
                errors.push(format!("{}: is required", p.name));
            }
            continue;
        }
        let typed = if schema.get("type").and_then(Value::as_str) == Some("array") {
            let items = schema
                .get("items")
                .map(|i| spec.resolve(i))
                .cloned()
                .unwrap_or(Value::Null);
            let texts: Vec<&str> = if p.explode {
                values
            } else if values.len() > 1 {
                errors.push(format!(
                    "{}: must be sent once, as one comma-separated value (explode: false)",
                    p.name
                ));
                continue;
            } else {
                values
                    .first()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.split(',').collect())
                    .unwrap_or_default()
            };
            let mut out = Vec::new();
            for t in texts {
                match coerce(&items, t) {
                    Ok(v) => out.push(v),
                    Err(e) => {
                        errors.push(format!("{}: {e}", p.name));
                    }
                }
            }
            Value::Array(out)
        } else {
            if values.len() > 1 {
                errors.push(format!("{}: must be sent once", p.name));
                continue;
            }
            match values.first().map(|t| coerce(schema, t)) {
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    errors.push(format!("{}: {e}", p.name));
                    continue;
                }
                None => continue,
            }
        };
        if let Err(e) = v.check_param(&op.id, &p.name, &typed) {
            errors.extend(e);
        }
    }
    if let Some(b) = &op.request_body {
        if body.iter().all(u8::is_ascii_whitespace) {
            if b.required {
                errors.push("body: is required".into());
            }
        } else if b.content_type == "application/json" {
            match serde_json::from_slice::<Value>(body) {
                Ok(json) => {
                    if let Err(e) = v.check_body(&op.id, &json) {
                        errors.extend(e);
                    }
                }
                Err(e) => errors.push(format!("body: is not valid JSON ({e})")),
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Types a path or query value by its (resolved) scalar schema.
fn coerce(schema: &Value, text: &str) -> Result<Value, String> {
    match schema.get("type").and_then(Value::as_str) {
        // The official document types every number `number`; an integral float (`2.0`) is a whole
        // number and accepted, a fraction (`2.5`) is not (see the crate docs: deliberate strictness).
        Some("integer") => text
            .parse::<i64>()
            .ok()
            .or_else(|| integral(text))
            .map(Value::from)
            .ok_or_else(|| format!("`{text}` is not an integer")),
        Some("number") => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{text}` is not a number")),
        Some("boolean") => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not a boolean (true or false)")),
        },
        _ => Ok(Value::String(text.to_string())),
    }
}

/// `2.0` → 2: a decimal with a zero fraction, within the exactly representable integers.
fn integral(text: &str) -> Option<i64> {
    let f = text.parse::<f64>().ok()?;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    (f.is_finite() && f.fract() == 0.0 && f.abs() <= EXACT).then_some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_accept_integral_floats_only() {
        let int = json!({"type": "integer"});
        assert_eq!(coerce(&int, "2"), Ok(json!(2)));
        assert_eq!(coerce(&int, "2.0"), Ok(json!(2)));
        assert_eq!(coerce(&int, "-3.00"), Ok(json!(-3)));
        assert!(coerce(&int, "2.5").unwrap_err().contains("`2.5`"));
        assert!(coerce(&int, "1e300").is_err());
        assert!(coerce(&int, "NaN").is_err());
        assert!(coerce(&int, "two").is_err());
    }
}
