//! The fake OAuth 2.0 server: `POST /oauth2/token` (refresh token and authorization code + PKCE grants,
//! client credentials via HTTP Basic) and `GET /oauth2/auth` (redirects straight back with a code).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

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

use crate::faults::ApiRoute;
use crate::gate;
use crate::log::Listener;
use crate::respond;
use crate::state::{AccessEntry, AuthCode, Shared, TokenStore};

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
    Some((id.to_string(), secret.to_string()))
}

async fn token(
    State(shared): State<Arc<Shared>>,
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
    let get = |k: &str| form.get(k).map(String::as_str);
    let mut st = shared.lock();
    let tokens = &mut st.tokens;
    match get("grant_type") {
        Some("refresh_token") => {
            let Some(rt) = get("refresh_token") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                );
            };
            if !tokens.refresh_valid.remove(rt) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "refresh token is invalid, expired or already used",
                );
            }
            tokens.refresh_count += 1;
        }
        Some("authorization_code") => {
            let (Some(code), Some(verifier), Some(redirect)) =
                (get("code"), get("code_verifier"), get("redirect_uri"))
            else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code, code_verifier and redirect_uri are required",
                );
            };
            let Some(entry) = tokens.codes.remove(code) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "authorization code is invalid or already used",
                );
            };
            if entry.redirect_uri != redirect {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "redirect_uri does not match",
                );
            }
            if pkce_challenge(verifier) != entry.code_challenge {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "code_verifier does not match the code challenge",
                );
            }
            tokens.code_exchange_count += 1;
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be refresh_token or authorization_code",
            );
        }
    }
    let access = issue_access(&shared, tokens);
    let refresh = new_token("fvrt");
    tokens.refresh_valid.insert(refresh.clone());
    tokens.latest_refresh = refresh.clone();
    drop(st);
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
