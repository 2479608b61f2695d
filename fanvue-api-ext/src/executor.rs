//! The [`RequestExecutor`] every request of every generated operation goes
//! through: checks before sending, the `Authorization`, `X-Fanvue-API-Version`
//! and `User-Agent` headers, the 401 refresh-and-replay, retries, and one
//! tracing span per request.
//!
//! Every response is read here, within the attempt's timeout: a success body
//! up to the client's cap ([`DEFAULT_MAX_RESPONSE_BODY`](crate::client::DEFAULT_MAX_RESPONSE_BODY)),
//! an error body up to [`MAX_ERROR_BODY`]. A body cut short (fewer bytes than
//! its `content-length`, or a connection reset mid-body) fails the attempt like
//! a reset, so idempotent requests retry it. A response whose final URL is off
//! the API origin (a redirect followed by a user-supplied client) is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fanvue_api::executor::{BoxFuture, OperationMeta, RequestExecutor};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Response, StatusCode};
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::auth::AuthError;
use crate::auth::session::{AuthHeader, Authenticator};
use crate::call;
use crate::error::{Error, ErrorResponse, TransportError, TransportErrorKind};
use crate::ratelimit::{RateLimiter, Refusal};
use crate::retry::{self, RetryPolicy, RetryQuota};
use crate::validate;
use bytes::{Bytes, BytesMut};

/// The most of an error response's body that is kept, in bytes (the rest is not read).
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// The API version header.
pub(crate) const API_VERSION_HEADER: HeaderName = HeaderName::from_static("x-fanvue-api-version");

/// Sends the generated client's requests.
pub(crate) struct Executor {
    /// Only URLs of this origin get credentials (and are sent at all).
    pub(crate) origin: url::Origin,
    pub(crate) auth: Authenticator,
    pub(crate) api_version: HeaderValue,
    pub(crate) user_agent: HeaderValue,
    pub(crate) policy: RetryPolicy,
    /// The client-wide retry token bucket (shared with uploads).
    pub(crate) quota: Arc<RetryQuota>,
    /// Per-request timeout, applied when the request has none.
    pub(crate) timeout: Option<Duration>,
    /// The largest success body read.
    pub(crate) max_body: usize,
    /// The client-side rate limiter (shared by the clones of the client).
    pub(crate) limiter: RateLimiter,
}

impl RequestExecutor for Executor {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: &'static OperationMeta,
    ) -> BoxFuture<'a, reqwest::Result<Response>> {
        let span = tracing::info_span!(
            "fanvue.request",
            operation_id = operation.operation_id,
            method = operation.method,
            path = operation.path,
            status = Empty,
            request_id = Empty,
            attempt = Empty,
            latency_ms = Empty,
        );
        Box::pin(self.run(client, request, operation).instrument(span))
    }
}

/// How one attempt failed, and whether to try again.
struct Failure {
    outcome: Outcome,
    retryable: bool,
    /// How long the server asked to wait (429).
    wait_hint: Option<Duration>,
    reason: &'static str,
    attempt: u32,
    /// A timeout (a retry costs more of the quota).
    timeout: bool,
}

enum Outcome {
    /// A response with a retryable status (429, 502, 503, 504).
    Response(Box<Response>),
    Transport(reqwest::Error),
    Auth(AuthError),
    /// A response refused or cut short (off-origin, too large, truncated body).
    Refused(Error),
}

/// Counters shared by the attempts of one request.
#[derive(Default)]
struct Attempts {
    count: AtomicU32,
    replayed_after_401: AtomicBool,
}

