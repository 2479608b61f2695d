//! Faults on demand, seen through plain reqwest: statuses, 429 headers, resets, truncated bodies, delays,
//! expired URLs, wrong ETags, latency and the S3 bandwidth cap.

mod common;

use std::time::{Duration, Instant};

use futures::StreamExt;

use common::*;
use fanvue_fake::{ApiRoute, FakeFanvue, FakeFanvueBuilder, Fault, FaultTarget};

/// A started fake (parts of any size, then `builder`'s settings) with one upload session: `(fake, mediaUuid, uploadId)`.
async fn fake_with_upload(builder: FakeFanvueBuilder) -> (FakeFanvue, uuid::Uuid, String) {
    let fake = builder.min_part_size(1).start().await.unwrap();
    let (media, upload) = create_upload(&fake, "").await;
    (fake, media, upload)
}

#[tokio::test]
async fn rate_limit_for_the_next_m_requests_then_normal() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.rate_limit(ApiRoute::UsersMe, 7, 2);
    for _ in 0..2 {
        let resp = get(&fake, "/users/me").send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 429);
        let h = resp.headers();
        assert_eq!(h["retry-after"], "7");
        assert_eq!(h["x-ratelimit-limit"], "100");
        assert_eq!(h["x-ratelimit-remaining"], "0");
        let reset: u64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(reset >= now + 6 && reset <= now + 8, "{reset} vs {now}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(body["error"].is_string());
    }
    // Other routes are not affected; the route recovers after M hits.
    assert_eq!(get_json(&fake, "/media").await.0, 200);
    assert_eq!(get_json(&fake, "/users/me").await.0, 200);
    assert_eq!(fake.request_count(ApiRoute::UsersMe), 3);
    assert_eq!(fake.pending_faults(), 0);
}

#[tokio::test]
async fn server_errors_for_the_next_m_requests() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.fail_route(ApiRoute::MediaList, 503, 2);
    fake.inject(FaultTarget::AnyApi, Fault::Status(502), 1);
    assert_eq!(get_json(&fake, "/media").await.0, 503);
    assert_eq!(get_json(&fake, "/users/me").await.0, 502);
    assert_eq!(get_json(&fake, "/media").await.0, 503);
    assert_eq!(get_json(&fake, "/media").await.0, 200);
}

#[tokio::test]
async fn reset_is_a_transport_error_and_the_next_request_works() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.reset_route(ApiRoute::UsersMe, 1);
    let err = get(&fake, "/users/me").send().await.unwrap_err();
    assert!(err.status().is_none(), "{err}");
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );
    assert_eq!(get_json(&fake, "/users/me").await.0, 200);
}

#[tokio::test]
async fn truncated_response_fails_while_reading_the_body() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.inject(
        FaultTarget::Api(ApiRoute::MediaList),
        Fault::TruncatedResponse,
        1,
    );
    let resp = get(&fake, "/media").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let err = resp.bytes().await.unwrap_err();
    assert!(
        err.is_body() || err.is_decode() || err.is_request(),
        "{err:?}"
    );
    assert_eq!(get_json(&fake, "/media").await.0, 200);
}

#[tokio::test]
async fn unauthorized_once_then_fine() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.inject(FaultTarget::Api(ApiRoute::UsersMe), Fault::Unauthorized, 1);
    assert_eq!(get_json(&fake, "/users/me").await.0, 401);
    assert_eq!(get_json(&fake, "/users/me").await.0, 200);
}

#[tokio::test]
async fn slow_response_and_latency_delay_answers() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.delay_route(ApiRoute::UsersMe, Duration::from_millis(300), 1);
    let t = Instant::now();
    assert_eq!(get_json(&fake, "/users/me").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let quick = get(&fake, "/users/me")
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(quick.is_ok(), "the delay applied once only");

    fake.delay_route(ApiRoute::UsersMe, Duration::from_secs(5), 1);
    let err = get(&fake, "/users/me")
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());

    fake.set_latency(Duration::from_millis(40));
    let t = Instant::now();
    for _ in 0..3 {
        get_json(&fake, "/users/me").await;
    }
    assert!(t.elapsed() >= Duration::from_millis(120));
}

#[tokio::test]
async fn a_part_fails_n_times_then_succeeds() {
    let (fake, media, upload) = fake_with_upload(FakeFanvue::builder()).await;
    fake.fail_part(2, 500, 1);
    fake.fail_part(2, 503, 1);
    let url = part_url(&fake, "", &upload, 2).await;
    let data = bytes(1000, 2);
    let r = put(&url, data.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 500);
    assert!(r.text().await.unwrap().contains("InternalError"));
    let r = put(&url, data.clone()).await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().await.unwrap().contains("SlowDown"));
    // Part 1 is not affected.
    put_part(&part_url(&fake, "", &upload, 1).await, bytes(10, 1)).await;
    put_part(&url, data).await;
    let counts = fake.part_put_counts(media);
    assert_eq!(counts.get(&1), Some(&1));
    assert_eq!(counts.get(&2), Some(&3));
    assert_eq!(
        fake.upload(&upload).unwrap().part_successes.get(&2),
        Some(&1)
    );
}

