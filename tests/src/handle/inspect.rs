//! Inspecting the running fake: the request log, per-route counters, upload sessions and S3, and
//! waiting for a condition without sleeping.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;

use uuid::Uuid;

use super::FakeFanvue;
use crate::faults::ApiRoute;
use crate::log::{Listener, RecordedRequest};
use crate::model::MediaType;
use crate::state::{RawObject, UploadSession};

/// The assembled object of a completed upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledObject {
    /// Total size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the whole object; `None` in [`crate::StorageMode::HashOnly`] and [`crate::StorageMode::Md5Only`].
    pub sha256: Option<String>,
    /// Hex SHA-256 of each part, in part order.
    pub part_sha256: Vec<String>,
}

/// A snapshot of one upload session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// The `uploadId`.
    pub upload_id: String,
    /// The media created for it.
    pub media_uuid: Uuid,
    /// The creator it was created for (agency endpoints), or `None` for the authenticated user.
    pub creator: Option<Uuid>,
    /// `name` of the create request.
    pub name: String,
    /// `filename` of the create request.
    pub filename: String,
    /// `mediaType` of the create request.
    pub media_type: MediaType,
    /// Part PUTs received per part number (every attempt that passed the signature check, faults included).
    pub part_attempts: BTreeMap<u32, u32>,
    /// Part PUTs stored per part number.
    pub part_successes: BTreeMap<u32, u32>,
    /// Presigned URLs handed out per part number.
    pub urls_issued: BTreeMap<u32, u32>,
    /// Size of the currently stored bytes of each part.
    pub stored_parts: BTreeMap<u32, u64>,
    /// The assembled object, once completed.
    pub assembled: Option<AssembledObject>,
}

impl UploadInfo {
    fn from_session(u: &UploadSession) -> Self {
        UploadInfo {
            upload_id: u.upload_id.clone(),
            media_uuid: u.media_uuid,
            creator: u.creator,
            name: u.name.clone(),
            filename: u.filename.clone(),
            media_type: u.media_type,
            part_attempts: u.attempts.clone(),
            part_successes: u.successes.clone(),
            urls_issued: u.urls_issued.clone(),
            stored_parts: u.parts.iter().map(|(k, p)| (*k, p.size)).collect(),
            assembled: u.assembled.as_ref().map(|a| AssembledObject {
                size: a.size,
                sha256: a.sha256.clone(),
                part_sha256: a.part_sha256.clone(),
            }),
        }
    }
}

impl FakeFanvue {
    // ---- request log ----

