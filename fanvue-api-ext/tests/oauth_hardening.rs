//! OAuth hardening (issue #10, items 1-3): a refresh survives the cancellation
//! of every caller, the token endpoint times out and never follows redirects,
//! and no token response (whatever its `expires_in`) makes the client panic.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fanvue_api_ext::auth::{AuthError, OAuthClient, OAuthCredentials};
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, RetryPolicy};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use support::{Recorded, Reply, Server};
use tokio::sync::{Notify, mpsc};

const CLIENT_ID: &str = "app-client";
const CLIENT_SECRET: &str = "app-secret-XYZ";
/// Generous bound for anything that should happen "now" on loopback.
const SOON: Duration = Duration::from_secs(10);

/// The one API call these tests make (the call site to adapt if the call path changes).
async fn me(fanvue: &Fanvue) -> Result<(), Error> {
    fanvue.api().get_current_user().send().await.map(drop)
}

/// An API accepting only `Bearer <valid>`.
async fn api_server(valid: &'static str) -> Server {
    Server::start(move |r| {
        if r.header("authorization") == Some(&format!("Bearer {valid}")) {
            Reply::json(200, support::fixtures::current_user())
        } else {
            Reply::json(401, json!({"error": "Unauthorized"}))
        }
    })
    .await
}

fn expired(refresh: &str) -> OAuthCredentials {
    OAuthCredentials::new(CLIENT_ID, CLIENT_SECRET.to_string(), refresh.to_string())
        .with_access_token(
            "at-old".to_string(),
            Some(SystemTime::now() - Duration::from_secs(5)),
        )
}

fn builder(
    api: &Server,
    auth: &Server,
    credentials: OAuthCredentials,
) -> fanvue_api_ext::FanvueBuilder {
    Fanvue::builder()
        .base_url(api.url())
        .token_url(format!("{}/oauth2/token", auth.url()))
        .allow_insecure_http(true)
        .oauth(credentials)
        .retry_policy(RetryPolicy::none())
}

fn form(request: &Recorded) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

// Item 1 -------------------------------------------------------------------

#[tokio::test]
async fn refresh_completes_and_persists_when_its_only_caller_is_cancelled() {
    // The token endpoint signals each request's arrival and answers only when released.
    let release = Arc::new(Notify::new());
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel();
    let count = AtomicUsize::new(0);
    let gate = release.clone();
    let auth = Server::start(move |_| {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = arrived_tx.send(n);
        Reply::json(
            200,
            json!({"access_token": format!("at-{n}"), "refresh_token": format!("rt-{n}"),
                   "expires_in": 3600, "token_type": "bearer"}),
        )
        .gated(gate.clone())
    })
    .await;
    let api = api_server("at-1").await;
    let rotated = Arc::new(Mutex::new(Vec::<String>::new()));
    let rotated_signal = Arc::new(Notify::new());
    let (seen, signal) = (rotated.clone(), rotated_signal.clone());
    let fanvue = builder(&api, &auth, expired("rt-0"))
        .on_refresh_token_rotated(move |token: SecretString| {
            seen.lock().unwrap().push(token.expose_secret().to_owned());
            signal.notify_one();
        })
        .build()
        .unwrap();

    // The only caller starts the refresh, then is cancelled while the token endpoint holds it.
    let caller = {
        let fanvue = fanvue.clone();
        tokio::spawn(async move { me(&fanvue).await })
    };
    assert_eq!(arrived.recv().await, Some(1));
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());

    // Fanvue rotates the token: the refresh still completes and hands it over.
    release.notify_one();
    tokio::time::timeout(SOON, rotated_signal.notified())
        .await
        .expect("the rotated refresh token reached the callback");
    assert_eq!(*rotated.lock().unwrap(), ["rt-1"]);

    // The next call uses the new access token, without refreshing again.
    me(&fanvue).await.unwrap();
    assert_eq!(auth.requests().len(), 1, "one refresh in all");
    assert_eq!(form(&auth.requests()[0])["refresh_token"], "rt-0");
    let calls = api.requests();
    assert_eq!(calls.len(), 1, "the cancelled caller sent no API request");
    assert_eq!(calls[0].header("authorization"), Some("Bearer at-1"));
}

// Item 2 -------------------------------------------------------------------

/// A token endpoint that accepts requests and never answers.
async fn stalled_endpoint() -> Server {
    let never = Arc::new(Notify::new());
    Server::start(move |_| Reply::json(200, json!({})).gated(never.clone())).await
}

#[tokio::test]
async fn a_stalled_token_endpoint_times_out_within_the_bound() {
    let auth = stalled_endpoint().await;
    let bound = Duration::from_millis(200);
    let oauth = OAuthClient::new(CLIENT_ID, CLIENT_SECRET.to_string())
        .with_token_url(&format!("{}/oauth2/token", auth.url()), true)
        .unwrap()
        .with_timeouts(bound, Duration::from_secs(1))
        .unwrap();
    let started = Instant::now();
    let err = tokio::time::timeout(SOON, oauth.refresh(&SecretString::from("rt-0")))
        .await
        .expect("the refresh ends on its own")
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, AuthError::Timeout { after } if after == bound),
        "{err:?}"
    );
    assert!(
        elapsed >= bound && elapsed < bound + Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert!(!err.to_string().contains("rt-0"));
}