impl Executor {
    async fn run(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        operation: &'static OperationMeta,
    ) -> reqwest::Result<Response> {
        let started = Instant::now();
        if let Err(error) = validate::check_request(request.url(), operation) {
            return Err(call::fail(error).await);
        }
        if let Some(body) = request.body().and_then(|b| b.as_bytes())
            && let Err(error) = validate::check_body(body, operation)
        {
            return Err(call::fail(error).await);
        }
        if request.url().origin() != self.origin {
            return Err(call::fail(Error::invalid_input(
                "request URL",
                "not on the configured API origin; credentials are only sent there",
            ))
            .await);
        }
        let headers = request.headers_mut();
        headers.insert(API_VERSION_HEADER, self.api_version.clone());
        headers.insert(USER_AGENT, self.user_agent.clone());
        if request.timeout().is_none() {
            *request.timeout_mut() = self.timeout;
        }

        let options = call::options();
        let idempotent = operation.is_idempotent()
            || options
                .retry_non_idempotent
                .unwrap_or(self.policy.retry_non_idempotent());
        let replayable = request.body().is_none_or(|body| body.as_bytes().is_some());
        let attempts = Attempts::default();

        let result = if replayable && options.retries {
            self.with_retries(client, &request, operation, &attempts, idempotent, started)
                .await
        } else if replayable {
            // The caller retries at its own level: one attempt (with the 401
            // refresh-and-replay, which is not a retry).
            self.attempt(client, &request, operation, &attempts, idempotent)
                .await
        } else {
            // A streaming body cannot be sent twice: no replay.
            attempts.count.store(1, Ordering::Relaxed);
            match self
                .send(client, request, operation, Credential::Current)
                .await
            {
                Ok((result, _)) => self.conclude(result, false, 1).await,
                Err(error) => Err(auth_failure(error, 1)),
            }
        };

        let span = tracing::Span::current();
        span.record("attempt", attempts.count.load(Ordering::Relaxed));
        span.record(
            "latency_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        let read = match result {
            Ok(read) => read,
            Err(failure) => match failure.outcome {
                // a retryable status whose retries ran out: its body is still unread
                Outcome::Response(response) => match self.read(*response).await {
                    Ok(read) => read,
                    Err(error) => return Err(call::fail(error).await),
                },
                Outcome::Transport(error) => {
                    tracing::debug!(error = %error, "request failed");
                    return Err(error);
                }
                Outcome::Auth(error) => return Err(call::fail(Error::Auth(error)).await),
                Outcome::Refused(error) => {
                    tracing::debug!(error = %error, "response refused");
                    return Err(call::fail(error).await);
                }
            },
        };
        span.record("status", read.status.as_u16());
        tracing::debug!("response received");
        Ok(finish(read))
    }

    /// Reads `response`'s body whole (a success body up to the cap, an error
    /// body up to [`MAX_ERROR_BODY`]) into an identical response.
    async fn read(&self, mut response: Response) -> Result<ReadResponse, Error> {
        let status = response.status();
        let request_id = crate::error::request_id(response.headers()).map(str::to_owned);
        if let Some(id) = &request_id {
            tracing::Span::current().record("request_id", id.as_str());
        }
        call::record_request_id(request_id.as_deref());
        if response.url().origin() != self.origin {
            // Only a client that follows redirects gets here (this crate's own never does).
            return Err(Error::OffOrigin {
                status,
                origin: response.url().origin().ascii_serialization(),
                request_id,
            });
        }
        let limit = if status.is_success() {
            self.max_body
        } else {
            MAX_ERROR_BODY
        };
        let declared = response.content_length();
        if status.is_success()
            && let Some(length) = declared
            && length > u64::try_from(limit).unwrap_or(u64::MAX)
        {
            return Err(Error::ResponseTooLarge {
                status,
                limit,
                request_id,
            });
        }
        let capacity = declared
            .and_then(|length| usize::try_from(length).ok())
            .unwrap_or(0)
            .min(limit);
        let mut body = BytesMut::with_capacity(capacity);
        let mut complete = true;
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(error) => {
                    return Err(Error::Transport(
                        TransportError::from_reqwest(error).with_request_id(request_id),
                    ));
                }
            };
            let room = limit.saturating_sub(body.len());
            if chunk.len() > room {
                if status.is_success() {
                    return Err(Error::ResponseTooLarge {
                        status,
                        limit,
                        request_id,
                    });
                }
                // an error body: keep the first MAX_ERROR_BODY bytes, read no further
                body.extend_from_slice(chunk.get(..room).unwrap_or_default());
                complete = false;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let received = u64::try_from(body.len()).unwrap_or(u64::MAX);
        // (no operation of the API is a HEAD, whose content-length describes no body)
        let bodiless = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
        if complete && !bodiless && declared.is_some_and(|length| length != received) {
            return Err(Error::Transport(
                TransportError::new(
                    TransportErrorKind::Reset,
                    BodyCutShort {
                        declared: declared.unwrap_or_default(),
                        received,
                    },
                )
                .with_request_id(request_id),
            ));
        }
        Ok(ReadResponse {
            status,
            version: response.version(),
            headers: std::mem::take(response.headers_mut()),
            body: body.freeze(),
        })
    }

