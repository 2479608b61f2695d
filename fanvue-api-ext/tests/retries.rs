//! Retries: 429 waits for Retry-After, 5xx backs off, POST only when opted in,
//! bounded attempts and total time, each retry traced.

mod support;

use std::time::{Duration, Instant};

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, RetryPolicy};
use serde_json::json;
use support::{Reply, Server, client_with, first_n};

fn user() -> serde_json::Value {
    support::fixtures::current_user()
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(3)
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
        .build()
}

/// `GET /users/me` through a client with [`fast_policy`].
async fn get_me(server: &Server) -> Result<(), Error> {
    client_with(server, fast_policy())
        .api()
        .get_current_user()
        .send()
        .await
        .map(drop)
}

#[tokio::test]
async fn retry_after_one_second_is_honoured() {
    let server = Server::start(first_n(
        1,
        Reply::json(429, json!({"error": "Too Many Requests"})).header("retry-after", "1"),
        Reply::json(200, user()),
    ))
    .await;
    let fanvue = client_with(&server, fast_policy());
    let started = Instant::now();
    fanvue.api().get_current_user().send().await.unwrap();
    let elapsed = started.elapsed();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_secs(1),
        "second request after {gap:?}"
    );
    assert!(elapsed >= Duration::from_secs(1));
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[tokio::test]
async fn rate_limit_reset_header_is_used_without_retry_after() {
    let server = Server::start(first_n(
        1,
        Reply::json(429, json!({})).header("x-ratelimit-reset", "1"),
        Reply::json(200, user()),
    ))
    .await;
    get_me(&server).await.unwrap();
    let requests = server.requests();
    assert!(requests[1].at - requests[0].at >= Duration::from_secs(1));
}

#[tokio::test]
async fn retry_after_beyond_max_elapsed_is_not_waited() {
    let server = Server::start(|_| Reply::json(429, json!({})).header("retry-after", "120")).await;
    let started = Instant::now();
    let err = get_me(&server).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(120))
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn gateway_errors_back_off_then_succeed() {
    for status in [502u16, 503, 504] {
        let server = Server::start(first_n(
            2,
            Reply::text(status, "busy"),
            Reply::json(200, user()),
        ))
        .await;
        get_me(&server).await.unwrap();
        assert_eq!(server.requests().len(), 3, "status {status}");
    }
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = Server::start(|_| Reply::text(503, "down")).await;
    let err = get_me(&server).await.unwrap_err();
    assert!(matches!(&err, Error::Server { status, .. } if status.as_u16() == 503));
    assert_eq!(server.requests().len(), 3);
    // 500 is not retried
    let server = Server::start(|_| Reply::text(500, "bug")).await;
    let _ = get_me(&server).await;
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn post_is_not_retried_unless_opted_in() {
    let session = || Reply::json(200, support::fixtures::upload_session());
    let body = |b: fanvue_api::types::builder::CreateUploadSessionBody| {
        b.name("clip")
            .filename("clip.mp4")
            .media_type(fanvue_api::enums::MediaType::Video)
    };
    // default policy: one attempt
    let server = Server::start(|_| Reply::text(503, "busy")).await;
    let err = client_with(&server, fast_policy())
        .api()
        .create_upload_session()
        .body_map(body)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { .. }));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.requests()[0].method, "POST");

    // opted in per call
    let server = Server::start(first_n(1, Reply::text(503, "busy"), session())).await;
    client_with(&server, fast_policy())
        .api()
        .create_upload_session()
        .body_map(body)
        .send()
        .retry_non_idempotent(true)
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "the same body is replayed"
    );

    // opted in by the policy
    let server = Server::start(first_n(1, Reply::text(503, "busy"), session())).await;
    client_with(
        &server,
        fast_policy()
            .to_builder()
            .retry_non_idempotent(true)
            .build(),
    )
    .api()
    .create_upload_session()
    .body_map(body)
    .send()
    .await
    .unwrap();
    assert_eq!(server.requests().len(), 2);

    // and a per-call opt-out beats the policy
    let server = Server::start(|_| Reply::text(503, "busy")).await;
    let _ = client_with(
        &server,
        fast_policy()
            .to_builder()
            .retry_non_idempotent(true)
            .build(),
    )
    .api()
    .create_upload_session()
    .body_map(body)
    .send()
    .retry_non_idempotent(false)
    .await;
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn timeouts_are_retried_for_get() {
    let server = Server::start(first_n(
        1,
        Reply::json(200, user()).delayed(Duration::from_millis(1500)),
        Reply::json(200, user()),
    ))
    .await;
    let fanvue = Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token("tok".to_string())
        .timeout(Duration::from_millis(300))
        .retry_policy(fast_policy())
        .build()
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(server.requests().len(), 2);
}
