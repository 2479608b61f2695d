//! The errors of an upload, each naming the phase that failed.

use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use super::progress::Phase;
use super::state::UploadState;
use fanvue_api::types::MediaStatus;

/// Why an upload failed, and in which phase.
///
/// Errors that happen after the upload session was created carry the
/// [`UploadState`] needed to [resume](super::MediaUploads::resume) the upload
/// without sending the finished parts again (see [`UploadError::resume_state`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The request was rejected before anything was sent (bad option, empty
    /// source, unknown media type, ...).
    #[error("invalid upload: {0}")]
    Validation(#[from] ValidationError),

    /// Reading the source failed (missing or unreadable file, a reader whose
    /// length does not match the declared one, ...).
    #[error("cannot read the upload source{}: {source}", path_suffix(.path))]
    Io {
        /// The file being read, when the source is a file.
        path: Option<PathBuf>,
        /// The underlying error.
        #[source]
        source: SourceError,
        /// Where to resume from, when the session had been created.
        state: Option<Box<UploadState>>,
    },

    /// Creating the upload session (`POST .../media/uploads`) failed; Fanvue
    /// created nothing (it answered with an error, or the request never
    /// reached it).
    #[error("creating the upload session failed: {source}")]
    CreateSession {
        /// The API error.
        #[source]
        source: crate::Error,
    },

    /// The request creating the upload session may have reached Fanvue, but
    /// its answer was lost (timeout, or the connection dropped after the
    /// request was sent). It is **not retried**: Fanvue may have created a
    /// media record and an S3 multipart upload, and a second request would
    /// create a duplicate. Check the creator's media (an entry in status
    /// `created` with this name) before uploading again.
    #[error(
        "creating the upload session may or may not have succeeded (the answer was lost: {source}); not retried to avoid a duplicate media"
    )]
    CreateSessionUncertain {
        /// The transport error.
        #[source]
        source: crate::Error,
    },

    /// Getting the presigned URL of a part failed.
    #[error("getting the upload URL of part {part} failed: {source}")]
    PartUrl {
        /// The part number (1-based).
        part: u32,
        /// The API error.
        #[source]
        source: crate::Error,
        /// Where to resume from.
        state: Box<UploadState>,
    },

    /// Sending a part to its presigned URL failed, after the retries.
    #[error("uploading part {part} failed: {source}")]
    PartUpload {
        /// The part number (1-based).
        part: u32,
        /// What went wrong on the last attempt.
        #[source]
        source: PartUploadError,
        /// Where to resume from.
        state: Box<UploadState>,
    },

    /// Completing the upload session (`PATCH .../media/uploads/{uploadId}`) failed.
    #[error("completing the upload session failed: {source}")]
    Complete {
        /// The API error.
        #[source]
        source: crate::Error,
        /// Where to resume from.
        state: Box<UploadState>,
    },

    /// Polling the media (`GET .../media/{uuid}`) failed.
    #[error("reading the status of media {media_uuid} failed: {source}")]
    Poll {
        /// The media being processed.
        media_uuid: Uuid,
        /// The API error.
        #[source]
        source: crate::Error,
        /// Where to resume from (the session is complete; resuming only polls).
        state: Box<UploadState>,
    },

    /// Fanvue finished processing the media with a failure status.
    #[error("media {media_uuid} failed processing (status {status})")]
    Processing {
        /// The media that failed.
        media_uuid: Uuid,
        /// The final status (`error`).
        status: MediaStatus,
    },

    /// The media was not ready within the processing timeout.
    #[error("media {media_uuid} was not ready after {waited:?} (last status {last_status})")]
    Timeout {
        /// The media being processed.
        media_uuid: Uuid,
        /// How long the upload waited.
        waited: Duration,
        /// The last status seen.
        last_status: MediaStatus,
        /// Where to resume from (the session is complete; resuming only polls).
        state: Box<UploadState>,
    },

    /// The file changed while it was uploaded (its length, modification
    /// time or identity differ from when the upload started: written to, or
    /// replaced by another file). The session was **not completed**, so no
    /// media mixes old and new bytes. Resuming with the file as it is now
    /// checks every sent part against its MD5 and sends the changed ones again.
    #[error("{} changed during the upload ({change}); the session was not completed", .path.display())]
    SourceChanged {
        /// The file.
        path: PathBuf,
        /// What differs: `length`, `modification time` or `file identity`.
        change: &'static str,
        /// Where to resume from.
        state: Box<UploadState>,
    },

    /// The upload was cancelled through its cancellation token.
    #[error("the upload was cancelled")]
    Cancelled {
        /// Where to resume from, when the session had been created.
        state: Option<Box<UploadState>>,
    },
}

