//! Client-side rate limiting from the API's `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` headers, one window per
//! bucket the way Fanvue keys its limits.
//!
//! Every response's headers update a [`RateLimiter`] shared by all clones of
//! a [`Fanvue`](crate::Fanvue) (one per credential: each client built with
//! its own token has its own; give one limiter to several clients with
//! [`FanvueBuilder::rate_limiter`](crate::FanvueBuilder::rate_limiter)).
//! Before each request is sent, the limiter takes one request of its bucket's
//! current window; when that window is exhausted, the request waits until the
//! window resets ([`RateLimitMode::Wait`], the default) or fails at once with
//! [`Error::RateLimitedLocally`](crate::Error::RateLimitedLocally)
//! ([`RateLimitMode::FailFast`]). A 429 still works as before (retried after
//! `Retry-After` under the retry policy), and also empties the window.
//!
//! # Buckets
//!
//! Fanvue counts requests per bucket ([`Bucket`]): every operation under
//! `/creators/{creatorUserUuid}/` draws from a bucket of that creator's, every
//! other operation from one bucket shared by the principal, and an operation
//! whose `X-RateLimit-Limit` differs from the rest of its bucket has a bucket
//! of its own. The limiter keeps one window per bucket. The bucket of a
//! request comes from its operation's generated metadata
//! ([`OperationMeta::creator_segment`](fanvue_api::executor::OperationMeta::creator_segment))
//! and the `creatorUserUuid` it was given; operations with limits of their own
//! are learned from the responses (an operation whose limit differs from the
//! one most operations of its bucket report). Retries, pagination and upload
//! part URLs are requests of their operation and draw from its bucket.
//!
//! # How it decides (per bucket)
//!
//! - Nothing known yet (no response seen): one request at a time goes out
//!   (a probe) until a response tells the limit; a successful response without
//!   the headers turns the bucket's limiting off until one has them.
//! - In a window: the remaining count is the lower of the server's last
//!   `X-RateLimit-Remaining` and this client's own count of requests sent
//!   since (so concurrent requests cannot overshoot it).
//! - At `X-RateLimit-Reset` the window is assumed full again (`limit` minus
//!   the requests still in flight), until the next response tells better.
//! - Exhausted with no known end (the headers stopped coming: a gateway
//!   answering errors without them, transport errors) and nothing in flight:
//!   one probe goes out. Answers without headers and transport errors neither
//!   refill the window nor hold it.
//! - Waits read from headers are capped by [`RateLimiter::max_wait`]
//!   (default [`DEFAULT_MAX_WAIT`]): a request that would wait longer fails
//!   at once with [`Error::RateLimited`](crate::Error::RateLimited) naming the
//!   wait, and after `max_wait` one probe goes out to ask again. The answer to
//!   a request sent after a reset was learned replaces it (a later response
//!   can shorten a wait). Resets further than a day ahead are read as a day,
//!   and the server clock's offset (from `Date`) is trusted up to an hour.
//!
//! Waiting requests of a bucket are served in arrival order (FIFO: a tokio
//! mutex per bucket is the queue), and wait on a timer or a notification,
//! never by polling. Dropping a waiting request (a timeout, `select!`)
//! leaves the queue intact and takes nothing from the window.
//!
//! With the `redis` feature, [`RateLimiter::shared`] keeps every bucket's
//! window in Redis under a key of its own, so N processes together stay under
//! every bucket. No lock is held across a Redis round trip; a round trip that
//! takes longer than 250 ms (or fails) hands the request to this process's
//! own view of the window, which decides alone for a second before Redis is
//! asked again.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fanvue_api::executor::OperationMeta;
use tokio::time::Instant;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The longest wait read from a header that a request takes by default
/// ([`RateLimiter::max_wait`]).
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(120);

/// The furthest reset trusted: later ones are read as this far ahead.
const MAX_RESET_AHEAD: u64 = 24 * 3600;

/// The largest server clock offset (seconds) trusted from a `Date` header.
const MAX_SKEW: i64 = 3600;

/// Clock offsets (seconds) too small to correct for.
const SKEW_IGNORED: u64 = 2;

/// What a request does when the window is exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RateLimitMode {
    /// Wait until the window resets (default).
    #[default]
    Wait,
    /// Fail at once with [`Error::RateLimitedLocally`](crate::Error::RateLimitedLocally).
    FailFast,
    /// No client-side limiting (only 429s and the retry policy).
    Off,
}

/// A rate-limit bucket: the requests Fanvue counts together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Bucket {
    /// The principal's bucket, shared by every operation that is not
    /// creator-scoped (`/users/me`, `/chats/...`, `/agencies/...`, ...).
    Shared,
    /// The bucket of one creator (`creatorUserUuid`, as given to the
    /// operations under `/creators/{creatorUserUuid}/`).
    Creator(String),
    /// An operation with a limit of its own (learned from its
    /// `X-RateLimit-Limit`), within the creator's bucket (`creator`) or the
    /// shared one (`None`).
    Operation {
        /// The operation's `operationId`.
        operation_id: &'static str,
        /// The creator, for a creator-scoped operation.
        creator: Option<String>,
    },
}

impl Bucket {
    fn new(creator: Option<&str>, dedicated: Option<&'static str>) -> Self {
        match (dedicated, creator) {
            (Some(operation_id), creator) => Bucket::Operation {
                operation_id,
                creator: creator.map(str::to_owned),
            },
            (None, Some(creator)) => Bucket::Creator(creator.to_owned()),
            (None, None) => Bucket::Shared,
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bucket::Shared => f.write_str("shared"),
            Bucket::Creator(creator) => write!(f, "creator:{creator}"),
            Bucket::Operation {
                operation_id,
                creator: None,
            } => write!(f, "operation:{operation_id}"),
            Bucket::Operation {
                operation_id,
                creator: Some(creator),
            } => write!(f, "creator:{creator}:operation:{operation_id}"),
        }
    }
}

/// One bucket's rate-limit window as the limiter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimitState {
    /// `X-RateLimit-Limit`: requests per window.
    pub limit: Option<u64>,
    /// Requests this client may still send in the current window.
    pub remaining: Option<u64>,
    /// When the current window ends, Unix seconds (`X-RateLimit-Reset`).
    pub reset: Option<u64>,
}

/// Why the limiter did not let a request go.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// The window is exhausted and the mode is [`RateLimitMode::FailFast`].
    Exhausted {
        retry_after: Duration,
        limit: Option<u64>,
        reset: Option<u64>,
    },
    /// The wait the headers ask for is longer than [`RateLimiter::max_wait`].
    TooLong {
        wait: Duration,
        limit: Option<u64>,
        reset: Option<u64>,
        /// The status and headers of the response that set the wait.
        cause: Option<(StatusCode, HeaderMap)>,
    },
}

/// A client-side rate limiter; see the [module docs](self). Cheap to clone
/// (clones share the windows).
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    mode: RateLimitMode,
    /// [`RateLimiter::max_wait`], in milliseconds.
    max_wait_ms: AtomicU64,
    buckets: Mutex<Buckets>,
    /// Woken by every response that updates a window, and by every answer.
    changed: tokio::sync::Notify,
    /// How far the server's clock is ahead of this machine's (seconds, negative when behind), from
    /// the last response's `Date` header. Reset times are the server's clock: they become local
    /// instants through this, so a local clock that is off neither stretches nor cancels a wait.
    skew: AtomicI64,
    #[cfg(feature = "redis")]
    shared: Option<RedisWindow>,
}

