//! Receiving Fanvue webhooks: verify the `X-Fanvue-Signature`, then decode a typed [`Event`].
//!
//! ```
//! use fanvue_api_ext::webhook::{Event, Receiver};
//!
//! let receiver = Receiver::builder()
//!     .secret("my-signing-secret")
//!     // what this endpoint was set up for (flat bodies carry no type); with two, a topic header chooses
//!     .topic("message.received")
//!     .topic("message.read")
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
//! // A header naming a topic this endpoint was not set up for decides nothing.
//! headers.insert("x-fanvue-topic", "purchase.new".parse()?);
//! assert!(matches!(receiver.receive(&headers, body)?.event, Event::Unknown { .. }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Design: [`verify`] is the signature scheme alone (raw bytes in, trusted bytes out); [`event`] routes a
//! trusted body to the generated payload types; [`Receiver`] puts both behind one call with the body cap;
//! [`http`] and (feature `axum`) `extract` adapt it to requests. Nothing is parsed before the signature holds.
//!
//! Trust: the signature covers `t` and the body, nothing else. The other headers a delivery may carry —
//! the topic headers ([`TOPIC_HEADERS`]) and [`EVENT_ID_HEADER`] — are unauthenticated: a captured
//! delivery can be replayed with any of them changed. So a declared topic decides a flat body's type
//! ([`TopicPolicy`]), and the dedupe key comes from the signed body only ([`Delivery::dedupe_key`]).
//! A verified body that does not decode is still delivered (as [`Event::Unknown`], with its bytes), so a
//! handler can store it before answering 2xx.

pub mod event;
#[cfg(feature = "axum")]
pub mod extract;
pub mod http;
pub mod verify;

use std::time::Duration;

use ::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

pub use event::{Decoded, Envelope, Event, PayloadError, TOPIC_HEADERS, TopicPolicy, TopicSource};
pub use verify::{
    Clock, DEFAULT_TOLERANCE, MalformedHeader, SIGNATURE_HEADER, SignatureHeader, SystemClock,
    Verifier, VerifierBuildError, VerifierBuilder, VerifyError,
};

/// The default body cap: 256 KiB (webhook bodies are small JSON objects).
pub const DEFAULT_MAX_BODY: usize = 256 * 1024;

/// The header third-party code reads a flat event's id from (unconfirmed by Fanvue, and not covered by the
/// signature: never a dedupe key on its own).
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
    /// The body could not be read (the connection broke, or its framing is invalid) (400).
    #[error("the webhook body could not be read")]
    Body,
    /// A request without any `X-Fanvue-Signature`, acknowledged because the receiver was built with
    /// [`ReceiverBuilder::acknowledge_unsigned_probes`]: answer 200 and process nothing.
    #[error("an unsigned request (a subscription probe?) was acknowledged and not processed")]
    UnsignedProbe,
}

impl WebhookError {
    /// The status to answer: 401 for a signature failure, 413 for an oversized body, 200 for an
    /// acknowledged unsigned probe, 400 for a body that could not be read.
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::Verify(_) => StatusCode::UNAUTHORIZED,
            WebhookError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::UnsignedProbe => StatusCode::OK,
            WebhookError::Body => StatusCode::BAD_REQUEST,
        }
    }
}

/// A verified delivery, decoded as far as it goes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// The event; [`Event::Unknown`] when the body is not a payload of its type (see `decode_error`).
    pub event: Event,
    /// Where the event's type came from (only [`TopicSource::Header`] rests on an unauthenticated header).
    pub topic_source: TopicSource,
    /// Why the verified body did not decode as its type, when it did not.
    pub decode_error: Option<PayloadError>,
    /// The verified body, byte for byte (store it before answering 2xx).
    pub body: Bytes,
    /// The signed timestamp `t` (Unix seconds).
    pub signed_at: u64,
    /// The flat event id header, when one arrived (reported only; unauthenticated).
    pub event_id_header: Option<String>,
    /// The topic header, when one arrived (unauthenticated; see [`TopicPolicy`] for when it counts).
    pub topic_header: Option<String>,
    dedupe_key: String,
}

/// What a [`Delivery::dedupe_key`] is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DedupeSource {
    /// The envelope `id` (stable across Fanvue's retries).
    EnvelopeId,
    /// `sha256:` and the hex SHA-256 of the signed body: flat bodies carry no id, and a retry is signed
    /// anew (new `t`, new signature) over the same bytes.
    BodyDigest,
}

