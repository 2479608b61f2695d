//! The one way to send an operation: [`OperationExt::send`].
//!
//! `fanvue.api().get_current_user().send().await` returns
//! `Result<T, fanvue_api_ext::Error>`. Options are methods of the returned
//! [`Call`] (`.retry_non_idempotent(true)`, `.with_response()`), which is
//! awaited directly ([`IntoFuture`]).
//!
//! # How the real cause reaches the caller
//!
//! The generated builders send through progenitor's code, which calls this
//! crate's executor (the `fanvue_api::executor` seam) and can only carry a
//! `reqwest` result back. So [`Call`] runs the request inside a per-call
//! context (a tokio task-local, private to this module): the executor reads
//! the call's options from it and writes what it decided or saw into it — an
//! input rejected before sending, a URL off the API origin, a failed token
//! refresh, the raw body of an error response. When the call ends, the
//! recorded outcome wins over what progenitor reports, so the caller gets the
//! real [`Error`] variant. The context never outlives the call and is not
//! reachable from outside this crate. (The generated client's raw send, used
//! only through the `fanvue_api::operation::Operation` seam, reports such a
//! refusal as an opaque error whose source chain names the real cause.)

use std::cell::RefCell;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use bytes::Bytes;
use fanvue_api::operation::Operation;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::error::{Error, ErrorResponse, TransportError};

/// Sends any operation of the API; the one way to call it.
///
/// ```no_run
/// # async fn run(fanvue: fanvue_api_ext::Fanvue) -> Result<(), fanvue_api_ext::Error> {
/// use fanvue_api_ext::prelude::*;
///
/// let me = fanvue.api().get_current_user().send().await?;
/// // with options:
/// let response = fanvue
///     .api()
///     .get_current_user()
///     .send()
///     .with_response()
///     .await?;
/// println!("{} {:?}", response.status(), response.headers().get("x-ratelimit-remaining"));
/// # let _ = me; Ok(()) }
/// ```
pub trait OperationExt: Operation {
    /// Prepares the request; `.await` it for the decoded response or the
    /// typed [`Error`]. Set options on the returned [`Call`] first.
    fn send<'o>(self) -> Call<'o, Self>
    where
        Self: 'o;
}

impl<O: Operation> OperationExt for O {
    fn send<'o>(self) -> Call<'o, Self>
    where
        Self: 'o,
    {
        Call {
            operation: self,
            options: CallOptions::default(),
            _lifetime: PhantomData,
        }
    }
}

/// Per-call options, carried to the executor through the call context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallOptions {
    /// `Some(true)` opts in, `Some(false)` out, `None` follows the policy.
    pub(crate) retry_non_idempotent: Option<bool>,
    /// `false`: the executor makes one attempt (the caller retries itself).
    pub(crate) retries: bool,
    /// The whole call's deadline ([`Call::timeout`]).
    pub(crate) timeout: Option<std::time::Duration>,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            retry_non_idempotent: None,
            retries: true,
            timeout: None,
        }
    }
}

/// A request ready to be sent: `.await` it (see [`OperationExt::send`]).
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<'o, O> {
    operation: O,
    options: CallOptions,
    _lifetime: PhantomData<&'o ()>,
}

impl<O> std::fmt::Debug for Call<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("operation", &std::any::type_name::<O>())
            .field("options", &self.options)
            .finish()
    }
}

