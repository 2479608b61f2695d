//! The `Authorization` header of API requests: a static token, or an OAuth
//! session that refreshes shortly before expiry and once after a 401, with
//! concurrent requests sharing a single refresh.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument as _;

use super::store::{RefreshLease, StoredTokens, TokenStore, TokenStoreError};
use super::{AuthError, OAuthClient, OAuthCredentials};

/// How long before its expiry an access token is refreshed (at most half its lifetime).
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The `Authorization` value to send, and which token generation it is
/// (to tell, after a 401, whether someone else already refreshed).
#[derive(Clone)]
pub(crate) struct AuthHeader {
    pub(crate) value: HeaderValue,
    pub(crate) generation: u64,
}

/// Where the access token comes from.
pub(crate) enum Authenticator {
    /// A fixed token (never refreshed).
    Static(HeaderValue),
    /// An OAuth refresh-token session (shared with the refresh task it spawns).
    OAuth(Arc<OAuthSession>),
}

impl Authenticator {
    /// A static bearer token.
    pub(crate) fn static_token(token: &SecretString) -> Result<Self, AuthError> {
        Ok(Self::Static(bearer(token)?))
    }

    /// The header for the next request (refreshing first when the token is missing or about to expire).
    pub(crate) async fn header(&self) -> Result<AuthHeader, AuthError> {
        match self {
            Self::Static(value) => Ok(AuthHeader {
                value: value.clone(),
                generation: 0,
            }),
            Self::OAuth(session) => session.header().await,
        }
    }

    /// Whether a 401 on a request sent with `rejected` can be answered by
    /// refreshing: OAuth only, and at most once per access token (a token
    /// obtained by a refresh after a 401 is not refreshed again for a 401).
    pub(crate) fn can_refresh(&self, rejected: &AuthHeader) -> bool {
        match self {
            Self::Static(_) => false,
            Self::OAuth(session) => session.may_refresh_after_unauthorized(rejected),
        }
    }

    /// A request sent with `header` was answered with another status than
    /// 401: the token works, so a later 401 on it may refresh again.
    pub(crate) fn accepted(&self, header: &AuthHeader) {
        if let Self::OAuth(session) = self {
            let mut state = session.state();
            if state.refreshed_after_401 == Some(header.generation) {
                state.refreshed_after_401 = None;
            }
        }
    }

    /// After a 401 on a request sent with `rejected`: a newer token (refreshing unless another request already did).
    pub(crate) async fn refresh_after_unauthorized(
        &self,
        rejected: &AuthHeader,
    ) -> Result<AuthHeader, AuthError> {
        match self {
            Self::Static(_) => Ok(rejected.clone()),
            Self::OAuth(session) => {
                session
                    .refresh(rejected.generation, Some(rejected.value.clone()))
                    .await
            }
        }
    }
}

/// An OAuth session: the current access token, the refresh token, and the single-flight refresh.
///
/// A refresh runs in a task of its own (spawned on the caller's runtime) that
/// holds the refresh lock until the new tokens are saved to the
/// [`TokenStore`] and stored here: cancelling every caller waiting on it (a
/// timeout, a `select!`, a dropped web request) cannot lose a rotated refresh
/// token.
///
/// One refresh attempt answers every caller that waited for it, failure
/// included: callers queued behind a failed attempt get its error (no second
/// token request). After a failure the next attempt waits a bounded,
/// jittered backoff (callers meanwhile get the last error at once); an
/// `invalid_grant` is final until [`OAuthSession::set_tokens`] gives new ones.
pub(crate) struct OAuthSession {
    client: OAuthClient,
    state: Mutex<SessionState>,
    refresh_lock: Arc<tokio::sync::Mutex<()>>,
    store: Arc<dyn TokenStore>,
    /// How long a used refresh token keeps working at the token endpoint.
    grace: Duration,
}

struct SessionState {
    access: Option<CachedToken>,
    refresh_token: SecretString,
    generation: u64,
    /// Refresh attempts finished (success or failure).
    attempts: u64,
    /// The last attempt's failure, until an attempt succeeds.
    failure: Option<LastFailure>,
    /// Tokens issued whose save failed, with the refresh token they replace:
    /// saved by the next attempt before they are used.
    unsaved: Option<(StoredTokens, SecretString)>,
    /// A refresh token sent without an answer (it may be consumed), and when
    /// it was first sent: spent again only while its grace lasts.
    in_doubt: Option<InDoubt>,
    /// When the store was last read while a final failure blocked refreshes.
    final_checked_at: Option<Instant>,
    /// Whether a background task is saving `unsaved`.
    saving_in_background: bool,
    /// The generation obtained by a refresh after a 401, until a request sent
    /// with it is answered with another status: a 401 on it meanwhile does
    /// not refresh again (at most one refresh per access token for 401s).
    refreshed_after_401: Option<u64>,
}

