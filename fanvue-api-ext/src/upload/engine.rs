//! The upload flow: validate, create the session, send the parts with bounded
//! concurrency, complete, then wait for processing.
//!
//! Part uploads run as tasks of a [`JoinSet`] owned by the upload future:
//! dropping the future (or cancelling its token) aborts them at once. At most
//! `concurrency` parts are being sent, and at most `concurrency` plus a small
//! read-ahead (up to 48 MiB) are held in memory. Presigned part URLs are
//! fetched ahead of need by a prefetcher task, so a part's connection does
//! not wait for an API round trip before its bytes flow.

use std::collections::VecDeque;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::api::{SessionRequest, UploadApi};
use super::error::{SourceError, UploadError, ValidationError};
use super::media_type::{self, MediaType};
use super::plan::{DEFAULT_PART_SIZE, MAX_PARTS, PartPlan};
use super::progress::{Phase, Progress, ProgressCallback, ProgressSink};
use super::source::{BufferPool, OpenedSource, PartBytes, PartData, UploadSource};
use super::state::{CompletedPart, UploadState};
use super::transfer::{
    PartCtx, PartFailure, PartRetryPolicy, Prefetched, RateGate, fetch_url, upload_part,
};
use crate::retry::RetryQuota;
use fanvue_api::types::MediaStatus;

/// The default number of parts in flight.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most parts in flight an upload (or a batch) accepts: beyond it no
/// link gets faster, while the API sees a burst of URL requests and memory
/// for readers grows with `concurrency × part size`.
pub const MAX_CONCURRENCY: usize = 64;

/// Checks a concurrency against 1..=[`MAX_CONCURRENCY`].
pub(crate) fn check_concurrency(concurrency: usize) -> Result<(), ValidationError> {
    match concurrency {
        0 => Err(ValidationError::ZeroConcurrency),
        n if n > MAX_CONCURRENCY => Err(ValidationError::ConcurrencyTooHigh {
            requested: n,
            max: MAX_CONCURRENCY,
        }),
        _ => Ok(()),
    }
}
/// The default time to wait for Fanvue to process the media.
pub const DEFAULT_PROCESSING_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The default delay before the second status poll (it grows up to [`MAX_POLL_INTERVAL`]).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// The longest delay between two status polls.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// A checkpoint callback, called with the state after the session is created
/// and after every acknowledged part.
pub type CheckpointCallback = Arc<dyn Fn(&UploadState) + Send + Sync>;

/// The bounds shared by the parts of one upload, or of every upload of a
/// batch: connections (parts being sent) and part buffers in memory.
#[derive(Clone)]
pub(crate) struct Limits {
    /// One permit per part being sent (a connection busy with it).
    pub(crate) connections: Arc<Semaphore>,
    /// One permit per part held in memory (read, hashed, waiting or sent).
    pub(crate) buffers: Arc<Semaphore>,
    /// One permit per file part started (hashed, waiting or sent): file
    /// parts are not held in memory, so more of them are hashed ahead.
    pub(crate) files: Arc<Semaphore>,
    /// One permit per part being hashed: at most one per CPU, taken in the
    /// order parts are started, so the next parts to send are hashed first
    /// (not all of them at once, each slowed by the others).
    pub(crate) hashers: Arc<Semaphore>,
    /// The part buffers, reused from part to part.
    pub(crate) pool: Arc<BufferPool>,
}

/// Parts read ahead of a free connection, so that reading and hashing the
/// next parts never keeps a connection idle (parts of one size started
/// together finish together: several connections free up at once), as long
/// as they fit in [`READ_AHEAD_BYTES`].
const MAX_READ_AHEAD_PARTS: usize = 6;
/// Memory allowed for parts read ahead (on top of `concurrency × part size`;
/// within the 64 MiB the memory budget allows beyond it).
const READ_AHEAD_BYTES: u64 = 48 * 1024 * 1024;

