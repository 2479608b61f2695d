//! Starts the fake Fanvue API, OAuth server and S3 on loopback, prints their URLs and a valid token, and
//! runs until Ctrl-C.
//!
//! `fanvue-fake --port 8080 --seed 7 --list-size 40`; environment: `FANVUE_FAKE_LATENCY_MS`
//! (per-request latency), `FANVUE_FAKE_S3_BANDWIDTH` (bytes per second per S3 connection),
//! `FANVUE_FAKE_HASH_ONLY=1` (do not keep part bytes).
//!
//! With `--webhook-url` and `--webhook-secret` it delivers webhooks there, and each line typed on
//! standard input is a message from the fan of the first chat: a signed Message Received is delivered,
//! then the answers the API accepted for that fan are printed (to try a bot by hand).

use std::time::Duration;

use clap::Parser;
use fanvue_fake::{FakeFanvue, StorageMode, WebhookEndpoint};

/// A local fake of the Fanvue API (every operation of its OpenAPI document), OAuth and S3.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Port of the API listener on 127.0.0.1 (0: any free port). OAuth and S3 take free ports.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the synthesized answers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Items in each synthesized list.
    #[arg(long, default_value_t = 40)]
    list_size: usize,
    /// Deliver webhooks to this URL; each line read from standard input is then a fan's message
    /// (Message Received).
    #[arg(long, requires = "webhook_secret")]
    webhook_url: Option<String>,
    /// The signing secret of the webhook deliveries.
    #[arg(long, requires = "webhook_url")]
    webhook_secret: Option<String>,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut builder = FakeFanvue::builder()
        .api_port(args.port)
        .seed(args.seed)
        .list_size(args.list_size);
    if let Some(ms) = env_u64("FANVUE_FAKE_LATENCY_MS") {
        builder = builder.latency(Duration::from_millis(ms));
    }
    if let Some(bw) = env_u64("FANVUE_FAKE_S3_BANDWIDTH") {
        builder = builder.s3_bandwidth(bw);
    }
    if std::env::var("FANVUE_FAKE_HASH_ONLY").is_ok_and(|v| v == "1") {
        builder = builder.storage(StorageMode::HashOnly);
    }
    if let (Some(url), Some(secret)) = (&args.webhook_url, &args.webhook_secret) {
        builder = builder.webhook_endpoint(WebhookEndpoint::new(url, secret));
    }
    let fake = builder.start().await?;
    println!("FANVUE_API_URL={}", fake.api_url());
    println!("FANVUE_AUTH_URL={}", fake.auth_url());
    println!("FANVUE_S3_URL={}", fake.s3_url());
    println!("FANVUE_API_VERSION={}", fake.api_version());
    // A local fake's throwaway token: printing it is the point of this tool.
    println!("FANVUE_ACCESS_TOKEN={}", fake.access_token());
    println!("FANVUE_REFRESH_TOKEN={}", fake.refresh_token());
    println!("FANVUE_CLIENT_ID={}", fake.client_id());
    println!("FANVUE_CLIENT_SECRET={}", fake.client_secret());
    for c in fake.creators() {
        println!("FANVUE_CREATOR={}", c.user.uuid);
    }
    let fan = fake.chats().first().map(|chat| chat.user.user.uuid);
    match (&args.webhook_url, fan) {
        (Some(url), Some(fan)) => {
            println!("FANVUE_WEBHOOK_URL={url}");
            println!("FANVUE_WEBHOOK_FAN={fan}");
            println!(
                "Running; type a line to send it as a message from fan {fan}; Ctrl-C to stop."
            );
            tokio::select! {
                result = fan_messages(&fake, fan) => result?,
                result = tokio::signal::ctrl_c() => result?,
            }
        }
        _ => {
            println!("Running; press Ctrl-C to stop.");
            tokio::signal::ctrl_c().await?;
        }
    }
    Ok(())
}

/// Each line of standard input: a fan's message, delivered as Message Received; then what the API
/// accepted for that fan so far. When standard input ends, the fake keeps running.
async fn fan_messages(fake: &FakeFanvue, fan: uuid::Uuid) -> std::io::Result<()> {
    let (lines_tx, mut lines) = tokio::sync::mpsc::channel::<String>(16);
    // Standard input is read on a thread of its own (a blocking read).
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    while let Some(text) = lines.recv().await {
        match fake.fan_sends_message(fan, &text).await {
            Ok(attempt) => println!(
                "delivered message.received (attempt {}, status {})",
                attempt.attempt,
                attempt.status.unwrap_or_default()
            ),
            Err(error) => println!("not delivered: {error}"),
        }
        let replies = fake.messages_sent_to(fan);
        println!("answers to fan {fan} so far: {}", replies.len());
        for reply in replies {
            println!("  {}", reply.body);
        }
    }
    std::future::pending().await
}
