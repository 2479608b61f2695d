//! The fake OAuth 2.0 server: `POST /oauth2/token` (refresh token and authorization code + PKCE grants,
//! client credentials via HTTP Basic) and `GET /oauth2/auth` (redirects straight back with a code).
//!
//! Refresh tokens model Fanvue's: single-use and rotating, with a grace after the first use in which a
//! reuse answers the same successor pair, and a reuse after the grace revokes the whole chain (see
//! [`crate::FakeFanvueBuilder::refresh_grace`]). [`crate::TokenFault`]s consume the token first, then
//! stall or drop the answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use http::{HeaderMap, StatusCode, header};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::faults::{ApiRoute, TokenFault};
use crate::gate;
use crate::log::Listener;
use crate::respond;
use crate::serve::ConnAbort;
use crate::state::{AccessEntry, AuthCode, Shared, TokenStore, UsedRefresh};

/// Builds the OAuth router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(ApiRoute::Token.template().1, post(token))
        .route("/oauth2/auth", get(authorize))
        .route_layer(from_fn_with_state(
            (shared.clone(), Listener::Auth),
            gate::api_gate,
        ))
        .fallback(|| async { respond::not_found("Not found") })
        .with_state(shared.clone())
        .layer(from_fn_with_state((shared, Listener::Auth), gate::record))
}

/// The default grace of a used refresh token (the value reported for Fanvue).
pub const DEFAULT_REFRESH_GRACE: Duration = Duration::from_secs(30);

/// A fresh random token with a recognizable prefix.
pub(crate) fn new_token(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::new_v4().simple())
}

/// Issues a new access token valid for the configured lifetime.
pub(crate) fn issue_access(shared: &Shared, tokens: &mut TokenStore) -> String {
    let token = new_token("fvat");
    tokens.access.insert(
        token.clone(),
        AccessEntry {
            expires_at: Some(Instant::now() + shared.config.token_lifetime),
            revoked: false,
        },
    );
    tokens.latest_access = token.clone();
    token
}

/// The PKCE S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    respond::json(
        status,
        json!({ "error": error, "error_description": description }),
    )
}

fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    // RFC 6749 §2.3.1: each is form-urlencoded before HTTP Basic
    Some((form_decode(id)?, form_decode(secret)?))
}

/// What a refresh token is worth when it arrives.
enum Redeem {
    /// First use: issue a new pair.
    First,
    /// A reuse inside the grace: the pair the first use issued.
    Again { access: String, refresh: String },
    /// Unknown, revoked, or reused after the grace (the chain is revoked now).
    Refused,
}

/// Applies the single-use rule with its grace to `rt` (see [`crate::FakeFanvueBuilder::refresh_grace`]).
fn redeem(shared: &Shared, tokens: &mut TokenStore, rt: &str) -> Redeem {
    let chain = tokens.chain(rt);
    if tokens.revoked_chains.contains(&chain) {
        return Redeem::Refused;
    }
    if tokens.refresh_valid.remove(rt) {
        return Redeem::First;
    }
    let Some(used) = tokens.used.get(rt) else {
        return Redeem::Refused;
    };
    if used.at.elapsed() <= shared.config.refresh_grace {
        tokens.grace_reuses += 1;
        return Redeem::Again {
            access: used.access.clone(),
            refresh: used.refresh.clone(),
        };
    }
    tokens.revoke_chain(chain);
    Redeem::Refused
}