#[derive(Default)]
struct Buckets {
    windows: HashMap<Bucket, Window>,
    /// Per scope (a creator, or `None` for the shared bucket): the last
    /// `X-RateLimit-Limit` each operation reported.
    limits: HashMap<Option<String>, HashMap<&'static str, u64>>,
}

impl Buckets {
    /// The limit most operations of `scope` report (ties: the scope window's current limit, then
    /// the lowest).
    fn usual_limit(&self, scope: &Option<String>) -> Option<u64> {
        let limits = self.limits.get(scope)?;
        let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
        for limit in limits.values() {
            let count = counts.entry(*limit).or_default();
            *count = count.saturating_add(1);
        }
        let most = counts.values().copied().max()?;
        let current = self
            .windows
            .get(&Bucket::new(scope.as_deref(), None))
            .and_then(|w| w.limit);
        if let Some(current) = current
            && counts.get(&current) == Some(&most)
        {
            return Some(current);
        }
        counts
            .iter()
            .find(|(_, count)| **count == most)
            .map(|(limit, _)| *limit)
    }

    /// The bucket of `operation` in `scope`: its own when its last limit differs from the usual.
    fn bucket_of(&self, scope: &Option<String>, operation: &'static str) -> Bucket {
        let own = self
            .limits
            .get(scope)
            .and_then(|limits| limits.get(operation))
            .copied();
        let dedicated = match (own, self.usual_limit(scope)) {
            (Some(own), Some(usual)) if own != usual => Some(operation),
            _ => None,
        };
        Bucket::new(scope.as_deref(), dedicated)
    }

    fn window(&mut self, bucket: &Bucket) -> &mut Window {
        self.windows.entry(bucket.clone()).or_default()
    }
}

#[derive(Default)]
struct Window {
    limit: Option<u64>,
    remaining: Option<u64>,
    /// The end of the current window: Unix seconds and the matching instant.
    reset: Option<(u64, Instant)>,
    /// A reset further than `max_wait` ahead: when one probe may ask again.
    recheck: Option<Instant>,
    /// The status and headers of the response that set a reset beyond `max_wait`.
    cause: Option<(StatusCode, HeaderMap)>,
    /// The reset of the window that ended last (responses from it are stale).
    previous_reset: u64,
    /// Bumped whenever the reset changes: a request sent at or after the current epoch was sent
    /// knowing the current reset, so its answer may replace it.
    epoch: u64,
    /// Requests sent and not answered yet.
    in_flight: u64,
    /// A probe is out.
    probing: bool,
    /// Responses carry no rate-limit headers: nothing to limit.
    headerless: bool,
    /// The FIFO queue of requests waiting for this window.
    queue: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("mode", &self.inner.mode)
            .field("max_wait", &self.max_wait())
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(RateLimitMode::default())
    }
}

/// What a window allows now.
enum Decision {
    Go {
        probe: bool,
        epoch: u64,
    },
    /// Wait until this instant (or a change).
    Wait(Instant),
    /// Wait for an answer (a probe's, or one in flight).
    WaitForAnswer,
    /// Wait for another process's answer, until this instant at the latest.
    #[cfg(feature = "redis")]
    WaitForAnswerUntil(Instant),
    /// The wait is longer than `max_wait`.
    TooLong(Refusal),
    /// Nothing to limit.
    Unlimited,
}

impl RateLimiter {
    /// A limiter of its own, in `mode`.
    pub fn new(mode: RateLimitMode) -> Self {
        Self::with_parts(
            mode,
            #[cfg(feature = "redis")]
            None,
        )
    }

