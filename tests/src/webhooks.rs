//! Webhook deliveries: the fake signs and POSTs events to an endpoint the way Fanvue does, so a
//! receiver (a bot, a dashboard) can be tested end to end.
//!
//! - **Signature**: `X-Fanvue-Signature: t=<unix seconds>,v0=<hex HMAC-SHA256>` over the exact bytes
//!   `{t}.{body}`, keyed with the endpoint's secret as given (Fanvue's documented scheme).
//! - **Bodies**: enveloped events (`checkout_link.*`, `payout.paid`, `app.payment.*`, `creator.*`) as
//!   `{id, type, timestamp, data}`; flat platform events (Message Received, ...) as their bare payload.
//!   [`WebhookEvent::enveloped`] and [`WebhookEvent::flat`] build either.
//! - **Headers**: `Content-Type: application/json`, and for flat events `X-Fanvue-Topic` and
//!   `X-Fanvue-Event-Id` (both only *reported* from third-party code, so each can be switched off with
//!   [`WebhookEndpoint::topic_header`] to test a receiver that must cope without them).
//! - **Retries**: a non-2xx answer or a transport error is retried up to
//!   [`WebhookEndpoint::max_attempts`] times with a doubling delay; every attempt carries the same body
//!   (so the same envelope `id`) and a fresh signature. Fanvue's own schedule is not documented.
//!
//! Every attempt is kept ([`crate::FakeFanvue::webhook_attempts`]).

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

/// Where the fake delivers webhooks, and how.
#[derive(Clone)]
pub struct WebhookEndpoint {
    url: String,
    secret: String,
    max_attempts: u32,
    retry_delay: Duration,
    timeout: Duration,
    topic_header: bool,
}

impl fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("max_attempts", &self.max_attempts)
            .field("retry_delay", &self.retry_delay)
            .field("timeout", &self.timeout)
            .field("topic_header", &self.topic_header)
            .finish()
    }
}

impl WebhookEndpoint {
    /// Deliveries to `url` (`http://` or `https://`), signed with `secret`. Defaults: 3 attempts, 50 ms
    /// before the first retry (doubling), 10 s per attempt, topic and event-id headers on flat events.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        WebhookEndpoint {
            url: url.into(),
            secret: secret.into(),
            max_attempts: 3,
            retry_delay: Duration::from_millis(50),
            timeout: Duration::from_secs(10),
            topic_header: true,
        }
    }

    /// Attempts per event, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry; each later retry waits twice as long.
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// How long one attempt may take before it counts as failed.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether flat events carry `X-Fanvue-Topic` and `X-Fanvue-Event-Id` (default: yes).
    pub fn topic_header(mut self, on: bool) -> Self {
        self.topic_header = on;
        self
    }

    /// The URL deliveries go to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// One event to deliver: its type and the exact JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    kind: String,
    body: Value,
    flat: bool,
    id: String,
}

impl WebhookEvent {
    /// An enveloped event: `{id, type, timestamp, data}` with a new id and the current time.
    pub fn enveloped(kind: impl Into<String>, data: Value) -> Self {
        let kind = kind.into();
        let id = Uuid::new_v4().to_string();
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        WebhookEvent {
            body: json!({ "id": id, "type": kind, "timestamp": timestamp, "data": data }),
            kind,
            flat: false,
            id,
        }
    }

    /// A flat platform event (`message.received`, `tip.new`, ...): the payload is the body.
    pub fn flat(topic: impl Into<String>, payload: Value) -> Self {
        WebhookEvent {
            kind: topic.into(),
            body: payload,
            flat: true,
            id: Uuid::new_v4().to_string(),
        }
    }

    /// The event type (or topic of a flat event).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The envelope `id` (for flat events: the id sent in `X-Fanvue-Event-Id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The JSON body.
    pub fn body(&self) -> &Value {
        &self.body
    }
}

/// One attempt to deliver an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookAttempt {
    /// The event type.
    pub kind: String,
    /// The envelope id (flat events: the `X-Fanvue-Event-Id` value).
    pub event_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// Why the attempt failed without a status (connection refused, timeout).
    pub error: Option<String>,
    /// The `X-Fanvue-Signature` value sent.
    pub signature: String,
    /// The bytes sent.
    pub body: Bytes,
}

impl WebhookAttempt {
    /// Whether the receiver answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Why an event was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookDeliveryError {
    /// No endpoint is set ([`crate::FakeFanvue::set_webhook_endpoint`]).
    #[error("no webhook endpoint is set on the fake")]
    NoEndpoint,
    /// Every attempt failed; the last one is kept.
    #[error("webhook {kind} not delivered after {attempts} attempt(s): {last}")]
    Exhausted {
        /// The event type.
        kind: String,
        /// Attempts made.
        attempts: u32,
        /// The last status or error.
        last: String,
    },
}

