//! Client overhead: 10,000 sequential `GET /users/me` against a minimal local
//! HTTP/1.1 server (keep-alive, fixed JSON body), through `fanvue-api-ext`
//! versus plain `reqwest` sending the same headers and decoding the same type.
//!
//! Run: `cargo bench -p fanvue-api-ext --bench overhead` (optionally `-- <requests>`).
//! The two clients alternate in blocks of 1,000 requests to cancel drift.

use std::time::{Duration, Instant};

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Fanvue, RetryPolicy};
use reqwest::header::{AUTHORIZATION, USER_AGENT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[path = "../tests/support/plain_http.rs"]
mod plain_http;

const TOKEN: &str = "bench-token-0123456789";
const BLOCK: usize = 1_000;

fn body() -> String {
    serde_json::json!({
        "uuid": "2b8f1c1e-5b8a-4a53-9d6c-0d9f4e6a7b11", "handle": "jane", "displayName": "Jane",
        "email": "jane@example.test", "bio": "Hello", "isCreator": true, "avatarUrl": null,
        "bannerUrl": null, "createdAt": "2024-01-02T03:04:05Z", "updatedAt": null,
        "fanCounts": {"followersCount": 10, "subscribersCount": 5}
    })
    .to_string()
}

/// A minimal keep-alive HTTP/1.1 server answering every request with `body`.
fn start_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).expect("listener");
            let body = body();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
                body.len(),
                body
            );
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                let response = response.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let mut buffer = Vec::with_capacity(4096);
                    let mut chunk = [0u8; 4096];
                    loop {
                        // GETs only: a request ends at the blank line.
                        while let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            buffer.drain(..end + 4);
                            if stream.write_all(response.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                });
            }
        });
    });
    addr
}

async fn plain(client: &reqwest::Client, url: &str, user_agent: &str) {
    let response = client
        .get(url)
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header("x-fanvue-api-version", fanvue_api::API_VERSION)
        .header(USER_AGENT, user_agent)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .expect("plain request");
    assert!(response.status().is_success());
    let bytes = response.bytes().await.expect("plain body");
    let _user: fanvue_api::types::CurrentUser = serde_json::from_slice(&bytes).expect("decode");
}

async fn through_client(fanvue: &Fanvue) {
    let _user = fanvue
        .api()
        .get_current_user()
        .send()
        .await
        .expect("client request");
}

fn main() {
    let requests: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let addr = start_server();
    let base = format!("http://{addr}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    runtime.block_on(async move {
        let fanvue = Fanvue::builder()
            .base_url(&base)
            .allow_insecure_http(true)
            .access_token(TOKEN.to_string())
            .retry_policy(RetryPolicy::default())
            .build()
            .expect("client");
        // Plain reqwest configured like the client's default one.
        let reqwest = plain_http::plain_http_builder()
            .connect_timeout(fanvue_api_ext::client::DEFAULT_CONNECT_TIMEOUT)
            .timeout(fanvue_api_ext::client::DEFAULT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest");
        let url = format!("{base}/users/me");
        let user_agent = fanvue_api_ext::client::DEFAULT_USER_AGENT;

        for _ in 0..500 {
            plain(&reqwest, &url, user_agent).await;
            through_client(&fanvue).await;
        }

        let (mut plain_total, mut client_total) = (Duration::ZERO, Duration::ZERO);
        let mut done = 0;
        while done < requests {
            let n = BLOCK.min(requests - done);
            let started = Instant::now();
            for _ in 0..n {
                plain(&reqwest, &url, user_agent).await;
            }
            plain_total += started.elapsed();
            let started = Instant::now();
            for _ in 0..n {
                through_client(&fanvue).await;
            }
            client_total += started.elapsed();
            done += n;
        }
        let per = |total: Duration| total.as_secs_f64() * 1e6 / requests as f64;
        println!("sequential GET /users/me x {requests} (loopback, keep-alive)");
        println!(
            "plain reqwest:  {:>8.1} ms total, {:>6.1} µs/request",
            plain_total.as_secs_f64() * 1e3,
            per(plain_total)
        );
        println!(
            "fanvue-api-ext: {:>8.1} ms total, {:>6.1} µs/request",
            client_total.as_secs_f64() * 1e3,
            per(client_total)
        );
        println!(
            "ratio (fanvue-api-ext / plain reqwest): {:.3}",
            client_total.as_secs_f64() / plain_total.as_secs_f64()
        );
    });
}