fn path_suffix(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!(" {}", p.display()),
        None => String::new(),
    }
}

impl UploadError {
    /// The state to pass to [`MediaUploads::resume`](super::MediaUploads::resume),
    /// when the upload session had been created before the failure.
    pub fn resume_state(&self) -> Option<&UploadState> {
        match self {
            UploadError::Io { state, .. } | UploadError::Cancelled { state } => state.as_deref(),
            UploadError::PartUrl { state, .. }
            | UploadError::PartUpload { state, .. }
            | UploadError::Complete { state, .. }
            | UploadError::SourceChanged { state, .. }
            | UploadError::Poll { state, .. }
            | UploadError::Timeout { state, .. } => Some(state),
            UploadError::Validation(_)
            | UploadError::CreateSession { .. }
            | UploadError::CreateSessionUncertain { .. }
            | UploadError::Processing { .. } => None,
        }
    }

    /// The phase the upload was in when it failed.
    pub fn phase(&self) -> Phase {
        match self {
            UploadError::Validation(_) => Phase::Preparing,
            UploadError::Io { state: None, .. } => Phase::Preparing,
            UploadError::Io { state: Some(_), .. } => Phase::Uploading,
            UploadError::CreateSession { .. } | UploadError::CreateSessionUncertain { .. } => {
                Phase::CreatingSession
            }
            UploadError::PartUrl { .. }
            | UploadError::PartUpload { .. }
            | UploadError::SourceChanged { .. } => Phase::Uploading,
            UploadError::Complete { .. } => Phase::Completing,
            UploadError::Poll { .. }
            | UploadError::Processing { .. }
            | UploadError::Timeout { .. } => Phase::Processing,
            UploadError::Cancelled { state } => match state {
                None => Phase::Preparing,
                Some(s) if s.session_completed => Phase::Processing,
                Some(_) => Phase::Uploading,
            },
        }
    }
}

/// A request that cannot be sent as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The source holds no bytes; Fanvue cannot store empty media.
    #[error("the source is empty (0 bytes)")]
    EmptySource,
    /// The source is larger than S3 allows for one object (5 TiB).
    #[error("the source is {size} bytes, more than the {max} bytes S3 allows")]
    SourceTooLarge {
        /// The source's size.
        size: u64,
        /// The largest size allowed.
        max: u64,
    },
    /// The requested part size is below S3's minimum (5 MiB).
    #[error("part size {part_size} is below the {min} bytes S3 requires")]
    PartSizeTooSmall {
        /// The requested part size.
        part_size: u64,
        /// The minimum.
        min: u64,
    },
    /// The requested part size is above S3's maximum (5 GiB).
    #[error("part size {part_size} is above the {max} bytes S3 allows")]
    PartSizeTooLarge {
        /// The requested part size.
        part_size: u64,
        /// The maximum.
        max: u64,
    },
    /// Concurrency must be at least 1.
    #[error("concurrency must be at least 1")]
    ZeroConcurrency,
    /// Concurrency above [`MAX_CONCURRENCY`](super::MAX_CONCURRENCY).
    #[error("concurrency {requested} is above the maximum of {max} parts in flight")]
    ConcurrencyTooHigh {
        /// The concurrency asked for.
        requested: usize,
        /// The maximum.
        max: usize,
    },
    /// No filename was given and none can be taken from the source.
    #[error("a filename is required when the source is not a file path")]
    MissingFilename,
    /// The name or filename is empty or longer than 255 characters.
    #[error("{field} must be 1 to 255 characters (got {len})")]
    BadLength {
        /// `name` or `filename`.
        field: &'static str,
        /// Its length in characters.
        len: usize,
    },
    /// The media type was not given and could not be guessed from the file
    /// extension or the content.
    #[error(
        "cannot tell the media type of {filename:?} from its extension or content; set it with .media_type()"
    )]
    UnknownMediaType {
        /// The filename that was examined.
        filename: String,
    },
    /// A resumed upload's source is not the size recorded in the state.
    #[error("the source is {actual} bytes but the upload being resumed is {expected} bytes")]
    ResumeSizeMismatch {
        /// The size recorded in the state.
        expected: u64,
        /// The size of the given source.
        actual: u64,
    },
    /// The resume state is inconsistent (bad part size, part numbers out of range, ...).
    #[error("invalid resume state: {0}")]
    BadResumeState(String),
    /// A source of unknown length ([`UploadSource::stream`](super::UploadSource::stream))
    /// cannot resume: the bytes it already gave cannot be read again to check them.
    #[error(
        "a source of unknown length cannot resume an upload; resume with the same file, bytes or a reader of known length"
    )]
    ResumeNeedsKnownLength,
    /// `for_creator` names another creator than the upload being resumed.
    #[error("the upload being resumed belongs to creator {state:?}, not {requested:?}")]
    CreatorMismatch {
        /// The creator recorded in the state.
        state: Option<Uuid>,
        /// The creator given to the builder.
        requested: Option<Uuid>,
    },
}