impl<'o, O: Operation + 'o> Call<'o, O> {
    /// Retries this call on transient failures even if it is a POST or PATCH
    /// (only when repeating it is harmless, e.g. the server deduplicates);
    /// `false` never retries it unless it is idempotent, whatever the policy.
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.options.retry_non_idempotent = Some(yes);
        self
    }

    /// Bounds the whole call: waiting for the rate limiter, a token refresh,
    /// every attempt and the waits between retries together take at most
    /// `timeout`, else the call fails with a [`TransportError`] of kind
    /// [`Timeout`](crate::TransportErrorKind::Timeout). Each attempt also
    /// keeps the client's per-attempt timeout
    /// ([`FanvueBuilder::timeout`](crate::FanvueBuilder::timeout)).
    ///
    /// ```no_run
    /// # async fn run(fanvue: fanvue_api_ext::Fanvue) -> Result<(), fanvue_api_ext::Error> {
    /// use fanvue_api_ext::prelude::*;
    /// use std::time::Duration;
    ///
    /// let me = fanvue
    ///     .api()
    ///     .get_current_user()
    ///     .send()
    ///     .timeout(Duration::from_secs(5))
    ///     .await?;
    /// # let _ = me; Ok(()) }
    /// ```
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// One attempt only (the caller retries at its own level).
    pub(crate) fn without_retries(mut self) -> Self {
        self.options.retries = false;
        self
    }

    /// Keeps the status and headers of the response: awaiting gives a
    /// [`Response`].
    pub fn with_response(self) -> CallWithResponse<'o, O> {
        CallWithResponse(self)
    }

    async fn run(self) -> Result<Response<O::Response>, Error> {
        run(self.operation, self.options).await
    }
}

impl<'o, O: Operation + 'o> IntoFuture for Call<'o, O> {
    type Output = Result<O::Response, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'o>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.run().await.map(Response::into_value) })
    }
}

/// A [`Call`] that keeps the response's status and headers; see [`Call::with_response`].
#[must_use = "a call does nothing until it is awaited"]
pub struct CallWithResponse<'o, O>(Call<'o, O>);

impl<O> std::fmt::Debug for CallWithResponse<'_, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CallWithResponse").field(&self.0).finish()
    }
}

impl<'o, O: Operation + 'o> CallWithResponse<'o, O> {
    /// See [`Call::retry_non_idempotent`].
    pub fn retry_non_idempotent(self, yes: bool) -> Self {
        Self(self.0.retry_non_idempotent(yes))
    }

    /// See [`Call::timeout`].
    pub fn timeout(self, timeout: std::time::Duration) -> Self {
        Self(self.0.timeout(timeout))
    }
}

impl<'o, O: Operation + 'o> IntoFuture for CallWithResponse<'o, O> {
    type Output = Result<Response<O::Response>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'o>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.0.run())
    }
}

/// A successful response: status, headers and the decoded value.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    status: StatusCode,
    headers: HeaderMap,
    value: T,
}

impl<T> Response<T> {
    /// The HTTP status (a documented success status).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The decoded body.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The decoded body, consuming the response.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Status, headers and value.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, T) {
        (self.status, self.headers, self.value)
    }
}

async fn run<O: Operation>(
    operation: O,
    options: CallOptions,
) -> Result<Response<O::Response>, Error> {
    let context = CallContext {
        options,
        outcome: RefCell::new(Outcome::default()),
    };
    let scoped = CALL.scope(context, async move {
        let result = operation.send_request().await;
        (result, CALL.with(|c| c.outcome.take()))
    });
    let (result, outcome) = match options.timeout {
        None => scoped.await,
        Some(after) => match tokio::time::timeout(after, scoped).await {
            Ok(done) => done,
            Err(_) => {
                return Err(Error::Transport(TransportError::new(
                    crate::error::TransportErrorKind::Timeout,
                    CallTimedOut { after },
                )));
            }
        },
    };
    match result {
        Ok(value) => {
            let status = value.status();
            let headers = value.headers().clone();
            Ok(Response {
                status,
                headers,
                value: value.into_inner(),
            })
        }
        Err(error) => {
            let mut error = map_error(error, outcome).await;
            if let Error::Forbidden {
                required_scopes, ..
            } = &mut error
            {
                *required_scopes = O::meta().scopes();
            }
            Err(error)
        }
    }
}

/// A call that did not finish within [`Call::timeout`].
#[derive(Debug, thiserror::Error)]
#[error("the call did not finish within its timeout of {} ms", after.as_millis())]
struct CallTimedOut {
    after: std::time::Duration,
}

tokio::task_local! {
    static CALL: CallContext;
}

/// What one call passes to the executor and gets back from it.
struct CallContext {
    options: CallOptions,
    outcome: RefCell<Outcome>,
}

