//! Starts the fake Fanvue API, OAuth server and S3 on loopback, prints their URLs and a valid token, and
//! runs until Ctrl-C.
//!
//! `fanvue-fake --port 8080 --seed 7 --list-size 40`; environment: `FANVUE_FAKE_LATENCY_MS`
//! (per-request latency), `FANVUE_FAKE_S3_BANDWIDTH` (bytes per second per S3 connection),
//! `FANVUE_FAKE_HASH_ONLY=1` (do not keep part bytes).

use std::time::Duration;

use clap::Parser;
use fanvue_fake::{FakeFanvue, StorageMode};

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
    println!("Running; press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
