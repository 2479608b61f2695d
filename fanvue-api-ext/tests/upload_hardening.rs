//! Uploads under hostile conditions: a client-wide opt-in to resending POSTs,
//! a file replaced mid-upload, rate-limited part URLs, absurd concurrency,
//! streams ending on a part boundary, and a user HTTP client with default
//! headers.

mod upload_common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fanvue_api_ext::upload::{
    MAX_CONCURRENCY, PartRetryPolicy, Progress, UploadError, UploadSource, ValidationError,
};
use fanvue_api_ext::{Fanvue, RetryPolicy};
use fanvue_fake::{ApiRoute, Fault, FaultTarget};
use upload_common::*;

/// A client that resends every request, POSTs included, on transient failures.
fn resending_client(fake: &fanvue_fake::FakeFanvue) -> Fanvue {
    Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .retry_policy(
            RetryPolicy::builder()
                .retry_non_idempotent(true)
                .base_delay(Duration::from_millis(10))
                .max_delay(Duration::from_millis(50))
                .build(),
        )
        .build()
        .expect("client builds")
}

#[tokio::test]
async fn creating_the_session_is_never_resent_even_when_the_client_resends_posts() {
    let fake = fake().await;
    let fanvue = resending_client(&fake);
    // The fake creates the session and its media, then drops the connection.
    fake.inject(
        FaultTarget::Api(ApiRoute::CreateUpload),
        Fault::ActThenReset,
        1,
    );
    let err = quick(fanvue.media().upload(pseudo_random(1000, 1)))
        .filename("clip.mp4")
        .send()
        .await
        .expect_err("the answer was lost");
    assert!(
        matches!(err, UploadError::CreateSessionUncertain { .. }),
        "{err:?}"
    );
    assert_eq!(fake.request_count(ApiRoute::CreateUpload), 1, "not resent");
    assert_eq!(fake.uploads().len(), 1, "no duplicate media");

    // A 5xx is no proof that nothing was created either.
    fake.fail_route(ApiRoute::CreateUpload, 503, 1);
    let err = quick(fanvue.media().upload(pseudo_random(1000, 2)))
        .filename("clip.mp4")
        .send()
        .await
        .expect_err("503");
    assert!(
        matches!(err, UploadError::CreateSessionUncertain { .. }),
        "{err:?}"
    );
    assert_eq!(fake.request_count(ApiRoute::CreateUpload), 2);
}

#[tokio::test]
async fn a_file_replaced_during_the_upload_is_never_completed() {
    let fake = Arc::new(fake().await);
    let fanvue = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    let old = pseudo_random(4 * 5 * MIB, 7);
    std::fs::write(&path, &old).unwrap();
    let new = pseudo_random(4 * 5 * MIB, 8);
    let replacement = dir.path().join("clip.mp4.new");
    std::fs::write(&replacement, &new).unwrap();

    let replaced = Arc::new(Mutex::new(false));
    let (from, to, done) = (replacement.clone(), path.clone(), replaced.clone());
    let err = quick(fanvue.media().upload(UploadSource::path(&path)))
        .part_size(5 * MIB as u64)
        .concurrency(1)
        .on_checkpoint(move |state| {
            // After part 3 was acknowledged, a new file takes the path.
            let mut done = done.lock().unwrap();
            if state.completed_parts.len() == 3 && !*done {
                std::fs::rename(&from, &to).unwrap();
                *done = true;
            }
        })
        .send()
        .await
        .expect_err("the file was replaced");
    assert!(
        *replaced.lock().unwrap(),
        "the file was replaced mid-upload"
    );
    assert!(matches!(err, UploadError::SourceChanged { .. }), "{err:?}");
    assert!(err.resume_state().is_some(), "the session can be resumed");
    assert_eq!(
        fake.request_count(ApiRoute::CompleteUpload),
        0,
        "nothing completed"
    );
    let media = err.resume_state().unwrap().media_uuid;
    assert!(fake.assembled(media).is_none(), "no mixed object");
}

