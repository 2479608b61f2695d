//! When and how long to wait before sending a request again — one module for
//! API calls and storage (S3) part uploads alike.
//!
//! - **One `Retry-After` parser** ([`retry_after`]): delta-seconds or an HTTP
//!   date (IMF-fixdate, RFC 850 or asctime), else the time until
//!   `X-RateLimit-Reset`; garbage is ignored.
//! - **One backoff**: exponential from a base delay, capped, with **full
//!   jitter** (each delay drawn uniformly from zero to the exponential bound).
//!   A server's `Retry-After` wins over the schedule.
//! - **One retry quota** per [`Fanvue`](crate::Fanvue) client, a token bucket
//!   in the manner of the AWS SDKs' *standard* retry mode: it starts full
//!   (default 500 tokens); every retry takes 5 tokens (10 after a timeout); a
//!   request that succeeds gives back what its retries took (or 1 token when
//!   it needed none). When the bucket cannot pay for a retry, the error is
//!   returned at once. API requests and upload parts of one client draw from
//!   the same bucket, so a failing service sees fewer requests, not more.
//! - **One retry layer per request**: the executor retries API calls; an
//!   upload retries each part as a unit (presigned-URL request and `PUT`), and
//!   its internal API requests are sent with the executor's retries off.
//!
//! Only idempotent methods are retried unless the policy or the call
//! (`.send().retry_non_idempotent(true)`) opts in; a request that provably
//! never reached the server (connect failure) is retried whatever its method.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{DATE, HeaderMap, RETRY_AFTER};

/// The default capacity of the client-wide retry quota.
pub const DEFAULT_RETRY_QUOTA: u32 = 500;
/// Tokens one retry takes from the quota.
pub(crate) const RETRY_COST: u32 = 5;
/// Tokens one retry after a timeout takes from the quota.
pub(crate) const TIMEOUT_RETRY_COST: u32 = 10;
/// Tokens a request that succeeds at its first attempt gives back.
pub(crate) const SUCCESS_REFUND: u32 = 1;

/// How API requests are retried.
///
/// `Default`: 4 attempts, 200 ms base delay, 10 s max backoff delay, 60 s
/// total, idempotent methods only, a client-wide quota of
/// [`DEFAULT_RETRY_QUOTA`] tokens.
///
/// ```
/// use std::time::Duration;
/// use fanvue_api_ext::RetryPolicy;
///
/// let policy = RetryPolicy::builder()
///     .max_attempts(6)
///     .base_delay(Duration::from_millis(100))
///     .max_elapsed(Duration::from_secs(30))
///     .build();
/// assert_eq!(policy.max_attempts(), 6);
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
    retry_non_idempotent: bool,
    quota: Option<u32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
            retry_non_idempotent: false,
            quota: Some(DEFAULT_RETRY_QUOTA),
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

    /// Starts from the default policy.
    pub fn builder() -> RetryPolicyBuilder {
        RetryPolicyBuilder(Self::default())
    }

    /// A builder starting from this policy.
    pub fn to_builder(&self) -> RetryPolicyBuilder {
        RetryPolicyBuilder(self.clone())
    }

    /// Attempts in total, the first included (`1` = never retry).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The first backoff bound; each retry doubles it.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The largest backoff bound (a server's `Retry-After` is honoured beyond it).
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// No retry is started when it would end later than this after the first attempt began.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// Whether non-idempotent methods (POST, PATCH) are retried too.
    pub fn retry_non_idempotent(&self) -> bool {
        self.retry_non_idempotent
    }

    /// The capacity of the client-wide retry quota (`None`: unlimited).
    pub fn retry_quota(&self) -> Option<u32> {
        self.quota
    }

    /// The backoff schedule of one request.
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff::new(self.base_delay, self.max_delay, self.max_attempts)
    }

    /// The delay before the next attempt, or `None` to stop: `scheduled` is the
    /// next backoff delay (`None` once attempts are exhausted), `server_hint` what
    /// the server asked for, `elapsed` the time since the first attempt began.
    pub(crate) fn next_delay(
        &self,
        scheduled: Option<Duration>,
        server_hint: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration> {
        let scheduled = scheduled?;
        let delay = server_hint.unwrap_or(scheduled);
        (elapsed.saturating_add(delay) <= self.max_elapsed).then_some(delay)
    }
}

/// Builds a [`RetryPolicy`]; see [`RetryPolicy::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct RetryPolicyBuilder(RetryPolicy);

