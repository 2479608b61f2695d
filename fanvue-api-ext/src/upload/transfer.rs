//! Sending one part to its presigned URL, with retries: a fresh URL when the
//! storage says the URL expired or is forbidden, backoff (honouring
//! `Retry-After`) on throttling, 5xx and broken connections, and a resend when
//! the storage refuses the bytes as corrupted (`Content-MD5` mismatch, 400
//! `BadDigest`). Every PUT carries `Content-MD5`; any `ETag` is accepted.
//!
//! The part is retried as a unit (URL request and `PUT`): the URL request is
//! sent with the executor's retries off, so each request has one retry layer.
//! Backoff, jitter and `Retry-After` parsing are the [`crate::retry`] module's,
//! and every retry draws from the client-wide retry quota.
//!
//! The PUT goes through the transfer client, which has no default headers: the
//! storage never sees the Fanvue token or any `X-Fanvue-*` header.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_LENGTH, ETAG};

use super::api::UploadApi;
use super::error::PartUploadError;
use super::file::SourceFile;
use super::progress::ProgressSink;
use super::source::{PartData, Payload};
use super::state::CompletedPart;
use crate::error::TransportError;
use crate::retry::{self, Backoff, RetryQuota};

/// How a failing part is retried. Each part has its own budget; the other
/// parts carry on meanwhile. Built from [`Default`] with the `with_*`
/// methods, which keep it consistent (at least one attempt, the longest
/// delay not below the first).
///
/// ```
/// use std::time::Duration;
/// use fanvue_api_ext::upload::PartRetryPolicy;
/// let policy = PartRetryPolicy::default()
///     .with_max_attempts(4)
///     .with_delays(Duration::from_millis(100), Duration::from_secs(5));
/// assert_eq!(policy.max_attempts(), 4);
/// assert_eq!(policy.min_throughput(), Some(256 * 1024));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRetryPolicy {
    /// Attempts per part, the first included (at least 1).
    max_attempts: u32,
    /// Delay before the first retry (doubled each time, with jitter).
    min_delay: Duration,
    /// Longest delay between two attempts.
    max_delay: Duration,
    /// Longest a single PUT (or URL request) may take before it is abandoned
    /// and retried (raised for big parts by `min_throughput`).
    pub(crate) attempt_timeout: Duration,
    /// When set, a PUT of `n` bytes may take at least `n / min_throughput`
    /// seconds, so big parts on slow links are not abandoned (default
    /// 256 KiB/s; `None` makes `attempt_timeout` a hard limit).
    min_throughput: Option<u64>,
}

impl Default for PartRetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(300),
            min_throughput: Some(256 * 1024),
        }
    }
}

impl PartRetryPolicy {
    /// Sets the attempts per part (at least 1).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the delay before the first retry and the longest delay.
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// Sets how long one attempt may take, whatever the part size (it clears
    /// `min_throughput`).
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self.min_throughput = None;
        self
    }

    /// Lets a PUT of `n` bytes take at least `n / bytes_per_sec` seconds
    /// (beyond the attempt timeout), so big parts on slow links are not
    /// abandoned; `None` makes the attempt timeout a hard limit.
    pub fn with_min_throughput(mut self, bytes_per_sec: Option<u64>) -> Self {
        self.min_throughput = bytes_per_sec.filter(|r| *r > 0);
        self
    }

    /// Attempts per part, the first included (default 6).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay before the first retry (default 200 ms; doubled each time, with jitter).
    pub fn min_delay(&self) -> Duration {
        self.min_delay
    }

    /// The longest delay between two attempts (default 10 s).
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// How long one attempt may take (default 300 s; raised for big parts
    /// by [`min_throughput`](Self::min_throughput)).
    pub fn attempt_timeout(&self) -> Duration {
        self.attempt_timeout
    }

    /// The throughput a big part's PUT is allowed (default 256 KiB/s).
    pub fn min_throughput(&self) -> Option<u64> {
        self.min_throughput
    }

    /// How long a PUT of `len` bytes may take.
    pub(crate) fn put_timeout(&self, len: u64) -> Duration {
        match self.min_throughput {
            Some(rate) if rate > 0 => self
                .attempt_timeout
                .max(Duration::from_secs(len.div_ceil(rate))),
            _ => self.attempt_timeout,
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(self.min_delay, self.max_delay, self.max_attempts)
    }
}