#[tokio::test]
async fn a_rate_limited_part_url_is_waited_out_and_pauses_prefetching() {
    let fake = fake().await;
    let fanvue = client(&fake);
    // Part 2's first URL request is refused with Retry-After: 2.
    fake.inject(
        FaultTarget::PartUrlFor(Some(2)),
        Fault::RateLimited {
            retry_after_secs: 2,
        },
        1,
    );
    let data = pseudo_random(6 * 5 * MIB, 3);
    let started = Instant::now();
    let media = quick(fanvue.media().upload(data.clone()))
        .filename("clip.mp4")
        .part_size(5 * MIB as u64)
        .concurrency(2)
        .part_retry(
            // Retries far shorter than the server's Retry-After.
            PartRetryPolicy::default()
                .with_max_attempts(3)
                .with_delays(Duration::from_millis(10), Duration::from_millis(20)),
        )
        .send()
        .await
        .expect("the rate limit is waited out");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured"
    );
    assert_assembled(&fake, media.uuid, &sha256_hex(&data), data.len());
    let urls: Vec<_> = fake
        .api_requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/url"))
        .collect();
    assert_eq!(urls.len(), 7, "one extra URL request, for part 2");
    let refused = urls
        .iter()
        .find(|r| r.path.contains("/parts/2/"))
        .expect("part 2's URL was asked for")
        .at;
    // Once refused, no URL request (prefetch or retry) is sent before the
    // server's Retry-After has passed, but the one already in flight beside
    // it (the prefetcher asks for 2 at a time with concurrency 2).
    let early: Vec<_> = urls
        .iter()
        .filter(|r| r.at > refused)
        .map(|r| (r.path.clone(), r.at.duration_since(refused)))
        .filter(|(_, after)| *after < Duration::from_millis(1900))
        .collect();
    assert!(
        early.len() <= 1
            && early
                .iter()
                .all(|(_, after)| *after < Duration::from_millis(100)),
        "URL requests sent during the pause: {early:?}"
    );
}

#[tokio::test]
async fn concurrency_beyond_the_maximum_is_refused() {
    let fake = fake().await;
    let fanvue = client(&fake);
    for too_many in [MAX_CONCURRENCY + 1, usize::MAX] {
        let err = fanvue
            .media()
            .upload(pseudo_random(1000, 4))
            .filename("clip.mp4")
            .concurrency(too_many)
            .send()
            .await
            .expect_err("refused");
        assert!(
            matches!(
                err,
                UploadError::Validation(ValidationError::ConcurrencyTooHigh { requested, max })
                    if requested == too_many && max == MAX_CONCURRENCY
            ),
            "{err:?}"
        );
        let results = fanvue
            .media()
            .upload_many([UploadSource::bytes(pseudo_random(1000, 5))])
            .concurrency(too_many)
            .send()
            .await;
        assert!(
            matches!(
                results[0].result,
                Err(UploadError::Validation(
                    ValidationError::ConcurrencyTooHigh { .. }
                ))
            ),
            "{:?}",
            results[0].result
        );
    }
    assert!(fake.api_requests().is_empty(), "nothing sent");
    // The maximum itself is accepted.
    quick(fanvue.media().upload(pseudo_random(1000, 6)))
        .filename("clip.mp4")
        .concurrency(MAX_CONCURRENCY)
        .send()
        .await
        .expect("the maximum is allowed");
}

#[tokio::test]
async fn a_stream_ending_on_a_part_boundary_records_its_total() {
    let fake = fake().await;
    let fanvue = client(&fake);
    let data = pseudo_random(2 * 5 * MIB, 9);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = data
        .chunks(64 * 1024)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let last = Arc::new(Mutex::new(Progress::default()));
    let seen = last.clone();
    let media = quick(
        fanvue
            .media()
            .upload(UploadSource::byte_stream(futures::stream::iter(chunks))),
    )
    .filename("clip.mp4")
    .part_size(5 * MIB as u64)
    .on_progress(move |p| *seen.lock().unwrap() = p.clone())
    .send()
    .await
    .expect("uploads");
    assert_assembled(&fake, media.uuid, &sha256_hex(&data), data.len());
    let last = last.lock().unwrap().clone();
    assert_eq!(last.total_bytes, Some(data.len() as u64), "{last:?}");
    assert_eq!(last.parts_total, 2, "{last:?}");
    assert_eq!(last.parts_done, 2, "{last:?}");
}

#[tokio::test]
async fn s3_never_sees_the_default_headers_of_a_given_http_client() {
    let fake = fake().await;
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_static("Bearer user-default-credential"),
    );
    defaults.insert(
        "x-fanvue-extra",
        reqwest::header::HeaderValue::from_static("1"),
    );
    let http = fanvue_api_ext::http_client_builder()
        .unwrap()
        .default_headers(defaults)
        .build()
        .unwrap();
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .http_client(http)
        .build()
        .unwrap();
    let data = pseudo_random(11 * MIB, 10);
    let media = quick(fanvue.media().upload(data.clone()))
        .filename("clip.mp4")
        .part_size(5 * MIB as u64)
        .send()
        .await
        .expect("uploads");
    assert_assembled(&fake, media.uuid, &sha256_hex(&data), data.len());
    assert!(!fake.s3_requests().is_empty());
    assert_s3_clean(&fake);
    // The API calls still went through the given client (its default header
    // reached the API).
    assert!(
        fake.api_requests()
            .iter()
            .all(|r| r.header("x-fanvue-extra") == Some("1"))
    );
}