impl Delivery {
    /// The key to dedupe retries and replays on. It depends on the signed body only: the envelope `id`, else
    /// the body's SHA-256 ([`DedupeSource`]). Never the unauthenticated [`EVENT_ID_HEADER`], which a replay
    /// can change.
    pub fn dedupe_key(&self) -> &str {
        &self.dedupe_key
    }

    /// What [`Delivery::dedupe_key`] is made of.
    pub fn dedupe_source(&self) -> DedupeSource {
        if self.event.id().is_some() {
            DedupeSource::EnvelopeId
        } else {
            DedupeSource::BodyDigest
        }
    }
}

/// Verifies and decodes webhook requests for one endpoint.
#[derive(Debug, Clone)]
pub struct Receiver {
    verifier: Verifier,
    policy: TopicPolicy,
    max_body: usize,
    acknowledge_probes: bool,
}

/// Builds a [`Receiver`].
#[derive(Debug, Default)]
pub struct ReceiverBuilder {
    verifier: VerifierBuilder,
    policy: TopicPolicy,
    max_body: Option<usize>,
    acknowledge_probes: bool,
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

    /// A topic this endpoint was set up for (call once per topic). Flat bodies carry no type: one declared
    /// topic decides alone, whatever an (unauthenticated) topic header says; with several, the header may
    /// only choose among them. Declare what the endpoint receives whenever you can.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.policy.declared.push(topic.into());
        self
    }

    /// Answer a request that has no `X-Fanvue-Signature` at all with 200, processing nothing
    /// ([`WebhookError::UnsignedProbe`]); off by default (401). Fanvue is reported to probe an endpoint
    /// without a signature when a subscription is created, and to fail the subscription unless it succeeds.
    /// A request with a signature that fails is still 401.
    pub fn acknowledge_unsigned_probes(mut self, acknowledge: bool) -> Self {
        self.acknowledge_probes = acknowledge;
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
            acknowledge_probes: self.acknowledge_probes,
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

    /// The topic policy (declared topics, sniffing).
    pub fn topic_policy(&self) -> &TopicPolicy {
        &self.policy
    }

    /// Verifies `body` against the headers, then decodes it (copies the body into
    /// [`Delivery::body`]; [`Receiver::receive_bytes`] does not).
    pub fn receive(&self, headers: &HeaderMap, body: &[u8]) -> Result<Delivery, WebhookError> {
        if body.len() > self.max_body {
            return Err(WebhookError::TooLarge {
                limit: self.max_body,
            });
        }
        self.receive_bytes(headers, Bytes::copy_from_slice(body))
    }

    /// Like [`Receiver::receive`], keeping `body` as [`Delivery::body`] without a copy.
    ///
    /// Errors only when the request is not a genuine, fresh, signed delivery (or is too large); a verified
    /// body that does not decode is a delivery of [`Event::Unknown`] with [`Delivery::decode_error`] set.
    pub fn receive_bytes(
        &self,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Delivery, WebhookError> {
        let signed_at = self.check(headers, &body)?;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let topic_header = TOPIC_HEADERS.iter().find_map(|h| header(h));
        let decoded = Event::decode(&body, topic_header.as_deref(), &self.policy);
        let dedupe_key = match decoded.event.id() {
            Some(id) => id.to_string(),
            None => format!("sha256:{}", hex::encode(Sha256::digest(&body))),
        };
        Ok(Delivery {
            event: decoded.event,
            topic_source: decoded.source,
            decode_error: decoded.error,
            body,
            signed_at,
            event_id_header: header(EVENT_ID_HEADER),
            topic_header,
            dedupe_key,
        })
    }

    /// The cap, the unsigned-probe rule and the signature; the signed `t`.
    fn check(&self, headers: &HeaderMap, body: &[u8]) -> Result<u64, WebhookError> {
        if body.len() > self.max_body {
            return Err(WebhookError::TooLarge {
                limit: self.max_body,
            });
        }
        let signature = match headers.get(SIGNATURE_HEADER) {
            None if self.acknowledge_probes => return Err(WebhookError::UnsignedProbe),
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| {
                WebhookError::Verify(VerifyError::MalformedHeader(MalformedHeader::NotAscii))
            })?),
        };
        Ok(self.verifier.verify_at(signature, body)?)
    }
}