/// What the part tasks share.
pub(crate) struct PartCtx<A> {
    pub(crate) api: Arc<A>,
    pub(crate) http: reqwest::Client,
    pub(crate) upload_id: String,
    pub(crate) retry: PartRetryPolicy,
    pub(crate) progress: ProgressSink,
    /// Set by a part that failed for good, before it frees its connection:
    /// parts waiting for a connection then stop instead of starting.
    pub(crate) failed: std::sync::atomic::AtomicBool,
    /// The client-wide retry quota (`None`: unlimited).
    pub(crate) quota: Option<Arc<RetryQuota>>,
    /// Holds the URL requests (prefetched and retried) while rate-limited.
    pub(crate) gate: Arc<RateGate>,
}

impl<A> PartCtx<A> {
    /// The next delay of `backoff` if the quota pays for the retry; `None`: give up.
    fn next_retry(
        &self,
        backoff: &mut Backoff,
        timeout: bool,
        taken: &mut u32,
    ) -> Option<Duration> {
        let delay = backoff.next()?;
        if let Some(quota) = &self.quota {
            let Some(cost) = quota.acquire(timeout) else {
                tracing::info!("retry quota exhausted: not retrying the part");
                return None;
            };
            *taken = taken.saturating_add(cost);
        }
        Some(delay)
    }

    /// The part is done: the quota gets back what its retries took.
    fn succeeded(&self, taken: u32) {
        if let Some(quota) = &self.quota {
            quota.succeeded(taken);
        }
    }
}

/// A part that could not be sent.
pub(crate) enum PartFailure {
    /// The API would not give a URL.
    Url { part: u32, source: crate::Error },
    /// The storage would not take the part.
    Put { part: u32, source: PartUploadError },
}

/// The outcome of one failed PUT.
struct Attempt {
    error: PartUploadError,
    /// The storage refused the bytes as corrupted (`Content-MD5` mismatch).
    bad_digest: bool,
    retryable: bool,
    refresh_url: bool,
    retry_after: Option<Duration>,
    /// The attempt timed out (a retry costs more of the quota).
    timeout: bool,
}

/// The longest `Retry-After` from the storage that is honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A presigned URL fetched ahead of need is used only while younger than
/// this; an older one is fetched again (presigned URLs expire).
pub(crate) const URL_MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// A part URL fetched ahead of need (or the error of fetching it).
pub(crate) type Prefetched = Result<(reqwest::Url, tokio::time::Instant), crate::Error>;

/// The pause of an upload's URL requests while the API rate-limits them:
/// a 429 with `Retry-After` (at most [`MAX_RETRY_AFTER`]) holds every URL
/// request of the upload, prefetched or retried, until it has passed.
#[derive(Debug, Default)]
pub(crate) struct RateGate(std::sync::Mutex<Option<tokio::time::Instant>>);

impl RateGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<tokio::time::Instant>> {
        match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Holds URL requests for `wait` from now (or longer, if already held).
    fn pause(&self, wait: Duration) {
        let Some(until) = tokio::time::Instant::now().checked_add(wait.min(MAX_RETRY_AFTER)) else {
            return;
        };
        let mut held = self.lock();
        if held.is_none_or(|h| h < until) {
            *held = Some(until);
        }
    }

    /// Waits until URL requests may be sent.
    async fn wait(&self) {
        loop {
            let until = *self.lock();
            match until {
                Some(until) if until > tokio::time::Instant::now() => {
                    tokio::time::sleep_until(until).await;
                }
                _ => return,
            }
        }
    }
}

/// Gets part `n`'s presigned URL from the API (one request, sent once the
/// upload's [`RateGate`] is open), bounded by the attempt timeout. A 429
/// closes the gate for its `Retry-After` (1 s when it has none).
pub(crate) async fn fetch_url<A: UploadApi>(
    api: &A,
    gate: &RateGate,
    upload_id: &str,
    n: u32,
    timeout: Duration,
) -> Result<Result<reqwest::Url, crate::Error>, PartFailure> {
    gate.wait().await;
    let result = tokio::time::timeout(timeout, api.part_url(upload_id, n)).await;
    if let Ok(Err(crate::Error::RateLimited { retry_after, .. })) = &result {
        let wait = retry_after.unwrap_or(Duration::from_secs(1));
        tracing::info!(part = n, ?wait, "part URLs are rate limited: pausing them");
        gate.pause(wait);
    }
    match result {
        Ok(Ok(text)) => match parse_presigned_url(&text, api.allow_insecure_http()) {
            Ok(u) => Ok(Ok(u)),
            Err(source) => Err(PartFailure::Put { part: n, source }),
        },
        Ok(Err(e)) => Ok(Err(e)),
        Err(_) => Err(PartFailure::Put {
            part: n,
            source: PartUploadError::TimedOut(timeout),
        }),
    }
}