impl Limits {
    /// Limits for `concurrency` parts in flight of `part_size` bytes.
    pub(crate) fn new(concurrency: usize, part_size: u64) -> Self {
        let ahead = usize::try_from(READ_AHEAD_BYTES.checked_div(part_size.max(1)).unwrap_or(0))
            .unwrap_or(0)
            .min(MAX_READ_AHEAD_PARTS);
        let buffers = concurrency.saturating_add(ahead);
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            connections: Arc::new(Semaphore::new(concurrency)),
            buffers: Arc::new(Semaphore::new(buffers)),
            files: Arc::new(Semaphore::new(concurrency.saturating_mul(2))),
            hashers: Arc::new(Semaphore::new(cpus.clamp(1, 16))),
            pool: Arc::new(BufferPool::new(buffers)),
        }
    }

    /// The permits the parts of `source` are started under.
    fn slots(&self, source: &OpenedSource) -> &Arc<Semaphore> {
        if source.is_file() {
            &self.files
        } else {
            &self.buffers
        }
    }
}

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
    /// Shared bounds (a batch); `None` makes the upload's own.
    pub(crate) limits: Option<Limits>,
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
            limits: None,
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
    if cancel.is_cancelled() {
        return Err(UploadError::Cancelled { state: None });
    }
    let work = Upload::new(api, http, config, shared.clone()).run(source);
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(UploadError::Cancelled { state: snapshot(&shared) }),
        result = work => result,
    }
}

/// How the source is cut: a known length planned up front, or a stream cut
/// into parts of a fixed size until it ends.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Known(PartPlan),
    Stream { part_size: u64 },
}

impl Layout {
    fn part_size(&self) -> u64 {
        match self {
            Layout::Known(plan) => plan.part_size(),
            Layout::Stream { part_size } => *part_size,
        }
    }

    /// The byte range of part `n`; for a stream, where it would be.
    fn range(&self, n: u32) -> Option<Range<u64>> {
        match self {
            Layout::Known(plan) => plan.range(n),
            Layout::Stream { part_size } => {
                let start = u64::from(n.checked_sub(1)?).checked_mul(*part_size)?;
                Some(start..start.checked_add(*part_size)?)
            }
        }
    }
}

/// One part to start: its number, where its bytes come from, and whether it
/// only needs checking (a resumed part whose MD5 is recorded).
struct Job {
    number: u32,
    verify: Option<String>,
}

/// What a part task reports.
enum Done {
    /// Sent and acknowledged.
    Sent { part: CompletedPart, len: u64 },
    /// A resumed part whose bytes are unchanged: not sent again.
    Verified { len: u64 },
}

/// Why a part task failed.
enum TaskError {
    Part(PartFailure),
    Source {
        part: u32,
        source: SourceError,
    },
    /// Not started: another part had failed.
    Stopped,
}

/// Aborts the URL prefetcher when the upload stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Upload<A> {
    api: Arc<A>,
    http: reqwest::Client,
    config: Config,
    shared: SharedState,
    path: Option<PathBuf>,
    own_limits: Mutex<Option<Limits>>,
}

impl<A: UploadApi> Upload<A> {
    fn new(api: Arc<A>, http: reqwest::Client, config: Config, shared: SharedState) -> Self {
        Self {
            api,
            http,
            config,
            shared,
            path: None,
            own_limits: Mutex::new(None),
        }
    }

