//! Per-operation fixes: tag from the page's group (fix 2), no auth/version header parameters (fix 4), required
//! path parameters (fix 5), scopes and reference URL, and one error schema for every error status.

use serde_json::{Map, Value, json};

/// The name of the one error schema every 4xx/5xx response uses.
pub const API_ERROR: &str = "ApiError";

/// Header parameters that the client sets itself (removed from every operation).
const CLIENT_HEADERS: [&str; 2] = ["authorization", "x-fanvue-api-version"];

/// What an operation's fixes learnt from it.
#[derive(Debug, Default)]
pub struct OperationFacts {
    /// The default of its `X-Fanvue-API-Version` header parameter, if it had one.
    pub api_version: Option<String>,
}

/// The fixed facts about one page, passed to [`fix_operation`].
pub struct PageInfo<'a> {
    /// The tag (the page's group folder).
    pub group: &'a str,
    /// The page's `Reference:` URL.
    pub reference: Option<&'a str>,
}

/// Fixes one operation in place.
pub fn fix_operation(op: &mut Value, page: &PageInfo<'_>) -> OperationFacts {
    let mut facts = OperationFacts::default();
    let Some(obj) = op.as_object_mut() else {
        return facts;
    };
    obj.insert("tags".into(), json!([page.group]));
    if let Some(url) = page.reference {
        obj.insert("externalDocs".into(), json!({ "url": url }));
    }
    let scopes = obj
        .get("description")
        .and_then(Value::as_str)
        .map(parse_scopes)
        .unwrap_or_default();
    if !scopes.is_empty() {
        obj.insert("x-fanvue-scopes".into(), json!(scopes));
    }
    if let Some(Value::Array(params)) = obj.get_mut("parameters") {
        params.retain(|p| {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            let is_header = p.get("in").and_then(Value::as_str) == Some("header");
            if is_header && CLIENT_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                if name.eq_ignore_ascii_case("x-fanvue-api-version") {
                    facts.api_version = p
                        .pointer("/schema/default")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                false
            } else {
                true
            }
        });
        for p in params.iter_mut() {
            if p.get("in").and_then(Value::as_str) == Some("path")
                && let Some(p) = p.as_object_mut()
            {
                p.insert("required".into(), Value::Bool(true));
            }
        }
    }
    if obj
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        obj.remove("parameters");
    }
    // Every request body of the API is required (the pages leave `required` out, which means optional).
    if let Some(body) = obj.get_mut("requestBody").and_then(Value::as_object_mut) {
        body.insert("required".into(), Value::Bool(true));
    }
    let responses = obj
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(responses) = responses.as_object_mut() {
        fix_responses(responses);
    }
    facts
}

/// Every error status gets the `ApiError` body; 410 and 429 are added; 204 has no body.
fn fix_responses(responses: &mut Map<String, Value>) {
    for (code, description) in [
        ("410", "API version no longer supported (sunset)"),
        ("429", "Too many requests"),
    ] {
        responses
            .entry(code)
            .or_insert_with(|| json!({ "description": description }));
    }
    for (code, resp) in responses.iter_mut() {
        let Some(resp) = resp.as_object_mut() else {
            continue;
        };
        if is_error_status(code) {
            resp.insert(
                "content".into(),
                json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{API_ERROR}") } } }),
            );
        } else if code == "204"
            || resp
                .get("content")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
        {
            // 204 has no body (the pages give it an empty JSON object); an empty `content` says nothing.
            resp.remove("content");
        }
        if code == "429" {
            resp.insert("headers".into(), rate_limit_headers());
        }
    }
}

/// True for `4xx`, `5xx`, `4XX`, `5XX`.
pub fn is_error_status(code: &str) -> bool {
    code.starts_with('4') || code.starts_with('5')
}

fn rate_limit_headers() -> Value {
    let int = |description: &str| json!({ "description": description, "schema": { "type": "integer", "format": "int64" } });
    json!({
        "Retry-After": int("Seconds to wait before retrying"),
        "X-RateLimit-Limit": int("Requests allowed in the current window"),
        "X-RateLimit-Remaining": int("Requests left in the current window"),
        "X-RateLimit-Reset": int("When the window resets (Unix seconds)"),
    })
}

/// The `ApiError` schema: the union of Fanvue's error bodies, every field optional.
pub fn api_error_schema() -> Value {
    json!({
        "type": "object",
        "description": "An error body. 400: `{error, message}` (API version not supported) or `{errors}` (validation \
                        failed); 401/403: `{error}`; 404: `{message}`; 410: `{error, message, nextVersion}` (the \
                        pinned API version is sunset); 429: `{error}`.",
        "properties": {
            "error": { "type": "string" },
            "message": { "type": "string" },
            "errors": { "type": "array", "items": { "type": "string" } },
            "nextVersion": { "type": "string", "description": "The API version to move to (410 only)" }
        }
    })
}

/// The scopes named after "Scope(s) required:" in an operation's description, in order, without duplicates.
pub fn parse_scopes(description: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for line in description.lines() {
        let Some(idx) = line.find("required:") else {
            continue;
        };
        if !line[..idx].contains("Scope") {
            continue;
        }
        let rest = line
            .get(idx.saturating_add("required:".len())..)
            .unwrap_or_default();
        let rest = rest.split("</").next().unwrap_or(rest);
        for token in
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '_' || c == '-'))
        {
            if token.contains(':')
                && !token.starts_with(':')
                && !token.ends_with(':')
                && !scopes.iter().any(|s| s == token)
            {
                scopes.push(token.to_string());
            }
        }
    }
    scopes
}