/// A failure to read the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The operating system's error (file missing, permission denied, ...).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The reader ended before the declared length.
    #[error("the source ended after {actual} bytes but {expected} were declared")]
    TooShort {
        /// The declared length.
        expected: u64,
        /// The bytes actually read.
        actual: u64,
    },
    /// The reader yields more bytes than the declared length.
    #[error("the source yields more than the {expected} bytes declared")]
    TooLong {
        /// The declared length.
        expected: u64,
    },
    /// The file got shorter while it was being uploaded.
    #[error(
        "the file changed during the upload: it ends at byte {actual}, expected at least {expected}"
    )]
    Changed {
        /// The length the part needed.
        expected: u64,
        /// Where the file ended.
        actual: u64,
    },
    /// A stream of unknown length is longer than 10,000 parts of the part size.
    #[error(
        "the stream is longer than {max} bytes (10,000 parts of {part_size}); set a bigger part size"
    )]
    StreamTooLong {
        /// The most bytes the part size allows.
        max: u64,
        /// The part size used.
        part_size: u64,
    },
}

/// Why sending one part to its presigned URL failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PartUploadError {
    /// The storage answered with an error status.
    #[error("storage answered HTTP {status}{}", body_suffix(.body))]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the response body (S3's XML error), if any.
        body: String,
    },
    /// The connection failed (refused, reset, broken mid-body, ...).
    #[error("transport error: {0}")]
    Transport(#[source] crate::error::TransportError),
    /// The PUT took longer than the part timeout.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// The storage answered without an `ETag` header.
    #[error("the storage answered without an ETag")]
    MissingEtag,
    /// The presigned URL returned by the API is not an absolute http(s) URL.
    #[error("the presigned URL is not an absolute http(s) URL")]
    BadUrl,
    /// The presigned URL is plain `http://` and the client was not built with
    /// [`allow_insecure_http(true)`](crate::FanvueBuilder::allow_insecure_http):
    /// the part's bytes are not sent in the clear.
    #[error("the presigned URL uses plain http; only allowed with allow_insecure_http(true)")]
    InsecureUrl,
    /// The storage refused the part's bytes (`Content-MD5` mismatch) and the
    /// file no longer holds the bytes that were hashed: it was written to
    /// during the upload. Sending the part again cannot help.
    #[error(
        "the file changed during the upload: bytes {start}..{end} no longer match the MD5 taken when the part was read"
    )]
    SourceChanged {
        /// Where the part starts in the file.
        start: u64,
        /// Where it ends.
        end: u64,
    },
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn errors_are_send_and_sync() {
        assert_send_sync::<UploadError>();
        assert_send_sync::<PartUploadError>();
    }

    #[test]
    fn phase_and_resume_state_follow_the_variant() {
        let state = UploadState {
            media_uuid: Uuid::nil(),
            upload_id: "u".into(),
            creator_uuid: None,
            part_size: 5 << 20,
            lead_parts: None,
            total_size: 1,
            completed_parts: vec![],
            session_completed: false,
        };
        let err = UploadError::PartUpload {
            part: 2,
            source: PartUploadError::MissingEtag,
            state: Box::new(state.clone()),
        };
        assert_eq!(err.phase(), Phase::Uploading);
        assert_eq!(err.resume_state(), Some(&state));
        assert!(err.to_string().contains("part 2"), "{err}");
        let err = UploadError::from(ValidationError::EmptySource);
        assert_eq!(err.phase(), Phase::Preparing);
        assert!(err.resume_state().is_none());
        let err = UploadError::Cancelled {
            state: Some(Box::new(UploadState {
                session_completed: true,
                ..state
            })),
        };
        assert_eq!(err.phase(), Phase::Processing);
    }
}
