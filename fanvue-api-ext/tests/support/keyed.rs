//! A rate-limited API on 127.0.0.1 that keys its buckets the way Fanvue does:
//! every path under `/creators/{creatorUserUuid}/` counts in that creator's
//! bucket, every other path in one shared bucket, and a path given a limit of
//! its own ([`KeyedServer::own_limit`], the path after any creator prefix)
//! counts in a bucket of its own within its scope. Fixed windows of whole
//! seconds counted from the whole second the server started in, so `X-RateLimit-Reset` is exact. Every
//! answer carries the three `X-RateLimit-*` headers; one beyond the limit is
//! a 429 with `Retry-After`. During an outage ([`KeyedServer::set_outage`])
//! every request gets a header-less 502 and counts nowhere.
//!
//! Bodies: `GET /users/me` a minimal user, anything else an empty page.
//! Self-contained (axum and tokio only) so the rate-limit benchmark can
//! include it too.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

const USER: &str = r#"{"uuid":"00000000-0000-4000-8000-000000000001","email":"agency@example.com","handle":"agency","bio":"","displayName":"Agency","isCreator":false,"createdAt":"2024-01-01T00:00:00Z","updatedAt":null,"avatarUrl":null,"bannerUrl":null}"#;
const EMPTY_PAGE: &str = r#"{"data":[],"pagination":{"page":1,"size":0,"hasMore":false}}"#;

/// The server's counters and settings.
#[derive(Default)]
struct State {
    limit: u64,
    window_ms: u64,
    /// Windows are counted from this Unix millisecond (a whole second).
    start_ms: u64,
    own_limits: Mutex<HashMap<String, u64>>,
    /// bucket -> (window index, requests admitted in it)
    windows: Mutex<HashMap<String, (u64, u64)>>,
    /// bucket -> requests admitted over the run
    served_by_bucket: Mutex<HashMap<String, u64>>,
    served: AtomicU64,
    rejected: AtomicU64,
    outage: AtomicBool,
    outage_answers: AtomicU64,
}

/// A running keyed server (stopped on drop).
pub struct KeyedServer {
    url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for KeyedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl KeyedServer {
    /// Starts a server allowing `limit` requests per `window` (whole seconds) in every bucket.
    pub async fn start(limit: u64, window: Duration) -> Self {
        let state = Arc::new(State {
            limit,
            window_ms: u64::try_from(window.as_millis()).unwrap().max(1000) / 1000 * 1000,
            start_ms: unix_ms() / 1000 * 1000,
            ..State::default()
        });
        let app = axum::Router::new().fallback({
            let state = Arc::clone(&state);
            move |uri: Uri| {
                let state = Arc::clone(&state);
                async move { answer(&state, &uri) }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state, task }
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Gives `path` (after any `/creators/{id}` prefix, e.g. `/media`) a bucket of its own with
    /// `limit` per window.
    pub fn own_limit(&self, path: &str, limit: u64) {
        self.state
            .own_limits
            .lock()
            .unwrap()
            .insert(path.to_owned(), limit);
    }

    /// Starts or ends an outage: header-less 502s for every request.
    pub fn set_outage(&self, outage: bool) {
        self.state.outage.store(outage, Ordering::SeqCst);
    }

    /// A Unix millisecond at least `margin` from now at which a window of every bucket starts.
    pub fn next_window_start(&self, margin: Duration) -> u64 {
        let earliest = unix_ms() + u64::try_from(margin.as_millis()).unwrap();
        let windows = (earliest - self.state.start_ms).div_ceil(self.state.window_ms);
        self.state.start_ms + windows * self.state.window_ms
    }

    /// Requests answered 2xx.
    pub fn served(&self) -> u64 {
        self.state.served.load(Ordering::SeqCst)
    }

    /// Requests answered 429.
    pub fn rejected(&self) -> u64 {
        self.state.rejected.load(Ordering::SeqCst)
    }

    /// Requests answered 502 during an outage.
    pub fn outage_answers(&self) -> u64 {
        self.state.outage_answers.load(Ordering::SeqCst)
    }

    /// Requests answered 2xx in `bucket` (`shared`, `creator:<id>`, or either followed by
    /// `|<path>` for a path with a limit of its own).
    pub fn served_in(&self, bucket: &str) -> u64 {
        self.state
            .served_by_bucket
            .lock()
            .unwrap()
            .get(bucket)
            .copied()
            .unwrap_or(0)
    }
}

/// The bucket of `path` and its limit.
fn bucket_of(state: &State, path: &str) -> (String, u64) {
    let (scope, rest) = match path.strip_prefix("/creators/") {
        Some(tail) => {
            let (creator, rest) = tail.split_once('/').unwrap_or((tail, ""));
            (format!("creator:{creator}"), format!("/{rest}"))
        }
        None => ("shared".to_owned(), path.to_owned()),
    };
    match state.own_limits.lock().unwrap().get(&rest) {
        Some(limit) => (format!("{scope}|{rest}"), *limit),
        None => (scope, state.limit),
    }
}

fn unix_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn answer(state: &State, uri: &Uri) -> Response {
    if state.outage.load(Ordering::SeqCst) {
        state.outage_answers.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::BAD_GATEWAY, "bad gateway").into_response();
    }
    let path = uri.path();
    let (bucket, limit) = bucket_of(state, path);
    let now_ms = unix_ms();
    let index = (now_ms - state.start_ms) / state.window_ms;
    let end_ms = state.start_ms + (index + 1) * state.window_ms;
    let admitted = {
        let mut windows = state.windows.lock().unwrap();
        let window = windows.entry(bucket.clone()).or_insert((index, 0));
        if window.0 != index {
            *window = (index, 0);
        }
        if window.1 < limit {
            window.1 += 1;
            Some(limit - window.1)
        } else {
            None
        }
    };
    let mut response = match admitted {
        Some(remaining) => {
            state.served.fetch_add(1, Ordering::SeqCst);
            *state
                .served_by_bucket
                .lock()
                .unwrap()
                .entry(bucket)
                .or_default() += 1;
            let body = if path.ends_with("/users/me") {
                USER
            } else {
                EMPTY_PAGE
            };
            let mut response =
                (StatusCode::OK, [("content-type", "application/json")], body).into_response();
            response
                .headers_mut()
                .insert("x-ratelimit-remaining", HeaderValue::from(remaining));
            response
        }
        None => {
            state.rejected.fetch_add(1, Ordering::SeqCst);
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                [("content-type", "application/json")],
                r#"{"error":"Too many requests"}"#,
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-remaining", HeaderValue::from(0u64));
            headers.insert(
                "retry-after",
                HeaderValue::from((end_ms - now_ms).div_ceil(1000).max(1)),
            );
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert(
        "x-ratelimit-reset",
        HeaderValue::from(end_ms.div_ceil(1000)),
    );
    response
}
