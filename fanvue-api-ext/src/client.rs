//! [`Fanvue`], the client users hold, and its [`FanvueBuilder`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

use crate::auth::session::{Authenticator, OAuthSession};
use crate::auth::store::CallbackStore;
use crate::auth::{
    DEFAULT_REFRESH_GRACE, DEFAULT_TOKEN_TIMEOUT, DEFAULT_TOKEN_URL, MemoryTokenStore, OAuthClient,
    OAuthCredentials, RefreshTokenCallback, StoredTokens, TokenStore,
};
use crate::error::{BuildError, Error, TransportError};
use crate::executor::Executor;
use crate::ratelimit::{RateLimitMode, RateLimiter};
use crate::retry::{RetryPolicy, RetryQuota};

/// The default `User-Agent`: `fanvue-rust/<crate version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("fanvue-rust/", env!("CARGO_PKG_VERSION"));
/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on a success response's body ([`FanvueBuilder::max_response_body`]).
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 16 * 1024 * 1024;
pub use crate::executor::MAX_ERROR_BODY;
/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A Fanvue API client: every generated operation, with auth, the pinned API
/// version, retries and tracing. Cheap to clone (shares one connection pool).
///
/// ```no_run
/// # async fn run() -> Result<(), fanvue_api_ext::Error> {
/// use fanvue_api_ext::prelude::*;
/// use fanvue_api_ext::Fanvue;
///
/// let fanvue = Fanvue::builder().access_token("my-token".to_string()).build()?;
/// let me = fanvue.api().get_current_user().send().await?;
/// # let _ = me; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Fanvue {
    shared: Arc<Shared>,
}

struct Shared {
    api: fanvue_api::Client,
    transfer: reqwest::Client,
    policy: RetryPolicy,
    quota: Arc<RetryQuota>,
    api_version: String,
    base_url: Url,
    /// Plain `http://` allowed (base and token URLs, presigned part URLs).
    allow_insecure_http: bool,
    /// The OAuth session (`None` with a static token).
    session: Option<Arc<OAuthSession>>,
    limiter: RateLimiter,
}

impl fmt::Debug for Fanvue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fanvue")
            .field("base_url", &self.shared.base_url.as_str())
            .field("api_version", &self.shared.api_version)
            .field("retry_policy", &self.shared.policy)
            .finish_non_exhaustive()
    }
}

impl Fanvue {
    /// Starts configuring a client.
    pub fn builder() -> FanvueBuilder {
        FanvueBuilder::default()
    }

    /// The generated client: every operation of the API (`fanvue.api().get_current_user()`).
    pub fn api(&self) -> &fanvue_api::Client {
        &self.shared.api
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.policy
    }

    /// The API version sent in `X-Fanvue-API-Version`.
    pub fn api_version(&self) -> &str {
        &self.shared.api_version
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        &self.shared.base_url
    }

    /// The client-side rate limiter (shared by every clone of this client).
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.shared.limiter
    }

    /// The OAuth tokens this client holds now: the newest refresh token (saved
    /// to the [`TokenStore`], or kept until it can be), and the current access
    /// token with its expiry. `None` for a client built with a static
    /// [`access_token`](FanvueBuilder::access_token).
    pub fn credentials(&self) -> Option<StoredTokens> {
        self.shared.session.as_ref().map(|s| s.credentials())
    }

    /// Replaces the OAuth tokens (after the user signed in again, when the
    /// old refresh token was refused with `invalid_grant`): saves them to the
    /// [`TokenStore`], then uses them. Ends a final refresh failure.
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] when the store refuses the save or the access token is
    /// not a valid header value; [`Error::InvalidInput`] for a client built
    /// with a static access token.
    pub async fn set_tokens(&self, tokens: StoredTokens) -> Result<(), Error> {
        match &self.shared.session {
            Some(session) => Ok(session.set_tokens(tokens).await?),
            None => Err(Error::invalid_input(
                "tokens",
                "this client uses a static access token, not OAuth",
            )),
        }
    }

    /// Saves now the OAuth tokens whose save to the [`TokenStore`] failed (the
    /// store was down between the token request and the save). Such tokens are
    /// kept in memory and saved again in the background, at once and then
    /// after a growing backoff; call this before the process exits so none is
    /// lost with it. `Ok` when there is nothing to save (or a static token).
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] with [`AuthError::Store`](crate::auth::AuthError::Store)
    /// when the store still refuses the save (the tokens stay in memory:
    /// [`credentials`](Self::credentials) gives them for a manual save).
    pub async fn flush_tokens(&self) -> Result<(), Error> {
        match &self.shared.session {
            Some(session) => Ok(session.flush().await?),
            None => Ok(()),
        }
    }

    /// The HTTP client for presigned URLs (S3 part uploads), which carry
    /// their own authorization: no credential or Fanvue header is added.
    pub(crate) fn transfer_client(&self) -> &reqwest::Client {
        &self.shared.transfer
    }

    /// Whether plain `http://` URLs are allowed (presigned part URLs included).
    pub(crate) fn allows_insecure_http(&self) -> bool {
        self.shared.allow_insecure_http
    }

    /// The client-wide retry quota, shared by API requests and upload parts.
    pub(crate) fn retry_quota(&self) -> &Arc<RetryQuota> {
        &self.shared.quota
    }
}

