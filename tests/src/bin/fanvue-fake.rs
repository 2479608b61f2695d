//! Starts the fake Fanvue API, OAuth server and S3 on loopback, prints their URLs and a valid token, and
//! runs until Ctrl-C.
//!
//! `fanvue-fake --bind 0.0.0.0 --port 8080 --auth-port 8081 --s3-port 8082 --token dev-token --seed 7`;
//! `--strict-query`, `--wire-noise`, `--rate-limit 100/60` as on the builder. The admin API
//! (`/_fake/...` on the API port, see the crate's README) drives overrides, faults, rate limits, the
//! request log and reset from any language. Environment: `FANVUE_FAKE_LATENCY_MS`
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
    /// Address of the three listeners (`0.0.0.0` to be reachable from containers or other hosts).
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Port of the API listener (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Port of the OAuth listener (0: any free port).
    #[arg(long, default_value_t = 0)]
    auth_port: u16,
    /// Port of the S3 listener (0: any free port).
    #[arg(long, default_value_t = 0)]
    s3_port: u16,
    /// The access token the API accepts (default: a random one, printed).
    #[arg(long)]
    token: Option<String>,
    /// Refuse query parameters an operation does not declare (400) instead of ignoring them.
    #[arg(long)]
    strict_query: bool,
    /// Synthesized answers carry a real wire's noise (integral floats, unknown enum values, extra fields).
    #[arg(long)]
    wire_noise: bool,
    /// Limit every rate-limit bucket to N requests per SECS seconds, e.g. `100/60`.
    #[arg(long, value_name = "N/SECS", value_parser = parse_rate_limit)]
    rate_limit: Option<(u64, u64)>,
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

/// `N/SECS` → (N, SECS), SECS at least 1.
fn parse_rate_limit(s: &str) -> Result<(u64, u64), String> {
    let (n, secs) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}`: expected N/SECS, e.g. 100/60"))?;
    let n = n
        .trim()
        .parse()
        .map_err(|e| format!("`{n}`: not a request count: {e}"))?;
    let secs: u64 = secs
        .trim()
        .parse()
        .map_err(|e| format!("`{secs}`: not a number of seconds: {e}"))?;
    if secs == 0 {
        return Err("the window must be at least 1 second".into());
    }
    Ok((n, secs))
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut builder = FakeFanvue::builder()
        .bind(args.bind)
        .api_port(args.port)
        .auth_port(args.auth_port)
        .s3_port(args.s3_port)
        .seed(args.seed)
        .list_size(args.list_size)
        .strict_query(args.strict_query)
        .wire_noise(args.wire_noise);
    if let Some(token) = &args.token {
        builder = builder.access_token(token);
    }
    if let Some((n, secs)) = args.rate_limit {
        builder = builder.rate_limit_window(n, Duration::from_secs(secs));
    }
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
    let creators: Vec<String> = fake
        .creators()
        .iter()
        .map(|c| c.user.uuid.to_string())
        .collect();
    println!("FANVUE_CREATORS={}", creators.join(","));
    let fan = fake.chats().first().map(|chat| chat.user.user.uuid);
    if let Some(fan) = fan {
        println!("FANVUE_FAN={fan}");
    }
    println!("FANVUE_FAKE_ADMIN_URL={}/_fake", fake.api_url());
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
