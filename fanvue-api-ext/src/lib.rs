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
//! id, method, path template, status, attempt count and latency (never a
//! token or a filled-in path).

#![deny(missing_docs)]

pub mod auth;
mod call;
pub mod client;
pub mod error;
mod executor;
pub mod pagination;
pub mod retry;
mod transport;
pub mod upload;
pub mod validate;

pub use call::{Call, CallWithResponse, OperationExt, Response};
pub use client::{Fanvue, FanvueBuilder};
pub use error::{BuildError, Error, ErrorResponse, TransportError, TransportErrorKind};
pub use fanvue_api as api;
pub use retry::{RetryPolicy, RetryPolicyBuilder};
/// The `secrecy` crate, re-exported: tokens are [`secrecy::SecretString`]s (read one with
/// [`secrecy::ExposeSecret`]).
pub use secrecy;

/// Everything needed to call the API: [`OperationExt`], the pagination
/// extension traits, and the generated client's operation traits.
pub mod prelude {
    pub use crate::call::OperationExt;
    pub use crate::pagination::{CursorListExt, PageNumberListExt};
    pub use fanvue_api::prelude::*;
}
