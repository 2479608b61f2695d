//! The upload flow: validate, create the session, send the parts with bounded
//! concurrency, complete, then wait for processing.
//!
//! Part uploads run as tasks of a [`JoinSet`] owned by the upload future:
//! dropping the future (or cancelling its token) aborts them at once. At most
//! `concurrency` parts are held in memory, read or being sent.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::api::{SessionRequest, UploadApi};
use super::error::{SourceError, UploadError, ValidationError};
use super::media_type::{self, MediaType};
use super::plan::PartPlan;
use super::progress::{Phase, Progress, ProgressCallback, ProgressSink};
use super::source::{OpenedSource, PartData, UploadSource};
use super::state::UploadState;
use super::transfer::{PartCtx, PartFailure, PartRetryPolicy, upload_part};
use crate::retry::RetryQuota;
use fanvue_api::types::MediaStatus;

/// The default number of parts in flight.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The default time to wait for Fanvue to process the media.
pub const DEFAULT_PROCESSING_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The default delay before the second status poll (it grows up to [`MAX_POLL_INTERVAL`]).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// The longest delay between two status polls.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// A checkpoint callback, called with the state after the session is created
/// and after every acknowledged part.
pub type CheckpointCallback = Arc<dyn Fn(&UploadState) + Send + Sync>;

/// Every option of an upload.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) name: Option<String>,
    pub(crate) filename: Option<String>,
    pub(crate) media_type: Option<MediaType>,
    pub(crate) part_size: Option<u64>,
    pub(crate) concurrency: usize,
    pub(crate) processing_timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) retry: PartRetryPolicy,
    pub(crate) on_progress: Option<ProgressCallback>,
    pub(crate) progress_watch: Option<watch::Sender<Progress>>,
    pub(crate) on_checkpoint: Option<CheckpointCallback>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) resume: Option<UploadState>,
    /// The client-wide retry quota part retries draw from (`None`: unlimited).
    pub(crate) quota: Option<Arc<RetryQuota>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: None,
            filename: None,
            media_type: None,
            part_size: None,
            concurrency: DEFAULT_CONCURRENCY,
            processing_timeout: DEFAULT_PROCESSING_TIMEOUT,
            poll_interval: DEFAULT_POLL_INTERVAL,
            retry: PartRetryPolicy::default(),
            on_progress: None,
            progress_watch: None,
            on_checkpoint: None,
            cancel: None,
            resume: None,
            quota: None,
        }
    }
}

/// The latest state, kept where a cancellation can find it.
type SharedState = Arc<Mutex<Option<UploadState>>>;

fn snapshot(shared: &SharedState) -> Option<Box<UploadState>> {
    let guard = match shared.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    guard.clone().map(Box::new)
}

/// Runs an upload to the end: the ready media, or the phase that failed.
pub(crate) async fn run<A: UploadApi>(
    api: Arc<A>,
    http: reqwest::Client,
    source: UploadSource,
    config: Config,
) -> Result<A::Media, UploadError> {
    let shared: SharedState = Arc::new(Mutex::new(None));
    let Some(cancel) = config.cancel.clone() else {
        return Upload::new(api, http, config, shared).run(source).await;
    };
    let work = Upload::new(api, http, config, shared.clone()).run(source);
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(UploadError::Cancelled { state: snapshot(&shared) }),
        result = work => result,
    }
}

struct Upload<A> {
    api: Arc<A>,
    http: reqwest::Client,
    config: Config,
    shared: SharedState,
    path: Option<PathBuf>,
}

impl<A: UploadApi> Upload<A> {
    fn new(api: Arc<A>, http: reqwest::Client, config: Config, shared: SharedState) -> Self {
        Self {
            api,
            http,
            config,
            shared,
            path: None,
        }
    }

    async fn run(mut self, source: UploadSource) -> Result<A::Media, UploadError> {
        if self.config.concurrency == 0 {
            return Err(ValidationError::ZeroConcurrency.into());
        }
        self.path = source.file_path().map(ToOwned::to_owned);
        let mut opened = source.open().await.map_err(|e| self.io(e, None))?;
        let progress = ProgressSink::new(
            opened.len(),
            self.config.on_progress.clone(),
            self.config.progress_watch.clone(),
        );
        progress.phase(Phase::Preparing);
        let (mut state, plan, first) = match self.config.resume.take() {
            Some(state) => {
                let plan = self.check_resume(&state, opened.len())?;
                (state, plan, None)
            }
            None => self.start(&mut opened, &progress).await?,
        };
        let done_bytes: u64 = state
            .completed_parts
            .iter()
            .map(|p| plan.len_of(p.part_number))
            .sum();
        progress.update(|p| {
            p.media_uuid = Some(state.media_uuid);
            p.parts_total = plan.part_count();
            p.parts_done = state.completed_parts.len() as u32;
            p.bytes_sent = done_bytes;
        });
        self.checkpoint(&state);

        if !state.session_completed {
            progress.phase(Phase::Uploading);
            self.send_parts(&mut state, &plan, &mut opened, first, &progress)
                .await?;
            drop(opened);
            progress.phase(Phase::Completing);
            let status = self.complete(&state).await?;
            state.session_completed = true;
            self.checkpoint(&state);
            if status == MediaStatus::Error {
                return Err(UploadError::Processing {
                    media_uuid: state.media_uuid,
                    status,
                });
            }
        }
        progress.phase(Phase::Processing);
        let media = self.wait_ready(&state).await?;
        progress.phase(Phase::Done);
        Ok(media)
    }

