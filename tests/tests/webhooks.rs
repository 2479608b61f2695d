//! The fake delivers signed webhooks to a real HTTP receiver on loopback, retries with the same
//! envelope id, and delivers Message Received when a fan writes.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use fanvue_fake::webhooks::sign;
use fanvue_fake::{FakeFanvue, WebhookDeliveryError, WebhookEndpoint, WebhookEvent};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver answering `statuses` in turn (then 200), keeping what it got.
async fn receiver(statuses: Vec<u16>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let answers = Arc::new(Mutex::new(statuses.into_iter()));
    let log = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            let answers = answers.clone();
            async move {
                log.lock().unwrap().push((headers, body));
                let status = answers.lock().unwrap().next().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn signature_holds(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = headers["x-fanvue-signature"].to_str().unwrap();
    let t: u64 = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse().ok())
        .unwrap();
    sign(secret, t, body) == header
}

#[tokio::test]
async fn enveloped_events_are_signed_and_retried_with_the_same_id() {
    let (url, seen) = receiver(vec![500, 503]).await;
    let fake = FakeFanvue::builder()
        .webhook_endpoint(
            WebhookEndpoint::new(&url, "whsec-test").retry_delay(std::time::Duration::ZERO),
        )
        .start()
        .await
        .unwrap();
    let event = WebhookEvent::enveloped("payout.paid", json!({"object": "payout", "amount": 1500}));
    let delivered = fake.deliver_webhook(&event).await.unwrap();
    assert_eq!(delivered.attempt, 3);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    for (headers, body) in &seen {
        assert!(signature_holds("whsec-test", headers, body));
        assert!(!signature_holds("another-secret", headers, body));
        let value: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(value["id"], event.id());
        assert_eq!(value["type"], "payout.paid");
        assert_eq!(value["data"]["amount"], 1500);
        assert_eq!(headers["content-type"], "application/json");
        assert!(
            headers.get("x-fanvue-topic").is_none(),
            "enveloped events name their type in the body"
        );
    }
    let statuses: Vec<_> = fake.webhook_attempts().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_exhausts_the_attempts() {
    let (url, seen) = receiver(vec![500; 10]).await;
    let fake = FakeFanvue::start().await.unwrap();
    let event = WebhookEvent::flat("tip.new", json!({"amount": 500}));
    assert_eq!(
        fake.deliver_webhook(&event).await.unwrap_err(),
        WebhookDeliveryError::NoEndpoint
    );
    fake.set_webhook_endpoint(Some(
        WebhookEndpoint::new(&url, "s")
            .max_attempts(2)
            .retry_delay(std::time::Duration::ZERO),
    ));
    let err = fake.deliver_webhook(&event).await.unwrap_err();
    assert!(
        matches!(err, WebhookDeliveryError::Exhausted { attempts: 2, .. }),
        "{err:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_fan_message_is_delivered_as_message_received_and_replies_are_kept() {
    let (url, seen) = receiver(vec![]).await;
    let fake = FakeFanvue::builder()
        .webhook_endpoint(WebhookEndpoint::new(&url, "whsec-bot"))
        .start()
        .await
        .unwrap();
    let fan = uuid::Uuid::new_v4();
    fake.fan_sends_message(fan, "hello there").await.unwrap();
    let (headers, body) = seen.lock().unwrap()[0].clone();
    assert!(signature_holds("whsec-bot", &headers, &body));
    assert_eq!(headers["x-fanvue-topic"], "message.received");
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["sender"]["uuid"], fan.to_string());
    assert_eq!(payload["message"]["text"], "hello there");
    assert_eq!(payload["messageUuid"], payload["message"]["uuid"]);
    assert_eq!(
        payload["recipientUuid"],
        fake.current_user().uuid.to_string()
    );

    // A reply through the API is kept for that conversation; a refused one is not.
    let http = reqwest::Client::new();
    let send = |body: Value| {
        http.post(format!("{}/chats/{fan}/message", fake.api_url()))
            .bearer_auth(fake.access_token())
            .header("X-Fanvue-API-Version", fake.api_version())
            .json(&body)
            .send()
    };
    assert!(
        send(json!({"text": "hi back"}))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert_eq!(send(json!({"text": 5})).await.unwrap().status(), 400);
    let sent = fake.messages_sent_to(fan);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["text"], "hi back");
    assert!(fake.messages_sent_to(uuid::Uuid::new_v4()).is_empty());
}
