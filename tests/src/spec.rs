//! The operations of the normalized OpenAPI document, indexed for the fake and for request generators.
//!
//! The document is the one `fanvue-api` is generated from ([`fanvue_api::OPENAPI_JSON`]), so the fake
//! always describes exactly the operations of the client version it is built with.
//!
//! ```
//! use fanvue_fake::spec::{ParamLocation, Spec};
//!
//! let spec = Spec::load();
//! assert_eq!(spec.operations().len(), 143);
//! let op = spec.operation("get-user-media").unwrap();
//! assert_eq!(op.method, http::Method::GET);
//! assert_eq!(op.path, "/media");
//! assert_eq!(op.success_status, 200);
//! let size = op.parameter("size").unwrap();
//! assert_eq!(size.location, ParamLocation::Query);
//! assert_eq!(size.schema["maximum"], 50);
//! // `$ref`s are kept in the schemas; `Spec::resolve` follows them.
//! let body = spec.resolve(&op.response.as_ref().unwrap().schema);
//! assert!(body["properties"]["pagination"].is_object());
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

/// Why an OpenAPI document could not be indexed.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The text is not JSON.
    #[error("the OpenAPI document is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The document lacks something every operation needs.
    #[error("the OpenAPI document is malformed at {at}: {what}")]
    Malformed {
        /// JSON pointer-like location.
        at: String,
        /// What is wrong there.
        what: &'static str,
    },
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamLocation {
    /// A `{name}` segment of the path template.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
}

/// One parameter of an operation.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Name as sent (`page`, `creatorUserUuid`).
    pub name: String,
    /// Path, query or header.
    pub location: ParamLocation,
    /// Whether the request must carry it (path parameters always).
    pub required: bool,
    /// Its OpenAPI 3.0 schema, `$ref`s unresolved.
    pub schema: Value,
    /// OpenAPI `explode`: `false` on array query parameters means one comma-separated value
    /// (`ids=a,b`), `true` repeated keys (`ids=a&ids=b`). Defaults to `true` for query parameters.
    pub explode: bool,
}

/// The JSON request body of an operation.
#[derive(Debug, Clone)]
pub struct RequestBody {
    /// Whether a body must be sent.
    pub required: bool,
    /// Media type (`application/json`).
    pub content_type: String,
    /// Its OpenAPI 3.0 schema, `$ref`s unresolved.
    pub schema: Value,
}

/// The success response of an operation.
#[derive(Debug, Clone)]
pub struct ResponseBody {
    /// Media type (`application/json`, `text/plain` for upload part URLs).
    pub content_type: String,
    /// Its OpenAPI 3.0 schema, `$ref`s unresolved.
    pub schema: Value,
    /// The document's example for this response, if any (not checked against the schema).
    pub example: Option<Value>,
}

/// How a list operation paginates (from its response schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pagination {
    /// `page`/`size` query parameters; `{data, pagination: {page, size, hasMore}}`.
    PageNumber,
    /// `cursor` plus a size parameter (`size_param`); `{data, nextCursor}`.
    Cursor {
        /// `limit` or `size`.
        size_param: String,
    },
}

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The `operationId` (`get-current-user`).
    pub id: String,
    /// HTTP method.
    pub method: http::Method,
    /// Path template with `{name}` segments (`/creators/{creatorUserUuid}/media`).
    pub path: String,
    /// The first tag (the area of the client the operation lives in).
    pub tag: Option<String>,
    /// Parameters in document order (path-level ones included).
    pub parameters: Vec<Parameter>,
    /// The request body, for operations that take one.
    pub request_body: Option<RequestBody>,
    /// The documented success status (the lowest 2xx: 200, 201 or 204).
    pub success_status: u16,
    /// The success response's body; `None` for 204 and other empty answers.
    pub response: Option<ResponseBody>,
    /// Set when the response is a paginated list.
    pub pagination: Option<Pagination>,
    /// The OAuth scopes the operation requires (`x-fanvue-scopes`), **all** of them: the official
    /// document writes them as "**Scopes required:** `read:creator`, `read:media`" in the operation's
    /// description, a list of requirements, not alternatives.
    pub scopes: Vec<String>,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Param(String),
}

impl Operation {
    /// The parameter called `name` (any location).
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Parameters of one location, in document order.
    pub fn parameters_in(&self, location: ParamLocation) -> impl Iterator<Item = &Parameter> {
        self.parameters
            .iter()
            .filter(move |p| p.location == location)
    }

