//! The upload flow against the fake: sessions, presigned URLs on S3, completion rules, status progression,
//! the agency variant and storage modes.

mod common;

use common::*;
use fanvue_fake::{FakeFanvue, StorageMode, model::MediaStatus};

const MIN: u64 = 1024;

async fn small_fake() -> FakeFanvue {
    FakeFanvue::builder()
        .min_part_size(MIN)
        .processing_polls(2)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn whole_flow_assembles_parts_in_order_and_becomes_ready() {
    let fake = small_fake().await;
    let (media, upload) = create_upload(&fake, "").await;
    assert_eq!(fake.media_status(media), Some(MediaStatus::Created));
    let (_, created) = get_json(&fake, &format!("/media/{media}")).await;
    assert_eq!(created["status"], "created");

    let p1 = bytes(MIN as usize, 1);
    let p2 = bytes(MIN as usize + 10, 2);
    let p3 = bytes(7, 3);
    // Upload out of order: assembly must follow part numbers.
    let mut etags = Vec::new();
    for (n, p) in [(3u32, &p3), (1, &p1), (2, &p2)] {
        let url = part_url(&fake, "", &upload, n).await;
        let s3 = url::Url::parse(&url).unwrap();
        let api = url::Url::parse(fake.api_url()).unwrap();
        assert_ne!(
            s3.port(),
            api.port(),
            "presigned URL must not point at the API"
        );
        assert!(url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires="));
        let etag = put_part(&url, p.clone()).await;
        assert_eq!(etag, format!("\"{}\"", md5_hex(p)));
        etags.push((n, etag));
    }
    etags.sort();
    let (status, body) = complete(&fake, "", &upload, &etags).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "processing");

    let whole: Vec<u8> = [p1.clone(), p2.clone(), p3.clone()].concat();
    assert_eq!(fake.assembled_sha256(media), Some(sha256_hex(&whole)));
    assert_eq!(fake.assembled_size(media), Some(whole.len() as u64));
    assert_eq!(fake.assembled_bytes(media), Some(whole));

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (_, m) = get_json(&fake, &format!("/media/{media}?variants=main")).await;
        statuses.push(m["status"].as_str().unwrap().to_string());
        if m["status"] == "ready" {
            assert_eq!(m["variants"].as_array().unwrap().len(), 1);
            assert_eq!(m["name"], "clip");
            assert_eq!(m["mediaType"], "video");
        }
    }
    assert_eq!(statuses, ["processing", "processing", "ready"]);
    assert_eq!(fake.media_status(media), Some(MediaStatus::Ready));

    assert!(!fake.s3_saw_authorization());
    assert!(!fake.s3_saw_fanvue_header());
    assert!(!fake.token_leaked_outside_api());
    let info = fake.upload_for_media(media).unwrap();
    assert_eq!(info.upload_id, upload);
    assert_eq!(info.part_attempts.values().sum::<u32>(), 3);
    assert_eq!(info.creator, None);
}

#[tokio::test]
async fn the_s3_log_catches_a_leaked_token() {
    let fake = small_fake().await;
    let (_, upload) = create_upload(&fake, "").await;
    let url = part_url(&fake, "", &upload, 1).await;
    let resp = client()
        .put(&url)
        .bearer_auth(fake.access_token())
        .header("X-Fanvue-API-Version", fake.api_version())
        .body(vec![1u8; 4])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(fake.s3_saw_authorization());
    assert!(fake.s3_saw_fanvue_header());
    assert!(fake.token_leaked_outside_api());
    assert!(!format!("{:?}", fake.s3_requests()).contains(&fake.access_token()));
}

