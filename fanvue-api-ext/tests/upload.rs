//! Media upload against the fake Fanvue API and fake S3: byte-identical
//! reassembly, no credentials sent to S3, progress, the agency variant,
//! processing outcomes, and bad input rejected before any request.

mod upload_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fanvue_api_ext::upload::{
    MediaType, Phase, Progress, SourceError, UploadError, UploadSource, ValidationError,
};
use fanvue_fake::model::{Creator, MediaType as FakeMediaType};
use upload_common::*;

/// Uploads `data` as a file with 5 MiB parts and checks the fake assembled the same bytes.
async fn round_trip_file(len: usize, seed: u64) {
    let fake = fake().await;
    let fanvue = client(&fake);
    let (file, sha) = temp_file(len, seed, ".mp4");
    let media = quick(fanvue.media().upload(file.path()))
        .part_size(5 * MIB as u64)
        .send()
        .await
        .expect("upload succeeds");
    let uuid = uuid_of(&media);
    assert_assembled(&fake, uuid, &sha, len);
    let info = fake.upload_for_media(uuid).expect("session exists");
    let parts = len.div_ceil(5 * MIB) as u32;
    assert_eq!(info.part_attempts.len() as u32, parts);
    assert!(
        info.part_attempts.values().all(|n| *n == 1),
        "{:?}",
        info.part_attempts
    );
    let name = file
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(info.filename, name);
    assert_eq!(info.name, name);
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn one_byte_from_memory() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let media = quick(fanvue.media().upload(vec![0x42u8]))
        .filename("dot.png")
        .name("A dot")
        .send()
        .await
        .expect("upload succeeds");
    let uuid = uuid_of(&media);
    assert_assembled(&fake, uuid, &sha256_hex(&[0x42]), 1);
    let info = fake.upload_for_media(uuid).unwrap();
    assert_eq!(info.name, "A dot");
    assert_eq!(info.filename, "dot.png");
    assert_eq!(info.media_type, FakeMediaType::Image);
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn exactly_five_mib() {
    round_trip_file(5 * MIB, 2).await;
}

#[tokio::test]
async fn five_mib_plus_one() {
    round_trip_file(5 * MIB + 1, 3).await;
}

#[tokio::test]
async fn two_hundred_mib_file_with_default_settings() {
    let len = 200 * MIB + 12_345;
    let fake = fake().await;
    let fanvue = client(&fake);
    let (file, sha) = temp_file(len, 4, ".mov");
    let events: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = events.clone();
    fake.reset_max_concurrent_part_puts();
    let media = quick(fanvue.media().upload(file.path()))
        .on_progress(move |p| sink.lock().unwrap().push(p.clone()))
        .send()
        .await
        .expect("upload succeeds");
    let uuid = uuid_of(&media);
    assert_assembled(&fake, uuid, &sha, len);
    assert!(
        fake.max_concurrent_part_puts() > 1,
        "parts went out concurrently"
    );
    assert!(
        fake.max_concurrent_part_puts() <= 8,
        "at most the default concurrency"
    );
    let events = events.lock().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.phase, Phase::Done);
    assert_eq!(last.bytes_sent, len as u64);
    assert_eq!(last.parts_done, last.parts_total);
    assert_eq!(last.parts_total, len.div_ceil(8 * MIB) as u32);
    assert!(
        events
            .windows(2)
            .all(|w| w[0].bytes_sent <= w[1].bytes_sent)
    );
    // Byte-level progress: bytes of unfinished parts are reported as the
    // connection takes them, the shown total never goes back or past the size,
    // and it moves in far more steps than there are parts.
    assert_eq!(last.bytes_in_flight, 0);
    assert!(
        events
            .iter()
            .any(|p| p.bytes_in_flight > 0 && p.parts_done == 0),
        "bytes were reported before the first part finished"
    );
    let shown: Vec<u64> = events
        .iter()
        .map(|p| p.bytes_sent + p.bytes_in_flight)
        .collect();
    assert!(shown.windows(2).all(|w| w[0] <= w[1]), "never goes back");
    assert!(
        shown.iter().all(|&b| b <= len as u64),
        "never past the size"
    );
    let mut steps = shown.clone();
    steps.dedup();
    assert!(
        steps.len() > 4 * last.parts_total as usize,
        "{} steps for {} parts",
        steps.len(),
        last.parts_total
    );
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn reader_source_and_content_sniffing() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let mut data = pseudo_random(11 * MIB, 5);
    data[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    let reader = std::io::Cursor::new(data.clone());
    let (progress_tx, progress_rx) = tokio::sync::watch::channel(Progress::default());
    let phases: Arc<Mutex<Vec<Phase>>> = Arc::default();
    let sink = phases.clone();
    let media = quick(
        fanvue
            .media()
            .upload(UploadSource::reader(reader, data.len() as u64)),
    )
    .filename("no-extension")
    .part_size(5 * MIB as u64)
    .concurrency(2)
    .progress_channel(progress_tx)
    .on_progress(move |p| {
        let mut phases = sink.lock().unwrap();
        if phases.last() != Some(&p.phase) {
            phases.push(p.phase);
        }
    })
    .send()
    .await
    .expect("upload succeeds");
    let uuid = uuid_of(&media);
    assert_assembled(&fake, uuid, &sha256_hex(&data), data.len());
    assert_eq!(
        fake.upload_for_media(uuid).unwrap().media_type,
        FakeMediaType::Image
    );
    let last = progress_rx.borrow().clone();
    assert_eq!(last.phase, Phase::Done);
    assert_eq!((last.parts_done, last.parts_total), (3, 3));
    assert_eq!(
        *phases.lock().unwrap(),
        vec![
            Phase::Preparing,
            Phase::CreatingSession,
            Phase::Uploading,
            Phase::Completing,
            Phase::Processing,
            Phase::Done
        ]
    );
}

#[tokio::test]
async fn agency_upload_for_a_creator() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let creator = Creator::sample(0).user.uuid;
    let data = pseudo_random(6 * MIB, 6);
    let media = quick(fanvue.media().upload(data.clone()))
        .filename("creator.mp3")
        .part_size(5 * MIB as u64)
        .for_creator(creator)
        .send()
        .await
        .expect("agency upload succeeds");
    let uuid = uuid_of(&media);
    assert_assembled(&fake, uuid, &sha256_hex(&data), data.len());
    let info = fake.upload_for_media(uuid).unwrap();
    assert_eq!(info.creator, Some(creator));
    assert_eq!(info.media_type, FakeMediaType::Audio);
    assert!(fake.request_count(fanvue_fake::ApiRoute::CreatorCreateUpload) == 1);
    assert!(fake.request_count(fanvue_fake::ApiRoute::CreatorCompleteUpload) == 1);
    assert!(fake.request_count(fanvue_fake::ApiRoute::CreatorMediaGet) >= 1);
    assert_eq!(fake.request_count(fanvue_fake::ApiRoute::CreateUpload), 0);
    assert_s3_clean(&fake);
}

