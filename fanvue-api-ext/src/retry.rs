//! When and how long to wait before sending a request again.
//!
//! A 429 waits for what the server asked (`Retry-After`, or the time until
//! `X-RateLimit-Reset`); 502/503/504, connection resets and timeouts back off
//! exponentially with full jitter (a random delay between zero and the
//! exponential bound, on top of [`backon`]'s exponential schedule). Attempts
//! and the total time are bounded. Only idempotent methods are retried unless
//! the policy (or the call, see [`CallOptions`](crate::CallOptions)) opts in.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How a request is retried. `Default`: 4 attempts, 200 ms base delay, 10 s
/// max backoff delay, 60 s total, idempotent methods only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (`1` = never retry).
    pub max_attempts: u32,
    /// The first backoff bound; each retry doubles it.
    pub base_delay: Duration,
    /// The largest backoff bound (a server's `Retry-After` is honoured beyond it).
    pub max_delay: Duration,
    /// No retry is started when it would end later than this after the first attempt began.
    pub max_elapsed: Duration,
    /// Also retry non-idempotent methods (POST, PATCH).
    pub retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets [`max_attempts`](Self::max_attempts) (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`base_delay`](Self::base_delay).
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets [`max_delay`](Self::max_delay).
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`max_elapsed`](Self::max_elapsed).
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Sets [`retry_non_idempotent`](Self::retry_non_idempotent).
    pub fn with_retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// The backoff schedule: exponential from `base_delay`, capped at
    /// `max_delay`, with full jitter, `max_attempts - 1` delays long.
    pub fn backoff(&self) -> FullJitter<<ExponentialBuilder as BackoffBuilder>::Backoff> {
        let exponential = ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay.max(self.base_delay))
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build();
        FullJitter(exponential)
    }

    /// The delay before the next attempt, or `None` to stop: `scheduled` is the
    /// next backoff delay (`None` once attempts are exhausted), `server_hint` what
    /// a 429 asked for, `elapsed` the time since the first attempt began.
    pub fn next_delay(
        &self,
        scheduled: Option<Duration>,
        server_hint: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration> {
        let delay = server_hint.or(scheduled)?;
        scheduled?;
        (elapsed.saturating_add(delay) <= self.max_elapsed).then_some(delay)
    }
}

/// A backoff that draws each delay uniformly from `[0, bound]`, `bound` being
/// the inner schedule's delay ("full jitter").
#[derive(Debug)]
pub struct FullJitter<B>(B);

impl<B: Iterator<Item = Duration>> Iterator for FullJitter<B> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let bound = self.0.next()?;
        let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        Some(Duration::from_nanos(rand::random_range(0..=nanos)))
    }
}

/// Statuses worth retrying: 429, 502, 503, 504.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Whether a transport error is transient: a timeout, a failed connect, or a
/// connection reset / closed before the response completed.
pub fn is_transient(error: &reqwest::Error) -> bool {
    if error.is_timeout() || error.is_connect() {
        return true;
    }
    if !(error.is_request() || error.is_body()) {
        return false;
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | TimedOut
            ) {
                return true;
            }
        }
        let text = cause.to_string();
        if text.contains("connection closed before message completed")
            || text.contains("connection reset")
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Whether nothing of the request can have reached the server (connect failed),
/// so resending is safe for any method.
pub(crate) fn never_sent(error: &reqwest::Error) -> bool {
    error.is_connect()
}

/// How long a 429 response asks to wait: `Retry-After` (seconds or an
/// HTTP date), else the time until `X-RateLimit-Reset` (Unix seconds; small
/// values are read as seconds from now).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(value) = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()) {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
            let at = SystemTime::from(date);
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    let reset = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    // Unix seconds are > 10^9 since 2001; anything smaller is a delta.
    if reset < 1_000_000_000 {
        return Some(Duration::from_secs(reset));
    }
    let now_secs = crate::error::unix_seconds(now);
    Some(Duration::from_secs(reset.saturating_sub(now_secs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_seconds_date_and_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1")]), now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", " 30 ")]), now),
            Some(Duration::from_secs(30))
        );
        // 2023-11-14T22:13:20Z is 1_700_000_000; 5 s later:
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Tue, 14 Nov 2023 22:13:25 GMT")]),
                now
            ),
            Some(Duration::from_secs(5))
        );
        // a date in the past means "now"
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Tue, 14 Nov 2023 22:00:00 GMT")]),
                now
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&headers(&[("x-ratelimit-reset", "1700000003")]), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers(&[("x-ratelimit-reset", "12")]), now),
            Some(Duration::from_secs(12))
        );
        // garbage Retry-After falls back to the reset header, then to nothing
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "soon"), ("x-ratelimit-reset", "2")]),
                now
            ),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let policy = RetryPolicy::default()
            .with_max_attempts(6)
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(400));
        let bounds = [100u64, 200, 400, 400, 400];
        for _ in 0..50 {
            let delays: Vec<_> = policy.backoff().collect();
            assert_eq!(delays.len(), 5, "max_attempts - 1 delays");
            for (delay, bound) in delays.iter().zip(bounds) {
                assert!(
                    *delay <= Duration::from_millis(bound),
                    "{delay:?} > {bound}ms"
                );
            }
        }
        // full jitter: not always the bound
        let firsts: std::collections::HashSet<_> =
            (0..50).map(|_| policy.backoff().next().unwrap()).collect();
        assert!(firsts.len() > 1);
        assert_eq!(RetryPolicy::none().backoff().count(), 0);
    }

    #[test]
    fn next_delay_respects_attempts_hint_and_elapsed() {
        let policy = RetryPolicy::default().with_max_elapsed(Duration::from_secs(10));
        let ms = Duration::from_millis;
        assert_eq!(policy.next_delay(Some(ms(50)), None, ms(0)), Some(ms(50)));
        // the server's hint wins over the schedule
        assert_eq!(
            policy.next_delay(Some(ms(50)), Some(ms(1000)), ms(0)),
            Some(ms(1000))
        );
        // attempts exhausted: no delay even with a hint
        assert_eq!(policy.next_delay(None, Some(ms(1000)), ms(0)), None);
        // would end beyond max_elapsed
        assert_eq!(
            policy.next_delay(Some(ms(50)), Some(ms(9_500)), ms(600)),
            None
        );
        assert_eq!(policy.next_delay(Some(ms(50)), None, ms(9_960)), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [429u16, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
        for s in [400u16, 401, 404, 410, 500, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
    }
}
