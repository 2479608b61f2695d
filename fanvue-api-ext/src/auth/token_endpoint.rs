//! Requests to the OAuth 2.0 token endpoint: `grant_type=refresh_token` and
//! `grant_type=authorization_code` (with the PKCE verifier). Client
//! credentials go in HTTP Basic, each form-urlencoded first (RFC 6749
//! §2.3.1); nothing is sent anywhere but the token URL.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::pkce::{AuthorizationRequest, PkceVerifier};
use super::{AuthError, DEFAULT_AUTHORIZATION_URL, DEFAULT_TOKEN_URL, OAuthCredentials, Scope};
use crate::error::{BuildError, TransportError};

/// The default total timeout of one token request: well inside the refresh
/// token's grace ([`DEFAULT_REFRESH_GRACE`](super::DEFAULT_REFRESH_GRACE)), so
/// a request that got no answer can be retried with the same token while the
/// grace lasts.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(10);
/// The default connect timeout of the token endpoint client.
pub const DEFAULT_TOKEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest access-token lifetime taken from `expires_in` (larger values are clamped to it).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);
/// The largest token response body read (a token response is a few hundred bytes).
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// Tokens issued by the token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if one was issued (a rotated one replaces the old).
    pub refresh_token: Option<SecretString>,
    /// The access token's lifetime, as reported: `None` when missing or not a
    /// number, a negative value as zero, at most [`MAX_TOKEN_LIFETIME`].
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
        self.expires_in
            .and_then(|d| self.received_at.checked_add(d))
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
///
/// Token requests time out (default [`DEFAULT_TOKEN_TIMEOUT`] in total,
/// [`DEFAULT_TOKEN_CONNECT_TIMEOUT`] to connect) and never follow a redirect:
/// a 3xx answer is [`AuthError::Redirected`], so the client secret, refresh
/// token or PKCE verifier never reach another host.
#[derive(Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    timeout: Duration,
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
            // Building fails only when the TLS backend cannot start, in which
            // case `Client::default` fails the same way.
            http: crate::transport::default_client_with(|builder| {
                token_client_settings(builder, DEFAULT_TOKEN_CONNECT_TIMEOUT)
            }),
            timeout: DEFAULT_TOKEN_TIMEOUT,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            token_url: super::constant_url(DEFAULT_TOKEN_URL),
            authorization_url: super::constant_url(DEFAULT_AUTHORIZATION_URL),
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

    /// Sets the total timeout of each token request and the connect timeout
    /// (defaults [`DEFAULT_TOKEN_TIMEOUT`], [`DEFAULT_TOKEN_CONNECT_TIMEOUT`]).
    /// Replaces a client given with [`with_http_client`](Self::with_http_client)
    /// by a new one that does not follow redirects.
    ///
    /// ```
    /// use std::time::Duration;
    /// use fanvue_api_ext::auth::OAuthClient;
    ///
    /// let oauth = OAuthClient::new("client-id", "client-secret".to_string())
    ///     .with_timeouts(Duration::from_secs(5), Duration::from_secs(2))?;
    /// # Ok::<(), fanvue_api_ext::BuildError>(())
    /// ```
    pub fn with_timeouts(mut self, total: Duration, connect: Duration) -> Result<Self, BuildError> {
        self.http = token_http_client(connect).map_err(BuildError::HttpClient)?;
        self.timeout = total;
        Ok(self)
    }

    /// Sends token requests with this HTTP client. Build it with
    /// `redirect(reqwest::redirect::Policy::none())`: a client that follows
    /// redirects would re-send the token request to the redirect's target
    /// before this crate sees the answer (which it then refuses with
    /// [`AuthError::Redirected`]). The total timeout still applies.
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

    /// The total timeout of one token request.
    pub fn timeout(&self) -> Duration {
        self.timeout
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
        let timeout = self.timeout;
        let fail = |e: reqwest::Error| {
            if e.is_timeout() {
                AuthError::Timeout { after: timeout }
            } else {
                AuthError::Transport(TransportError::from_reqwest(e))
            }
        };
        let mut response = self
            .http
            .post(self.token_url.clone())
            .timeout(timeout)
            // RFC 6749 §2.3.1: both are form-urlencoded before HTTP Basic
            .basic_auth(
                form_encode(&self.client_id),
                Some(form_encode(self.client_secret.expose_secret())),
            )
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .body(body)
            .send()
            .await
            .map_err(fail)?;
        let status = response.status();
        let request_id = crate::error::request_id(response.headers()).map(str::to_owned);
        if status.is_redirection() || response.url() != &self.token_url {
            return Err(AuthError::Redirected { status, request_id });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| match fail(e) {
            AuthError::Transport(t) => AuthError::Transport(t.with_request_id(request_id.clone())),
            other => other,
        })? {
            if bytes.len().saturating_add(chunk.len()) > MAX_TOKEN_RESPONSE {
                return Err(AuthError::InvalidResponse {
                    status,
                    reason: "token response larger than 64 KiB",
                    request_id,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let body: OAuthErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(AuthError::Rejected {
                status,
                error: body.error,
                description: body.error_description,
                request_id,
            });
        }
        let raw: RawTokenResponse =
            serde_json::from_slice(&bytes).map_err(|_| AuthError::InvalidResponse {
                status,
                reason: "not a JSON token response with an access_token",
                request_id: request_id.clone(),
            })?;
        if raw.access_token.is_empty() {
            return Err(AuthError::InvalidResponse {
                status,
                reason: "empty access_token",
                request_id,
            });
        }
        Ok(TokenSet {
            access_token: SecretString::from(raw.access_token),
            refresh_token: raw
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(SecretString::from),
            expires_in: raw.expires_in.as_ref().and_then(lifetime),
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

/// `value` encoded as `application/x-www-form-urlencoded` (RFC 6749 §2.3.1
/// asks this of the client id and secret before HTTP Basic).
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The token endpoint's HTTP client: connect timeout, no redirects.
fn token_http_client(connect_timeout: Duration) -> Result<reqwest::Client, TransportError> {
    token_client_settings(crate::transport::client_builder()?, connect_timeout)
        .build()
        .map_err(TransportError::from_reqwest)
}

/// The token endpoint's client settings: a connect timeout, and no redirects
/// (a redirect would re-send credentials to another host).
fn token_client_settings(
    builder: reqwest::ClientBuilder,
    connect_timeout: Duration,
) -> reqwest::ClientBuilder {
    builder
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
}

/// `expires_in` (seconds, a number or a numeric string) as a lifetime: `None`
/// when missing or not a number, negative as zero, at most [`MAX_TOKEN_LIFETIME`].
fn lifetime(value: &serde_json::Value) -> Option<Duration> {
    let seconds = match value {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if seconds.is_nan() {
        return None;
    }
    let max = MAX_TOKEN_LIFETIME.as_secs_f64();
    Duration::try_from_secs_f64(seconds.clamp(0.0, max)).ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lifetimes_are_clamped() {
        let max = Some(MAX_TOKEN_LIFETIME);
        let cases = [
            (json!(3600), Some(Duration::from_secs(3600))),
            (json!("3600"), Some(Duration::from_secs(3600))),
            (json!(" 90 "), Some(Duration::from_secs(90))),
            (json!(1.5), Some(Duration::from_millis(1500))),
            (json!(0), Some(Duration::ZERO)),
            (json!(-1), Some(Duration::ZERO)),
            (json!(i64::MIN), Some(Duration::ZERO)),
            (json!("-5"), Some(Duration::ZERO)),
            (json!(u64::MAX), max),
            (json!(1e300), max),
            (json!("inf"), max),
            (json!("-inf"), Some(Duration::ZERO)),
            (json!("NaN"), None),
            (json!("soon"), None),
            (json!(null), None),
            (json!([1]), None),
        ];
        for (value, expected) in cases {
            assert_eq!(lifetime(&value), expected, "{value}");
        }
    }

    #[test]
    fn expiry_of_extreme_lifetimes_does_not_overflow() {
        let mut tokens = TokenSet {
            access_token: SecretString::from("at"),
            refresh_token: None,
            expires_in: Some(Duration::MAX),
            received_at: SystemTime::now(),
            scopes: Vec::new(),
            token_type: None,
        };
        assert_eq!(tokens.expires_at(), None);
        tokens.expires_in = Some(MAX_TOKEN_LIFETIME);
        assert!(tokens.expires_at().is_some());
    }
}