#[tokio::test]
async fn processing_error_is_typed() {
    let fake = fake().await;
    fake.set_processing_fails(true);
    let fanvue = client(&fake);
    let err = quick(fanvue.media().upload(vec![1u8, 2, 3]))
        .filename("x.jpg")
        .send()
        .await
        .expect_err("processing fails");
    assert!(matches!(err, UploadError::Processing { .. }), "{err:?}");
    assert_eq!(err.phase(), Phase::Processing);
}

#[tokio::test]
async fn processing_timeout_then_resume_only_polls() {
    let fake = fake().await;
    fake.set_processing_polls(1_000_000);
    let fanvue = client(&fake);
    let data = pseudo_random(1000, 7);
    let err = quick(fanvue.media().upload(data.clone()))
        .filename("x.jpg")
        .processing_timeout(Duration::from_millis(200))
        .send()
        .await
        .expect_err("times out");
    let UploadError::Timeout { state, .. } = &err else {
        panic!("expected a timeout, got {err:?}");
    };
    assert!(state.session_completed);
    let puts_before = fake.s3_requests().len();
    fake.set_processing_polls(0);
    let media = quick(fanvue.media().resume((**state).clone(), data.clone()))
        .send()
        .await
        .expect("resume succeeds");
    assert_eq!(uuid_of(&media), state.media_uuid);
    assert_eq!(fake.s3_requests().len(), puts_before, "no part sent again");
    assert_assembled(&fake, state.media_uuid, &sha256_hex(&data), data.len());
}

