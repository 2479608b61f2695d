//! Pagination streams: pages and items, page size, item limits, resuming from
//! a page number or a cursor, and an error in the middle of a stream.
//!
//! ```sh
//! cargo run -p fanvue-api-ext --example paginate
//! ```
//!
//! Every list operation of the API gets these streams: page-number lists
//! (`page`/`size`, like `get_user_media`) through `PageNumberListExt`, cursor
//! lists (`cursor` with `size` or `limit`, like `list_tracking_links`) through
//! `CursorListExt`; both are in the prelude. Runs against a local fake unless
//! Fanvue credentials are set (see `quickstart.rs`).

mod common;

use fanvue_api_ext::prelude::*;
use fanvue_fake::{ApiRoute, Fault, FaultTarget};
use futures::{StreamExt as _, TryStreamExt as _};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), common::BoxError> {
    let (fanvue, backend) =
        common::connect(|fake| fake.media_count(47).tracking_link_count(45)).await?;
    let api = fanvue.api();

    // Pages: each element is one page (`items`, `page`, `has_more`).
    println!("Media, pages of 20:");
    let mut pages = api.get_user_media().paginate().page_size(20).pages();
    let mut last_page = 0;
    while let Some(page) = pages.try_next().await? {
        println!(
            "  page {}: {} item(s), more: {}",
            page.page,
            page.items.len(),
            page.has_more
        );
        last_page = page.page;
    }
    println!("  {last_page} page(s) in all");

    // Items, with a limit: only the pages needed are fetched, the last one cut.
    let first: Vec<_> = api
        .get_user_media()
        .paginate()
        .page_size(10)
        .max_items(25)
        .items()
        .try_collect()
        .await?;
    println!(
        "First 25 media items (3 requests of 10): got {}",
        first.len()
    );

    // Resume a page-number stream: start from the page after the last one processed.
    let rest = api
        .get_user_media()
        .paginate()
        .page_size(10)
        .start_page(3)
        .items()
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await?;
    println!("Resumed at page 3 of 10-item pages: {rest} more item(s)");

    // Cursor lists: pages carry `next_cursor`; keep it to resume later.
    let mut links = api.list_tracking_links().paginate().page_size(20).pages();
    let first_page = links.try_next().await?;
    drop(links); // stop reading here, e.g. the process is shutting down
    if let Some(page) = first_page {
        println!(
            "Tracking links: first page has {} item(s), next cursor {:?}",
            page.items.len(),
            page.next_cursor
        );
        if let Some(cursor) = page.next_cursor {
            let remaining = api
                .list_tracking_links()
                .paginate()
                .page_size(20)
                .start_cursor(cursor)
                .items()
                .try_collect::<Vec<_>>()
                .await?;
            println!(
                "  resumed from that cursor: {} more link(s)",
                remaining.len()
            );
        }
    }

    // An error mid-stream is yielded (as the stream's last element), not swallowed.
    // Only on the fake, which can fail a request on demand: the second page answers 500.
    if let Some(fake) = backend.fake() {
        fake.inject_after(
            FaultTarget::Api(ApiRoute::MediaList),
            1,
            Fault::Status(500),
            1,
        );
        let results: Vec<_> = api
            .get_user_media()
            .paginate()
            .page_size(20)
            .pages()
            .collect()
            .await;
        for result in &results {
            match result {
                Ok(page) => println!("  page {}: {} item(s)", page.page, page.items.len()),
                Err(error) => println!("  error: {error} (status {:?})", error.status()),
            }
        }
        // Resume after the last good page; the fault is spent, so this succeeds.
        let resumed = api
            .get_user_media()
            .paginate()
            .page_size(20)
            .start_page(2)
            .items()
            .try_collect::<Vec<_>>()
            .await?;
        println!("  resumed at page 2: {} item(s)", resumed.len());
    }
    Ok(())
}
