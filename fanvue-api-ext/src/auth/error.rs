use std::time::Duration;

use reqwest::StatusCode;

use super::store::TokenStoreError;
use crate::error::TransportError;

/// A failure of the OAuth token endpoint (refresh or code exchange).
///
/// Carries the OAuth `error` code and description the server sent, never a
/// token or the raw body (a token response body holds secrets).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint answered with an error status (e.g. `invalid_grant`).
    #[error("token endpoint rejected the request ({status}){}{}",
        error.as_ref().map(|e| format!(": {e}")).unwrap_or_default(),
        description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected {
        /// The HTTP status.
        status: StatusCode,
        /// The OAuth `error` code.
        error: Option<String>,
        /// The OAuth `error_description`.
        description: Option<String>,
        /// The endpoint's id of the request (`X-Request-Id`), when it sent one.
        request_id: Option<String>,
    },
    /// The token endpoint could not be reached or its response not read.
    #[error("token endpoint unreachable: {0}")]
    Transport(#[source] TransportError),
    /// The token endpoint answered success with a body that is not a token response.
    #[error("token endpoint sent an invalid token response ({status}): {reason}")]
    InvalidResponse {
        /// The HTTP status.
        status: StatusCode,
        /// What was wrong (never the body itself).
        reason: &'static str,
        /// The endpoint's id of the request (`X-Request-Id`), when it sent one.
        request_id: Option<String>,
    },
    /// The token endpoint did not answer within the configured timeout
    /// (see [`OAuthClient::with_timeouts`](crate::auth::OAuthClient::with_timeouts)).
    #[error("token endpoint timed out after {} ms", after.as_millis())]
    Timeout {
        /// The configured total timeout of a token request.
        after: Duration,
    },
    /// The token endpoint answered with a redirect, or the response came from
    /// another URL than the token URL. Redirects are never followed: they
    /// would carry the client secret, refresh token or PKCE verifier elsewhere.
    #[error("token endpoint redirected ({status}); redirects are not followed")]
    Redirected {
        /// The status of the response.
        status: StatusCode,
        /// The id of the request (`X-Request-Id`) in the redirecting response, when it had one.
        request_id: Option<String>,
    },
    /// The refresh task ended without a result (the runtime shut down, or the
    /// rotated-token callback panicked after the new tokens were stored).
    #[error("the token refresh was aborted")]
    RefreshAborted,
    /// The token endpoint returned an access token that cannot be put in a header.
    #[error("the access token is not a valid HTTP header value")]
    InvalidToken,
    /// A token request was sent but no answer came (a timeout or a reset after
    /// sending), and it could not be retried while the refresh token's grace
    /// lasted. The token endpoint may have consumed the refresh token; spending
    /// it again after the grace would revoke the whole grant, so it is not spent
    /// again. Final until newer tokens are stored (by another process) or given
    /// with [`Fanvue::set_tokens`](crate::Fanvue::set_tokens).
    #[error(
        "no answer to the token request within the refresh token's grace ({} ms); not spent again",
        grace.as_millis()
    )]
    RefreshOutcomeUnknown {
        /// The grace ([`FanvueBuilder::refresh_grace`](crate::FanvueBuilder::refresh_grace)).
        grace: Duration,
    },
    /// The [`TokenStore`](crate::auth::TokenStore) failed (nothing was lost:
    /// tokens not yet saved are kept and saved by the next attempt).
    #[error("token store: {0}")]
    Store(#[source] TokenStoreError),
}

impl AuthError {
    /// Whether the refresh token itself was refused (`invalid_grant`): final
    /// until new credentials are given.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, Self::Rejected { error: Some(e), .. } if e == "invalid_grant")
    }

    /// Whether the token endpoint may have acted on the request without the
    /// answer arriving (a timeout, or a reset or cut body after sending): the
    /// refresh token may be consumed.
    pub(crate) fn is_ambiguous(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Transport(e) => e.kind() != crate::error::TransportErrorKind::Connect,
            _ => false,
        }
    }

    /// Whether no further attempt is made until new tokens arrive.
    pub(crate) fn is_final(&self) -> bool {
        self.is_invalid_grant() || matches!(self, Self::RefreshOutcomeUnknown { .. })
    }

    /// The id of the request (`X-Request-Id`) in the token endpoint's response, for failures that
    /// come from a response that had one (for a transport failure after the headers arrived, the
    /// [`TransportError`]'s).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Rejected { request_id, .. }
            | Self::InvalidResponse { request_id, .. }
            | Self::Redirected { request_id, .. } => request_id.as_deref(),
            Self::Transport(e) => e.request_id(),
            _ => None,
        }
    }

    /// The same failure, for another caller that waited on the same refresh
    /// (sources that cannot be cloned are carried as their text).
    pub(crate) fn share(&self) -> Self {
        match self {
            Self::Rejected {
                status,
                error,
                description,
                request_id,
            } => Self::Rejected {
                status: *status,
                error: error.clone(),
                description: description.clone(),
                request_id: request_id.clone(),
            },
            Self::Transport(e) => Self::Transport(
                TransportError::new(e.kind(), Repeated::of(e))
                    .with_request_id(e.request_id().map(str::to_owned)),
            ),
            Self::InvalidResponse {
                status,
                reason,
                request_id,
            } => Self::InvalidResponse {
                status: *status,
                reason,
                request_id: request_id.clone(),
            },
            Self::Timeout { after } => Self::Timeout { after: *after },
            Self::Redirected { status, request_id } => Self::Redirected {
                status: *status,
                request_id: request_id.clone(),
            },
            Self::RefreshAborted => Self::RefreshAborted,
            Self::RefreshOutcomeUnknown { grace } => Self::RefreshOutcomeUnknown { grace: *grace },
            Self::InvalidToken => Self::InvalidToken,
            Self::Store(e) => Self::Store(match e {
                TokenStoreError::Io(io) => {
                    TokenStoreError::Io(std::io::Error::new(io.kind(), Repeated::of(io)))
                }
                TokenStoreError::Corrupt { reason } => TokenStoreError::Corrupt { reason },
                TokenStoreError::Unavailable(source) => {
                    TokenStoreError::Unavailable(Box::new(Repeated(source.to_string())))
                }
                TokenStoreError::LeaseLost => TokenStoreError::LeaseLost,
                TokenStoreError::Superseded => TokenStoreError::Superseded,
                TokenStoreError::LockTimeout { after } => {
                    TokenStoreError::LockTimeout { after: *after }
                }
            }),
        }
    }
}

/// The text of an error that another caller got first.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Repeated(String);

impl Repeated {
    fn of(error: &dyn std::error::Error) -> Self {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self(text)
    }
}