    /// Validates a fresh upload, reads its first part, creates the session.
    async fn start(
        &self,
        opened: &mut OpenedSource,
        progress: &ProgressSink,
    ) -> Result<(UploadState, PartPlan, Option<PartData>), UploadError> {
        let plan = PartPlan::new(opened.len(), self.config.part_size)?;
        let filename = match (&self.config.filename, &self.path) {
            (Some(f), _) => f.clone(),
            (None, Some(path)) => path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .ok_or(ValidationError::MissingFilename)?,
            (None, None) => return Err(ValidationError::MissingFilename.into()),
        };
        let name = self.config.name.clone().unwrap_or_else(|| filename.clone());
        check_length("filename", &filename)?;
        check_length("name", &name)?;
        // Read part 1 before any request: it catches short readers of small
        // sources and gives the bytes to sniff the media type from.
        let range = plan.range(1).unwrap_or(0..0);
        let first = opened
            .read_part(1, range.start, range.end)
            .await
            .map_err(|e| self.io(e, None))?;
        let media_type = self
            .config
            .media_type
            .clone()
            .or_else(|| media_type::from_filename(&filename))
            .or_else(|| media_type::sniff(&first.bytes[..first.bytes.len().min(64)]))
            .ok_or_else(|| ValidationError::UnknownMediaType {
                filename: filename.clone(),
            })?;
        progress.phase(Phase::CreatingSession);
        let session = self
            .api
            .create_session(&SessionRequest {
                name,
                filename,
                media_type,
            })
            .await
            .map_err(|source| UploadError::CreateSession { source })?;
        let state = UploadState {
            media_uuid: session.media_uuid,
            upload_id: session.upload_id,
            creator_uuid: self.api.creator(),
            part_size: plan.part_size(),
            total_size: plan.total_size(),
            completed_parts: Vec::new(),
            session_completed: false,
        };
        Ok((state, plan, Some(first)))
    }

    /// Completes the session. When that fails, the media is checked once:
    /// if an earlier attempt completed it (its answer lost, or the process
    /// stopped before saving the state), the upload goes on to processing.
    async fn complete(&self, state: &UploadState) -> Result<MediaStatus, UploadError> {
        let source = match self
            .api
            .complete(&state.upload_id, &state.completed_parts)
            .await
        {
            Ok(status) => return Ok(status),
            Err(source) => source,
        };
        match self.api.get_media(state.media_uuid).await {
            Ok((
                status @ (MediaStatus::Processing | MediaStatus::Ready | MediaStatus::Error),
                _,
            )) => {
                tracing::debug!("completing failed ({source}) but the media is already {status}");
                Ok(status)
            }
            _ => Err(UploadError::Complete {
                source,
                state: Box::new(state.clone()),
            }),
        }
    }

    fn check_resume(&self, state: &UploadState, len: u64) -> Result<PartPlan, UploadError> {
        if state.creator_uuid != self.api.creator() {
            return Err(ValidationError::CreatorMismatch {
                state: state.creator_uuid,
                requested: self.api.creator(),
            }
            .into());
        }
        if state.total_size != len {
            return Err(ValidationError::ResumeSizeMismatch {
                expected: state.total_size,
                actual: len,
            }
            .into());
        }
        let plan = PartPlan::exact(state.total_size, state.part_size)?;
        if let Some(bad) = state
            .completed_parts
            .iter()
            .find(|p| p.part_number == 0 || p.part_number > plan.part_count())
        {
            return Err(ValidationError::BadResumeState(format!(
                "part {} is outside 1..={}",
                bad.part_number,
                plan.part_count()
            ))
            .into());
        }
        if state.upload_id.is_empty() {
            return Err(ValidationError::BadResumeState("empty upload id".into()).into());
        }
        Ok(plan)
    }

