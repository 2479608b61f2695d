//! Client-side rate limiting from the API's `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` headers.
//!
//! Every response's headers update a [`RateLimiter`] shared by all clones of
//! a [`Fanvue`](crate::Fanvue) (one per credential: each client built with
//! its own token has its own; give one limiter to several clients with
//! [`FanvueBuilder::rate_limiter`](crate::FanvueBuilder::rate_limiter)).
//! Before each request is sent, the limiter takes one request of the current
//! window; when the window is exhausted, the request waits until the window
//! resets ([`RateLimitMode::Wait`], the default) or fails at once with
//! [`Error::RateLimitedLocally`](crate::Error::RateLimitedLocally)
//! ([`RateLimitMode::FailFast`]). A 429 still works as before (retried after
//! `Retry-After` under the retry policy), and also empties the window.
//!
//! # How it decides
//!
//! - Nothing known yet (no response seen): one request at a time goes out
//!   (a probe) until a response tells the limit; a response without the
//!   headers turns the limiter off until one has them.
//! - In a window: the remaining count is the lower of the server's last
//!   `X-RateLimit-Remaining` and this client's own count of requests sent
//!   since (so concurrent requests cannot overshoot it).
//! - At `X-RateLimit-Reset` the window is assumed full again (`limit` minus
//!   the requests still in flight), until the next response tells better.
//!
//! Waiting requests are served in arrival order (FIFO: a tokio mutex is the
//! queue), and wait on a timer or a notification, never by polling. Dropping
//! a waiting request (a timeout, `select!`) leaves the queue intact and takes
//! nothing from the window.
//!
//! With the `redis` feature, [`RateLimiter::shared`] keeps the window in
//! Redis, so N processes together stay under the limit of one credential.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

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

/// The rate-limit window as the limiter sees it.
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

/// The window is exhausted and the mode is [`RateLimitMode::FailFast`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exhausted {
    pub(crate) retry_after: Duration,
    pub(crate) limit: Option<u64>,
    pub(crate) reset: Option<u64>,
}

/// A client-side rate limiter; see the [module docs](self). Cheap to clone
/// (clones share the window).
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    mode: RateLimitMode,
    window: Mutex<Window>,
    /// The FIFO queue of requests waiting for the window.
    queue: tokio::sync::Mutex<()>,
    /// Woken by every response that updates the window, and by a probe's end.
    changed: tokio::sync::Notify,
    /// How far the server's clock is ahead of this machine's (seconds, negative when behind), from
    /// the last response's `Date` header. Reset times are the server's clock: they become local
    /// instants through this, so a local clock that is off neither stretches nor cancels a wait.
    skew: AtomicI64,
    #[cfg(feature = "redis")]
    shared: Option<RedisWindow>,
}

#[derive(Default)]
struct Window {
    limit: Option<u64>,
    remaining: Option<u64>,
    /// The end of the current window: Unix seconds and the matching instant.
    reset: Option<(u64, Instant)>,
    /// The reset of the window that ended last (responses from it are stale).
    previous_reset: u64,
    /// Requests sent and not answered yet.
    in_flight: u64,
    /// A probe is out (nothing known yet).
    probing: bool,
    /// Responses carry no rate-limit headers: nothing to limit.
    headerless: bool,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("mode", &self.inner.mode)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(RateLimitMode::default())
    }
}

/// What the window allows now.
enum Decision {
    Go {
        probe: bool,
    },
    /// Wait for a response or until this instant.
    Wait(Option<Instant>),
    /// Nothing to limit.
    Unlimited,
}

impl RateLimiter {
    /// A limiter of its own, in `mode`.
    pub fn new(mode: RateLimitMode) -> Self {
        Self {
            inner: Arc::new(Inner {
                mode,
                window: Mutex::new(Window::default()),
                queue: tokio::sync::Mutex::new(()),
                changed: tokio::sync::Notify::new(),
                skew: AtomicI64::new(0),
                #[cfg(feature = "redis")]
                shared: None,
            }),
        }
    }