    /// Fills the path template: `{name}` segments are replaced by `values(name)`, percent-encoded.
    /// A name `values` does not know stays as `{name}`.
    ///
    /// ```
    /// let op = fanvue_fake::spec::Spec::load().operation("get-user-media-by-uuid").unwrap();
    /// assert_eq!(op.path_with(|_| Some("abc".into())), "/media/abc");
    /// ```
    pub fn path_with(&self, mut values: impl FnMut(&str) -> Option<String>) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            out.push('/');
            match seg {
                Segment::Literal(l) => out.push_str(l),
                Segment::Param(name) => match values(name) {
                    Some(v) => out.push_str(&percent_encode(&v)),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                },
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// Matches a request path against the template: the path parameters (percent-decoded) when it
    /// matches, with the number of literal segments (more literals = a more specific template).
    fn match_path(&self, path: &str) -> Option<(usize, Vec<(String, String)>)> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Vec::new();
        let mut literals = 0usize;
        for (seg, part) in self.segments.iter().zip(parts) {
            match seg {
                Segment::Literal(l) if l == part => literals = literals.saturating_add(1),
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    if part.is_empty() {
                        return None;
                    }
                    params.push((name.clone(), percent_decode(part)));
                }
            }
        }
        Some((literals, params))
    }
}

/// Path parameters by name, percent-decoded.
pub type PathParams = Vec<(String, String)>;

/// The indexed document.
#[derive(Debug)]
pub struct Spec {
    doc: Value,
    operations: Vec<Operation>,
    by_id: HashMap<String, usize>,
}

impl Spec {
    /// The document `fanvue-api` was generated from, parsed once per process.
    ///
    /// # Panics
    /// Never for a released crate: the embedded document is checked by this crate's tests.
    #[allow(clippy::expect_used)]
    pub fn load() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            Spec::from_json(fanvue_api::OPENAPI_JSON)
                .expect("the OpenAPI document embedded in fanvue-api is valid")
        })
    }

    /// Indexes another OpenAPI 3.0 document (same conventions as `openapi/fanvue.json`).
    pub fn from_json(text: &str) -> Result<Spec, SpecError> {
        let doc: Value = serde_json::from_str(text)?;
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("/paths", "missing"))?;
        let mut operations = Vec::new();
        for (path, item) in paths {
            let shared_params = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(method) = parse_method(method) else {
                    continue;
                };
                operations.push(parse_operation(&doc, path, method, op, &shared_params)?);
            }
        }
        let by_id = operations
            .iter()
            .enumerate()
            .map(|(i, op)| (op.id.clone(), i))
            .collect();
        Ok(Spec {
            doc,
            operations,
            by_id,
        })
    }

    /// The whole document.
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// Every operation, in document order.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation with this `operationId`.
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.by_id.get(id).and_then(|&i| self.operations.get(i))
    }

    /// The named schema of `components/schemas`.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.doc.get("components")?.get("schemas")?.get(name)
    }

    /// Follows `$ref` (`#/components/schemas/Name`) until a schema without one; an unknown reference
    /// resolves to itself.
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                return schema;
            };
            match self.lookup(r) {
                Some(next) => schema = next,
                None => return schema,
            }
        }
        schema
    }

    /// The value a local reference (`#/a/b`) points to.
    pub fn lookup(&self, reference: &str) -> Option<&Value> {
        self.doc.pointer(reference.strip_prefix('#')?)
    }

    /// The operation serving `method path`, with its path parameters (percent-decoded). When several
    /// templates match, the one with more literal segments wins (`/media/uploads` over `/media/{uuid}`).
    pub fn find(&self, method: &http::Method, path: &str) -> Option<(&Operation, PathParams)> {
        let mut best: Option<(usize, &Operation, PathParams)> = None;
        for op in self.operations.iter().filter(|op| op.method == method) {
            if let Some((score, params)) = op.match_path(path)
                && best.as_ref().is_none_or(|(s, _, _)| score > *s)
            {
                best = Some((score, op, params));
            }
        }
        best.map(|(_, op, params)| (op, params))
    }
}

fn malformed(at: &str, what: &'static str) -> SpecError {
    SpecError::Malformed {
        at: at.to_string(),
        what,
    }
}

fn parse_method(m: &str) -> Option<http::Method> {
    Some(match m {
        "get" => http::Method::GET,
        "post" => http::Method::POST,
        "put" => http::Method::PUT,
        "patch" => http::Method::PATCH,
        "delete" => http::Method::DELETE,
        "head" => http::Method::HEAD,
        "options" => http::Method::OPTIONS,
        _ => return None,
    })
}

fn deref<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| doc.pointer(p))
        {
            Some(next) => v = next,
            None => break,
        }
    }
    v
}

