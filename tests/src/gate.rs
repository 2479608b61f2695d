//! Middleware shared by the listeners: request logging, simulated latency, fault injection, API version
//! and bearer-token checks.

use std::sync::Arc;

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

/// Logs the request, then waits the listener's simulated latency.
pub(crate) async fn record(
    State((shared, listener)): State<(Arc<Shared>, Listener)>,
    req: Request,
    next: Next,
) -> Response {
    let latency = {
        let mut st = shared.lock();
        st.log.push(RecordedRequest {
            listener,
            method: req.method().clone(),
            path: req.uri().path().to_string(),
            query: req.uri().query().map(str::to_string),
            headers: req.headers().clone(),
        });
        match listener {
            Listener::S3 => st.knobs.s3_latency,
            Listener::Api | Listener::Auth => st.knobs.api_latency,
        }
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    next.run(req).await
}

/// Counts the request per route, applies an injected fault if one matches, then (on the API listener)
/// checks `X-Fanvue-API-Version` and the bearer token.
pub(crate) async fn api_gate(
    State((shared, listener)): State<(Arc<Shared>, Listener)>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let route = matched
        .as_ref()
        .and_then(|m| ApiRoute::from_template(req.method(), m.as_str()));
    let part = match route {
        Some(ApiRoute::PartUrl | ApiRoute::CreatorPartUrl) => req
            .uri()
            .path()
            .rsplit('/')
            .nth(1)
            .and_then(|s| s.parse::<u32>().ok()),
        _ => None,
    };
    let fault = {
        let mut st = shared.lock();
        if let Some(r) = route {
            *st.route_counts.entry(r).or_insert(0) += 1;
        }
        st.faults.take(FaultSubject::Api { route, part })
    };
    if let Some(fault) = fault {
        match fault {
            Fault::Status(code) => return respond::injected_status(code),
            Fault::RateLimited { retry_after_secs } => {
                return respond::rate_limited(retry_after_secs);
            }
            Fault::Unauthorized => return respond::unauthorized(),
            Fault::Reset => {
                let abort = req.extensions().get::<ConnAbort>().cloned();
                let _ = axum::body::to_bytes(req.into_body(), usize::MAX).await;
                if let Some(abort) = abort {
                    abort.abort();
                    std::future::pending::<()>().await;
                }
                return respond::injected_status(500);
            }
            Fault::TruncatedResponse => {
                let _ = axum::body::to_bytes(req.into_body(), usize::MAX).await;
                return respond::truncated("application/json");
            }
            Fault::Delay(d) => tokio::time::sleep(d).await,
            Fault::ExpiredUrl => {
                req.extensions_mut().insert(ExpiredUrlFault);
            }
            Fault::WrongEtag => {}
        }
    }
    if listener == Listener::Api {
        if let Some(resp) = check_version(&shared, &req) {
            return resp;
        }
        if !token_ok(&shared, &req) {
            return respond::unauthorized();
        }
    }
    next.run(req).await
}

fn check_version(shared: &Shared, req: &Request) -> Option<Response> {
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
    if !shared.config.supported_versions.iter().any(|v| v == version) {
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

fn token_ok(shared: &Shared, req: &Request) -> bool {
    let Some(value) = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return false;
    };
    shared.lock().tokens.is_valid(token.trim())
}
