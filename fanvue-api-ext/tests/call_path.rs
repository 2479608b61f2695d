//! The one call path: `send()` reports the real cause as its `Error` variant,
//! `.with_response()` keeps the response's metadata, and the client-wide
//! retry quota bounds the requests a failing service sees (API and upload
//! parts alike); an upload's part-URL request has one retry layer.

mod support;
mod upload_common;

use std::time::Duration;

use fanvue_api::operation::Operation as _;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::upload::{PartRetryPolicy, UploadError};
use fanvue_api_ext::{Error, RetryPolicy};
use fanvue_fake::{ApiRoute, Fault, FaultTarget};
use serde_json::json;
use support::{Reply, Server, client, client_with, fixtures};

#[tokio::test]
async fn a_url_off_the_api_origin_is_invalid_input_and_nothing_is_sent() {
    let api = Server::start(|_| Reply::json(200, fixtures::current_user())).await;
    let other = Server::start(|_| Reply::json(200, fixtures::current_user())).await;
    let fanvue = client(&api);
    // A generated client pointed elsewhere but carrying this client's executor
    // (and so its credentials) and HTTP client (`Client::new` would build a
    // reqwest client of its own, which needs a process-wide rustls provider).
    use fanvue_api::ClientInfo as _;
    let elsewhere = fanvue_api::Client::new_with_client(
        &other.url(),
        fanvue.api().client().clone(),
        fanvue.api().inner().clone(),
    );
    let err = elsewhere.get_current_user().send().await.unwrap_err();
    match &err {
        Error::InvalidInput { what, reason } => {
            assert_eq!(what, "request URL");
            assert!(reason.contains("origin"), "{reason}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(
        other.requests().is_empty(),
        "nothing reached the other host"
    );
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn validation_names_the_parameter_and_bound_and_the_raw_seam_keeps_the_cause() {
    let server = Server::start(|_| Reply::text(200, "https://s3.test/p")).await;
    let fanvue = client(&server);
    let request = || {
        fanvue
            .api()
            .get_upload_part_url()
            .upload_id("up-1")
            .part_number(10_001)
    };
    let Err(err) = request().send().await else {
        panic!("a part number above 10000 is refused");
    };
    match err {
        Error::InvalidInput { what, reason } => {
            assert_eq!(what, "path parameter partNumber");
            assert!(reason.contains("10000"), "names the bound: {reason}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    // The generated client's raw seam cannot carry our error type, but its
    // error's source chain names the same cause (no bare "builder error").
    let Err(raw) = request().send_request().await else {
        panic!("refused on the raw seam too");
    };
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(&raw);
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    assert!(
        chain.iter().any(|c| c.contains("partNumber")),
        "cause in the chain: {chain:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn with_response_keeps_status_and_headers() {
    let server = Server::start(|_| {
        Reply::json(200, fixtures::current_user())
            .header("x-ratelimit-remaining", "41")
            .header("x-request-id", "req-7")
    })
    .await;
    let fanvue = client(&server);
    let response = fanvue
        .api()
        .get_current_user()
        .send()
        .with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-ratelimit-remaining"], "41");
    assert_eq!(response.headers()["x-request-id"], "req-7");
    let plain = fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(response.value(), &plain);
    let (status, headers, value) = response.into_parts();
    assert_eq!((status.as_u16(), headers.len() >= 2), (200, true));
    assert_eq!(value, plain);
}

#[tokio::test]
async fn with_response_and_retry_non_idempotent_combine() {
    let server = Server::start(support::first_n(
        1,
        Reply::text(503, "busy"),
        Reply::json(200, fixtures::upload_session()).header("x-request-id", "r2"),
    ))
    .await;
    let policy = RetryPolicy::builder()
        .base_delay(Duration::from_millis(1))
        .build();
    let response = client_with(&server, policy)
        .api()
        .create_upload_session()
        .body_map(|b| {
            b.name("n")
                .filename("f.jpg")
                .media_type(fanvue_api::types::MediaType::Image)
        })
        .send()
        .with_response()
        .retry_non_idempotent(true)
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "r2");
    assert_eq!(server.requests().len(), 2);
}

/// `calls` sequential `GET /users/me` against an always-503 server with 4
/// attempts per call; the number of requests the server saw.
async fn requests_seen(quota: Option<u32>, calls: usize) -> usize {
    let server = Server::start(|_| Reply::json(503, json!({"error": "down"}))).await;
    let policy = RetryPolicy::builder()
        .max_attempts(4)
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(2))
        .retry_quota(quota)
        .build();
    let fanvue = client_with(&server, policy);
    for _ in 0..calls {
        let err = fanvue.api().get_current_user().send().await.unwrap_err();
        assert!(matches!(err, Error::Server { .. }), "{err:?}");
    }
    server.requests().len()
}

#[tokio::test]
async fn the_retry_quota_bounds_requests_to_a_failing_api() {
    let unlimited = requests_seen(None, 10).await;
    assert_eq!(unlimited, 40, "4 attempts for each of 10 calls");
    // 20 tokens pay for 4 retries (5 each): 3 for the first call, 1 for the
    // second, none after: 4 + 2 + 8 requests.
    let bounded = requests_seen(Some(20), 10).await;
    assert_eq!(bounded, 14);
    assert!(bounded < unlimited);
}

/// A client for `fake` whose retry quota holds 5 tokens: one retry in the whole client.
fn one_retry_client(fake: &fanvue_fake::FakeFanvue) -> fanvue_api_ext::Fanvue {
    fanvue_api_ext::Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .retry_policy(RetryPolicy::builder().retry_quota(Some(5)).build())
        .build()
        .unwrap()
}

/// Uploads through `fanvue` while every part URL request answers 503 (the part policy allows 3
/// attempts): the upload fails on part 1's URL; the URL requests the fake saw.
async fn part_url_requests_of_a_failing_upload(
    fake: &fanvue_fake::FakeFanvue,
    fanvue: &fanvue_api_ext::Fanvue,
) -> usize {
    fake.inject(FaultTarget::Api(ApiRoute::PartUrl), Fault::Status(503), 100);
    let err = fanvue
        .media()
        .upload(vec![7u8; 1000])
        .filename("a.jpg")
        .part_retry(
            PartRetryPolicy::default()
                .with_max_attempts(3)
                .with_delays(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, UploadError::PartUrl { part: 1, .. }),
        "{err:?}"
    );
    fake.api_requests()
        .iter()
        .filter(|r| r.path.contains("/parts/"))
        .count()
}

#[tokio::test]
async fn upload_parts_draw_from_the_same_quota() {
    let fake = upload_common::fake().await;
    let fanvue = one_retry_client(&fake);
    fake.fail_part(1, 500, 2);
    let err = upload_common::quick(fanvue.media().upload(vec![7u8; 1000]))
        .filename("a.jpg")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, UploadError::PartUpload { part: 1, .. }),
        "{err:?}"
    );
    // The first failure was retried (the quota paid 5), the second was not.
    let puts = fake.requests().iter().filter(|r| r.method == "PUT").count();
    assert_eq!(puts, 2);
}

#[tokio::test]
async fn part_url_requests_draw_from_the_same_quota() {
    let fake = upload_common::fake().await;
    let url_requests = part_url_requests_of_a_failing_upload(&fake, &one_retry_client(&fake)).await;
    assert_eq!(
        url_requests, 2,
        "the first request and the one retry the quota paid for (the part policy allows 3)"
    );
}

#[tokio::test]
async fn a_part_url_request_has_one_retry_layer() {
    let fake = upload_common::fake().await;
    let url_requests =
        part_url_requests_of_a_failing_upload(&fake, &upload_common::client(&fake)).await;
    // The part's 3 attempts, each one request (the executor's 4 attempts per
    // request would make it 12).
    assert_eq!(url_requests, 3);
}