    /// A limiter whose window lives in Redis under `key` (one key per
    /// credential), shared by every process that uses the same key: together
    /// they stay under the limit. Requests of this process still queue FIFO
    /// locally; the window is read and taken from in one Lua script per
    /// request. When Redis cannot be reached, the limiter falls back to this
    /// process's own view of the window.
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
        Ok(Self {
            inner: Arc::new(Inner {
                mode,
                window: Mutex::new(Window::default()),
                queue: tokio::sync::Mutex::new(()),
                changed: tokio::sync::Notify::new(),
                skew: AtomicI64::new(0),
                shared: Some(RedisWindow::open(url, key)?),
            }),
        })
    }

    /// The mode.
    pub fn mode(&self) -> RateLimitMode {
        self.inner.mode
    }

    /// The window as this limiter sees it now.
    pub fn state(&self) -> RateLimitState {
        let window = self.window();
        RateLimitState {
            limit: window.limit,
            remaining: window.remaining,
            reset: window.reset.map(|(secs, _)| secs),
        }
    }

    fn window(&self) -> MutexGuard<'_, Window> {
        self.inner.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one request of the window, waiting (FIFO) while it is exhausted.
    pub(crate) async fn acquire(&self) -> Result<Permit, Exhausted> {
        if self.inner.mode == RateLimitMode::Off {
            return Ok(Permit::none());
        }
        let _turn = self.inner.queue.lock().await;
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let decision = self.decide().await;
            let deadline = match decision {
                Decision::Unlimited => return Ok(Permit::none()),
                Decision::Go { probe } => {
                    return Ok(Permit {
                        limiter: Some(self.clone()),
                        probe,
                    });
                }
                Decision::Wait(deadline) => deadline,
            };
            if self.inner.mode == RateLimitMode::FailFast {
                let state = self.state();
                return Err(Exhausted {
                    retry_after: deadline
                        .map(|at| at.saturating_duration_since(Instant::now()))
                        .unwrap_or_default(),
                    limit: state.limit,
                    reset: state.reset,
                });
            }
            match deadline {
                Some(at) => {
                    tokio::select! {
                        () = changed => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    async fn decide(&self) -> Decision {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.inner.shared {
            let known = self.window().limit.is_some();
            if known {
                match shared.take(self.skew()).await {
                    Ok(Some(Taken::Go)) => {
                        let mut window = self.window();
                        window.in_flight = window.in_flight.saturating_add(1);
                        return Decision::Go { probe: false };
                    }
                    Ok(Some(Taken::WaitUntil(at))) => return Decision::Wait(Some(at)),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::debug!(%error, "shared rate-limit window unavailable: using the local view");
                    }
                }
            }
        }
        self.decide_locally()
    }

    fn decide_locally(&self) -> Decision {
        let mut window = self.window();
        let now = Instant::now();
        if let Some((secs, at)) = window.reset
            && now >= at
        {
            // the window ended: assume it is full again until a response tells better
            window.previous_reset = secs;
            window.reset = None;
            window.remaining = window
                .limit
                .map(|limit| limit.saturating_sub(window.in_flight));
        }
        if window.headerless {
            return Decision::Unlimited;
        }
        match window.remaining {
            None if window.probing => Decision::Wait(None),
            None => {
                window.probing = true;
                window.in_flight = window.in_flight.saturating_add(1);
                Decision::Go { probe: true }
            }
            // Exhausted with no known end (no reset header was ever seen):
            // waiting could last forever, so probe one request at a time. (A
            // window this client rolled into has no reset yet either, but the
            // responses in flight will bring it: that one is waited for.)
            Some(0) if window.reset.is_none() && window.previous_reset == 0 => {
                if window.probing {
                    Decision::Wait(None)
                } else {
                    window.remaining = None;
                    window.probing = true;
                    window.in_flight = window.in_flight.saturating_add(1);
                    Decision::Go { probe: true }
                }
            }
            Some(0) => Decision::Wait(window.reset.map(|(_, at)| at)),
            Some(n) => {
                window.remaining = Some(n.saturating_sub(1));
                window.in_flight = window.in_flight.saturating_add(1);
                Decision::Go { probe: false }
            }
        }
    }

    /// Updates the window from a response's headers.
    pub(crate) fn observe(&self, status: StatusCode, headers: &HeaderMap) {
        if self.inner.mode == RateLimitMode::Off {
            return;
        }
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
        let reset = header("x-ratelimit-reset").map(|reset| {
            // Unix seconds are > 10^9 since 2001; anything smaller is a delta.
            if reset < 1_000_000_000 {
                server_now.saturating_add(reset)
            } else {
                reset
            }
        });
        let (remaining, reset) = if status == StatusCode::TOO_MANY_REQUESTS {
            // A 429 empties the window until it resets: at `X-RateLimit-Reset`,
            // else after `Retry-After`, else for one second. The window always
            // gets an end, so no request can wait on it forever.
            let reset = reset.unwrap_or_else(|| {
                let delay = crate::retry::retry_after(headers, SystemTime::now())
                    .unwrap_or(Duration::from_secs(1));
                server_now.saturating_add(delay.as_secs().max(1))
            });
            (Some(0), Some(reset))
        } else {
            (remaining, reset)
        };
        let reset = reset.map(|secs| (secs, instant_of(secs, skew)));
        {
            let mut window = self.window();
            if limit.is_none() && remaining.is_none() && reset.is_none() {
                if window.limit.is_none() && status != StatusCode::TOO_MANY_REQUESTS {
                    window.headerless = true;
                }
            } else {
                window.headerless = false;
                window.apply(limit, remaining, reset);
            }
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.inner.shared
            && let (Some(limit), Some(remaining), Some((reset, _))) =
                (limit.or(self.state().limit), remaining, reset)
        {
            shared.observe(limit, remaining, reset);
        }
        self.inner.changed.notify_waiters();
    }

    /// The server's clock offset, updated from `headers`' `Date` when it has one. Offsets within
    /// [`SKEW_IGNORED`] count as none: `Date` has whole seconds and was written before the response
    /// travelled, so small offsets are noise, and reading them would only make waits longer.
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
                skew
            };
            self.inner.skew.store(skew, Ordering::Relaxed);
        }
        self.skew()
    }

    fn skew(&self) -> i64 {
        self.inner.skew.load(Ordering::Relaxed)
    }

    fn finished(&self, probe: bool) {
        {
            let mut window = self.window();
            window.in_flight = window.in_flight.saturating_sub(1);
            if probe {
                window.probing = false;
            }
        }
        if probe {
            self.inner.changed.notify_waiters();
        }
    }
}

