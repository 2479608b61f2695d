//! The serializable state that lets an interrupted upload resume.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Everything needed to resume an interrupted upload without sending its
/// finished parts again: the session ids, the part size and the `ETag`s of the
/// parts the storage has acknowledged.
///
/// Get it from [`UploadError::resume_state`](super::UploadError::resume_state)
/// or from the checkpoint callback, store it (it is `serde`-serializable), and
/// pass it to [`MediaUploads::resume`](super::MediaUploads::resume) with the
/// same source. It holds no credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadState {
    /// The media record created for this upload.
    pub media_uuid: Uuid,
    /// The multipart upload id.
    pub upload_id: String,
    /// The creator the upload is for, when an agency uploads on their behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_uuid: Option<Uuid>,
    /// The size of every part but the last.
    pub part_size: u64,
    /// The size of the source.
    pub total_size: u64,
    /// The parts acknowledged so far, ascending by part number.
    #[serde(default)]
    pub completed_parts: Vec<CompletedPart>,
    /// Whether the session was completed (resuming then only waits for processing).
    #[serde(default)]
    pub session_completed: bool,
}

/// One acknowledged part: its number and the `ETag` the storage returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedPart {
    /// The part number (1-based).
    pub part_number: u32,
    /// The `ETag` as the storage returned it (quotes included).
    pub etag: String,
}

impl UploadState {
    /// Records an acknowledged part, keeping the list sorted and unique.
    pub(crate) fn record(&mut self, part: CompletedPart) {
        match self
            .completed_parts
            .binary_search_by_key(&part.part_number, |p| p.part_number)
        {
            Ok(i) => self.completed_parts[i] = part,
            Err(i) => self.completed_parts.insert(i, part),
        }
    }

    /// Whether part `n` is acknowledged.
    pub(crate) fn is_done(&self, n: u32) -> bool {
        self.completed_parts
            .binary_search_by_key(&n, |p| p.part_number)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_and_keeps_parts_sorted() {
        let mut state = UploadState {
            media_uuid: Uuid::nil(),
            upload_id: "up-1".into(),
            creator_uuid: None,
            part_size: 5 << 20,
            total_size: 11 << 20,
            completed_parts: vec![],
            session_completed: false,
        };
        state.record(CompletedPart {
            part_number: 3,
            etag: "\"c\"".into(),
        });
        state.record(CompletedPart {
            part_number: 1,
            etag: "\"a\"".into(),
        });
        state.record(CompletedPart {
            part_number: 3,
            etag: "\"c2\"".into(),
        });
        assert_eq!(
            state
                .completed_parts
                .iter()
                .map(|p| p.part_number)
                .collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert!(state.is_done(1) && !state.is_done(2) && state.is_done(3));
        let json = serde_json::to_string(&state).unwrap();
        assert!(json.contains("\"uploadId\":\"up-1\""), "{json}");
        assert!(!json.contains("creatorUuid"), "{json}");
        let back: UploadState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
    }
}
