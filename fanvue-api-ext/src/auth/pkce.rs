//! The authorization-code flow with PKCE (RFC 7636, `S256`) for apps that
//! sign Fanvue users in.
//!
//! ```
//! use fanvue_api_ext::auth::{OAuthClient, Scope};
//!
//! let oauth = OAuthClient::new("my-client-id", "my-client-secret".to_string());
//! let authorization = oauth
//!     .authorization_request("https://app.example/callback")
//!     .scopes([Scope::OpenId, Scope::OfflineAccess, Scope::ReadSelf])
//!     .build();
//! // Send the user to `authorization.url`, keep `state` and `verifier`;
//! // on the callback check the state, then:
//! // let tokens = oauth.exchange_code(&code, &authorization.verifier).await?;
//! assert!(authorization.url.as_str().starts_with("https://auth.fanvue.com/oauth2/auth?"));
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use url::Url;

use super::{DEFAULT_AUTHORIZATION_URL, Scope};

/// An authorization request being prepared; [`build`](Self::build) gives the URL to send the user to.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<Scope>,
    state: Option<String>,
    authorization_url: Option<Url>,
}

/// A built authorization request: the URL, its `state`, and the PKCE verifier to keep for the exchange.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Authorization {
    /// Where to send the user.
    pub url: Url,
    /// The `state` value; compare it with the one on the callback ([`Authorization::state_matches`]).
    pub state: String,
    /// The PKCE verifier (secret) for [`OAuthClient::exchange_code`](super::OAuthClient::exchange_code).
    pub verifier: PkceVerifier,
}

impl Authorization {
    /// Whether the `state` returned on the callback is the one sent (constant-time comparison).
    pub fn state_matches(&self, returned: &str) -> bool {
        let (a, b) = (self.state.as_bytes(), returned.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A PKCE code verifier together with the redirect URI it was issued for.
#[derive(Clone)]
pub struct PkceVerifier {
    secret: SecretString,
    redirect_uri: String,
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PkceVerifier")
            .field("secret", &"[REDACTED]")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

impl PkceVerifier {
    /// A fresh random verifier (43 characters of base64url, 256 bits).
    pub fn generate(redirect_uri: impl Into<String>) -> Self {
        Self {
            secret: SecretString::from(random_token(32)),
            redirect_uri: redirect_uri.into(),
        }
    }

    /// Rebuilds a verifier stored between the two legs of the flow.
    pub fn from_parts(secret: impl Into<SecretString>, redirect_uri: impl Into<String>) -> Self {
        Self {
            secret: secret.into(),
            redirect_uri: redirect_uri.into(),
        }
    }

    /// The verifier itself (to store it between the two legs).
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// The redirect URI the authorization request used.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The `S256` challenge: base64url(SHA-256(verifier)).
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.secret.expose_secret().as_bytes()))
    }
}

impl AuthorizationRequest {
    /// A request for `client_id` that returns to `redirect_uri`.
    pub fn new(client_id: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scopes: Vec::new(),
            state: None,
            authorization_url: None,
        }
    }

    /// Adds one scope.
    pub fn scope(mut self, scope: Scope) -> Self {
        if !self.scopes.contains(&scope) {
            self.scopes.push(scope);
        }
        self
    }

    /// Adds scopes.
    pub fn scopes(self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        scopes.into_iter().fold(self, Self::scope)
    }

    /// Uses this `state` instead of a random one.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Uses another authorization endpoint (default `https://auth.fanvue.com/oauth2/auth`).
    pub fn authorization_url(mut self, url: Url) -> Self {
        self.authorization_url = Some(url);
        self
    }

    /// The URL to send the user to, with a fresh verifier (and state, unless set).
    pub fn build(self) -> Authorization {
        let verifier = PkceVerifier::generate(self.redirect_uri.clone());
        let state = self.state.unwrap_or_else(|| random_token(16));
        let mut url = match self.authorization_url {
            Some(url) => url,
            None => super::constant_url(DEFAULT_AUTHORIZATION_URL),
        };
        let scope = self
            .scopes
            .iter()
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", &scope)
            .append_pair("state", &state)
            .append_pair("code_challenge", &verifier.challenge())
            .append_pair("code_challenge_method", "S256");
        Authorization {
            url,
            state,
            verifier,
        }
    }
}

fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_challenge() {
        let verifier = PkceVerifier::from_parts(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string(),
            "https://app/cb",
        );
        assert_eq!(
            verifier.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn url_has_every_parameter() {
        let auth = AuthorizationRequest::new("client-1", "https://app.example/cb?x=1")
            .scopes([Scope::ReadSelf, Scope::WriteMedia, Scope::ReadSelf])
            .scope(Scope::Unknown("read:vault".into()))
            .build();
        let pairs: std::collections::HashMap<String, String> =
            auth.url.query_pairs().into_owned().collect();
        assert_eq!(auth.url.host_str(), Some("auth.fanvue.com"));
        assert_eq!(auth.url.path(), "/oauth2/auth");
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(pairs["client_id"], "client-1");
        assert_eq!(pairs["redirect_uri"], "https://app.example/cb?x=1");
        assert_eq!(pairs["scope"], "read:self write:media read:vault");
        assert_eq!(pairs["state"], auth.state);
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert_eq!(pairs["code_challenge"], auth.verifier.challenge());
        assert!(
            !auth
                .url
                .as_str()
                .contains(auth.verifier.secret().expose_secret())
        );
        let len = auth.verifier.secret().expose_secret().len();
        assert!((43..=128).contains(&len));
        assert!(auth.state_matches(&auth.state.clone()));
        assert!(!auth.state_matches("other"));
        assert!(!format!("{auth:?}").contains(auth.verifier.secret().expose_secret()));
    }

    #[test]
    fn fresh_values_each_time() {
        let a = AuthorizationRequest::new("c", "https://x/cb").build();
        let b = AuthorizationRequest::new("c", "https://x/cb").build();
        assert_ne!(a.state, b.state);
        assert_ne!(a.verifier.challenge(), b.verifier.challenge());
    }
}
