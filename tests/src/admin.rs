//! The admin HTTP API: everything the Rust API of a running fake can do, as JSON over HTTP on the API
//! listener, for test suites written in any language.
//!
//! It lives under `/_fake/` (Fanvue's paths never start with `_`), needs no token, and is outside the
//! API pipeline: admin requests are not in the request log, draw from no rate-limit bucket, are not
//! validated as API operations and ignore faults, overrides and the simulated latency. Bodies are JSON;
//! a bad one is 400 `{error}`. The endpoints and their bodies are documented in the crate's README.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::faults::{Fault, FaultTarget};
use crate::log::{Listener, RecordedRequest};
use crate::overrides::Override;
use crate::ratelimit::BucketKey;
use crate::respond;
use crate::state::Shared;
use crate::webhooks::{WebhookEndpoint, WebhookEvent};

/// The path prefix of the admin API.
pub(crate) const PREFIX: &str = "/_fake";

/// The admin routes, nested under [`PREFIX`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let admin = Router::new()
        .route("/tokens", post(mint_token))
        .route("/overrides", axum::routing::delete(clear_overrides))
        .route(
            "/overrides/{operation_id}",
            put(set_overrides).post(add_override).delete(clear_override),
        )
        .route(
            "/faults",
            post(inject).delete(clear_faults).get(pending_faults),
        )
        .route("/gateway-outage", post(gateway_outage))
        .route("/rate-limits", get(rate_limits).put(set_rate_limit_window))
        .route(
            "/rate-limits/operations/{operation_id}",
            put(set_operation_rate_limit),
        )
        .route("/requests", get(requests).delete(clear_requests))
        .route("/reset", post(reset))
        .route("/webhooks/endpoint", put(set_webhook_endpoint))
        .route("/webhooks", post(deliver_webhook))
        .route("/webhooks/fan-message", post(fan_message))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such admin endpoint") })
        .with_state(shared);
    Router::new().nest(PREFIX, admin)
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    respond::json(status, json!({ "error": message.to_string() }))
}

/// Parses a JSON body (an empty body reads as `{}`).
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| error(StatusCode::BAD_REQUEST, e))
}

fn ok() -> Response {
    respond::json(StatusCode::OK, json!({ "ok": true }))
}

// ---- tokens ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintToken {
    #[serde(default)]
    scopes: Vec<String>,
}

/// `POST /_fake/tokens {"scopes": [..]}` → 201 `{"access_token"}`.
async fn mint_token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: MintToken = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let token = crate::handle::mint_token(&shared, req.scopes.clone());
    respond::json(
        StatusCode::CREATED,
        json!({ "access_token": token, "scopes": req.scopes }),
    )
}

// ---- overrides ----

/// One override as JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideJson {
    #[serde(default = "ok_status")]
    status: u16,
    body: Option<Value>,
    #[serde(default)]
    latency_ms: u64,
    times: Option<u32>,
    #[serde(default, rename = "match")]
    matcher: Option<MatchJson>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MatchJson {
    #[serde(default)]
    query: serde_json::Map<String, Value>,
    body: Option<Value>,
}

fn ok_status() -> u16 {
    200
}

impl OverrideJson {
    fn into_override(self) -> Result<Override, Response> {
        if !(100..=599).contains(&self.status) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("status {} is not an HTTP status", self.status),
            ));
        }
        let mut o =
            Override::status(self.status).with_latency(Duration::from_millis(self.latency_ms));
        if let Some(body) = self.body {
            o = o.with_body(body);
        }
        if let Some(n) = self.times {
            o = o.times(n);
        }
        if let Some(m) = self.matcher {
            for (name, value) in m.query {
                let value = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                o = o.when_query(name, value);
            }
            if let Some(body) = m.body {
                o = o.when_body(body);
            }
        }
        Ok(o)
    }
}

/// `PUT /_fake/overrides/{operationId}`: one override object, or `{"sequence": [..]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum SetOverrides {
    Sequence { sequence: Vec<OverrideJson> },
    One(OverrideJson),
}

