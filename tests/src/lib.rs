//! A local fake of the Fanvue API, its OAuth server and S3 presigned part uploads, for tests, examples
//! and benchmarks: every operation of the OpenAPI document `fanvue-api` is generated from
//! ([`fanvue_api::OPENAPI_JSON`]) is validated like the real server and answered.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use fanvue_fake::{FakeFanvue, Override};
//! let fake = FakeFanvue::builder().seed(7).list_size(30).start().await?;
//! // Base URL for `Fanvue::builder().base_url(..)`, and a token it accepts.
//! let (base, token) = (fake.api_url(), fake.access_token());
//! // Replace one operation's answer by operationId.
//! fake.override_operation("get-current-user", Override::status(500));
//! // What was sent.
//! for r in fake.api_requests() {
//!     println!("{} {}", r.method, r.path);
//! }
//! # let _ = (base, token);
//! # Ok(()) }
//! ```
//!
//! # One pipeline for every operation
//! Every API request goes through the same stages, in this order: **record** (the log) → **find the
//! operation** ([`spec::Spec::find`]; an unknown path is 404 `{message}`) → **faults** (a gateway
//! outage, an injected [`Fault`]) → **rate limit** ([`ratelimit`]: buckets per identity, per creator,
//! per operation; `X-RateLimit-*` on every later answer, errors included) → **API version** → **token
//! and scopes** (401 `{error}`; 403 `{error}` naming a scope of the operation's `x-fanvue-scopes` the
//! token lacks — all listed scopes are required) → **validation** (unknown query parameters recorded on
//! [`RecordedRequest::unknown_query`] and refused with [`FakeFanvueBuilder::strict_query`]; a body needs
//! a JSON `Content-Type`; path and query parameters (types, enums, bounds, `explode: false` arrays as
//! one comma-separated value: `variants[]=main` is not `variants`) and JSON bodies against their schema
//! ([`schema`], compiled once); 400 `{errors: [..]}`, one message per problem naming the field) →
//! **overrides** ([`FakeFanvue::override_operation`]) → **the answer**: a test's stub or seeded list
//! ([`FakeFanvue::stub`], [`FakeFanvue::seed_list`], whose success answers are checked against the
//! response schema), else the operation's stateful handler (registered by operation id), else the
//! documented status and a body synthesized from the response schema ([`synth`],
//! [`synth::Mode::Seeded`] with [`FakeFanvueBuilder::seed`] and the request path); list operations
//! page (`page`/`size` or `cursor`) through a seeded collection of [`FakeFanvueBuilder::list_size`]
//! items. [`spec`] exposes the document's operations, e.g. to generate inputs.
//!
//! # State
//! Creates are stored per resource family (posts and their comments, tracking links, custom lists and
//! their members, vault folders and their media, mass messages, chat messages, collections) and per
//! owner (the authenticated user or the creator of a `/creators/{creatorUserUuid}/...` path): a create
//! answers what it was given under a fresh id, the item comes first in its list, is readable by id,
//! updated by update and removed by delete; an unknown id (or parent) answers 404 `{message}`. A
//! family's list starts from its seeded collection, whose items are stored too. Numbers stay
//! plausible (a new resource's counters are zero, net ≤ gross, adding members counts only new ones);
//! synthesized objects carry the ids of their path; batch maps are keyed by the requested ids.
//! [`FakeFanvue::bind_to_resources`] points request inputs at resources that exist.
//!
//! # Rate limits and gateway errors
//! [`FakeFanvueBuilder::rate_limit_window`] limits every bucket, [`FakeFanvueBuilder::operation_rate_limit`]
//! gives one operation a bucket and limit of its own; [`FakeFanvue::rate_limit_buckets`] shows each
//! bucket ([`BucketKey`]: shared, creator uuid, operation id) with its limit, what is left, its reset
//! and the requests it admitted and refused. [`FakeFanvue::gateway_outage`] and
//! [`FakeFanvue::gateway_errors`] ([`Fault::Gateway`]) answer 502/503/504 with an HTML body and no
//! `X-RateLimit-*` headers, counted in no bucket.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fanvue_fake::FakeError> {
//! use fanvue_fake::{ApiRoute, FakeFanvue};
//! let fake = FakeFanvue::builder().media_count(40).min_part_size(1024).start().await?;
//! let api = fake.api_url(); // http://127.0.0.1:PORT
//! let token = fake.access_token(); // accepted as `Authorization: Bearer <token>`
//! fake.rate_limit(ApiRoute::MediaList, 1, 1); // next GET /media answers 429, Retry-After: 1
//! # let _ = (api, token);
//! # Ok(()) }
//! ```
//!
//! # Listeners
//! Three listeners, HTTP/1.1, on `127.0.0.1` ([`FakeFanvueBuilder::bind`] for another address), each on
//! its own port (any free one unless set: [`FakeFanvueBuilder::api_port`],
//! [`FakeFanvueBuilder::auth_port`], [`FakeFanvueBuilder::s3_port`]). [`FakeFanvueBuilder::start`]
//! parses the document and compiles its validators first (once per process), so no request pays for
//! them.
//! - the **API** ([`FakeFanvue::api_url`]): every operation of the document. Stateful: `GET /users/me`,
//!   `GET /media`, `GET /media/{uuid}`, `POST /media/uploads`,
//!   `GET /media/uploads/{uploadId}/parts/{partNumber}/url` (`text/plain` URL),
//!   `PATCH /media/uploads/{uploadId}`, `GET /chats`, `GET /insights/earnings`, `GET /creators`,
//!   under `/creators/{creatorUserUuid}`: `GET /media`, `GET /media/{uuid}` and the three upload
//!   endpoints, and every resource the API creates (below). Paths can be seeded with
//!   [`FakeFanvue::seed_list`] / [`FakeFanvue::stub`]. Every request needs `X-Fanvue-API-Version` (400
//!   `{error, message}` when missing or unsupported, 410 `{error, message, nextVersion}` for a sunset
//!   version) and a valid bearer token (401 `{error}`) with the operation's scopes (403 `{error}`).
//!   Validation errors are 400 `{errors: [..]}`, unknown things 404 `{message}`.
//! - the **OAuth server** ([`FakeFanvue::auth_url`]): `POST /oauth2/token` (form body, client credentials
//!   in HTTP Basic; `refresh_token` grant rotating the refresh token, `authorization_code` grant with PKCE
//!   S256) and `GET /oauth2/auth` (redirects straight back with a code).
//! - **S3** ([`FakeFanvue::s3_url`]): `PUT` to presigned part URLs (signature and expiry checked, 403 XML
//!   errors like S3, `Content-Length` required, `Content-MD5` checked when sent (400 `BadDigest` on a
//!   mismatch, 400 `InvalidDigest` when malformed), `ETag: "<md5>"`), and an unsigned raw
//!   `PUT /fanvue-fake-bucket/raw/{key}` ([`FakeFanvue::raw_put_url`]) as a single-stream baseline.
//!
//! # Uploads
//! Completion checks the part list (numbered 1..n ascending, ETags equal to what S3 answered, every part but
//! the last at least [`FakeFanvueBuilder::min_part_size`], default 5 MiB) and assembles the object. The
//! media then answers `processing` for [`FakeFanvueBuilder::processing_polls`] polls of `GET /media/{uuid}`,
//! then `ready` with variants (or `error`). Inspect with [`FakeFanvue::upload_for_media`],
//! [`FakeFanvue::assembled_sha256`], [`FakeFanvue::part_put_counts`], [`FakeFanvue::max_concurrent_part_puts`].
//! [`StorageMode::HashOnly`] keeps no part bytes, for multi-GiB benchmarks.
//!
//! # Faults and knobs
//! [`FakeFanvue::inject`] / [`FakeFanvue::inject_after`] register a [`Fault`] (status, 429, 401, reset,
//! truncated body, delay, wrong ETag, expired URL, token expiry, act-then-reset, a body corrupted in
//! transit) for the next N requests of a
//! [`FaultTarget`]; shorthands like [`FakeFanvue::fail_part`] or [`FakeFanvue::rate_limit`] cover the usual
//! cases. Latency and the S3 bandwidth cap are set on the builder or live ([`FakeFanvue::set_latency`],
//! [`FakeFanvue::set_s3_bandwidth`]).
//!
//! # From other languages: the admin HTTP API
//! The API listener also serves an admin API under `/_fake/` (no token; outside the pipeline: not
//! logged, not rate-limited, not validated): minting tokens, overrides (with times, sequences and
//! query/body matchers), faults, gateway outages, rate limits and their buckets, the request log,
//! [`FakeFanvue::reset`] and webhook deliveries, as JSON. The crate's README lists every endpoint with
//! a curl example; the `fanvue-fake` binary prints its URL (`FANVUE_FAKE_ADMIN_URL`).
//!
//! # Observing without sleeping
//! [`FakeFanvue::requests`] is the log (headers and API bodies; `Debug` redacts secrets),
//! [`FakeFanvue::s3_saw_authorization`] tells whether a token leaked to S3, and [`FakeFanvue::wait_until`]
//! resolves when a condition on the fake holds, re-checked on every event.
//!
//! Dropping the [`FakeFanvue`] stops the listeners.

// Handlers and their helpers return axum `Response`s as early-exit errors; boxing them buys nothing here.
#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

/// The crate's README, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

mod admin;
mod api;
mod auth;
mod check;
mod config;
mod error;
mod faults;
mod gate;
mod handle;
mod log;
pub mod model;
mod overrides;
pub mod ratelimit;
mod respond;
mod s3;
pub mod schema;
mod serve;
pub mod spec;
mod state;
pub mod synth;
pub mod webhooks;

pub use auth::{DEFAULT_REFRESH_GRACE, pkce_challenge};
pub use config::{BUCKET, DEFAULT_API_VERSION, DEFAULT_SCOPE, S3_MIN_PART_SIZE, StorageMode};
pub use error::FakeError;
pub use faults::{ApiRoute, Fault, FaultTarget, TokenFault};
pub use handle::{AssembledObject, FakeFanvue, FakeFanvueBuilder, UploadInfo};
pub use log::{Listener, RecordedRequest};
pub use overrides::Override;
pub use ratelimit::{BucketKey, RateLimitBucket};
pub use state::{ListStyle, RawObject, SentMessage};
pub use webhooks::{WebhookAttempt, WebhookDeliveryError, WebhookEndpoint, WebhookEvent};
