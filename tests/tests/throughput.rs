//! Ceiling of the fake S3 itself (ignored by default; run with
//! `cargo test --release -p fanvue-fake --test throughput -- --ignored --nocapture`).

mod common;

use std::time::Instant;

use common::*;
use fanvue_fake::{FakeFanvue, StorageMode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check"]
async fn hash_only_ingest_rate() {
    let fake = FakeFanvue::builder()
        .storage(StorageMode::HashOnly)
        .start()
        .await
        .unwrap();
    let (media, upload) = create_upload(&fake, "").await;
    let part = bytes(8 * 1024 * 1024, 1);
    let parts = 32u32;
    let mut urls = Vec::new();
    for n in 1..=parts {
        urls.push((n, part_url(&fake, "", &upload, n).await));
    }
    let t = Instant::now();
    let mut etags = Vec::new();
    for chunk in urls.chunks(4) {
        let puts = chunk.iter().map(|(n, u)| {
            let part = part.clone();
            async move { (*n, put_part(u, part).await) }
        });
        etags.extend(futures::future::join_all(puts).await);
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(complete(&fake, "", &upload, &etags).await.0, 200);
    let size = fake.assembled_size(media).unwrap();
    println!(
        "{} MiB in {secs:.2} s: {:.0} MiB/s",
        size >> 20,
        (size >> 20) as f64 / secs
    );
}
