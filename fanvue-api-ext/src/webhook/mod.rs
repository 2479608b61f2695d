//! Receiving Fanvue webhooks: verify the `X-Fanvue-Signature`, then decode a typed [`Event`].
//!
//! ```
//! use fanvue_api_ext::webhook::{Event, Receiver};
//!
//! let receiver = Receiver::builder()
//!     .secret("my-signing-secret")
//!     .topic("message.received") // what this endpoint was set up for (flat bodies carry no type)
//!     .clock(|| 1_767_225_660)
//!     .build()?;
//! let body = br#"{"counterpartUuid":"b3e9a2c4-5d6f-4e7a-8b9c-0d1e2f3a4b5c","readMessagesCount":3,
//!   "recipientUuid":"0f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19","timestamp":"2026-01-01T00:00:00Z"}"#;
//! let signature = receiver.verifier().sign(1_767_225_600, body)?;
//! let mut headers = http::HeaderMap::new();
//! headers.insert("x-fanvue-signature", signature.parse()?);
//! headers.insert("x-fanvue-topic", "message.read".parse()?);
//! let delivery = receiver.receive(&headers, body)?;
//! assert!(matches!(delivery.event, Event::MessageRead(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Design: [`verify`] is the signature scheme alone (raw bytes in, trusted bytes out); [`event`] routes a
//! trusted body to the generated payload types; [`Receiver`] puts both behind one call with the body cap;
//! [`http`] and (feature `axum`) `extract` adapt it to requests. Nothing is parsed before the signature holds.

pub mod event;
#[cfg(feature = "axum")]
pub mod extract;
pub mod http;
pub mod verify;

use std::time::Duration;

use ::http::{HeaderMap, StatusCode};
use secrecy::SecretString;

pub use event::{Envelope, Event, PayloadError, TopicPolicy};
pub use verify::{
    Clock, DEFAULT_TOLERANCE, MalformedHeader, SIGNATURE_HEADER, SignatureHeader, SystemClock,
    Verifier, VerifierBuildError, VerifierBuilder, VerifyError,
};

/// The default body cap: 256 KiB (webhook bodies are small JSON objects).
pub const DEFAULT_MAX_BODY: usize = 256 * 1024;

/// The header third-party code reads a flat event's id from (unconfirmed by Fanvue).
pub const EVENT_ID_HEADER: &str = "x-fanvue-event-id";

/// Why a webhook request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signature did not verify (answer 401 and do not process).
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The body is larger than the cap (413).
    #[error("the webhook body exceeds {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// The body could not be read.
    #[error("the webhook body could not be read")]
    Body,
    /// Verified, but not a payload of its type (400).
    #[error(transparent)]
    Payload(#[from] PayloadError),
}

impl WebhookError {
    /// The status to answer: 401 for a signature failure, 413 for an oversized body, 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::Verify(_) => StatusCode::UNAUTHORIZED,
            WebhookError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::Body | WebhookError::Payload(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// A verified, decoded delivery.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// The event.
    pub event: Event,
    /// The signed timestamp `t` (Unix seconds).
    pub signed_at: u64,
    /// The flat event id header, when one arrived (reported only).
    pub event_id_header: Option<String>,
}

impl Delivery {
    /// The key to dedupe retries on: the envelope `id`, else the `x-fanvue-event-id` header (flat platform
    /// bodies carry no id).
    pub fn dedupe_key(&self) -> Option<&str> {
        self.event.id().or(self.event_id_header.as_deref())
    }
}

/// Verifies and decodes webhook requests for one endpoint.
#[derive(Debug, Clone)]
pub struct Receiver {
    verifier: Verifier,
    policy: TopicPolicy,
    max_body: usize,
}

/// Builds a [`Receiver`].
#[derive(Debug, Default)]
pub struct ReceiverBuilder {
    verifier: VerifierBuilder,
    policy: TopicPolicy,
    max_body: Option<usize>,
}

impl ReceiverBuilder {
    /// Adds a signing secret (several while rotating).
    pub fn secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.verifier = self.verifier.secret(secret);
        self
    }

    /// The freshness window (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.verifier = self.verifier.tolerance(tolerance);
        self
    }

    /// The clock (Unix seconds).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.verifier = self.verifier.clock(clock);
        self
    }

    /// The topic this endpoint receives, for flat bodies that arrive without a topic header.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.policy.declared = Some(topic.into());
        self
    }

    /// Guess a flat body's topic from its fields as a last resort (off by default; inferred rules).
    pub fn sniff_flat_topics(mut self, sniff: bool) -> Self {
        self.policy.sniff = sniff;
        self
    }

    /// The body cap in bytes (default [`DEFAULT_MAX_BODY`]).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// Builds the receiver.
    pub fn build(self) -> Result<Receiver, VerifierBuildError> {
        Ok(Receiver {
            verifier: self.verifier.build()?,
            policy: self.policy,
            max_body: self.max_body.unwrap_or(DEFAULT_MAX_BODY),
        })
    }
}

impl Receiver {
    /// A builder.
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder::default()
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The body cap in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Verifies `body` against the headers, then decodes it.
    pub fn receive(&self, headers: &HeaderMap, body: &[u8]) -> Result<Delivery, WebhookError> {
        if body.len() > self.max_body {
            return Err(WebhookError::TooLarge {
                limit: self.max_body,
            });
        }
        let signature = match headers.get(SIGNATURE_HEADER) {
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| {
                WebhookError::Verify(VerifyError::MalformedHeader(MalformedHeader::NotAscii))
            })?),
        };
        let signed_at = self.verifier.verify_at(signature, body)?;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let topic = event::TOPIC_HEADERS.iter().find_map(|h| header(h));
        let event = Event::parse(body, topic.as_deref(), &self.policy)?;
        Ok(Delivery {
            event,
            signed_at,
            event_id_header: header(EVENT_ID_HEADER),
        })
    }
}
