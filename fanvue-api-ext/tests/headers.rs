//! Every request carries the version, user agent and token; the token goes nowhere else.

mod support;

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue};
use serde_json::json;
use support::{Reply, Server};

const TOKEN: &str = "tok-ABCDEF-0123456789";

fn user() -> serde_json::Value {
    support::fixtures::current_user()
}

fn client(server: &Server) -> Fanvue {
    Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token(TOKEN.to_string())
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_request_carries_version_user_agent_and_token() {
    let server = Server::start(|_| Reply::json(200, user())).await;
    let fanvue = client(&server);
    fanvue.api().get_current_user().send().await.unwrap();
    // through the builder's own send() too
    fanvue.api().get_current_user().send().await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for request in requests {
        assert_eq!(
            request.header("x-fanvue-api-version"),
            Some(fanvue_api::API_VERSION)
        );
        assert_eq!(
            request.header("user-agent"),
            Some(concat!("fanvue-rust/", env!("CARGO_PKG_VERSION")))
        );
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
}

#[tokio::test]
async fn version_and_user_agent_are_configurable() {
    let server = Server::start(|_| Reply::json(200, user())).await;
    let fanvue = Fanvue::builder()
        .base_url(format!("{}/", server.url()))
        .allow_insecure_http(true)
        .access_token(TOKEN.to_string())
        .api_version("2030-01-01")
        .user_agent("my-app/1.0")
        .build()
        .unwrap();
    assert_eq!(fanvue.api_version(), "2030-01-01");
    fanvue.api().get_current_user().send().await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.path(), "/users/me");
    assert_eq!(request.header("x-fanvue-api-version"), Some("2030-01-01"));
    assert_eq!(request.header("user-agent"), Some("my-app/1.0"));
}

#[tokio::test]
async fn caller_supplied_http_client_still_gets_headers() {
    let server = Server::start(|_| Reply::json(200, user())).await;
    let fanvue = Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token(TOKEN.to_string())
        .http_client(support::plain_http_client())
        .build()
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(
        request.header("x-fanvue-api-version"),
        Some(fanvue_api::API_VERSION)
    );
    assert!(request.header("authorization").is_some());
}

#[tokio::test]
async fn authorization_is_not_sent_to_another_host() {
    let other = Server::start(|_| Reply::json(200, user())).await;
    let other_url = other.url();
    let api = Server::start(move |_| {
        Reply::text(302, "").header("location", &format!("{other_url}/users/me"))
    })
    .await;
    let fanvue = client(&api);
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedStatus { status, .. } if status.as_u16() == 302),
        "{err:?}"
    );
    assert_eq!(api.requests().len(), 1);
    assert!(other.requests().is_empty(), "the redirect was not followed");
}

#[tokio::test]
async fn token_never_in_debug_or_display() {
    let server = Server::start(|_| Reply::json(401, json!({"error": "Unauthorized"}))).await;
    let fanvue = client(&server);
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }));
    let builder = Fanvue::builder().access_token(TOKEN.to_string());
    let credentials =
        fanvue_api_ext::auth::OAuthCredentials::new("id", TOKEN.to_string(), TOKEN.to_string())
            .with_access_token(TOKEN.to_string(), None);
    for text in [
        format!("{fanvue:?}"),
        format!("{builder:?}"),
        format!("{credentials:?}"),
        format!("{err:?}"),
        err.to_string(),
        format!("{:?}", fanvue.api()),
    ] {
        assert!(!text.contains(TOKEN), "token leaked in {text}");
    }
    // and the request did carry it
    assert!(
        server.requests()[0]
            .header("authorization")
            .unwrap()
            .contains(TOKEN)
    );
}