    async fn run(mut self, source: UploadSource) -> Result<A::Media, UploadError> {
        check_concurrency(self.config.concurrency)?;
        self.path = source.file_path().map(ToOwned::to_owned);
        let resume = self.config.resume.take();
        if resume.is_some() && self.path.is_none() && source.known_len().is_none() {
            return Err(ValidationError::ResumeNeedsKnownLength.into());
        }
        let mut opened = source.open().await.map_err(|e| self.io(e, None))?;
        let progress = ProgressSink::new(
            opened.len(),
            self.config.on_progress.clone(),
            self.config.progress_watch.clone(),
        );
        progress.phase(Phase::Preparing);
        let (mut state, layout, first) = match resume {
            Some(state) => {
                let plan = self.check_resume(&state, opened.len())?;
                (state, Layout::Known(plan), EarlyParts::default())
            }
            None => self.start(&mut opened, &progress).await?,
        };
        let limits = self.limits(layout.part_size());
        progress.update(|p| {
            p.media_uuid = Some(state.media_uuid);
            if let Layout::Known(plan) = layout {
                p.parts_total = plan.part_count();
            }
        });
        self.checkpoint(&state);

        if !state.session_completed {
            progress.phase(Phase::Uploading);
            self.send_parts(&mut state, layout, &mut opened, first, &progress, limits)
                .await?;
            // A file written to or replaced since the start: its parts may
            // mix two versions, so the session is not completed.
            if let Some((path, change)) = opened.change().await {
                return Err(UploadError::SourceChanged {
                    path,
                    change,
                    state: Box::new(state.clone()),
                });
            }
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
        } else {
            let total = state.total_size;
            progress.update_excluding(total, |p| {
                p.bytes_sent = total;
                p.parts_done = p.parts_total;
            });
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
    ) -> Result<(UploadState, Layout, EarlyParts), UploadError> {
        let layout = match opened.len() {
            Some(len) => {
                let plan = match self.config.part_size {
                    Some(size) => PartPlan::new(len, Some(size))?,
                    // A reader's parts are held in memory: small parts
                    // (grown only as 10,000 parts require).
                    None if opened.is_reader() => PartPlan::new(len, Some(DEFAULT_PART_SIZE))?,
                    None => PartPlan::for_connections(len, self.config.concurrency)?,
                };
                Layout::Known(plan)
            }
            None => {
                let part_size = self.config.part_size.unwrap_or(DEFAULT_PART_SIZE);
                // Checks the part size against S3's rules.
                PartPlan::exact(part_size, part_size)?;
                Layout::Stream { part_size }
            }
        };
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
        // sources and empty streams, and gives the bytes to sniff the media
        // type from.
        let range = layout.range(1).unwrap_or(0..0);
        // Part 1 is started like any other part: under a permit.
        let limits = self.limits(layout.part_size());
        let Ok(permit) = limits.slots(opened).clone().acquire_owned().await else {
            return Err(UploadError::Cancelled { state: None });
        };
        let first = opened
            .part(range.start, range.end, &limits.pool)
            .await
            .map_err(|e| self.io(e, None))?
            .load(1)
            .await
            .map_err(|e| self.io(e, None))?;
        if first.len() == 0 {
            return Err(ValidationError::EmptySource.into());
        }
        let known = self
            .config
            .media_type
            .clone()
            .or_else(|| media_type::from_filename(&filename));
        let media_type = match known {
            Some(known) => known,
            None => {
                let head = first.head(64).await.map_err(|e| self.io(e, None))?;
                media_type::sniff(&head).ok_or_else(|| ValidationError::UnknownMediaType {
                    filename: filename.clone(),
                })?
            }
        };
        let mut early = EarlyParts::default();
        early.parts.push_back(Early {
            number: 1,
            input: Input::Ready(first),
            permit,
        });
        // The parts after it (a file's first round) are hashed while the
        // session is created and their URLs come.
        if let Layout::Known(plan) = layout
            && opened.is_file()
        {
            let last = plan
                .part_count()
                .min(u32::try_from(self.config.concurrency).unwrap_or(u32::MAX));
            early.hash_ahead(opened, &limits, plan, 2..=last).await;
        }
        progress.phase(Phase::CreatingSession);
        let session = self
            .api
            .create_session(&SessionRequest {
                name,
                filename,
                media_type,
            })
            .await
            .map_err(|source| {
                if self.api.maybe_reached_server(&source) {
                    UploadError::CreateSessionUncertain { source }
                } else {
                    UploadError::CreateSession { source }
                }
            })?;
        let state = UploadState {
            media_uuid: session.media_uuid,
            upload_id: session.upload_id,
            creator_uuid: self.api.creator(),
            part_size: layout.part_size(),
            lead_parts: match layout {
                Layout::Known(plan) => plan.lead(),
                Layout::Stream { .. } => None,
            },
            total_size: match layout {
                Layout::Known(plan) => plan.total_size(),
                Layout::Stream { .. } => 0,
            },
            completed_parts: Vec::new(),
            session_completed: false,
        };
        Ok((state, layout, early))
    }

    /// The bounds of this upload: the batch's, or its own (made once).
    fn limits(&self, part_size: u64) -> Limits {
        let mut own = match self.own_limits.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match (&self.config.limits, &*own) {
            (Some(shared), _) => shared.clone(),
            (None, Some(made)) => made.clone(),
            (None, None) => {
                let made = Limits::new(self.config.concurrency, part_size);
                *own = Some(made.clone());
                made
            }
        }
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

    fn check_resume(&self, state: &UploadState, len: Option<u64>) -> Result<PartPlan, UploadError> {
        state.validate()?;
        if state.creator_uuid != self.api.creator() {
            return Err(ValidationError::CreatorMismatch {
                state: state.creator_uuid,
                requested: self.api.creator(),
            }
            .into());
        }
        let Some(len) = len else {
            return Err(ValidationError::ResumeNeedsKnownLength.into());
        };
        if state.total_size != len {
            return Err(ValidationError::ResumeSizeMismatch {
                expected: state.total_size,
                actual: len,
            }
            .into());
        }
        Ok(state.plan()?)
    }

    /// Starts the URL prefetcher for the parts to send, in order: it keeps
    /// their presigned URLs about `concurrency` parts ahead of need.
    fn prefetch(
        &self,
        upload_id: &str,
        order: Vec<u32>,
        stream_from: Option<u32>,
        gate: Arc<RateGate>,
    ) -> (mpsc::Receiver<(u32, Option<Prefetched>)>, AbortOnDrop) {
        let window = self.config.concurrency.clamp(1, 64);
        let parallel = self.config.concurrency.clamp(2, 16);
        let (tx, rx) = mpsc::channel(window);
        let api = self.api.clone();
        let upload_id = upload_id.to_owned();
        let timeout = self.config.retry.attempt_timeout;
        let numbers: Box<dyn Iterator<Item = u32> + Send> = match stream_from {
            Some(from) => Box::new(from..=MAX_PARTS),
            None => Box::new(order.into_iter()),
        };
        let task = tokio::spawn(async move {
            let mut urls = futures::stream::iter(numbers)
                .map(|n| {
                    let api = api.clone();
                    let gate = gate.clone();
                    let upload_id = upload_id.clone();
                    async move {
                        let fetched = match fetch_url(&*api, &gate, &upload_id, n, timeout).await {
                            Ok(Ok(url)) => Some(Ok((url, Instant::now()))),
                            Ok(Err(e)) => Some(Err(e)),
                            Err(_) => None,
                        };
                        (n, fetched)
                    }
                })
                .buffered(parallel);
            while let Some(item) = urls.next().await {
                if tx.send(item).await.is_err() {
                    break;
                }
            }
        });
        (rx, AbortOnDrop(task))
    }

    /// Sends every part not yet acknowledged (checking, on a resume, that the
    /// acknowledged ones still hold the same bytes), `concurrency` at a time.
    async fn send_parts(
        &self,
        state: &mut UploadState,
        layout: Layout,
        opened: &mut OpenedSource,
        mut first: EarlyParts,
        progress: &ProgressSink,
        limits: Limits,
    ) -> Result<(), UploadError> {
        let gate = Arc::new(RateGate::default());
        let ctx = Arc::new(PartCtx {
            gate: gate.clone(),
            api: self.api.clone(),
            http: self.http.clone(),
            upload_id: state.upload_id.clone(),
            retry: self.config.retry.clone(),
            progress: progress.clone(),
            failed: AtomicBool::new(false),
            quota: self.config.quota.clone(),
        });
        // Parts acknowledged before a resume: checked against their MD5 (and
        // sent again when it differs); without an MD5 they cannot be
        // checked, so they are sent again.
        let mut jobs: VecDeque<Job> = VecDeque::new();
        let mut to_send: Vec<u32> = Vec::new();
        let stream = match layout {
            Layout::Known(plan) => {
                for n in 1..=plan.part_count() {
                    let recorded = state.done(n).map(|p| p.md5.clone());
                    match recorded {
                        Some(Some(md5)) => jobs.push_back(Job {
                            number: n,
                            verify: Some(md5),
                        }),
                        Some(None) => {
                            state.forget(n);
                            to_send.push(n);
                            jobs.push_back(Job {
                                number: n,
                                verify: None,
                            });
                        }
                        None => {
                            to_send.push(n);
                            jobs.push_back(Job {
                                number: n,
                                verify: None,
                            });
                        }
                    }
                }
                false
            }
            Layout::Stream { .. } => true,
        };
        let (mut urls, _prefetcher) =
            self.prefetch(&state.upload_id, to_send, stream.then_some(1), gate);
        let mut next_stream_part: u32 = 1;
        let mut ended = false;
        let mut streamed_bytes: u64 = 0;
        let mut tasks: JoinSet<Result<Done, TaskError>> = JoinSet::new();
        // Parts take connections in the order they were started, though
        // they are read and hashed in parallel: each waits for its turn.
        let mut turn: Option<oneshot::Receiver<()>> = None;
        loop {
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
            let more = if stream { !ended } else { !jobs.is_empty() };
            // Parts started before the session was created already hold their permits.
            let held = first.parts.front().is_some_and(|e| {
                jobs.front()
                    .map_or(stream && next_stream_part == e.number, |j| {
                        j.number == e.number
                    })
            });
            tokio::select! {
                biased;
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                    self.finished(joined, state, progress)?;
                }
                permit = acquire(limits.slots(opened), held), if more => {
                    let Some(mut permit) = permit else {
                        return Err(UploadError::Cancelled { state: Some(Box::new(state.clone())) });
                    };
                    let job = if stream {
                        let n = next_stream_part;
                        next_stream_part = n.saturating_add(1);
                        Job { number: n, verify: None }
                    } else {
                        match jobs.pop_front() {
                            Some(job) => job,
                            None => continue,
                        }
                    };
                    let n = job.number;
                    let input = match first.parts.pop_front() {
                        Some(early) if early.number == n => {
                            permit = early.permit;
                            early.input
                        }
                        other => {
                            if let Some(early) = other {
                                first.parts.push_front(early);
                            }
                            let range = layout.range(n).unwrap_or(0..0);
                            Input::Load(opened
                                .part(range.start, range.end, &limits.pool)
                                .await
                                .map_err(|e| self.io(e, Some(state)))?)
                        }
                    };
                    if stream {
                        let len = match &input {
                            Input::Ready(data) => data.len(),
                            Input::Load(PartBytes::Ready(b)) => b.len() as u64,
                            Input::Load(PartBytes::File { len, .. }) => *len,
                            Input::Hashing(_) => layout.range(n).map_or(0, |r| r.end.saturating_sub(r.start)),
                        };
                        if len == 0 {
                            // The previous part was the last one (the
                            // stream ended on a part boundary).
                            ended = true;
                            let total = streamed_bytes;
                            state.total_size = total;
                            let parts = n.saturating_sub(1);
                            progress.update(|p| {
                                p.total_bytes = Some(total);
                                p.parts_total = parts;
                            });
                            continue;
                        }
                        if n > MAX_PARTS {
                            let part_size = layout.part_size();
                            return Err(self.io(
                                SourceError::StreamTooLong {
                                    max: part_size.saturating_mul(u64::from(MAX_PARTS)),
                                    part_size,
                                },
                                Some(state),
                            ));
                        }
                        streamed_bytes = streamed_bytes.saturating_add(len);
                        if len < layout.part_size() {
                            ended = true;
                        }
                        if ended {
                            let total = streamed_bytes;
                            state.total_size = total;
                            progress.update(|p| {
                                p.total_bytes = Some(total);
                                p.parts_total = n;
                            });
                        }
                    }
                    // Hashing is taken in turn, in the order parts start.
                    let hasher = match &input {
                        Input::Load(_) => limits.hashers.clone().acquire_owned().await.ok(),
                        Input::Ready(_) | Input::Hashing(_) => None,
                    };
                    let needs_url = job.verify.is_none();
                    let (url_tx, url_rx) = oneshot::channel();
                    let (next_turn, my_turn_done) = oneshot::channel();
                    tasks.spawn(run_part(
                        ctx.clone(),
                        limits.clone(),
                        PartTask {
                            n,
                            input,
                            verify: job.verify,
                            prefetched: url_rx,
                            buffer: permit,
                            hasher,
                            turn: Turn {
                                wait: turn.replace(my_turn_done),
                                done: next_turn,
                            },
                        },
                    ));
                    // The part is hashed while its URL comes.
                    let prefetched = if needs_url {
                        next_url(&mut urls, n).await
                    } else {
                        None
                    };
                    let _ = url_tx.send(prefetched);
                }
                else => return Ok(()),
            }
        }
    }

    /// Records a finished part task.
    fn finished(
        &self,
        joined: Result<Result<Done, TaskError>, tokio::task::JoinError>,
        state: &mut UploadState,
        progress: &ProgressSink,
    ) -> Result<(), UploadError> {
        match joined {
            Ok(Ok(Done::Sent { part, len })) => {
                state.record(part);
                progress.update(|p| {
                    p.parts_done = p.parts_done.saturating_add(1);
                    p.bytes_sent = p.bytes_sent.saturating_add(len);
                    // The part's bytes move from "in flight" to "sent".
                    p.bytes_in_flight = p.bytes_in_flight.saturating_sub(len);
                });
                self.checkpoint(state);
                Ok(())
            }
            Ok(Ok(Done::Verified { len })) => {
                progress.update_excluding(len, |p| {
                    p.parts_done = p.parts_done.saturating_add(1);
                    p.bytes_sent = p.bytes_sent.saturating_add(len);
                });
                Ok(())
            }
            Ok(Err(TaskError::Part(PartFailure::Url { part, source }))) => {
                Err(UploadError::PartUrl {
                    part,
                    source,
                    state: Box::new(state.clone()),
                })
            }
            Ok(Err(TaskError::Part(PartFailure::Put { part, source }))) => {
                Err(UploadError::PartUpload {
                    part,
                    source,
                    state: Box::new(state.clone()),
                })
            }
            Ok(Err(TaskError::Stopped)) => Ok(()),
            Ok(Err(TaskError::Source { part, source })) => {
                tracing::debug!(part, "reading the part failed: {source}");
                Err(self.io(source, Some(state)))
            }
            Err(join_error) => {
                if join_error.is_panic() {
                    std::panic::resume_unwind(join_error.into_panic());
                }
                Err(UploadError::Cancelled {
                    state: Some(Box::new(state.clone())),
                })
            }
        }
    }

    /// Polls the media with a growing delay until ready, error or timeout.
    async fn wait_ready(&self, state: &UploadState) -> Result<A::Media, UploadError> {
        let started = Instant::now();
        let deadline = started.checked_add(self.config.processing_timeout);
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
            let left = match deadline {
                Some(d) => d.saturating_duration_since(now),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return Err(UploadError::Timeout {
                    media_uuid: state.media_uuid,
                    waited: now.saturating_duration_since(started),
                    last_status,
                    state: Box::new(state.clone()),
                });
            }
            tokio::time::sleep(delay.min(left)).await;
            delay = delay
                .saturating_mul(3)
                .checked_div(2)
                .unwrap_or(delay)
                .min(MAX_POLL_INTERVAL.max(self.config.poll_interval));
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

/// A buffer permit, or (`held`) one that is already there: a permit of a
/// zero-permit semaphore stands in, replaced by the held one.
async fn acquire(buffers: &Arc<Semaphore>, held: bool) -> Option<OwnedSemaphorePermit> {
    if held {
        return Arc::new(Semaphore::new(0)).try_acquire_many_owned(0).ok();
    }
    buffers.clone().acquire_owned().await.ok()
}

/// The prefetched URL of part `n` (the prefetcher yields them in the order
/// parts are started); `None` when it is not there (the task fetches it).
async fn next_url(
    urls: &mut mpsc::Receiver<(u32, Option<Prefetched>)>,
    n: u32,
) -> Option<Prefetched> {
    loop {
        let (m, fetched) = urls.recv().await?;
        if m == n {
            return fetched;
        }
        if m > n {
            return None;
        }
    }
}

/// A part's bytes as its task gets them.
enum Input {
    /// Read and hashed.
    Ready(PartData),
    /// To read (when needed) and hash in the task.
    Load(PartBytes),
    /// Being hashed ahead (while the session is created).
    Hashing(oneshot::Receiver<Result<PartData, SourceError>>),
}

/// A part started before the session was created, with its permit.
struct Early {
    number: u32,
    input: Input,
    permit: OwnedSemaphorePermit,
}

/// The parts started before the session was created, in order, and the
/// task hashing them (aborted when the upload stops).
#[derive(Default)]
struct EarlyParts {
    parts: VecDeque<Early>,
    hashing: Option<AbortOnDrop>,
}

impl EarlyParts {
    /// Starts hashing file parts `numbers` (in order, under the hashing
    /// permits) for as many as there are free permits right now.
    async fn hash_ahead(
        &mut self,
        opened: &mut OpenedSource,
        limits: &Limits,
        plan: PartPlan,
        numbers: std::ops::RangeInclusive<u32>,
    ) {
        let mut jobs = Vec::new();
        for n in numbers {
            let Some(range) = plan.range(n) else { break };
            let Ok(permit) = limits.slots(opened).clone().try_acquire_owned() else {
                break;
            };
            let Ok(bytes) = opened.part(range.start, range.end, &limits.pool).await else {
                break;
            };
            let (tx, rx) = oneshot::channel();
            jobs.push((n, bytes, tx));
            self.parts.push_back(Early {
                number: n,
                input: Input::Hashing(rx),
                permit,
            });
        }
        if jobs.is_empty() {
            return;
        }
        let hashers = limits.hashers.clone();
        let width = jobs.len();
        let task = tokio::spawn(async move {
            futures::stream::iter(jobs)
                .map(|(n, bytes, tx)| {
                    let hashers = hashers.clone();
                    async move {
                        // Taken in part order: `buffered` polls in order.
                        let _hasher = hashers.acquire_owned().await;
                        let _ = tx.send(bytes.load(n).await);
                    }
                })
                .buffered(width)
                .for_each(|()| async {})
                .await;
        });
        self.hashing = Some(AbortOnDrop(task));
    }
}

/// A part's place in the queue for connections.
struct Turn {
    /// Resolves (or fails, when that task ended) once the part before has
    /// its connection.
    wait: Option<oneshot::Receiver<()>>,
    /// Tells the part after that this one has its connection.
    done: oneshot::Sender<()>,
}

impl Turn {
    /// Gives the turn on without taking a connection (keeps the order).
    async fn pass(self) {
        if let Some(wait) = self.wait {
            let _ = wait.await;
        }
        let _ = self.done.send(());
    }
}

/// What a part task is given.
struct PartTask {
    /// The part number.
    n: u32,
    /// Its bytes (hashed already or being hashed), or where to read them.
    input: Input,
    /// The MD5 recorded for it before a resume: only check it.
    verify: Option<String>,
    /// Its URL, fetched ahead of need (sent once the part is started).
    prefetched: oneshot::Receiver<Option<Prefetched>>,
    /// Its place in memory (or among the file parts started).
    buffer: OwnedSemaphorePermit,
    /// Its turn to be hashed, when it needs hashing.
    hasher: Option<OwnedSemaphorePermit>,
    /// Its place in the queue for connections.
    turn: Turn,
}

/// One part's task: read and hash its bytes (in memory under a buffer
/// permit), check them against a recorded MD5 when resuming, and otherwise
/// send them on a connection permit.
async fn run_part<A: UploadApi>(
    ctx: Arc<PartCtx<A>>,
    limits: Limits,
    task: PartTask,
) -> Result<Done, TaskError> {
    let PartTask {
        n,
        input,
        verify,
        prefetched,
        buffer,
        hasher,
        turn,
    } = task;
    let _buffer = buffer;
    let loaded = match input {
        Input::Ready(data) => Ok(data),
        Input::Load(bytes) => bytes.load(n).await,
        Input::Hashing(hashed) => hashed.await.unwrap_or_else(|_| {
            Err(SourceError::Io(std::io::Error::other(format!(
                "hashing part {n} stopped"
            ))))
        }),
    };
    drop(hasher);
    let data = match loaded {
        Ok(data) => data,
        Err(source) => {
            turn.pass().await;
            return Err(TaskError::Source { part: n, source });
        }
    };
    let len = data.len();
    if let Some(md5) = verify {
        if data.md5_hex().eq_ignore_ascii_case(&md5) {
            data.recycle(&limits.pool);
            turn.pass().await;
            return Ok(Done::Verified { len });
        }
        tracing::info!(
            part = n,
            "the part's bytes changed since it was sent: sending it again"
        );
    }
    // No URL (the upload loop stopped): the part fetches its own.
    let prefetched = prefetched.await.ok().flatten();
    if let Some(wait) = turn.wait {
        // An error only means the part before ended without a connection.
        let _ = wait.await;
    }
    let connection = limits.connections.clone().acquire_owned().await;
    let _ = turn.done.send(());
    if ctx.failed.load(Ordering::SeqCst) {
        // Another part failed for good: the upload is stopping.
        return Err(TaskError::Stopped);
    }
    let Ok(connection) = connection else {
        return Err(TaskError::Stopped);
    };
    let result = upload_part(ctx.clone(), &data, prefetched).await;
    if result.is_err() {
        ctx.failed.store(true, Ordering::SeqCst);
    }
    drop(connection);
    data.recycle(&limits.pool);
    result
        .map(|part| Done::Sent { part, len })
        .map_err(TaskError::Part)
}

fn check_length(field: &'static str, value: &str) -> Result<(), ValidationError> {
    let len = value.chars().count();
    if (1..=255).contains(&len) {
        Ok(())
    } else {
        Err(ValidationError::BadLength { field, len })
    }
}
