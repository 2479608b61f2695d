//! Webhook deliveries from a running fake, and the messages its API accepted.

use uuid::Uuid;

use super::FakeFanvue;
use crate::model::UserRef;
use crate::state::SentMessage;
use crate::webhooks::{WebhookAttempt, WebhookDeliveryError, WebhookEndpoint, WebhookEvent};

impl FakeFanvue {
    // ---- webhooks ----

    /// Sets (or, with `None`, removes) the endpoint webhooks are delivered to.
    pub fn set_webhook_endpoint(&self, endpoint: Option<WebhookEndpoint>) {
        self.shared.webhooks.set(endpoint);
    }

    /// Delivers `event` to the webhook endpoint, signed, retrying a non-2xx answer or a failed connection
    /// as the endpoint says (same body, same envelope `id`, fresh signature). Resolves with the attempt the
    /// receiver answered 2xx to, after the receiver answered.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use fanvue_fake::{FakeFanvue, WebhookEndpoint, WebhookEvent};
    /// let fake = FakeFanvue::builder()
    ///     .webhook_endpoint(WebhookEndpoint::new("http://127.0.0.1:3000/webhooks", "whsec-test"))
    ///     .start()
    ///     .await?;
    /// let paid = WebhookEvent::enveloped("payout.paid", serde_json::json!({"object": "payout", "amount": 1500}));
    /// fake.deliver_webhook(&paid).await?;
    /// assert!(fake.webhook_attempts().iter().all(|a| a.event_id == paid.id()));
    /// # Ok(()) }
    /// ```
    pub async fn deliver_webhook(
        &self,
        event: &WebhookEvent,
    ) -> Result<WebhookAttempt, WebhookDeliveryError> {
        let shared = self.shared.clone();
        self.shared
            .webhooks
            .deliver(event, move || shared.bump())
            .await
    }

    /// Every delivery attempt so far, in order.
    pub fn webhook_attempts(&self) -> Vec<WebhookAttempt> {
        self.shared.webhooks.attempts()
    }

    /// A fan writes `text` to the authenticated creator: the fake delivers Message Received
    /// (`message.received`, flat payload) for it and resolves once the receiver answered 2xx. The sender is
    /// the fan of the fake's chat with that user when there is one.
    pub async fn fan_sends_message(
        &self,
        fan: Uuid,
        text: &str,
    ) -> Result<WebhookAttempt, WebhookDeliveryError> {
        let event = fan_message_event(&self.shared, fan, text);
        self.deliver_webhook(&event).await
    }

    /// The messages the API accepted for `fan` (`send-message` and `send-creator-message`), in order.
    pub fn messages_sent_to(&self, fan: Uuid) -> Vec<SentMessage> {
        self.shared
            .lock()
            .conversations
            .iter()
            .filter(|m| m.fan == fan)
            .cloned()
            .collect()
    }
}

/// Message Received from `fan` to the authenticated user: the sender is the fan of the fake's chat with
/// that uuid when there is one.
pub(crate) fn fan_message_event(
    shared: &crate::state::Shared,
    fan: Uuid,
    text: &str,
) -> WebhookEvent {
    let (sender, recipient) = {
        let st = shared.lock();
        let sender = st
            .data
            .chats
            .iter()
            .find(|c| c.user.user.uuid == fan)
            .map(|c| c.user.user.clone())
            .unwrap_or_else(|| UserRef {
                uuid: fan,
                handle: format!("fan-{}", &fan.simple().to_string()[..8]),
                display_name: "A fan".into(),
                nickname: None,
                is_top_spender: false,
            });
        (sender, st.data.user.uuid)
    };
    let payload = crate::webhooks::message_received(&sender, recipient, Uuid::new_v4(), text);
    WebhookEvent::flat("message.received", payload)
}