    /// Every request received so far, all listeners, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// Requests received by one listener.
    pub fn requests_to(&self, listener: Listener) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.listener == listener)
            .cloned()
            .collect()
    }

    /// Requests received by the API listener.
    pub fn api_requests(&self) -> Vec<RecordedRequest> {
        self.requests_to(Listener::Api)
    }

    /// Requests received by S3.
    pub fn s3_requests(&self) -> Vec<RecordedRequest> {
        self.requests_to(Listener::S3)
    }

    /// Requests received by the OAuth server.
    pub fn auth_requests(&self) -> Vec<RecordedRequest> {
        self.requests_to(Listener::Auth)
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// Requests that reached `route` so far (faulted ones included; rejected versions/tokens included).
    pub fn request_count(&self, route: ApiRoute) -> u64 {
        self.shared
            .lock()
            .route_counts
            .get(&route)
            .copied()
            .unwrap_or(0)
    }

    /// Whether S3 ever received an `Authorization` header (tracked even when the log is off or cleared).
    pub fn s3_saw_authorization(&self) -> bool {
        self.shared.s3_saw_authorization.load(Ordering::SeqCst)
    }

    /// Whether S3 ever received an `X-Fanvue-*` header (tracked even when the log is off or cleared).
    pub fn s3_saw_fanvue_header(&self) -> bool {
        self.shared.s3_saw_fanvue_header.load(Ordering::SeqCst)
    }

    /// Whether any request to S3 or the OAuth server carried one of the access tokens the fake knows
    /// (anywhere in its headers or query).
    pub fn token_leaked_outside_api(&self) -> bool {
        let st = self.shared.lock();
        let tokens: HashSet<&String> = st.tokens.access.keys().collect();
        st.log
            .iter()
            .filter(|r| r.listener != Listener::Api)
            .any(|r| {
                r.headers.values().any(|v| {
                    v.to_str()
                        .is_ok_and(|s| tokens.iter().any(|t| s.contains(t.as_str())))
                }) || r
                    .query
                    .as_ref()
                    .is_some_and(|q| tokens.iter().any(|t| q.contains(t.as_str())))
            })
    }

    // ---- uploads and S3 ----

    /// Snapshots of every upload session.
    pub fn uploads(&self) -> Vec<UploadInfo> {
        self.shared
            .lock()
            .uploads
            .values()
            .map(UploadInfo::from_session)
            .collect()
    }

    /// The upload session that created `media_uuid`.
    pub fn upload_for_media(&self, media_uuid: Uuid) -> Option<UploadInfo> {
        self.shared
            .lock()
            .uploads
            .values()
            .find(|u| u.media_uuid == media_uuid)
            .map(UploadInfo::from_session)
    }

    /// The upload session `upload_id`.
    pub fn upload(&self, upload_id: &str) -> Option<UploadInfo> {
        self.shared
            .lock()
            .uploads
            .get(upload_id)
            .map(UploadInfo::from_session)
    }

    /// The assembled object of the completed upload of `media_uuid`.
    pub fn assembled(&self, media_uuid: Uuid) -> Option<AssembledObject> {
        self.upload_for_media(media_uuid).and_then(|u| u.assembled)
    }

    /// Hex SHA-256 of the assembled object ([`crate::StorageMode::KeepBytes`] only).
    pub fn assembled_sha256(&self, media_uuid: Uuid) -> Option<String> {
        self.assembled(media_uuid).and_then(|a| a.sha256)
    }

    /// Size of the assembled object.
    pub fn assembled_size(&self, media_uuid: Uuid) -> Option<u64> {
        self.assembled(media_uuid).map(|a| a.size)
    }

    /// The assembled object's bytes ([`crate::StorageMode::KeepBytes`] only; copies them).
    pub fn assembled_bytes(&self, media_uuid: Uuid) -> Option<Vec<u8>> {
        let st = self.shared.lock();
        let u = st.uploads.values().find(|u| u.media_uuid == media_uuid)?;
        let parts = u.assembled.as_ref()?.bytes.as_ref()?;
        Some(parts.iter().flat_map(|b| b.iter().copied()).collect())
    }

    /// Part PUT attempts per part number for the upload of `media_uuid` (empty if unknown).
    pub fn part_put_counts(&self, media_uuid: Uuid) -> BTreeMap<u32, u32> {
        self.upload_for_media(media_uuid)
            .map(|u| u.part_attempts)
            .unwrap_or_default()
    }

    /// Most part PUTs observed in flight at once (all uploads) since start or the last reset.
    pub fn max_concurrent_part_puts(&self) -> usize {
        self.shared.s3_max_in_flight.load(Ordering::SeqCst)
    }

    /// Part PUTs in flight right now.
    pub fn part_puts_in_flight(&self) -> usize {
        self.shared.s3_in_flight.load(Ordering::SeqCst)
    }

    /// Resets the in-flight maximum to the current number in flight.
    pub fn reset_max_concurrent_part_puts(&self) {
        let now = self.shared.s3_in_flight.load(Ordering::SeqCst);
        self.shared.s3_max_in_flight.store(now, Ordering::SeqCst);
    }

    /// The object stored by the raw single-PUT endpoint under `key`.
    pub fn raw_object(&self, key: &str) -> Option<RawObject> {
        self.shared.lock().raw_objects.get(key).cloned()
    }

    // ---- waiting ----

    /// Resolves once `condition` holds, re-checking it whenever the fake handles something (a request
    /// arrives or finishes, a part PUT starts or ends). No polling interval, no sleeps; wrap it in
    /// `tokio::time::timeout` to bound the wait.
    pub async fn wait_until(&self, mut condition: impl FnMut(&FakeFanvue) -> bool) {
        let mut events = self.shared.events.subscribe();
        loop {
            if condition(self) {
                return;
            }
            if events.changed().await.is_err() {
                return;
            }
        }
    }
}