async fn set_overrides(
    State(shared): State<Arc<Shared>>,
    Path(operation_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = known_operation(&operation_id) {
        return e;
    }
    let rules = match parse::<SetOverrides>(&body) {
        Ok(SetOverrides::One(o)) => match o.into_override() {
            Ok(o) => vec![o],
            Err(e) => return e,
        },
        Ok(SetOverrides::Sequence { sequence }) => {
            let mut rules = Vec::with_capacity(sequence.len());
            for o in sequence {
                match o.into_override() {
                    Ok(o) if o.times.is_none() => rules.push(o.times(1)),
                    Ok(o) => rules.push(o),
                    Err(e) => return e,
                }
            }
            rules
        }
        Err(e) => return e,
    };
    shared.lock().overrides.set(&operation_id, rules);
    ok()
}

/// `POST /_fake/overrides/{operationId}`: adds one override after the existing ones.
async fn add_override(
    State(shared): State<Arc<Shared>>,
    Path(operation_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = known_operation(&operation_id) {
        return e;
    }
    let o = match parse::<OverrideJson>(&body).and_then(OverrideJson::into_override) {
        Ok(o) => o,
        Err(e) => return e,
    };
    shared.lock().overrides.add(&operation_id, o);
    ok()
}

async fn clear_override(
    State(shared): State<Arc<Shared>>,
    Path(operation_id): Path<String>,
) -> Response {
    shared.lock().overrides.remove(&operation_id);
    ok()
}

async fn clear_overrides(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().overrides.clear();
    ok()
}

/// 404 `{error}` for an `operationId` the document does not have (a typo would never match).
fn known_operation(operation_id: &str) -> Result<(), Response> {
    match crate::spec::Spec::load().operation(operation_id) {
        Some(_) => Ok(()),
        None => Err(error(
            StatusCode::NOT_FOUND,
            format!("`{operation_id}` is not an operationId of the document"),
        )),
    }
}

// ---- faults ----

/// `POST /_fake/faults`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InjectFault {
    /// Target: one operation by id; else `path` (exact API path); else `s3_part`; else every API request.
    operation: Option<String>,
    path: Option<String>,
    s3_part: Option<u32>,
    fault: FaultJson,
    #[serde(default = "one")]
    times: u32,
    #[serde(default)]
    skip: u32,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum FaultJson {
    Status { status: u16 },
    Gateway { status: u16 },
    RateLimited { retry_after_secs: u64 },
    Unauthorized,
    Reset,
    TruncatedResponse,
    Delay { ms: u64 },
    WrongEtag,
    ExpiredUrl,
    ExpireAccessTokens,
    ActThenReset,
    CorruptBody,
}

impl From<FaultJson> for Fault {
    fn from(f: FaultJson) -> Fault {
        match f {
            FaultJson::Status { status } => Fault::Status(status),
            FaultJson::Gateway { status } => Fault::Gateway { status },
            FaultJson::RateLimited { retry_after_secs } => Fault::RateLimited { retry_after_secs },
            FaultJson::Unauthorized => Fault::Unauthorized,
            FaultJson::Reset => Fault::Reset,
            FaultJson::TruncatedResponse => Fault::TruncatedResponse,
            FaultJson::Delay { ms } => Fault::Delay(Duration::from_millis(ms)),
            FaultJson::WrongEtag => Fault::WrongEtag,
            FaultJson::ExpiredUrl => Fault::ExpiredUrl,
            FaultJson::ExpireAccessTokens => Fault::ExpireAccessTokens,
            FaultJson::ActThenReset => Fault::ActThenReset,
            FaultJson::CorruptBody => Fault::CorruptBody,
        }
    }
}

async fn inject(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: InjectFault = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let target = match (req.operation, req.path, req.s3_part) {
        (Some(op), None, None) => {
            if let Err(e) = known_operation(&op) {
                return e;
            }
            FaultTarget::Operation(op)
        }
        (None, Some(path), None) => FaultTarget::ApiPath(path),
        (None, None, Some(part)) => FaultTarget::S3Part(Some(part)),
        (None, None, None) => FaultTarget::AnyApi,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "give at most one of `operation`, `path`, `s3_part`",
            );
        }
    };
    shared
        .lock()
        .faults
        .add(target, req.fault.into(), req.skip, req.times);
    shared.bump();
    respond::json(
        StatusCode::CREATED,
        json!({ "pending": shared.lock().faults.pending() }),
    )
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    let mut st = shared.lock();
    st.faults.clear();
    st.gateway_outage = None;
    ok()
}

