//! A configurable API rate limit: a fixed window of `limit` requests per `window` (aligned to Unix time,
//! so `X-RateLimit-Reset` is exact), counted per API request whatever its route. Every API response
//! carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds, the end
//! of the window); a request beyond the limit gets 429 `{error}` with those and `Retry-After`.
//! Off unless set ([`crate::FakeFanvueBuilder::rate_limit_window`], [`crate::FakeFanvue::set_rate_limit_window`]).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::respond;

/// The window and its counters.
#[derive(Default)]
pub(crate) struct RateWindow {
    config: Mutex<Option<Config>>,
    admitted: AtomicU64,
    rejected: AtomicU64,
}

#[derive(Clone, Copy)]
struct Config {
    limit: u64,
    window_ms: u64,
    /// (window index, requests counted in it)
    current: (u64, u64),
}

/// What one request got.
pub(crate) struct Verdict {
    limit: u64,
    remaining: u64,
    reset_secs: u64,
    retry_after_secs: Option<u64>,
}

impl RateWindow {
    pub(crate) fn set(&self, limit_window: Option<(u64, Duration)>) {
        *self.config.lock().unwrap_or_else(|p| p.into_inner()) =
            limit_window.map(|(limit, window)| Config {
                limit,
                window_ms: (window.as_millis() as u64).max(1000),
                current: (0, 0),
            });
    }

    /// Counts one API request.
    pub(crate) fn admit(&self) -> Option<Verdict> {
        let mut guard = self.config.lock().unwrap_or_else(|p| p.into_inner());
        let config = guard.as_mut()?;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let index = now_ms / config.window_ms;
        if config.current.0 != index {
            config.current = (index, 0);
        }
        let end_ms = (index + 1) * config.window_ms;
        let reset_secs = end_ms.div_ceil(1000);
        if config.current.1 >= config.limit {
            self.rejected.fetch_add(1, Ordering::SeqCst);
            return Some(Verdict {
                limit: config.limit,
                remaining: 0,
                reset_secs,
                retry_after_secs: Some((end_ms - now_ms).div_ceil(1000).max(1)),
            });
        }
        config.current.1 += 1;
        self.admitted.fetch_add(1, Ordering::SeqCst);
        Some(Verdict {
            limit: config.limit,
            remaining: config.limit - config.current.1,
            reset_secs,
            retry_after_secs: None,
        })
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::SeqCst)
    }

    pub(crate) fn admitted(&self) -> u64 {
        self.admitted.load(Ordering::SeqCst)
    }
}

impl Verdict {
    /// The 429 to answer instead of handling the request, if over the limit.
    pub(crate) fn refusal(&self) -> Option<Response> {
        let retry_after = self.retry_after_secs?;
        let mut response = respond::json(
            StatusCode::TOO_MANY_REQUESTS,
            json!({ "error": "Too many requests" }),
        );
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(retry_after));
        self.stamp(&mut response);
        Some(response)
    }

    /// Adds the `X-RateLimit-*` headers.
    pub(crate) fn stamp(&self, response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset_secs));
    }
}
