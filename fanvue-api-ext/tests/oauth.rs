//! OAuth: refresh before expiry and once after a 401, one refresh for
//! concurrent requests, rotated refresh tokens handed back, PKCE code exchange.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use fanvue_api_ext::auth::{AuthError, OAuthClient, OAuthCredentials, Scope};
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, RetryPolicy};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::{Recorded, Reply, Server};

const CLIENT_ID: &str = "app-client";
const CLIENT_SECRET: &str = "app-secret-XYZ";

fn user() -> serde_json::Value {
    support::fixtures::current_user()
}

fn form(request: &Recorded) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

/// A token endpoint issuing `at-N` / `rt-N` on the N-th refresh (1-based), 1 h lifetime.
async fn token_server(delay: Duration) -> Server {
    let count = AtomicUsize::new(0);
    Server::start(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        Reply::json(
            200,
            json!({"access_token": format!("at-{n}"), "refresh_token": format!("rt-{n}"),
                   "expires_in": 3600, "token_type": "bearer", "scope": "read:self offline_access"}),
        )
        .delayed(delay)
    })
    .await
}

/// An API accepting only `Bearer <valid>`.
async fn api_server(valid: &'static str) -> Server {
    Server::start(move |r| {
        if r.header("authorization") == Some(&format!("Bearer {valid}")) {
            Reply::json(200, user())
        } else {
            Reply::json(401, json!({"error": "Unauthorized"}))
        }
    })
    .await
}