    fn with_parts(
        mode: RateLimitMode,
        #[cfg(feature = "redis")] shared: Option<RedisWindow>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                mode,
                max_wait_ms: AtomicU64::new(millis(DEFAULT_MAX_WAIT)),
                buckets: Mutex::new(Buckets::default()),
                changed: tokio::sync::Notify::new(),
                skew: AtomicI64::new(0),
                #[cfg(feature = "redis")]
                shared,
            }),
        }
    }

    /// A limiter whose windows live in Redis under keys starting with `key`
    /// (one key per credential, one Redis key per bucket under it), shared by
    /// every process that uses the same key: together they stay under every
    /// bucket's limit. The window is read and taken from in one Lua script
    /// per request, with no lock held across the round trip. When Redis is
    /// slow (over 250 ms) or cannot be reached, the limiter uses this
    /// process's own view of the window, and asks Redis again a second later.
    ///
    /// # Errors
    ///
    /// [`TokenStoreError::Unavailable`](crate::auth::TokenStoreError::Unavailable)
    /// when `url` is not a Redis URL.
    #[cfg(feature = "redis")]
    pub fn shared(
        mode: RateLimitMode,
        url: &str,
        key: &str,
    ) -> Result<Self, crate::auth::TokenStoreError> {
        Ok(Self::with_parts(mode, Some(RedisWindow::open(url, key)?)))
    }

    /// Sets the longest wait read from a header that a request takes
    /// (default [`DEFAULT_MAX_WAIT`]); a request that would wait longer fails
    /// at once with [`Error::RateLimited`](crate::Error::RateLimited) naming
    /// the wait. Applies to every clone of this limiter.
    pub fn set_max_wait(&self, max_wait: Duration) {
        self.inner
            .max_wait_ms
            .store(millis(max_wait), Ordering::Relaxed);
    }

    /// The longest wait read from a header that a request takes.
    pub fn max_wait(&self) -> Duration {
        Duration::from_millis(self.inner.max_wait_ms.load(Ordering::Relaxed))
    }

    /// The mode.
    pub fn mode(&self) -> RateLimitMode {
        self.inner.mode
    }

    /// Every bucket's window as this limiter sees it now (buckets appear with
    /// their first request).
    pub fn state(&self) -> BTreeMap<Bucket, RateLimitState> {
        self.buckets()
            .windows
            .iter()
            .map(|(bucket, window)| {
                (
                    bucket.clone(),
                    RateLimitState {
                        limit: window.limit,
                        remaining: window.remaining,
                        reset: window.reset.map(|(secs, _)| secs),
                    },
                )
            })
            .collect()
    }

    fn buckets(&self) -> MutexGuard<'_, Buckets> {
        self.inner.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one request of the window of `operation`'s bucket (`creator`: the
    /// `creatorUserUuid` a creator-scoped operation was given), waiting (FIFO
    /// per bucket) while it is exhausted.
    pub(crate) async fn acquire(
        &self,
        operation: &'static OperationMeta,
        creator: Option<&str>,
    ) -> Result<Permit, Refusal> {
        if self.inner.mode == RateLimitMode::Off {
            return Ok(Permit::none());
        }
        let scope = creator.map(str::to_owned);
        let (bucket, queue) = {
            let mut buckets = self.buckets();
            let bucket = buckets.bucket_of(&scope, operation.operation_id);
            let queue = Arc::clone(&buckets.window(&bucket).queue);
            (bucket, queue)
        };
        // The local queue is FIFO; with Redis, requests are not queued here (no lock may be held
        // across a round trip).
        #[cfg(feature = "redis")]
        let queued = self.inner.shared.is_none();
        #[cfg(not(feature = "redis"))]
        let queued = true;
        let _turn = if queued {
            Some(queue.lock().await)
        } else {
            None
        };
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let decision = self.decide(&bucket).await;
            match decision {
                Decision::Unlimited => return Ok(Permit::none()),
                Decision::Go { probe, epoch } => {
                    return Ok(Permit {
                        limiter: Some(self.clone()),
                        bucket,
                        scope,
                        operation: operation.operation_id,
                        probe,
                        epoch,
                    });
                }
                Decision::TooLong(refusal) => return Err(refusal),
                // (a probe's answer comes soon: even in fail-fast mode, it is waited for)
                Decision::WaitForAnswer => changed.await,
                #[cfg(feature = "redis")]
                Decision::WaitForAnswerUntil(at) => {
                    tokio::select! {
                        () = changed => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                Decision::Wait(at) => {
                    if self.inner.mode == RateLimitMode::FailFast {
                        let state = self.bucket_state(&bucket);
                        return Err(Refusal::Exhausted {
                            retry_after: at.saturating_duration_since(Instant::now()),
                            limit: state.limit,
                            reset: state.reset,
                        });
                    }
                    tokio::select! {
                        () = changed => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
            }
        }
    }

    fn bucket_state(&self, bucket: &Bucket) -> RateLimitState {
        self.state().remove(bucket).unwrap_or_default()
    }

    async fn decide(&self, bucket: &Bucket) -> Decision {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.inner.shared {
            // (a server that sends no rate-limit headers: nothing to share)
            let headerless = self.buckets().window(bucket).headerless;
            if !headerless && shared.available() {
                let max_wait = self.max_wait();
                match shared.take(bucket, self.skew()).await {
                    Ok(Some(Taken::Go)) => {
                        let mut buckets = self.buckets();
                        let window = buckets.window(bucket);
                        window.in_flight = window.in_flight.saturating_add(1);
                        return Decision::Go {
                            probe: false,
                            epoch: window.epoch,
                        };
                    }
                    // beyond the cap, the local view decides (it probes after `max_wait`)
                    Ok(Some(Taken::Wait(wait))) if wait <= max_wait => {
                        return Decision::Wait(later(wait));
                    }
                    // (an answer this version does not know)
                    Ok(None) => {
                        let mut buckets = self.buckets();
                        return buckets.window(bucket).probe();
                    }
                    Ok(Some(Taken::WaitForAnswer(wait))) => {
                        return Decision::WaitForAnswerUntil(later(wait));
                    }
                    Ok(Some(Taken::Wait(_))) => {}
                    Err(error) => {
                        tracing::debug!(%error, "shared rate-limit window unavailable: using the local view");
                    }
                }
            }
        }
        self.decide_locally(bucket)
    }

    fn decide_locally(&self, bucket: &Bucket) -> Decision {
        let max_wait = self.max_wait();
        let mut buckets = self.buckets();
        let window = buckets.window(bucket);
        let now = Instant::now();
        if let Some((secs, at)) = window.reset
            && now >= at
        {
            // the window ended: assume it is full again until a response tells better
            window.previous_reset = secs;
            window.reset = None;
            window.recheck = None;
            window.cause = None;
            window.epoch = window.epoch.wrapping_add(1);
            window.remaining = window
                .limit
                .map(|limit| limit.saturating_sub(window.in_flight));
        }
        if window.headerless {
            return Decision::Unlimited;
        }
        match window.remaining {
            Some(n) if n > 0 => {
                window.remaining = Some(n.saturating_sub(1));
                window.in_flight = window.in_flight.saturating_add(1);
                Decision::Go {
                    probe: false,
                    epoch: window.epoch,
                }
            }
            None => window.probe(),
            // Exhausted with no known end: the answers in flight may bring one; with none in
            // flight, nothing would, so one probe asks.
            Some(_) if window.reset.is_none() => {
                if window.in_flight == 0 && !window.probing {
                    window.probe()
                } else {
                    Decision::WaitForAnswer
                }
            }
            Some(_) => {
                let (secs, at) = window.reset.unwrap_or((0, now));
                if let Some(recheck) = window.recheck
                    && now >= recheck
                {
                    // a wait beyond the cap: after `max_wait`, one request asks again
                    return if window.probing {
                        Decision::WaitForAnswer
                    } else {
                        window.probe()
                    };
                }
                let wait = at.saturating_duration_since(now);
                if wait > max_wait {
                    Decision::TooLong(Refusal::TooLong {
                        wait,
                        limit: window.limit,
                        reset: Some(secs),
                        cause: window.cause.clone(),
                    })
                } else {
                    Decision::Wait(at)
                }
            }
        }
    }

    /// Updates the window of `permit`'s operation from a response's headers.
    fn observe(&self, permit: &Permit, status: StatusCode, headers: &HeaderMap) {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let limit = header("x-ratelimit-limit");
        let remaining = header("x-ratelimit-remaining");
        let skew = self.observe_skew(headers);
        let server_now = server_now_secs(skew);
        let latest = server_now.saturating_add(MAX_RESET_AHEAD);
        let reset = header("x-ratelimit-reset").map(|reset| {
            // Unix seconds are > 10^9 since 2001; anything smaller is a delta.
            if reset < 1_000_000_000 {
                server_now.saturating_add(reset)
            } else {
                reset
            }
        });
        let rate_limited = status == StatusCode::TOO_MANY_REQUESTS;
        let (remaining, reset) = if rate_limited {
            // A 429 empties the window until it resets: at `X-RateLimit-Reset`,
            // else after `Retry-After`, else for one second. The window always
            // gets an end, so no request can wait on it forever.
            let reset = reset.unwrap_or_else(|| {
                let delay = crate::retry::retry_after(headers, SystemTime::now())
                    .unwrap_or(Duration::from_secs(1));
                server_now.saturating_add(delay.as_secs().clamp(1, MAX_RESET_AHEAD))
            });
            (Some(0), Some(reset))
        } else {
            (remaining, reset)
        };
        let reset = reset.map(|secs| secs.min(latest));
        let max_wait = self.max_wait();
        #[cfg(feature = "redis")]
        let mut to_share = None;
        {
            let mut buckets = self.buckets();
            if let Some(limit) = limit {
                buckets
                    .limits
                    .entry(permit.scope.clone())
                    .or_default()
                    .insert(permit.operation, limit);
                // The scope's window follows the usual limit: when the operation that set it turns
                // out to have a limit of its own, the window starts over.
                let scope_bucket = Bucket::new(permit.scope.as_deref(), None);
                let usual = buckets.usual_limit(&permit.scope);
                let window = buckets.window(&scope_bucket);
                if window.limit.is_some() && window.limit != usual {
                    window.limit = usual;
                    window.remaining = None;
                    window.reset = None;
                    window.recheck = None;
                    window.epoch = window.epoch.wrapping_add(1);
                }
            }
            let bucket = buckets.bucket_of(&permit.scope, permit.operation);
            if bucket != permit.bucket && limit.is_some() {
                // The request was counted in the wrong bucket (its operation's own limit was not
                // known yet): the server did not count it there.
                let taken_from = buckets.window(&permit.bucket);
                if taken_from.epoch == permit.epoch
                    && let (Some(remaining), Some(limit)) = (taken_from.remaining, taken_from.limit)
                {
                    taken_from.remaining = Some(remaining.saturating_add(1).min(limit));
                }
            }
            let window = buckets.window(&bucket);
            if limit.is_none() && remaining.is_none() && reset.is_none() {
                // No headers: a success (or a client error) of a server that sends none turns the
                // limiting off; a gateway's error says nothing about the window.
                if window.limit.is_none() && status.as_u16() < 500 {
                    window.headerless = true;
                }
            } else {
                window.headerless = false;
                let authoritative = bucket != permit.bucket || permit.epoch >= window.epoch;
                // Redis gets an answer's reset in place of a later one only when it ends a wait
                // beyond the cap (the shared window's epochs are not this process's).
                #[cfg(feature = "redis")]
                let shortens = authoritative && window.recheck.is_some();
                let reset = reset.map(|secs| (secs, instant_of(secs, skew)));
                let cause = (status, headers.clone());
                window.apply(limit, remaining, reset, authoritative, max_wait, cause);
                #[cfg(feature = "redis")]
                if let (Some(limit), Some(remaining), Some((reset, _))) =
                    (window.limit, remaining, reset)
                {
                    to_share = Some((bucket, limit, remaining, reset, shortens));
                }
            }
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.inner.shared
            && let Some((bucket, limit, remaining, reset, authoritative)) = to_share
        {
            shared.observe(&bucket, limit, remaining, reset, authoritative);
        }
        self.inner.changed.notify_waiters();
    }

    /// The server's clock offset, updated from `headers`' `Date` when it has one. Offsets within
    /// [`SKEW_IGNORED`] count as none: `Date` has whole seconds and was written before the response
    /// travelled, so small offsets are noise, and reading them would only make waits longer.
    /// Offsets beyond [`MAX_SKEW`] are read as `MAX_SKEW`.
    fn observe_skew(&self, headers: &HeaderMap) -> i64 {
        if let Some(date) = crate::retry::response_date(headers) {
            let local = SystemTime::now();
            let skew = match date.duration_since(local) {
                Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
                Err(behind) => 0i64
                    .saturating_sub(i64::try_from(behind.duration().as_secs()).unwrap_or(i64::MAX)),
            };
            let skew = if skew.unsigned_abs() <= SKEW_IGNORED {
                0
            } else {
                skew.clamp(-MAX_SKEW, MAX_SKEW)
            };
            self.inner.skew.store(skew, Ordering::Relaxed);
        }
        self.skew()
    }

    fn skew(&self) -> i64 {
        self.inner.skew.load(Ordering::Relaxed)
    }

    fn finished(&self, bucket: &Bucket, probe: bool) {
        {
            let mut buckets = self.buckets();
            let window = buckets.window(bucket);
            window.in_flight = window.in_flight.saturating_sub(1);
            if probe {
                window.probing = false;
            }
        }
        // (a window exhausted with no known end waits for its answers)
        self.inner.changed.notify_waiters();
    }
}

impl Window {
    fn probe(&mut self) -> Decision {
        if self.probing {
            return Decision::WaitForAnswer;
        }
        self.probing = true;
        self.in_flight = self.in_flight.saturating_add(1);
        Decision::Go {
            probe: true,
            epoch: self.epoch,
        }
    }

    fn set_reset(
        &mut self,
        reset: (u64, Instant),
        max_wait: Duration,
        cause: (StatusCode, HeaderMap),
    ) {
        let now = Instant::now();
        self.reset = Some(reset);
        self.epoch = self.epoch.wrapping_add(1);
        if reset.1.saturating_duration_since(now) > max_wait {
            self.recheck = Some(later(max_wait));
            self.cause = Some(cause);
        } else {
            self.recheck = None;
            self.cause = None;
        }
    }

    /// `reset`: the window's end in the server's Unix seconds and as a local instant;
    /// `authoritative`: the request was sent knowing the current reset (its answer may replace it).
    fn apply(
        &mut self,
        limit: Option<u64>,
        remaining: Option<u64>,
        reset: Option<(u64, Instant)>,
        authoritative: bool,
        max_wait: Duration,
        cause: (StatusCode, HeaderMap),
    ) {
        if let Some(limit) = limit {
            self.limit = Some(limit);
        }
        let lower = |current: Option<u64>| match remaining {
            Some(remaining) => Some(current.map_or(remaining, |r| r.min(remaining))),
            None => current,
        };
        let Some((secs, at)) = reset else {
            self.remaining = lower(self.remaining);
            return;
        };
        if secs <= self.previous_reset {
            return; // a response of a window that already ended
        }
        match self.reset {
            Some((current, _)) if secs == current => self.remaining = lower(self.remaining),
            Some((current, _)) if secs < current && !authoritative => {} // stale
            Some((current, _)) if secs < current => {
                // a later answer shortens the wait
                self.set_reset((secs, at), max_wait, cause);
                self.remaining = remaining.or(self.limit);
            }
            None if self.remaining.is_some() => {
                // the window this client rolled into: its count so far stands
                self.set_reset((secs, at), max_wait, cause);
                self.remaining = lower(self.remaining);
            }
            _ => {
                // a new window
                self.set_reset((secs, at), max_wait, cause);
                self.remaining = remaining.or(self.limit);
            }
        }
    }
}

/// `wait` from now (now, if that instant cannot be represented).
fn later(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait).unwrap_or(now)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn unix_now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The server's current Unix second, given its clock offset.
fn server_now_secs(skew: i64) -> u64 {
    unix_now_secs().saturating_add_signed(skew)
}

/// The local instant of the server's Unix second `secs` (now, if it has passed): the moment this
/// machine's clock reads `secs - skew`.
fn instant_of(secs: u64, skew: i64) -> Instant {
    let server_target = UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .unwrap_or(UNIX_EPOCH);
    let offset = Duration::from_secs(skew.unsigned_abs());
    let local_target = if skew >= 0 {
        server_target.checked_sub(offset)
    } else {
        server_target.checked_add(offset)
    }
    .unwrap_or(server_target);
    let until = local_target
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let now = Instant::now();
    now.checked_add(until).unwrap_or(now)
}

/// One request taken from a bucket's window; dropping it marks the request answered.
#[derive(Debug)]
pub(crate) struct Permit {
    limiter: Option<RateLimiter>,
    bucket: Bucket,
    scope: Option<String>,
    operation: &'static str,
    probe: bool,
    /// The window's epoch when the request was let go.
    epoch: u64,
}

impl Permit {
    fn none() -> Self {
        Self {
            limiter: None,
            bucket: Bucket::Shared,
            scope: None,
            operation: "",
            probe: false,
            epoch: 0,
        }
    }

    /// Updates the window of this request's operation from its response's headers.
    pub(crate) fn observe(&self, status: StatusCode, headers: &HeaderMap) {
        if let Some(limiter) = &self.limiter {
            limiter.observe(self, status, headers);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(limiter) = self.limiter.take() {
            limiter.finished(&self.bucket, self.probe);
        }
    }
}

#[cfg(feature = "redis")]
enum Taken {
    Go,
    /// Wait this long (the window's end).
    Wait(Duration),
    /// Wait this long for another process's probe or answers.
    WaitForAnswer(Duration),
}

/// Every bucket's window in Redis: a hash `{key}:ratelimit:<bucket>` with the
/// limit, the current window's reset (Unix seconds), the reset of the window
/// before, the requests remaining and the fleet's next probe, updated by Lua
/// scripts (one round trip per request).
#[cfg(feature = "redis")]
#[derive(Clone)]
struct RedisWindow {
    connection: redis::aio::ConnectionManager,
    key: Arc<str>,
    /// Until when Redis is not asked (it failed or was slow).
    down_until: Arc<Mutex<Option<Instant>>>,
    /// `TAKE` tasks not finished yet (with their `GIVE`, when the caller was gone).
    takes_running: Arc<std::sync::atomic::AtomicUsize>,
}

/// How long a request waits for Redis before the local view decides.
#[cfg(feature = "redis")]
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);

/// How long the local view decides alone after Redis failed or was slow.
#[cfg(feature = "redis")]
const SHARED_BACKOFF: Duration = Duration::from_secs(1);

/// Takes one request: `{1, reset}` go (`reset`: the window's, for giving it
/// back; -1 for a probe), `{0, ms}` wait `ms` (the window's end), `{2, ms}`
/// wait `ms` for another process's probe or answers. While the window is unknown
/// (no answer seen by any process), one request of the fleet probes per
/// second. An exhausted window with no known end lets one request of the fleet probe
/// per second, from 2 s after the window rolled over (until then, the answers
/// of its requests are expected to bring the new reset). ARGV: now (Unix ms, the server's clock).
#[cfg(feature = "redis")]
const TAKE: &str = r"
local now = tonumber(ARGV[1])
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or '')
if not limit then
  -- nothing known yet: one probe of the fleet per second until an answer tells the limit
  local probe = tonumber(redis.call('HGET', KEYS[1], 'probe') or '0')
  if now >= probe then
    redis.call('HSET', KEYS[1], 'probe', now + 1000)
    redis.call('PEXPIRE', KEYS[1], 86400000)
    return {1, -1}
  end
  return {2, math.min(probe - now, 250)}
end
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset') or '0')
local remaining = tonumber(redis.call('HGET', KEYS[1], 'remaining') or '0')
if reset > 0 and now >= reset * 1000 then
  -- the window ended: full again; its answers bring the new reset (no probe for 2 s)
  redis.call('HSET', KEYS[1], 'previous', reset, 'reset', 0, 'remaining', limit, 'probe', now + 2000)
  remaining = limit
  reset = 0
end
if remaining > 0 then
  redis.call('HSET', KEYS[1], 'remaining', remaining - 1)
  return {1, reset}
end
if reset == 0 then
  local probe = tonumber(redis.call('HGET', KEYS[1], 'probe') or '0')
  if now >= probe then
    redis.call('HSET', KEYS[1], 'probe', now + 1000)
    return {1, -1}
  end
  return {2, math.min(probe - now, 250)}
end
return {0, reset * 1000 - now}
";

/// Gives back a request taken by a `TAKE` whose caller was gone, if its window
/// is still the current one. ARGV: the window's reset as `TAKE` returned it.
#[cfg(feature = "redis")]
const GIVE: &str = r"
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset') or '0')
if reset ~= tonumber(ARGV[1]) then return 0 end
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or '0')
local remaining = tonumber(redis.call('HGET', KEYS[1], 'remaining') or '0')
if remaining < limit then redis.call('HSET', KEYS[1], 'remaining', remaining + 1) end
return 1
";

/// Applies a response's headers. ARGV: limit, remaining, reset (Unix seconds),
/// 1 when the request was sent knowing the current reset (its reset replaces
/// a later one).
#[cfg(feature = "redis")]
const OBSERVE: &str = r"
local limit = tonumber(ARGV[1])
local remaining = tonumber(ARGV[2])
local reset = tonumber(ARGV[3])
local authoritative = ARGV[4] == '1'
local previous = tonumber(redis.call('HGET', KEYS[1], 'previous') or '0')
if reset <= previous then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'reset') or '-1')
local stored = tonumber(redis.call('HGET', KEYS[1], 'remaining') or '')
redis.call('HSET', KEYS[1], 'limit', limit)
if current > 0 and reset < current and not authoritative then return 0 end
if current == reset or (current == 0 and stored) then
  if stored and stored < remaining then remaining = stored end
