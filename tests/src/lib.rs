//! A stateful, in-process fake of the Fanvue API, its OAuth server and S3 presigned part uploads.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fanvue_fake::FakeError> {
//! let fake = fanvue_fake::FakeFanvue::builder().media_count(40).start().await?;
//! let api = fake.api_url(); // http://127.0.0.1:PORT
//! let token = fake.access_token(); // accepted as `Authorization: Bearer <token>`
//! # let _ = (api, token);
//! # Ok(()) }
//! ```
//!
//! Three loopback listeners (each on its own `127.0.0.1:0` port):
//! - the **API** ([`FakeFanvue::api_url`]): `GET /users/me`, `GET /media`, `GET /media/{uuid}`, the upload
//!   session endpoints, `GET /chats`, `GET /tracking-links`, `GET /insights/earnings`, `GET /creators` and the
//!   creator-scoped media and upload endpoints. Every request needs `X-Fanvue-API-Version` (400 when
//!   missing or unsupported, 410 for a sunset version) and a valid bearer token (401 `{error}`).
//! - the **OAuth server** ([`FakeFanvue::auth_url`]): `POST /oauth2/token` and `GET /oauth2/auth`.
//! - **S3** ([`FakeFanvue::s3_url`]): presigned part PUTs and a raw `PUT /fanvue-fake-bucket/raw/{key}`.
//!
//! All connections are HTTP/1.1. State is inspected and faults are injected through [`FakeFanvue`].
//! Dropping the [`FakeFanvue`] stops the listeners.

mod api;
mod auth;
mod config;
mod error;
mod faults;
mod gate;
mod handle;
mod log;
pub mod model;
mod respond;
mod s3;
mod serve;
mod state;

pub use auth::pkce_challenge;
pub use config::{BUCKET, DEFAULT_API_VERSION, S3_MIN_PART_SIZE, StorageMode};
pub use error::FakeError;
pub use faults::{ApiRoute, Fault, FaultTarget};
pub use handle::{AssembledObject, FakeFanvue, FakeFanvueBuilder, UploadInfo};
pub use log::{Listener, RecordedRequest};
pub use state::RawObject;
