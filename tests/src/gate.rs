//! Middleware shared by the listeners: request logging and simulated latency, the OAuth listener's fault
//! stage, and the fault, API version and bearer-token helpers the API pipeline ([`crate::api`]) uses.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;
use serde_json::json;

use crate::faults::{ApiRoute, Fault, FaultSubject};
use crate::log::{Listener, RecordedRequest};
use crate::respond;
use crate::serve::ConnAbort;
use crate::state::Shared;

/// Request extension telling the part URL handler to hand out an already expired URL.
#[derive(Clone, Copy)]
pub(crate) struct ExpiredUrlFault;

/// Request extension: handle the request, then drop the connection instead of answering.
#[derive(Clone, Copy)]
pub(crate) struct ActThenResetFault;

/// Largest API/OAuth request body the log keeps (bigger bodies are rejected with 413).
pub(crate) const MAX_LOGGED_BODY: usize = 16 * 1024 * 1024;

/// Logs the request (with its body, for the API and OAuth listeners), then waits the listener's simulated
/// latency.
pub(crate) async fn record(
    State((shared, listener)): State<(Arc<Shared>, Listener)>,
    req: Request,
    next: Next,
) -> Response {
    let (req, body) = if listener == Listener::S3 {
        (req, None)
    } else {
        let (parts, body) = req.into_parts();
        match axum::body::to_bytes(body, MAX_LOGGED_BODY).await {
            Ok(b) => (Request::from_parts(parts, Body::from(b.clone())), Some(b)),
            Err(_) => {
                return respond::json(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    json!({ "error": "Payload too large" }),
                );
            }
        }
    };
    if listener == Listener::S3 {
        let h = req.headers();
        if h.contains_key(http::header::AUTHORIZATION) {
            shared.s3_saw_authorization.store(true, Ordering::SeqCst);
        }
        if h.keys()
            .any(|k| k.as_str().to_ascii_lowercase().starts_with("x-fanvue-"))
        {
            shared.s3_saw_fanvue_header.store(true, Ordering::SeqCst);
        }
    }
    let mut req = req;
    let latency = {
        let mut st = shared.lock();
        if shared.config.record_requests {
            let seq = shared.request_seq.fetch_add(1, Ordering::Relaxed);
            req.extensions_mut().insert(LogSeq(seq));
            st.log.push(RecordedRequest {
                listener,
                method: req.method().clone(),
                path: req.uri().path().to_string(),
                query: req.uri().query().map(str::to_string),
                headers: req.headers().clone(),
                body,
                at: std::time::Instant::now(),
                operation_id: None,
                unknown_query: Vec::new(),
                seq,
            });
        }
        match listener {
            Listener::S3 => st.knobs.s3_latency,
            Listener::Api | Listener::Auth => st.knobs.api_latency,
        }
    };
    shared.bump();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut resp = next.run(req).await;
    shared.bump();
    if listener == Listener::Api
        && !resp.headers().contains_key(REQUEST_ID)
        && resp.extensions().get::<GatewayAnswer>().is_none()
    {
        // Like the real API: every response names its request.
        let n = shared.request_ids.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(value) = http::HeaderValue::from_str(&format!("req-{n:08}")) {
            resp.headers_mut().insert(REQUEST_ID, value);
        }
    }
    resp
}

/// The response header naming the request (`X-Request-Id`).
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// Request extension: the arrival number of the request's log entry.
#[derive(Clone, Copy)]
pub(crate) struct LogSeq(pub u64);

/// Response extension: an answer of the simulated gateway in front of the API (no `X-Request-Id`).
#[derive(Clone, Copy)]
pub(crate) struct GatewayAnswer;

/// The fault stage of the OAuth listener (the API listener's is in [`crate::api`]'s pipeline): counts
/// the request per route and applies an injected fault of its route.
pub(crate) async fn api_gate(
    State((shared, _listener)): State<(Arc<Shared>, Listener)>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let route = matched
        .as_ref()
        .and_then(|m| ApiRoute::from_template(req.method(), m.as_str()));
    let fault = {
        let mut st = shared.lock();
        if let Some(r) = route {
            *st.route_counts.entry(r).or_insert(0) += 1;
        }
        st.faults.take(FaultSubject::Api {
            route,
            part: None,
            path: req.uri().path(),
        })
    };
    match apply_fault(&shared, fault, req).await {
        Ok(req) => next.run(req).await,
        Err(resp) => resp,
    }
}

/// Applies an injected fault: `Err` is the answer instead of handling the request, `Ok` hands the
/// request on (possibly marked, e.g. [`ExpiredUrlFault`]).
pub(crate) async fn apply_fault(
    shared: &Shared,
    fault: Option<Fault>,
    mut req: Request,
) -> Result<Request, Response> {
    let Some(fault) = fault else {
        return Ok(req);
    };
    match fault {
        Fault::Status(code) => return Err(respond::injected_status(code)),
        Fault::Gateway { status } => return Err(respond::gateway(status)),
        Fault::RateLimited { retry_after_secs } => {
            return Err(respond::rate_limited(retry_after_secs));
        }
        Fault::Unauthorized => return Err(respond::unauthorized()),
        Fault::Reset => {
            let abort = req.extensions().get::<ConnAbort>().cloned();
            let _ = axum::body::to_bytes(req.into_body(), usize::MAX).await;
            if let Some(abort) = abort {
                abort.abort();
                std::future::pending::<()>().await;
            }
            return Err(respond::injected_status(500));
        }
        Fault::TruncatedResponse => {
            let _ = axum::body::to_bytes(req.into_body(), usize::MAX).await;
            return Err(respond::truncated("application/json"));
        }
        Fault::Delay(d) => tokio::time::sleep(d).await,
        Fault::ExpiredUrl => {
            req.extensions_mut().insert(ExpiredUrlFault);
        }
        Fault::ExpireAccessTokens => {
            for e in shared.lock().tokens.access.values_mut() {
                e.revoked = true;
            }
        }
        Fault::ActThenReset => {
            req.extensions_mut().insert(ActThenResetFault);
        }
        Fault::WrongEtag | Fault::CorruptBody => {}
    }
    Ok(req)
}

/// `X-Fanvue-API-Version`: 400 `{error, message}` when missing or unsupported, 410 `{error, message,
/// nextVersion}` when sunset.
pub(crate) fn check_version(shared: &Shared, req: &Request) -> Option<Response> {
    let version = req
        .headers()
        .get("x-fanvue-api-version")
        .and_then(|v| v.to_str().ok());
    let Some(version) = version else {
        return Some(respond::json(
            StatusCode::BAD_REQUEST,
            json!({
                "error": "API version not supported",
                "message": "The X-Fanvue-API-Version header is required",
            }),
        ));
    };
    if let Some((_, next)) = shared
        .config
        .sunset_versions
        .iter()
        .find(|(v, _)| v == version)
    {
        let mut body = json!({
            "error": "API version no longer supported",
            "message": format!("API version {version} has been sunset"),
        });
        if let (Some(next), Some(obj)) = (next, body.as_object_mut()) {
            obj.insert("nextVersion".into(), json!(next));
        }
        return Some(respond::json(StatusCode::GONE, body));
    }
    if !shared
        .config
        .supported_versions
        .iter()
        .any(|v| v == version)
    {
        return Some(respond::json(
            StatusCode::BAD_REQUEST,
            json!({
                "error": "API version not supported",
                "message": format!("API version {version} is not supported"),
            }),
        ));
    }
    None
}

/// The bearer token of the request, if it carries one.
pub(crate) fn bearer(req: &Request) -> Option<&str> {
    let value = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}
