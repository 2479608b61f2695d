//! The API rate limit, keyed like Fanvue keys it.
//!
//! # Buckets
//! Every bucket belongs to an identity, the principal the bearer token was issued to
//! (`{client_id}:{user uuid}`): every token of the fake's user (the static ones, OAuth-issued ones and
//! [`crate::FakeFanvue::mint_access_token`] ones) draws from the same buckets, whichever process or
//! connection sends the request. Within the identity:
//! - an operation given a limit of its own ([`crate::FakeFanvueBuilder::operation_rate_limit`]) draws
//!   from a bucket of its own, [`BucketKey::Operation`];
//! - every other operation under `/creators/{creatorUserUuid}/*` draws from the bucket of that creator,
//!   [`BucketKey::Creator`] (an agency acting for N creators has N budgets);
//! - everything else (`/users/me`, `/chats/*`, `/posts/*`, `/agencies/*`, ...) shares one bucket,
//!   [`BucketKey::Shared`].
//!
//! # Windows
//! A bucket admits `limit` requests per fixed window aligned to Unix time (a window of `w` seconds
//! starts at every multiple of `w`), so `X-RateLimit-Reset` (Unix seconds, the end of the window) is
//! exact. Every answer of a request that reached the rate-limit stage carries `X-RateLimit-Limit`
//! (the limit of *its* bucket), `X-RateLimit-Remaining` and `X-RateLimit-Reset`: successes and the
//! 400/401/403/404 errors of the later stages alike. A request beyond the limit gets 429 `{error}` with
//! those headers and `Retry-After` (whole seconds to the end of the window, at least 1).
//!
//! Requests answered before the rate-limit stage (unknown paths, injected faults, gateway errors) are
//! not counted in any bucket and carry no `X-RateLimit-*` header.
//!
//! Off unless configured: [`crate::FakeFanvueBuilder::rate_limit_window`] limits every bucket,
//! [`crate::FakeFanvueBuilder::operation_rate_limit`] gives one operation a bucket and limit of its own
//! (the window is the common one, 60 s unless set). Both have live setters on [`crate::FakeFanvue`];
//! [`crate::FakeFanvue::rate_limit_buckets`] shows every bucket.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::respond;
use crate::spec::Operation;

/// The window used by per-operation limits when no [`crate::FakeFanvueBuilder::rate_limit_window`]
/// is set: 60 s, Fanvue's.
pub const DEFAULT_RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// Which bucket of an identity a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BucketKey {
    /// The principal's shared bucket (every operation outside `/creators/{creatorUserUuid}/*` without a
    /// limit of its own).
    Shared,
    /// The bucket of one creator (`creatorUserUuid` of the path, as sent), for the operations under
    /// `/creators/{creatorUserUuid}/*`.
    Creator(String),
    /// The bucket of one operation (by `operationId`) that has a limit of its own.
    Operation(String),
}

impl fmt::Display for BucketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BucketKey::Shared => f.write_str("shared"),
            BucketKey::Creator(c) => write!(f, "creator:{c}"),
            BucketKey::Operation(o) => write!(f, "operation:{o}"),
        }
    }
}

impl BucketKey {
    /// The bucket `op` draws from, given its path parameters and the operations with limits of their
    /// own.
    pub(crate) fn for_operation(
        op: Option<&Operation>,
        path_params: &[(String, String)],
        own_limit: bool,
    ) -> BucketKey {
        let Some(op) = op else {
            return BucketKey::Shared;
        };
        if own_limit {
            return BucketKey::Operation(op.id.clone());
        }
        if op.path.starts_with("/creators/{creatorUserUuid}")
            && let Some((_, creator)) = path_params.iter().find(|(n, _)| n == "creatorUserUuid")
        {
            return BucketKey::Creator(creator.clone());
        }
        BucketKey::Shared
    }
}

/// One bucket as [`crate::FakeFanvue::rate_limit_buckets`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitBucket {
    /// The identity the bucket belongs to: `{client_id}:{user uuid}`.
    pub principal: String,
    /// Which bucket of the identity.
    pub key: BucketKey,
    /// Requests allowed per window (`X-RateLimit-Limit`).
    pub limit: u64,
    /// The window length.
    pub window: Duration,
    /// Requests still allowed in the current window (`X-RateLimit-Remaining`; `limit` when the last
    /// counted window is over).
    pub remaining: u64,
    /// Unix seconds at which the current window ends (`X-RateLimit-Reset`).
    pub reset: u64,
    /// Requests admitted since the fake started.
    pub admitted: u64,
    /// Requests refused with 429 since the fake started.
    pub rejected: u64,
}

#[derive(Clone)]
struct Settings {
    /// Limit of every bucket (`None`: only operations with a limit of their own are limited).
    default_limit: Option<u64>,
    window_ms: u64,
    per_operation: HashMap<String, u64>,
}

#[derive(Default, Clone, Copy)]
struct Counters {
    /// (window index, requests counted in it)
    current: (u64, u64),
    admitted: u64,
    rejected: u64,
}

/// The configured limits and every bucket's counters.
pub(crate) struct RateLimits {
    inner: Mutex<Inner>,
}

