//! Middleware shared by the listeners: request logging, simulated latency, fault injection, API version
//! and bearer-token checks.

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
const MAX_LOGGED_BODY: usize = 16 * 1024 * 1024;

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
    let latency = {
        let mut st = shared.lock();
        if shared.config.record_requests {
            st.log.push(RecordedRequest {
                listener,
                method: req.method().clone(),
                path: req.uri().path().to_string(),
                query: req.uri().query().map(str::to_string),
                headers: req.headers().clone(),
                body,
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
    let resp = next.run(req).await;
    shared.bump();
    resp
}

/// Axum middleware form of [`gate`] for the routed API and OAuth endpoints.
pub(crate) async fn api_gate(
    State((shared, listener)): State<(Arc<Shared>, Listener)>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let route = matched
        .as_ref()
        .and_then(|m| ApiRoute::from_template(req.method(), m.as_str()));
    let found = (listener == Listener::Api)
        .then(|| crate::spec::Spec::load().find(req.method(), req.uri().path()))
        .flatten();
    let checked = match gate(&shared, listener, route, req).await {
        Ok(req) => match found {
            Some((op, params)) => check_and_override(&shared, op, &params, req).await,
            None => Ok(req),
        },
        Err(resp) => Err(resp),
    };
    match checked {
        Ok(req) => {
            let drop_after = req
                .extensions()
                .get::<ActThenResetFault>()
                .and_then(|_| req.extensions().get::<ConnAbort>().cloned());
            let resp = next.run(req).await;
            match drop_after {
                Some(abort) => {
                    abort.abort();
                    std::future::pending::<()>().await;
                    resp
                }
                None => resp,
            }
        }
        Err(resp) => resp,
    }
}

/// Counts the request per route, applies an injected fault if one matches, then (on the API listener)
/// checks `X-Fanvue-API-Version` and the bearer token. `Ok` hands the request on to its handler.
pub(crate) async fn gate(
    shared: &Shared,
    listener: Listener,
    route: Option<ApiRoute>,
    mut req: Request,
) -> Result<Request, Response> {
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
        st.faults.take(FaultSubject::Api {
            route,
            part,
            path: req.uri().path(),
        })
    };
    if let Some(fault) = fault {
        match fault {
            Fault::Status(code) => return Err(respond::injected_status(code)),
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
    }
    if listener == Listener::Api {
        if let Some(resp) = check_version(shared, &req) {
            return Err(resp);
        }
        if !token_ok(shared, &req) {
            return Err(respond::unauthorized());
        }
    }
    Ok(req)
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

/// Checks the request against its operation in the document ([`crate::check`]; 400 `{errors}` when it
/// breaks it), then answers an override of the operation if one is set. `Ok` hands the request on.
pub(crate) async fn check_and_override(
    shared: &Shared,
    op: &crate::spec::Operation,
    path_params: &[(String, String)],
    req: Request,
) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_LOGGED_BODY)
        .await
        .map_err(|_| {
            respond::json(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "error": "Payload too large" }),
            )
        })?;
    let query: Vec<(String, String)> = axum::extract::Query::try_from_uri(&parts.uri)
        .map(|axum::extract::Query(q)| q)
        .unwrap_or_default();
    crate::check::check_request(op, path_params, &query, &bytes).map_err(respond::validation)?;
    let over = shared.lock().overrides.get(&op.id).cloned();
    if let Some(o) = over {
        if !o.latency.is_zero() {
            tokio::time::sleep(o.latency).await;
        }
        let status = StatusCode::from_u16(o.status).unwrap_or(StatusCode::OK);
        return Err(match o.body {
            Some(b) => respond::json(status, b),
            None => axum::response::IntoResponse::into_response(status),
        });
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}