    /// Attempts until one succeeds, fails for good, the policy's attempts or
    /// time run out, or the client-wide quota cannot pay for another retry.
    async fn with_retries(
        &self,
        client: &reqwest::Client,
        request: &reqwest::Request,
        operation: &'static OperationMeta,
        attempts: &Attempts,
        idempotent: bool,
        started: Instant,
    ) -> Result<ReadResponse, Failure> {
        let mut backoff = self.policy.backoff();
        let mut taken = 0u32;
        loop {
            let failure = match self
                .attempt(client, request, operation, attempts, idempotent)
                .await
            {
                Ok(response) => {
                    self.quota.succeeded(taken);
                    return Ok(response);
                }
                Err(failure) if !failure.retryable => return Err(failure),
                Err(failure) => failure,
            };
            let Some(delay) =
                self.policy
                    .next_delay(backoff.next(), failure.wait_hint, started.elapsed())
            else {
                return Err(failure);
            };
            let Some(cost) = self.quota.acquire(failure.timeout) else {
                tracing::info!(
                    attempt = failure.attempt,
                    reason = failure.reason,
                    "retry quota exhausted: not retrying",
                );
                return Err(failure);
            };
            taken = taken.saturating_add(cost);
            tracing::info!(
                attempt = failure.attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                reason = failure.reason,
                "retrying",
            );
            drop(failure);
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt: send with the current token; on a 401 (OAuth only, once per
    /// request) refresh and send again.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        request: &reqwest::Request,
        operation: &'static OperationMeta,
        attempts: &Attempts,
        idempotent: bool,
    ) -> Result<ReadResponse, Failure> {
        let attempt = attempts
            .count
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        let (result, auth) = self
            .send(client, clone(request), operation, Credential::Current)
            .await
            .map_err(|e| auth_failure(e, attempt))?;
        let result = match (result, auth) {
            (Ok(response), Some(auth))
                if response.status() == StatusCode::UNAUTHORIZED
                    && self.auth.can_refresh(&auth)
                    && !attempts.replayed_after_401.swap(true, Ordering::Relaxed) =>
            {
                drop(response);
                tracing::info!(attempt, "401: refreshing the token and replaying once");
                self.send(
                    client,
                    clone(request),
                    operation,
                    Credential::RefreshedAfter(&auth),
                )
                .await
                .map_err(|e| auth_failure(e, attempt))?
                .0
            }
            (other, _) => other,
        };
        self.conclude(result, idempotent, attempt).await
    }

    /// An attempt's outcome: a retryable status or transport failure as a
    /// [`Failure`], else the response read whole (a body cut short is a
    /// reset, retried like one when the request is idempotent).
    async fn conclude(
        &self,
        result: reqwest::Result<Response>,
        idempotent: bool,
        attempt: u32,
    ) -> Result<ReadResponse, Failure> {
        let response = classify(result, idempotent, attempt)?;
        self.read(response).await.map_err(|error| {
            let transient = matches!(&error, Error::Transport(e) if e.is_transient());
            Failure {
                retryable: transient && idempotent,
                timeout: matches!(&error, Error::Transport(e) if e.kind() == TransportErrorKind::Timeout),
                reason: if transient { "response body cut short" } else { "response refused" },
                outcome: Outcome::Refused(error),
                wait_hint: None,
                attempt,
            }
        })
    }

    /// Takes one request of the operation's rate-limit bucket, then the
    /// credential (after the wait, so a token cannot expire while the request
    /// waits), and sends. `Err` when no credential could be had; the
    /// credential used comes back with the result (none when the limiter
    /// refused the request).
    async fn send(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        operation: &'static OperationMeta,
        credential: Credential<'_>,
    ) -> Result<(reqwest::Result<Response>, Option<AuthHeader>), AuthError> {
        // one request of the bucket's window, held until the response's headers arrive
        let creator = operation.creator_user_uuid(request.url());
        let permit = match self.limiter.acquire(operation, creator).await {
            Ok(permit) => permit,
            Err(refusal) => return Ok((Err(call::fail(refused(refusal)).await), None)),
        };
        let auth = match credential {
            Credential::Current => self.auth.header().await?,
            Credential::RefreshedAfter(stale) => {
                self.auth.refresh_after_unauthorized(stale).await?
            }
        };
        request
            .headers_mut()
            .insert(AUTHORIZATION, auth.value.clone());
        let result = client.execute(request).await;
        if let Ok(response) = &result {
            permit.observe(response.status(), response.headers());
            if response.status() != StatusCode::UNAUTHORIZED {
                self.auth.accepted(&auth);
            }
        }
        drop(permit);
        Ok((result, Some(auth)))
    }
}

/// Which credential a request is sent with.
enum Credential<'a> {
    /// The current token.
    Current,
    /// A token refreshed because this one was refused (401).
    RefreshedAfter(&'a AuthHeader),
}

/// The error for a request the rate limiter did not let go.
fn refused(refusal: Refusal) -> Error {
    match refusal {
        Refusal::Exhausted {
            retry_after,
            limit,
            reset,
        } => Error::RateLimitedLocally {
            retry_after,
            limit,
            reset,
        },
        Refusal::TooLong {
            wait,
            limit,
            reset,
            cause,
        } => {
            let (status, headers) =
                cause.unwrap_or((StatusCode::TOO_MANY_REQUESTS, Default::default()));
            Error::RateLimited {
                retry_after: Some(wait),
                limit,
                remaining: Some(0),
                reset,
                response: ErrorResponse::new(status, headers, Bytes::new()),
            }
        }
    }
}

/// Clones a request whose body is in memory (checked by the caller).
fn clone(request: &reqwest::Request) -> reqwest::Request {
    request.try_clone().unwrap_or_else(|| {
        // Unreachable: only requests without a streaming body are retried.
        reqwest::Request::new(request.method().clone(), request.url().clone())
    })
}

fn auth_failure(error: AuthError, attempt: u32) -> Failure {
    Failure {
        outcome: Outcome::Auth(error),
        retryable: false,
        wait_hint: None,
        reason: "token refresh failed",
        attempt,
        timeout: false,
    }
}

/// Splits an attempt's result into done (`Ok`) and failed-maybe-retry (`Err`).
// Private and called once per attempt, next to a network round trip: boxing the failure would
// cost an allocation for nothing.
#[allow(clippy::result_large_err)]
fn classify(
    result: reqwest::Result<Response>,
    idempotent: bool,
    attempt: u32,
) -> Result<Response, Failure> {
    match result {
        Ok(response) if retry::is_retryable_status(response.status()) => {
            let status = response.status();
            let (wait_hint, reason) = if status == StatusCode::TOO_MANY_REQUESTS {
                (
                    retry::retry_after(response.headers(), std::time::SystemTime::now()),
                    "429 too many requests",
                )
            } else {
                (
                    None,
                    match status.as_u16() {
                        502 => "502 bad gateway",
                        503 => "503 service unavailable",
                        _ => "504 gateway timeout",
                    },
                )
            };
            Err(Failure {
                outcome: Outcome::Response(Box::new(response)),
                retryable: idempotent,
                wait_hint,
                reason,
                attempt,
                timeout: false,
            })
        }
        Ok(response) => Ok(response),
        Err(error) => {
            let kind = TransportError::kind_of(&error);
            let reason = match kind {
                TransportErrorKind::Timeout => "timeout",
                TransportErrorKind::Connect => "connect failed",
                TransportErrorKind::Reset => "connection reset",
                _ => "transport error",
            };
            let transient = matches!(
                kind,
                TransportErrorKind::Timeout
                    | TransportErrorKind::Connect
                    | TransportErrorKind::Reset
            );
            // A failed connect never reached the server: safe for any method.
            let never_sent = kind == TransportErrorKind::Connect;
            Err(Failure {
                retryable: transient && (idempotent || never_sent),
                outcome: Outcome::Transport(error),
                wait_hint: None,
                reason,
                attempt,
                timeout: kind == TransportErrorKind::Timeout,
            })
        }
    }
}

/// A response read whole by [`Executor::read`].
struct ReadResponse {
    status: StatusCode,
    version: http::Version,
    headers: reqwest::header::HeaderMap,
    body: Bytes,
}

/// The response handed to the generated code (same status, headers and body);
/// inside `call()`, an error response is also recorded so its raw body
/// reaches the typed error.
fn finish(read: ReadResponse) -> Response {
    if call::in_call() {
        if read.status.is_success() {
            call::record_status(read.status);
        } else {
            call::record_error_response(ErrorResponse::new(
                read.status,
                read.headers.clone(),
                read.body.clone(),
            ));
        }
    }
    let mut rebuilt = http::Response::new(reqwest::Body::from(read.body));
    *rebuilt.status_mut() = read.status;
    *rebuilt.version_mut() = read.version;
    *rebuilt.headers_mut() = read.headers;
    Response::from(rebuilt)
}

/// A body shorter than its `content-length`.
#[derive(Debug, thiserror::Error)]
#[error("response body cut short: {received} of {declared} bytes (content-length)")]
struct BodyCutShort {
    declared: u64,
    received: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::session::Authenticator;
    use secrecy::SecretString;

    static META: OperationMeta = OperationMeta {
        operation_id: "get-current-user",
        method: "GET",
        path: "/users/me",
        tag: "users",
        creator_segment: None,
    };

    #[tokio::test]
    async fn refuses_urls_outside_the_api_origin() {
        let api = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        other.set_nonblocking(true).unwrap();
        let api_url = url::Url::parse(&format!("http://{}", api.local_addr().unwrap())).unwrap();
        let executor = Executor {
            origin: api_url.origin(),
            auth: Authenticator::static_token(&SecretString::from("tok")).unwrap(),
            api_version: HeaderValue::from_static("2025-06-26"),
            user_agent: HeaderValue::from_static("test"),
            policy: RetryPolicy::none(),
            quota: Arc::new(RetryQuota::new(None)),
            timeout: None,
            max_body: 1024,
            limiter: RateLimiter::default(),
        };
        let client = crate::transport::default_client_with(|builder| builder);
        for url in [
            format!("http://{}/users/me", other.local_addr().unwrap()),
            format!("https://{}/users/me", api.local_addr().unwrap()),
        ] {
            let request = client.get(url.as_str()).build().unwrap();
            let result = executor.execute(&client, request, &META).await;
            assert!(result.is_err(), "{url}");
        }
        // nothing connected to the other host
        assert!(other.accept().is_err());
    }
}