impl Window {
    /// `reset`: the window's end in the server's Unix seconds and as a local instant.
    fn apply(&mut self, limit: Option<u64>, remaining: Option<u64>, reset: Option<(u64, Instant)>) {
        if let Some(limit) = limit {
            self.limit = Some(limit);
        }
        let Some((reset, reset_at)) = reset else {
            if let Some(remaining) = remaining {
                self.remaining = Some(self.remaining.map_or(remaining, |r| r.min(remaining)));
            }
            return;
        };
        if reset <= self.previous_reset {
            return; // a response of a window that already ended
        }
        match self.reset {
            Some((current, _)) if reset < current => {} // stale
            Some((current, _)) if reset == current => {
                if let Some(remaining) = remaining {
                    self.remaining = Some(self.remaining.map_or(remaining, |r| r.min(remaining)));
                }
            }
            None if self.remaining.is_some() => {
                // the window this client rolled into: its count so far stands
                self.reset = Some((reset, reset_at));
                if let Some(remaining) = remaining {
                    self.remaining = Some(self.remaining.map_or(remaining, |r| r.min(remaining)));
                }
            }
            _ => {
                // a new window
                self.reset = Some((reset, reset_at));
                self.remaining = remaining.or(self.limit);
            }
        }
    }
}

/// Clock offsets (seconds) too small to correct for.
const SKEW_IGNORED: u64 = 2;

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

/// One request taken from the window; dropping it marks the request answered.
#[derive(Debug)]
pub(crate) struct Permit {
    limiter: Option<RateLimiter>,
    probe: bool,
}

impl Permit {
    fn none() -> Self {
        Self {
            limiter: None,
            probe: false,
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(limiter) = self.limiter.take() {
            limiter.finished(self.probe);
        }
    }
}

#[cfg(feature = "redis")]
enum Taken {
    Go,
    WaitUntil(Instant),
}

/// The window in Redis: a hash `{key}:ratelimit` with the limit, the current
/// window's reset (Unix seconds), the reset of the window before, and the
/// requests remaining, updated by Lua scripts (one round trip per request).
#[cfg(feature = "redis")]
#[derive(Clone)]
struct RedisWindow {
    connection: redis::aio::ConnectionManager,
    key: String,
}

/// Takes one request: `{1}` go, `{0, reset}` wait until Unix second `reset`,
/// `{-1}` unknown (the caller decides locally). ARGV: now (Unix ms).
#[cfg(feature = "redis")]
const TAKE: &str = r"
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or '')
if not limit then return {-1} end
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset') or '0')
local remaining = tonumber(redis.call('HGET', KEYS[1], 'remaining') or '0')
local now = tonumber(ARGV[1])
if reset > 0 and now >= reset * 1000 then
  redis.call('HSET', KEYS[1], 'previous', reset, 'reset', 0, 'remaining', limit)
  remaining = limit
  reset = 0
