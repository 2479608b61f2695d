//! Response helpers: API error bodies, S3 XML errors, fault responses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

/// A JSON response with a status.
pub(crate) fn json(status: StatusCode, value: serde_json::Value) -> Response {
    (status, axum::Json(value)).into_response()
}

/// 400 `{errors: [...]}` (validation failed).
pub(crate) fn validation(errors: Vec<String>) -> Response {
    json(StatusCode::BAD_REQUEST, json!({ "errors": errors }))
}

/// 404 `{message}`.
pub(crate) fn not_found(message: &str) -> Response {
    json(StatusCode::NOT_FOUND, json!({ "message": message }))
}

/// 401 `{error}`.
pub(crate) fn unauthorized() -> Response {
    let mut r = json(StatusCode::UNAUTHORIZED, json!({ "error": "Unauthorized" }));
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    r
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// 429 with `Retry-After` and the `X-RateLimit-*` headers, JSON `{error}` body.
pub(crate) fn rate_limited(retry_after_secs: u64) -> Response {
    let mut r = json(
        StatusCode::TOO_MANY_REQUESTS,
        json!({ "error": "Too many requests" }),
    );
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    h.insert("x-ratelimit-limit", HeaderValue::from(100u64));
    h.insert("x-ratelimit-remaining", HeaderValue::from(0u64));
    h.insert(
        "x-ratelimit-reset",
        HeaderValue::from(unix_now() + retry_after_secs),
    );
    r
}

/// An injected status with the body shape the official document gives that status: 400
/// `{errors: [..]}`, 404/409/502/503 `{message}`, anything else `{error}` (401, 403, 429 and the
/// undocumented ones).
pub(crate) fn injected_status(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Injected fault");
    let body = match status.as_u16() {
        400 => json!({ "errors": [reason] }),
        404 | 409 | 502 | 503 => json!({ "message": reason }),
        _ => json!({ "error": reason }),
    };
    json(status, body)
}

/// 403 `{error}` naming the scope the token lacks (the document's 403 is its `{error}` shape).
pub(crate) fn missing_scope(scope: &str) -> Response {
    json(
        StatusCode::FORBIDDEN,
        json!({ "error": format!("Forbidden: the access token lacks the required scope {scope}") }),
    )
}

/// A gateway error in front of the API: `status` (502/503/504 usually) with an HTML body, and none of the
/// API's headers (no `X-RateLimit-*`, no `X-Request-Id`).
pub(crate) fn gateway(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let reason = status.canonical_reason().unwrap_or("Gateway error");
    let code = status.as_u16();
    let body = format!(
        "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    );
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    r.extensions_mut().insert(crate::gate::GatewayAnswer);
    r
}

/// S3-style XML error.
pub(crate) fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>FAKE0000</RequestId><HostId>fake-s3</HostId></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// A 200 response whose body is cut after a few bytes: the declared `Content-Length` is never reached and
/// the connection is dropped, so a client reading the body gets an error.
pub(crate) fn truncated(content_type: &'static str) -> Response {
    let first: Result<Bytes, std::io::Error> = Ok(Bytes::from_static(b"{\"data\":[{\"uuid\":"));
    let stream = futures::stream::once(async move { first }).chain_error();
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(4096u64));
    r
}

/// Extension for a stream: after it ends, wait briefly (so what was sent gets flushed) and then fail.
trait ChainError: futures::Stream<Item = Result<Bytes, std::io::Error>> + Sized {
    fn chain_error(self) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
        use futures::StreamExt;
        self.chain(futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected truncated response",
            ))
        }))
    }
}

impl<S: futures::Stream<Item = Result<Bytes, std::io::Error>>> ChainError for S {}
