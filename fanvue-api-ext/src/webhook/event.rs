//! Typed webhook events: envelopes routed on `type`, flat platform events identified by their topic.
//!
//! The payload types are generated from `openapi/webhooks.json` (`fanvue_api::types::Webhook*`); this module
//! only routes. An unknown `type` (or a flat body whose topic is unknown) is [`Event::Unknown`], never an error.
//!
//! What decides the type, and how far it can be trusted ([`TopicSource`]):
//! - an envelope's `type` is inside the signed body: authenticated;
//! - a flat body carries no type. The topics declared for the endpoint ([`TopicPolicy::declared`]) are the
//!   application's own configuration: one declared topic decides alone, whatever a header says; with
//!   several, a topic header may only choose among them (one outside the set is ignored);
//! - the topic headers ([`TOPIC_HEADERS`]) are not covered by the signature: anyone who captured a signed
//!   delivery can replay it with any header. They decide only when nothing is declared.

use fanvue_api::types;
use serde::Deserialize;
use serde_json::Value;

/// The envelope of the checkout, payout, app-billing and `creator.*` families.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Envelope<T> {
    /// The event id, stable across delivery retries: the dedupe key.
    pub id: String,
    /// The event type, e.g. `checkout_link.payment.succeeded`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the event was emitted (ISO 8601; not the signing time).
    pub timestamp: String,
    /// The resource.
    pub data: T,
}

/// Why a verified body could not be decoded. Carries no body content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the webhook body is not a valid `{kind}` payload (line {line}, column {column})")]
#[non_exhaustive]
pub struct PayloadError {
    /// The event type it was decoded as (empty when the body is not JSON at all).
    pub kind: String,
    /// Where the JSON error is.
    pub line: usize,
    /// Where the JSON error is.
    pub column: usize,
}

impl PayloadError {
    fn new(kind: &str, e: &serde_json::Error) -> Self {
        PayloadError {
            kind: kind.to_string(),
            line: e.line(),
            column: e.column(),
        }
    }
}

macro_rules! events {
    (
        flat { $( $ftopic:literal $(| $falias:literal)* => $fvar:ident($fty:ident), )* }
        envelope { $( $etype:literal $(| $ealias:literal)* => $evar:ident($ety:ident), )* }
    ) => {
        /// A verified webhook event.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $(
                #[doc = concat!("`", $ftopic, "` (flat body).")]
                $fvar(types::$fty),
            )*
            $(
                #[doc = concat!("`", $etype, "`.")]
                $evar(Envelope<types::$ety>),
            )*
            /// A type this SDK does not know, a flat body without a known topic (`kind` is then the
            /// topic given, or empty), or a verified body that is not a payload of its type (`kind` is that
            /// type; `null` `raw` when the body is not JSON; `Delivery::body` keeps the bytes).
            Unknown {
                /// The `type` or topic (empty when none was known).
                kind: String,
                /// The body as JSON (`null` when it is not JSON).
                raw: Value,
            },
        }

        impl Event {
            /// The event type (`type` of an envelope, the topic of a flat event).
            pub fn kind(&self) -> &str {
                match self {
                    $( Event::$fvar(_) => $ftopic, )*
                    $( Event::$evar(e) => &e.kind, )*
                    Event::Unknown { kind, .. } => kind,
                }
            }

            /// The envelope id (the dedupe key), for enveloped events, including an [`Event::Unknown`]
            /// whose body is an envelope.
            pub fn id(&self) -> Option<&str> {
                match self {
                    $( Event::$evar(e) => Some(&e.id), )*
                    Event::Unknown { raw, .. } => envelope_id(raw),
                    _ => None,
                }
            }

            /// Decodes a flat body whose topic is `topic` (any known spelling).
            fn from_flat(topic: &str, raw: Value) -> Result<Event, PayloadError> {
                Ok(match topic {
                    $( $ftopic $(| $falias)* => Event::$fvar(
                        serde_json::from_value(raw).map_err(|e| PayloadError::new($ftopic, &e))?,
                    ), )*
                    _ => Event::Unknown { kind: topic.to_string(), raw },
                })
            }

            /// The first spelling of a known flat topic given in any spelling.
            fn flat_topic(topic: &str) -> Option<&'static str> {
                match topic {
                    $( $ftopic $(| $falias)* => Some($ftopic), )*
                    _ => None,
                }
            }

            /// Decodes an envelope routed on its `type`.
            fn from_envelope(kind: &str, raw: Value) -> Result<Event, PayloadError> {
                Ok(match kind {
                    $( $etype $(| $ealias)* => Event::$evar(
                        serde_json::from_value(raw).map_err(|e| PayloadError::new($etype, &e))?,
                    ), )*
                    _ => Event::Unknown { kind: kind.to_string(), raw },
                })
            }

            /// The event types this enum has a variant for (flat topics first).
            pub fn known_kinds() -> &'static [&'static str] {
                &[ $( $ftopic, )* $( $etype, )* ]
            }
        }
    };
}

