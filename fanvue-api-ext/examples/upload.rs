//! Upload a file, a stream of unknown length, or a whole directory: parts
//! sent concurrently, progress with throughput and ETA (an indicatif bar when
//! stdout is a terminal, plain lines otherwise), and (with `--interrupt`) an
//! upload stopped midway and resumed from its saved state.
//!
//! ```sh
//! cargo run -p fanvue-api-ext --example upload -- path/to/clip.mp4 [--name "Beach day"] [--interrupt]
//! cargo run -p fanvue-api-ext --example upload -- path/to/clip.mp4 --stream   # read as a stream of unknown length
//! cargo run -p fanvue-api-ext --example upload -- path/to/folder/             # every file of a directory
//! cargo run -p fanvue-api-ext --example upload                                # a generated 12 MiB image
//! ```
//!
//! The media type is guessed from the file extension (else from its first
//! bytes). Runs against a local fake unless Fanvue credentials are set (see
//! `quickstart.rs`).

mod common;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fanvue_api_ext::upload::{
    BatchItem, BatchProgress, CancellationToken, Progress, UploadError, UploadSource, UploadState,
};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The command line.
struct Args {
    path: Option<PathBuf>,
    name: Option<String>,
    interrupt: bool,
    stream: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        path: None,
        name: None,
        interrupt: false,
        stream: false,
    };
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--name" => args.name = Some(argv.next().ok_or("--name needs a value")?),
            "--interrupt" => args.interrupt = true,
            "--stream" => args.stream = true,
            "-h" | "--help" => {
                return Err(
                    "usage: upload [FILE | DIRECTORY] [--name NAME] [--interrupt] [--stream]"
                        .into(),
                );
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path if args.path.is_none() => args.path = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), common::BoxError> {
    let args = parse_args()?;
    let (fanvue, backend) = common::connect(|fake| fake).await?;

    if let Some(dir) = args.path.as_deref().filter(|p| p.is_dir()) {
        return upload_directory(&fanvue, &backend, dir).await;
    }

    // The file to upload: the one given, else a generated image in a temporary file.
    let _temp; // keeps a generated file alive until the end
    let path = match args.path {
        Some(path) => path,
        None => {
            let file = tempfile::Builder::new()
                .prefix("fanvue-example-")
                .suffix(".png")
                .tempfile()?;
            std::fs::write(file.path(), common::generated_png(2048, 2048))?;
            println!(
                "No file given: uploading a generated image {}",
                file.path().display()
            );
            let path = file.path().to_owned();
            _temp = file;
            path
        }
    };

    let source = if args.stream {
        // As if the bytes came from a download or a transcoder: no length known.
        println!("Reading {} as a stream of unknown length", path.display());
        UploadSource::stream(tokio::fs::File::open(&path).await?)
    } else {
        UploadSource::path(&path)
    };
    let cancel = CancellationToken::new();
    let mut upload = fanvue.media().upload(source).part_size(5 * 1024 * 1024);
    if args.stream {
        let filename = path.file_name().map(|f| f.to_string_lossy().into_owned());
        upload = upload.filename(filename.unwrap_or_else(|| "upload.bin".into()));
    }
    if let Some(name) = &args.name {
        upload = upload.name(name.clone());
    }
    if args.interrupt {
        // Send one part at a time and cancel once the first is acknowledged,
        // as if the process had been stopped there.
        let cancel = cancel.clone();
        upload = upload
            .concurrency(1)
            .cancel_token(cancel.clone())
            .on_progress(move |p| {
                if p.parts_done >= 1 {
                    cancel.cancel();
                }
            });
    }
    let (shown, tx, task) = progress_display();
    let result = common::tune_for(&backend, upload.progress_channel(tx))
        .send()
        .await;
    finish(shown, task).await;

    let media = match result {
        Ok(media) => media,
        Err(UploadError::Cancelled { state: Some(state) }) if !args.stream => {
            resume(&fanvue, &backend, *state, path).await?
        }
        Err(error) => {
            // Every upload error names the phase that failed.
            eprintln!("upload failed while {}", common::phase_label(error.phase()));
            return Err(error.into());
        }
    };
    common::print_media(&media);
    Ok(())
}