#[tokio::test]
async fn a_part_put_reset_mid_body_is_a_transport_error() {
    let (fake, _, upload) = fake_with_upload(FakeFanvue::builder()).await;
    fake.reset_part(1, 1);
    let url = part_url(&fake, "", &upload, 1).await;
    let data = bytes(4 * 1024 * 1024, 3);
    let err = put(&url, data.clone()).await.unwrap_err();
    assert!(err.status().is_none(), "{err}");
    assert!(fake.upload(&upload).unwrap().stored_parts.is_empty());
    let etag = put_part(&url, data.clone()).await;
    assert_eq!(etag, format!("\"{}\"", md5_hex(&data)));
}

#[tokio::test]
async fn first_url_for_a_part_is_expired_then_a_fresh_one_works() {
    let (fake, _, upload) = fake_with_upload(FakeFanvue::builder()).await;
    fake.expire_first_url_for_part(2);
    let ok1 = part_url(&fake, "", &upload, 1).await;
    let expired = part_url(&fake, "", &upload, 2).await;
    let r = put(&expired, vec![1]).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let text = r.text().await.unwrap();
    assert!(text.contains("AccessDenied") && text.contains("Request has expired"));
    put_part(&ok1, vec![1]).await;
    put_part(&part_url(&fake, "", &upload, 2).await, vec![2]).await;
    assert_eq!(fake.upload(&upload).unwrap().urls_issued.get(&2), Some(&2));
}

#[tokio::test]
async fn wrong_etag_once() {
    let (fake, _, upload) = fake_with_upload(FakeFanvue::builder()).await;
    fake.wrong_etag(1, 1);
    let url = part_url(&fake, "", &upload, 1).await;
    let data = bytes(50, 9);
    let md5 = format!("\"{}\"", md5_hex(&data));
    let first = put_part(&url, data.clone()).await;
    assert_ne!(first, md5);
    let (status, _) = complete(&fake, "", &upload, &[(1, first)]).await;
    assert_eq!(status, 400, "the wrong ETag does not complete");
    let second = put_part(&url, data).await;
    assert_eq!(second, md5);
    assert_eq!(complete(&fake, "", &upload, &[(1, second)]).await.0, 200);
}

#[tokio::test]
async fn bandwidth_cap_limits_throughput_and_concurrency_is_observed() {
    let (fake, _, upload) =
        fake_with_upload(FakeFanvue::builder().s3_bandwidth(8 * 1024 * 1024)).await;
    let data = bytes(2 * 1024 * 1024, 1);
    let url = part_url(&fake, "", &upload, 1).await;
    let t = Instant::now();
    put_part(&url, data.clone()).await;
    let one = t.elapsed();
    // 2 MiB at 8 MiB/s is 250 ms; allow generous slack above.
    assert!(one >= Duration::from_millis(240), "{one:?}");
    assert!(one < Duration::from_secs(5), "{one:?}");

    // The cap is per connection: three parallel PUTs are all in flight at once,
    // each paced by its own cap (wall-clock upper bounds are left out: they
    // fail on a loaded machine without saying anything about the cap).
    fake.reset_max_concurrent_part_puts();
    let urls = [
        part_url(&fake, "", &upload, 2).await,
        part_url(&fake, "", &upload, 3).await,
        part_url(&fake, "", &upload, 4).await,
    ];
    let t = Instant::now();
    let puts = urls.iter().map(|u| put_part(u, data.clone()));
    futures::future::join_all(puts).await;
    let three = t.elapsed();
    assert!(three >= Duration::from_millis(240), "{three:?}");
    assert!(fake.max_concurrent_part_puts() >= 2);

    fake.set_s3_bandwidth(None);
    put_part(&url, data).await;
}

#[tokio::test]
async fn raw_put_faults_and_bandwidth() {
    let fake = FakeFanvue::builder()
        .s3_bandwidth(4 * 1024 * 1024)
        .start()
        .await
        .unwrap();
    fake.inject(FaultTarget::S3Raw, Fault::Status(500), 1);
    let data = bytes(1024 * 1024, 4);
    let url = fake.raw_put_url("f");
    assert_eq!(
        put(&url, data.clone()).await.unwrap().status().as_u16(),
        500
    );
    let t = Instant::now();
    assert_eq!(put(&url, data).await.unwrap().status().as_u16(), 200);
    assert!(t.elapsed() >= Duration::from_millis(240));
    assert_eq!(fake.raw_object("f").unwrap().size, 1024 * 1024);
}

#[tokio::test]
async fn token_route_faults() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.fail_route(ApiRoute::Token, 503, 1);
    let send = || {
        client()
            .post(fake.token_url())
            .basic_auth(fake.client_id(), Some(fake.client_secret()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=refresh_token&refresh_token={}",
                fake.refresh_token()
            ))
            .send()
    };
    assert_eq!(send().await.unwrap().status().as_u16(), 503);
    assert_eq!(fake.token_refresh_count(), 0);
    assert_eq!(send().await.unwrap().status().as_u16(), 200);
    assert_eq!(fake.request_count(ApiRoute::Token), 2);
    assert!(!fake.token_leaked_outside_api());
}

