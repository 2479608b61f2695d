//! Request log: every request each listener received, with headers, for assertions in tests.

use std::fmt;

use http::HeaderMap;

/// Which listener of the fake received a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listener {
    /// The Fanvue API.
    Api,
    /// The OAuth 2.0 server.
    Auth,
    /// The fake S3.
    S3,
}

/// A request as the fake received it.
///
/// `Debug` prints the body's length only (OAuth bodies hold refresh tokens and client secrets) and
/// redacts `Authorization`, `Cookie`, `Proxy-Authorization` and presigned signatures, so a log dump never
/// leaks a secret. The values stay reachable ([`RecordedRequest::header`], `body`) for assertions.
#[derive(Clone)]
pub struct RecordedRequest {
    /// Listener that received it.
    pub listener: Listener,
    /// HTTP method.
    pub method: http::Method,
    /// Path (without query).
    pub path: String,
    /// Raw query string, if any (presigned S3 signatures included).
    pub query: Option<String>,
    /// All request headers.
    pub headers: HeaderMap,
    /// The request body (API and OAuth listeners only; S3 bodies are not kept here).
    pub body: Option<bytes::Bytes>,
    /// When the request arrived.
    pub at: std::time::Instant,
    /// The `operationId` the API matched the request to (`None`: not an API request, or a path the
    /// document does not have).
    pub operation_id: Option<String>,
    /// Query parameter names the operation does not declare, in the order sent (`variants[]` included:
    /// Fanvue only reads `variants=a,b`). Ignored by the API, or refused in strict mode
    /// ([`crate::FakeFanvueBuilder::strict_query`]).
    pub unknown_query: Vec<String>,
    /// Arrival number (to update the entry once the pipeline knows more).
    pub(crate) seq: u64,
}

impl RecordedRequest {
    /// The value of a header, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether any header name starts with `x-fanvue-` (case-insensitive).
    pub fn has_fanvue_header(&self) -> bool {
        self.headers
            .keys()
            .any(|k| k.as_str().to_ascii_lowercase().starts_with("x-fanvue-"))
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        self.body
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }

    /// Whether the request carried an `Authorization` header.
    pub fn has_authorization(&self) -> bool {
        self.headers.contains_key(http::header::AUTHORIZATION)
    }
}

const REDACTED: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let name = k.as_str().to_string();
                let value = if REDACTED.contains(&name.as_str()) {
                    "<redacted>".to_string()
                } else {
                    v.to_str().unwrap_or("<binary>").to_string()
                };
                (name, value)
            })
            .collect();
        let query = self.query.as_ref().map(|q| redact_query(q));
        f.debug_struct("RecordedRequest")
            .field("listener", &self.listener)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("headers", &headers)
            .field("body_len", &self.body.as_ref().map(|b| b.len()))
            .field("operation_id", &self.operation_id)
            .field("unknown_query", &self.unknown_query)
            .finish()
    }
}

/// Hides signature-like query values in Debug output.
fn redact_query(q: &str) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("X-Amz-Signature") => format!("{k}=<redacted>"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}