fn client(api: &Server, auth: &Server, credentials: OAuthCredentials) -> Fanvue {
    Fanvue::builder()
        .base_url(api.url())
        .token_url(format!("{}/oauth2/token", auth.url()))
        .allow_insecure_http(true)
        .oauth(credentials)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn expired(refresh: &str) -> OAuthCredentials {
    OAuthCredentials::new(CLIENT_ID, CLIENT_SECRET.to_string(), refresh.to_string())
        .with_access_token(
            "at-old".to_string(),
            Some(SystemTime::now() - Duration::from_secs(5)),
        )
}

#[tokio::test]
async fn concurrent_requests_on_an_expired_token_share_one_refresh() {
    let auth = token_server(Duration::from_millis(100)).await;
    let api = api_server("at-1").await;
    let rotated = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = rotated.clone();
    let fanvue = Fanvue::builder()
        .base_url(api.url())
        .token_url(format!("{}/oauth2/token", auth.url()))
        .allow_insecure_http(true)
        .oauth(expired("rt-0"))
        .on_refresh_token_rotated(move |token: SecretString| {
            seen.lock().unwrap().push(token.expose_secret().to_owned())
        })
        .build()
        .unwrap();
    let (a, b) = tokio::join!(
        fanvue.api().get_current_user().send(),
        fanvue.api().get_current_user().send()
    );
    a.unwrap();
    b.unwrap();
    // and on a multi-request burst from spawned tasks, still no more refreshes
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let fanvue = fanvue.clone();
            tokio::spawn(async move { fanvue.api().get_current_user().send().await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let refreshes = auth.requests();
    assert_eq!(refreshes.len(), 1, "exactly one refresh");
    let refresh = &refreshes[0];
    assert_eq!(refresh.method, "POST");
    assert_eq!(refresh.path(), "/oauth2/token");
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    assert_eq!(
        refresh.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    let form = form(refresh);
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "rt-0");
    assert_eq!(api.requests().len(), 6);
    assert!(
        api.requests()
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer at-1"))
    );
    assert_eq!(*rotated.lock().unwrap(), ["rt-1"]);
}

#[tokio::test]
async fn unauthorized_refreshes_once_and_replays() {
    let auth = token_server(Duration::ZERO).await;
    let api = api_server("at-1").await;
    // a token with unknown expiry: used until the API rejects it
    let credentials =
        OAuthCredentials::new(CLIENT_ID, CLIENT_SECRET.to_string(), "rt-0".to_string())
            .with_access_token("at-revoked".to_string(), None);
    let fanvue = client(&api, &auth, credentials);
    fanvue.api().get_current_user().send().await.unwrap();
    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer at-revoked")
    );
    assert_eq!(requests[1].header("authorization"), Some("Bearer at-1"));
    assert_eq!(auth.requests().len(), 1);
    // the next request uses the refreshed token directly
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(api.requests().len(), 3);
    assert_eq!(auth.requests().len(), 1);
}

#[tokio::test]
async fn a_second_401_is_returned_after_one_refresh() {
    let auth = token_server(Duration::ZERO).await;
    let api = api_server("never-valid").await;
    let fanvue = client(&api, &auth, expired("rt-0"));
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    // refresh (expired) -> 401 -> refresh -> 401: two API requests, two refreshes, no loop
    assert_eq!(api.requests().len(), 2);
    assert_eq!(auth.requests().len(), 2);
    // the rotated refresh token was used for the second refresh
    assert_eq!(form(&auth.requests()[1])["refresh_token"], "rt-1");
}

#[tokio::test]
async fn token_endpoint_failure_is_an_auth_error_and_no_api_request() {
    let auth = Server::start(|_| {
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "refresh token revoked"}),
        )
        .header("x-request-id", "auth-req-7")
    })
    .await;
    let api = api_server("at-1").await;
    let fanvue = client(&api, &auth, expired("rt-0"));
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    // the token endpoint's id of the request, to quote when reporting it
    assert_eq!(err.request_id(), Some("auth-req-7"));
    match &err {
        Error::Auth(AuthError::Rejected {
            status,
            error,
            description,
            ..
        }) => {
            assert_eq!(status.as_u16(), 400);
            assert_eq!(error.as_deref(), Some("invalid_grant"));
            assert_eq!(description.as_deref(), Some("refresh token revoked"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.to_string().contains("rt-0"));
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn secrets_only_go_where_they_belong() {
    let auth = token_server(Duration::ZERO).await;
    let api = api_server("at-1").await;
    let fanvue = client(&api, &auth, expired("rt-0"));
    fanvue.api().get_current_user().send().await.unwrap();
    for request in api.requests() {
        let dump = format!("{request:?}");
        assert!(!dump.contains("rt-0") && !dump.contains(CLIENT_SECRET) && !dump.contains("Basic"));
    }
    for request in auth.requests() {
        let dump = format!("{request:?}");
        assert!(!dump.contains("at-old") && !dump.contains("Bearer"));
        assert!(request.header("x-fanvue-api-version").is_none());
    }
}

#[tokio::test]
async fn refreshes_ahead_of_expiry() {
    let auth = token_server(Duration::ZERO).await;
    let api = api_server("at-1").await;
    // still valid for 30 s, but inside the refresh margin
    let credentials =
        OAuthCredentials::new(CLIENT_ID, CLIENT_SECRET.to_string(), "rt-0".to_string())
            .with_access_token(
                "at-old".to_string(),
                Some(SystemTime::now() + Duration::from_secs(30)),
            );
    let fanvue = client(&api, &auth, credentials);
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(auth.requests().len(), 1);
    assert_eq!(
        api.requests().len(),
        1,
        "refreshed before sending, no 401 round trip"
    );
    assert_eq!(
        api.requests()[0].header("authorization"),
        Some("Bearer at-1")
    );

    // valid for an hour: used as is
    let auth = token_server(Duration::ZERO).await;
    let api = api_server("at-fresh").await;
    let credentials =
        OAuthCredentials::new(CLIENT_ID, CLIENT_SECRET.to_string(), "rt-0".to_string())
            .with_access_token(
                "at-fresh".to_string(),
                Some(SystemTime::now() + Duration::from_secs(3600)),
            );
    client(&api, &auth, credentials)
        .api()
        .get_current_user()
        .send()
        .await
        .unwrap();
    assert!(auth.requests().is_empty());
}

#[tokio::test]
async fn pkce_code_exchange() {
    let auth = token_server(Duration::ZERO).await;
    let oauth = OAuthClient::new(CLIENT_ID, CLIENT_SECRET.to_string())
        .with_token_url(&format!("{}/oauth2/token", auth.url()), true)
        .unwrap();
    let authorization = oauth
        .authorization_request("http://127.0.0.1/callback")
        .scopes([
            Scope::OpenId,
            Scope::OfflineAccess,
            Scope::ReadSelf,
            Scope::WriteMedia,
        ])
        .build();
    assert!(authorization.url.as_str().starts_with(
        "https://auth.fanvue.com/oauth2/auth?response_type=code&client_id=app-client"
    ));
    let tokens = oauth
        .exchange_code("code-123", &authorization.verifier)
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "at-1");
    assert_eq!(
        tokens.refresh_token.as_ref().unwrap().expose_secret(),
        "rt-1"
    );
    assert_eq!(tokens.expires_in, Some(Duration::from_secs(3600)));
    assert_eq!(tokens.scopes, [Scope::ReadSelf, Scope::OfflineAccess]);
    assert!(!format!("{tokens:?}").contains("at-1"));
    let request = &auth.requests()[0];
    let form = form(request);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "code-123");
    assert_eq!(form["redirect_uri"], "http://127.0.0.1/callback");
    assert_eq!(
        form["code_verifier"],
        authorization.verifier.secret().expose_secret()
    );
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    let credentials = tokens
        .into_credentials(CLIENT_ID, CLIENT_SECRET.to_string())
        .unwrap();
    assert!(credentials.access_token_expires_at.is_some());
}

#[tokio::test]
async fn malformed_token_responses_are_errors() {
    for body in [
        "",
        "{}",
        "{\"access_token\": 5}",
        "{\"access_token\": \"\"}",
        "not json",
    ] {
        let auth = Server::start(move |_| Reply::text(200, body)).await;
        let oauth = OAuthClient::new(CLIENT_ID, CLIENT_SECRET.to_string())
            .with_token_url(&auth.url(), true)
            .unwrap();
        let err = oauth.refresh(&SecretString::from("rt")).await.unwrap_err();
        assert!(
            matches!(err, AuthError::InvalidResponse { .. }),
            "{body}: {err:?}"
        );
    }
}
