//! Typed client for the [Fanvue API](https://api.fanvue.com/docs), generated
//! at build time by [progenitor](https://github.com/oxidecomputer/progenitor)
//! from the normalized OpenAPI document shipped with this crate.
//!
//! Operations are grouped by area (the spec's tags) into extension traits of
//! [`Client`] — [`ClientMediaExt`], [`ClientChatsExt`], ... — all re-exported
//! by the [`prelude`]. Each operation is a builder:
//!
//! ```no_run
//! use fanvue_api::prelude::*;
//! use fanvue_api::executor::Inner;
//! use fanvue_api::operation::Operation as _;
//!
//! # async fn demo() -> Result<(), fanvue_api::Error<fanvue_api::types::ApiError>> {
//! let client = Client::new(fanvue_api::DEFAULT_BASE_URL, Inner::default());
//! let page = client.get_user_media().page(2).size(50).send_request().await?;
//! println!("{} items", page.data.len());
//! # Ok(())
//! # }
//! ```
//!
//! [`operation::Operation::send_request`] sends a request as it is and
//! reports progenitor's error type; applications use `fanvue-api-ext`, whose
//! single `send()` adds the rest and one typed error (progenitor's own
//! `send` of each builder is renamed by the build script and hidden).
//!
//! This crate sends requests as they are: authentication, the API version
//! header, retries and pagination streams live in `fanvue-api-ext`, plugged in
//! through the [`executor`] seam. Every builder implements
//! [`operation::Operation`], and every list operation
//! [`operation::PageNumberList`] or [`operation::CursorList`].
//!
//! Decoding is tolerant: enum values the spec does not list decode to an
//! `Unknown(String)` variant, and fields the spec does not list are ignored.
//!
//! With the `mock` feature, `mock::MockServerExt` adds a typed method per
//! operation to `httpmock::MockServer`.

/// The crate's README, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

pub mod bounds;
#[doc(hidden)]
pub mod dispatch;
pub mod executor;
pub mod int;
mod money;
pub mod operation;
mod paging;
mod query;
pub mod variants;

/// Tolerant enums for every named string enum of the spec (also re-exported in [`types`]).
pub mod enums {
    include!(concat!(env!("OUT_DIR"), "/enums.rs"));
}

#[allow(clippy::all, clippy::pedantic)]
#[allow(unused_imports, missing_docs)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

pub use generated::*;
pub use money::{Cents, ParseCentsError};

/// Typed [`httpmock`] helpers: `MockServerExt` adds one method per operation
/// to `httpmock::MockServer`, with typed request matchers and responses.
#[cfg(feature = "mock")]
#[allow(clippy::all, missing_docs, unused_imports)]
pub mod mock {
    include!(concat!(env!("OUT_DIR"), "/mock.rs"));
}

/// The normalized OpenAPI 3.0 document this crate is generated from (`openapi/fanvue.json`), as JSON text.
///
/// The same bytes the build script reads, so tools built on it (the `fanvue-fake` test server, request
/// generators) describe exactly the operations and types of this crate's version.
///
/// ```
/// let doc: serde_json::Value = serde_json::from_str(fanvue_api::OPENAPI_JSON).unwrap();
/// assert_eq!(doc["openapi"], "3.0.3");
/// ```
pub const OPENAPI_JSON: &str = include_str!("../openapi/fanvue.json");

/// The webhook event types: their payloads are generated into [`types`] (`types::Webhook*`) from
/// `openapi/webhooks.json`; [`webhooks::EVENTS`] lists each type with its family, payload schema and how
/// sure the sources are. Verification and the `Event` enum live in `fanvue-api-ext`'s `webhook` module.
pub mod webhooks {
    /// How a webhook body is shaped.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Family {
        /// The body is the event object itself (platform events: Message Received, ...); the type is not
        /// in the body.
        Flat,
        /// `{id, type, timestamp, data}`; the schema describes `data`.
        Envelope,
    }

    /// One webhook event type.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct EventInfo {
        /// The type (`type` of an envelope; the documented topic name of a flat event).
        pub kind: &'static str,
        /// The body's shape.
        pub family: Family,
        /// The generated type of the payload (of `data` for envelopes), in [`crate::types`].
        pub schema: &'static str,
        /// `documented`, `partial` (named by Fanvue, fields not readable) or `reported` (third-party only).
        pub confidence: &'static str,
        /// Topic strings seen for a flat event (header values), first the documented one.
        pub topics: &'static [&'static str],
        /// Other `type` strings seen for the same envelope event.
        pub aliases: &'static [&'static str],
    }

    include!(concat!(env!("OUT_DIR"), "/webhooks.rs"));
}

/// The default base URL of the Fanvue API.
pub const DEFAULT_BASE_URL: &str = "https://api.fanvue.com";
