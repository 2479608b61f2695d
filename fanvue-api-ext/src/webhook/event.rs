//! Typed webhook events: envelopes routed on `type`, flat platform events identified by their topic.
//!
//! The payload types are generated from `openapi/webhooks.json` (`fanvue_api::types::Webhook*`); this module
//! only routes. An unknown `type` (or a flat body whose topic is unknown) is [`Event::Unknown`], never an error.

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
            /// A type this SDK does not know (or a flat body without a known topic: `kind` is then the
            /// topic given, or empty), with the whole body.
            Unknown {
                /// The `type` or topic (empty when none was known).
                kind: String,
                /// The body as JSON.
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

            /// The envelope id (the dedupe key), for enveloped events.
            pub fn id(&self) -> Option<&str> {
                match self {
                    $( Event::$evar(e) => Some(&e.id), )*
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

/// How flat platform bodies (which carry no type) are identified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicPolicy {
    /// The topic the endpoint was set up for (used when no topic header arrived).
    pub declared: Option<String>,
    /// Guess the topic from the body's fields when neither a header nor a declared topic names it
    /// (off by default: the shape rules are inferred, not documented).
    pub sniff: bool,
}

/// Headers third-party code reads the topic from (unconfirmed by Fanvue), in the order tried.
pub const TOPIC_HEADERS: &[&str] = &["x-fanvue-topic", "x-fanvue-event"];

impl Event {
    /// Decodes a verified body. An object with a string `type` and a `data` member is an envelope (Fanvue
    /// says to route on `type`); anything else is flat, identified by `topic_header`, else the policy.
    pub fn parse(
        body: &[u8],
        topic_header: Option<&str>,
        policy: &TopicPolicy,
    ) -> Result<Event, PayloadError> {
        let raw: Value = serde_json::from_slice(body).map_err(|e| PayloadError::new("", &e))?;
        let envelope_kind = match (&raw.get("type"), &raw.get("data")) {
            (Some(Value::String(kind)), Some(_)) => Some(kind.clone()),
            _ => None,
        };
        if let Some(kind) = envelope_kind {
            return Event::from_envelope(&kind, raw);
        }
        let topic = topic_header
            .map(str::to_string)
            .or_else(|| policy.declared.clone())
            .or_else(|| {
                policy
                    .sniff
                    .then(|| sniff(&raw))
                    .flatten()
                    .map(String::from)
            });
        match topic {
            Some(topic) => Event::from_flat(topic.trim(), raw),
            None => Ok(Event::Unknown {
                kind: String::new(),
                raw,
            }),
        }
    }
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
