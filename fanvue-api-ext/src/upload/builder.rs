//! The public entry point: `fanvue.media().upload(source)` and its options.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::engine::{self, Config};
use super::error::UploadError;
use super::fanvue::{FanvueUploadApi, Media};
use super::media_type::MediaType;
use super::progress::Progress;
use super::source::UploadSource;
use super::state::UploadState;
use super::transfer::PartRetryPolicy;
use crate::Fanvue;

impl Fanvue {
    /// Media operations that go beyond one API call: uploads.
    ///
    /// ```no_run
    /// # async fn demo(fanvue: fanvue_api_ext::Fanvue) -> Result<(), fanvue_api_ext::upload::UploadError> {
    /// use fanvue_api_ext::upload::UploadSource;
    ///
    /// let media = fanvue
    ///     .media()
    ///     .upload(UploadSource::path("clip.mp4"))
    ///     .name("Beach day")
    ///     .send()
    ///     .await?;
    /// # let _ = media;
    /// # Ok(()) }
    /// ```
    pub fn media(&self) -> MediaUploads {
        MediaUploads {
            fanvue: self.clone(),
        }
    }
}

/// Media uploads through a [`Fanvue`] client; see [`Fanvue::media`].
#[derive(Clone)]
pub struct MediaUploads {
    fanvue: Fanvue,
}

impl std::fmt::Debug for MediaUploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaUploads").finish_non_exhaustive()
    }
}

impl MediaUploads {
    /// The client the uploads go through.
    pub(crate) fn fanvue(&self) -> &Fanvue {
        &self.fanvue
    }

    /// Starts an upload of `source`: a file ([`UploadSource::path`], or a
    /// `&Path` / `PathBuf`), bytes (`Bytes`, `Vec<u8>`), or [`UploadSource::reader`].
    ///
    /// Set options on the returned builder, then `.send().await` (or just
    /// `.await`) it for the ready media.
    pub fn upload(&self, source: impl Into<UploadSource>) -> UploadBuilder {
        UploadBuilder {
            fanvue: self.fanvue.clone(),
            source: source.into(),
            config: Config::default(),
            creator: None,
        }
    }

    /// Resumes an interrupted upload from its [`UploadState`] (from
    /// [`UploadError::resume_state`] or a checkpoint) with the same source:
    /// only the parts not yet acknowledged are sent. The state fixes the
    /// session, part size and creator; `.part_size()`, `.name()`,
    /// `.filename()` and `.media_type()` are ignored.
    pub fn resume(&self, state: UploadState, source: impl Into<UploadSource>) -> UploadBuilder {
        let creator = state.creator_uuid;
        UploadBuilder {
            fanvue: self.fanvue.clone(),
            source: source.into(),
            config: Config {
                resume: Some(state),
                ..Config::default()
            },
            creator,
        }
    }
}

/// An upload being configured; `.send().await` runs it.
///
/// Dropping the future returned by [`send`](Self::send) stops every part
/// upload at once; so does cancelling the token given to
/// [`cancel_token`](Self::cancel_token) (then the error carries the state to
/// resume from).
#[must_use = "an upload does nothing until `.send().await`"]
pub struct UploadBuilder {
    fanvue: Fanvue,
    source: UploadSource,
    config: Config,
    creator: Option<Uuid>,
}

impl std::fmt::Debug for UploadBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadBuilder")
            .field("source", &self.source)
            .field("name", &self.config.name)
            .field("filename", &self.config.filename)
            .field("media_type", &self.config.media_type)
            .field("part_size", &self.config.part_size)
            .field("concurrency", &self.config.concurrency)
            .field("creator", &self.creator)
            .finish_non_exhaustive()
    }
}

impl UploadBuilder {
    /// The media's name (default: the filename).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = Some(name.into());
        self
    }

    /// The filename sent to Fanvue (default: the file's name; required for
    /// bytes and readers).
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.config.filename = Some(filename.into());
        self
    }

    /// The media type (default: guessed from the filename's extension, else
    /// from the content's first bytes; unknown is an error before any request).
    pub fn media_type(mut self, media_type: MediaType) -> Self {
        self.config.media_type = Some(media_type);
        self
    }

    /// The part size in bytes (5 MiB to 5 GiB), the same for every part.
    /// Without it, files and bytes are planned by
    /// [`PartPlan::for_connections`](super::plan::PartPlan::for_connections)
    /// (8 MiB lead parts doubling each round, then parts of 8 to 64 MiB),
    /// readers and streams of unknown length use 8 MiB. It is grown when the
    /// source would otherwise need more than 10,000 parts.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.config.part_size = Some(bytes);
        self
    }

    /// How many parts are in flight at once (default 8, at most
    /// [`MAX_CONCURRENCY`](super::MAX_CONCURRENCY), 64; more is
    /// [`ValidationError::ConcurrencyTooHigh`](super::ValidationError::ConcurrencyTooHigh)
    /// before any request). A file's parts are
    /// not held in memory; for readers and streams peak memory is about
    /// `concurrency × part size`, plus a read-ahead of at most 6 parts and
    /// 48 MiB.
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.config.concurrency = parts;
        self
    }

    /// Calls `callback` on every phase change and acknowledged part.
    pub fn on_progress(mut self, callback: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.config.on_progress = Some(Arc::new(callback));
        self
    }

    /// Publishes progress to a `tokio::sync::watch` channel (create it with
    /// `watch::channel(Progress)`, or `watch::Sender::new`).
    pub fn progress_channel(mut self, sender: watch::Sender<Progress>) -> Self {
        self.config.progress_watch = Some(sender);
        self
    }

    /// Calls `callback` with the resumable state after the session is created
    /// and after every acknowledged part (store it to resume after a crash).
    pub fn on_checkpoint(
        mut self,
        callback: impl Fn(&UploadState) + Send + Sync + 'static,
    ) -> Self {
        self.config.on_checkpoint = Some(Arc::new(callback));
        self
    }

    /// How long to wait for Fanvue to process the media once uploaded (default 15 minutes).
    pub fn processing_timeout(mut self, timeout: Duration) -> Self {
        self.config.processing_timeout = timeout;
        self
    }

    /// The delay before the second status poll (default 250 ms; it grows to 5 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.config.poll_interval = interval;
        self
    }

    /// How a failing part is retried (default: 6 attempts, 200 ms to 10 s backoff).
    pub fn part_retry(mut self, policy: PartRetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Stops the upload when `token` is cancelled ([`UploadError::Cancelled`]
    /// with the state to resume from).
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.config.cancel = Some(token);
        self
    }

    /// Uploads on behalf of creator `creator_user_uuid` (agency accounts; the
    /// `/creators/{creatorUserUuid}/media/...` endpoints).
    pub fn for_creator(mut self, creator_user_uuid: Uuid) -> Self {
        self.creator = Some(creator_user_uuid);
        self
    }

    /// Runs the upload: the ready media, or the phase that failed.
    pub async fn send(self) -> Result<Media, UploadError> {
        let http = self.fanvue.transfer_client().clone();
        let mut config = self.config;
        config.quota = Some(self.fanvue.retry_quota().clone());
        let api = Arc::new(FanvueUploadApi::new(self.fanvue, self.creator));
        engine::run(api, http, self.source, config).await
    }
}

impl IntoFuture for UploadBuilder {
    type Output = Result<Media, UploadError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
