//! Every response becomes a typed error with its status and raw body.

mod support;

use std::time::Duration;

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, RetryPolicy, TransportErrorKind};
use serde_json::json;
use support::{Reply, Server, client};

async fn error_for(reply: Reply) -> Error {
    let server = Server::start(move |_| reply.clone()).await;
    client(&server)
        .api()
        .get_current_user()
        .send()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn sunset_410_has_message_and_next_version() {
    let err = error_for(Reply::json(
        410,
        json!({"error": "Gone", "message": "Version 2025-06-26 is sunset", "nextVersion": "2026-03-01"}),
    ))
    .await;
    match &err {
        Error::VersionSunset {
            message,
            next_version,
            ..
        } => {
            assert_eq!(message.as_deref(), Some("Version 2025-06-26 is sunset"));
            assert_eq!(next_version.as_deref(), Some("2026-03-01"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.status().unwrap().as_u16(), 410);
    assert!(String::from_utf8_lossy(err.body().unwrap()).contains("2026-03-01"));
}

#[tokio::test]
async fn validation_400_lists_messages() {
    let err = error_for(Reply::json(
        400,
        json!({"errors": ["size must be ≤ 50", "page must be ≥ 1"]}),
    ))
    .await;
    match err {
        Error::Validation { messages, response } => {
            assert_eq!(messages, ["size must be ≤ 50", "page must be ≥ 1"]);
            assert_eq!(response.status().as_u16(), 400);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn unsupported_version_400() {
    let err = error_for(Reply::json(
        400,
        json!({"error": "API version not supported", "message": "Unsupported API version: 1999-01-01"}),
    ))
    .await;
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err:?}");
    // Another 400 that merely mentions a version is a validation error.
    let err = error_for(Reply::json(
        400,
        json!({"error": "Bad Request", "message": "Unsupported API version: 1999-01-01"}),
    ))
    .await;
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
}

#[tokio::test]
async fn auth_and_not_found_statuses() {
    assert!(matches!(
        error_for(Reply::json(401, json!({"error": "Unauthorized"}))).await,
        Error::Unauthorized { message: Some(m), .. } if m == "Unauthorized"
    ));
    assert!(matches!(
        error_for(Reply::json(403, json!({"error": "Forbidden"}))).await,
        Error::Forbidden { .. }
    ));
    assert!(matches!(
        error_for(Reply::json(404, json!({"message": "User not found"}))).await,
        Error::NotFound { message: Some(m), .. } if m == "User not found"
    ));
}

#[tokio::test]
async fn rate_limited_429_without_retries_keeps_headers() {
    let err = error_for(
        Reply::json(429, json!({"error": "Too Many Requests"}))
            .header("retry-after", "30")
            .header("x-ratelimit-limit", "100")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", "1900000000"),
    )
    .await;
    match err {
        Error::RateLimited {
            retry_after,
            limit,
            remaining,
            reset,
            ..
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(30)));
            assert_eq!(
                (limit, remaining, reset),
                (Some(100), Some(0), Some(1_900_000_000))
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_and_undocumented_statuses() {
    let err = error_for(Reply::text(500, "<html>oops</html>")).await;
    assert!(matches!(&err, Error::Server { status, .. } if status.as_u16() == 500));
    assert_eq!(err.body().unwrap().as_ref(), b"<html>oops</html>");
    let err = error_for(Reply::text(418, "teapot")).await;
    assert!(matches!(err, Error::UnexpectedStatus { .. }));
}

#[tokio::test]
async fn bad_success_body_is_a_decode_error_with_snippet() {
    let long = format!("{{\"not\": \"a user\", \"pad\": \"{}\"}}", "x".repeat(1000));
    let err = error_for(Reply::text(200, &long)).await;
    match &err {
        Error::Decode {
            status,
            snippet,
            body,
            ..
        } => {
            assert_eq!(status.as_u16(), 200);
            assert!(snippet.starts_with("{\"not\""));
            assert!(snippet.chars().count() <= fanvue_api_ext::error::SNIPPET_CHARS + 1);
            assert_eq!(body.len(), long.len());
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = error_for(Reply::text(200, "\u{0}\u{1}not json")).await;
    assert!(matches!(err, Error::Decode { .. }));
}

#[tokio::test]
async fn hostile_error_bodies_never_panic() {
    for body in [
        "",
        "null",
        "[]",
        "{\"errors\": {}}",
        "{\"message\": 12}",
        "\u{fffd}\u{fffd}",
    ] {
        for status in [400u16, 401, 404, 410, 429, 502] {
            let err = error_for(Reply::text(status, body)).await;
            assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{body}");
            let _ = err.to_string();
        }
    }
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let fanvue = Fanvue::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .allow_insecure_http(true)
        .access_token("tok".to_string())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.kind() == TransportErrorKind::Connect),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn timeout_is_a_transport_error() {
    let server =
        Server::start(|_| Reply::json(200, json!({})).delayed(Duration::from_millis(500))).await;
    let fanvue = Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token("tok".to_string())
        .timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.kind() == TransportErrorKind::Timeout),
        "{err:?}"
    );
}

#[tokio::test]
async fn errors_from_a_response_keep_its_request_id() {
    let with_id = |reply: Reply| reply.header("x-request-id", "req-abc123");
    let err = error_for(with_id(Reply::json(404, json!({"message": "nope"})))).await;
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(err.request_id(), Some("req-abc123"));
    assert_eq!(err.response().unwrap().request_id(), Some("req-abc123"));
    // A success body that does not decode.
    let err = error_for(with_id(Reply::json(200, json!({"unexpected": true})))).await;
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.request_id(), Some("req-abc123"));
    // No header, no id.
    let err = error_for(Reply::json(500, json!({}))).await;
    assert_eq!(err.request_id(), None);
}

#[tokio::test]
async fn a_body_that_fails_after_the_headers_keeps_the_request_id() {
    let user = json!({"uuid": "6f1d2a4e-0c3b-4d5e-8f7a-9b0c1d2e3f40"});
    let declared = user.to_string().len() + 64;
    let err = error_for(
        Reply::json(200, user)
            .header("x-request-id", "req-cut-1")
            .cut_short(declared),
    )
    .await;
    match &err {
        Error::Transport(e) => assert_eq!(e.request_id(), Some("req-cut-1")),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.request_id(), Some("req-cut-1"));
}

#[tokio::test]
async fn the_fakes_request_ids_reach_the_error() {
    let fake = fanvue_fake::FakeFanvue::start().await.unwrap();
    let err = Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token("not-the-token".to_string())
        .build()
        .unwrap()
        .api()
        .get_current_user()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(
        err.request_id().is_some_and(|id| id.starts_with("req-")),
        "{:?}",
        err.request_id()
    );
}
