//! Upload any file: concurrent parts, progress from a `watch` channel, and
//! (with `--interrupt`) an upload stopped midway and resumed from its saved state.
//!
//! ```sh
//! cargo run -p fanvue-api-ext --example upload -- path/to/clip.mp4 [--name "Beach day"] [--interrupt]
//! cargo run -p fanvue-api-ext --example upload            # uploads a generated 12 MiB image
//! ```
//!
//! The media type is guessed from the file extension (else from its first
//! bytes). Runs against a local fake unless Fanvue credentials are set (see
//! `quickstart.rs`).

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fanvue_api_ext::upload::{CancellationToken, Progress, UploadError, UploadState};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The command line.
struct Args {
    path: Option<PathBuf>,
    name: Option<String>,
    interrupt: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        path: None,
        name: None,
        interrupt: false,
    };
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--name" => args.name = Some(argv.next().ok_or("--name needs a value")?),
            "--interrupt" => args.interrupt = true,
            "-h" | "--help" => {
                return Err("usage: upload [FILE] [--name NAME] [--interrupt]".into());
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

    let cancel = CancellationToken::new();
    let mut upload = fanvue
        .media()
        .upload(path.clone())
        .part_size(5 * 1024 * 1024);
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
    let (bar, tx, task) = progress_bar();
    let result = common::tune_for(&backend, upload.progress_channel(tx))
        .send()
        .await;
    finish(bar, task).await;

    let media = match result {
        Ok(media) => media,
        Err(UploadError::Cancelled { state: Some(state) }) => {
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
    let (bar, tx, task) = progress_bar();
    let upload = fanvue.media().resume(state, path).progress_channel(tx);
    let media = common::tune_for(backend, upload).send().await;
    finish(bar, task).await;
    let media = media?;
    if let Some(fake) = backend.fake() {
        println!(
            "(fake: PUTs per part over both runs: {:?})",
            fake.part_put_counts(media_uuid)
        );
    }
    Ok(media)
}

/// A progress bar driven by a task that follows the upload's `watch` channel
/// (the task ends when the upload drops the sender).
fn progress_bar() -> (ProgressBar, watch::Sender<Progress>, JoinHandle<()>) {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg:<11} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let (tx, mut rx) = watch::channel(Progress::default());
    let drawn = bar.clone();
    let task = tokio::spawn(async move {
        let mut last_phase = None;
        while rx.changed().await.is_ok() {
            let progress = rx.borrow_and_update().clone();
            drawn.set_length(progress.total_bytes);
            drawn.set_position(progress.bytes_sent + progress.bytes_in_flight);
            drawn.set_message(common::phase_label(progress.phase));
            if last_phase != Some(progress.phase) {
                last_phase = Some(progress.phase);
                drawn.suspend(|| {
                    println!(
                        "  {} ({}/{} parts, {})",
                        common::phase_label(progress.phase),
                        progress.parts_done,
                        progress.parts_total,
                        common::mib(progress.bytes_sent)
                    )
                });
            }
        }
    });
    (bar, tx, task)
}

/// Waits for the progress task to draw the last update, then removes the bar.
async fn finish(bar: ProgressBar, task: JoinHandle<()>) {
    // The upload dropped its sender when it returned, so the task ends at once.
    let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
    bar.finish_and_clear();
}
