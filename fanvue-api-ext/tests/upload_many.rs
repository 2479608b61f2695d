//! Batches (`upload_many`): every object equals its source, one bound on
//! connections for the whole batch, aggregate progress, faults injected
//! mid-batch hit only their file, fail-fast and cancellation of the batch.

mod upload_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fanvue_api_ext::upload::{
    BatchItem, BatchProgress, BatchUpload, CancellationToken, UploadError, UploadSource,
};
use fanvue_fake::{FakeFanvue, Fault, FaultTarget};
use upload_common::*;

/// Sizes of the batch's files: one byte to several parts of 5 MiB.
const SIZES: [usize; 6] = [1, 3 * MIB, 5 * MIB, 11 * MIB + 7, 16 * MIB, 7 * MIB + 1];

struct Files {
    files: Vec<tempfile::NamedTempFile>,
    shas: Vec<String>,
}

fn files(seed: u64) -> Files {
    let mut files = Vec::new();
    let mut shas = Vec::new();
    for (i, len) in SIZES.iter().enumerate() {
        let (f, sha) = temp_file(*len, seed + i as u64, ".mp4");
        files.push(f);
        shas.push(sha);
    }
    Files { files, shas }
}

fn quick_batch(batch: BatchUpload) -> BatchUpload {
    batch
        .part_size(5 * MIB as u64)
        .poll_interval(Duration::from_millis(10))
        .processing_timeout(Duration::from_secs(20))
        .part_retry(
            fanvue_api_ext::upload::PartRetryPolicy::default()
                .with_delays(Duration::from_millis(10), Duration::from_millis(100)),
        )
}

#[tokio::test]
async fn a_batch_uploads_every_file_within_one_global_bound() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let f = files(40);
    let events: Arc<Mutex<Vec<BatchProgress>>> = Arc::default();
    let sink = events.clone();
    fake.reset_max_concurrent_part_puts();
    // Files, plus one source that is not a file.
    let memory = pseudo_random(6 * MIB, 49);
    let mut items: Vec<BatchItem> = f.files.iter().map(|t| BatchItem::from(t.path())).collect();
    items.push(
        BatchItem::new(UploadSource::bytes(memory.clone()))
            .filename("memory.mp4")
            .name("From memory"),
    );
    let results = quick_batch(fanvue.media().upload_many(items))
        .concurrency(3)
        .files_at_once(4)
        .on_progress(move |p| sink.lock().unwrap().push(p.clone()))
        .send()
        .await;
    assert_eq!(results.len(), 7);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.index, i);
        let media = r
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", r.label));
        if i < SIZES.len() {
            assert_eq!(r.label, f.files[i].path().display().to_string());
            assert_assembled(&fake, media.uuid, &f.shas[i], SIZES[i]);
        } else {
            assert_assembled(&fake, media.uuid, &sha256_hex(&memory), memory.len());
            assert_eq!(
                fake.upload_for_media(media.uuid).unwrap().name,
                "From memory"
            );
        }
    }
    let peak = fake.max_concurrent_part_puts();
    assert!(
        peak <= 3,
        "at most 3 parts in flight over the batch, saw {peak}"
    );
    assert!(peak > 1, "parts went out concurrently");
    let events = events.lock().unwrap();
    let total = (SIZES.iter().sum::<usize>() + memory.len()) as u64;
    let last = events.last().unwrap();
    assert_eq!(
        (last.files_total, last.files_done, last.files_failed),
        (7, 7, 0)
    );
    assert_eq!((last.bytes_sent, last.total_bytes), (total, Some(total)));
    assert_eq!(last.eta, Some(Duration::ZERO));
    assert!(
        events.iter().any(|p| p.bytes_per_sec > 0),
        "throughput measured"
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[0].files_done <= w[1].files_done),
        "files done never goes back"
    );
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn faults_mid_batch_hit_only_their_file() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let f = files(50);
    // Transient faults anywhere (retried), and one refusal that fails one file.
    fake.reset_part(1, 2);
    fake.inject(FaultTarget::S3Part(Some(2)), Fault::Status(503), 2);
    fake.inject_after(FaultTarget::S3Part(Some(3)), 0, Fault::Status(400), 1);
    let results = quick_batch(fanvue.media().upload_many(f.files.iter().map(|t| t.path())))
        .concurrency(4)
        .send()
        .await;
    let failed: Vec<&_> = results.iter().filter(|r| r.result.is_err()).collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    let Err(UploadError::PartUpload { part: 3, state, .. }) = &failed[0].result else {
        panic!("expected part 3 to fail: {:?}", failed[0].result);
    };
    // The others are intact.
    for r in results.iter().filter(|r| r.result.is_ok()) {
        assert_assembled(
            &fake,
            r.media_uuid().unwrap(),
            &f.shas[r.index],
            SIZES[r.index],
        );
    }
    assert_eq!(fake.pending_faults(), 0);
    // The failed file resumes to a correct object.
    let i = failed[0].index;
    let media = quick(fanvue.media().resume((**state).clone(), f.files[i].path()))
        .send()
        .await
        .expect("resume");
    assert_assembled(&fake, media.uuid, &f.shas[i], SIZES[i]);
}

#[tokio::test]
async fn fail_fast_stops_the_batch_at_the_first_failure() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let f = files(60);
    fake.fail_part(1, 400, 1);
    let results = quick_batch(fanvue.media().upload_many(f.files.iter().map(|t| t.path())))
        .files_at_once(1)
        .fail_fast(true)
        .send()
        .await;
    assert!(matches!(
        results[0].result,
        Err(UploadError::PartUpload { part: 1, .. })
    ));
    for r in &results[1..] {
        assert!(
            matches!(r.result, Err(UploadError::Cancelled { state: None })),
            "{:?}",
            r.result
        );
    }
    assert_eq!(fake.uploads().len(), 1, "no other file was started");
}

#[tokio::test]
async fn cancelling_the_batch_stops_every_file() {
    let fake = Arc::new(fake().await);
    fake.set_s3_bandwidth(Some(20_000_000));
    let fanvue = client(&fake);
    let f = files(70);
    let token = CancellationToken::new();
    let canceller = token.clone();
    let results = quick_batch(fanvue.media().upload_many(f.files.iter().map(|t| t.path())))
        .concurrency(2)
        .files_at_once(2)
        .cancel_token(token)
        .on_progress(move |p| {
            if p.files_done >= 1 && p.bytes_sent > 8 * MIB as u64 {
                canceller.cancel();
            }
        })
        .send()
        .await;
    assert!(results.iter().any(|r| r.result.is_ok()), "{results:?}");
    let cancelled: Vec<_> = results
        .iter()
        .filter_map(|r| match &r.result {
            Err(UploadError::Cancelled { state }) => Some(state.is_some()),
            Ok(_) => None,
            Err(e) => panic!("{}: {e}", r.label),
        })
        .collect();
    assert!(!cancelled.is_empty());
    assert!(
        cancelled.iter().any(|with_state| *with_state),
        "a file in progress carries its state"
    );
    tokio::time::timeout(
        Duration::from_secs(5),
        fake.wait_until(|f| f.part_puts_in_flight() == 0),
    )
    .await
    .expect("every part upload stopped");
    let started = fake.uploads().len();
    assert!(
        started < SIZES.len(),
        "files not started yet were not started ({started})"
    );
    let _: &FakeFanvue = &fake;
}
