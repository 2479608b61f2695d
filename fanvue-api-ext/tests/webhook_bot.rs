//! The `webhook_bot` example's flow, end to end on loopback: the fake delivers a signed Message
//! Received, the bot (the example's own code) verifies it and answers through `send_message`, and the
//! fake shows the answer. Forged, redelivered and unrelated deliveries are checked too.

#[path = "../examples/webhook_bot/bot.rs"]
mod bot;

use fanvue_api_ext::Fanvue;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::secrecy::SecretString;
use fanvue_api_ext::webhook::Receiver;
use fanvue_fake::{
    FakeFanvue, Fault, FaultTarget, WebhookDeliveryError, WebhookEndpoint, WebhookEvent,
};
use serde_json::json;
use uuid::Uuid;

const SECRET: &str = "whsec_bot_test_secret";

/// A fake with three chats, a client for it, and the bot serving on a loopback port (its URL).
async fn setup() -> (FakeFanvue, Fanvue, String) {
    let fake = FakeFanvue::builder().chat_count(3).start().await.unwrap();
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(SecretString::from(fake.access_token()))
        .build()
        .unwrap();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .topic("message.received")
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{}", listener.local_addr().unwrap(), bot::PATH);
    let app = bot::Bot::new(fanvue.clone(), receiver).app();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    fake.set_webhook_endpoint(Some(
        WebhookEndpoint::new(&url, SECRET).retry_delay(std::time::Duration::ZERO),
    ));
    (fake, fanvue, url)
}

async fn a_fan(fanvue: &Fanvue) -> (Uuid, Option<String>) {
    let chats = fanvue.api().list_chats().size(1).send().await.unwrap();
    let user = &chats.data[0].user;
    (user.uuid, Some(user.display_name.clone()))
}

#[tokio::test]
async fn a_fans_message_is_answered_through_send_message() {
    let (fake, fanvue, _) = setup().await;
    let (fan, name) = a_fan(&fanvue).await;
    assert!(fake.messages_sent_to(fan).is_empty());

    let delivered = fake
        .fan_sends_message(fan, "Do you take requests?")
        .await
        .unwrap();
    assert_eq!(delivered.status, Some(200), "the bot answered the delivery");
    assert_eq!(delivered.attempt, 1);

    let replies = fake.messages_sent_to(fan);
    assert_eq!(replies.len(), 1, "one answer, to the fan who wrote");
    assert_eq!(
        replies[0].creator, None,
        "sent as the authenticated creator"
    );
    assert_eq!(
        replies[0].body,
        json!({"text": bot::reply_to(name.as_deref(), Some("Do you take requests?"))})
    );
    assert!(
        replies[0].body["text"]
            .as_str()
            .unwrap()
            .contains("Do you take requests?")
    );
}

#[tokio::test]
async fn a_forged_delivery_is_refused_with_401_and_not_answered() {
    let (fake, fanvue, url) = setup().await;
    let (fan, _) = a_fan(&fanvue).await;
    fake.set_webhook_endpoint(Some(
        WebhookEndpoint::new(&url, "another-secret")
            .max_attempts(2)
            .retry_delay(std::time::Duration::ZERO),
    ));

    let result = fake.fan_sends_message(fan, "forged").await;
    assert!(
        matches!(
            result,
            Err(WebhookDeliveryError::Exhausted { attempts: 2, .. })
        ),
        "{result:?}"
    );
    let statuses: Vec<_> = fake.webhook_attempts().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(401), Some(401)]);
    assert!(fake.messages_sent_to(fan).is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_redelivered_message_is_answered_once() {
    let (fake, fanvue, _) = setup().await;
    let (fan, _) = a_fan(&fanvue).await;
    let now = chrono::Utc::now().to_rfc3339();
    let message = Uuid::new_v4();
    let event = WebhookEvent::flat(
        "message.received",
        json!({
            "message": {"uuid": message, "text": "twice", "hasMedia": false, "createdAt": now},
            "messageUuid": message,
            "sender": {"uuid": fan, "handle": "fan", "displayName": "Fan"},
            "recipientUuid": Uuid::new_v4(),
            "timestamp": now,
        }),
    );
    assert_eq!(
        fake.deliver_webhook(&event).await.unwrap().status,
        Some(200)
    );
    assert_eq!(
        fake.deliver_webhook(&event).await.unwrap().status,
        Some(200)
    );
    assert_eq!(fake.messages_sent_to(fan).len(), 1, "answered once");
}

#[tokio::test]
async fn a_failed_answer_is_retried_by_redelivery() {
    let (fake, fanvue, _) = setup().await;
    let (fan, _) = a_fan(&fanvue).await;
    // The API refuses the bot's first answer; the bot answers the delivery 503, the fake redelivers.
    fake.inject(
        FaultTarget::ApiPath(format!("/chats/{fan}/message")),
        Fault::Status(400),
        1,
    );
    let delivered = fake.fan_sends_message(fan, "are you there?").await.unwrap();
    let statuses: Vec<_> = fake.webhook_attempts().iter().map(|a| a.status).collect();
    assert_eq!(delivered.status, Some(200));
    assert_eq!(statuses.first(), Some(&Some(503)), "{statuses:?}");
    assert_eq!(
        fake.messages_sent_to(fan).len(),
        1,
        "answered on redelivery"
    );
}

#[tokio::test]
async fn events_the_bot_does_not_handle_are_acknowledged_without_an_answer() {
    let (fake, _fanvue, _) = setup().await;
    let paid = WebhookEvent::enveloped(
        "payout.paid",
        json!({
            "object": "payout", "id": "FVW-1", "status": "paid", "amount": 1500,
            "creator": {"uuid": Uuid::new_v4()},
        }),
    );
    assert_eq!(fake.deliver_webhook(&paid).await.unwrap().status, Some(204));
    let unknown = WebhookEvent::enveloped("creator.something_new", json!({"x": 1}));
    assert_eq!(
        fake.deliver_webhook(&unknown).await.unwrap().status,
        Some(204)
    );
    assert!(
        fake.webhook_attempts().iter().all(|a| a.attempt == 1),
        "each acknowledged at once"
    );
}