/// Configures a [`Fanvue`] client; see [`Fanvue::builder`].
#[must_use]
pub struct FanvueBuilder {
    base_url: String,
    allow_insecure_http: bool,
    access_token: Option<SecretString>,
    oauth: Option<OAuthCredentials>,
    on_rotated: Option<RefreshTokenCallback>,
    token_store: Option<Arc<dyn TokenStore>>,
    token_url: String,
    api_version: String,
    user_agent: String,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    token_timeout: Duration,
    refresh_grace: Duration,
    max_response_body: usize,
    retry_policy: RetryPolicy,
    http_client: Option<reqwest::Client>,
    transfer_client: Option<reqwest::Client>,
    rate_limiter: Option<RateLimiter>,
    rate_limit_mode: RateLimitMode,
    rate_limit_max_wait: Option<Duration>,
}

impl Default for FanvueBuilder {
    fn default() -> Self {
        Self {
            base_url: fanvue_api::DEFAULT_BASE_URL.to_owned(),
            allow_insecure_http: false,
            access_token: None,
            oauth: None,
            on_rotated: None,
            token_store: None,
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            api_version: fanvue_api::API_VERSION.to_owned(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            token_timeout: DEFAULT_TOKEN_TIMEOUT,
            refresh_grace: DEFAULT_REFRESH_GRACE,
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
            retry_policy: RetryPolicy::default(),
            http_client: None,
            transfer_client: None,
            rate_limiter: None,
            rate_limit_mode: RateLimitMode::default(),
            rate_limit_max_wait: None,
        }
    }
}

impl fmt::Debug for FanvueBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanvueBuilder")
            .field("base_url", &self.base_url)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("oauth", &self.oauth)
            .field("token_url", &self.token_url)
            .field("api_version", &self.api_version)
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("token_timeout", &self.token_timeout)
            .field("refresh_grace", &self.refresh_grace)
            .field("max_response_body", &self.max_response_body)
            .field("retry_policy", &self.retry_policy)
            .finish_non_exhaustive()
    }
}

impl FanvueBuilder {
    /// The API base URL (default `https://api.fanvue.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Allows plain `http://` base and token URLs, and presigned upload part
    /// URLs (local servers, tests). Default `false`: an `http://` part URL
    /// is then [`PartUploadError::InsecureUrl`](crate::upload::PartUploadError::InsecureUrl).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Authenticates with a fixed access token.
    pub fn access_token(mut self, token: impl Into<SecretString>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Authenticates with an OAuth refresh-token session.
    pub fn oauth(mut self, credentials: OAuthCredentials) -> Self {
        self.oauth = Some(credentials);
        self
    }

    /// Where the OAuth session keeps its tokens (default
    /// [`MemoryTokenStore`]): each refresh saves the new tokens there before
    /// the new access token is used, and first loads what is stored (tokens
    /// stored there win over the ones given with [`oauth`](Self::oauth)). A
    /// store shared by several processes (the `redis` feature's
    /// `RedisTokenStore`) makes them refresh one at a time and share the
    /// result. See [`TokenStore`].
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.token_store = Some(Arc::new(store));
        self
    }

    /// Called with the new refresh token whenever the token endpoint rotates
    /// it, right after it was saved to the [token store](Self::token_store).
    pub fn on_refresh_token_rotated(
        mut self,
        callback: impl Fn(SecretString) + Send + Sync + 'static,
    ) -> Self {
        self.on_rotated = Some(Arc::new(callback));
        self
    }

