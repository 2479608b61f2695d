//! Every fault of the fake survived with byte-identical results: failing
//! parts, expired URLs, 429 and 5xx from the API, connections reset mid-body,
//! truncated and slow responses, parts corrupted in transit (Content-MD5),
//! ETags that are not MD5s, a 401 that needs a refresh, and a session
//! creation whose answer is lost (never sent twice).

mod upload_common;

use std::sync::Arc;
use std::time::Duration;

use fanvue_api_ext::upload::{PartRetryPolicy, UploadBuilder, UploadError};
use fanvue_fake::{ApiRoute, FakeFanvue, Fault, FaultTarget};
use upload_common::*;

/// 11 MiB + 3 bytes: three 5 MiB parts.
const LEN: usize = 11 * MIB + 3;

/// Uploads LEN pseudo-random bytes with 5 MiB parts through `configure` and
/// checks the assembled bytes; returns the per-part PUT counts.
async fn upload_survives(
    fake: &FakeFanvue,
    fanvue: &fanvue_api_ext::Fanvue,
    configure: impl FnOnce(UploadBuilder) -> UploadBuilder,
) -> std::collections::BTreeMap<u32, u32> {
    let data = pseudo_random(LEN, 11);
    let builder = quick(fanvue.media().upload(data.clone()))
        .filename("clip.mp4")
        .part_size(5 * MIB as u64);
    let media = configure(builder)
        .send()
        .await
        .expect("upload survives the fault");
    let uuid = uuid_of(&media);
    assert_assembled(fake, uuid, &sha256_hex(&data), LEN);
    assert_s3_clean(fake);
    assert_eq!(fake.pending_faults(), 0, "every injected fault was hit");
    fake.part_put_counts(uuid)
}

#[tokio::test]
async fn a_part_failing_several_times_is_retried_alone() {
    let fake = fake().await;
    fake.fail_part(2, 500, 2);
    fake.fail_part(3, 503, 1);
    let counts = upload_survives(&fake, &client(&fake), |b| b).await;
    assert_eq!(counts.get(&1), Some(&1));
    assert_eq!(counts.get(&2), Some(&3));
    assert_eq!(counts.get(&3), Some(&2));
}

#[tokio::test]
async fn an_expired_url_is_replaced_by_a_fresh_one() {
    let fake = fake().await;
    fake.expire_first_url_for_part(1);
    fake.expire_first_url_for_part(3);
    let counts = upload_survives(&fake, &client(&fake), |b| b).await;
    // The expired URLs were refused before the part was accepted: one stored
    // PUT per part, but a second URL for parts 1 and 3.
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let info = fake.uploads().pop().unwrap();
    assert_eq!(info.urls_issued.get(&1), Some(&2));
    assert_eq!(info.urls_issued.get(&2), Some(&1));
    assert_eq!(info.urls_issued.get(&3), Some(&2));
    let refused = fake
        .s3_requests()
        .len()
        .saturating_sub(counts.values().sum::<u32>() as usize);
    assert_eq!(refused, 2, "two PUTs hit an expired URL");
}

#[tokio::test]
async fn rate_limits_on_the_api_are_waited_out() {
    let fake = fake().await;
    fake.rate_limit(ApiRoute::CreateUpload, 1, 1);
    fake.rate_limit(ApiRoute::PartUrl, 1, 2);
    fake.rate_limit(ApiRoute::MediaGet, 1, 1);
    let started = std::time::Instant::now();
    upload_survives(&fake, &client(&fake), |b| b).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(fake.request_count(ApiRoute::CreateUpload), 2);
    assert_eq!(fake.request_count(ApiRoute::PartUrl), 5);
}

