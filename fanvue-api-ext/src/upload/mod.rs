//! Media upload in one call: from a file (or bytes, or a reader) to ready media.
//!
//! ```no_run
//! # async fn demo(fanvue: fanvue_api_ext::Fanvue) -> Result<(), fanvue_api_ext::upload::UploadError> {
//! use fanvue_api_ext::upload::UploadSource;
//!
//! let media = fanvue
//!     .media()
//!     .upload(UploadSource::path("clip.mp4"))
//!     .name("Beach day")
//!     .on_progress(|p| eprintln!("{}/{} bytes", p.bytes_sent + p.bytes_in_flight, p.total_bytes))
//!     .send()
//!     .await?;
//! # let _ = media;
//! # Ok(()) }
//! ```
//!
//! The flow, for the authenticated creator or (with
//! [`for_creator`](UploadBuilder::for_creator)) for an agency's creator:
//!
//! 1. **Create the upload session** (`POST .../media/uploads`): the media's
//!    uuid and the multipart upload id. Before that, the options are checked
//!    and the first part is read (so a bad source, or an unknown media type,
//!    fails before any request).
//! 2. **Send the parts**, [`concurrency`](UploadBuilder::concurrency) at a
//!    time: for each, get its presigned URL, `PUT` the bytes there (with no
//!    `Authorization` and no Fanvue header), keep the `ETag`. A failing part is
//!    retried alone with backoff, with a fresh URL when the storage says the
//!    URL expired or is forbidden, and resent when a plain-MD5 `ETag` does not
//!    match the bytes.
//! 3. **Complete** the session with every `{PartNumber, ETag}`.
//! 4. **Wait for processing**: poll the media with a growing delay until it is
//!    `ready` (returned), `error` ([`UploadError::Processing`]) or the
//!    [`processing_timeout`](UploadBuilder::processing_timeout) passes.
//!
//! Parts follow S3's rules (see [`plan`]): numbers 1 to 10,000, every part but
//! the last at least 5 MiB, at most 5 GiB a part; the part size (default
//! 8 MiB) grows for files that need it, up to 5 TiB. Files are read part by
//! part as the upload goes: peak memory is about `concurrency × part size`.
//!
//! An interrupted upload resumes from its [`UploadState`] (in the error, or
//! from [`on_checkpoint`](UploadBuilder::on_checkpoint)) with
//! [`MediaUploads::resume`], sending only the missing parts.

mod api;
mod batch;
mod builder;
mod engine;
mod error;
mod fanvue;
mod media_type;
pub mod plan;
mod progress;
mod source;
mod state;
mod transfer;

pub use batch::{
    BatchItem, BatchProgress, BatchProgressCallback, BatchResult, BatchUpload,
    DEFAULT_FILES_AT_ONCE,
};
pub use builder::{MediaUploads, UploadBuilder};
pub use engine::{
    CheckpointCallback, DEFAULT_CONCURRENCY, DEFAULT_POLL_INTERVAL, DEFAULT_PROCESSING_TIMEOUT,
    MAX_POLL_INTERVAL,
};
pub use error::{PartUploadError, SourceError, UploadError, ValidationError};
pub use fanvue::Media;
pub use fanvue_api::types::MediaStatus;
/// The media type sent when creating the upload session (the generated
/// [`fanvue_api::types::MediaType`], re-exported).
pub use fanvue_api::types::MediaType;
pub use plan::PartPlan;
pub use progress::{Phase, Progress, ProgressCallback};
pub use source::UploadSource;
pub use state::{CompletedPart, UploadState};
pub use tokio_util::sync::CancellationToken;
pub use transfer::PartRetryPolicy;
