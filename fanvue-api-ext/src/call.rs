//! [`OperationExt::call`]: send any generated operation and get its typed
//! response or one [`Error`].
//!
//! The generated builders' own `send()` still works (and still goes through
//! this crate's auth, version header, retries and tracing), but reports
//! errors as `progenitor_client::Error`. `call()` runs the same request inside
//! a per-call context that the executor fills with what it saw (the raw body
//! of an error response, an input rejected before sending, a failed token
//! refresh), and maps the outcome to [`Error`].

use std::cell::RefCell;
use std::future::Future;

use bytes::Bytes;
use fanvue_api::operation::Operation;
use progenitor_client::ResponseValue;
use reqwest::StatusCode;

use crate::error::{Error, ErrorResponse};

/// Per-call options for [`OperationExt::call_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// Retry this call even if its method is not idempotent (POST, PATCH):
    /// `Some(true)` opts in, `Some(false)` opts out, `None` follows the client's policy.
    pub retry_non_idempotent: Option<bool>,
}

impl CallOptions {
    /// Options that follow the client's settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Retries this call on transient failures even if it is a POST or PATCH
    /// (only when repeating it is harmless, e.g. the server deduplicates).
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = Some(yes);
        self
    }
}

/// Sends any generated operation and maps every outcome to [`Error`].
///
/// ```no_run
/// # async fn run(fanvue: fanvue_api_ext::Fanvue) -> Result<(), fanvue_api_ext::Error> {
/// use fanvue_api_ext::prelude::*;
///
/// let me = fanvue.api().get_current_user().call().await?;
/// # let _ = me; Ok(()) }
/// ```
pub trait OperationExt: Operation {
    /// Sends the request; the decoded response, or the typed error.
    fn call(self) -> impl Future<Output = Result<Self::Response, Error>> + Send;

    /// Like [`call`](Self::call), with per-call options.
    fn call_with(
        self,
        options: CallOptions,
    ) -> impl Future<Output = Result<Self::Response, Error>> + Send;

    /// Like [`call_with`](Self::call_with), keeping the status and headers of the response.
    fn call_with_response(
        self,
        options: CallOptions,
    ) -> impl Future<Output = Result<ResponseValue<Self::Response>, Error>> + Send;
}

impl<O: Operation> OperationExt for O {
    async fn call(self) -> Result<Self::Response, Error> {
        self.call_with_response(CallOptions::default())
            .await
            .map(ResponseValue::into_inner)
    }

    async fn call_with(self, options: CallOptions) -> Result<Self::Response, Error> {
        self.call_with_response(options)
            .await
            .map(ResponseValue::into_inner)
    }

    async fn call_with_response(
        self,
        options: CallOptions,
    ) -> Result<ResponseValue<Self::Response>, Error> {
        let context = CallContext {
            options,
            outcome: RefCell::new(Outcome::default()),
        };
        let (result, outcome) = CALL
            .scope(context, async move {
                let result = self.send_request().await;
                (result, CALL.with(|c| c.outcome.take()))
            })
            .await;
        match result {
            Ok(value) => Ok(value),
            Err(error) => Err(map_error(error, outcome).await),
        }
    }
}

tokio::task_local! {
    static CALL: CallContext;
}

/// What one `call()` passes to the executor and gets back from it.
struct CallContext {
    options: CallOptions,
    outcome: RefCell<Outcome>,
}

/// What the executor saw during one call.
#[derive(Default)]
struct Outcome {
    /// An error decided by the executor (rejected input, failed refresh).
    error: Option<Error>,
    /// The final response, when it was an error status (body buffered).
    error_response: Option<ErrorResponse>,
    /// The status of the final response.
    status: Option<StatusCode>,
}

/// Whether the current task runs inside `call()` (so error bodies are worth buffering).
pub(crate) fn in_call() -> bool {
    CALL.try_with(|_| ()).is_ok()
}

/// The options of the current call (defaults outside `call()`).
pub(crate) fn options() -> CallOptions {
    CALL.try_with(|c| c.options.clone()).unwrap_or_default()
}

/// Records the status of the final response.
pub(crate) fn record_status(status: StatusCode) {
    let _ = CALL.try_with(|c| c.outcome.borrow_mut().status = Some(status));
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
/// `reqwest::Error` the generated code will carry (the executor's signature
/// allows nothing else; `call()` returns the recorded error instead).
pub(crate) fn fail(client: &reqwest::Client, error: Error) -> reqwest::Error {
    tracing::debug!(error = %error, "request not sent");
    let _ = CALL.try_with(|c| c.outcome.borrow_mut().error = Some(error));
    synthetic_error(client)
}

/// A `reqwest::Error` for a request that was never sent (reqwest has no
/// public constructor: a request with an unparsable URL yields a builder error).
fn synthetic_error(client: &reqwest::Client) -> reqwest::Error {
    match client.request(reqwest::Method::GET, "").build() {
        Err(error) => error,
        Ok(_) => {
            let mut response = http::Response::new(reqwest::Body::from(Vec::<u8>::new()));
            *response.status_mut() = StatusCode::BAD_REQUEST;
            match reqwest::Response::from(response).error_for_status() {
                Err(error) => error,
                Ok(_) => unreachable!("error_for_status on a 400 is an error"),
            }
        }
    }
}

async fn map_error<E>(error: progenitor_client::Error<E>, outcome: Outcome) -> Error {
    use progenitor_client::Error as P;
    if let Some(error) = outcome.error {
        return error;
    }
    if let Some(response) = outcome.error_response {
        return Error::from_response(response);
    }
    match error {
        P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
            Error::Transport(e)
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
                Err(e) => Error::Transport(e),
                Ok(body) if status.is_success() => Error::decode(status, body, None),
                Ok(body) => Error::from_response(ErrorResponse::new(status, headers, body)),
            }
        }
    }
}