/// Asserts `err` happened before any request reached the fake.
fn assert_no_request(fake: &fanvue_fake::FakeFanvue, err: &UploadError) {
    assert!(err.resume_state().is_none(), "{err:?}");
    assert!(
        fake.api_requests().is_empty(),
        "API requests: {:?}",
        fake.api_requests()
    );
    assert!(fake.s3_requests().is_empty(), "S3 requests were made");
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let fake = fake().await;
    let fanvue = client(&fake);

    let err = fanvue
        .media()
        .upload(UploadSource::path("/no/such/dir/clip.mp4"))
        .send()
        .await
        .expect_err("missing file");
    match &err {
        UploadError::Io {
            path: Some(path),
            source: SourceError::Io(io),
            ..
        } => {
            assert!(path.ends_with("clip.mp4"));
            assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(err.to_string().contains("clip.mp4"), "{err}");
    assert_no_request(&fake, &err);

    let (empty, _) = temp_file(0, 1, ".jpg");
    let err = fanvue
        .media()
        .upload(empty.path())
        .send()
        .await
        .expect_err("empty file");
    assert!(
        matches!(err, UploadError::Validation(ValidationError::EmptySource)),
        "{err:?}"
    );
    assert_no_request(&fake, &err);

    let short = UploadSource::reader(std::io::Cursor::new(vec![0xFFu8, 0xD8, 0xFF, 0]), 100);
    let err = fanvue
        .media()
        .upload(short)
        .filename("a.jpg")
        .send()
        .await
        .expect_err("reader shorter than declared");
    assert!(
        matches!(
            err,
            UploadError::Io {
                source: SourceError::TooShort {
                    expected: 100,
                    actual: 4
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_no_request(&fake, &err);

    let long = UploadSource::reader(std::io::Cursor::new(vec![7u8; 50]), 10);
    let err = fanvue
        .media()
        .upload(long)
        .filename("a.jpg")
        .send()
        .await
        .expect_err("reader longer than declared");
    assert!(
        matches!(
            err,
            UploadError::Io {
                source: SourceError::TooLong { expected: 10 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_no_request(&fake, &err);

    let err = fanvue
        .media()
        .upload(pseudo_random(4096, 9))
        .filename("blob.bin")
        .send()
        .await
        .expect_err("unknown media type");
    assert!(
        matches!(
            err,
            UploadError::Validation(ValidationError::UnknownMediaType { .. })
        ),
        "{err:?}"
    );
    assert_no_request(&fake, &err);

    let err = fanvue
        .media()
        .upload(vec![1u8])
        .send()
        .await
        .expect_err("no filename");
    assert!(
        matches!(
            err,
            UploadError::Validation(ValidationError::MissingFilename)
        ),
        "{err:?}"
    );
    let err = fanvue
        .media()
        .upload(vec![1u8])
        .filename("a.jpg")
        .part_size(1024)
        .send()
        .await
        .expect_err("part too small");
    assert!(
        matches!(
            err,
            UploadError::Validation(ValidationError::PartSizeTooSmall { .. })
        ),
        "{err:?}"
    );
    let err = fanvue
        .media()
        .upload(vec![1u8])
        .filename("a.jpg")
        .concurrency(0)
        .send()
        .await
        .expect_err("zero concurrency");
    assert!(
        matches!(
            err,
            UploadError::Validation(ValidationError::ZeroConcurrency)
        ),
        "{err:?}"
    );
    let err = fanvue
        .media()
        .upload(vec![1u8])
        .filename("a.jpg")
        .name("")
        .send()
        .await
        .expect_err("empty name");
    assert!(
        matches!(
            err,
            UploadError::Validation(ValidationError::BadLength { field: "name", .. })
        ),
        "{err:?}"
    );
    assert_no_request(&fake, &err);
    let _ = MediaType::Image;
}