/// Sends one part, retrying it alone; returns its number, `ETag` and MD5.
/// `prefetched` is its URL when it was fetched ahead of need.
pub(crate) async fn upload_part<A: UploadApi>(
    ctx: Arc<PartCtx<A>>,
    part: &PartData,
    prefetched: Option<Prefetched>,
) -> Result<CompletedPart, PartFailure> {
    let mut backoff = ctx.retry.backoff();
    let mut taken = 0u32;
    let mut url: Option<reqwest::Url> = None;
    let mut prefetched = prefetched;
    loop {
        let target = match &url {
            Some(u) => u.clone(),
            None => {
                let fetched = match prefetched.take() {
                    Some(Ok((u, at))) if at.elapsed() < URL_MAX_AGE => Ok(Ok(u)),
                    Some(Err(e)) => Ok(Err(e)),
                    _ => {
                        fetch_url(
                            &*ctx.api,
                            &ctx.gate,
                            &ctx.upload_id,
                            part.number,
                            ctx.retry.attempt_timeout,
                        )
                        .await
                    }
                };
                match fetched {
                    Ok(Ok(u)) => {
                        url = Some(u.clone());
                        u
                    }
                    Ok(Err(e)) => {
                        let timeout = matches!(&e, crate::Error::Transport(t) if t.kind() == crate::error::TransportErrorKind::Timeout);
                        if ctx.api.is_transient(&e)
                            && let Some(delay) = ctx.next_retry(&mut backoff, timeout, &mut taken)
                        {
                            tracing::debug!(part = part.number, ?delay, "retrying part URL: {e}");
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        return Err(PartFailure::Url {
                            part: part.number,
                            source: e,
                        });
                    }
                    Err(PartFailure::Put {
                        source: PartUploadError::TimedOut(t),
                        ..
                    }) => match ctx.next_retry(&mut backoff, true, &mut taken) {
                        Some(delay) => {
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        None => {
                            return Err(PartFailure::Put {
                                part: part.number,
                                source: PartUploadError::TimedOut(t),
                            });
                        }
                    },
                    Err(other) => return Err(other),
                }
            }
        };
        let timeout = ctx.retry.put_timeout(part.len());
        let failed = match put_once(&ctx.http, target, part, timeout, &ctx.progress).await {
            Ok(etag) => {
                ctx.succeeded(taken);
                return Ok(CompletedPart {
                    part_number: part.number,
                    etag,
                    md5: Some(part.md5_hex()),
                });
            }
            Err(attempt) => attempt,
        };
        if failed.refresh_url {
            url = None;
        }
        if failed.bad_digest
            && let Payload::File { file, start, len } = &part.payload
            && !still_holds(file.clone(), *start, *len, part.md5).await
        {
            return Err(PartFailure::Put {
                part: part.number,
                source: PartUploadError::SourceChanged {
                    start: *start,
                    end: start.saturating_add(*len),
                },
            });
        }
        let delay = if failed.retryable {
            ctx.next_retry(&mut backoff, failed.timeout, &mut taken)
        } else {
            None
        };
        let Some(delay) = delay else {
            return Err(PartFailure::Put {
                part: part.number,
                source: failed.error,
            });
        };
        let delay = failed
            .retry_after
            .map_or(delay, |ra| ra.min(MAX_RETRY_AFTER).max(delay));
        tracing::debug!(
            part = part.number,
            ?delay,
            "retrying part: {}",
            failed.error
        );
        tokio::time::sleep(delay).await;
    }
}

/// Whether the file range still holds the bytes whose MD5 is `md5` (a
/// `Content-MD5` refusal then means corruption in transit: worth a resend).
async fn still_holds(file: Arc<SourceFile>, start: u64, len: u64, md5: [u8; 16]) -> bool {
    tokio::task::spawn_blocking(move || {
        super::source::hash_file_range(&file, start, len).is_ok_and(|now| now == md5)
    })
    .await
    .unwrap_or(false)
}

/// One PUT of the part's bytes; the `ETag` on success.
async fn put_once(
    http: &reqwest::Client,
    url: reqwest::Url,
    part: &PartData,
    timeout: Duration,
    progress: &ProgressSink,
) -> Result<String, Attempt> {
    let handed = Arc::new(AtomicU64::new(0));
    let request = http
        .put(url)
        .header(CONTENT_LENGTH, part.len())
        .header("content-md5", part.md5_base64())
        .body(match &part.payload {
            Payload::Memory(bytes) => counted_body(bytes.clone(), progress.clone(), handed.clone()),
            Payload::File { file, start, len } => {
                file_body(file.clone(), *start, *len, progress.clone(), handed.clone())
            }
        });
    let result = put_and_read_etag(request, timeout).await;
    if result.is_err() {
        // What this attempt handed over is not sent: the part goes again.
        progress.drop_in_flight(handed.load(Ordering::Relaxed));
    }
    result
}

/// Size of the slices a part body is handed to the connection in (progress
/// granularity; the slices share the part's buffer, nothing is copied).
const PROGRESS_CHUNK: usize = 256 * 1024;

/// The part's bytes as a streamed body that reports each slice to `progress`
/// as the connection takes it. The caller sets `Content-Length`, so the PUT
/// is not chunked (presigned S3 URLs require the length).
fn counted_body(bytes: Bytes, progress: ProgressSink, handed: Arc<AtomicU64>) -> reqwest::Body {
    let len = bytes.len();
    let slices = (0..len).step_by(PROGRESS_CHUNK).map(move |start| {
        let slice = bytes.slice(start..start.saturating_add(PROGRESS_CHUNK).min(len));
        let n = slice.len() as u64;
        handed.fetch_add(n, Ordering::Relaxed);
        progress.add_in_flight(n);
        Ok::<Bytes, std::convert::Infallible>(slice)
    });
    reqwest::Body::wrap_stream(futures::stream::iter(slices))
}

/// A file range as a streamed body, read from the source's handle slice by
/// slice (by position) as the connection takes it (at most one slice per
/// connection in memory), each slice reported to `progress`. A file that ends
/// before the range does is an error of the body (the PUT fails and is
/// retried; the storage never takes a short part, since `Content-Length` and
/// `Content-MD5` are fixed).
fn file_body(
    file: Arc<SourceFile>,
    start: u64,
    len: u64,
    progress: ProgressSink,
    handed: Arc<AtomicU64>,
) -> reqwest::Body {
    let slices = futures::stream::try_unfold(0u64, move |sent| {
        let file = file.clone();
        let progress = progress.clone();
        let handed = handed.clone();
        async move {
            if sent >= len {
                return Ok(None);
            }
            let want = usize::try_from(len.saturating_sub(sent))
                .unwrap_or(PROGRESS_CHUNK)
                .min(PROGRESS_CHUNK);
            let at = start.saturating_add(sent);
            let slice =
                tokio::task::spawn_blocking(move || read_slice(&file, at, want, start, len))
                    .await
                    .map_err(|e| {
                        std::io::Error::other(format!("reading the file stopped: {e}"))
                    })??;
            let n = slice.len() as u64;
            handed.fetch_add(n, Ordering::Relaxed);
            progress.add_in_flight(n);
            Ok::<_, std::io::Error>(Some((slice, sent.saturating_add(n))))
        }
    });
    reqwest::Body::wrap_stream(slices)
}

/// `want` bytes of the file from `at` (within the part `start..start + len`).
fn read_slice(
    file: &SourceFile,
    at: u64,
    want: usize,
    start: u64,
    len: u64,
) -> std::io::Result<Bytes> {
    let mut slice = BytesMut::zeroed(want);
    let mut filled = 0usize;
    while filled < want {
        let n = file.read_at(
            slice.get_mut(filled..).unwrap_or_default(),
            at.saturating_add(filled as u64),
        )?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "{} ended at byte {} while part bytes {start}..{} were sent: the file changed",
                    file.path().display(),
                    at.saturating_add(filled as u64),
                    start.saturating_add(len),
                ),
            ));
        }
        filled = filled.saturating_add(n);
    }
    Ok(slice.freeze())
}

