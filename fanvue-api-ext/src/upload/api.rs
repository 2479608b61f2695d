//! The four API calls an upload makes, behind a small trait so the upload
//! engine does not care whether it uploads for the authenticated creator or,
//! as an agency, for another creator (`/creators/{creatorUserUuid}/media/...`).

use std::future::Future;

use uuid::Uuid;

use super::state::CompletedPart;
use fanvue_api::types::MediaStatus;
use fanvue_api::types::MediaType;

/// The body of "create upload session".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRequest {
    pub(crate) name: String,
    pub(crate) filename: String,
    pub(crate) media_type: MediaType,
}

/// The answer of "create upload session".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) media_uuid: Uuid,
    pub(crate) upload_id: String,
}

/// The API calls of an upload.
pub(crate) trait UploadApi: Send + Sync + 'static {
    /// What "get media" returns once the media is ready.
    type Media: Send + 'static;

    /// The creator uploaded for (agency variant), `None` for the authenticated creator.
    fn creator(&self) -> Option<Uuid>;

    /// `POST .../media/uploads`.
    fn create_session(
        &self,
        request: &SessionRequest,
    ) -> impl Future<Output = Result<Session, crate::Error>> + Send;

    /// `GET .../media/uploads/{uploadId}/parts/{partNumber}/url`: the
    /// presigned URL (as the API returned it, `text/plain`).
    fn part_url(
        &self,
        upload_id: &str,
        part_number: u32,
    ) -> impl Future<Output = Result<String, crate::Error>> + Send;

    /// `PATCH .../media/uploads/{uploadId}` with every part's `ETag`.
    fn complete(
        &self,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> impl Future<Output = Result<MediaStatus, crate::Error>> + Send;

    /// `GET .../media/{uuid}`: the status and the media.
    fn get_media(
        &self,
        media_uuid: Uuid,
    ) -> impl Future<Output = Result<(MediaStatus, Self::Media), crate::Error>> + Send;

    /// Whether a failed request may have reached the server and been acted on
    /// (a timeout or a connection dropped after sending), as opposed to one
    /// that provably never left (connect failure) or was answered.
    fn maybe_reached_server(&self, error: &crate::Error) -> bool;

    /// Whether plain `http://` presigned URLs may be used (the client's
    /// `allow_insecure_http`).
    fn allow_insecure_http(&self) -> bool;

    /// Whether an error of these calls is worth retrying at the upload level
    /// (after the client's own retries): timeouts, connection failures, 429, 5xx.
    fn is_transient(&self, error: &crate::Error) -> bool;
}