#[tokio::test]
async fn a_stalled_token_endpoint_does_not_hang_api_calls() {
    let auth = stalled_endpoint().await;
    let api = api_server("at-1").await;
    let bound = Duration::from_millis(200);
    let fanvue = builder(&api, &auth, expired("rt-0"))
        .token_timeout(bound)
        .build()
        .unwrap();
    // Two concurrent calls share one refresh attempt: both end with its typed
    // timeout (a second attempt would follow only after the backoff).
    let started = Instant::now();
    let (a, b) = tokio::time::timeout(SOON, async { tokio::join!(me(&fanvue), me(&fanvue)) })
        .await
        .expect("calls end on their own");
    let elapsed = started.elapsed();
    for result in [a, b] {
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::Auth(AuthError::Timeout { .. })),
            "{err:?}"
        );
    }
    assert!(elapsed < bound * 2 + Duration::from_secs(2), "{elapsed:?}");
    assert!(api.requests().is_empty());
}

/// A token endpoint that redirects (status `status`) to `target`.
async fn redirecting_endpoint(status: u16, target: &Server) -> Server {
    let location = format!("{}/oauth2/token", target.url());
    Server::start(move |_| Reply::text(status, "").header("location", &location)).await
}

#[tokio::test]
async fn token_redirects_are_refused_and_nothing_reaches_the_other_host() {
    for status in [301, 302, 307, 308] {
        let other = Server::start(|_| {
            Reply::json(200, json!({"access_token": "stolen", "expires_in": 60}))
        })
        .await;
        let auth = redirecting_endpoint(status, &other).await;

        // the OAuth client on its own
        let oauth = OAuthClient::new(CLIENT_ID, CLIENT_SECRET.to_string())
            .with_token_url(&format!("{}/oauth2/token", auth.url()), true)
            .unwrap();
        let err = oauth
            .refresh(&SecretString::from("rt-0"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AuthError::Redirected { status: s, .. } if s.as_u16() == status),
            "{status}: {err:?}"
        );

        // a Fanvue client given its own reqwest::Client (which follows redirects)
        let api = api_server("stolen").await;
        let fanvue = builder(&api, &auth, expired("rt-0"))
            .http_client(support::plain_http_client())
            .build()
            .unwrap();
        let err = me(&fanvue).await.unwrap_err();
        assert!(
            matches!(err, Error::Auth(AuthError::Redirected { .. })),
            "{status}: {err:?}"
        );
        assert_eq!(auth.requests().len(), 2, "{status}");
        assert!(
            other.requests().is_empty(),
            "{status}: the other host got a request"
        );
        assert!(api.requests().is_empty(), "{status}");
    }
}

// Item 3 -------------------------------------------------------------------

#[tokio::test]
async fn extreme_expires_in_values_do_not_panic() {
    // (expires_in, refreshes after two calls): a due token is refreshed again,
    // an unknown or huge lifetime is kept.
    let cases = [
        (json!(u64::MAX), 1),
        (json!(i64::MAX), 1),
        (json!(1e300), 1),
        (json!("18446744073709551616"), 1),
        (json!(0), 2),
        (json!(-1), 2),
        (json!(i64::MIN), 2),
        (json!("-inf"), 2),
        (json!(null), 1),
        (json!("NaN"), 1),
        (json!({"nested": 1}), 1),
    ];
    for (expires_in, refreshes) in cases {
        let count = AtomicUsize::new(0);
        let lifetime = expires_in.clone();
        let auth = Server::start(move |_| {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::json(
                200,
                json!({"access_token": "at-1", "refresh_token": format!("rt-{n}"),
                       "expires_in": lifetime}),
            )
        })
        .await;
        let api = api_server("at-1").await;
        let fanvue = builder(&api, &auth, expired("rt-0")).build().unwrap();
        me(&fanvue).await.unwrap();
        me(&fanvue).await.unwrap();
        assert_eq!(auth.requests().len(), refreshes, "expires_in {expires_in}");
        assert_eq!(api.requests().len(), 2, "expires_in {expires_in}");

        // the same response through the OAuth client: a clamped lifetime, an expiry that fits
        let oauth = OAuthClient::new(CLIENT_ID, CLIENT_SECRET.to_string())
            .with_token_url(&auth.url(), true)
            .unwrap();
        let tokens = oauth.refresh(&SecretString::from("rt")).await.unwrap();
        if let Some(lifetime) = tokens.expires_in {
            assert!(lifetime <= fanvue_api_ext::auth::MAX_TOKEN_LIFETIME);
            assert!(tokens.expires_at().is_some());
        }
    }
}

#[tokio::test]
async fn client_credentials_are_form_urlencoded_before_http_basic() {
    use base64::Engine as _;
    let auth =
        Server::start(|_| Reply::json(200, json!({"access_token": "at-1", "expires_in": 3600})))
            .await;
    let oauth = OAuthClient::new("app:id é", "s3cr+t/=:%".to_string())
        .with_token_url(&format!("{}/oauth2/token", auth.url()), true)
        .unwrap();
    oauth.refresh(&SecretString::from("rt-0")).await.unwrap();
    let header = auth.requests()[0]
        .header("authorization")
        .unwrap()
        .to_owned();
    let encoded = header.strip_prefix("Basic ").unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    // RFC 6749 §2.3.1: the id and the secret are each form-urlencoded, so
    // the first `:` separates them (the raw id holds one)
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "app%3Aid+%C3%A9:s3cr%2Bt%2F%3D%3A%25"
    );
}
