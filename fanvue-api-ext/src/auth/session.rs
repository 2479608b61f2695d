//! The `Authorization` header of API requests: a static token, or an OAuth
//! session that refreshes shortly before expiry and once after a 401, with
//! concurrent requests sharing a single refresh.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument as _;

use super::{AuthError, OAuthClient, OAuthCredentials, RefreshTokenCallback};

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

    /// Whether a 401 can be answered by refreshing.
    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self, Self::OAuth(_))
    }

    /// After a 401 on a request sent with `rejected`: a newer token (refreshing unless another request already did).
    pub(crate) async fn refresh_after_unauthorized(
        &self,
        rejected: &AuthHeader,
    ) -> Result<AuthHeader, AuthError> {
        match self {
            Self::Static(_) => Ok(rejected.clone()),
            Self::OAuth(session) => session.refresh(rejected.generation, true).await,
        }
    }
}

/// An OAuth session: the current access token, the refresh token, and the single-flight refresh.
///
/// A refresh runs in a task of its own (spawned on the caller's runtime) that
/// holds the refresh lock until the new tokens are stored and the rotation
/// callback has run: cancelling every caller waiting on it (a timeout, a
/// `select!`, a dropped web request) cannot lose a rotated refresh token.
pub(crate) struct OAuthSession {
    client: OAuthClient,
    state: Mutex<SessionState>,
    refresh_lock: Arc<tokio::sync::Mutex<()>>,
    on_rotated: Option<RefreshTokenCallback>,
}

struct SessionState {
    access: Option<CachedToken>,
    refresh_token: SecretString,
    generation: u64,
}

struct CachedToken {
    header: HeaderValue,
    /// When to refresh proactively (`None`: lifetime unknown, keep until a 401).
    refresh_at: Option<Instant>,
}

impl CachedToken {
    /// A token just issued for `lifetime`: refreshed [`REFRESH_MARGIN`] before
    /// its expiry, or at half its lifetime when that is shorter.
    /// A lifetime too long for `Instant` arithmetic counts as unknown.
    fn new(header: HeaderValue, lifetime: Option<Duration>) -> Self {
        let now = Instant::now();
        Self {
            header,
            refresh_at: lifetime.and_then(|life| {
                now.checked_add(
                    life.saturating_sub(
                        REFRESH_MARGIN.min(life.checked_div(2).unwrap_or_default()),
                    ),
                )
            }),
        }
    }

    fn is_fresh(&self) -> bool {
        self.refresh_at.is_none_or(|at| Instant::now() < at)
    }
}

impl OAuthSession {
    pub(crate) fn new(
        client: OAuthClient,
        credentials: OAuthCredentials,
        on_rotated: Option<RefreshTokenCallback>,
    ) -> Result<Self, AuthError> {
        let access = match &credentials.access_token {
            Some(token) => {
                // Only the remaining time is known: refresh once less than the margin is left.
                let refresh_in = credentials.access_token_expires_at.map(|at| {
                    at.duration_since(SystemTime::now())
                        .unwrap_or(Duration::ZERO)
                        .saturating_sub(REFRESH_MARGIN)
                });
                Some(CachedToken {
                    header: bearer(token)?,
                    // an expiry too far ahead for `Instant` counts as unknown
                    refresh_at: refresh_in.and_then(|d| Instant::now().checked_add(d)),
                })
            }
            None => None,
        };
        Ok(Self {
            client,
            state: Mutex::new(SessionState {
                access,
                refresh_token: credentials.refresh_token,
                generation: 0,
            }),
            refresh_lock: Arc::new(tokio::sync::Mutex::new(())),
            on_rotated,
        })
    }

    fn current(&self) -> (Option<AuthHeader>, u64) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
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

    async fn header(self: &Arc<Self>) -> Result<AuthHeader, AuthError> {
        match self.current() {
            (Some(header), _) => Ok(header),
            (None, generation) => self.refresh(generation, false).await,
        }
    }

    /// Refreshes unless the token changed since generation `stale` (single flight:
    /// callers queue on one lock and reuse the token the first one obtained).
    ///
    /// The refresh itself runs in a spawned task that owns the lock: if every
    /// caller is dropped mid-refresh, it still completes, stores the tokens and
    /// hands a rotated refresh token to the callback.
    async fn refresh(
        self: &Arc<Self>,
        stale: u64,
        after_unauthorized: bool,
    ) -> Result<AuthHeader, AuthError> {
        let flight = Arc::clone(&self.refresh_lock).lock_owned().await;
        let refresh_token = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.generation != stale
                && let Some(token) = state.access.as_ref()
            {
                // issued while this caller waited for the lock: use it
                return Ok(AuthHeader {
                    value: token.header.clone(),
                    generation: state.generation,
                });
            }
            state.refresh_token.clone()
        };
        let session = Arc::clone(self);
        let task = tokio::spawn(
            async move {
                let result = session.run_refresh(refresh_token, after_unauthorized).await;
                drop(flight);
                result
            }
            .instrument(tracing::Span::current()),
        );
        task.await.unwrap_or(Err(AuthError::RefreshAborted))
    }

    /// Calls the token endpoint, stores the new tokens, then runs the rotation callback.
    async fn run_refresh(
        &self,
        refresh_token: SecretString,
        after_unauthorized: bool,
    ) -> Result<AuthHeader, AuthError> {
        tracing::debug!(after_unauthorized, "refreshing the access token");
        let tokens = self.client.refresh(&refresh_token).await?;
        let header = bearer(&tokens.access_token)?;
        let (generation, rotated) = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.access = Some(CachedToken::new(header.clone(), tokens.expires_in));
            state.generation = state.generation.wrapping_add(1);
            let rotated = tokens
                .refresh_token
                .filter(|new| new.expose_secret() != state.refresh_token.expose_secret());
            if let Some(new) = &rotated {
                state.refresh_token = new.clone();
            }
            (state.generation, rotated)
        };
        tracing::debug!(
            generation,
            rotated = rotated.is_some(),
            "access token refreshed"
        );
        if let (Some(new), Some(callback)) = (rotated, &self.on_rotated) {
            callback(new);
        }
        Ok(AuthHeader {
            value: header,
            generation,
        })
    }
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

    #[test]
    fn freshness_uses_margin() {
        let long = CachedToken::new(
            HeaderValue::from_static("x"),
            Some(Duration::from_secs(3600)),
        );
        assert!(long.is_fresh());
        let expired = CachedToken::new(HeaderValue::from_static("x"), Some(Duration::ZERO));
        assert!(!expired.is_fresh());
        // within the margin (30 s left < 60 s margin, capped at half the lifetime = 15 s): fresh for 15 s
        let short = CachedToken::new(HeaderValue::from_static("x"), Some(Duration::from_secs(30)));
        assert!(short.is_fresh());
        let unknown = CachedToken::new(HeaderValue::from_static("x"), None);
        assert!(unknown.is_fresh());
    }

    #[test]
    fn lifetimes_beyond_instant_do_not_overflow() {
        for life in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
            let token = CachedToken::new(HeaderValue::from_static("x"), Some(life));
            assert!(token.is_fresh());
        }
    }
}