events! {
    flat {
        "message.received" => MessageReceived(WebhookMessageReceived),
        "message.read" => MessageRead(WebhookMessageRead),
        "follow.new" | "follower.new" => NewFollower(WebhookNewFollower),
        "subscription.new" | "subscriber.new" => NewSubscriber(WebhookNewSubscriber),
        "purchase.new" | "purchase.received" | "purchase.created" => PurchaseReceived(WebhookPurchaseReceived),
        "tip.new" | "tip.received" => TipReceived(WebhookTipReceived),
    }
    envelope {
        "checkout_link.payment.pending" => CheckoutPaymentPending(WebhookCheckoutPayment),
        "checkout_link.payment.succeeded" => CheckoutPaymentSucceeded(WebhookCheckoutPayment),
        "checkout_link.payment.failed" => CheckoutPaymentFailed(WebhookCheckoutPayment),
        "checkout_link.subscription.activated" => CheckoutSubscriptionActivated(WebhookCheckoutSubscription),
        "checkout_link.subscription.deactivated" => CheckoutSubscriptionDeactivated(WebhookCheckoutSubscription),
        "checkout_link.subscription.cancel_at_period_end_changed" => CheckoutSubscriptionCancelAtPeriodEndChanged(WebhookCheckoutSubscription),
        "checkout_link.refund.created" => CheckoutRefundCreated(WebhookCheckoutRefund),
        "checkout_link.dispute.flagged" => CheckoutDisputeFlagged(WebhookCheckoutDispute),
        "checkout_link.dispute.created" => CheckoutDisputeCreated(WebhookCheckoutDispute),
        "checkout_link.installment.paid" => CheckoutInstallmentPaid(WebhookCheckoutInstallment),
        "checkout_link.installment.failed" => CheckoutInstallmentFailed(WebhookCheckoutInstallment),
        "checkout_link.plan.completed" => CheckoutPlanCompleted(WebhookCheckoutPlan),
        "payout.paid" => PayoutPaid(WebhookPayout),
        "app.payment.succeeded" => AppPaymentSucceeded(WebhookAppPayment),
        "app.payment.refunded" => AppPaymentRefunded(WebhookAppPayment),
        "creator.payment.succeeded" => CreatorPaymentSucceeded(WebhookCreatorPayment),
        "creator.message.received" => CreatorMessageReceived(WebhookCreatorMessage),
        "creator.message.sent" => CreatorMessageSent(WebhookCreatorMessage),
        "creator.message.deleted" => CreatorMessageDeleted(WebhookCreatorMessage),
        "creator.message.read" => CreatorMessageRead(WebhookCreatorMessageRead),
        "creator.follow.created" => CreatorFollowCreated(WebhookCreatorFollow),
        "creator.subscription.activated" => CreatorSubscriptionActivated(WebhookCreatorSubscription),
        "creator.subscription.renewed" => CreatorSubscriptionRenewed(WebhookCreatorSubscription),
        "creator.subscription.deactivated" => CreatorSubscriptionDeactivated(WebhookCreatorSubscription),
        "creator.refund.created" => CreatorRefundCreated(WebhookCreatorRefund),
        "creator.dispute.created" => CreatorDisputeCreated(WebhookCreatorRefund),
        "creator.fan.presence_changed" | "creator.fan.status_changed" => CreatorFanPresenceChanged(WebhookCreatorFanStatus),
    }
}

/// How flat platform bodies (which carry no type) are identified (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicPolicy {
    /// The topics the endpoint was set up for. One decides alone; with several, a topic header (or
    /// sniffing) chooses among them; none lets the unauthenticated header decide.
    pub declared: Vec<String>,
    /// Guess the topic from the body's fields when nothing else names it (off by default: the shape rules
    /// are inferred, not documented); with declared topics, only a declared one is taken.
    pub sniff: bool,
}

/// Headers third-party code reads the topic from (unconfirmed by Fanvue, and not covered by the signature),
/// in the order tried.
pub const TOPIC_HEADERS: &[&str] = &["x-fanvue-topic", "x-fanvue-event"];

/// Where a delivery's event type came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicSource {
    /// The envelope's `type`, inside the signed body.
    Signed,
    /// The topic declared for the endpoint ([`TopicPolicy::declared`]).
    Declared,
    /// A topic header: not covered by the signature. Only when nothing is declared, or when it names one of
    /// several declared topics.
    Header,
    /// Guessed from the body's fields ([`TopicPolicy::sniff`]).
    Sniffed,
    /// Nothing named a type: the event is [`Event::Unknown`] with an empty `kind`.
    None,
}

/// A verified body, routed and decoded as far as it goes (see [`Event::decode`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Decoded {
    /// The event; [`Event::Unknown`] when the body is not a payload of its type (then `error` says why).
    pub event: Event,
    /// Where the type came from.
    pub source: TopicSource,
    /// Why the body did not decode as its type (or as JSON at all), when it did not.
    pub error: Option<PayloadError>,
}

