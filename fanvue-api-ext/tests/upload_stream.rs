//! Sources of unknown length (`UploadSource::stream` / `byte_stream`):
//! uploaded in parts until their end, byte-identical, with memory bounded by
//! the parts in flight; empty or failing streams give clear errors.

mod upload_common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fanvue_api_ext::upload::{Progress, SourceError, UploadError, UploadSource, ValidationError};
use fanvue_fake::{ApiRoute, Fault, FaultTarget};
use upload_common::*;

/// `data` as a stream of chunks of uneven sizes.
fn chunked(data: Vec<u8>) -> UploadSource {
    let mut chunks = Vec::new();
    let mut at = 0;
    let mut size = 1;
    while at < data.len() {
        let end = (at + size).min(data.len());
        chunks.push(Ok::<_, std::io::Error>(Bytes::copy_from_slice(
            &data[at..end],
        )));
        at = end;
        size = size * 7 % 300_007 + 1;
    }
    UploadSource::byte_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn a_stream_of_unknown_length_uploads_until_its_end() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let len = 23 * MIB + 17;
    let data = pseudo_random(len, 31);
    let events: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = events.clone();
    let media = quick(fanvue.media().upload(chunked(data.clone())))
        .filename("transcoded.mp4")
        .part_size(5 * MIB as u64)
        .concurrency(2)
        .on_progress(move |p| sink.lock().unwrap().push(p.clone()))
        .send()
        .await
        .expect("upload succeeds");
    let uuid = uuid_of(&media);
    assert_assembled(&fake, uuid, &sha256_hex(&data), len);
    assert_eq!(fake.part_put_counts(uuid).len(), 5);
    let events = events.lock().unwrap();
    assert_eq!(
        events.first().unwrap().total_bytes,
        None,
        "unknown at first"
    );
    let last = events.last().unwrap();
    assert_eq!(last.total_bytes, Some(len as u64));
    assert_eq!((last.parts_done, last.parts_total), (5, 5));
    assert_eq!(last.bytes_sent, len as u64);
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn a_stream_ending_on_a_part_boundary_sends_no_empty_part() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let data = pseudo_random(10 * MIB, 32);
    let reader = std::io::Cursor::new(data.clone());
    let media = quick(fanvue.media().upload(UploadSource::stream(reader)))
        .filename("a.mp4")
        .part_size(5 * MIB as u64)
        .send()
        .await
        .expect("upload succeeds");
    let uuid = uuid_of(&media);
    assert_assembled(&fake, uuid, &sha256_hex(&data), data.len());
    assert_eq!(
        fake.part_put_counts(uuid).into_iter().collect::<Vec<_>>(),
        vec![(1, 1), (2, 1)]
    );
}

#[tokio::test]
async fn an_empty_stream_is_rejected_before_any_request() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let err = fanvue
        .media()
        .upload(UploadSource::stream(tokio::io::empty()))
        .filename("a.mp4")
        .send()
        .await
        .expect_err("empty");
    assert!(
        matches!(err, UploadError::Validation(ValidationError::EmptySource)),
        "{err:?}"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_stream_failing_mid_way_is_an_io_error_with_the_state() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let good = pseudo_random(7 * MIB, 33);
    let chunks = vec![
        Ok(Bytes::from(good)),
        Err(std::io::Error::other("the download broke")),
    ];
    let err = quick(
        fanvue
            .media()
            .upload(UploadSource::byte_stream(futures::stream::iter(chunks))),
    )
    .filename("a.mp4")
    .part_size(5 * MIB as u64)
    .send()
    .await
    .expect_err("the stream fails");
    let UploadError::Io {
        source: SourceError::Io(io),
        state: Some(state),
        ..
    } = &err
    else {
        panic!("expected an I/O error with state, got {err:?}");
    };
    assert!(io.to_string().contains("the download broke"), "{io}");
    assert_eq!(state.total_size, 0, "length unknown");
    assert_eq!(fake.request_count(ApiRoute::CompleteUpload), 0);
    // Such a state cannot resume from a stream.
    let err = fanvue
        .media()
        .resume((**state).clone(), UploadSource::stream(tokio::io::empty()))
        .send()
        .await
        .expect_err("no resume from a stream");
    assert!(err.to_string().contains("unknown length"), "{err}");
}

/// An endless reader that counts what it gave.
struct Endless(Arc<AtomicU64>);

impl tokio::io::AsyncRead for Endless {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = buf.remaining().min(64 * 1024);
        buf.put_slice(&vec![0x5a; n]);
        self.0.fetch_add(n as u64, Ordering::SeqCst);
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn memory_stays_bounded_by_the_parts_in_flight() {
    let fake = fake().await;
    let fanvue = client(&fake);
    // S3 holds every part for a long time.
    fake.inject(
        FaultTarget::S3Part(None),
        Fault::Delay(Duration::from_secs(600)),
        1000,
    );
    let read = Arc::new(AtomicU64::new(0));
    let upload = quick(
        fanvue
            .media()
            .upload(UploadSource::stream(Endless(read.clone()))),
    )
    .filename("endless.mp4")
    .part_size(5 * MIB as u64)
    .concurrency(2)
    .send();
    let running = tokio::spawn(upload);
    fake.wait_until(|f| f.part_puts_in_flight() == 2).await;
    // 2 parts in flight + at most 2 read ahead (32 MiB budget / 5 MiB parts, capped at 2).
    let bound = 4 * 5 * MIB as u64;
    // An observation window (not synchronisation): an unbounded reader would
    // be hundreds of MiB further by then.
    let sooner = tokio::time::timeout(Duration::from_millis(500), async {
        while read.load(Ordering::SeqCst) <= bound {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let seen = read.load(Ordering::SeqCst);
    assert!(sooner.is_err(), "read {seen} bytes, bound {bound}");
    assert!(
        seen > 2 * 5 * MIB as u64,
        "the parts in flight were read ({seen})"
    );
    assert!(!running.is_finished());
    running.abort();
}
