//! Many uploads at once: `fanvue.media().upload_many(files)`, with one bound
//! on connections and memory for the whole batch, an aggregate progress, a
//! result per file, and cancellation of the whole batch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::builder::MediaUploads;
use super::engine::{self, Config, Limits};
use super::error::{UploadError, ValidationError};
use super::fanvue::{FanvueUploadApi, Media};
use super::media_type::MediaType;
use super::plan;
use super::progress::RateMeter;
use super::source::UploadSource;
use super::transfer::PartRetryPolicy;

/// One file (or other source) of a batch, with its own name, filename and
/// media type when the defaults (from the file's name) do not fit.
///
/// `From` a file path (`&Path`, `PathBuf`) or an [`UploadSource`].
#[derive(Debug)]
pub struct BatchItem {
    source: UploadSource,
    name: Option<String>,
    filename: Option<String>,
    media_type: Option<MediaType>,
}

impl BatchItem {
    /// An item uploading `source`.
    pub fn new(source: impl Into<UploadSource>) -> Self {
        Self {
            source: source.into(),
            name: None,
            filename: None,
            media_type: None,
        }
    }

    /// The media's name (default: the filename).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The filename sent to Fanvue (default: the file's name; required for
    /// sources that are not files).
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    /// The media type (default: guessed from the filename, else the content).
    pub fn media_type(mut self, media_type: MediaType) -> Self {
        self.media_type = Some(media_type);
        self
    }

    /// A label for reports: the file path, else the filename, else `#index`.
    fn label(&self, index: usize) -> String {
        match (self.source.file_path(), &self.filename) {
            (Some(p), _) => p.display().to_string(),
            (None, Some(f)) => f.clone(),
            (None, None) => format!("#{index}"),
        }
    }
}

impl From<UploadSource> for BatchItem {
    fn from(source: UploadSource) -> Self {
        Self::new(source)
    }
}
impl From<&std::path::Path> for BatchItem {
    fn from(p: &std::path::Path) -> Self {
        Self::new(p)
    }
}
impl From<std::path::PathBuf> for BatchItem {
    fn from(p: std::path::PathBuf) -> Self {
        Self::new(p)
    }
}
impl From<&std::path::PathBuf> for BatchItem {
    fn from(p: &std::path::PathBuf) -> Self {
        Self::new(p)
    }
}

/// The progress of a whole batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BatchProgress {
    /// Files in the batch.
    pub files_total: usize,
    /// Files finished (ready media).
    pub files_done: usize,
    /// Files that failed (or were cancelled).
    pub files_failed: usize,
    /// Bytes acknowledged or in flight, over every file.
    pub bytes_sent: u64,
    /// The size of every file together; `None` while a source of unknown
    /// length has not ended.
    pub total_bytes: Option<u64>,
    /// Recent throughput of the batch, in bytes per second.
    pub bytes_per_sec: u64,
    /// Estimated time left at the recent throughput, when known.
    pub eta: Option<Duration>,
    /// Time since the batch started.
    pub elapsed: Duration,
}

/// A batch progress callback.
pub type BatchProgressCallback = Arc<dyn Fn(&BatchProgress) + Send + Sync>;

/// The outcome of one file of a batch.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchResult {
    /// The item's position in the batch (0-based).
    pub index: usize,
    /// The file path, else the filename, else `#index`.
    pub label: String,
    /// The ready media, or why this file failed ([`UploadError::Cancelled`]
    /// when the batch was cancelled or stopped before it finished).
    pub result: Result<Media, UploadError>,
}

impl BatchResult {
    /// The media uuid, once uploaded.
    pub fn media_uuid(&self) -> Option<Uuid> {
        self.result.as_ref().ok().map(|m| m.uuid)
    }
}

/// The default number of files uploading at the same time in a batch.
pub const DEFAULT_FILES_AT_ONCE: usize = 4;

/// A batch being configured; `.send().await` runs it. See
/// [`MediaUploads::upload_many`].
#[must_use = "a batch does nothing until `.send().await`"]
pub struct BatchUpload {
    uploads: MediaUploads,
    items: Vec<BatchItem>,
    concurrency: usize,
    files_at_once: usize,
    part_size: Option<u64>,
    retry: PartRetryPolicy,
    processing_timeout: Duration,
    poll_interval: Duration,
    fail_fast: bool,
    cancel: Option<CancellationToken>,
    on_progress: Option<BatchProgressCallback>,
    creator: Option<Uuid>,
}

impl std::fmt::Debug for BatchUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchUpload")
            .field("files", &self.items.len())
            .field("concurrency", &self.concurrency)
            .field("files_at_once", &self.files_at_once)
            .field("part_size", &self.part_size)
            .field("fail_fast", &self.fail_fast)
            .finish_non_exhaustive()
    }
}