/// Sends the PUT and turns its response into the part's `ETag` or a failed attempt.
async fn put_and_read_etag(
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<String, Attempt> {
    let response = match tokio::time::timeout(timeout, request.send()).await {
        Err(_) => return Err(timed_out(timeout)),
        Ok(Err(e)) => return Err(transport(e)),
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let retry_after = retry::retry_after(response.headers(), std::time::SystemTime::now());
    // Read the (small) body so the connection can be reused; a broken body is
    // a transport failure of this attempt.
    let body = match tokio::time::timeout(timeout, response.bytes()).await {
        Err(_) => return Err(timed_out(timeout)),
        Ok(Err(e)) => return Err(transport(e)),
        Ok(Ok(b)) => b,
    };
    if status.is_success() {
        // Any ETag is accepted: integrity is S3's `Content-MD5` check (a
        // corrupted part is refused with 400 BadDigest); under SSE-KMS or
        // SSE-C the ETag is not the MD5 of the bytes.
        let Some(etag) = etag.filter(|e| !e.trim().is_empty()) else {
            return Err(retry_with(PartUploadError::MissingEtag));
        };
        return Ok(etag);
    }
    let text =
        String::from_utf8_lossy(body.get(..body.len().min(512)).unwrap_or_default()).into_owned();
    let code = status.as_u16();
    let lower = text.to_ascii_lowercase();
    let expired = lower.contains("expired");
    // The bytes did not arrive as sent (S3 checked `Content-MD5`): send again.
    let bad_digest = lower.contains("baddigest");
    let error = PartUploadError::Status {
        status: code,
        body: text,
    };
    Err(match code {
        403 => Attempt {
            refresh_url: true,
            ..retry_with(error)
        },
        400 if expired => Attempt {
            refresh_url: true,
            ..retry_with(error)
        },
        400 if bad_digest => Attempt {
            bad_digest: true,
            ..retry_with(error)
        },
        408 | 429 | 500..=599 => Attempt {
            retry_after,
            ..retry_with(error)
        },
        _ => Attempt {
            retryable: false,
            ..retry_with(error)
        },
    })
}

fn retry_with(error: PartUploadError) -> Attempt {
    Attempt {
        error,
        bad_digest: false,
        retryable: true,
        refresh_url: false,
        retry_after: None,
        timeout: false,
    }
}

fn timed_out(after: Duration) -> Attempt {
    Attempt {
        timeout: true,
        ..retry_with(PartUploadError::TimedOut(after))
    }
}

fn transport(error: reqwest::Error) -> Attempt {
    let error = TransportError::from_reqwest(error);
    Attempt {
        timeout: error.kind() == crate::error::TransportErrorKind::Timeout,
        ..retry_with(PartUploadError::Transport(error))
    }
}

/// The presigned URL from the API's `text/plain` body (trimmed; a JSON string
/// is unquoted). Only absolute `https` URLs are accepted, and `http` ones
/// when `allow_http` (the client's `allow_insecure_http`).
pub(crate) fn parse_presigned_url(
    text: &str,
    allow_http: bool,
) -> Result<reqwest::Url, PartUploadError> {
    let text = text.trim();
    let unquoted = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|_| PartUploadError::BadUrl)?
    } else {
        text.to_owned()
    };
    let url = reqwest::Url::parse(unquoted.trim()).map_err(|_| PartUploadError::BadUrl)?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_http => Ok(url),
        "http" => Err(PartUploadError::InsecureUrl),
        _ => Err(PartUploadError::BadUrl),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presigned_urls() {
        let u = parse_presigned_url(
            "  https://s3.example/b/k?partNumber=1&X-Amz-Signature=x\n",
            false,
        )
        .unwrap();
        assert_eq!(u.host_str(), Some("s3.example"));
        assert!(parse_presigned_url("\"http://127.0.0.1:9/x\"", true).is_ok());
        for bad in ["not a url", "ftp://x/y", "{}", "\"unterminated"] {
            assert!(
                matches!(parse_presigned_url(bad, true), Err(PartUploadError::BadUrl)),
                "{bad}"
            );
        }
    }

    #[test]
    fn plain_http_part_urls_are_refused_unless_allowed() {
        for url in [
            "http://s3.example/b/k?X-Amz-Signature=x",
            "\"http://127.0.0.1:9/x\"",
        ] {
            assert!(
                matches!(
                    parse_presigned_url(url, false),
                    Err(PartUploadError::InsecureUrl)
                ),
                "{url}"
            );
            assert!(parse_presigned_url(url, true).is_ok(), "{url}");
        }
    }

    #[test]
    fn put_timeout_grows_with_big_parts_unless_fixed() {
        let p = PartRetryPolicy::default();
        assert_eq!(p.put_timeout(8 << 20), Duration::from_secs(300));
        assert_eq!(p.put_timeout(5 << 30), Duration::from_secs(20 * 1024));
        let fixed = p.with_attempt_timeout(Duration::from_secs(2));
        assert_eq!(fixed.put_timeout(5 << 30), Duration::from_secs(2));
    }

    #[test]
    fn backoff_gives_attempts_minus_one_delays() {
        let p = PartRetryPolicy::default().with_max_attempts(3);
        assert_eq!(p.backoff().count(), 2);
        assert_eq!(
            PartRetryPolicy::default()
                .with_max_attempts(0)
                .backoff()
                .count(),
            0
        );
    }
}