struct Inner {
    settings: Settings,
    buckets: BTreeMap<(String, BucketKey), Counters>,
    admitted: u64,
    rejected: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            inner: Mutex::new(Inner {
                settings: Settings {
                    default_limit: None,
                    window_ms: window_ms(DEFAULT_RATE_LIMIT_WINDOW),
                    per_operation: HashMap::new(),
                },
                buckets: BTreeMap::new(),
                admitted: 0,
                rejected: 0,
            }),
        }
    }
}

fn window_ms(window: Duration) -> u64 {
    u64::try_from(window.as_millis())
        .unwrap_or(u64::MAX)
        .max(1000)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// What one request got from its bucket.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    limit: u64,
    remaining: u64,
    reset_secs: u64,
    retry_after_secs: Option<u64>,
}

impl RateLimits {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets (or removes) the limit of every bucket and the common window. Counts of the current
    /// windows start over; totals are kept.
    pub(crate) fn set_window(&self, limit_window: Option<(u64, Duration)>) {
        let mut inner = self.lock();
        match limit_window {
            Some((limit, window)) => {
                inner.settings.default_limit = Some(limit);
                inner.settings.window_ms = window_ms(window);
            }
            None => inner.settings.default_limit = None,
        }
        for c in inner.buckets.values_mut() {
            c.current = (0, 0);
        }
    }

    /// Gives `operation_id` a bucket and limit of its own (`None`: back to its usual bucket).
    pub(crate) fn set_operation(&self, operation_id: &str, limit: Option<u64>) {
        let mut inner = self.lock();
        match limit {
            Some(l) => inner
                .settings
                .per_operation
                .insert(operation_id.to_string(), l),
            None => inner.settings.per_operation.remove(operation_id),
        };
        let key = BucketKey::Operation(operation_id.to_string());
        for ((_, k), c) in inner.buckets.iter_mut() {
            if *k == key {
                c.current = (0, 0);
            }
        }
    }

    /// Counts one request of `op` (`None`: a seeded path the document does not have, which draws from
    /// the shared bucket) by `principal`; `None` when its bucket is not limited.
    pub(crate) fn admit(
        &self,
        principal: &str,
        op: Option<&Operation>,
        path_params: &[(String, String)],
    ) -> Option<Verdict> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let own = op.and_then(|op| inner.settings.per_operation.get(&op.id).copied());
        let limit = own.or(inner.settings.default_limit)?;
        let key = BucketKey::for_operation(op, path_params, own.is_some());
        let window = inner.settings.window_ms;
        let now = now_ms();
        let index = now / window;
        let counters = inner
            .buckets
            .entry((principal.to_string(), key))
            .or_default();
        if counters.current.0 != index {
            counters.current = (index, 0);
        }
        let end_ms = index.saturating_add(1).saturating_mul(window);
        let reset_secs = end_ms.div_ceil(1000);
        if counters.current.1 >= limit {
            counters.rejected += 1;
            inner.rejected += 1;
            return Some(Verdict {
                limit,
                remaining: 0,
                reset_secs,
                retry_after_secs: Some(end_ms.saturating_sub(now).div_ceil(1000).max(1)),
            });
        }
        counters.current.1 += 1;
        counters.admitted += 1;
        inner.admitted += 1;
        Some(Verdict {
            limit,
            remaining: limit - counters.current.1,
            reset_secs,
            retry_after_secs: None,
        })
    }

    /// Back to the configuration a fake started with: these limits, no bucket, no count.
    pub(crate) fn reset(
        &self,
        limit_window: Option<(u64, Duration)>,
        per_operation: &[(String, u64)],
    ) {
        let mut inner = self.lock();
        inner.settings = Settings {
            default_limit: limit_window.map(|(l, _)| l),
            window_ms: window_ms(limit_window.map_or(DEFAULT_RATE_LIMIT_WINDOW, |(_, w)| w)),
            per_operation: per_operation.iter().cloned().collect(),
        };
        inner.buckets.clear();
        inner.admitted = 0;
        inner.rejected = 0;
    }

    pub(crate) fn rejected(&self) -> u64 {
        self.lock().rejected
    }

    pub(crate) fn admitted(&self) -> u64 {
        self.lock().admitted
    }

    /// Every bucket that counted a request, shared bucket first, then creators, then operations.
    pub(crate) fn buckets(&self) -> Vec<RateLimitBucket> {
        let inner = self.lock();
        let window = inner.settings.window_ms;
        let index = now_ms() / window;
        inner
            .buckets
            .iter()
            .map(|((principal, key), c)| {
                let limit = match key {
                    BucketKey::Operation(id) => inner.settings.per_operation.get(id).copied(),
                    _ => None,
                }
                .or(inner.settings.default_limit)
                .unwrap_or(0);
                let used = if c.current.0 == index { c.current.1 } else { 0 };
                RateLimitBucket {
                    principal: principal.clone(),
                    key: key.clone(),
                    limit,
                    window: Duration::from_millis(window),
                    remaining: limit.saturating_sub(used),
                    reset: index
                        .saturating_add(1)
                        .saturating_mul(window)
                        .div_ceil(1000),
                    admitted: c.admitted,
                    rejected: c.rejected,
                }
            })
            .collect()
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
