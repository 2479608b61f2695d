//! Media upload in one call: from a file (or bytes, a reader, or a stream of
//! unknown length) to ready media; and many files as one batch.
//!
//! ```no_run
//! # async fn demo(fanvue: fanvue_api_ext::Fanvue) -> Result<(), fanvue_api_ext::upload::UploadError> {
//! use fanvue_api_ext::upload::UploadSource;
//!
//! let media = fanvue
//!     .media()
//!     .upload(UploadSource::path("clip.mp4"))
//!     .name("Beach day")
//!     .on_progress(|p| eprintln!("{} bytes, {} B/s, ETA {:?}", p.shown_bytes(), p.bytes_per_sec, p.eta))
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
//!    and the first part is read (so a bad source, an empty stream or an
//!    unknown media type fails before any request). It is sent **once**:
//!    resent only when it provably never left (connect failure) or was
//!    refused with 429; a lost answer is
//!    [`UploadError::CreateSessionUncertain`], never a duplicate media.
//! 2. **Send the parts**, [`concurrency`](UploadBuilder::concurrency) at a
//!    time: `PUT` each part's bytes to its presigned URL (with no
//!    `Authorization` and no Fanvue header, with `Content-MD5`) and keep the
//!    `ETag`, whatever it looks like. URLs are fetched ahead of need by a
//!    prefetcher (about `concurrency` parts ahead, fetched again when older
//!    than 5 minutes or refused as expired). Parts are hashed ahead of their
//!    connection, one per CPU, in the order they are sent (a file's first
//!    round while the session is created), and take connections in order.
//!    A file part is never held in memory: it is hashed through a 1 MiB
//!    buffer and read from the file again as the connection takes its
//!    bytes, always from the one handle opened at the start (by position). A failing part is retried alone with backoff, with a fresh URL
//!    when the storage says the URL expired or is forbidden, and resent
//!    when the storage refuses its bytes as corrupted (400 `BadDigest`),
//!    unless the file no longer holds the bytes that were hashed
//!    ([`PartUploadError::SourceChanged`]).
//! 3. **Complete** the session with every `{PartNumber, ETag}`, after
//!    checking that a file source still has the length, modification time
//!    and identity it had at the start ([`UploadError::SourceChanged`]
//!    otherwise, and nothing is completed).
//! 4. **Wait for processing**: poll the media with a growing delay until it is
//!    `ready` (returned), `error` ([`UploadError::Processing`]) or the
//!    [`processing_timeout`](UploadBuilder::processing_timeout) passes.
//!
//! Parts follow S3's rules (see [`plan`]): numbers 1 to 10,000, every part but
//! the last at least 5 MiB, at most 5 GiB a part. Without a part size, a file
//! (or bytes in memory) is planned by [`PartPlan::for_connections`]: lead
//! parts of 8 MiB, doubling each round (so every connection starts at once
//! while the next, bigger parts are hashed), then four rounds of parts of
//! 8 to 64 MiB; readers and streams use 8 MiB parts. Parts grow for sources
//! that need it, up to 5 TiB. Memory: a file upload holds no part in memory
//! (a few MiB whatever the file's size); readers and streams hold about
//! `concurrency × part size` plus a read-ahead of at most 48 MiB.
//!
//! An interrupted upload resumes from its [`UploadState`] (in the error, or
//! from [`on_checkpoint`](UploadBuilder::on_checkpoint)) with
//! [`MediaUploads::resume`]: the state is validated, the finished parts are
//! checked against their recorded MD5 (and sent again if the bytes changed),
//! and the missing parts are sent. Streams of unknown length cannot resume.
//!
//! [`MediaUploads::upload_many`] uploads a batch with one bound on
//! connections and memory, an aggregate [`BatchProgress`] and a
//! [`BatchResult`] per file.

mod api;
mod batch;
mod builder;
mod engine;
mod error;
mod fanvue;
mod file;
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
    MAX_CONCURRENCY, MAX_POLL_INTERVAL,
};
pub use error::{PartUploadError, SourceError, UploadError, ValidationError};
pub use fanvue::Media;
pub use fanvue_api::types::MediaStatus;
/// The media type sent when creating the upload session (the generated
/// [`fanvue_api::types::MediaType`], re-exported).
pub use fanvue_api::types::MediaType;
pub use plan::{LeadParts, PartPlan};
pub use progress::{Phase, Progress, ProgressCallback};
pub use source::UploadSource;
pub use state::{CompletedPart, UploadState};
pub use tokio_util::sync::CancellationToken;
pub use transfer::PartRetryPolicy;