    /// The OAuth token URL (default `https://auth.fanvue.com/oauth2/token`).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The `X-Fanvue-API-Version` sent with every request (default [`fanvue_api::API_VERSION`]).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// The `User-Agent` (default `fanvue-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Timeout of each request attempt (default 60 s); `None` for none.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Connect timeout (default 10 s; not applied to a client given with [`http_client`](Self::http_client)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Total timeout of a token refresh request (default
    /// [`DEFAULT_TOKEN_TIMEOUT`], 10 s). It must be shorter than the
    /// [`refresh_grace`](Self::refresh_grace) ([`build`](Self::build) refuses
    /// it otherwise): a request that got no answer is retried with the same
    /// refresh token, and that is safe only inside the grace. The token
    /// endpoint has its own HTTP client (this builder's connect timeout, no
    /// redirects), never the one given with [`http_client`](Self::http_client).
    pub fn token_timeout(mut self, timeout: Duration) -> Self {
        self.token_timeout = timeout;
        self
    }

    /// How long a used refresh token keeps working at the token endpoint
    /// (default [`DEFAULT_REFRESH_GRACE`], 30 s, the value reported for
    /// Fanvue). Fanvue's refresh tokens are single-use and rotate; a reuse
    /// inside the grace still works, a reuse after it revokes the whole grant
    /// (every process is signed out until the user signs in again). The SDK
    /// keeps every reuse inside it:
    ///
    /// - a token request that got no answer (a timeout, or a reset after it
    ///   was sent) is retried at once with the same refresh token while a
    ///   whole [`token_timeout`](Self::token_timeout) still fits in the grace,
    ///   and never after
    ///   ([`AuthError::RefreshOutcomeUnknown`](crate::auth::AuthError::RefreshOutcomeUnknown));
    /// - [`build`](Self::build) refuses ([`BuildError::TimingExceedsGrace`]) a
    ///   token timeout, or a shared [token store](Self::token_store)'s lease
    ///   ([`TokenStore::lease`]), that is not shorter than the grace: a process
    ///   taking over from a lock holder that vanished mid-refresh then reuses
    ///   the token inside the grace.
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.refresh_grace = grace;
        self
    }

    /// The largest success response body read, in bytes (default
    /// [`DEFAULT_MAX_RESPONSE_BODY`], 16 MiB); a larger one is
    /// [`Error::ResponseTooLarge`]. Error bodies are always cut to
    /// [`MAX_ERROR_BODY`] (64 KiB).
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Sends API requests with this client (proxies, TLS settings, default
    /// headers, ...). Credentials and the version header are still added per
    /// request. Upload parts never go through it: they are sent by the
    /// [`transfer_client`](Self::transfer_client), by default one this builder
    /// creates (with no default headers), so nothing this client adds to its
    /// requests reaches the storage.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Sends upload parts to their presigned storage URLs with this client
    /// (default: one this builder creates, never the
    /// [`http_client`](Self::http_client)). No credential or Fanvue header is
    /// added to them. Give it **no default headers** (in particular no
    /// `Authorization`): reqwest adds a client's default headers to every
    /// request and they cannot be removed per request. Start from
    /// [`http_client_builder`](crate::http_client_builder) for a proxy or
    /// extra root certificates.
    pub fn transfer_client(mut self, client: reqwest::Client) -> Self {
        self.transfer_client = Some(client);
        self
    }

    /// What a request does when the client-side rate-limit window is
    /// exhausted (default [`RateLimitMode::Wait`]): see [`crate::ratelimit`].
    pub fn rate_limit(mut self, mode: RateLimitMode) -> Self {
        self.rate_limit_mode = mode;
        self
    }

    /// Uses this rate limiter (shared with the other clients given it, e.g.
    /// several clients of one credential, or [`RateLimiter::shared`] across
    /// processes with the `redis` feature) instead of one of its own; its
    /// mode wins over [`rate_limit`](Self::rate_limit).
    pub fn rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// The longest wait read from a rate-limit header (`X-RateLimit-Reset`,
    /// `Retry-After`) that a request takes before it is sent (default
    /// [`DEFAULT_MAX_WAIT`](crate::ratelimit::DEFAULT_MAX_WAIT), 120 s); a
    /// request that would wait longer fails at once with
    /// [`Error::RateLimited`] naming the wait. Set
    /// on the limiter, so it also applies to a limiter given with
    /// [`rate_limiter`](Self::rate_limiter) (see [`RateLimiter::set_max_wait`]).
    pub fn rate_limit_max_wait(mut self, max_wait: Duration) -> Self {
        self.rate_limit_max_wait = Some(max_wait);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Fanvue, Error> {
        Ok(self.build_inner()?)
    }

    fn build_inner(self) -> Result<Fanvue, BuildError> {
        let base_url = parse_endpoint(&self.base_url, "base URL", self.allow_insecure_http)?;
        let api_version = header_value(&self.api_version, "API version")?;
        let user_agent = header_value(&self.user_agent, "user agent")?;
        let own_client = || {
            crate::transport::client_builder()
                .map_err(BuildError::HttpClient)?
                .connect_timeout(self.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| BuildError::HttpClient(TransportError::from_reqwest(e)))
        };
        // Storage PUTs never go through a user's API client: reqwest adds a
        // client's default headers to every request and offers no way to
        // remove one per request (only to override it), so a default
        // `Authorization` would reach the storage. Without an explicit
        // transfer client they get one this crate builds (no default headers).
        let (http, transfer) = match (self.http_client, self.transfer_client) {
            (Some(http), Some(transfer)) => (http, transfer),
            (Some(http), None) => (http, own_client()?),
            (None, Some(transfer)) => (own_client()?, transfer),
            (None, None) => {
                let own = own_client()?;
                (own.clone(), own)
            }
        };
        let quota = Arc::new(RetryQuota::new(self.retry_policy.retry_quota()));
        let mut session = None;
        let auth = match (self.access_token, self.oauth) {
            (Some(_), Some(_)) => return Err(BuildError::ConflictingCredentials),
            (None, None) => return Err(BuildError::MissingCredentials),
            (Some(token), None) => {
                if token.expose_secret().trim().is_empty() {
                    return Err(BuildError::EmptyCredential {
                        what: "access token",
                    });
                }
                Authenticator::static_token(&token).map_err(|_| BuildError::InvalidHeader {
                    what: "access token",
                })?
            }
            (None, Some(credentials)) => {
                if credentials.refresh_token.expose_secret().trim().is_empty() {
                    return Err(BuildError::EmptyCredential {
                        what: "refresh token",
                    });
                }
                if credentials
                    .access_token
                    .as_ref()
                    .is_some_and(|t| t.expose_secret().trim().is_empty())
                {
                    return Err(BuildError::EmptyCredential {
                        what: "access token",
                    });
                }
                let grace = self.refresh_grace;
                if self.token_timeout >= grace {
                    return Err(BuildError::TimingExceedsGrace {
                        what: "token timeout",
                        value: self.token_timeout,
                        grace,
                    });
                }
                if let Some(lease) = self.token_store.as_ref().and_then(|s| s.lease())
                    && lease >= grace
                {
                    return Err(BuildError::TimingExceedsGrace {
                        what: "token store lease",
                        value: lease,
                        grace,
                    });
                }
                let oauth = OAuthClient::new(
                    credentials.client_id.clone(),
                    credentials.client_secret.clone(),
                )
                .with_token_url(&self.token_url, self.allow_insecure_http)?
                // never the API client: a user-given one may follow redirects
                .with_timeouts(self.token_timeout, self.connect_timeout)?;
                let store = self
                    .token_store
                    .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
                let store: Arc<dyn TokenStore> = match self.on_rotated {
                    Some(callback) => Arc::new(CallbackStore {
                        inner: store,
                        callback,
                    }),
                    None => store,
                };
                let oauth_session =
                    Arc::new(OAuthSession::new(oauth, credentials, store, grace).map_err(
                        |_| BuildError::InvalidHeader {
                            what: "access token",
                        },
                    )?);
                session = Some(Arc::clone(&oauth_session));
                Authenticator::OAuth(oauth_session)
            }
        };
        let limiter = self
            .rate_limiter
            .unwrap_or_else(|| RateLimiter::new(self.rate_limit_mode));
        if let Some(max_wait) = self.rate_limit_max_wait {
            limiter.set_max_wait(max_wait);
        }
        let executor = Executor {
            origin: base_url.origin(),
            auth,
            api_version,
            user_agent,
            policy: self.retry_policy.clone(),
            quota: quota.clone(),
            timeout: self.timeout,
            max_body: self.max_response_body,
            limiter: limiter.clone(),
        };
        let inner = fanvue_api::executor::Inner::with_executor(Arc::new(executor));
        let base = base_url.as_str().trim_end_matches('/');
        let api = fanvue_api::Client::new_with_client(base, http, inner);
        Ok(Fanvue {
            shared: Arc::new(Shared {
                api,
                transfer,
                policy: self.retry_policy,
                quota,
                api_version: self.api_version,
                base_url,
                allow_insecure_http: self.allow_insecure_http,
                session,
                limiter,
            }),
        })
    }
}

fn header_value(value: &str, what: &'static str) -> Result<HeaderValue, BuildError> {
    HeaderValue::from_str(value).map_err(|_| BuildError::InvalidHeader { what })
}

/// Parses an absolute `https` URL (or `http` when allowed) without credentials, query or fragment.
pub(crate) fn parse_endpoint(
    url: &str,
    what: &'static str,
    allow_insecure_http: bool,
) -> Result<Url, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidUrl {
        what,
        reason: reason.to_owned(),
    };
    let parsed = Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_insecure_http => {}
        "http" => return Err(BuildError::InsecureUrl { what }),
        _ => return Err(invalid("the scheme must be https (or http when allowed)")),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    if parsed.fragment().is_some() {
        return Err(invalid("must not contain a fragment"));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert!(parse_endpoint("https://api.fanvue.com", "base URL", false).is_ok());
        assert!(matches!(
            parse_endpoint("http://127.0.0.1:1", "base URL", false),
            Err(BuildError::InsecureUrl { .. })
        ));
        assert!(parse_endpoint("http://127.0.0.1:1", "base URL", true).is_ok());
        for bad in [
            "",
            "api.fanvue.com",
            "ftp://x",
            "https://user:pw@x",
            "https://x/#f",
            "https://",
        ] {
            assert!(
                matches!(
                    parse_endpoint(bad, "base URL", true),
                    Err(BuildError::InvalidUrl { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn build_errors() {
        let err = Fanvue::builder().build().unwrap_err();
        assert!(matches!(err, Error::Build(BuildError::MissingCredentials)));
        let err = Fanvue::builder()
            .access_token("a".to_string())
            .oauth(OAuthCredentials::new(
                "id",
                "s".to_string(),
                "r".to_string(),
            ))
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Build(BuildError::ConflictingCredentials)
        ));
        let err = Fanvue::builder()
            .access_token("a".to_string())
            .base_url("http://localhost:1")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Build(BuildError::InsecureUrl { .. })));
        let err = Fanvue::builder()
            .access_token("a".to_string())
            .api_version("bad\nversion")
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Build(BuildError::InvalidHeader { .. })
        ));
        let err = Fanvue::builder()
            .access_token("line\nbreak".to_string())
            .build()
            .unwrap_err();
        assert!(!err.to_string().contains("line"));
    }

    #[test]
    fn defaults() {
        let fanvue = Fanvue::builder()
            .access_token("tok".to_string())
            .build()
            .unwrap();
        assert_eq!(fanvue.api_version(), fanvue_api::API_VERSION);
        assert_eq!(fanvue.base_url().as_str(), "https://api.fanvue.com/");
        assert_eq!(fanvue.retry_policy(), &RetryPolicy::default());
        assert!(DEFAULT_USER_AGENT.starts_with("fanvue-rust/0.1.0"));
        let debug = format!(
            "{fanvue:?} {:?}",
            Fanvue::builder().access_token("tok-secret".to_string())
        );
        assert!(!debug.contains("tok-secret"));
    }

    /// Reads one request head from `listener`.
    async fn request_head(listener: tokio::net::TcpListener) -> String {
        use tokio::io::AsyncReadExt as _;
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap() == 1 {
            head.push(byte[0]);
        }
        String::from_utf8_lossy(&head).to_ascii_lowercase()
    }

    #[tokio::test]
    async fn transfer_client_sends_no_credentials_or_api_headers() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/bucket/key?X-Amz-Signature=abc",
            listener.local_addr().unwrap()
        );
        let fanvue = Fanvue::builder()
            .access_token("tok-transfer".to_string())
            .build()
            .unwrap();
        let put = fanvue.transfer_client().put(url).body("part").send();
        let (head, _) = tokio::join!(request_head(listener), put);
        assert!(head.starts_with("put /bucket/key?"), "{head}");
        assert!(!head.contains("authorization"), "{head}");
        assert!(!head.contains("tok-transfer"));
        assert!(!head.contains("x-fanvue"), "{head}");
    }
}
