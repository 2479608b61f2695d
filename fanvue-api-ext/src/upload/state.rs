//! The serializable state that lets an interrupted upload resume.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::ValidationError;
use super::plan::{LeadParts, PartPlan};

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
#[non_exhaustive]
pub struct UploadState {
    /// The media record created for this upload.
    pub media_uuid: Uuid,
    /// The multipart upload id.
    pub upload_id: String,
    /// The creator the upload is for, when an agency uploads on their behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_uuid: Option<Uuid>,
    /// The size of every part but the lead parts and the last.
    pub part_size: u64,
    /// Smaller parts at the start, when the upload was planned with them
    /// (states written before this field existed have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_parts: Option<LeadParts>,
    /// The size of the source.
    pub total_size: u64,
    /// The parts acknowledged so far, ascending by part number.
    #[serde(default)]
    pub completed_parts: Vec<CompletedPart>,
    /// Whether the session was completed (resuming then only waits for processing).
    #[serde(default)]
    pub session_completed: bool,
}

/// One acknowledged part: its number, the `ETag` the storage returned and the
/// MD5 of the bytes that were sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CompletedPart {
    /// The part number (1-based).
    pub part_number: u32,
    /// The `ETag` as the storage returned it (quotes included). Any value is
    /// accepted: under SSE-KMS or SSE-C it is not an MD5.
    pub etag: String,
    /// The MD5 (lowercase hex) of the part's bytes as sent. A resume reads the
    /// part's range again and sends the part again when the bytes changed.
    /// States written before this field existed have none: such parts are
    /// sent again on resume (their content cannot be checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
}

impl UploadState {
    /// Records an acknowledged part, keeping the list sorted and unique.
    pub(crate) fn record(&mut self, part: CompletedPart) {
        match self
            .completed_parts
            .binary_search_by_key(&part.part_number, |p| p.part_number)
        {
            Ok(i) => {
                if let Some(slot) = self.completed_parts.get_mut(i) {
                    *slot = part;
                }
            }
            Err(i) => self.completed_parts.insert(i, part),
        }
    }

    /// The recorded part `n`, when acknowledged.
    pub(crate) fn done(&self, n: u32) -> Option<&CompletedPart> {
        self.completed_parts
            .binary_search_by_key(&n, |p| p.part_number)
            .ok()
            .and_then(|i| self.completed_parts.get(i))
    }

    /// Forgets part `n` (its bytes changed since it was sent).
    pub(crate) fn forget(&mut self, n: u32) {
        self.completed_parts.retain(|p| p.part_number != n);
    }

    /// How the source is cut into parts.
    pub(crate) fn plan(&self) -> Result<PartPlan, ValidationError> {
        match self.lead_parts {
            Some(lead) => PartPlan::with_lead(self.total_size, lead, self.part_size),
            None => PartPlan::exact(self.total_size, self.part_size),
        }
    }