/// The endpoint and the attempts made so far.
#[derive(Default)]
pub(crate) struct Hub {
    /// Built on the first delivery (most fakes never deliver a webhook).
    client: OnceLock<reqwest::Client>,
    endpoint: Mutex<Option<WebhookEndpoint>>,
    attempts: Mutex<Vec<WebhookAttempt>>,
}

impl Hub {
    pub(crate) fn set(&self, endpoint: Option<WebhookEndpoint>) {
        *self.endpoint.lock().unwrap_or_else(|p| p.into_inner()) = endpoint;
    }

    pub(crate) fn attempts(&self) -> Vec<WebhookAttempt> {
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Delivers `event`, retrying as the endpoint says; returns the successful attempt.
    pub(crate) async fn deliver(
        &self,
        event: &WebhookEvent,
        on_attempt: impl Fn(),
    ) -> Result<WebhookAttempt, WebhookDeliveryError> {
        let endpoint = self
            .endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(WebhookDeliveryError::NoEndpoint)?;
        let body = Bytes::from(serde_json::to_vec(&event.body).unwrap_or_default());
        let mut delay = endpoint.retry_delay;
        let mut last = String::new();
        for attempt in 1..=endpoint.max_attempts {
            if attempt > 1 {
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
            }
            let signature = sign(&endpoint.secret, unix_now(), &body);
            let mut request = self
                .client
                .get_or_init(delivery_client)
                .post(&endpoint.url)
                .timeout(endpoint.timeout)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header("x-fanvue-signature", &signature)
                .body(body.clone());
            if event.flat && endpoint.topic_header {
                request = request
                    .header("x-fanvue-topic", &event.kind)
                    .header("x-fanvue-event-id", &event.id);
            }
            let (status, error) = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    // Drain the answer so the connection can be reused.
                    let _ = response.bytes().await;
                    (Some(status), None)
                }
                Err(e) => (None, Some(without_url(&e))),
            };
            let record = WebhookAttempt {
                kind: event.kind.clone(),
                event_id: event.id.clone(),
                attempt,
                status,
                error,
                signature,
                body: body.clone(),
            };
            self.attempts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(record.clone());
            on_attempt();
            if record.succeeded() {
                return Ok(record);
            }
            last = match (record.status, record.error) {
                (Some(s), _) => format!("status {s}"),
                (None, Some(e)) => e,
                (None, None) => "no answer".into(),
            };
        }
        Err(WebhookDeliveryError::Exhausted {
            kind: event.kind.clone(),
            attempts: endpoint.max_attempts,
            last,
        })
    }
}

/// `t=<timestamp>,v0=<hex HMAC-SHA256 of "{timestamp}.{body}">`.
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v0={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// The HTTP client deliveries go through: rustls with the *ring* provider set on the client itself.
///
/// Not `reqwest::Client::new()`: when the build graph enables reqwest's `rustls-no-provider` (as
/// `fanvue-api-ext`'s default `rustls-ring` does) and the process installed no crypto provider, that
/// panics. `https://` endpoints are verified with the platform's roots; plain `http://` needs none.
fn delivery_client() -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()
        .map(|builder| {
            use rustls_platform_verifier::BuilderVerifierExt as _;
            match builder.clone().with_platform_verifier() {
                Ok(verified) => verified.with_no_client_auth(),
                // No platform roots here: https endpoints fail their handshake, http works.
                Err(_) => builder
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            }
        });
    let builder = reqwest::Client::builder();
    let builder = match config {
        Some(config) => builder.tls_backend_preconfigured(config),
        None => builder,
    };
    builder.build().unwrap_or_default()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_string()
}

/// A Message Received payload: `sender` wrote `text` to `recipient` (the creator).
pub(crate) fn message_received(
    sender: &crate::model::UserRef,
    recipient: Uuid,
    message_uuid: Uuid,
    text: &str,
) -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "message": {
            "uuid": message_uuid,
            "text": text,
            "hasMedia": false,
            "mediaUuids": [],
            "createdAt": now,
        },
        "messageUuid": message_uuid,
        "sender": {
            "uuid": sender.uuid,
            "handle": sender.handle,
            "displayName": sender.display_name,
            "avatarUrl": null,
        },
        "recipientUuid": recipient,
        "isMuted": false,
        "timestamp": now,
    })
}
