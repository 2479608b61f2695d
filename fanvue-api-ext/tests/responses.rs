//! Responses (issue #10, items 4-6): answers from another origin are refused
//! (also through a user-supplied client that follows redirects), bodies are
//! bounded, and a body cut short is retried for idempotent requests.

mod support;

use std::time::Duration;

use fanvue_api_ext::error::TransportErrorKind;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, RetryPolicy};
use support::{Reply, Server, first_n};

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

fn builder(server: &Server) -> fanvue_api_ext::FanvueBuilder {
    Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token("tok".to_string())
        .retry_policy(fast_policy())
}

/// The one GET these tests make (the call site to adapt if the call path changes).
async fn me(fanvue: &Fanvue) -> Result<(), Error> {
    fanvue.api().get_current_user().send().await.map(drop)
}

// Item 4 -------------------------------------------------------------------

#[tokio::test]
async fn an_off_origin_redirect_is_refused_even_with_a_user_client() {
    let other =
        Server::start(|_| Reply::json(200, user()).header("x-request-id", "other-req-1")).await;
    let location = format!("{}/users/me", other.url());
    let api = Server::start(move |_| Reply::text(307, "").header("location", &location)).await;

    // a user-supplied client follows the redirect: its answer is not the API's
    let fanvue = builder(&api)
        .http_client(support::plain_http_client())
        .build()
        .unwrap();
    let err = me(&fanvue).await.unwrap_err();
    match &err {
        Error::OffOrigin { status, origin, .. } => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(origin, &other.url());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.request_id(), Some("other-req-1"));
    assert!(!err.is_retryable());
    assert_eq!(api.requests().len(), 1, "not retried");
    // the token never went there (reqwest drops it on a cross-host redirect)
    assert!(
        other
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );

    // this crate's own client does not follow it at all
    let other_hits = other.requests().len();
    let err = me(&builder(&api).build().unwrap()).await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedStatus { status, .. } if status.as_u16() == 307),
        "{err:?}"
    );
    assert_eq!(
        other.requests().len(),
        other_hits,
        "nothing reached the other host"
    );
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_by_a_user_client() {
    let api = Server::start(|r| {
        if r.path() == "/users/me" {
            Reply::text(307, "").header("location", "/users/me-moved")
        } else {
            Reply::json(200, user())
        }
    })
    .await;
    let fanvue = builder(&api)
        .http_client(support::plain_http_client())
        .build()
        .unwrap();
    me(&fanvue).await.unwrap();
    assert_eq!(api.requests().len(), 2);
}

// Item 5 -------------------------------------------------------------------

#[tokio::test]
async fn a_success_body_over_the_cap_is_a_typed_error() {
    let cap = 64 * 1024;
    let huge = format!("{{\"handle\": \"{}\"}}", "x".repeat(4 * 1024 * 1024));
    // declared up front (refused before reading) and close-delimited (refused while reading)
    for reply in [
        Reply::text(200, &huge),
        Reply::text(200, &huge).close_delimited(),
    ] {
        let api = Server::start(move |_| reply.clone()).await;
        let fanvue = builder(&api).max_response_body(cap).build().unwrap();
        let err = me(&fanvue).await.unwrap_err();
        assert!(
            matches!(err, Error::ResponseTooLarge { status, limit, .. } if status.as_u16() == 200 && limit == cap),
            "{err:?}"
        );
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
        assert_eq!(api.requests().len(), 1, "not retried");
    }
    // within the cap, the same client decodes normally
    let api = Server::start(|_| Reply::json(200, user())).await;
    me(&builder(&api).max_response_body(cap).build().unwrap())
        .await
        .unwrap();
    assert_eq!(
        fanvue_api_ext::client::DEFAULT_MAX_RESPONSE_BODY,
        16 * 1024 * 1024
    );
}

#[tokio::test]
async fn an_error_body_is_kept_to_a_64_kib_snippet() {
    let page = "<html>".to_owned() + &"e".repeat(1024 * 1024);
    for reply in [
        Reply::text(500, &page),
        Reply::text(418, &page).close_delimited(),
    ] {
        let status = reply.status;
        let api = Server::start(move |_| reply.clone()).await;
        let fanvue = builder(&api)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = me(&fanvue).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err:?}");
        let body = err.body().expect("the snippet is kept");
        assert_eq!(body.len(), fanvue_api_ext::client::MAX_ERROR_BODY);
        assert!(body.starts_with(b"<html>eee"));
    }
}

// Item 6 -------------------------------------------------------------------

#[tokio::test]
async fn a_get_whose_body_is_cut_short_is_retried() {
    let full = user().to_string();
    let cut = full[..full.len() / 2].to_owned();
    let api = Server::start(first_n(
        1,
        Reply::text(200, &cut).cut_short(full.len()),
        Reply::json(200, user()),
    ))
    .await;
    let fanvue = builder(&api).build().unwrap();
    me(&fanvue).await.unwrap();
    assert_eq!(api.requests().len(), 2);
}

#[tokio::test]
async fn a_cut_short_body_is_a_reset_when_not_retried() {
    let full = user().to_string();
    let cut = full[..10].to_owned();
    // a GET out of attempts, and a POST (not idempotent): one typed transport error each
    let api = Server::start(move |_| Reply::text(200, &cut).cut_short(full.len())).await;
    let fanvue = builder(&api).build().unwrap();
    let err = me(&fanvue).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.kind() == TransportErrorKind::Reset),
        "{err:?}"
    );
    assert_eq!(api.requests().len(), 3, "every attempt was used");

    let session = support::fixtures::upload_session().to_string();
    let cut = session[..10].to_owned();
    let api = Server::start(move |_| Reply::text(200, &cut).cut_short(session.len())).await;
    let err = builder(&api)
        .build()
        .unwrap()
        .api()
        .create_upload_session()
        .body_map(|b| {
            b.name("clip")
                .filename("clip.mp4")
                .media_type(fanvue_api::enums::MediaType::Video)
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(e) if e.kind() == TransportErrorKind::Reset),
        "{err:?}"
    );
    assert_eq!(api.requests().len(), 1, "a POST is not replayed");
}