end
redis.call('HSET', KEYS[1], 'reset', reset, 'remaining', remaining, 'probe', 0)
redis.call('PEXPIRE', KEYS[1], 86400000)
return 1
";

/// Redis failed or did not answer in time.
#[cfg(feature = "redis")]
#[derive(Debug, thiserror::Error)]
enum SharedError {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("no answer within {} ms", SHARED_TIMEOUT.as_millis())]
    Slow,
}

#[cfg(feature = "redis")]
impl RedisWindow {
    fn open(url: &str, key: &str) -> Result<Self, crate::auth::TokenStoreError> {
        let unavailable =
            |e: redis::RedisError| crate::auth::TokenStoreError::Unavailable(Box::new(e));
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let connection = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(unavailable)?;
        Ok(Self {
            connection,
            key: Arc::from(format!("{{{key}}}:ratelimit")),
            down_until: Arc::new(Mutex::new(None)),
            takes_running: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        })
    }

    fn key_of(&self, bucket: &Bucket) -> String {
        format!("{}:{bucket}", self.key)
    }

    /// Whether Redis is asked now (not within [`SHARED_BACKOFF`] of a failure).
    fn available(&self) -> bool {
        let down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        down.is_none_or(|until| Instant::now() >= until)
    }

    fn set_down(&self, down: bool) {
        let mut until = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        *until = down.then(|| later(SHARED_BACKOFF));
    }

