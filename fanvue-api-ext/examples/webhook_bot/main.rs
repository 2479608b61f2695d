//! A chat bot: receives Message Received webhooks, verifies them, and answers each fan through
//! `send_message`.
//!
//! ```sh
//! cargo run -p fanvue-api-ext --features axum --example webhook_bot
//! ```
//!
//! With no credentials in the environment it runs end to end against a local fake Fanvue: the bot
//! listens on a loopback port, the fake delivers a signed Message Received for a fan's message, the
//! bot answers, and the fake shows the answer it accepted. It also shows a forged delivery (signed with
//! another secret) refused with 401 and left unanswered.
//!
//! Against the real API set the credentials (see `examples/common/mod.rs`) and:
//! - `FANVUE_WEBHOOK_SECRET`: the endpoint's signing secret from the Developer Area;
//! - `WEBHOOK_BOT_ADDR` (default `127.0.0.1:3000`): where to listen. Put the public URL that reaches
//!   it, ending in `/webhooks/fanvue`, in the Developer Area for the Message Received event.
//!
//! It then serves until Ctrl-C.

#[path = "../common/mod.rs"]
mod common;

mod bot;

use std::process::ExitCode;

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::secrecy::{ExposeSecret as _, SecretString};
use fanvue_api_ext::webhook::Receiver;
use fanvue_fake::{FakeFanvue, WebhookEndpoint};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,webhook_bot=info".into()),
        )
        .init();
    common::report(run().await)
}

async fn run() -> Result<(), common::BoxError> {
    let (fanvue, backend) = common::connect(|fake| fake.chat_count(3)).await?;
    let secret = match (&backend, std::env::var("FANVUE_WEBHOOK_SECRET")) {
        (_, Ok(secret)) if !secret.trim().is_empty() => SecretString::from(secret),
        (common::Backend::Real, _) => {
            return Err(
                "FANVUE_WEBHOOK_SECRET is not set: give the endpoint's signing secret \
                        from the Developer Area"
                    .into(),
            );
        }
        (common::Backend::Fake(_), _) => {
            SecretString::from(format!("whsec_{}", uuid::Uuid::new_v4().simple()))
        }
    };
    // This endpoint is set up for Message Received only: its flat bodies carry no type, so the
    // receiver is told which topic to expect. The declared topic decides: a topic header is not
    // covered by the signature, so a replay with another topic header stays a Message Received.
    let receiver = Receiver::builder()
        .secret(secret.clone())
        .topic("message.received")
        .build()?;

    let addr = match backend {
        common::Backend::Real => {
            std::env::var("WEBHOOK_BOT_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into())
        }
        common::Backend::Fake(_) => "127.0.0.1:0".into(),
    };
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} (WEBHOOK_BOT_ADDR): {e}"))?;
    let url = format!("http://{}{}", listener.local_addr()?, bot::PATH);
    let app = bot::Bot::new(fanvue.clone(), receiver).app();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    match backend.fake() {
        None => {
            println!("Listening on {url}; Ctrl-C to stop.");
            tokio::signal::ctrl_c().await?;
        }
        Some(fake) => run_against_fake(&fanvue, fake, &url, &secret).await?,
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}

/// The end-to-end run: a fan writes, the fake delivers, the bot answers, the fake shows the answer.
async fn run_against_fake(
    fanvue: &fanvue_api_ext::Fanvue,
    fake: &FakeFanvue,
    url: &str,
    secret: &SecretString,
) -> Result<(), common::BoxError> {
    println!("Bot listening on {url}");
    fake.set_webhook_endpoint(Some(WebhookEndpoint::new(url, secret.expose_secret())));

    // A fan of one of the creator's chats, found through the API like a real bot would.
    let chats = fanvue.api().list_chats().size(1).send().await?;
    let fan = chats.data.first().ok_or("the fake has no chats")?.user.uuid;

    let text = "Hi! Do you take requests for custom videos?";
    let delivered = fake.fan_sends_message(fan, text).await?;
    println!(
        "Fan {fan} wrote {text:?}: the fake delivered message.received (attempt {}, bot answered {})",
        delivered.attempt,
        delivered.status.map_or("nothing".into(), |s| s.to_string())
    );
    let replies = fake.messages_sent_to(fan);
    let reply = replies
        .last()
        .ok_or("the bot did not answer the fan's message")?;
    println!(
        "The bot answered through send_message: {}",
        reply.body["text"]
    );

    // A forged delivery: right body shape, wrong secret. The bot's extractor answers 401 and the fan
    // gets no answer.
    fake.set_webhook_endpoint(Some(
        WebhookEndpoint::new(url, "not-the-signing-secret").max_attempts(1),
    ));
    let forged = fake.fan_sends_message(fan, "forged").await;
    let status = fake.webhook_attempts().last().and_then(|a| a.status);
    println!(
        "A delivery signed with another secret: {} (status {}); answers to the fan: still {}",
        if forged.is_err() {
            "refused"
        } else {
            "ACCEPTED"
        },
        status.map_or("none".into(), |s| s.to_string()),
        fake.messages_sent_to(fan).len()
    );
    if forged.is_ok() || fake.messages_sent_to(fan).len() != replies.len() {
        return Err("a forged delivery was accepted".into());
    }
    Ok(())
}
