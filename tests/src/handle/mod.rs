//! [`FakeFanvue`], the running fake, split by concern: [`builder`] (options and start), URLs and
//! credentials (here), [`faults`] (faults and knobs), [`rate_limits`], [`inspect`] (request log,
//! uploads, waiting), [`data`] (seeded answers, overrides, data) and [`webhooks`].

mod builder;
mod data;
mod faults;
mod fixtures;
mod inspect;
mod rate_limits;
mod webhooks;

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use builder::FakeFanvueBuilder;
pub use inspect::{AssembledObject, UploadInfo};
pub(crate) use webhooks::fan_message_event;

use crate::auth;
use crate::config::DEFAULT_API_VERSION;
use crate::error::FakeError;
use crate::state::{AccessEntry, Shared};

/// A new access token with exactly `scopes` (see [`FakeFanvue::mint_access_token`]).
pub(crate) fn mint_token(shared: &Shared, scopes: Vec<String>) -> String {
    let token = auth::new_token("fvat");
    let mut st = shared.lock();
    st.tokens.access.insert(
        token.clone(),
        AccessEntry {
            expires_at: None,
            revoked: false,
        },
    );
    st.token_scopes.insert(token.clone(), scopes);
    token
}

/// See [`FakeFanvue::reset`].
pub(crate) fn reset(shared: &Shared) {
    let fresh = builder::initial_state(&shared.config);
    {
        let mut st = shared.lock();
        let url_seq = st.url_seq;
        *st = fresh;
        // Presigned URLs handed out before the reset stay distinct from new ones.
        st.url_seq = url_seq;
        st.expired_below_seq = url_seq;
    }
    shared.rate_limits.reset(
        shared.config.rate_limit_window,
        &shared.config.operation_rate_limits,
    );
    shared.bump();
}

/// The running fake. Dropping it stops the listeners.
pub struct FakeFanvue {
    shared: Arc<Shared>,
    api_url: String,
    auth_url: String,
    s3_url: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for FakeFanvue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFanvue")
            .field("api_url", &self.api_url)
            .field("auth_url", &self.auth_url)
            .field("s3_url", &self.s3_url)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeFanvue {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FakeFanvue {
    /// Starts building a fake.
    pub fn builder() -> FakeFanvueBuilder {
        FakeFanvueBuilder::default()
    }

    /// Starts a fake with default options.
    pub async fn start() -> Result<FakeFanvue, FakeError> {
        FakeFanvueBuilder::default().start().await
    }

    // ---- URLs and credentials ----

    /// Base URL of the API, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Base URL of the OAuth server (its own port): `POST {auth_url}/oauth2/token`, `GET {auth_url}/oauth2/auth`.
    pub fn auth_url(&self) -> &str {
        &self.auth_url
    }

    /// `{auth_url}/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.auth_url)
    }

    /// Base URL of the fake S3 (a different port from the API).
    pub fn s3_url(&self) -> &str {
        &self.s3_url
    }

    /// URL of the raw single-PUT endpoint for `key` (no signature needed).
    pub fn raw_put_url(&self, key: &str) -> String {
        format!("{}/{}/raw/{key}", self.s3_url, crate::BUCKET)
    }

    /// The primary static access token (never expires unless expired on demand).
    pub fn access_token(&self) -> String {
        self.shared.config.access_tokens[0].clone()
    }

    /// The most recently issued access token (the static one until a token request succeeds).
    pub fn latest_access_token(&self) -> String {
        self.shared.lock().tokens.latest_access.clone()
    }

    /// The current valid refresh token (the initial one until rotated).
    pub fn refresh_token(&self) -> String {
        self.shared.lock().tokens.latest_refresh.clone()
    }

    /// OAuth client id.
    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    /// OAuth client secret.
    pub fn client_secret(&self) -> &str {
        &self.shared.config.client_secret
    }

    /// The API version accepted by default.
    pub fn api_version(&self) -> &'static str {
        DEFAULT_API_VERSION
    }

    /// Successful `grant_type=refresh_token` exchanges so far.
    pub fn token_refresh_count(&self) -> u64 {
        self.shared.lock().tokens.refresh_count
    }

    /// Successful `grant_type=authorization_code` exchanges so far.
    pub fn code_exchange_count(&self) -> u64 {
        self.shared.lock().tokens.code_exchange_count
    }

    /// Makes the API reject `token` with 401 from now on.
    pub fn expire_access_token(&self, token: &str) {
        if let Some(e) = self.shared.lock().tokens.access.get_mut(token) {
            e.revoked = true;
        }
    }

    /// Makes the API reject every access token issued so far (static ones included) with 401, so the next
    /// request needs a token refresh. Tokens issued afterwards work.
    pub fn expire_all_access_tokens(&self) {
        for e in self.shared.lock().tokens.access.values_mut() {
            e.revoked = true;
        }
    }

    /// Mints a new access token (never expiring unless expired on demand) carrying exactly `scopes`,
    /// e.g. `&["read:self"]`: an operation whose `x-fanvue-scopes` lists a scope it lacks answers 403
    /// `{error}` naming that scope. It belongs to the same user as every other token (same rate-limit
    /// buckets).
    pub fn mint_access_token(&self, scopes: &[&str]) -> String {
        mint_token(&self.shared, scopes.iter().map(|s| s.to_string()).collect())
    }

    /// Puts the fake back as it started: the seeded data (uploads, sent messages and stubs forgotten),
    /// the configured tokens only (minted and OAuth-issued ones stop working), no fault or gateway
    /// outage, no override, an empty request log and per-route counts, the builder's rate limits with
    /// every bucket forgotten, the builder's latency and processing knobs. The listeners, their URLs,
    /// the webhook endpoint and its attempts stay.
    pub fn reset(&self) {
        reset(&self.shared);
    }

    /// The scopes of [`Self::access_token`] and of the tokens the OAuth server issues
    /// ([`FakeFanvueBuilder::scope`]), space-separated.
    pub fn scope(&self) -> &str {
        &self.shared.config.scope
    }

    /// Registers an authorization code for a PKCE S256 `code_challenge` and `redirect_uri`; the code can be
    /// exchanged once at the token endpoint. (`GET /oauth2/auth` does the same and redirects with it.)
    pub fn register_authorization_code(&self, code_challenge: &str, redirect_uri: &str) -> String {
        auth::register_code(&self.shared, code_challenge, redirect_uri)
    }
}
