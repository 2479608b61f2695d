//! Signing a Fanvue user in: the authorization URL with PKCE (S256), the
//! code exchange, and a client that keeps the session alive by refreshing.
//!
//! ```sh
//! cargo run -p fanvue-api-ext --example oauth
//! ```
//!
//! By default it runs against the local fake's OAuth server, whose
//! `GET /oauth2/auth` approves at once and redirects back with a code. With
//! `FANVUE_CLIENT_ID`, `FANVUE_CLIENT_SECRET` and `FANVUE_REDIRECT_URI` set, it
//! prints Fanvue's real authorization URL, waits for you to paste the URL you
//! were redirected to, and exchanges its code.

mod common;
#[path = "../tests/support/plain_http.rs"]
mod plain_http;

use fanvue_api_ext::Fanvue;
use fanvue_api_ext::auth::{OAuthClient, Scope};
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::secrecy::SecretString;
use fanvue_fake::FakeFanvue;
use std::process::ExitCode;
use url::Url;

#[tokio::main]
async fn main() -> ExitCode {
    common::report(run().await)
}

async fn run() -> Result<(), common::BoxError> {
    // 1. The app's OAuth client: Fanvue's servers, or the fake's.
    let (fake, client_id, client_secret, redirect_uri) = match (
        std::env::var("FANVUE_CLIENT_ID"),
        std::env::var("FANVUE_CLIENT_SECRET"),
        std::env::var("FANVUE_REDIRECT_URI"),
    ) {
        (Ok(id), Ok(secret), Ok(redirect)) => (None, id, secret, redirect),
        _ => {
            let fake = FakeFanvue::start().await?;
            let (id, secret) = (fake.client_id().to_owned(), fake.client_secret().to_owned());
            let redirect = "http://127.0.0.1:8080/callback".to_owned();
            (Some(fake), id, secret, redirect)
        }
    };
    let mut oauth = OAuthClient::new(client_id.clone(), SecretString::from(client_secret.clone()));
    if let Some(fake) = &fake {
        println!(
            "No FANVUE_CLIENT_ID/SECRET/REDIRECT_URI: using the fake OAuth server at {}",
            fake.auth_url()
        );
        oauth = oauth
            .with_authorization_url(&format!("{}/oauth2/auth", fake.auth_url()), true)?
            .with_token_url(&fake.token_url(), true)?;
    }

    // 2. The URL to send the user to: scopes as typed values, a random `state`,
    //    and the PKCE challenge (the verifier stays here).
    let authorization = oauth
        .authorization_request(redirect_uri)
        .scopes([
            Scope::OpenId,
            Scope::OfflineAccess, // needed for a refresh token
            Scope::ReadSelf,
            Scope::ReadMedia,
            Scope::WriteMedia,
        ])
        .build();
    println!("Send the user to:\n  {}", authorization.url);

    // 3. The user signs in and comes back to the redirect URI with `code` and `state`.
    let callback = match &fake {
        Some(_) => follow_fake_redirect(&authorization.url).await?,
        None => {
            println!("Sign in, then paste the full URL you were redirected to:");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            Url::parse(line.trim())?
        }
    };
    let query = |key: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let state = query("state").unwrap_or_default();
    if !authorization.state_matches(&state) {
        return Err("the callback's state does not match: not our request".into());
    }
    let code = query("code").ok_or("the callback has no code")?;
    println!("Callback received with a code and the expected state.");

    // 4. Exchange the code (with the PKCE verifier) for tokens. Tokens are
    //    `SecretString`s: never printed, never in Debug output.
    let tokens = oauth.exchange_code(&code, &authorization.verifier).await?;
    println!(
        "Tokens received: expires in {:?}, scopes: {}",
        tokens.expires_in,
        tokens
            .scopes
            .iter()
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    );

    // 5. A client for this user that refreshes the access token when needed
    //    and hands back rotated refresh tokens to store.
    let credentials = tokens
        .into_credentials(client_id, SecretString::from(client_secret))
        .ok_or("no refresh token issued (ask for the offline_access scope)")?;
    let mut builder = Fanvue::builder()
        .oauth(credentials)
        .on_refresh_token_rotated(|_new: SecretString| {
            println!("(the refresh token was rotated: store the new one)");
        });
    if let Some(fake) = &fake {
        builder = builder
            .base_url(fake.api_url())
            .token_url(fake.token_url())
            .allow_insecure_http(true);
    }
    let fanvue = builder.build()?;
    let me = fanvue.api().get_current_user().send().await?;
    println!("Signed in as {} (@{})", me.display_name, me.handle);

    // On the fake, show a refresh: expire the access token; the next call
    // gets a 401, refreshes once, rotates the refresh token and retries.
    if let Some(fake) = &fake {
        fake.expire_all_access_tokens();
        let me = fanvue.api().get_current_user().send().await?;
        println!(
            "After the access token expired: still {} ({} refresh)",
            me.handle,
            fake.token_refresh_count()
        );
    }
    Ok(())
}

/// Plays the user's browser against the fake: `GET` the authorization URL
/// and return where it redirects (the callback URL with `code` and `state`).
async fn follow_fake_redirect(url: &Url) -> Result<Url, common::BoxError> {
    let browser = plain_http::plain_http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = browser.get(url.clone()).send().await?;
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .ok_or_else(|| {
            format!(
                "no redirect from the authorization server ({})",
                response.status()
            )
        })?
        .to_str()?;
    Ok(Url::parse(location)?)
}