impl RetryPolicyBuilder {
    /// Attempts in total, the first included (at least 1; `1` = never retry).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.0.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff bound (doubled on each retry).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.0.base_delay = delay;
        self
    }

    /// The largest backoff bound.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.0.max_delay = delay;
        self
    }

    /// No retry is started when it would end later than this after the first attempt began.
    pub fn max_elapsed(mut self, elapsed: Duration) -> Self {
        self.0.max_elapsed = elapsed;
        self
    }

    /// Also retry non-idempotent methods (POST, PATCH) on every call.
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.0.retry_non_idempotent = yes;
        self
    }

    /// The capacity of the client-wide retry quota, in tokens (a retry costs
    /// 5 tokens, 10 after a timeout; a success gives 1 back); `None` for no quota.
    pub fn retry_quota(mut self, capacity: Option<u32>) -> Self {
        self.0.quota = capacity;
        self
    }

    /// The policy.
    pub fn build(self) -> RetryPolicy {
        self.0
    }
}

/// Exponential backoff with full jitter: the `n`-th delay is drawn uniformly
/// from `[0, min(base × 2ⁿ, max)]`; it yields `max_attempts - 1` delays.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    bound: Duration,
    max: Duration,
    remaining: u32,
}

impl Backoff {
    pub(crate) fn new(base: Duration, max: Duration, max_attempts: u32) -> Self {
        Self {
            bound: base,
            max: max.max(base),
            remaining: max_attempts.saturating_sub(1),
        }
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.remaining = self.remaining.checked_sub(1)?;
        let bound = self.bound.min(self.max);
        self.bound = self.bound.saturating_mul(2);
        Some(full_jitter(bound))
    }
}

/// A delay drawn uniformly from `[0, bound]`.
pub(crate) fn full_jitter(bound: Duration) -> Duration {
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::random_range(0..=nanos))
}

/// The client-wide retry token bucket (see the [module docs](self)).
#[derive(Debug)]
pub(crate) struct RetryQuota {
    /// `None`: unlimited.
    capacity: Option<u32>,
    available: Mutex<u32>,
}