#[tokio::test]
async fn server_errors_on_the_api_are_retried() {
    let fake = fake().await;
    fake.fail_route(ApiRoute::PartUrl, 502, 2);
    fake.fail_route(ApiRoute::CompleteUpload, 503, 1);
    fake.fail_route(ApiRoute::MediaGet, 504, 1);
    upload_survives(&fake, &client(&fake), |b| b).await;
    assert_eq!(fake.request_count(ApiRoute::CompleteUpload), 2);
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_retried() {
    let fake = fake().await;
    fake.reset_part(1, 2);
    fake.inject(FaultTarget::S3Part(Some(3)), Fault::TruncatedResponse, 1);
    let counts = upload_survives(&fake, &client(&fake), |b| b).await;
    assert_eq!(counts.get(&1), Some(&3));
    assert_eq!(counts.get(&3), Some(&2));
}

#[tokio::test]
async fn a_part_corrupted_in_transit_is_refused_by_s3_and_sent_again() {
    let fake = fake().await;
    // One byte of part 2 flips on arrival: S3 checks Content-MD5 and answers 400 BadDigest.
    fake.inject(FaultTarget::S3Part(Some(2)), Fault::CorruptBody, 1);
    let counts = upload_survives(&fake, &client(&fake), |b| b).await;
    assert_eq!(counts.get(&2), Some(&2));
    let puts = fake.s3_requests();
    assert!(!puts.is_empty());
    for put in &puts {
        let digest = put
            .headers
            .get("content-md5")
            .expect("every PUT carries Content-MD5");
        assert_eq!(digest.to_str().unwrap().len(), 24, "base64 of 16 bytes");
    }
}

#[tokio::test]
async fn etags_that_are_not_md5s_are_accepted() {
    // As under SSE-KMS / SSE-C: 32 hex digits that are not the MD5 of the part.
    let fake = fanvue_fake::FakeFanvue::builder()
        .processing_polls(1)
        .opaque_etags(true)
        .start()
        .await
        .unwrap();
    let counts = upload_survives(&fake, &client(&fake), |b| b).await;
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[tokio::test]
async fn creating_the_session_is_not_sent_twice_when_its_answer_is_lost() {
    let fake = fake().await;
    // The fake creates the session and its media, then drops the connection.
    fake.inject(
        FaultTarget::Api(ApiRoute::CreateUpload),
        Fault::ActThenReset,
        1,
    );
    let err = quick(fake_upload(&fake))
        .send()
        .await
        .expect_err("the answer was lost");
    assert!(
        matches!(err, UploadError::CreateSessionUncertain { .. }),
        "{err:?}"
    );
    assert!(err.resume_state().is_none());
    assert_eq!(fake.request_count(ApiRoute::CreateUpload), 1, "not retried");
    assert_eq!(fake.uploads().len(), 1, "no duplicate media or session");
    assert!(fake.s3_requests().is_empty());
}

#[tokio::test]
async fn a_server_error_creating_the_session_is_not_retried() {
    let fake = fake().await;
    fake.fail_route(ApiRoute::CreateUpload, 503, 1);
    let err = quick(fake_upload(&fake)).send().await.expect_err("503");
    assert!(
        matches!(err, UploadError::CreateSessionUncertain { .. }),
        "{err:?}"
    );
    assert_eq!(fake.request_count(ApiRoute::CreateUpload), 1);
    // A 4xx is a plain refusal: nothing was created.
    fake.fail_route(ApiRoute::CreateUpload, 400, 1);
    let err = quick(fake_upload(&fake)).send().await.expect_err("400");
    assert!(matches!(err, UploadError::CreateSession { .. }), "{err:?}");
}

fn fake_upload(fake: &FakeFanvue) -> UploadBuilder {
    let fanvue = client(fake);
    fanvue
        .media()
        .upload(pseudo_random(1000, 3))
        .filename("clip.mp4")
}

#[tokio::test]
async fn slow_responses_are_waited_for_or_abandoned() {
    let fake = fake().await;
    // An API call slower than usual is simply waited for.
    fake.delay_route(ApiRoute::PartUrl, Duration::from_millis(300), 1);
    // A part PUT slower than the attempt timeout is abandoned and sent again.
    fake.inject(
        FaultTarget::S3Part(Some(2)),
        Fault::Delay(Duration::from_secs(30)),
        1,
    );
    let counts = upload_survives(&fake, &client(&fake), |b| {
        b.part_retry(
            PartRetryPolicy::default()
                .with_delays(Duration::from_millis(10), Duration::from_millis(50))
                .with_attempt_timeout(Duration::from_secs(2)),
        )
    })
    .await;
    assert_eq!(counts.get(&2), Some(&2));
}

#[tokio::test]
async fn a_401_mid_upload_refreshes_the_token() {
    let fake = Arc::new(fake().await);
    let fanvue = oauth_client(&fake);
    let on_checkpoint = fake.clone();
    upload_survives(&fake, &fanvue, move |b| {
        b.concurrency(1).on_checkpoint(move |state| {
            if state.completed_parts.len() == 1 {
                on_checkpoint.expire_all_access_tokens();
            }
        })
    })
    .await;
    assert!(
        fake.token_refresh_count() >= 2,
        "refreshed at start and after the 401 ({} refreshes)",
        fake.token_refresh_count()
    );
}
