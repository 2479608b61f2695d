//! The rate-limit benchmark: 64 tasks calling `GET /users/me` as fast as they
//! can against the fake limited to R requests per 1 s window, for W windows
//! (started on a window boundary). Prints requests per second as a ratio to
//! R and the fake's 429 count, without the client-side limiter
//! (`RateLimitMode::Off`, 429s retried by the default policy), with it, and
//! (with `--features redis` and a `redis-server` on PATH) 4 clients of 16
//! tasks each sharing the window through Redis.
//!
//! ```text
//! cargo run -p fanvue-api-ext --features redis --example ratelimit_bench -- [R] [W]
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Fanvue, RateLimitMode, RateLimiter};
use fanvue_fake::FakeFanvue;

const TASKS: usize = 64;

async fn until_next_second() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let wait = Duration::from_secs(1) - Duration::from_nanos(u64::from(now.subsec_nanos()));
    tokio::time::sleep(wait).await;
}

/// Runs `clients` (tasks spread evenly) for `windows` seconds; returns (ok, 429s).
async fn run(fake: &FakeFanvue, clients: Vec<Fanvue>, windows: u64) -> (u64, u64) {
    let rejected_before = fake.rate_limited_count();
    until_next_second().await;
    let end = tokio::time::Instant::now() + Duration::from_secs(windows);
    let per_client = TASKS / clients.len();
    let mut tasks = Vec::new();
    for fanvue in &clients {
        for _ in 0..per_client {
            let fanvue = fanvue.clone();
            tasks.push(tokio::spawn(async move {
                let mut ok = 0u64;
                loop {
                    let call = fanvue.api().get_current_user().send();
                    match tokio::time::timeout_at(end, call).await {
                        Ok(Ok(_)) => ok += 1,
                        Ok(Err(_)) => {}
                        Err(_) => return ok,
                    }
                }
            }));
        }
    }
    let mut ok = 0;
    for task in tasks {
        ok += task.await.unwrap();
    }
    (ok, fake.rate_limited_count() - rejected_before)
}

fn client(fake: &FakeFanvue, limiter: RateLimiter) -> Fanvue {
    Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .rate_limiter(limiter)
        .build()
        .unwrap()
}

fn report(label: &str, (ok, rejected): (u64, u64), limit: u64, windows: u64) {
    let rps = ok as f64 / windows as f64;
    println!(
        "{label:<44} {rps:>7.1} req/s  ratio {:.3}  429s {rejected}",
        rps / limit as f64
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let limit: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let windows: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let fake = FakeFanvue::builder()
        .record_requests(false)
        .rate_limit_window(limit, Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    println!("{TASKS} tasks, R = {limit} requests per 1 s window, {windows} windows");
    let off = client(&fake, RateLimiter::new(RateLimitMode::Off));
    report(
        "without the limiter (429s retried)",
        run(&fake, vec![off], windows).await,
        limit,
        windows,
    );
    let on = client(&fake, RateLimiter::default());
    report(
        "with the limiter",
        run(&fake, vec![on], windows).await,
        limit,
        windows,
    );
    #[cfg(feature = "redis")]
    redis_run(&fake, limit, windows).await;
}

#[cfg(feature = "redis")]
async fn redis_run(fake: &FakeFanvue, limit: u64, windows: u64) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Ok(mut server) = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
    else {
        println!("4 clients through Redis: skipped (no redis-server)");
        return;
    };
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = format!("redis://127.0.0.1:{port}/");
    // 4 clients with separate limiters that share only the Redis window
    let clients = (0..4)
        .map(|_| {
            client(
                fake,
                RateLimiter::shared(RateLimitMode::Wait, &url, "bench").unwrap(),
            )
        })
        .collect();
    report(
        "4 clients sharing the window through Redis",
        run(fake, clients, windows).await,
        limit,
        windows,
    );
    let _ = server.kill();
    let _ = server.wait();
}