impl MediaUploads {
    /// Uploads many files (or other sources) as one batch: at most
    /// [`concurrency`](BatchUpload::concurrency) parts in flight **over the
    /// whole batch** (so memory stays about `concurrency × part size`, as for
    /// one file), several files at once so no connection idles between
    /// files, an aggregate progress, and one result per file, in order. One
    /// file failing does not stop the others unless
    /// [`fail_fast`](BatchUpload::fail_fast) is set.
    ///
    /// ```no_run
    /// # async fn demo(fanvue: fanvue_api_ext::Fanvue) {
    /// use std::path::Path;
    ///
    /// let results = fanvue
    ///     .media()
    ///     .upload_many([Path::new("a.mp4"), Path::new("b.jpg"), Path::new("c.mp4")])
    ///     .on_progress(|p| eprintln!("{}/{} files, {} B/s", p.files_done, p.files_total, p.bytes_per_sec))
    ///     .send()
    ///     .await;
    /// for file in &results {
    ///     match &file.result {
    ///         Ok(media) => println!("{}: {}", file.label, media.uuid),
    ///         Err(e) => eprintln!("{}: {e}", file.label),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn upload_many<I>(&self, items: I) -> BatchUpload
    where
        I: IntoIterator,
        I::Item: Into<BatchItem>,
    {
        BatchUpload {
            uploads: self.clone(),
            items: items.into_iter().map(Into::into).collect(),
            concurrency: engine::DEFAULT_CONCURRENCY,
            files_at_once: DEFAULT_FILES_AT_ONCE,
            part_size: None,
            retry: PartRetryPolicy::default(),
            processing_timeout: engine::DEFAULT_PROCESSING_TIMEOUT,
            poll_interval: engine::DEFAULT_POLL_INTERVAL,
            fail_fast: false,
            cancel: None,
            on_progress: None,
            creator: None,
        }
    }
}