#[tokio::test]
async fn a_cancelled_part_put_ends_on_the_server() {
    let (fake, _, upload) =
        fake_with_upload(FakeFanvue::builder().s3_bandwidth(16 * 1024 * 1024)).await;
    let url = part_url(&fake, "", &upload, 1).await;
    // A body that never ends (1 MiB, then nothing) under a 32 MiB Content-Length: it can never
    // arrive whole, whatever the connection task does with it after the abort.
    let task = tokio::spawn(async move {
        let first = futures::stream::once(async {
            Ok::<_, std::io::Error>(bytes::Bytes::from(bytes(1024 * 1024, 1)))
        });
        let body = first.chain(futures::stream::pending());
        client()
            .put(&url)
            .header("content-length", 32 * 1024 * 1024)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
    });
    let wait = Duration::from_secs(10);
    tokio::time::timeout(wait, fake.wait_until(|f| f.part_puts_in_flight() == 1))
        .await
        .expect("the PUT starts");
    task.abort();
    tokio::time::timeout(wait, fake.wait_until(|f| f.part_puts_in_flight() == 0))
        .await
        .expect("the server notices the cancelled PUT");
    let info = fake.upload(&upload).unwrap();
    assert_eq!(info.part_attempts.get(&1), Some(&1));
    assert!(info.stored_parts.is_empty());
}

#[tokio::test]
async fn opaque_etags_are_not_md5_but_complete() {
    let (fake, media, upload) = fake_with_upload(FakeFanvue::builder().opaque_etags(true)).await;
    let data = bytes(64, 1);
    let etag = put_part(&part_url(&fake, "", &upload, 1).await, data.clone()).await;
    assert_ne!(etag, format!("\"{}\"", md5_hex(&data)));
    // Looks like an MD5 (as under SSE-KMS / SSE-C) but is not one.
    let inner = etag.trim_matches('"');
    assert!(
        inner.len() == 32 && inner.bytes().all(|b| b.is_ascii_hexdigit()),
        "{etag}"
    );
    assert_eq!(complete(&fake, "", &upload, &[(1, etag)]).await.0, 200);
    assert_eq!(fake.assembled_sha256(media), Some(sha256_hex(&data)));
}

#[tokio::test]
async fn tokens_expire_mid_flow_on_demand() {
    let (fake, _, upload) = fake_with_upload(FakeFanvue::builder()).await;
    fake.inject_after(
        FaultTarget::Api(ApiRoute::PartUrl),
        1,
        Fault::ExpireAccessTokens,
        1,
    );
    part_url(&fake, "", &upload, 1).await;
    let path = format!("/media/uploads/{upload}/parts/2/url");
    assert_eq!(get_json(&fake, &path).await.0, 401);
    assert_eq!(get_json(&fake, "/users/me").await.0, 401, "stays expired");
}

fn content_md5(data: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}

#[tokio::test]
async fn content_md5_is_checked_like_s3() {
    let (fake, _, upload) = fake_with_upload(FakeFanvueBuilder::default()).await;
    let data = bytes(1000, 3);
    let url = part_url(&fake, "", &upload, 1).await;
    // A wrong digest: 400 BadDigest, nothing stored.
    let resp = client()
        .put(&url)
        .header("content-md5", content_md5(b"other bytes"))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("<Code>BadDigest</Code>")
    );
    assert!(fake.upload(&upload).unwrap().stored_parts.is_empty());
    // A malformed one: 400 InvalidDigest.
    let resp = client()
        .put(&url)
        .header("content-md5", "not base64!")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await.unwrap().contains("InvalidDigest"));
    // The right one: stored.
    let resp = client()
        .put(&url)
        .header("content-md5", content_md5(&data))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // A body corrupted in transit is refused when the digest is sent...
    fake.inject(FaultTarget::S3Part(Some(1)), Fault::CorruptBody, 2);
    let resp = client()
        .put(&url)
        .header("content-md5", content_md5(&data))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    // ...and stored corrupted when it is not.
    let etag = put_part(&url, data.clone()).await;
    assert_ne!(etag, format!("\"{}\"", md5_hex(&data)));
}

#[tokio::test]
async fn act_then_reset_creates_the_session_but_drops_the_answer() {
    let fake = FakeFanvue::builder().start().await.unwrap();
    fake.inject(
        FaultTarget::Api(ApiRoute::CreateUpload),
        Fault::ActThenReset,
        1,
    );
    let resp = authed(
        &fake,
        client().post(format!("{}/media/uploads", fake.api_url())),
    )
    .json(&serde_json::json!({"name": "clip", "filename": "clip.mp4", "mediaType": "video"}))
    .send()
    .await;
    assert!(resp.is_err(), "no answer: {resp:?}");
    assert_eq!(fake.uploads().len(), 1, "but the session exists");
}
