//! Starts the fake Fanvue API, OAuth server and S3 on loopback, prints their URLs and a valid token, and
//! runs until Ctrl-C.
//!
//! Options (environment): `FANVUE_FAKE_LATENCY_MS` (per-request latency), `FANVUE_FAKE_S3_BANDWIDTH`
//! (bytes per second per S3 connection), `FANVUE_FAKE_HASH_ONLY=1` (do not keep part bytes).

use std::time::Duration;

use fanvue_fake::{FakeFanvue, StorageMode};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = FakeFanvue::builder();
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
