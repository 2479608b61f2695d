//! The request pipeline of the API listener (the stages are listed in [`super`]).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use serde_json::json;

use super::handlers::{Call, handler};
use super::{custom, from_spec};
use crate::faults::{ApiRoute, FaultSubject};
use crate::gate::{self, ActThenResetFault, ExpiredUrlFault, LogSeq};
use crate::respond;
use crate::serve::ConnAbort;
use crate::spec::{Operation, ParamLocation, Spec};
use crate::state::{CustomRoute, Shared};

/// Every API request, from the operation lookup to the answer.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    // Find the operation (or a test's seeded answer for a path the document does not have).
    let path = req.uri().path().to_string();
    let found = Spec::load().find(req.method(), &path);
    let custom = shared
        .lock()
        .custom
        .get(&(req.method().clone(), path.clone()))
        .cloned();
    let op = found.as_ref().map(|(op, _)| *op);
    let params = found.as_ref().map(|(_, p)| p.clone()).unwrap_or_default();
    let seq = req.extensions().get::<LogSeq>().map(|s| s.0);
    if let (Some(op), Some(seq)) = (op, seq) {
        update_log(&shared, seq, |r| r.operation_id = Some(op.id.clone()));
    }
    if op.is_none() && custom.is_none() {
        return respond::not_found("Not found");
    }

    // Faults: a gateway outage, then injected faults.
    let route = op.and_then(|op| ApiRoute::from_operation_id(&op.id));
    let part = op
        .filter(|_| matches!(route, Some(ApiRoute::PartUrl | ApiRoute::CreatorPartUrl)))
        .and_then(|_| params.iter().find(|(n, _)| n == "partNumber"))
        .and_then(|(_, v)| v.parse::<u32>().ok());
    let fault = {
        let mut st = shared.lock();
        if let Some(r) = route {
            *st.route_counts.entry(r).or_insert(0) += 1;
        }
        match st.gateway_outage {
            Some((_, until)) if Instant::now() >= until => st.gateway_outage = None,
            Some((status, _)) => return respond::gateway(status),
            None => {}
        }
        match op {
            Some(op) => st.faults.take(FaultSubject::Operation {
                id: &op.id,
                route,
                part,
                path: &path,
            }),
            None => st.faults.take(FaultSubject::Api {
                route,
                part,
                path: &path,
            }),
        }
    };
    let req = match gate::apply_fault(&shared, fault, req).await {
        Ok(req) => req,
        Err(resp) => return resp,
    };

    // Rate limit: from here on every answer carries the bucket's headers.
    let principal = principal(&shared);
    let verdict = shared.rate_limits.admit(&principal, op, &params);
    if let Some(refusal) = verdict.as_ref().and_then(|v| v.refusal()) {
        return refusal;
    }
    let mut resp = checked(&shared, op, params, custom, seq, req).await;
    if let Some(v) = &verdict {
        v.stamp(&mut resp);
    }
    resp
}

/// The identity rate-limit buckets belong to: every token of the fake belongs to its one user, issued
/// to its one OAuth client.
pub(crate) fn principal(shared: &Shared) -> String {
    let user = shared.lock().data.user.uuid;
    format!("{}:{user}", shared.config.client_id)
}

fn update_log(shared: &Shared, seq: u64, f: impl FnOnce(&mut crate::RecordedRequest)) {
    let mut st = shared.lock();
    if let Some(r) = st.log.iter_mut().rev().find(|r| r.seq == seq) {
        f(r);
    }
}