    /// Sends every part not yet acknowledged, `concurrency` at a time.
    async fn send_parts(
        &self,
        state: &mut UploadState,
        plan: &PartPlan,
        opened: &mut OpenedSource,
        mut first: Option<PartData>,
        progress: &ProgressSink,
    ) -> Result<(), UploadError> {
        let ctx = Arc::new(PartCtx {
            api: self.api.clone(),
            http: self.http.clone(),
            upload_id: state.upload_id.clone(),
            retry: self.config.retry.clone(),
            progress: progress.clone(),
            quota: self.config.quota.clone(),
        });
        let pending: Vec<u32> = (1..=plan.part_count())
            .filter(|n| !state.is_done(*n))
            .collect();
        let mut todo = pending.into_iter();
        let mut tasks = JoinSet::new();
        loop {
            while tasks.len() < self.config.concurrency {
                // A cancellation seen here (e.g. from a checkpoint callback)
                // starts no new part and never lets the upload go on.
                if self
                    .config
                    .cancel
                    .as_ref()
                    .is_some_and(|c| c.is_cancelled())
                {
                    return Err(UploadError::Cancelled {
                        state: Some(Box::new(state.clone())),
                    });
                }
                let Some(n) = todo.next() else { break };
                let data = match first.take() {
                    Some(part) if part.number == n => part,
                    _ => {
                        let range = plan.range(n).unwrap_or(0..0);
                        opened
                            .read_part(n, range.start, range.end)
                            .await
                            .map_err(|e| self.io(e, Some(state)))?
                    }
                };
                tasks.spawn(upload_part(ctx.clone(), data));
            }
            let Some(joined) = tasks.join_next().await else {
                return Ok(());
            };
            match joined {
                Ok(Ok(done)) => {
                    let len = plan.len_of(done.part_number);
                    state.record(done);
                    progress.update(|p| {
                        p.parts_done += 1;
                        p.bytes_sent += len;
                        // The part's bytes move from "in flight" to "sent".
                        p.bytes_in_flight = p.bytes_in_flight.saturating_sub(len);
                    });
                    self.checkpoint(state);
                }
                Ok(Err(PartFailure::Url { part, source })) => {
                    return Err(UploadError::PartUrl {
                        part,
                        source,
                        state: Box::new(state.clone()),
                    });
                }
                Ok(Err(PartFailure::Put { part, source })) => {
                    return Err(UploadError::PartUpload {
                        part,
                        source,
                        state: Box::new(state.clone()),
                    });
                }
                Err(join_error) => {
                    if join_error.is_panic() {
                        std::panic::resume_unwind(join_error.into_panic());
                    }
                    return Err(UploadError::Cancelled {
                        state: Some(Box::new(state.clone())),
                    });
                }
            }
        }
    }

    /// Polls the media with a growing delay until ready, error or timeout.
    async fn wait_ready(&self, state: &UploadState) -> Result<A::Media, UploadError> {
        let started = Instant::now();
        let deadline = started + self.config.processing_timeout;
        let mut delay = self.config.poll_interval;
        let mut last_status = MediaStatus::Processing;
        loop {
            match self.api.get_media(state.media_uuid).await {
                Ok((MediaStatus::Ready, media)) => return Ok(media),
                Ok((MediaStatus::Error, _)) => {
                    return Err(UploadError::Processing {
                        media_uuid: state.media_uuid,
                        status: MediaStatus::Error,
                    });
                }
                Ok((status, _)) => last_status = status,
                Err(e) if self.api.is_transient(&e) => {
                    tracing::debug!("retrying media status poll: {e}");
                }
                Err(source) => {
                    return Err(UploadError::Poll {
                        media_uuid: state.media_uuid,
                        source,
                        state: Box::new(state.clone()),
                    });
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(UploadError::Timeout {
                    media_uuid: state.media_uuid,
                    waited: now - started,
                    last_status,
                    state: Box::new(state.clone()),
                });
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 3 / 2).min(MAX_POLL_INTERVAL.max(self.config.poll_interval));
        }
    }

    fn checkpoint(&self, state: &UploadState) {
        {
            let mut guard = match self.shared.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            *guard = Some(state.clone());
        }
        if let Some(cb) = &self.config.on_checkpoint {
            cb(state);
        }
    }

    fn io(&self, source: SourceError, state: Option<&UploadState>) -> UploadError {
        UploadError::Io {
            path: self.path.clone(),
            source,
            state: state.map(|s| Box::new(s.clone())),
        }
    }
}

fn check_length(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if (1..=255).contains(&len) {
        Ok(())
    } else {
        Err(ValidationError::BadLength { field, len })
    }
}