struct InDoubt {
    token: SecretString,
    first_sent: Instant,
}

/// How often, at most, a session blocked by a final failure reads the store
/// for tokens another process (or [`OAuthSession::set_tokens`] there) saved.
pub(crate) const FINAL_RECHECK_INTERVAL: Duration = Duration::from_secs(1);

struct LastFailure {
    error: AuthError,
    /// When the next attempt may run (`None`: never, until new tokens are given).
    retry_at: Option<Instant>,
    consecutive: u32,
}

/// An access token inside the refresh margin is still used (when its refresh
/// fails) until this long before its expiry.
pub(crate) const STILL_VALID_MARGIN: Duration = Duration::from_secs(5);

/// The first backoff after a failed refresh (doubled per failure in a row, jittered).
pub(crate) const REFRESH_BACKOFF_BASE: Duration = Duration::from_millis(500);
/// The longest backoff between refresh attempts.
pub(crate) const REFRESH_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The backoff after `consecutive` failures in a row: base x 2^(n-1), at most
/// the cap, then a random 50 % to 100 % of that.
fn refresh_backoff(consecutive: u32) -> Duration {
    let exponent = consecutive.saturating_sub(1).min(16);
    let full = REFRESH_BACKOFF_BASE
        .saturating_mul(1u32 << exponent)
        .min(REFRESH_BACKOFF_MAX);
    full.mul_f64(rand::random_range(0.5..=1.0))
}

struct CachedToken {
    token: SecretString,
    header: HeaderValue,
    expires_at: Option<SystemTime>,
    /// When to refresh proactively (`None`: lifetime unknown, keep until a 401).
    refresh_at: Option<Instant>,
}

impl CachedToken {
    /// A token with `remaining` lifetime: refreshed [`REFRESH_MARGIN`] before
    /// its expiry, or at half the remaining time when that is shorter.
    /// A lifetime too long for `Instant` arithmetic counts as unknown.
    fn new(token: SecretString, expires_at: Option<SystemTime>) -> Result<Self, AuthError> {
        let now = Instant::now();
        let remaining = expires_at.map(|at| {
            at.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        });
        Ok(Self {
            header: bearer(&token)?,
            token,
            expires_at,
            refresh_at: remaining.and_then(|life| {
                now.checked_add(
                    life.saturating_sub(
                        REFRESH_MARGIN.min(life.checked_div(2).unwrap_or_default()),
                    ),
                )
            }),
        })
    }

    fn is_fresh(&self) -> bool {
        self.refresh_at.is_none_or(|at| Instant::now() < at)
    }
}