/// Version, token and scopes, validation, overrides, then the answer.
async fn checked(
    shared: &Arc<Shared>,
    op: Option<&'static Operation>,
    params: Vec<(String, String)>,
    custom: Option<CustomRoute>,
    seq: Option<u64>,
    req: Request,
) -> Response {
    if let Some(resp) = gate::check_version(shared, &req) {
        return resp;
    }
    if let Err(resp) = check_token(shared, op, &req) {
        return resp;
    }
    let expired_url = req.extensions().get::<ExpiredUrlFault>().is_some();
    let act_then_reset = req
        .extensions()
        .get::<ActThenResetFault>()
        .and_then(|_| req.extensions().get::<ConnAbort>().cloned());
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, gate::MAX_LOGGED_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return respond::json(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "error": "Payload too large" }),
            );
        }
    };
    let query: Vec<(String, String)> = Query::try_from_uri(&parts.uri)
        .map(|Query(q)| q)
        .unwrap_or_default();
    let path = parts.uri.path().to_string();

    if let Some(op) = op {
        let mut errors = Vec::new();
        let unknown = unknown_query(op, &query);
        if !unknown.is_empty() {
            if let Some(seq) = seq {
                update_log(shared, seq, |r| r.unknown_query = unknown.clone());
            }
            if shared.config.strict_query {
                errors.extend(
                    unknown
                        .iter()
                        .map(|n| format!("{n}: is not a query parameter of {}", op.id)),
                );
            }
        }
        if let Some(e) = content_type_error(op, &parts.headers, &body) {
            errors.push(e);
        } else if let Err(e) = crate::check::check_request(op, &params, &query, &body) {
            errors.extend(e);
        }
        if !errors.is_empty() {
            return respond::validation(errors);
        }
        let over = shared.lock().overrides.take(&op.id, &query, &body);
        if let Some(o) = over {
            if !o.latency.is_zero() {
                tokio::time::sleep(o.latency).await;
            }
            let status = StatusCode::from_u16(o.status).unwrap_or(StatusCode::OK);
            return match o.body {
                Some(b) => respond::json(status, b),
                None => status.into_response(),
            };
        }
    }

    let resp = match (custom, op) {
        (Some(route), op) => custom::answer(route, op, &query),
        (None, Some(op)) => {
            let call = Call {
                op,
                path,
                params,
                query,
                body,
                expired_url,
            };
            match handler(&op.id) {
                Some(h) => h(shared, &call),
                None => from_spec::answer(
                    op,
                    &call.path,
                    &call.query,
                    shared.config.seed,
                    shared.config.list_size,
                    shared.config.wire_noise,
                ),
            }
        }
        (None, None) => respond::not_found("Not found"),
    };
    if let Some(abort) = act_then_reset {
        // The work is done; the client never hears about it.
        abort.abort();
        std::future::pending::<()>().await;
    }
    resp
}

/// 401 without a valid bearer token; 403 naming the first scope of the operation the token lacks.
fn check_token(shared: &Shared, op: Option<&Operation>, req: &Request) -> Result<(), Response> {
    let Some(token) = gate::bearer(req) else {
        return Err(respond::unauthorized());
    };
    let st = shared.lock();
    if !st.tokens.is_valid(token) {
        return Err(respond::unauthorized());
    }
    let Some(op) = op else {
        return Ok(());
    };
    let missing = match st.token_scopes.get(token) {
        Some(granted) => op.scopes.iter().find(|s| !granted.contains(s)),
        None => op.scopes.iter().find(|s| {
            !shared
                .config
                .scope
                .split_whitespace()
                .any(|g| g == s.as_str())
        }),
    };
    match missing {
        Some(scope) => Err(respond::missing_scope(scope)),
        None => Ok(()),
    }
}

/// Query parameter names `op` does not declare, in the order sent, each once.
fn unknown_query(op: &Operation, query: &[(String, String)]) -> Vec<String> {
    let mut unknown: Vec<String> = Vec::new();
    for (name, _) in query {
        let declared = op
            .parameters_in(ParamLocation::Query)
            .any(|p| &p.name == name);
        if !declared && !unknown.contains(name) {
            unknown.push(name.clone());
        }
    }
    unknown
}

/// A body sent to an operation that takes one must be declared JSON (`application/json` or a
/// `+json` type, parameters allowed): Fanvue does not read a body of another type.
fn content_type_error(op: &Operation, headers: &http::HeaderMap, body: &Bytes) -> Option<String> {
    let expected = &op.request_body.as_ref()?.content_type;
    if body.iter().all(u8::is_ascii_whitespace) || expected != "application/json" {
        return None;
    }
    let sent = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let essence = sent
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if essence == "application/json" || essence.ends_with("+json") {
        return None;
    }
    Some(match sent {
        Some(s) => format!("Content-Type: must be application/json for a request body, not `{s}`"),
        None => "Content-Type: is required with a request body (application/json)".to_string(),
    })
}
