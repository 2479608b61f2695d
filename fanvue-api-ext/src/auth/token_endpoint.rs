//! Requests to the OAuth 2.0 token endpoint: `grant_type=refresh_token` and
//! `grant_type=authorization_code` (with the PKCE verifier). Client
//! credentials go in HTTP Basic; nothing is sent anywhere but the token URL.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::pkce::{AuthorizationRequest, PkceVerifier};
use super::{AuthError, DEFAULT_AUTHORIZATION_URL, DEFAULT_TOKEN_URL, OAuthCredentials, Scope};
use crate::error::BuildError;

/// Tokens issued by the token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if one was issued (a rotated one replaces the old).
    pub refresh_token: Option<SecretString>,
    /// The access token's lifetime, as reported.
    pub expires_in: Option<Duration>,
    /// When the response was received (with `expires_in`, gives the expiry).
    pub received_at: SystemTime,
    /// The granted scopes.
    pub scopes: Vec<Scope>,
    /// The token type (`bearer`).
    pub token_type: Option<String>,
}

impl TokenSet {
    /// When the access token expires, if the lifetime was reported.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_in.map(|d| self.received_at + d)
    }

    /// Credentials for [`FanvueBuilder::oauth`](crate::FanvueBuilder::oauth),
    /// starting with this access token; `None` when no refresh token was issued.
    pub fn into_credentials(
        self,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> Option<OAuthCredentials> {
        let expires_at = self.expires_at();
        let refresh_token = self.refresh_token?;
        Some(
            OAuthCredentials::new(client_id, client_secret, refresh_token)
                .with_access_token(self.access_token, expires_at),
        )
    }
}

/// An OAuth 2.0 client of Fanvue's authorization server: builds PKCE
/// authorization requests, exchanges codes and refreshes tokens.
#[derive(Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    client_id: String,
    client_secret: SecretString,
    token_url: Url,
    authorization_url: Url,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("token_url", &self.token_url.as_str())
            .field("authorization_url", &self.authorization_url.as_str())
            .finish()
    }
}

impl OAuthClient {
    /// A client for Fanvue's authorization server.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<SecretString>) -> Self {
        Self {
            http: crate::transport::default_client(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            token_url: parse_static(DEFAULT_TOKEN_URL),
            authorization_url: parse_static(DEFAULT_AUTHORIZATION_URL),
        }
    }

    /// Uses another token URL (a local server in tests). Plain `http` only when `allow_insecure_http`.
    pub fn with_token_url(
        mut self,
        url: &str,
        allow_insecure_http: bool,
    ) -> Result<Self, BuildError> {
        self.token_url = crate::client::parse_endpoint(url, "token URL", allow_insecure_http)?;
        Ok(self)
    }

    /// Uses another authorization URL. Plain `http` only when `allow_insecure_http`.
    pub fn with_authorization_url(
        mut self,
        url: &str,
        allow_insecure_http: bool,
    ) -> Result<Self, BuildError> {
        self.authorization_url =
            crate::client::parse_endpoint(url, "authorization URL", allow_insecure_http)?;
        Ok(self)
    }

    /// Sends token requests with this HTTP client.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The token URL.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// Starts an authorization request (PKCE S256, random state) for `redirect_uri`.
    pub fn authorization_request(&self, redirect_uri: impl Into<String>) -> AuthorizationRequest {
        AuthorizationRequest::new(self.client_id.clone(), redirect_uri)
            .authorization_url(self.authorization_url.clone())
    }

    /// Exchanges an authorization code (with its PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &PkceVerifier,
    ) -> Result<TokenSet, AuthError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", verifier.redirect_uri()),
            ("code_verifier", verifier.secret().expose_secret()),
        ])
        .await
    }

    /// Exchanges a refresh token for a new access token (and maybe a rotated refresh token).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, AuthError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, AuthError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .http
            .post(self.token_url.clone())
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .body(body)
            .send()
            .await
            .map_err(|e| AuthError::Transport(crate::error::TransportError::from_reqwest(e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| AuthError::Transport(crate::error::TransportError::from_reqwest(e)))?;
        if !status.is_success() {
            let body: OAuthErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(AuthError::Rejected {
                status,
                error: body.error,
                description: body.error_description,
            });
        }
        let raw: RawTokenResponse =
            serde_json::from_slice(&bytes).map_err(|_| AuthError::InvalidResponse {
                status,
                reason: "not a JSON token response with an access_token",
            })?;
        if raw.access_token.is_empty() {
            return Err(AuthError::InvalidResponse {
                status,
                reason: "empty access_token",
            });
        }
        Ok(TokenSet {
            access_token: SecretString::from(raw.access_token),
            refresh_token: raw
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(SecretString::from),
            expires_in: raw.expires_in.and_then(|v| match v {
                serde_json::Value::Number(n) => n.as_u64().map(Duration::from_secs),
                serde_json::Value::String(s) => s.trim().parse().ok().map(Duration::from_secs),
                _ => None,
            }),
            received_at: SystemTime::now(),
            scopes: raw
                .scope
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
            token_type: raw.token_type,
        })
    }
}

fn parse_static(url: &str) -> Url {
    // Only called with the crate's constant URLs.
    Url::parse(url)
        .unwrap_or_else(|_| Url::parse("https://auth.fanvue.com/").expect("constant URL"))
}

#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize, Default)]
struct OAuthErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}