/// Uploads every regular file of `dir` (not recursing) as one batch: one
/// bound on connections and memory for all of them, one aggregate progress.
async fn upload_directory(
    fanvue: &fanvue_api_ext::Fanvue,
    backend: &common::Backend,
    dir: &Path,
) -> Result<(), common::BoxError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    println!("Uploading {} file(s) from {}", files.len(), dir.display());
    let display = Display::new();
    let on_progress = display.clone();
    let mut batch = fanvue
        .media()
        .upload_many(files.iter().map(|p| BatchItem::from(p.as_path())))
        .on_progress(move |p| on_progress.batch(p));
    if backend.fake().is_some() {
        batch = batch.poll_interval(Duration::from_millis(50));
    }
    let results = batch.send().await;
    display.done();
    let mut failed = 0;
    for file in &results {
        match &file.result {
            Ok(media) => println!("  ok      {}  {}", media.uuid, file.label),
            Err(e) => {
                failed += 1;
                println!("  FAILED  {}: {e}", file.label);
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {} file(s) failed", results.len()).into());
    }
    Ok(())
}

/// Resumes a stopped upload from its state, after a round trip through JSON
/// (the form an app would store it in).
async fn resume(
    fanvue: &fanvue_api_ext::Fanvue,
    backend: &common::Backend,
    state: UploadState,
    path: PathBuf,
) -> Result<fanvue_api_ext::upload::Media, common::BoxError> {
    let saved = serde_json::to_string(&state)?;
    println!(
        "Interrupted with {} part(s) done; saved the state ({} bytes of JSON, no secrets); resuming.",
        state.completed_parts.len(),
        saved.len()
    );
    let state: UploadState = serde_json::from_str(&saved)?;
    let media_uuid = state.media_uuid;
    let (shown, tx, task) = progress_display();
    let upload = fanvue
        .media()
        .resume(state, UploadSource::path(path))
        .progress_channel(tx);
    let media = common::tune_for(backend, upload).send().await;
    finish(shown, task).await;
    let media = media?;
    if let Some(fake) = backend.fake() {
        println!(
            "(fake: PUTs per part over both runs: {:?})",
            fake.part_put_counts(media_uuid)
        );
    }
    Ok(media)
}

/// Where progress goes: an indicatif bar on a terminal, else a plain line
/// per phase change and at most one a second.
#[derive(Clone)]
struct Display {
    bar: Option<ProgressBar>,
    last_line: std::sync::Arc<std::sync::Mutex<(Option<Instant>, String)>>,
}

impl Display {
    fn new() -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {msg:<20} [{bar:30}] {bytes}/{total_bytes} {prefix}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self {
            bar,
            last_line: Default::default(),
        }
    }

    /// Shows `done` of `total` bytes with a label and throughput/ETA.
    fn show(&self, label: &str, done: u64, total: Option<u64>, rate: u64, eta: Option<Duration>) {
        let speed = format!(
            "{:.1} MB/s, ETA {}",
            rate as f64 / 1e6,
            eta.map_or("?".into(), |e| format!("{}s", e.as_secs()))
        );
        if let Some(bar) = &self.bar {
            bar.set_length(total.unwrap_or(done));
            bar.set_position(done);
            bar.set_message(label.to_owned());
            bar.set_prefix(speed);
            return;
        }
        let mut last = match self.last_line.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let due = last.0.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if due || last.1 != label {
            let total = total.map_or("?".into(), common::mib);
            println!("  {label}: {} of {total} ({speed})", common::mib(done));
            *last = (Some(Instant::now()), label.to_owned());
        }
    }

    fn upload(&self, p: &Progress) {
        let label = common::phase_label(p.phase);
        self.show(
            label,
            p.shown_bytes(),
            p.total_bytes,
            p.bytes_per_sec,
            p.eta,
        );
    }

    fn batch(&self, p: &BatchProgress) {
        let label = format!("{}/{} files done", p.files_done, p.files_total);
        self.show(&label, p.bytes_sent, p.total_bytes, p.bytes_per_sec, p.eta);
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A progress display driven by a task that follows the upload's `watch`
/// channel (the task ends when the upload drops the sender).
fn progress_display() -> (Display, watch::Sender<Progress>, JoinHandle<()>) {
    let display = Display::new();
    let (tx, mut rx) = watch::channel(Progress::default());
    let shown = display.clone();
    let task = tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let progress = rx.borrow_and_update().clone();
            shown.upload(&progress);
        }
    });
    (display, tx, task)
}

/// Waits for the progress task to draw the last update, then removes the bar.
async fn finish(display: Display, task: JoinHandle<()>) {
    // The upload dropped its sender when it returned, so the task ends at once.
    let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
    display.done();
}
