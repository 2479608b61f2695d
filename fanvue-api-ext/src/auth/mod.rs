//! Credentials: a static access token, OAuth 2.0 refresh-token sessions, and
//! the authorization-code + PKCE flow for apps that sign users in.
//!
//! Tokens live in [`secrecy::SecretString`]: they never appear in `Debug`
//! output, logs or errors, and the access token is only ever sent to the
//! API's origin (the refresh token and client secret only to the token URL).

mod error;
pub mod pkce;
#[cfg(feature = "redis")]
pub mod redis;
mod scope;
pub(crate) mod session;
pub(crate) mod store;
mod token_endpoint;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use secrecy::SecretString;

pub use error::AuthError;
pub use scope::Scope;
pub use store::{
    FileTokenStore, MemoryTokenStore, RefreshLease, StoredTokens, TokenStore, TokenStoreError,
};
pub use token_endpoint::{
    DEFAULT_TOKEN_CONNECT_TIMEOUT, DEFAULT_TOKEN_TIMEOUT, MAX_TOKEN_LIFETIME, OAuthClient, TokenSet,
};

/// Parses one of this crate's constant URLs (each is parsed in a unit test).
#[allow(
    clippy::expect_used,
    reason = "constant input, never from the network or the user; covered by a unit test"
)]
pub(crate) fn constant_url(url: &'static str) -> url::Url {
    url::Url::parse(url).expect("the crate's constant URLs parse")
}

/// How long a used refresh token keeps working, as reported for Fanvue (30 s):
/// refresh tokens are single-use and rotate; a reuse inside the grace still
/// works, a reuse after it revokes the whole grant (every process is signed
/// out). Set with [`FanvueBuilder::refresh_grace`](crate::FanvueBuilder::refresh_grace);
/// the token timeout and a shared store's lease must be shorter.
pub const DEFAULT_REFRESH_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Fanvue's OAuth 2.0 token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://auth.fanvue.com/oauth2/token";
/// Fanvue's OAuth 2.0 authorization endpoint (authorization code + PKCE).
pub const DEFAULT_AUTHORIZATION_URL: &str = "https://auth.fanvue.com/oauth2/auth";

/// What [`FanvueBuilder::oauth`](crate::FanvueBuilder::oauth) needs to keep a
/// session alive: the app's client credentials and the user's refresh token
/// (plus, optionally, a still-valid access token to start with).
#[derive(Clone)]
pub struct OAuthCredentials {
    /// The OAuth client id of the app.
    pub client_id: String,
    /// The OAuth client secret of the app (sent only to the token URL, with HTTP Basic).
    pub client_secret: SecretString,
    /// The user's refresh token (sent only to the token URL).
    pub refresh_token: SecretString,
    /// An access token to use until it expires (else the first request refreshes).
    pub access_token: Option<SecretString>,
    /// When `access_token` expires (unknown = assumed valid until a 401).
    pub access_token_expires_at: Option<SystemTime>,
}

impl OAuthCredentials {
    /// Credentials that start by refreshing.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        refresh_token: impl Into<SecretString>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
            access_token: None,
            access_token_expires_at: None,
        }
    }

    /// Starts with `access_token`, valid until `expires_at` (if known).
    pub fn with_access_token(
        mut self,
        access_token: impl Into<SecretString>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        self.access_token = Some(access_token.into());
        self.access_token_expires_at = expires_at;
        self
    }
}

impl fmt::Debug for OAuthCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("refresh_token", &"[REDACTED]")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("access_token_expires_at", &self.access_token_expires_at)
            .finish()
    }
}

/// Called with the new refresh token whenever the token endpoint rotates it;
/// persist it, the old one may no longer work. A convenience over
/// [`TokenStore`]: it runs right after the new tokens were saved to the
/// store, before the new access token is used, inside the refresh (in a task
/// of its own, so it runs even when every request waiting on the refresh was
/// cancelled); requests wait for it: keep it quick. A store of your own
/// surfaces its errors to the caller; a callback cannot.
pub type RefreshTokenCallback = Arc<dyn Fn(SecretString) + Send + Sync + 'static>;

#[cfg(test)]
mod tests {
    #[test]
    fn constant_urls_parse() {
        for url in [super::DEFAULT_TOKEN_URL, super::DEFAULT_AUTHORIZATION_URL] {
            assert_eq!(super::constant_url(url).as_str(), url);
        }
    }
}
