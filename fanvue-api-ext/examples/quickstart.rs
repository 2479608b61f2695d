//! The main job, end to end: read the current user, list the media library
//! with a pagination stream, upload a generated image with a progress bar,
//! wait until Fanvue has processed it, and print its variants.
//!
//! ```sh
//! cargo run -p fanvue-api-ext --example quickstart
//! ```
//!
//! With no credentials in the environment it runs against a local fake Fanvue
//! API + S3 started in-process. Set `FANVUE_ACCESS_TOKEN` (or
//! `FANVUE_CLIENT_ID`, `FANVUE_CLIENT_SECRET` and `FANVUE_REFRESH_TOKEN`) to run
//! it against the real API (it uploads a real, small image to your vault).

mod common;

use std::process::ExitCode;
use std::sync::Mutex;

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::upload::{MediaType, Progress};
use futures::TryStreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};

#[tokio::main]
async fn main() -> ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), common::BoxError> {
    let (fanvue, backend) = common::connect(|fake| fake.media_count(23)).await?;

    // 1. Who am I? Every generated operation is a builder; `.send()` sends it
    //    with auth, the pinned API version and retries, and returns a typed
    //    value or a `fanvue_api_ext::Error`.
    let me = fanvue.api().get_current_user().send().await?;
    println!(
        "Signed in as {} (@{}), creator: {}",
        me.display_name, me.handle, me.is_creator
    );

    // 2. The media library as one stream of items: pages are fetched as the
    //    stream is read (10 per page here), stopping after 25 items.
    let mut library = fanvue
        .api()
        .get_user_media()
        .paginate()
        .page_size(10)
        .max_items(25)
        .items();
    let mut listed = 0;
    while let Some(item) = library.try_next().await? {
        listed += 1;
        if listed <= 3 {
            println!(
                "  media {} {:<10} {}",
                item.uuid,
                item.status.to_string(),
                item.name.as_deref().unwrap_or("(unnamed)")
            );
        }
    }
    println!("Listed {listed} media item(s) (at most 25).");

    // 3. Upload a generated image (a valid ~6 MiB PNG) in 5 MiB parts, with a
    //    progress bar fed by the upload's progress callback.
    let png = common::generated_png(2048, 1024);
    println!(
        "Uploading a generated image of {}...",
        common::mib(png.len() as u64)
    );
    // A bar on a terminal; otherwise (a log, a pipe) only the plain lines below.
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        ProgressBar::new(png.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:<11} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})",
        )?
        .progress_chars("=> "),
    );
    let on_progress = {
        let bar = bar.clone();
        let last_phase = Mutex::new(None);
        move |progress: &Progress| {
            bar.set_position(progress.bytes_sent + progress.bytes_in_flight);
            let mut last = last_phase.lock().unwrap_or_else(|e| e.into_inner());
            if *last != Some(progress.phase) {
                *last = Some(progress.phase);
                bar.set_message(common::phase_label(progress.phase));
                bar.suspend(|| {
                    println!(
                        "  {} ({}/{} parts, {:.1} MB/s)",
                        common::phase_label(progress.phase),
                        progress.parts_done,
                        progress.parts_total,
                        progress.bytes_per_sec as f64 / 1e6
                    )
                });
            }
        }
    };
    let upload = fanvue
        .media()
        .upload(png)
        .name("Quickstart gradient")
        .filename("quickstart.png")
        .media_type(MediaType::Image) // else guessed from the filename or the bytes
        .part_size(5 * 1024 * 1024)
        .on_progress(on_progress);
    let result = common::tune_for(&backend, upload).send().await;
    bar.finish_and_clear();
    let media = result?;

    // 4. The upload returned once the media was ready: its variants have URLs.
    common::print_media(&media);
    if let Some(fake) = backend.fake() {
        println!(
            "(fake: {} part PUTs reached S3, none carried the API token: {})",
            fake.s3_requests().len(),
            !fake.s3_saw_authorization()
        );
    }
    Ok(())
}