impl BatchUpload {
    /// Parts in flight over the whole batch (default 8, at most
    /// [`MAX_CONCURRENCY`](super::MAX_CONCURRENCY); more is
    /// [`ValidationError::ConcurrencyTooHigh`]).
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.concurrency = parts;
        self
    }

    /// Files uploading at the same time (default 4; each has its own
    /// session, all share the connections).
    pub fn files_at_once(mut self, files: usize) -> Self {
        self.files_at_once = files;
        self
    }

    /// The part size for every file (default: chosen per file from its size,
    /// 8 MiB below 512 MiB).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = Some(bytes);
        self
    }

    /// How a failing part is retried.
    pub fn part_retry(mut self, policy: PartRetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How long to wait for each media to be processed (default 15 minutes).
    pub fn processing_timeout(mut self, timeout: Duration) -> Self {
        self.processing_timeout = timeout;
        self
    }

    /// The delay before the second status poll of each media (default 250 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Stop the whole batch at the first failed file (the others end with
    /// [`UploadError::Cancelled`]). Default false: every file is tried.
    pub fn fail_fast(mut self, yes: bool) -> Self {
        self.fail_fast = yes;
        self
    }

    /// Cancels the whole batch when `token` is cancelled: files in progress
    /// stop at once (their results carry the state to resume from), files
    /// not started end with [`UploadError::Cancelled`] and no state.
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Calls `callback` with the batch's progress as it moves (from the
    /// upload tasks: keep it quick).
    pub fn on_progress(
        mut self,
        callback: impl Fn(&BatchProgress) + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    /// Uploads on behalf of creator `creator_user_uuid` (agency accounts).
    pub fn for_creator(mut self, creator_user_uuid: Uuid) -> Self {
        self.creator = Some(creator_user_uuid);
        self
    }

    /// Runs the batch: one result per item, in the items' order.
    pub async fn send(self) -> Vec<BatchResult> {
        let count = self.items.len();
        let invalid = if self.files_at_once == 0 {
            Some(ValidationError::ZeroConcurrency)
        } else {
            engine::check_concurrency(self.concurrency).err()
        };
        if let Some(invalid) = invalid {
            return self
                .items
                .iter()
                .enumerate()
                .map(|(index, item)| BatchResult {
                    index,
                    label: item.label(index),
                    result: Err(invalid.clone().into()),
                })
                .collect();
        }
        // Sizes known up front (files are measured; streams are not).
        let known: Vec<(Option<std::path::PathBuf>, Option<u64>)> = self
            .items
            .iter()
            .map(|i| {
                (
                    i.source.file_path().map(ToOwned::to_owned),
                    i.source.known_len(),
                )
            })
            .collect();
        let mut sizes = Vec::with_capacity(count);
        for (path, len) in known {
            let size = match path {
                Some(p) => tokio::fs::metadata(p).await.ok().map(|m| m.len()),
                None => len,
            };
            sizes.push(size);
        }
        let biggest = sizes.iter().flatten().copied().max().unwrap_or(0);
        let part_size = self
            .part_size
            .unwrap_or_else(|| plan::default_part_size(biggest))
            .max(plan::MIN_PART_SIZE);
        let limits = Limits::new(self.concurrency, part_size);
        let batch_cancel = match &self.cancel {
            Some(t) => t.child_token(),
            None => CancellationToken::new(),
        };
        let meter = Arc::new(Mutex::new(Aggregate {
            progress: BatchProgress {
                files_total: count,
                total_bytes: sizes.iter().copied().sum::<Option<u64>>(),
                ..BatchProgress::default()
            },
            shown: vec![0; count],
            totals: sizes.clone(),
            meter: RateMeter::new(),
            callback: self.on_progress.clone(),
        }));
        let http = self.uploads.fanvue().transfer_client().clone();
        let api = Arc::new(FanvueUploadApi::new(
            self.uploads.fanvue().clone(),
            self.creator,
        ));
        let runs = self.items.into_iter().enumerate().map(|(index, item)| {
            let label = item.label(index);
            let config = Config {
                name: item.name,
                filename: item.filename,
                media_type: item.media_type,
                part_size: self.part_size,
                concurrency: self.concurrency,
                processing_timeout: self.processing_timeout,
                poll_interval: self.poll_interval,
                retry: self.retry.clone(),
                on_progress: Some(file_progress(meter.clone(), index)),
                progress_watch: None,
                on_checkpoint: None,
                cancel: Some(batch_cancel.child_token()),
                resume: None,
                limits: Some(limits.clone()),
                quota: Some(self.uploads.fanvue().retry_quota().clone()),
            };
            let (api, http, meter, batch_cancel) = (
                api.clone(),
                http.clone(),
                meter.clone(),
                batch_cancel.clone(),
            );
            let fail_fast = self.fail_fast;
            async move {
                let result = engine::run(api, http, item.source, config).await;
                if result.is_err() && fail_fast {
                    batch_cancel.cancel();
                }
                finish_file(&meter, index, result.is_ok());
                BatchResult {
                    index,
                    label,
                    result,
                }
            }
        });
        let mut results: Vec<BatchResult> = futures::stream::iter(runs)
            .buffer_unordered(self.files_at_once)
            .collect()
            .await;
        results.sort_by_key(|r| r.index);
        results
    }
}

impl std::future::IntoFuture for BatchUpload {
    type Output = Vec<BatchResult>;
    type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The batch's counters, fed by every file's progress.
struct Aggregate {
    progress: BatchProgress,
    shown: Vec<u64>,
    totals: Vec<Option<u64>>,
    meter: RateMeter,
    callback: Option<BatchProgressCallback>,
}

impl Aggregate {
    fn publish(&mut self) {
        let sent: u64 = self.shown.iter().sum();
        self.progress.bytes_sent = sent;
        self.progress.total_bytes = self.totals.iter().copied().sum::<Option<u64>>();
        let remaining = self.progress.total_bytes.map(|t| t.saturating_sub(sent));
        let (elapsed, rate, eta) = self.meter.observe(sent, remaining);
        self.progress.elapsed = elapsed;
        self.progress.bytes_per_sec = rate;
        self.progress.eta = eta;
        if let Some(cb) = &self.callback {
            cb(&self.progress);
        }
    }
}

fn lock(meter: &Mutex<Aggregate>) -> std::sync::MutexGuard<'_, Aggregate> {
    match meter.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// A file's progress callback feeding the batch's.
fn file_progress(meter: Arc<Mutex<Aggregate>>, index: usize) -> super::progress::ProgressCallback {
    Arc::new(move |p| {
        let mut agg = lock(&meter);
        if let Some(slot) = agg.shown.get_mut(index) {
            *slot = p.shown_bytes();
        }
        if let (Some(total), Some(slot)) = (p.total_bytes, agg.totals.get_mut(index)) {
            *slot = Some(total);
        }
        agg.publish();
    })
}

fn finish_file(meter: &Mutex<Aggregate>, index: usize, ok: bool) {
    let mut agg = lock(meter);
    if ok {
        agg.progress.files_done = agg.progress.files_done.saturating_add(1);
        // A finished file counts whole.
        if let (Some(Some(total)), Some(slot)) =
            (agg.totals.get(index).copied(), agg.shown.get_mut(index))
        {
            *slot = total;
        }
    } else {
        agg.progress.files_failed = agg.progress.files_failed.saturating_add(1);
    }
    agg.publish();
}