impl OAuthSession {
    pub(crate) fn new(
        client: OAuthClient,
        credentials: OAuthCredentials,
        store: Arc<dyn TokenStore>,
        grace: Duration,
    ) -> Result<Self, AuthError> {
        let access = match credentials.access_token {
            Some(token) => {
                let mut cached = CachedToken::new(token, credentials.access_token_expires_at)?;
                // Only the remaining time is known: refresh once less than the margin is left.
                cached.refresh_at = credentials.access_token_expires_at.and_then(|at| {
                    let left = at
                        .duration_since(SystemTime::now())
                        .unwrap_or(Duration::ZERO)
                        .saturating_sub(REFRESH_MARGIN);
                    Instant::now().checked_add(left)
                });
                Some(cached)
            }
            None => None,
        };
        Ok(Self {
            client,
            state: Mutex::new(SessionState {
                access,
                refresh_token: credentials.refresh_token,
                generation: 0,
                attempts: 0,
                failure: None,
                unsaved: None,
                in_doubt: None,
                final_checked_at: None,
                saving_in_background: false,
                refreshed_after_401: None,
            }),
            refresh_lock: Arc::new(tokio::sync::Mutex::new(())),
            store,
            grace,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> (Option<AuthHeader>, u64) {
        let state = self.state();
        let header = state
            .access
            .as_ref()
            .filter(|t| t.is_fresh())
            .map(|t| AuthHeader {
                value: t.header.clone(),
                generation: state.generation,
            });
        (header, state.generation)
    }

    /// The tokens this session holds now (the newest, saved or not).
    pub(crate) fn credentials(&self) -> StoredTokens {
        let state = self.state();
        if let Some((tokens, _)) = &state.unsaved {
            return tokens.clone();
        }
        let mut tokens = StoredTokens::new(state.refresh_token.clone());
        if let Some(access) = &state.access {
            tokens = tokens.with_access_token(access.token.clone(), access.expires_at);
        }
        tokens
    }

    async fn header(self: &Arc<Self>) -> Result<AuthHeader, AuthError> {
        match self.current() {
            (Some(header), _) => Ok(header),
            (None, generation) => match self.refresh(generation, None).await {
                Ok(header) => Ok(header),
                // a proactive refresh (inside the refresh margin) that failed:
                // the token it was to replace still works until it expires
                Err(error) => self.still_valid().ok_or(error),
            },
        }
    }

    /// Whether a 401 on `rejected` may trigger a refresh: not when `rejected`
    /// is the current token and was itself obtained by a refresh after a 401.
    fn may_refresh_after_unauthorized(&self, rejected: &AuthHeader) -> bool {
        let state = self.state();
        !(rejected.generation == state.generation
            && state.refreshed_after_401 == Some(state.generation))
    }

    /// The current access token while it has not expired (inside the refresh margin).
    fn still_valid(&self) -> Option<AuthHeader> {
        let state = self.state();
        let access = state.access.as_ref()?;
        let expires_at = access.expires_at?;
        // a margin for the request's flight time
        let deadline = expires_at.checked_sub(STILL_VALID_MARGIN)?;
        (SystemTime::now() < deadline).then(|| AuthHeader {
            value: access.header.clone(),
            generation: state.generation,
        })
    }

    /// The last failure, while it blocks new attempts (final, or within its backoff).
    fn blocked(state: &SessionState) -> Option<AuthError> {
        let failure = state.failure.as_ref()?;
        match failure.retry_at {
            Some(at) if Instant::now() >= at => None,
            _ => Some(failure.error.share()),
        }
    }

    /// Whether a final failure blocks refreshes and the store is due for a new look.
    fn final_recheck_due(state: &SessionState) -> bool {
        state.failure.as_ref().is_some_and(|f| f.retry_at.is_none())
            && state
                .final_checked_at
                .is_none_or(|at| at.elapsed() >= FINAL_RECHECK_INTERVAL)
    }

    /// After a final failure: whether the store holds another refresh token
    /// than the refused one (saved by another process, e.g. after a
    /// `set_tokens` there). If so, the failure is cleared and the next
    /// attempt starts from the store.
    async fn recheck_store(&self) -> bool {
        self.state().final_checked_at = Some(Instant::now());
        let Ok(Some(stored)) = self.store.load().await else {
            return false;
        };
        let mut state = self.state();
        if stored.refresh_token.expose_secret() == state.refresh_token.expose_secret() {
            return false;
        }
        tracing::info!("the store holds new tokens after a final refresh failure: using them");
        state.failure = None;
        state.in_doubt = None;
        true
    }

    /// Refreshes unless the token changed since generation `stale` (single flight:
    /// callers queue on one lock and reuse what the first one obtained, a
    /// failure included). `rejected` is the header a 401 refused.
    ///
    /// The refresh itself runs in a spawned task that owns the lock: if every
    /// caller is dropped mid-refresh, it still completes and saves the tokens.
    async fn refresh(
        self: &Arc<Self>,
        stale: u64,
        rejected: Option<HeaderValue>,
    ) -> Result<AuthHeader, AuthError> {
        let seen = {
            let state = self.state();
            if let Some(error) = Self::blocked(&state)
                && !Self::final_recheck_due(&state)
            {
                return Err(error);
            }
            state.attempts
        };
        let flight = Arc::clone(&self.refresh_lock).lock_owned().await;
        let recheck = {
            let state = self.state();
            if state.generation != stale
                && let Some(token) = state.access.as_ref()
            {
                // issued while this caller waited for the lock: use it
                return Ok(AuthHeader {
                    value: token.header.clone(),
                    generation: state.generation,
                });
            }
            if state.attempts != seen
                && let Some(failure) = &state.failure
            {
                // the attempt this caller waited for failed: share its outcome
                return Err(failure.error.share());
            }
            match Self::blocked(&state) {
                Some(error) if Self::final_recheck_due(&state) => Some(error),
                Some(error) => return Err(error),
                None => None,
            }
        };
        if let Some(error) = recheck
            && !self.recheck_store().await
        {
            return Err(error);
        }
        let session = Arc::clone(self);
        let task = tokio::spawn(
            async move {
                let result = session.run_refresh(rejected).await;
                drop(flight);
                session.save_in_background();
                result
            }
            .instrument(tracing::Span::current()),
        );
        task.await.unwrap_or(Err(AuthError::RefreshAborted))
    }

    /// One refresh attempt under the store's lease, then its outcome recorded
    /// for every caller that waited on it.
    async fn run_refresh(&self, rejected: Option<HeaderValue>) -> Result<AuthHeader, AuthError> {
        tracing::debug!(
            after_unauthorized = rejected.is_some(),
            "refreshing the access token"
        );
        let after_401 = rejected.is_some();
        let result = match self.store.acquire().await {
            Ok(mut lease) => {
                let result = self.refresh_leased(&mut lease, rejected.as_ref()).await;
                self.store.release(lease).await;
                result
            }
            Err(error) => Err(AuthError::Store(error)),
        };
        let mut state = self.state();
        state.attempts = state.attempts.wrapping_add(1);
        match &result {
            Ok(header) => {
                state.failure = None;
                if after_401 {
                    state.refreshed_after_401 = Some(header.generation);
                }
                tracing::debug!(generation = header.generation, "access token refreshed");
            }
            Err(error) => {
                let consecutive = state
                    .failure
                    .as_ref()
                    .map_or(1, |f| f.consecutive.saturating_add(1));
                let retry_at = if error.is_final() {
                    None
                } else {
                    Instant::now().checked_add(refresh_backoff(consecutive))
                };
                tracing::warn!(
                    error = %error,
                    final_ = retry_at.is_none(),
                    "token refresh failed"
                );
                state.failure = Some(LastFailure {
                    error: error.share(),
                    retry_at,
                    consecutive,
                });
            }
        }
        result
    }

    async fn refresh_leased(
        &self,
        lease: &mut RefreshLease,
        rejected: Option<&HeaderValue>,
    ) -> Result<AuthHeader, AuthError> {
        // Tokens an earlier attempt could not save: save them before using them.
        let unsaved = self.state().unsaved.clone();
        if let Some((tokens, replaces)) = unsaved {
            lease.set_replaces(replaces);
            match self.store.save(&tokens, lease).await {
                Ok(()) => {
                    self.state().unsaved = None;
                    return self.adopt(tokens);
                }
                Err(TokenStoreError::Superseded) => {
                    // someone else saved since: theirs are newer, read below
                    self.state().unsaved = None;
                }
                Err(error) => return Err(AuthError::Store(error)),
            }
        }
        let mut refresh_token = match self.newer_in_store(rejected).await? {
            Newer::Fresh(tokens) => return self.adopt(tokens),
            Newer::RefreshToken(token) => token,
            Newer::None => self.state().refresh_token.clone(),
        };
        let mut retried = false;
        let tokens = loop {
            match self.spend(&refresh_token).await {
                Ok(tokens) => break tokens,
                // The store may hold a newer refresh token than the one refused
                // (saved by another process meanwhile): one more try with it.
                Err(error) if error.is_invalid_grant() && !retried => {
                    retried = true;
                    match self.store.load().await {
                        Ok(Some(stored))
                            if stored.refresh_token.expose_secret()
                                != refresh_token.expose_secret() =>
                        {
                            refresh_token = stored.refresh_token;
                        }
                        Ok(_) => {
                            self.state().refresh_token = refresh_token;
                            return Err(error);
                        }
                        // not known whether the store holds newer tokens:
                        // not final, the next attempt (after a backoff) looks again
                        Err(store) => return Err(AuthError::Store(store)),
                    }
                }
                Err(error) => {
                    if error.is_final() {
                        // the token a final failure is about (the store is
                        // re-read for another one before giving up for good)
                        self.state().refresh_token = refresh_token;
                    }
                    return Err(error);
                }
            }
        };
        let expires_at = tokens.expires_at();
        let new = StoredTokens {
            refresh_token: tokens
                .refresh_token
                .unwrap_or_else(|| refresh_token.clone()),
            access_token: Some(tokens.access_token),
            access_token_expires_at: expires_at,
        };
        let rotated = new.refresh_token.expose_secret() != refresh_token.expose_secret();
        lease.set_replaces(refresh_token.clone());
        match self.store.save(&new, lease).await {
            Ok(()) => {}
            // another process saved tokens since: ours are not stored (the
            // access token works; the next refresh starts from the store's)
            Err(TokenStoreError::Superseded) => {
                tracing::debug!("the store holds newer tokens than those replaced; not saved");
                return self.adopt(new);
            }
            Err(error) => {
                tracing::warn!(error = %error, rotated, "the new tokens could not be saved; kept and saved in the background");
                self.state().unsaved = Some((new, refresh_token));
                return Err(AuthError::Store(error));
            }
        }
        tracing::debug!(rotated, "new tokens saved");
        self.adopt(new)
    }

    /// Starts a task that saves tokens whose save failed: at once, then after
    /// a growing backoff, until saved (or superseded by newer stored tokens).
    /// It needs no lease: the save is a compare-and-set on the refresh token
    /// the tokens replace. It ends with the session.
    fn save_in_background(self: &Arc<Self>) {
        {
            let mut state = self.state();
            if state.unsaved.is_none() || state.saving_in_background {
                return;
            }
            state.saving_in_background = true;
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(
            async move {
                let mut failures = 0u32;
                loop {
                    let Some(session) = weak.upgrade() else { return };
                    match session.flush().await {
                        Ok(()) => {
                            session.state().saving_in_background = false;
                            return;
                        }
                        Err(error) => {
                            failures = failures.saturating_add(1);
                            tracing::warn!(error = %error, failures, "saving the new tokens failed again; retrying in the background");
                        }
                    }
                    drop(session);
                    tokio::time::sleep(refresh_backoff(failures)).await;
                }
            }
            .instrument(tracing::Span::current()),
        );
    }

    /// Saves tokens whose save failed (kept in memory) now, then uses them;
    /// nothing to do when there are none. Tokens superseded by newer stored
    /// ones are dropped (the stored ones are read by the next refresh).
    pub(crate) async fn flush(&self) -> Result<(), AuthError> {
        let _flight = self.refresh_lock.lock().await;
        let Some((tokens, replaces)) = self.state().unsaved.clone() else {
            return Ok(());
        };
        let mut lease = RefreshLease::local();
        lease.set_replaces(replaces);
        match self.store.save(&tokens, &lease).await {
            Ok(()) => {
                tracing::info!("the new tokens were saved");
                self.state().unsaved = None;
                self.adopt(tokens)?;
                self.state().failure = None;
                Ok(())
            }
            Err(TokenStoreError::Superseded | TokenStoreError::LeaseLost) => {
                self.state().unsaved = None;
                Ok(())
            }
            Err(error) => Err(AuthError::Store(error)),
        }
    }

    /// Exchanges `token` at the token endpoint. An ambiguous failure (no
    /// answer after the request was sent: the token may be consumed) is
    /// retried at once with the same token, once, while the grace since the
    /// token was first sent leaves room for a whole token request; a token in
    /// doubt is never sent after that (a reuse after the grace revokes the
    /// grant): [`AuthError::RefreshOutcomeUnknown`].
    async fn spend(&self, token: &SecretString) -> Result<super::TokenSet, AuthError> {
        let timeout = self.client.timeout();
        let mut retried = false;
        loop {
            let first_sent = {
                let state = self.state();
                state
                    .in_doubt
                    .as_ref()
                    .filter(|d| d.token.expose_secret() == token.expose_secret())
                    .map(|d| d.first_sent)
            };
            if let Some(first_sent) = first_sent
                && first_sent.elapsed().saturating_add(timeout) >= self.grace
            {
                return Err(AuthError::RefreshOutcomeUnknown { grace: self.grace });
            }
            let sent = Instant::now();
            let result = self.client.refresh(token).await;
            let mut state = self.state();
            match &result {
                Err(error) if error.is_ambiguous() => {
                    if first_sent.is_none() {
                        state.in_doubt = Some(InDoubt {
                            token: token.clone(),
                            first_sent: sent,
                        });
                    }
                    if !retried {
                        retried = true;
                        tracing::warn!(error = %error, "no answer to the token request: retrying at once with the same refresh token (inside its grace)");
                        continue;
                    }
                }
                // a definite answer: the token is no longer in doubt
                _ => {
                    if first_sent.is_some() {
                        state.in_doubt = None;
                    }
                }
            }
            return result;
        }
    }

    /// What the store holds that this session does not (another process refreshed).
    async fn newer_in_store(&self, rejected: Option<&HeaderValue>) -> Result<Newer, AuthError> {
        let Some(stored) = self.store.load().await.map_err(AuthError::Store)? else {
            return Ok(Newer::None);
        };
        if stored.same_tokens(&self.credentials()) {
            return Ok(Newer::None);
        }
        if let Some(access) = &stored.access_token {
            let cached = CachedToken::new(access.clone(), stored.access_token_expires_at)?;
            if cached.is_fresh() && rejected.is_none_or(|r| r != cached.header) {
                return Ok(Newer::Fresh(stored));
            }
        }
        Ok(Newer::RefreshToken(stored.refresh_token))
    }

    /// Uses `tokens` from now on (a new generation).
    fn adopt(&self, tokens: StoredTokens) -> Result<AuthHeader, AuthError> {
        let access = match tokens.access_token {
            Some(token) => CachedToken::new(token, tokens.access_token_expires_at)?,
            None => return Err(AuthError::InvalidToken),
        };
        let mut state = self.state();
        let header = access.header.clone();
        state.access = Some(access);
        state.refresh_token = tokens.refresh_token;
        state.generation = state.generation.wrapping_add(1);
        Ok(AuthHeader {
            value: header,
            generation: state.generation,
        })
    }

    /// Replaces the tokens (new credentials after an `invalid_grant`, or tokens
    /// obtained elsewhere): saved to the store, then used; clears a final failure.
    pub(crate) async fn set_tokens(&self, tokens: StoredTokens) -> Result<(), AuthError> {
        let _flight = self.refresh_lock.lock().await;
        // no `replaces`: the new tokens win over whatever is stored
        let lease = self.store.acquire().await.map_err(AuthError::Store)?;
        let saved = self.store.save(&tokens, &lease).await;
        self.store.release(lease).await;
        saved.map_err(AuthError::Store)?;
        let access = match &tokens.access_token {
            Some(token) => Some(CachedToken::new(
                token.clone(),
                tokens.access_token_expires_at,
            )?),
            None => None,
        };
        let mut state = self.state();
        state.access = access;
        state.refresh_token = tokens.refresh_token;
        state.generation = state.generation.wrapping_add(1);
        state.failure = None;
        state.unsaved = None;
        state.in_doubt = None;
        Ok(())
    }
}

/// What [`OAuthSession::newer_in_store`] found.
enum Newer {
    /// Nothing newer: refresh with this session's refresh token.
    None,
    /// A fresh access token another process obtained: use it, no token request.
    Fresh(StoredTokens),
    /// A newer refresh token (its access token is stale or was rejected).
    RefreshToken(SecretString),
}

/// `Bearer <token>` as a header value marked sensitive (hidden from `Debug`, never indexed by HPACK).
pub(crate) fn bearer(token: &SecretString) -> Result<HeaderValue, AuthError> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
        .map_err(|_| AuthError::InvalidToken)?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_is_sensitive_and_hidden() {
        let value = bearer(&SecretString::from("tok-123")).unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("tok-123"));
        assert!(bearer(&SecretString::from("bad\nvalue")).is_err());
    }

    fn cached(lifetime: Option<Duration>) -> CachedToken {
        CachedToken::new(
            SecretString::from("x"),
            lifetime.and_then(|l| SystemTime::now().checked_add(l)),
        )
        .unwrap()
    }

    #[test]
    fn freshness_uses_margin() {
        assert!(cached(Some(Duration::from_secs(3600))).is_fresh());
        assert!(!cached(Some(Duration::ZERO)).is_fresh());
        // within the margin (30 s left < 60 s margin, capped at half the lifetime = 15 s): fresh for 15 s
        assert!(cached(Some(Duration::from_secs(30))).is_fresh());
        assert!(cached(None).is_fresh());
    }

    #[test]
    fn lifetimes_beyond_instant_do_not_overflow() {
        for life in [
            Duration::from_secs(u64::MAX / 4),
            Duration::from_secs(1 << 40),
        ] {
            assert!(cached(Some(life)).is_fresh());
        }
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        for n in [1, 2, 5, 30, u32::MAX] {
            let d = refresh_backoff(n);
            assert!(d <= REFRESH_BACKOFF_MAX, "{n}: {d:?}");
            assert!(d >= REFRESH_BACKOFF_BASE / 2, "{n}: {d:?}");
        }
        assert!(refresh_backoff(1) <= REFRESH_BACKOFF_BASE);
        assert!(refresh_backoff(40) >= REFRESH_BACKOFF_MAX / 2);
    }
}
