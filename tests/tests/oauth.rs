//! The fake OAuth server: refresh rotation, client authentication, PKCE code exchange, expiry.

mod common;

use std::time::Duration;

use common::client;
use fanvue_fake::{FakeFanvue, TokenFault, pkce_challenge};

async fn token_request(
    fake: &FakeFanvue,
    basic: Option<(&str, &str)>,
    form: &str,
) -> (u16, serde_json::Value) {
    let mut rb = client()
        .post(fake.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string());
    if let Some((id, secret)) = basic {
        rb = rb.basic_auth(id, Some(secret));
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn me_status(fake: &FakeFanvue, token: &str) -> u16 {
    client()
        .get(format!("{}/users/me", fake.api_url()))
        .header("X-Fanvue-API-Version", fake.api_version())
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn refresh_rotates_and_rejects_the_old_refresh_token() {
    let fake = FakeFanvue::builder()
        .refresh_token("rt-initial")
        .refresh_grace(Duration::ZERO)
        .start()
        .await
        .unwrap();
    assert_ne!(fake.auth_url(), fake.api_url());
    let creds = Some((fake.client_id(), fake.client_secret()));

    let (status, body) = token_request(
        &fake,
        creds,
        "grant_type=refresh_token&refresh_token=rt-initial",
    )
    .await;
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap().to_string();
    let rotated = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rotated, "rt-initial");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["scope"].as_str().unwrap().contains("read:self"));
    assert_eq!(fake.token_refresh_count(), 1);
    assert_eq!(fake.refresh_token(), rotated);
    assert_eq!(me_status(&fake, &access).await, 200);

    let (status, body) = token_request(
        &fake,
        creds,
        "grant_type=refresh_token&refresh_token=rt-initial",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(fake.token_refresh_count(), 1);
    // a reuse after the grace (zero here) revokes the whole chain: the successor and its access token too
    assert!(fake.chain_revoked());
    assert_eq!(me_status(&fake, &access).await, 401);
    let (status, body) = token_request(
        &fake,
        creds,
        &format!("grant_type=refresh_token&refresh_token={rotated}"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(fake.token_refresh_count(), 1);
    assert_eq!(fake.token_requests(), 3);
}

#[tokio::test]
async fn a_reuse_inside_the_grace_answers_the_same_pair_and_keeps_the_chain() {
    let fake = FakeFanvue::builder()
        .refresh_token("rt-seed")
        .start()
        .await
        .unwrap();
    let creds = Some((fake.client_id(), fake.client_secret()));
    let seed = "grant_type=refresh_token&refresh_token=rt-seed";
    let (status, first) = token_request(&fake, creds, seed).await;
    assert_eq!(status, 200);
    let (status, again) = token_request(&fake, creds, seed).await;
    assert_eq!(status, 200);
    assert_eq!(again["access_token"], first["access_token"]);
    assert_eq!(again["refresh_token"], first["refresh_token"]);
    assert_eq!(fake.token_refresh_count(), 1);
    assert_eq!(fake.grace_reuses(), 1);
    assert!(!fake.chain_revoked());
    // the successor is still single-use and rotates on
    let next = format!(
        "grant_type=refresh_token&refresh_token={}",
        first["refresh_token"].as_str().unwrap()
    );
    let (status, third) = token_request(&fake, creds, &next).await;
    assert_eq!(status, 200);
    assert_ne!(third["refresh_token"], first["refresh_token"]);
    assert_eq!(
        me_status(&fake, third["access_token"].as_str().unwrap()).await,
        200
    );
    assert_eq!(fake.token_refresh_count(), 2);
    assert_eq!(fake.token_requests(), 3);
}

#[tokio::test]
async fn revoking_a_chain_spares_other_grants() {
    let fake = FakeFanvue::builder()
        .refresh_grace(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let creds = Some((fake.client_id(), fake.client_secret()));
    let seed = format!(
        "grant_type=refresh_token&refresh_token={}",
        fake.refresh_token()
    );
    // another grant (an authorization code exchange) is a chain of its own
    let verifier = "another-verifier-with-plenty-of-entropy-0123456789abcdef";
    let redirect = "http://127.0.0.1:1/cb";
    let code = fake.register_authorization_code(&pkce_challenge(verifier), redirect);
    let form = format!(
        "grant_type=authorization_code&code={code}&code_verifier={verifier}&redirect_uri={redirect}"
    );
    let (status, other) = token_request(&fake, creds, &form).await;
    assert_eq!(status, 200);
    assert_eq!(token_request(&fake, creds, &seed).await.0, 200);
    assert_eq!(token_request(&fake, creds, &seed).await.0, 400);
    assert!(fake.chain_revoked());
    assert_eq!(
        me_status(&fake, other["access_token"].as_str().unwrap()).await,
        200
    );
    let next = format!(
        "grant_type=refresh_token&refresh_token={}",
        other["refresh_token"].as_str().unwrap()
    );
    assert_eq!(token_request(&fake, creds, &next).await.0, 200);
}

#[tokio::test]
async fn token_faults_consume_the_token_then_stall_or_drop_the_answer() {
    let fake = FakeFanvue::builder()
        .refresh_token("rt-seed")
        .start()
        .await
        .unwrap();
    let creds = Some((fake.client_id(), fake.client_secret()));
    let seed = "grant_type=refresh_token&refresh_token=rt-seed";
    fake.inject_token_fault(TokenFault::ConsumeThenReset, 1);
    fake.inject_token_fault(TokenFault::ConsumeThenStall(None), 1);
    let send = |timeout: Duration| {
        client()
            .post(fake.token_url())
            .basic_auth(fake.client_id(), Some(fake.client_secret()))
            .header("content-type", "application/x-www-form-urlencoded")
            .timeout(timeout)
            .body(seed)
            .send()
    };
    let reset = send(Duration::from_secs(10)).await.unwrap_err();
    assert!(!reset.is_timeout(), "{reset:?}");
    // consumed: the first use issued a pair
    assert_eq!(fake.token_refresh_count(), 1);
    let stalled = send(Duration::from_millis(300)).await.unwrap_err();
    assert!(stalled.is_timeout(), "{stalled:?}");
    assert_eq!(fake.token_requests(), 2);
    // inside the grace the same token still answers, with the pair the lost answer held
    let (status, body) = token_request(&fake, creds, seed).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["refresh_token"].as_str().unwrap(),
        fake.refresh_token()
    );
    assert_eq!(fake.token_refresh_count(), 1);
    assert!(!fake.chain_revoked());
}

#[tokio::test]
async fn client_credentials_must_come_in_basic_auth() {
    let fake = FakeFanvue::start().await.unwrap();
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        fake.refresh_token()
    );
    let (status, body) = token_request(&fake, None, &form).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    let (status, _) = token_request(&fake, Some((fake.client_id(), "wrong")), &form).await;
    assert_eq!(status, 401);
    let (status, body) = token_request(
        &fake,
        Some((fake.client_id(), fake.client_secret())),
        "grant_type=password",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unsupported_grant_type");
    assert_eq!(fake.token_refresh_count(), 0);
}

#[tokio::test]
async fn authorization_code_with_pkce() {
    let fake = FakeFanvue::start().await.unwrap();
    let verifier = "a-very-long-verifier-string-with-enough-entropy-0123456789";
    let challenge = pkce_challenge(verifier);
    let redirect = "http://127.0.0.1:1/callback";
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .get(format!("{}/oauth2/auth", fake.auth_url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", fake.client_id()),
            ("redirect_uri", redirect),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("state", "xyz"),
            ("scope", "openid read:self"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(redirect) && location.ends_with("&state=xyz"));
    let code = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_string();

    let creds = Some((fake.client_id(), fake.client_secret()));
    let wrong = format!(
        "grant_type=authorization_code&code={code}&code_verifier=wrong&redirect_uri={redirect}"
    );
    let (status, body) = token_request(&fake, creds, &wrong).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");

    // A code is single-use: register a fresh one (as `GET /oauth2/auth` does) and exchange it.
    let code = fake.register_authorization_code(&challenge, redirect);
    let form = format!(
        "grant_type=authorization_code&code={code}&code_verifier={verifier}&redirect_uri={redirect}"
    );
    let (status, body) = token_request(&fake, creds, &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.code_exchange_count(), 1);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(me_status(&fake, access).await, 200);
    let (status, _) = token_request(&fake, creds, &form).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn expiring_tokens_forces_a_refresh() {
    let fake = FakeFanvue::start().await.unwrap();
    assert_eq!(me_status(&fake, &fake.access_token()).await, 200);
    fake.expire_all_access_tokens();
    assert_eq!(me_status(&fake, &fake.access_token()).await, 401);
    let creds = Some((fake.client_id(), fake.client_secret()));
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        fake.refresh_token()
    );
    let (_, body) = token_request(&fake, creds, &form).await;
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(me_status(&fake, access).await, 200);
    assert_eq!(fake.latest_access_token(), access);
}

#[tokio::test]
async fn issued_tokens_expire_after_their_lifetime() {
    let fake = FakeFanvue::builder()
        .token_lifetime(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let creds = Some((fake.client_id(), fake.client_secret()));
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        fake.refresh_token()
    );
    let (_, body) = token_request(&fake, creds, &form).await;
    assert_eq!(body["expires_in"], 0);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(me_status(&fake, access).await, 401);
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded_first() {
    let fake = FakeFanvue::builder()
        .client_credentials("app:id é", "s3cr+t/=:%")
        .start()
        .await
        .unwrap();
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        fake.refresh_token()
    );
    // RFC 6749 §2.3.1: each is form-urlencoded before HTTP Basic
    let encoded = Some(("app%3Aid+%C3%A9", "s3cr%2Bt%2F%3D%3A%25"));
    let (status, body) = token_request(&fake, encoded, &form).await;
    assert_eq!(status, 200, "{body}");
    // the raw values are not what the RFC asks for: the id's `:` would end it early
    let (status, _) = token_request(&fake, Some(("app:id é", "s3cr+t/=:%")), &form).await;
    assert_eq!(status, 401);
}