impl RetryQuota {
    pub(crate) fn new(capacity: Option<u32>) -> Self {
        Self {
            capacity,
            available: Mutex::new(capacity.unwrap_or(0)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u32> {
        self.available
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the cost of one retry (`timeout`: after a timeout); `None` when the
    /// bucket cannot pay (no retry), else the tokens taken.
    pub(crate) fn acquire(&self, timeout: bool) -> Option<u32> {
        if self.capacity.is_none() {
            return Some(0);
        }
        let cost = if timeout {
            TIMEOUT_RETRY_COST
        } else {
            RETRY_COST
        };
        let mut available = self.lock();
        *available = available.checked_sub(cost)?;
        Some(cost)
    }

    /// A request succeeded after taking `taken` tokens for its retries.
    pub(crate) fn succeeded(&self, taken: u32) {
        let Some(capacity) = self.capacity else {
            return;
        };
        let refund = if taken == 0 { SUCCESS_REFUND } else { taken };
        let mut available = self.lock();
        *available = available.saturating_add(refund).min(capacity);
    }

    /// Tokens left (`None`: unlimited).
    #[cfg(test)]
    pub(crate) fn available(&self) -> Option<u32> {
        self.capacity.map(|_| *self.lock())
    }
}

/// Statuses worth retrying: 429, 502, 503, 504.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// How long a response asks to wait: `Retry-After` (delta-seconds or an HTTP
/// date, see [`parse_retry_after`]), else the time until `X-RateLimit-Reset`
/// (Unix seconds; values below 10⁹ are read as seconds from now).
///
/// Dates and reset times are the server's clock: they are measured from the
/// response's `Date` header when it has one (so a local clock that is off
/// does not stretch or cancel the wait), else from `now`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use fanvue_api_ext::retry::retry_after;
/// use http::{HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("date", HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
/// headers.insert("retry-after", HeaderValue::from_static("Sun, 06 Nov 1994 08:49:40 GMT"));
/// // This machine's clock is a day ahead: the wait is still the server's 3 s.
/// let skewed = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777 + 86_400);
/// assert_eq!(retry_after(&headers, skewed), Some(Duration::from_secs(3)));
/// ```
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let now = response_date(headers).unwrap_or(now);
    if let Some(delay) = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, now))
    {
        return Some(delay);
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

/// The response's `Date` header: the server's clock when it answered.
pub(crate) fn response_date(headers: &HeaderMap) -> Option<SystemTime> {
    headers
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| http_date(v.trim()))
}

/// Parses one `Retry-After` value (RFC 9110 §10.2.3): delta-seconds (`120`)
/// or an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, or the obsolete RFC 850
/// and asctime forms). A date in the past is zero; anything else is `None`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use fanvue_api_ext::retry::parse_retry_after;
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 08:49:37
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(
///     parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
///     Some(Duration::from_secs(3))
/// );
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than u64 holds: as long as it gets.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An HTTP date in any of the three forms RFC 9110 accepts.
fn http_date(value: &str) -> Option<SystemTime> {
    use chrono::{NaiveDateTime, TimeZone as _, Utc};
    if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
        return Some(SystemTime::from(date));
    }
    const FORMATS: [&str; 2] = [
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        "%A, %d-%b-%y %H:%M:%S GMT",
        // asctime: Sun Nov  6 08:49:37 1994
        "%a %b %e %H:%M:%S %Y",
    ];
    FORMATS.iter().find_map(|format| {
        NaiveDateTime::parse_from_str(value, format)
            .ok()
            .map(|naive| SystemTime::from(Utc.from_utc_datetime(&naive)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn waits_are_measured_against_the_response_date() {
        let server = SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        let date = httpdate(server);
        // The local clock is an hour behind, then an hour ahead.
        for local in [
            server - Duration::from_secs(3600),
            server + Duration::from_secs(3600),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(DATE, HeaderValue::from_str(&date).unwrap());
            headers.insert(
                RETRY_AFTER,
                HeaderValue::from_str(&httpdate(server + Duration::from_secs(5))).unwrap(),
            );
            assert_eq!(retry_after(&headers, local), Some(Duration::from_secs(5)));
            headers.remove(RETRY_AFTER);
            headers.insert("x-ratelimit-reset", HeaderValue::from(1_900_000_007u64));
            assert_eq!(retry_after(&headers, local), Some(Duration::from_secs(7)));
            // Without a Date, the local clock is all there is.
            headers.remove(DATE);
            assert_ne!(retry_after(&headers, local), Some(Duration::from_secs(7)));
        }
    }

    fn httpdate(at: SystemTime) -> String {
        chrono::DateTime::<chrono::Utc>::from(at)
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    }

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
    fn parse_retry_after_forms_and_garbage() {
        // 1994-11-06T08:49:37Z
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(parse_retry_after("0", now), secs(0));
        assert_eq!(parse_retry_after("120", now), secs(120));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            secs(u64::MAX)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            secs(10)
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:57 GMT", now),
            secs(20)
        );
        assert_eq!(parse_retry_after("Sun Nov  6 08:50:07 1994", now), secs(30));
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            secs(0)
        );
        for garbage in [
            "",
            " ",
            "-1",
            "1.5",
            "+3",
            "soon",
            "Sun, 06 Nov",
            "0x10",
            "1e3",
            "12 s",
        ] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let policy = RetryPolicy::builder()
            .max_attempts(6)
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(400))
            .build();
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
        // no overflow however many attempts
        assert_eq!(
            Backoff::new(Duration::from_secs(1), Duration::MAX, 200).count(),
            199
        );
    }

    #[test]
    fn next_delay_respects_attempts_hint_and_elapsed() {
        let policy = RetryPolicy::builder()
            .max_elapsed(Duration::from_secs(10))
            .build();
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
    fn quota_takes_refunds_and_runs_dry() {
        let quota = RetryQuota::new(Some(22));
        assert_eq!(quota.acquire(false), Some(RETRY_COST));
        assert_eq!(quota.acquire(true), Some(TIMEOUT_RETRY_COST));
        assert_eq!(quota.available(), Some(7));
        assert_eq!(quota.acquire(true), None, "10 > 7: no retry");
        assert_eq!(quota.acquire(false), Some(RETRY_COST));
        assert_eq!(quota.acquire(false), None, "5 > 2");
        quota.succeeded(15);
        assert_eq!(quota.available(), Some(17));
        quota.succeeded(0);
        assert_eq!(quota.available(), Some(18));
        quota.succeeded(100);
        assert_eq!(quota.available(), Some(22), "never above capacity");
        let unlimited = RetryQuota::new(None);
        for _ in 0..1000 {
            assert_eq!(unlimited.acquire(true), Some(0));
        }
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