/// What the executor saw during one call.
#[derive(Default)]
struct Outcome {
    /// An error decided by the executor (rejected input, failed refresh, transport).
    error: Option<Error>,
    /// The final response, when it was an error status (body buffered).
    error_response: Option<ErrorResponse>,
    /// The status of the final response.
    status: Option<StatusCode>,
    /// The final response's `X-Request-Id`.
    request_id: Option<String>,
}

/// Whether the current task runs inside a call (so error bodies are worth buffering).
pub(crate) fn in_call() -> bool {
    CALL.try_with(|_| ()).is_ok()
}

/// The options of the current call (defaults outside a call).
pub(crate) fn options() -> CallOptions {
    CALL.try_with(|c| c.options).unwrap_or_default()
}

/// Records the status of the final response.
pub(crate) fn record_status(status: StatusCode) {
    let _ = CALL.try_with(|c| c.outcome.borrow_mut().status = Some(status));
}

/// Records the `X-Request-Id` of the latest response.
pub(crate) fn record_request_id(id: Option<&str>) {
    let _ = CALL.try_with(|c| c.outcome.borrow_mut().request_id = id.map(str::to_owned));
}

/// Records the final error response (status, headers, raw body).
pub(crate) fn record_error_response(response: ErrorResponse) {
    let _ = CALL.try_with(|c| {
        let mut outcome = c.outcome.borrow_mut();
        outcome.status = Some(response.status());
        outcome.error_response = Some(response);
    });
}

/// Records an error decided before or instead of a response, and returns the
/// `reqwest::Error` the generated code needs (the seam's signature allows
/// nothing else). Inside a call, the recorded error is what the caller gets;
/// the returned error only travels through progenitor's code. Its source
/// chain names the real cause, for the raw seam.
pub(crate) async fn fail(error: Error) -> reqwest::Error {
    tracing::debug!(error = %error, "request not sent");
    let cause = NotSent(error.to_string());
    let _ = CALL.try_with(|c| c.outcome.borrow_mut().error = Some(error));
    opaque_error(cause).await
}

/// The reason a request was not sent, as text (the source of [`opaque_error`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("request not sent: {0}")]
struct NotSent(String);

/// A `reqwest::Error` whose source is `cause` (reqwest has no public
/// constructor; reading a body whose stream fails yields one that wraps the
/// stream's error — on the first try, so the loop never repeats).
async fn opaque_error(cause: NotSent) -> reqwest::Error {
    loop {
        let cause = cause.clone();
        let body =
            reqwest::Body::wrap_stream(futures::stream::once(
                async move { Err::<Bytes, _>(cause) },
            ));
        if let Err(error) = reqwest::Response::from(http::Response::new(body))
            .bytes()
            .await
        {
            return error;
        }
    }
}

async fn map_error<E>(error: fanvue_api::Error<E>, outcome: Outcome) -> Error {
    let request_id = outcome.request_id.clone();
    map_error_inner(error, outcome)
        .await
        .with_request_id(request_id)
}

async fn map_error_inner<E>(error: fanvue_api::Error<E>, outcome: Outcome) -> Error {
    use fanvue_api::Error as P;
    if let Some(error) = outcome.error {
        return error;
    }
    if let Some(response) = outcome.error_response {
        return Error::from_response(response);
    }
    match error {
        P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
            Error::Transport(TransportError::from_reqwest(e))
        }
        P::InvalidRequest(reason) | P::Custom(reason) => Error::invalid_input("request", reason),
        P::InvalidResponsePayload(body, source) => {
            Error::decode(outcome.status.unwrap_or(StatusCode::OK), body, Some(source))
        }
        P::ErrorResponse(value) => Error::from_response(ErrorResponse::new(
            value.status(),
            value.headers().clone(),
            Bytes::new(),
        )),
        P::UnexpectedResponse(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            match response.bytes().await {
                Err(e) => Error::Transport(TransportError::from_reqwest(e)),
                Ok(body) if status.is_success() => Error::decode(status, body, None),
                Ok(body) => Error::from_response(ErrorResponse::new(status, headers, body)),
            }
        }
    }
}
