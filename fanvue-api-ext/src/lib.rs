//! The Fanvue API client for Rust.
//!
//! [`Fanvue`] wraps the generated [`fanvue_api::Client`] (every operation of
//! the API) with what a user should not write by hand: credentials (a static
//! token, or OAuth refresh with single-flight refresh and rotated-token
//! callback), the pinned `X-Fanvue-API-Version`, typed [`Error`]s, retries
//! with backoff, validation before sending, pagination streams, tracing spans
//! and media uploads.
//!
//! ```no_run
//! # async fn run() -> Result<(), fanvue_api_ext::Error> {
//! use fanvue_api_ext::prelude::*;
//! use fanvue_api_ext::Fanvue;
//!
//! let fanvue = Fanvue::builder()
//!     .access_token(std::env::var("FANVUE_TOKEN").unwrap_or_default())
//!     .build()?;
//! let me = fanvue.api().get_current_user().send().await?;
//! # let _ = me; Ok(()) }
//! ```
//!
//! Every request runs in a `fanvue.request` tracing span with the operation
//! id, method, path template, status, the API's request id (`X-Request-Id`),
//! attempt count and latency (never a
//! token or a filled-in path).
//!
//! # Design
//!
//! **Three layers.**
//!
//! 1. *The generated client* ([`fanvue_api`], re-exported as [`api`]): one
//!    builder per operation of the spec, its request and response types, and
//!    the static facts of every operation (id, method, path template, list
//!    shape). Generated at build time by progenitor from the spec shipped in
//!    that crate; nothing in it is written per operation.
//! 2. *The executor seam* ([`fanvue_api::executor::RequestExecutor`]): every
//!    request of every builder goes through it. This crate's executor
//!    (private) checks the request, adds the credentials, version and user
//!    agent, replays once after a refreshed 401, retries, and traces.
//! 3. *This crate*: the client you hold ([`Fanvue`]), the one call path, and
//!    everything generic over the operation traits the build script implements
//!    ([`fanvue_api::operation::Operation`], `PageNumberList`, `CursorList`).
//!
//! **Where each concern lives.** Credentials and the token endpoint:
//! [`auth`]. Sending and the error mapping: [`OperationExt::send`] (this
//! crate's `call` module) and [`error`]. Retries, backoff, `Retry-After` and
//! the client-wide retry quota — for API calls and storage uploads alike:
//! [`retry`]. Checks before sending (path parameters, page sizes, part
//! numbers): [`validate`]. Streams over list operations: [`pagination`].
//! Multipart media uploads: [`upload`]. The TLS backend of the clients this
//! crate creates: Cargo features `rustls-ring` (default), `rustls-aws-lc`,
//! `native-tls`.
//!
//! **Why one `send()`.** An operation is sent one way —
//! `builder.send().await` — like octocrab's and aws-sdk-rust's `send()`, and
//! it returns `Result<T, `[`Error`]`>`. Options are methods on what `send()`
//! returns ([`Call::retry_non_idempotent`], [`Call::with_response`] for a
//! [`Response`] with status and headers), not parallel methods. Progenitor's
//! own `send` on each builder is renamed by the build script to a hidden raw
//! method behind [`fanvue_api::operation::Operation::send_request`] (the seam
//! for generic code), so the method users find is this one. Because the
//! generated code can only carry a `reqwest` result back from the executor,
//! each call runs in a private per-call context that the executor fills with
//! what it decided (an input rejected, a URL off the API origin, a refresh
//! that failed) and with the raw body of an error response; the caller gets
//! the real variant, never a transport error standing in for it.
//!
//! **Types we own at the boundary.** Errors ([`Error`], [`TransportError`],
//! [`ErrorResponse`], [`BuildError`], the upload and auth errors), responses
//! ([`Response`]), the retry policy ([`RetryPolicy`], built with
//! [`RetryPolicy::builder`]) and upload progress are this crate's types; no
//! `progenitor_client`, `backon` or `reqwest::Error` appears in their public
//! shape. The deliberate re-exports are: [`api`] (the generated crate: its
//! builders, types and operation traits are the vocabulary of every call),
//! [`secrecy`] (tokens are `SecretString`s), [`upload::MediaType`] and
//! [`upload::MediaStatus`] (generated types), the page types and list traits
//! in [`pagination`] (from `fanvue_api::operation`), and
//! [`upload::CancellationToken`] (tokio-util). A `reqwest::Client` is
//! accepted as an input ([`FanvueBuilder::http_client`],
//! [`FanvueBuilder::transfer_client`]), as is a `tokio::sync::watch::Sender`
//! for upload progress; `http`'s `StatusCode` and `HeaderMap` describe
//! responses, and list streams are `futures`' `BoxStream`s.
//!
//! The committed listing `fanvue-api-ext/public-api.txt` (`cargo xtask
//! public-api`, checked by CI) makes every change of this API deliberate.

#![deny(missing_docs)]
// Library code never panics on what the network or the user sends: no
// unwrap/expect/panic, no unchecked indexing or arithmetic (tests may).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

#[cfg(not(any(
    feature = "rustls-ring",
    feature = "rustls-aws-lc",
    feature = "native-tls"
)))]
compile_error!(
    "fanvue-api-ext needs a TLS backend: enable one of its features `rustls-ring` (the default), \
     `rustls-aws-lc` or `native-tls`"
);

/// Every Rust snippet of the workspace README, compiled as a doc test (`no_run`:
/// they talk to the real API). Needs `--features mock` for the httpmock one,
/// which `cargo test --workspace --all-features` (the README's test command) has.
#[cfg(all(doctest, feature = "mock"))]
#[doc = include_str!("../../README.md")]
mod readme {}

/// This crate's own README (its crates.io page), compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod crate_readme {}

pub mod auth;
mod call;
pub mod client;
pub mod error;
mod executor;
pub mod pagination;
pub mod ratelimit;
pub mod retry;
mod transport;
pub mod upload;
pub mod validate;
pub mod webhook;

pub use call::{Call, CallWithResponse, OperationExt, Response};
pub use client::{Fanvue, FanvueBuilder};
pub use error::{BuildError, Error, ErrorResponse, TransportError, TransportErrorKind};
pub use fanvue_api as api;
pub use ratelimit::{Bucket, RateLimitMode, RateLimiter};
pub use retry::{RetryPolicy, RetryPolicyBuilder};
/// The `secrecy` crate, re-exported: tokens are [`secrecy::SecretString`]s (read one with
/// [`secrecy::ExposeSecret`]).
pub use secrecy;
pub use transport::client_builder as http_client_builder;

/// Everything needed to call the API: [`OperationExt`], the pagination
/// extension traits, and the generated client's operation traits.
pub mod prelude {
    pub use crate::call::OperationExt;
    pub use crate::pagination::{CursorListExt, PageNumberListExt, SinglePageListExt};
    pub use fanvue_api::prelude::*;
}