    /// Checks a state read back from storage before it is trusted: ids
    /// present, sizes consistent with S3's rules, parts sorted, unique, in
    /// range and with well-formed checksums. The error names what is wrong.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let bad = |why: String| Err(ValidationError::BadResumeState(why));
        if self.upload_id.trim().is_empty() {
            return bad("empty upload id".into());
        }
        let plan = self.plan().map_err(|e| match e {
            ValidationError::BadResumeState(why) => ValidationError::BadResumeState(why),
            other => ValidationError::BadResumeState(format!(
                "total size {} with part size {}: {other}",
                self.total_size, self.part_size
            )),
        })?;
        let mut previous = 0u32;
        for part in &self.completed_parts {
            let n = part.part_number;
            if n == 0 || n > plan.part_count() {
                return bad(format!(
                    "part {n} is outside 1..={} ({} bytes in parts of {})",
                    plan.part_count(),
                    self.total_size,
                    self.part_size
                ));
            }
            if n == previous {
                return bad(format!("part {n} is listed twice"));
            }
            if n < previous {
                return bad(format!("parts are not sorted: {n} after {previous}"));
            }
            previous = n;
            if part.etag.trim().is_empty() {
                return bad(format!("part {n} has an empty ETag"));
            }
            if let Some(md5) = &part.md5
                && !(md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return bad(format!("part {n} has a malformed MD5 {md5:?}"));
            }
        }
        if self.session_completed
            && (self.completed_parts.len() as u64) != u64::from(plan.part_count())
        {
            return bad(format!(
                "the session is marked completed but {} of {} parts are listed",
                self.completed_parts.len(),
                plan.part_count()
            ));
        }
        Ok(())
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
            lead_parts: None,
            total_size: 11 << 20,
            completed_parts: vec![],
            session_completed: false,
        };
        state.record(CompletedPart {
            part_number: 3,
            etag: "\"c\"".into(),
            md5: None,
        });
        state.record(CompletedPart {
            part_number: 1,
            etag: "\"a\"".into(),
            md5: Some("0123456789abcdef0123456789abcdef".into()),
        });
        state.record(CompletedPart {
            part_number: 3,
            etag: "\"c2\"".into(),
            md5: None,
        });
        assert_eq!(
            state
                .completed_parts
                .iter()
                .map(|p| p.part_number)
                .collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert!(state.done(1).is_some() && state.done(2).is_none() && state.done(3).is_some());
        let json = serde_json::to_string(&state).unwrap();
        assert!(json.contains("\"uploadId\":\"up-1\""), "{json}");
        assert!(!json.contains("creatorUuid"), "{json}");
        let back: UploadState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
        assert_eq!(back.validate(), Ok(()));
    }

    fn state_with(parts: &[u32]) -> UploadState {
        UploadState {
            media_uuid: Uuid::nil(),
            upload_id: "up-1".into(),
            creator_uuid: None,
            part_size: 5 << 20,
            lead_parts: None,
            total_size: 11 << 20,
            completed_parts: parts
                .iter()
                .map(|&n| CompletedPart {
                    part_number: n,
                    etag: format!("\"e{n}\""),
                    md5: Some("0123456789abcdef0123456789abcdef".into()),
                })
                .collect(),
            session_completed: false,
        }
    }

    fn invalid(state: &UploadState) -> String {
        match state.validate() {
            Err(ValidationError::BadResumeState(why)) => why,
            other => panic!("expected BadResumeState, got {other:?}"),
        }
    }

    #[test]
    fn validate_rejects_inconsistent_states_naming_the_problem() {
        assert_eq!(state_with(&[1, 2, 3]).validate(), Ok(()));
        assert!(invalid(&state_with(&[0])).contains("part 0 is outside 1..=3"));
        assert!(invalid(&state_with(&[4])).contains("part 4 is outside 1..=3"));
        assert!(invalid(&state_with(&[1, 1])).contains("part 1 is listed twice"));
        assert!(invalid(&state_with(&[2, 1])).contains("not sorted"));
        let mut s = state_with(&[1]);
        s.completed_parts[0].md5 = Some("xyz".into());
        assert!(invalid(&s).contains("malformed MD5"));
        let mut s = state_with(&[1]);
        s.completed_parts[0].etag = " ".into();
        assert!(invalid(&s).contains("empty ETag"));
        let mut s = state_with(&[]);
        s.part_size = 1024;
        assert!(invalid(&s).contains("part size 1024"), "{}", invalid(&s));
        let mut s = state_with(&[]);
        s.total_size = 0;
        assert!(invalid(&s).contains("empty"), "{}", invalid(&s));
        let mut s = state_with(&[]);
        s.upload_id = String::new();
        assert!(invalid(&s).contains("upload id"));
        let mut s = state_with(&[1, 2]);
        s.session_completed = true;
        assert!(invalid(&s).contains("completed but 2 of 3"));
    }
}
