//! Requests per second of the fake answering one document-driven list page (`GET /agencies/chats`,
//! 15 synthesized items: validation, synthesis, JSON), against a trivial static answer on the same
//! server stack (a [`FakeFanvue::stub`]: same logging, version and token checks), sequentially over one
//! keep-alive loopback connection, client and fake on one `current_thread` runtime (one core).
//!
//! `cargo bench -p fanvue-fake --bench list_page` (`FANVUE_BENCH_SECS`, default 2 per case).

use std::time::{Duration, Instant};

use fanvue_fake::FakeFanvue;

async fn measure(client: &reqwest::Client, fake: &FakeFanvue, path: &str, secs: u64) -> f64 {
    let url = format!("{}{path}", fake.api_url());
    let send = || {
        client
            .get(&url)
            .header("X-Fanvue-API-Version", fake.api_version())
            .bearer_auth(fake.access_token())
            .send()
    };
    for _ in 0..50 {
        let r = send().await.expect("warm-up request");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.bytes().await.expect("body");
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        let r = send().await.expect("request");
        r.bytes().await.expect("body");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: u64 = std::env::var("FANVUE_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // No request log: a long run would otherwise keep every request.
        let fake = FakeFanvue::builder()
            .record_requests(false)
            .start()
            .await
            .expect("fake starts");
        fake.stub(
            http::Method::GET,
            "/bench/static",
            200,
            serde_json::json!({"ok": true}),
        );
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()
            .expect("client");
        let baseline = measure(&client, &fake, "/bench/static", secs).await;
        let list = measure(&client, &fake, "/agencies/chats?page=2&size=15", secs).await;
        println!("static stub:         {baseline:>8.0} req/s");
        println!("list page (15 items): {list:>8.0} req/s");
        println!("ratio list/static:   {:>8.2}", list / baseline);
    });
}
