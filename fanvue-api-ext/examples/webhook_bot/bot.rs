//! The bot: an axum app that receives Message Received at [`PATH`], verifies it with the SDK's
//! [`Webhook`] extractor, and answers the fan through `send_message`.
//!
//! Shared by the `webhook_bot` example (`main.rs`) and its end-to-end test
//! (`tests/webhook_bot.rs`), so the test runs exactly this code.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use fanvue_api_ext::Fanvue;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::webhook::extract::Webhook;
use fanvue_api_ext::webhook::{Event, Receiver};
use uuid::Uuid;

/// Where the bot listens for deliveries.
pub const PATH: &str = "/webhooks/fanvue";

/// How many answered messages are remembered to ignore redeliveries.
const REMEMBERED: usize = 10_000;

/// The bot's state: the API client it answers with, the webhook receiver (the extractor finds it
/// through `FromRef`), and the messages already answered.
#[derive(Clone)]
pub struct Bot {
    fanvue: Fanvue,
    receiver: Receiver,
    answered: Arc<Mutex<Answered>>,
}

impl FromRef<Bot> for Receiver {
    fn from_ref(bot: &Bot) -> Receiver {
        bot.receiver.clone()
    }
}

/// Message ids already answered (or being answered), oldest first, bounded.
#[derive(Default)]
struct Answered {
    ids: HashSet<Uuid>,
    order: VecDeque<Uuid>,
}

impl Bot {
    /// A bot answering through `fanvue`, accepting what `receiver` verifies.
    pub fn new(fanvue: Fanvue, receiver: Receiver) -> Self {
        Bot {
            fanvue,
            receiver,
            answered: Arc::default(),
        }
    }

    /// The axum app: `POST /webhooks/fanvue`.
    pub fn app(self) -> Router {
        Router::new().route(PATH, post(on_webhook)).with_state(self)
    }

    /// Claims `message` for answering; `false` when it was claimed before (a redelivery).
    fn claim(&self, message: Uuid) -> bool {
        let mut answered = self.answered.lock().unwrap_or_else(|e| e.into_inner());
        if !answered.ids.insert(message) {
            return false;
        }
        answered.order.push_back(message);
        if answered.order.len() > REMEMBERED
            && let Some(oldest) = answered.order.pop_front()
        {
            answered.ids.remove(&oldest);
        }
        true
    }

    /// Gives a claim back (the answer failed, so a redelivery should try again).
    fn release(&self, message: Uuid) {
        let mut answered = self.answered.lock().unwrap_or_else(|e| e.into_inner());
        answered.ids.remove(&message);
        answered.order.retain(|id| *id != message);
    }
}

/// The answer to a fan's message.
pub fn reply_to(name: Option<&str>, text: Option<&str>) -> String {
    let name = name.unwrap_or("there");
    match text {
        Some(text) if !text.trim().is_empty() => format!(
            "Hi {name}, thanks for your message (\"{}\")! I'll get back to you soon.",
            text.chars().take(200).collect::<String>()
        ),
        _ => format!("Hi {name}, thanks for the media! I'll get back to you soon."),
    }
}

/// One delivery. The extractor has already refused (401/413/400) anything unsigned, stale, too large or
/// unreadable, so the handler only sees verified deliveries.
async fn on_webhook(State(bot): State<Bot>, Webhook(delivery): Webhook) -> StatusCode {
    if let Some(error) = &delivery.decode_error {
        // Verified, but not the shape this SDK knows (Fanvue changed a field?): a real application
        // would store `delivery.body` here before acknowledging.
        tracing::warn!(%error, key = delivery.dedupe_key(), bytes = delivery.body.len(), "undecodable delivery");
    }
    let Event::MessageReceived(received) = delivery.event else {
        // Acknowledge what this bot does not handle, or Fanvue keeps redelivering it.
        return StatusCode::NO_CONTENT;
    };
    if !bot.claim(received.message_uuid) {
        tracing::info!(message = %received.message_uuid, "redelivery of an answered message: ignored");
        return StatusCode::OK;
    }
    let reply = reply_to(
        received.sender.display_name.as_deref(),
        received.message.text.as_deref(),
    );
    let sent = bot
        .fanvue
        .api()
        .send_message()
        .user_uuid(received.sender.uuid)
        .body_map(|body| body.text(Some(reply)))
        .send()
        .await;
    match sent {
        Ok(_) => StatusCode::OK,
        Err(error) => {
            // Not answered: a non-2xx status asks Fanvue to deliver it again later.
            tracing::warn!(%error, message = %received.message_uuid, "could not answer");
            bot.release(received.message_uuid);
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