fn parse_operation(
    doc: &Value,
    path: &str,
    method: http::Method,
    op: &Value,
    shared_params: &[Value],
) -> Result<Operation, SpecError> {
    let at = format!("/paths/{path}/{}", method.as_str().to_ascii_lowercase());
    let id = op
        .get("operationId")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(&at, "operationId missing"))?
        .to_string();
    let mut parameters: Vec<Parameter> = Vec::new();
    let own = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for raw in shared_params.iter().chain(own) {
        let p = deref(doc, raw);
        let (Some(name), Some(location)) = (p.get("name").and_then(Value::as_str), p.get("in"))
        else {
            return Err(malformed(&at, "parameter without name or in"));
        };
        let location = match location.as_str() {
            Some("path") => ParamLocation::Path,
            Some("query") => ParamLocation::Query,
            Some("header") => ParamLocation::Header,
            _ => continue,
        };
        let required = location == ParamLocation::Path
            || p.get("required").and_then(Value::as_bool) == Some(true);
        let explode = p
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(location == ParamLocation::Query);
        let param = Parameter {
            name: name.to_string(),
            location,
            required,
            schema: p
                .get("schema")
                .cloned()
                .unwrap_or(Value::Object(Default::default())),
            explode,
        };
        // An operation-level parameter overrides a path-level one of the same name and location.
        parameters.retain(|q| !(q.name == param.name && q.location == param.location));
        parameters.push(param);
    }
    let request_body = op.get("requestBody").map(|b| deref(doc, b)).and_then(|b| {
        let content = b.get("content")?.as_object()?;
        let (ct, media) = content
            .iter()
            .find(|(k, _)| k.as_str() == "application/json")
            .or_else(|| content.iter().next())?;
        Some(RequestBody {
            required: b.get("required").and_then(Value::as_bool) == Some(true),
            content_type: ct.clone(),
            schema: media
                .get("schema")
                .cloned()
                .unwrap_or(Value::Object(Default::default())),
        })
    });
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed(&at, "responses missing"))?;
    let (success_status, success) = responses
        .iter()
        .filter_map(|(code, r)| Some((code.parse::<u16>().ok()?, r)))
        .filter(|(code, _)| (200..300).contains(code))
        .min_by_key(|(code, _)| *code)
        .ok_or_else(|| malformed(&at, "no 2xx response"))?;
    let success = deref(doc, success);
    let response = success
        .get("content")
        .and_then(Value::as_object)
        .and_then(|content| {
            let (ct, media) = content
                .iter()
                .find(|(k, _)| k.as_str() == "application/json")
                .or_else(|| content.iter().next())?;
            Some(ResponseBody {
                content_type: ct.clone(),
                schema: media.get("schema").cloned()?,
                example: media.get("example").cloned(),
            })
        });
    let pagination = response.as_ref().and_then(|r| {
        let props = deref(doc, &r.schema).get("properties")?;
        if props.get("pagination").is_some() && props.get("data").is_some() {
            Some(Pagination::PageNumber)
        } else if props.get("nextCursor").is_some() && props.get("data").is_some() {
            let size_param = parameters
                .iter()
                .find(|p| {
                    p.location == ParamLocation::Query && (p.name == "limit" || p.name == "size")
                })
                .map_or_else(|| "size".to_string(), |p| p.name.clone());
            Some(Pagination::Cursor { size_param })
        } else {
            None
        }
    });
    let segments = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Literal(s.to_string()),
            },
        )
        .collect();
    Ok(Operation {
        id,
        method,
        path: path.to_string(),
        tag: op
            .get("tags")
            .and_then(|t| t.get(0))
            .and_then(Value::as_str)
            .map(str::to_string),
        parameters,
        request_body,
        success_status,
        response,
        pagination,
        scopes: op
            .get("x-fanvue-scopes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        segments,
    })
}

/// Percent-encodes a path segment (everything but unreserved characters).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are; invalid UTF-8 is replaced).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(v) = bytes
                .get(i.saturating_add(1)..i.saturating_add(3))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i = i.saturating_add(3);
            continue;
        }
        out.push(b);
        i = i.saturating_add(1);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_document_indexes_every_operation() {
        let spec = Spec::load();
        assert_eq!(spec.operations().len(), 143);
        let mut ids: Vec<&str> = spec.operations().iter().map(|o| o.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 143, "operationIds are unique");
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let spec = Spec::load();
        let (op, params) = spec.find(&http::Method::POST, "/media/uploads").unwrap();
        assert_eq!(op.id, "create-upload-session");
        assert!(params.is_empty());
        let (op, params) = spec
            .find(&http::Method::GET, "/creators/c%2D1/media/abc")
            .unwrap();
        assert_eq!(op.path, "/creators/{creatorUserUuid}/media/{uuid}");
        assert_eq!(
            params,
            vec![
                ("creatorUserUuid".to_string(), "c-1".to_string()),
                ("uuid".to_string(), "abc".to_string())
            ]
        );
        assert!(spec.find(&http::Method::GET, "/no/such/path").is_none());
    }

    #[test]
    fn pagination_is_detected() {
        let spec = Spec::load();
        assert_eq!(
            spec.operation("list-chats").unwrap().pagination,
            Some(Pagination::PageNumber)
        );
        assert_eq!(
            spec.operation("list-tracking-links").unwrap().pagination,
            Some(Pagination::Cursor {
                size_param: "limit".into()
            })
        );
        assert_eq!(spec.operation("get-current-user").unwrap().pagination, None);
    }
}