async fn pending_faults(State(shared): State<Arc<Shared>>) -> Response {
    let st = shared.lock();
    respond::json(
        StatusCode::OK,
        json!({ "pending": st.faults.pending(), "gateway_outage": st.gateway_outage.is_some() }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayOutage {
    #[serde(default = "service_unavailable")]
    status: u16,
    duration_ms: u64,
}

fn service_unavailable() -> u16 {
    503
}

/// `POST /_fake/gateway-outage {"status": 503, "duration_ms": 2000}`.
async fn gateway_outage(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: GatewayOutage = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    shared.lock().gateway_outage = Some((
        req.status,
        std::time::Instant::now() + Duration::from_millis(req.duration_ms),
    ));
    ok()
}

// ---- rate limits ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitWindow {
    /// `null`: every bucket unlimited again.
    limit: Option<u64>,
    #[serde(default = "sixty")]
    window_secs: u64,
}

fn sixty() -> u64 {
    60
}

/// `PUT /_fake/rate-limits {"limit": 100, "window_secs": 60}`.
async fn set_rate_limit_window(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: RateLimitWindow = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if req.window_secs == 0 {
        return error(StatusCode::BAD_REQUEST, "window_secs must be at least 1");
    }
    shared
        .rate_limits
        .set_window(req.limit.map(|l| (l, Duration::from_secs(req.window_secs))));
    ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperationLimit {
    /// `null`: back to the shared or creator bucket.
    limit: Option<u64>,
}

/// `PUT /_fake/rate-limits/operations/{operationId} {"limit": 10}`.
async fn set_operation_rate_limit(
    State(shared): State<Arc<Shared>>,
    Path(operation_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = known_operation(&operation_id) {
        return e;
    }
    let req: OperationLimit = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    shared.rate_limits.set_operation(&operation_id, req.limit);
    ok()
}

/// `GET /_fake/rate-limits`: the principal, totals and every bucket.
async fn rate_limits(State(shared): State<Arc<Shared>>) -> Response {
    let buckets: Vec<Value> = shared
        .rate_limits
        .buckets()
        .into_iter()
        .map(|b| {
            let (kind, id) = match &b.key {
                BucketKey::Shared => ("shared", None),
                BucketKey::Creator(c) => ("creator", Some(c.clone())),
                BucketKey::Operation(o) => ("operation", Some(o.clone())),
            };
            json!({
                "key": b.key.to_string(),
                "kind": kind,
                "id": id,
                "limit": b.limit,
                "window_secs": b.window.as_secs(),
                "remaining": b.remaining,
                "reset": b.reset,
                "admitted": b.admitted,
                "rejected": b.rejected,
            })
        })
        .collect();
    respond::json(
        StatusCode::OK,
        json!({
            "principal": crate::api::principal(&shared),
            "admitted": shared.rate_limits.admitted(),
            "rejected": shared.rate_limits.rejected(),
            "buckets": buckets,
        }),
    )
}

// ---- request log ----

#[derive(Deserialize)]
struct LogQuery {
    /// `api` (default), `auth`, `s3` or `all`.
    listener: Option<String>,
    /// Only requests matched to this `operationId`.
    operation: Option<String>,
}

/// `GET /_fake/requests[?listener=api|auth|s3|all][&operation=ID]`.
async fn requests(State(shared): State<Arc<Shared>>, Query(q): Query<LogQuery>) -> Response {
    let listener = match q.listener.as_deref().unwrap_or("api") {
        "api" => Some(Listener::Api),
        "auth" => Some(Listener::Auth),
        "s3" => Some(Listener::S3),
        "all" => None,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("listener `{other}`: expected api, auth, s3 or all"),
            );
        }
    };
    let entries: Vec<Value> = shared
        .lock()
        .log
        .iter()
        .filter(|r| listener.is_none_or(|l| r.listener == l))
        .filter(|r| {
            q.operation
                .as_ref()
                .is_none_or(|op| r.operation_id.as_ref() == Some(op))
        })
        .map(entry)
        .collect();
    respond::json(StatusCode::OK, json!({ "requests": entries }))
}

/// One log entry as JSON. Secrets stay out: `Authorization`, `Cookie` and `Proxy-Authorization`
/// values are redacted, and OAuth bodies (client secrets, refresh tokens) are not shown.
fn entry(r: &RecordedRequest) -> Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in &r.headers {
        let name = name.as_str();
        let value = if matches!(name, "authorization" | "cookie" | "proxy-authorization") {
            "<redacted>".to_string()
        } else {
            value.to_str().unwrap_or("<binary>").to_string()
        };
        headers.insert(name.to_string(), Value::String(value));
    }
    let body = match (&r.listener, &r.body) {
        (Listener::Api, Some(b)) if !b.is_empty() => Some(
            serde_json::from_slice::<Value>(b)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(b).into_owned())),
        ),
        _ => None,
    };
    json!({
        "listener": match r.listener {
            Listener::Api => "api",
            Listener::Auth => "auth",
            Listener::S3 => "s3",
        },
        "method": r.method.as_str(),
        "path": r.path,
        "query": r.query,
        "operation_id": r.operation_id,
        "unknown_query": r.unknown_query,
        "has_authorization": r.has_authorization(),
        "headers": headers,
        "body": body,
    })
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().log.clear();
    ok()
}