/// The grant's checks and state changes (under the state lock): the pair to answer and the fault to apply
/// after it, or the refusal.
fn exchange(
    shared: &Shared,
    form: &HashMap<String, String>,
) -> Result<(String, String, Option<TokenFault>), Response> {
    let get = |k: &str| form.get(k).map(String::as_str);
    let mut st = shared.lock();
    let tokens = &mut st.tokens;
    let issued = match get("grant_type") {
        Some("refresh_token") => {
            let Some(rt) = get("refresh_token") else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                ));
            };
            tokens.token_requests += 1;
            let fault = tokens.consume_faults.pop_front();
            match redeem(shared, tokens, rt) {
                Redeem::First => {
                    tokens.refresh_count += 1;
                    let chain = tokens.chain(rt);
                    let access = issue_access(shared, tokens);
                    let refresh = new_token("fvrt");
                    tokens.refresh_valid.insert(refresh.clone());
                    tokens.chain_of.insert(access.clone(), chain);
                    tokens.chain_of.insert(refresh.clone(), chain);
                    tokens.used.insert(
                        rt.to_string(),
                        UsedRefresh {
                            at: Instant::now(),
                            access: access.clone(),
                            refresh: refresh.clone(),
                        },
                    );
                    tokens.latest_refresh = refresh.clone();
                    (access, refresh, fault)
                }
                Redeem::Again { access, refresh } => (access, refresh, fault),
                Redeem::Refused => {
                    return Err(oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "refresh token is invalid, expired or already used",
                    ));
                }
            }
        }
        Some("authorization_code") => {
            let (Some(code), Some(verifier), Some(redirect)) =
                (get("code"), get("code_verifier"), get("redirect_uri"))
            else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code, code_verifier and redirect_uri are required",
                ));
            };
            let Some(entry) = tokens.codes.remove(code) else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "authorization code is invalid or already used",
                ));
            };
            if entry.redirect_uri != redirect {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "redirect_uri does not match",
                ));
            }
            if pkce_challenge(verifier) != entry.code_challenge {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "code_verifier does not match the code challenge",
                ));
            }
            tokens.code_exchange_count += 1;
            // a new grant: a chain of its own
            tokens.last_chain += 1;
            let chain = tokens.last_chain;
            let access = issue_access(shared, tokens);
            let refresh = new_token("fvrt");
            tokens.refresh_valid.insert(refresh.clone());
            tokens.chain_of.insert(access.clone(), chain);
            tokens.chain_of.insert(refresh.clone(), chain);
            tokens.latest_refresh = refresh.clone();
            (access, refresh, None)
        }
        _ => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be refresh_token or authorization_code",
            ));
        }
    };
    Ok(issued)
}

/// Decodes an `application/x-www-form-urlencoded` value (`+` is a space, `%XX` a byte); `None` when it is
/// malformed or not UTF-8.
fn form_decode(value: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut input = value.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = [input.next()?, input.next()?];
                bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

async fn token(
    State(shared): State<Arc<Shared>>,
    abort: Option<axum::Extension<ConnAbort>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "body must be application/x-www-form-urlencoded",
        );
    };
    match basic_client(&headers) {
        Some((id, secret))
            if id == shared.config.client_id && secret == shared.config.client_secret => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            );
        }
    }
    let (access, refresh, fault) = match exchange(&shared, &form) {
        Ok(issued) => issued,
        Err(refusal) => return refusal,
    };
    shared.bump();
    match fault {
        None => {}
        Some(TokenFault::ConsumeThenStall(Some(stall))) => tokio::time::sleep(stall).await,
        Some(TokenFault::ConsumeThenStall(None)) => std::future::pending::<()>().await,
        Some(TokenFault::ConsumeThenReset) => {
            if let Some(axum::Extension(abort)) = abort {
                abort.abort();
                std::future::pending::<()>().await;
            }
            return respond::injected_status(500);
        }
    }
    let mut r = respond::json(
        StatusCode::OK,
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": shared.config.token_lifetime.as_secs(),
            "token_type": "Bearer",
            "scope": shared.config.scope,
        }),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    r
}

/// Registers a code for `code_challenge` (S256) and `redirect_uri`, returning the code.
pub(crate) fn register_code(shared: &Shared, code_challenge: &str, redirect_uri: &str) -> String {
    let code = new_token("code");
    shared.lock().tokens.codes.insert(
        code.clone(),
        AuthCode {
            code_challenge: code_challenge.to_string(),
            redirect_uri: redirect_uri.to_string(),
        },
    );
    code
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    if get("response_type") != Some("code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "response_type must be code",
        );
    }
    if get("client_id") != Some(shared.config.client_id.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "unknown client_id",
        );
    }
    if get("code_challenge_method") != Some("S256") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_challenge_method must be S256",
        );
    }
    let (Some(challenge), Some(redirect)) = (get("code_challenge"), get("redirect_uri")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_challenge and redirect_uri are required",
        );
    };
    let code = register_code(&shared, challenge, redirect);
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let mut location = format!("{redirect}{sep}code={code}");
    if let Some(state) = get("state") {
        let state: String = state
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        location.push_str(&format!("&state={state}"));
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}