end
if remaining > 0 then
  redis.call('HSET', KEYS[1], 'remaining', remaining - 1)
  return {1}
end
if reset == 0 then return {0, math.floor(now / 1000) + 1} end
return {0, reset}
";

/// Applies a response's headers. ARGV: limit, remaining, reset (Unix seconds).
#[cfg(feature = "redis")]
const OBSERVE: &str = r"
local limit = tonumber(ARGV[1])
local remaining = tonumber(ARGV[2])
local reset = tonumber(ARGV[3])
local previous = tonumber(redis.call('HGET', KEYS[1], 'previous') or '0')
if reset <= previous then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'reset') or '-1')
local stored = tonumber(redis.call('HGET', KEYS[1], 'remaining') or '')
redis.call('HSET', KEYS[1], 'limit', limit)
if current > 0 and reset < current then return 0 end
if current == reset or (current == 0 and stored) then
  if stored and stored < remaining then remaining = stored end
end
redis.call('HSET', KEYS[1], 'reset', reset, 'remaining', remaining)
redis.call('PEXPIRE', KEYS[1], 86400000)
return 1
";

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
            key: format!("{{{key}}}:ratelimit"),
        })
    }

    /// Takes one request; `skew` is the server's clock offset (the window's times are the server's).
    async fn take(&self, skew: i64) -> Result<Option<Taken>, redis::RedisError> {
        let mut connection = self.connection.clone();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
            .saturating_add_signed(skew.saturating_mul(1000));
        let answer: Vec<i64> = redis::Script::new(TAKE)
            .key(&self.key)
            .arg(now_ms)
            .invoke_async(&mut connection)
            .await?;
        Ok(match answer.as_slice() {
            [1, ..] => Some(Taken::Go),
            [0, reset, ..] => Some(Taken::WaitUntil(instant_of(
                u64::try_from(*reset).unwrap_or(0),
                skew,
            ))),
            _ => None,
        })
    }

    /// Sends the headers to Redis in the background (the response is not held up).
    fn observe(&self, limit: u64, remaining: u64, reset: u64) {
        let mut connection = self.connection.clone();
        let key = self.key.clone();
        tokio::spawn(async move {
            let result: Result<i64, _> = redis::Script::new(OBSERVE)
                .key(&key)
                .arg(limit)
                .arg(remaining)
                .arg(reset)
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

    fn headers(limit: u64, remaining: u64, reset: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from(limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(reset));
        h
    }

    #[tokio::test]
    async fn probes_then_counts_down_and_fails_fast_when_exhausted() {
        let limiter = RateLimiter::new(RateLimitMode::FailFast);
        let probe = limiter.acquire().await.unwrap();
        assert!(probe.probe);
        // a second request waits for the probe's answer: in fail-fast mode, an error
        assert!(limiter.acquire().await.is_err());
        let reset = unix_now_secs() + 30;
        limiter.observe(StatusCode::OK, &headers(3, 2, reset));
        drop(probe);
        let a = limiter.acquire().await.unwrap();
        let b = limiter.acquire().await.unwrap();
        let err = limiter.acquire().await.unwrap_err();
        assert!(
            err.retry_after > Duration::from_secs(25),
            "{:?}",
            err.retry_after
        );
        assert_eq!(err.limit, Some(3));
        assert_eq!(err.reset, Some(reset));
        // a late answer with a higher remaining does not give back what was taken
        limiter.observe(StatusCode::OK, &headers(3, 2, reset));
        assert_eq!(limiter.state().remaining, Some(0));
        drop((a, b));
    }

    #[tokio::test]
    async fn a_429_without_rate_limit_headers_never_blocks_forever() {
        // Retry-After only, then nothing at all: each 429 gives the window an
        // end, and the next request goes out after it.
        let mut retry_after = HeaderMap::new();
        retry_after.insert("retry-after", HeaderValue::from_static("1"));
        for headers in [retry_after, HeaderMap::new()] {
            let limiter = RateLimiter::default();
            let probe = limiter.acquire().await.unwrap();
            limiter.observe(StatusCode::TOO_MANY_REQUESTS, &headers);
            drop(probe);
            assert_eq!(limiter.state().remaining, Some(0));
            let next = tokio::time::timeout(Duration::from_secs(5), limiter.acquire()).await;
            assert!(next.is_ok(), "a request after a bare 429 waited forever");
        }
    }

    #[tokio::test]
    async fn an_exhausted_window_without_a_reset_is_probed_not_waited_on() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-limit", HeaderValue::from_static("5"));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        let limiter = RateLimiter::default();
        let probe = limiter.acquire().await.unwrap();
        limiter.observe(StatusCode::OK, &headers);
        drop(probe);
        assert_eq!(limiter.state().remaining, Some(0));
        assert_eq!(limiter.state().reset, None);
        let next = tokio::time::timeout(Duration::from_secs(5), limiter.acquire()).await;
        assert!(
            next.is_ok(),
            "an exhausted window with no reset waited forever"
        );
    }

    #[tokio::test]
    async fn headerless_responses_turn_it_off() {
        let limiter = RateLimiter::default();
        let probe = limiter.acquire().await.unwrap();
        limiter.observe(StatusCode::OK, &HeaderMap::new());
        drop(probe);
        for _ in 0..10 {
            assert!(limiter.acquire().await.unwrap().limiter.is_none());
        }
    }

    #[tokio::test]
    async fn waiters_are_served_in_order_when_the_window_resets() {
        let limiter = RateLimiter::default();
        let probe = limiter.acquire().await.unwrap();
        limiter.observe(StatusCode::OK, &headers(3, 0, unix_now_secs() + 1));
        drop(probe);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for i in 0..3 {
            let limiter = limiter.clone();
            let tx = tx.clone();
            tasks.push(tokio::spawn(async move {
                let permit = limiter.acquire().await.unwrap();
                tx.send(i).unwrap();
                drop(permit);
            }));
            // let task i queue before task i + 1
            tokio::task::yield_now().await;
        }
        drop(tx);
        // a cancelled waiter takes nothing and does not block the queue
        let cancelled = tokio::time::timeout(Duration::from_millis(5), limiter.acquire()).await;
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

    #[tokio::test]
    async fn reset_times_are_read_on_the_servers_clock() {
        // The server's clock an hour ahead of this machine's, then an hour behind: the window ends
        // 30 s after the server's `Date` either way.
        for offset in [3600i64, -3600] {
            let limiter = RateLimiter::new(RateLimitMode::FailFast);
            let probe = limiter.acquire().await.unwrap();
            let server_now = unix_now_secs().saturating_add_signed(offset);
            let mut h = headers(3, 0, server_now + 30);
            let date =
                chrono::DateTime::<chrono::Utc>::from(UNIX_EPOCH + Duration::from_secs(server_now))
                    .format("%a, %d %b %Y %H:%M:%S GMT")
                    .to_string();
            h.insert("date", HeaderValue::from_str(&date).unwrap());
            limiter.observe(StatusCode::OK, &h);
            drop(probe);
            let err = limiter.acquire().await.unwrap_err();
            assert!(
                (Duration::from_secs(28)..=Duration::from_secs(31)).contains(&err.retry_after),
                "offset {offset}: {:?}",
                err.retry_after
            );
            // A 429 whose reset is a delta is read from the server's now as well.
            let mut h = HeaderMap::new();
            h.insert("date", HeaderValue::from_str(&date).unwrap());
            h.insert("retry-after", HeaderValue::from(10u64));
            let limiter = RateLimiter::new(RateLimitMode::FailFast);
            limiter.observe(StatusCode::TOO_MANY_REQUESTS, &h);
            let err = limiter.acquire().await.unwrap_err();
            assert!(
                (Duration::from_secs(8)..=Duration::from_secs(11)).contains(&err.retry_after),
                "offset {offset}, 429: {:?}",
                err.retry_after
            );
        }
    }
}
