//! The processing status of a media item.

use std::fmt;

/// Where Fanvue is in processing an uploaded media item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaStatus {
    /// The media record exists; the upload is not complete.
    Created,
    /// The upload is complete; Fanvue is processing it.
    Processing,
    /// The media is ready to use.
    Ready,
    /// Processing failed.
    Error,
    /// A status this SDK does not know (a newer API); treated as "not yet ready".
    Other(String),
}

impl MediaStatus {
    /// Parses the API's wire value (`created`, `processing`, `ready`, `error`).
    pub fn from_wire(value: &str) -> Self {
        match value {
            "created" => MediaStatus::Created,
            "processing" => MediaStatus::Processing,
            "ready" => MediaStatus::Ready,
            "error" => MediaStatus::Error,
            other => MediaStatus::Other(other.to_owned()),
        }
    }

    /// The API's wire value.
    pub fn as_str(&self) -> &str {
        match self {
            MediaStatus::Created => "created",
            MediaStatus::Processing => "processing",
            MediaStatus::Ready => "ready",
            MediaStatus::Error => "error",
            MediaStatus::Other(s) => s,
        }
    }
}

impl fmt::Display for MediaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