    /// Takes one request of `bucket`'s window; `skew` is the server's clock offset (the window's
    /// times are the server's). The script runs in a task of its own: when this call is dropped
    /// or gives up ([`SHARED_TIMEOUT`]) and the script took a request, the task gives it back.
    async fn take(&self, bucket: &Bucket, skew: i64) -> Result<Option<Taken>, SharedError> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(millis)
            .unwrap_or(0)
            .saturating_add_signed(skew.saturating_mul(1000));
        let key = self.key_of(bucket);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let this = self.clone();
        self.takes_running.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let mut connection = this.connection.clone();
            let answer: Result<Vec<i64>, redis::RedisError> = redis::Script::new(TAKE)
                .key(&key)
                .arg(now_ms)
                .invoke_async(&mut connection)
                .await;
            if let Err(Ok(answer)) = tx.send(answer)
                && let [1, reset, ..] = answer.as_slice()
                && *reset >= 0
            {
                let given: Result<i64, _> = redis::Script::new(GIVE)
                    .key(&key)
                    .arg(*reset)
                    .invoke_async(&mut connection)
                    .await;
                if let Err(error) = given {
                    tracing::debug!(%error, "shared rate-limit slot not given back");
                }
            }
            this.takes_running.fetch_sub(1, Ordering::SeqCst);
        });
        let answer = match tokio::time::timeout(SHARED_TIMEOUT, rx).await {
            Ok(Ok(answer)) => answer.map_err(|e| {
                self.set_down(true);
                SharedError::from(e)
            })?,
            _ => {
                self.set_down(true);
                return Err(SharedError::Slow);
            }
        };
        self.set_down(false);
        Ok(match answer.as_slice() {
            [1, ..] => Some(Taken::Go),
            [0, ms, ..] => Some(Taken::Wait(Duration::from_millis(
                u64::try_from(*ms).unwrap_or(0),
            ))),
            [2, ms, ..] => Some(Taken::WaitForAnswer(Duration::from_millis(
                u64::try_from(*ms).unwrap_or(0),
            ))),
            _ => None,
        })
    }

    /// Sends the headers to Redis in the background (the response is not held up).
    fn observe(
        &self,
        bucket: &Bucket,
        limit: u64,
        remaining: u64,
        reset: u64,
        authoritative: bool,
    ) {
        let mut connection = self.connection.clone();
        let key = self.key_of(bucket);
        tokio::spawn(async move {
            let result: Result<i64, _> = redis::Script::new(OBSERVE)
                .key(&key)
                .arg(limit)
                .arg(remaining)
                .arg(reset)
                .arg(u8::from(authoritative))
                .invoke_async(&mut connection)
                .await;
            if let Err(error) = result {
                tracing::debug!(%error, "shared rate-limit window not updated");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    static SHARED_OP: OperationMeta = OperationMeta {
        operation_id: "get-current-user",
        method: "GET",
        path: "/users/me",
        tag: "users",
        creator_segment: None,
    };
    static OTHER_SHARED_OP: OperationMeta = OperationMeta {
        operation_id: "list-chats",
        method: "GET",
        path: "/chats",
        tag: "chats",
        creator_segment: None,
    };
    static BUSY_OP: OperationMeta = OperationMeta {
        operation_id: "get-current-user-media",
        method: "GET",
        path: "/media",
        tag: "media",
        creator_segment: None,
    };
    static CREATOR_OP: OperationMeta = OperationMeta {
        operation_id: "get-creator-followers",
        method: "GET",
        path: "/creators/{creatorUserUuid}/followers",
        tag: "creators",
        creator_segment: Some(1),
    };

    fn headers(limit: u64, remaining: u64, reset: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from(limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(reset));
        h
    }

    async fn take(limiter: &RateLimiter) -> Result<Permit, Refusal> {
        limiter.acquire(&SHARED_OP, None).await
    }

    /// One request of `SHARED_OP` answered with `status` and `headers`.
    async fn answer(limiter: &RateLimiter, status: StatusCode, headers: &HeaderMap) {
        let permit = take(limiter).await.unwrap();
        permit.observe(status, headers);
    }

    fn shared_state(limiter: &RateLimiter) -> RateLimitState {
        limiter
            .state()
            .get(&Bucket::Shared)
            .copied()
            .unwrap_or_default()
    }

    fn wait_of(refusal: &Refusal) -> Duration {
        match refusal {
            Refusal::Exhausted { retry_after, .. } => *retry_after,
            Refusal::TooLong { wait, .. } => *wait,
        }
    }

    #[tokio::test]
    async fn probes_then_counts_down_and_fails_fast_when_exhausted() {
        let limiter = RateLimiter::new(RateLimitMode::FailFast);
        let probe = take(&limiter).await.unwrap();
        assert!(probe.probe);
        let reset = unix_now_secs() + 30;
        probe.observe(StatusCode::OK, &headers(3, 2, reset));
        drop(probe);
        let a = take(&limiter).await.unwrap();
        let b = take(&limiter).await.unwrap();
        let Err(Refusal::Exhausted {
            retry_after,
            limit,
            reset: at,
        }) = take(&limiter).await
        else {
            panic!("not refused as exhausted");
        };
        assert!(retry_after > Duration::from_secs(25), "{retry_after:?}");
        assert_eq!(limit, Some(3));
        assert_eq!(at, Some(reset));
        // a late answer with a higher remaining does not give back what was taken
        a.observe(StatusCode::OK, &headers(3, 2, reset));
        assert_eq!(shared_state(&limiter).remaining, Some(0));
        drop((a, b));
    }

    #[tokio::test]
    async fn fail_fast_waits_for_the_first_probe_instead_of_failing() {
        // Failed before: a request made while the first probe was out failed at once with a
        // `retry_after` of 0.
        let limiter = RateLimiter::new(RateLimitMode::FailFast);
        let probe = take(&limiter).await.unwrap();
        let second = tokio::spawn({
            let limiter = limiter.clone();
            async move { take(&limiter).await.map(drop).map_err(|r| wait_of(&r)) }
        });
        tokio::task::yield_now().await;
        assert!(!second.is_finished(), "failed while the probe was out");
        probe.observe(StatusCode::OK, &headers(3, 2, unix_now_secs() + 30));
        drop(probe);
        let second = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the probe's answer lets it go")
            .unwrap();
        assert_eq!(second, Ok(()));
    }

    #[tokio::test]
    async fn a_429_without_rate_limit_headers_never_blocks_forever() {
        // Retry-After only, then nothing at all: each 429 gives the window an
        // end, and the next request goes out after it.
        let mut retry_after = HeaderMap::new();
        retry_after.insert("retry-after", HeaderValue::from_static("1"));
        for headers in [retry_after, HeaderMap::new()] {
            let limiter = RateLimiter::default();
            answer(&limiter, StatusCode::TOO_MANY_REQUESTS, &headers).await;
            assert_eq!(shared_state(&limiter).remaining, Some(0));
            let next = tokio::time::timeout(Duration::from_secs(5), take(&limiter)).await;
            assert!(next.is_ok(), "a request after a bare 429 waited forever");
        }
    }

    #[tokio::test]
    async fn an_exhausted_window_without_a_reset_is_probed_not_waited_on() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("5"));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        let limiter = RateLimiter::default();
        answer(&limiter, StatusCode::OK, &headers).await;
        assert_eq!(shared_state(&limiter).remaining, Some(0));
        assert_eq!(shared_state(&limiter).reset, None);
        let next = tokio::time::timeout(Duration::from_secs(5), take(&limiter)).await;
        assert!(
            next.is_ok(),
            "an exhausted window with no reset waited forever"
        );
    }

    #[tokio::test]
    async fn headerless_gateway_errors_after_a_reset_neither_refill_nor_wedge_the_window() {
        // Failed before: once a known window rolled over and its requests were answered by
        // header-less 502s, the window sat at 0 with no reset and every request waited forever.
        let limiter = RateLimiter::default();
        // a window of 3 that has already ended (reset is now): the next request rolls it over
        answer(&limiter, StatusCode::OK, &headers(3, 2, unix_now_secs())).await;
        for _ in 0..3 {
            let permit = tokio::time::timeout(Duration::from_secs(5), take(&limiter))
                .await
                .expect("the rolled-over window has room")
                .unwrap();
            permit.observe(StatusCode::BAD_GATEWAY, &HeaderMap::new());
        }
        assert_eq!(shared_state(&limiter).remaining, Some(0));
        // exhausted, no reset, nothing in flight: one probe goes, the next waits for its answer
        let probe = tokio::time::timeout(Duration::from_secs(5), take(&limiter))
            .await
            .expect("an outage wedged the window")
            .unwrap();
        assert!(probe.probe);
        let waiting = tokio::spawn({
            let limiter = limiter.clone();
            async move { take(&limiter).await.map(|p| p.probe) }
        });
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "a second request went with the probe"
        );
        // a header-less answer (a transport error does the same) does not refill the window
        probe.observe(StatusCode::BAD_GATEWAY, &HeaderMap::new());
        drop(probe);
        assert_eq!(shared_state(&limiter).remaining, Some(0));
        let next = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the probe's end lets the next probe go")
            .unwrap();
        assert_eq!(next.ok(), Some(true));
    }

    #[tokio::test]
    async fn headerless_successes_turn_it_off_but_gateway_errors_do_not() {
        let limiter = RateLimiter::default();
        answer(&limiter, StatusCode::OK, &HeaderMap::new()).await;
        for _ in 0..10 {
            assert!(take(&limiter).await.unwrap().limiter.is_none());
        }
        let limiter = RateLimiter::new(RateLimitMode::FailFast);
        answer(&limiter, StatusCode::BAD_GATEWAY, &HeaderMap::new()).await;
        let probe = take(&limiter).await.unwrap();
        assert!(probe.probe, "a 502 without headers turned the limiter off");
    }

    #[tokio::test]
    async fn waiters_are_served_in_order_when_the_window_resets() {
        let limiter = RateLimiter::default();
        answer(
            &limiter,
            StatusCode::OK,
            &headers(3, 0, unix_now_secs() + 1),
        )
        .await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for i in 0..3 {
            let limiter = limiter.clone();
            let tx = tx.clone();
            tasks.push(tokio::spawn(async move {
                let permit = take(&limiter).await.unwrap();
                tx.send(i).unwrap();
                drop(permit);
            }));
            // let task i queue before task i + 1
            tokio::task::yield_now().await;
        }
        drop(tx);
        // a cancelled waiter takes nothing and does not block the queue
        let cancelled = tokio::time::timeout(Duration::from_millis(5), take(&limiter)).await;
        assert!(cancelled.is_err());
        let mut order = Vec::new();
        let collect = async {
            while let Some(i) = rx.recv().await {
                order.push(i);
            }
        };
        tokio::time::timeout(Duration::from_secs(10), collect)
            .await
            .expect("the window reset lets every waiter through");
        assert_eq!(order, [0, 1, 2]);
        for task in tasks {
            task.await.unwrap();
        }
    }

    fn http_date(unix: u64) -> HeaderValue {
        let date = chrono::DateTime::<chrono::Utc>::from(UNIX_EPOCH + Duration::from_secs(unix))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        HeaderValue::from_str(&date).unwrap()
    }

    #[tokio::test]
    async fn reset_times_are_read_on_the_servers_clock() {
        // The server's clock an hour ahead of this machine's, then an hour behind: the window ends
        // 30 s after the server's `Date` either way.
        for offset in [3600i64, -3600] {
            let limiter = RateLimiter::new(RateLimitMode::FailFast);
            let server_now = unix_now_secs().saturating_add_signed(offset);
            let mut h = headers(3, 0, server_now + 30);
            h.insert("date", http_date(server_now));
            answer(&limiter, StatusCode::OK, &h).await;
            let wait = wait_of(&take(&limiter).await.unwrap_err());
            assert!(
                (Duration::from_secs(28)..=Duration::from_secs(31)).contains(&wait),
                "offset {offset}: {wait:?}"
            );
            // A 429 whose reset is a delta is read from the server's now as well.
            let mut h = HeaderMap::new();
            h.insert("date", http_date(server_now));
            h.insert("retry-after", HeaderValue::from(10u64));
            let limiter = RateLimiter::new(RateLimitMode::FailFast);
            answer(&limiter, StatusCode::TOO_MANY_REQUESTS, &h).await;
            let wait = wait_of(&take(&limiter).await.unwrap_err());
            assert!(
                (Duration::from_secs(8)..=Duration::from_secs(11)).contains(&wait),
                "offset {offset}, 429: {wait:?}"
            );
        }
    }

    #[tokio::test]
    async fn the_date_skew_is_bounded() {
        // Failed before: a `Date` ten years behind turned a reset 30 s ahead into a ten-year wait.
        let limiter = RateLimiter::new(RateLimitMode::FailFast);
        let now = unix_now_secs();
        let mut h = headers(3, 0, now + 30);
        h.insert("date", http_date(now - 10 * 365 * 86400));
        answer(&limiter, StatusCode::OK, &h).await;
        let wait = wait_of(&take(&limiter).await.unwrap_err());
        assert!(
            wait <= Duration::from_secs(3600 + 31),
            "a hostile Date stretched the wait to {wait:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_twenty_digit_retry_after_fails_calls_naming_the_wait_then_probes() {
        // Failed before: `Retry-After: 99999999999999999999` became a reset at u64::MAX that
        // passed at once and poisoned every later response as stale; with waits uncapped it
        // would block for ever.
        let limiter = RateLimiter::default();
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("99999999999999999999"),
        );
        answer(&limiter, StatusCode::TOO_MANY_REQUESTS, &h).await;
        let reset = shared_state(&limiter).reset.unwrap();
        assert!(reset <= unix_now_secs() + MAX_RESET_AHEAD + 1, "{reset}");
        // beyond the cap: the call fails at once, naming the wait
        let refusal = tokio::time::timeout(Duration::from_secs(1), take(&limiter))
            .await
            .expect("a request blocked on a header's wait beyond the cap")
            .unwrap_err();
        let Refusal::TooLong { wait, cause, .. } = &refusal else {
            panic!("{refusal:?}");
        };
        assert!(*wait > DEFAULT_MAX_WAIT, "{wait:?}");
        assert_eq!(
            cause.as_ref().map(|c| c.0),
            Some(StatusCode::TOO_MANY_REQUESTS)
        );
        // after the cap, one probe asks again, and its answer replaces the wait
        tokio::time::advance(DEFAULT_MAX_WAIT + Duration::from_millis(1)).await;
        let probe = take(&limiter).await.unwrap();
        assert!(probe.probe);
        probe.observe(StatusCode::OK, &headers(5, 4, unix_now_secs() + 30));
        drop(probe);
        assert_eq!(shared_state(&limiter).remaining, Some(4));
        assert!(take(&limiter).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_reset_in_2100_and_a_one_hour_waf_wait_are_capped_and_a_later_answer_shortens_them() {
        // Failed before: both blocked every request silently, and a correct later response
        // could not shorten the wait.
        let year_2100 = 4_102_444_800u64;
        let mut waf = HeaderMap::new();
        waf.insert("retry-after", HeaderValue::from_static("3600"));
        for (status, h) in [
            (StatusCode::OK, headers(5, 0, year_2100)),
            (StatusCode::TOO_MANY_REQUESTS, waf),
        ] {
            let limiter = RateLimiter::default();
            limiter.set_max_wait(Duration::from_secs(10));
            answer(&limiter, status, &h).await;
            let refusal = take(&limiter).await.unwrap_err();
            assert!(wait_of(&refusal) > Duration::from_secs(10), "{refusal:?}");
            tokio::time::advance(Duration::from_secs(11)).await;
            let probe = take(&limiter).await.unwrap();
            // the probe is the only one out
            assert!(matches!(
                limiter.decide_locally(&Bucket::Shared),
                Decision::WaitForAnswer
            ));
            probe.observe(StatusCode::OK, &headers(5, 4, unix_now_secs() + 2));
            drop(probe);
            assert!(
                take(&limiter).await.is_ok(),
                "{status}: the later answer did not shorten the wait"
            );
            let reset = shared_state(&limiter).reset.unwrap();
            assert!(reset <= unix_now_secs() + 2, "{reset}");
        }
    }

    #[tokio::test]
    async fn creators_and_the_shared_bucket_have_windows_of_their_own() {
        let limiter = RateLimiter::new(RateLimitMode::FailFast);
        let reset = unix_now_secs() + 30;
        // creator a's bucket exhausted
        let permit = limiter.acquire(&CREATOR_OP, Some("a")).await.unwrap();
        permit.observe(StatusCode::OK, &headers(20, 0, reset));
        drop(permit);
        assert!(limiter.acquire(&CREATOR_OP, Some("a")).await.is_err());
        // creator b and the shared bucket are not
        let b = limiter.acquire(&CREATOR_OP, Some("b")).await.unwrap();
        b.observe(StatusCode::OK, &headers(20, 19, reset));
        let shared = take(&limiter).await.unwrap();
        shared.observe(StatusCode::OK, &headers(20, 5, reset));
        drop((b, shared));
        let state = limiter.state();
        assert_eq!(state[&Bucket::Creator("a".into())].remaining, Some(0));
        assert_eq!(state[&Bucket::Creator("b".into())].remaining, Some(19));
        assert_eq!(state[&Bucket::Shared].remaining, Some(5));
        // a fresh bucket's remaining does not let requests into an exhausted one
        assert!(limiter.acquire(&CREATOR_OP, Some("a")).await.is_err());
    }

    #[tokio::test]
    async fn an_operation_with_a_limit_of_its_own_gets_a_bucket_of_its_own() {
        let limiter = RateLimiter::new(RateLimitMode::FailFast);
        let reset = unix_now_secs() + 30;
        for op in [&SHARED_OP, &OTHER_SHARED_OP] {
            let permit = limiter.acquire(op, None).await.unwrap();
            permit.observe(StatusCode::OK, &headers(20, 10, reset));
        }
        let busy = limiter.acquire(&BUSY_OP, None).await.unwrap();
        busy.observe(StatusCode::OK, &headers(1000, 0, reset));
        drop(busy);
        let own = Bucket::Operation {
            operation_id: BUSY_OP.operation_id,
            creator: None,
        };
        let state = limiter.state();
        assert_eq!(state[&own].limit, Some(1000));
        assert_eq!(state[&own].remaining, Some(0));
        assert_eq!(state[&Bucket::Shared].limit, Some(20));
        // (the busy operation's first request, counted in the shared window before its own limit
        // was known, was given back)
        assert_eq!(state[&Bucket::Shared].remaining, Some(9));
        // the busy operation's exhausted bucket holds it alone
        assert!(limiter.acquire(&BUSY_OP, None).await.is_err());
        assert!(limiter.acquire(&SHARED_OP, None).await.is_ok());
    }

    #[tokio::test]
    async fn the_first_operation_seen_with_a_limit_of_its_own_moves_out_when_outvoted() {
        let limiter = RateLimiter::new(RateLimitMode::FailFast);
        let reset = unix_now_secs() + 30;
        let busy = limiter.acquire(&BUSY_OP, None).await.unwrap();
        busy.observe(StatusCode::OK, &headers(1000, 999, reset));
        drop(busy);
        for op in [&SHARED_OP, &OTHER_SHARED_OP] {
            let permit = limiter.acquire(op, None).await.unwrap();
            permit.observe(StatusCode::OK, &headers(20, 10, reset));
        }
        let state = limiter.state();
        assert_eq!(state[&Bucket::Shared].limit, Some(20));
        let own = Bucket::Operation {
            operation_id: BUSY_OP.operation_id,
            creator: None,
        };
        assert_eq!(
            limiter.buckets().bucket_of(&None, BUSY_OP.operation_id),
            own
        );
    }

    /// A `redis-server` on a free loopback port, killed on drop; `None` (reason printed) without
    /// the binary.
    #[cfg(feature = "redis")]
    struct RedisServer(std::process::Child, u16);

    #[cfg(feature = "redis")]
    impl RedisServer {
        fn start() -> Option<Self> {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = match std::process::Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .stdout(std::process::Stdio::null())
                .spawn()
            {
                Ok(child) => child,
                Err(e) => {
                    eprintln!("skipped: redis-server not available ({e})");
                    return None;
                }
            };
            let server = Self(child, port);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "redis-server did not start"
                );
                std::thread::yield_now();
            }
            Some(server)
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.1)
        }
    }

    #[cfg(feature = "redis")]
    impl Drop for RedisServer {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn a_shared_acquire_dropped_during_its_take_gives_the_slot_back() {
        // Failed before: the TAKE ran inside `acquire`; dropped mid-round-trip, Redis still took
        // the slot and nobody used it.
        let Some(server) = RedisServer::start() else {
            return;
        };
        let limiter = RateLimiter::shared(RateLimitMode::FailFast, &server.url(), "drop").unwrap();
        let redis = redis::Client::open(server.url()).unwrap();
        let mut connection = redis.get_multiplexed_async_connection().await.unwrap();
        let key = "{drop}:ratelimit:shared";
        let remaining = |mut connection: redis::aio::MultiplexedConnection| async move {
            let value: Option<u64> = redis::cmd("HGET")
                .arg(key)
                .arg("remaining")
                .query_async(&mut connection)
                .await
                .unwrap();
            value
        };
        // the window: 5 per minute, 5 left
        redis::cmd("HSET")
            .arg(key)
            .arg(&["limit", "5", "remaining", "5", "reset"])
            .arg(unix_now_secs() + 60)
            .query_async::<()>(&mut connection)
            .await
            .unwrap();
        {
            let acquire = take(&limiter);
            tokio::pin!(acquire);
            // polled once: its TAKE is sent, then it is dropped
            assert!(futures::poll!(acquire.as_mut()).is_pending());
        }
        let running = Arc::clone(&limiter.inner.shared.as_ref().unwrap().takes_running);
        tokio::time::timeout(Duration::from_secs(5), async {
            // the TAKE (and the GIVE) run in a task of their own: wait for it to end
            while running.load(Ordering::SeqCst) > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the dropped acquire's TAKE never ended");
        assert_eq!(
            remaining(connection.clone()).await,
            Some(5),
            "the dropped acquire's slot was not given back"
        );
        // all 5 are there to take
        let mut permits = Vec::new();
        for _ in 0..5 {
            permits.push(take(&limiter).await.unwrap());
        }
        assert!(matches!(
            take(&limiter).await,
            Err(Refusal::Exhausted { .. })
        ));
    }

    /// A Redis that accepts connections and never answers.
    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn a_silent_redis_never_serializes_the_process() {
        // Failed before: the FIFO lock was held across each Redis round trip, so 8 requests
        // waited one after another on the 2 s response timeout.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}/", silent.local_addr().unwrap());
        let hold = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                open.push(socket);
            }
        });
        let limiter = RateLimiter::shared(RateLimitMode::Wait, &url, "silent").unwrap();
        // the first answer tells the limit (so Redis is asked from now on)
        answer(
            &limiter,
            StatusCode::OK,
            &headers(100, 99, unix_now_secs() + 30),
        )
        .await;
        let started = Instant::now();
        let calls = (0..8).map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { take(&limiter).await.map(drop).is_ok() })
        });
        for call in calls {
            assert!(call.await.unwrap());
        }
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(1500),
            "8 requests with a silent Redis took {took:?}"
        );
        // Redis is asked again once the backoff is over, and each call gives up within 250 ms
        assert!(!limiter.inner.shared.as_ref().unwrap().available());
        hold.abort();
    }
}