// ---- reset ----

/// `POST /_fake/reset`: [`crate::FakeFanvue::reset`].
async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    crate::handle::reset(&shared);
    ok()
}

// ---- webhooks ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Endpoint {
    /// `null`: no more deliveries.
    url: Option<String>,
    #[serde(default)]
    secret: String,
}

/// `PUT /_fake/webhooks/endpoint {"url", "secret"}`.
async fn set_webhook_endpoint(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: Endpoint = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    shared
        .webhooks
        .set(req.url.map(|url| WebhookEndpoint::new(url, req.secret)));
    ok()
}

/// `POST /_fake/webhooks`: `{"type", "data"}` (enveloped) or `{"topic", "payload"}` (flat).
#[derive(Deserialize)]
#[serde(untagged)]
enum Deliver {
    Enveloped {
        #[serde(rename = "type")]
        kind: String,
        data: Value,
    },
    Flat {
        topic: String,
        payload: Value,
    },
}

async fn deliver_webhook(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let event = match parse::<Deliver>(&body) {
        Ok(Deliver::Enveloped { kind, data }) => WebhookEvent::enveloped(kind, data),
        Ok(Deliver::Flat { topic, payload }) => WebhookEvent::flat(topic, payload),
        Err(e) => return e,
    };
    delivered(&shared, &event).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FanMessage {
    fan: uuid::Uuid,
    text: String,
}

/// `POST /_fake/webhooks/fan-message {"fan", "text"}`: Message Received from that fan.
async fn fan_message(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let req: FanMessage = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let event = crate::handle::fan_message_event(&shared, req.fan, &req.text);
    delivered(&shared, &event).await
}

/// Delivers `event`: 200 with the attempt the receiver accepted, 409 without an endpoint, 502 when
/// every attempt failed.
async fn delivered(shared: &Arc<Shared>, event: &WebhookEvent) -> Response {
    let bump = {
        let shared = shared.clone();
        move || shared.bump()
    };
    match shared.webhooks.deliver(event, bump).await {
        Ok(a) => respond::json(
            StatusCode::OK,
            json!({
                "type": a.kind,
                "event_id": a.event_id,
                "attempt": a.attempt,
                "status": a.status,
                "body": event.body(),
            }),
        ),
        Err(e @ crate::webhooks::WebhookDeliveryError::NoEndpoint) => {
            error(StatusCode::CONFLICT, e)
        }
        Err(e) => error(StatusCode::BAD_GATEWAY, e),
    }
    .into_response()
}
