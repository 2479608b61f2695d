//! The [`UploadApi`] of a [`Fanvue`] client: the generated operations for the
//! authenticated creator (`/media/...`) or, as an agency, for another creator
//! (`/creators/{creatorUserUuid}/media/...`).

use bytes::BytesMut;
use fanvue_api::prelude::*;
use fanvue_api::types;
use futures::StreamExt;
use std::time::Duration;
use uuid::Uuid;

use super::api::{Session, SessionRequest, UploadApi};
use super::state::CompletedPart;
use crate::call::OperationExt;
use crate::error::TransportError;
use crate::{Error, Fanvue};

/// The media an upload returns once Fanvue has processed it (the
/// `GET /media/{uuid}` result, with the `main`, `thumbnail` and `blurred`
/// variants requested so it carries their URLs).
pub type Media = types::Media;

/// How many 429 answers to creating a session are waited out.
const MAX_CREATE_RATE_LIMITED: u32 = 3;
/// The longest wait for one of them.
const MAX_CREATE_WAIT: Duration = Duration::from_secs(60);

/// The largest presigned-URL body read (a URL is a few hundred bytes).
const MAX_URL_BODY: usize = 64 * 1024;

/// Upload calls through a [`Fanvue`] client.
pub(crate) struct FanvueUploadApi {
    fanvue: Fanvue,
    creator: Option<Uuid>,
}

impl FanvueUploadApi {
    pub(crate) fn new(fanvue: Fanvue, creator: Option<Uuid>) -> Self {
        Self { fanvue, creator }
    }

    /// `POST .../media/uploads` once: the executor retries it only when the
    /// request never left (connect failure), even when the client's
    /// [`RetryPolicy`](crate::RetryPolicy) resends non-idempotent requests.
    async fn create_session_once(&self, request: &SessionRequest) -> Result<Session, Error> {
        let api = self.fanvue.api();
        let (name, filename) = (request.name.clone(), request.filename.clone());
        let media_type = request.media_type.clone();
        let session = match self.creator {
            None => {
                api.create_upload_session()
                    .body_map(|b| b.name(name).filename(filename).media_type(media_type))
                    .send()
                    // whatever the client-wide policy says
                    .retry_non_idempotent(false)
                    .await?
            }
            Some(creator) => {
                api.create_creator_upload_session()
                    .creator_user_uuid(creator)
                    .body_map(|b| b.name(name).filename(filename).media_type(media_type))
                    .send()
                    // whatever the client-wide policy says
                    .retry_non_idempotent(false)
                    .await?
            }
        };
        Ok(Session {
            media_uuid: session.media_uuid,
            upload_id: session.upload_id,
        })
    }
}

// Completing a session twice is harmless next to failing a whole upload: it
// is retried on transient failures like idempotent calls
// (`.retry_non_idempotent(true)`). Creating a session is NOT (a second one
// would be a duplicate media): the executor then retries it only when the
// request provably never left (connect failure). A part's URL request is sent
// without the executor's retries: the part loop retries the part as a unit
// (one retry layer per request).

fn variants() -> types::VariantList {
    types::VariantList::from([
        types::MediaVariantType::Main,
        types::MediaVariantType::Thumbnail,
        types::MediaVariantType::Blurred,
    ])
}

fn part_number(n: u32) -> std::num::NonZeroU64 {
    std::num::NonZeroU64::new(u64::from(n)).unwrap_or(std::num::NonZeroU64::MIN)
}

impl UploadApi for FanvueUploadApi {
    type Media = Media;

    fn creator(&self) -> Option<Uuid> {
        self.creator
    }

    async fn create_session(&self, request: &SessionRequest) -> Result<Session, Error> {
        let mut refused = 0;
        loop {
            match self.create_session_once(request).await {
                Err(Error::RateLimited { retry_after, .. })
                    if refused < MAX_CREATE_RATE_LIMITED =>
                {
                    // A 429 is a refusal: nothing was created, sending again is safe.
                    refused = refused.saturating_add(1);
                    let wait = retry_after
                        .unwrap_or(Duration::from_secs(1))
                        .min(MAX_CREATE_WAIT);
                    tracing::info!(
                        ?wait,
                        "creating the upload session was rate limited: waiting"
                    );
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn part_url(&self, upload_id: &str, n: u32) -> Result<String, Error> {
        let api = self.fanvue.api();
        let stream = match self.creator {
            None => {
                api.get_upload_part_url()
                    .upload_id(upload_id)
                    .part_number(u64::from(n))
                    .send()
                    .without_retries()
                    .await?
            }
            Some(creator) => {
                api.get_creator_upload_part_url()
                    .creator_user_uuid(creator)
                    .upload_id(upload_id)
                    .part_number(u64::from(n))
                    .send()
                    .without_retries()
                    .await?
            }
        };
        let mut body = BytesMut::new();
        let mut stream = stream.into_inner();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::Transport(TransportError::from_reqwest(e)))?;
            if body.len().saturating_add(chunk.len()) > MAX_URL_BODY {
                return Err(Error::invalid_input(
                    "presigned URL",
                    "the part URL response is too large",
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    async fn complete(
        &self,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<types::MediaStatus, Error> {
        let api = self.fanvue.api();
        let parts: Vec<types::UploadedPart> = parts
            .iter()
            .map(|p| types::UploadedPart {
                e_tag: Some(p.etag.clone()),
                part_number: part_number(p.part_number),
            })
            .collect();
        let done = match self.creator {
            None => {
                api.complete_upload_session()
                    .upload_id(upload_id)
                    .body_map(|b| b.parts(parts))
                    .send()
                    .retry_non_idempotent(true)
                    .await?
            }
            Some(creator) => {
                api.complete_creator_upload_session()
                    .creator_user_uuid(creator)
                    .upload_id(upload_id)
                    .body_map(|b| b.parts(parts))
                    .send()
                    .retry_non_idempotent(true)
                    .await?
            }
        };
        Ok(done.status)
    }

    async fn get_media(&self, media_uuid: Uuid) -> Result<(types::MediaStatus, Media), Error> {
        let api = self.fanvue.api();
        let media = match self.creator {
            None => {
                api.get_user_media_by_uuid()
                    .uuid(media_uuid)
                    .variants(variants())
                    .send()
                    .await?
            }
            Some(creator) => {
                api.get_creator_media_by_uuid()
                    .creator_user_uuid(creator)
                    .uuid(media_uuid)
                    .variants(variants())
                    .send()
                    .await?
            }
        };
        Ok((media.status.clone(), media))
    }

    fn maybe_reached_server(&self, error: &Error) -> bool {
        match error {
            // Timeout, reset or closed after the request went out.
            Error::Transport(e) => e.kind() != crate::error::TransportErrorKind::Connect,
            // A 5xx (a gateway timeout, a crash) says nothing of what was done.
            Error::Server { .. } => true,
            _ => false,
        }
    }

    fn allow_insecure_http(&self) -> bool {
        self.fanvue.allows_insecure_http()
    }

    fn is_transient(&self, error: &Error) -> bool {
        error.is_retryable()
    }
}