#[tokio::test]
async fn completion_rejects_bad_part_lists() {
    let fake = small_fake().await;
    let (media, upload) = create_upload(&fake, "").await;
    let small = bytes(10, 1);
    let big = bytes(MIN as usize, 2);
    let e1 = put_part(&part_url(&fake, "", &upload, 1).await, small.clone()).await;
    let e2 = put_part(&part_url(&fake, "", &upload, 2).await, big.clone()).await;
    let e3 = put_part(&part_url(&fake, "", &upload, 3).await, big.clone()).await;

    let cases: Vec<(&str, Vec<(u32, String)>)> = vec![
        (
            "wrong etag",
            vec![(1, "\"00000000000000000000000000000000\"".into())],
        ),
        ("gap", vec![(1, e1.clone()), (3, e3.clone())]),
        ("not from 1", vec![(2, e2.clone())]),
        ("descending", vec![(2, e2.clone()), (1, e1.clone())]),
        (
            "small non-last part",
            vec![(1, e1.clone()), (2, e2.clone())],
        ),
        (
            "never uploaded",
            vec![
                (1, e1.clone()),
                (2, e2.clone()),
                (3, e3.clone()),
                (4, e3.clone()),
            ],
        ),
        ("empty", vec![]),
    ];
    for (what, parts) in cases {
        let (status, body) = complete(&fake, "", &upload, &parts).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(!body["errors"].as_array().unwrap().is_empty(), "{what}");
    }
    assert_eq!(fake.media_status(media), Some(MediaStatus::Created));

    // Re-sending part 1 with a big body fixes the list; unquoted ETags are accepted too.
    let e1 = put_part(&part_url(&fake, "", &upload, 1).await, big.clone()).await;
    let unquoted = e1.trim_matches('"').to_string();
    let (status, body) = complete(&fake, "", &upload, &[(1, unquoted), (2, e2), (3, e3)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.part_put_counts(media).get(&1), Some(&2));
    let (status, _) = complete(&fake, "", &upload, &[(1, e1)]).await;
    assert_eq!(status, 400, "completing twice is rejected");
    let late = put(&part_url(&fake, "", &upload, 1).await, vec![1])
        .await
        .unwrap();
    assert_eq!(late.status().as_u16(), 404);
    assert!(late.text().await.unwrap().contains("NoSuchUpload"));
}

#[tokio::test]
async fn default_minimum_part_size_is_5_mib() {
    let fake = FakeFanvue::start().await.unwrap();
    let (_, upload) = create_upload(&fake, "").await;
    let almost = bytes(5 * 1024 * 1024 - 1, 1);
    let e1 = put_part(&part_url(&fake, "", &upload, 1).await, almost).await;
    let e2 = put_part(&part_url(&fake, "", &upload, 2).await, vec![1]).await;
    let (status, _) = complete(&fake, "", &upload, &[(1, e1), (2, e2.clone())]).await;
    assert_eq!(status, 400);
    let exact = bytes(5 * 1024 * 1024, 1);
    let e1 = put_part(&part_url(&fake, "", &upload, 1).await, exact).await;
    let (status, _) = complete(&fake, "", &upload, &[(1, e1), (2, e2)]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn create_and_part_url_validate_input() {
    let fake = small_fake().await;
    for body in [
        serde_json::json!({"name": "", "filename": "a.jpg", "mediaType": "image"}),
        serde_json::json!({"name": "a", "filename": "a.jpg", "mediaType": "gif"}),
        serde_json::json!({"name": "a", "mediaType": "image"}),
        serde_json::json!({"name": "a".repeat(256), "filename": "a.jpg", "mediaType": "image"}),
    ] {
        let resp = authed(
            &fake,
            client().post(format!("{}/media/uploads", fake.api_url())),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{body}");
    }
    let (_, upload) = create_upload(&fake, "").await;
    for part in ["0", "10001", "x"] {
        let (status, body) =
            get_json(&fake, &format!("/media/uploads/{upload}/parts/{part}/url")).await;
        assert_eq!(status, 400, "{part}");
        assert!(body["errors"].is_array());
    }
    let (status, _) = get_json(&fake, "/media/uploads/nope/parts/1/url").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn processing_can_fail() {
    let fake = FakeFanvue::builder()
        .min_part_size(MIN)
        .processing_polls(0)
        .processing_fails(true)
        .start()
        .await
        .unwrap();
    let (media, upload) = create_upload(&fake, "").await;
    let e = put_part(&part_url(&fake, "", &upload, 1).await, vec![9; 3]).await;
    complete(&fake, "", &upload, &[(1, e)]).await;
    let (_, m) = get_json(&fake, &format!("/media/{media}")).await;
    assert_eq!(m["status"], "error");
}

#[tokio::test]
async fn agency_uploads_record_the_creator() {
    let fake = small_fake().await;
    let creator = fake.creators()[1].user.uuid;
    let prefix = format!("/creators/{creator}");
    let (media, upload) = create_upload(&fake, &prefix).await;
    let data = bytes(100, 5);
    let e = put_part(&part_url(&fake, &prefix, &upload, 1).await, data.clone()).await;
    let (status, _) = complete(&fake, &prefix, &upload, &[(1, e)]).await;
    assert_eq!(status, 200);
    assert_eq!(fake.upload_for_media(media).unwrap().creator, Some(creator));
    assert_eq!(fake.assembled_sha256(media), Some(sha256_hex(&data)));

    // The creator's media is only reachable under the creator.
    let (status, _) = get_json(&fake, &format!("/media/{media}")).await;
    assert_eq!(status, 404);
    let mut last = serde_json::Value::Null;
    for _ in 0..3 {
        let (status, m) = get_json(&fake, &format!("{prefix}/media/{media}")).await;
        assert_eq!(status, 200);
        last = m;
    }
    assert_eq!(last["status"], "ready");
    let (_, list) = get_json(&fake, &format!("{prefix}/media")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    // Upload ids do not cross owners, and unknown creators are 404.
    let (status, _) = get_json(&fake, &format!("/media/uploads/{upload}/parts/1/url")).await;
    assert_eq!(status, 404);
    let other = uuid::Uuid::new_v4();
    let resp = authed(
        &fake,
        client().post(format!("{}/creators/{other}/media/uploads", fake.api_url())),
    )
    .json(&serde_json::json!({"name": "a", "filename": "a.jpg", "mediaType": "image"}))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test]
async fn hash_only_mode_keeps_sizes_and_part_hashes() {
    let fake = FakeFanvue::builder()
        .min_part_size(MIN)
        .storage(StorageMode::HashOnly)
        .start()
        .await
        .unwrap();
    let (media, upload) = create_upload(&fake, "").await;
    let p1 = bytes(MIN as usize, 1);
    let p2 = bytes(33, 2);
    let e1 = put_part(&part_url(&fake, "", &upload, 1).await, p1.clone()).await;
    let e2 = put_part(&part_url(&fake, "", &upload, 2).await, p2.clone()).await;
    assert_eq!(e1, format!("\"{}\"", md5_hex(&p1)));
    let (status, _) = complete(&fake, "", &upload, &[(1, e1), (2, e2)]).await;
    assert_eq!(status, 200);
    let a = fake.assembled(media).unwrap();
    assert_eq!(a.size, MIN + 33);
    assert_eq!(a.sha256, None);
    assert_eq!(a.part_sha256, vec![sha256_hex(&p1), sha256_hex(&p2)]);
    assert_eq!(fake.assembled_bytes(media), None);
}

#[tokio::test]
async fn s3_checks_signature_length_and_method() {
    let fake = small_fake().await;
    let (_, upload) = create_upload(&fake, "").await;
    let url = part_url(&fake, "", &upload, 1).await;

    let tampered = url.replace("/1?", "/2?");
    let resp = put(&tampered, vec![1]).await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("<Code>SignatureDoesNotMatch</Code>")
    );

    let unsigned = url.split('?').next().unwrap().to_string();
    let resp = put(&unsigned, vec![1]).await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert!(resp.text().await.unwrap().contains("AccessDenied"));

    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from_static(
        b"abc",
    ))]);
    let resp = client()
        .put(&url)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 411, "S3 needs a Content-Length");

    let resp = client().get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert!(fake.upload(&upload).unwrap().stored_parts.is_empty());
}

#[tokio::test]
async fn presigned_urls_expire_on_demand() {
    let fake = small_fake().await;
    let (_, upload) = create_upload(&fake, "").await;
    let old = part_url(&fake, "", &upload, 1).await;
    fake.expire_all_part_urls();
    let resp = put(&old, vec![1, 2]).await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let text = resp.text().await.unwrap();
    assert!(text.contains("<Code>AccessDenied</Code>") && text.contains("Request has expired"));
    let fresh = part_url(&fake, "", &upload, 1).await;
    put_part(&fresh, vec![1, 2]).await;
}

#[tokio::test]
async fn raw_put_hashes_the_body() {
    let fake = FakeFanvue::start().await.unwrap();
    let body = bytes(100_000, 7);
    let resp = put(&fake.raw_put_url("big.bin"), body.clone())
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["etag"].to_str().unwrap(),
        format!("\"{}\"", md5_hex(&body))
    );
    let obj = fake.raw_object("big.bin").unwrap();
    assert_eq!(obj.size, 100_000);
    assert_eq!(obj.sha256, sha256_hex(&body));
}