impl Event {
    /// Decodes a verified body strictly: like [`Event::decode`], but a body that is not a payload of its
    /// type is an error.
    pub fn parse(
        body: &[u8],
        topic_header: Option<&str>,
        policy: &TopicPolicy,
    ) -> Result<Event, PayloadError> {
        let decoded = Event::decode(body, topic_header, policy);
        match decoded.error {
            Some(e) => Err(e),
            None => Ok(decoded.event),
        }
    }

    /// Decodes a verified body, never failing. An object with a string `type` and a `data` member is an
    /// envelope (Fanvue says to route on `type`); anything else is flat, identified as the module docs say.
    /// A body that is not a payload of its type (a field Fanvue changed, or not JSON) is
    /// [`Event::Unknown`] with that type as `kind` (`raw` is `null` when the body is not JSON), and
    /// [`Decoded::error`] says why.
    pub fn decode(body: &[u8], topic_header: Option<&str>, policy: &TopicPolicy) -> Decoded {
        let raw: Value = match serde_json::from_slice(body) {
            Ok(raw) => raw,
            Err(e) => {
                return Decoded {
                    event: Event::Unknown {
                        kind: String::new(),
                        raw: Value::Null,
                    },
                    source: TopicSource::None,
                    error: Some(PayloadError::new("", &e)),
                };
            }
        };
        if let Some(kind) = envelope_kind(&raw).map(str::to_string) {
            return Decoded::of(
                Event::from_envelope(&kind, raw.clone()),
                &kind,
                raw,
                TopicSource::Signed,
            );
        }
        let Some((topic, source)) = policy.resolve(topic_header, &raw) else {
            return Decoded {
                event: Event::Unknown {
                    kind: String::new(),
                    raw,
                },
                source: TopicSource::None,
                error: None,
            };
        };
        Decoded::of(Event::from_flat(&topic, raw.clone()), &topic, raw, source)
    }
}

impl Decoded {
    /// Keeps a decoding failure as an unknown event of `kind` with the body.
    fn of(
        result: Result<Event, PayloadError>,
        kind: &str,
        raw: Value,
        source: TopicSource,
    ) -> Self {
        match result {
            Ok(event) => Decoded {
                event,
                source,
                error: None,
            },
            Err(error) => Decoded {
                event: Event::Unknown {
                    kind: kind.to_string(),
                    raw,
                },
                source,
                error: Some(error),
            },
        }
    }
}

/// The `type` of an envelope-shaped body (a string `type` and a `data` member).
fn envelope_kind(raw: &Value) -> Option<&str> {
    match (raw.get("type"), raw.get("data")) {
        (Some(Value::String(kind)), Some(_)) => Some(kind),
        _ => None,
    }
}

/// The `id` of an envelope-shaped body.
pub(crate) fn envelope_id(raw: &Value) -> Option<&str> {
    envelope_kind(raw)?;
    raw.get("id").and_then(Value::as_str)
}

impl TopicPolicy {
    /// The topic of a flat body and where it came from (see the module docs).
    fn resolve(&self, header: Option<&str>, raw: &Value) -> Option<(String, TopicSource)> {
        let header = header.map(str::trim).filter(|h| !h.is_empty());
        if let [only] = self.declared.as_slice() {
            return Some((only.trim().to_string(), TopicSource::Declared));
        }
        if self.declared.is_empty() {
            if let Some(h) = header {
                return Some((h.to_string(), TopicSource::Header));
            }
        } else if let Some(d) = header.and_then(|h| self.declared_as(h)) {
            return Some((d.to_string(), TopicSource::Header));
        }
        let sniffed = self.sniff.then(|| sniff(raw)).flatten()?;
        if self.declared.is_empty() {
            return Some((sniffed.to_string(), TopicSource::Sniffed));
        }
        self.declared_as(sniffed)
            .map(|d| (d.to_string(), TopicSource::Sniffed))
    }

    /// The declared topic naming the same event as `topic` (any known spelling).
    fn declared_as(&self, topic: &str) -> Option<&str> {
        let wanted = canonical(topic);
        self.declared
            .iter()
            .map(|d| d.trim())
            .find(|d| canonical(d) == wanted)
    }
}

/// One spelling per event: the first of its known spellings, or the topic itself when unknown.
fn canonical(topic: &str) -> &str {
    let topic = topic.trim();
    Event::flat_topic(topic).unwrap_or(topic)
}

/// The inferred shape rules of the reference notes, in their order.
fn sniff(raw: &Value) -> Option<&'static str> {
    let has = |k: &str| raw.get(k).is_some();
    if has("readMessagesCount") {
        Some("message.read")
    } else if has("message") && has("messageUuid") {
        Some("message.received")
    } else if matches!(
        raw.get("context").and_then(Value::as_str),
        Some("post" | "message")
    ) {
        Some("tip.new")
    } else if has("postUuid") || has("routeUuid") {
        Some("purchase.new")
    } else if has("price") && has("sender") {
        Some("subscription.new")
    } else if has("sender") && has("recipientUuid") {
        Some("follow.new")
    } else {
        None
    }
}
