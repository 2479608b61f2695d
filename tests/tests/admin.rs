//! The admin HTTP API (`/_fake/...`), driven with plain HTTP and JSON as a test suite in Python, JS or
//! curl would: after starting the fake, these tests use only its URL, its token and HTTP.

use std::time::Duration;

use fanvue_fake::FakeFanvue;
use serde_json::{Value, json};

const TOKEN: &str = "admin-test-token";
const VERSION: &str = fanvue_fake::DEFAULT_API_VERSION;

/// A fake with a fixed token, and its API URL: all a non-Rust suite knows.
async fn start() -> (FakeFanvue, String) {
    let fake = FakeFanvue::builder()
        .access_token(TOKEN)
        .start()
        .await
        .unwrap();
    let url = fake.api_url().to_string();
    (fake, url)
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// An API request with the version header and `token`.
async fn api(method: reqwest::Method, url: &str, token: &str) -> (u16, Value) {
    let resp = http()
        .request(method, url)
        .header("X-Fanvue-API-Version", VERSION)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn api_get(url: &str) -> (u16, Value) {
    api(reqwest::Method::GET, url, TOKEN).await
}

/// An admin request with a JSON body (no token).
async fn admin(method: reqwest::Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let mut rb = http().request(method, url);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    admin(reqwest::Method::POST, url, Some(body)).await
}

async fn put(url: &str, body: Value) -> (u16, Value) {
    admin(reqwest::Method::PUT, url, Some(body)).await
}

async fn get(url: &str) -> (u16, Value) {
    admin(reqwest::Method::GET, url, None).await
}

async fn delete(url: &str) -> (u16, Value) {
    admin(reqwest::Method::DELETE, url, None).await
}

#[tokio::test]
async fn a_token_minted_with_scopes_gets_403_naming_a_missing_scope() {
    let (_fake, url) = start().await;
    let (status, body) = post(
        &format!("{url}/_fake/tokens"),
        json!({"scopes": ["read:self"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_ne!(token, TOKEN);
    let (status, _) = api(reqwest::Method::GET, &format!("{url}/users/me"), &token).await;
    assert_eq!(status, 200);
    let (status, body) = api(reqwest::Method::GET, &format!("{url}/chats"), &token).await;
    assert_eq!(status, 403);
    assert!(
        body["error"].as_str().unwrap().contains("read:chat"),
        "{body}"
    );
}

#[tokio::test]
async fn overrides_answer_a_sequence_then_step_aside() {
    let (_fake, url) = start().await;
    let me = format!("{url}/users/me");
    let (status, body) = put(
        &format!("{url}/_fake/overrides/get-current-user"),
        json!({"sequence": [
            {"status": 503, "body": {"message": "down"}, "times": 2},
            {"status": 200, "body": {"uuid": "from-the-override"}}
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (status, body) = api_get(&me).await;
        seen.push((status, body["uuid"].as_str().map(str::to_string)));
    }
    assert_eq!(seen[0], (503, None));
    assert_eq!(seen[1], (503, None));
    assert_eq!(seen[2], (200, Some("from-the-override".into())));
    // The sequence is used up: the fake's own user again.
    assert_eq!(seen[3].0, 200);
    assert_ne!(seen[3].1.as_deref(), Some("from-the-override"));
}

#[tokio::test]
async fn overrides_with_a_query_matcher_and_times_apply_only_where_they_match() {
    let (_fake, url) = start().await;
    let ops = format!("{url}/_fake/overrides/list-chats");
    let empty = json!({"data": [], "pagination": {"page": 2, "size": 15, "hasMore": false}});
    let (status, body) = post(
        &ops,
        json!({"status": 200, "body": empty, "match": {"query": {"page": 2}}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&ops, json!({"status": 500, "times": 1})).await;
    assert_eq!(status, 200, "{body}");
    // page=2 takes the first rule, every time.
    for _ in 0..2 {
        let (status, body) = api_get(&format!("{url}/chats?page=2")).await;
        assert_eq!(
            (status, body["data"].as_array().map(Vec::len)),
            (200, Some(0))
        );
    }
    // page=1 skips it and takes the second rule, once; then the usual answer.
    assert_eq!(api_get(&format!("{url}/chats?page=1")).await.0, 500);
    let (status, body) = api_get(&format!("{url}/chats?page=1")).await;
    assert_eq!(status, 200);
    assert!(!body["data"].as_array().unwrap().is_empty(), "{body}");
    // Removing the operation's overrides brings page 2 back.
    assert_eq!(delete(&ops).await.0, 200);
    let (_, body) = api_get(&format!("{url}/chats?page=2")).await;
    assert!(!body["data"].as_array().unwrap().is_empty(), "{body}");
}

#[tokio::test]
async fn bad_admin_requests_are_refused_with_a_reason() {
    let (_fake, url) = start().await;
    let (status, body) = put(
        &format!("{url}/_fake/overrides/no-such-operation"),
        json!({"status": 500}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no-such-operation"),
        "{body}"
    );
    let (status, body) = post(
        &format!("{url}/_fake/faults"),
        json!({"fault": {"kind": "explode"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].is_string());
    let (status, body) = get(&format!("{url}/_fake/nothing-here")).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    let resp = http()
        .post(format!("{url}/_fake/tokens"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn faults_by_operation_and_a_gateway_outage() {
    let (_fake, url) = start().await;
    let me = format!("{url}/users/me");
    let (status, body) = post(
        &format!("{url}/_fake/faults"),
        json!({"operation": "get-current-user", "fault": {"kind": "status", "status": 500}, "times": 1}),
    )
    .await;
    assert_eq!((status, body["pending"].as_u64()), (201, Some(1)), "{body}");
    assert_eq!(api_get(&me).await.0, 500);
    assert_eq!(api_get(&me).await.0, 200);

    let (status, _) = post(
        &format!("{url}/_fake/gateway-outage"),
        json!({"status": 502, "duration_ms": 3_600_000}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = api_get(&format!("{url}/chats")).await;
    assert_eq!(status, 502);
    assert!(body.as_str().unwrap().contains("502 Bad Gateway"), "{body}");
    let (_, faults) = get(&format!("{url}/_fake/faults")).await;
    assert_eq!(faults["gateway_outage"], true);
    assert_eq!(delete(&format!("{url}/_fake/faults")).await.0, 200);
    assert_eq!(api_get(&me).await.0, 200);
}

/// A window no test can straddle: longer than the time since the Unix epoch, so the current
/// (epoch-aligned) window is the first, ending in 2106.
const WINDOW_SECS: u64 = u32::MAX as u64;

#[tokio::test]
async fn rate_limits_are_set_and_read_over_http_and_the_admin_api_is_never_limited() {
    let (_fake, url) = start().await;
    let (status, _) = put(
        &format!("{url}/_fake/rate-limits"),
        json!({"limit": 2, "window_secs": WINDOW_SECS}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = put(
        &format!("{url}/_fake/rate-limits/operations/get-current-user"),
        json!({"limit": 1}),
    )
    .await;
    assert_eq!(status, 200);
    let chats = format!("{url}/chats");
    assert_eq!(api_get(&chats).await.0, 200);
    assert_eq!(api_get(&chats).await.0, 200);
    assert_eq!(api_get(&chats).await.0, 429);
    assert_eq!(api_get(&format!("{url}/users/me")).await.0, 200);
    assert_eq!(api_get(&format!("{url}/users/me")).await.0, 429);
    // The admin API itself is never counted or refused.
    for _ in 0..5 {
        assert_eq!(get(&format!("{url}/_fake/faults")).await.0, 200);
    }
    let (status, body) = get(&format!("{url}/_fake/rate-limits")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["admitted"].as_u64(), body["rejected"].as_u64()),
        (Some(3), Some(2))
    );
    let buckets = body["buckets"].as_array().unwrap();
    let shared = buckets.iter().find(|b| b["kind"] == "shared").unwrap();
    assert_eq!(shared["limit"], 2);
    assert_eq!(shared["remaining"], 0);
    assert_eq!(
        (shared["admitted"].as_u64(), shared["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(shared["window_secs"], WINDOW_SECS);
    let own = buckets
        .iter()
        .find(|b| b["kind"] == "operation" && b["id"] == "get-current-user")
        .unwrap();
    assert_eq!(
        (own["limit"].as_u64(), own["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    // Unlimited again.
    put(&format!("{url}/_fake/rate-limits"), json!({"limit": null})).await;
    put(
        &format!("{url}/_fake/rate-limits/operations/get-current-user"),
        json!({"limit": null}),
    )
    .await;
    assert_eq!(api_get(&chats).await.0, 200);
    assert_eq!(api_get(&format!("{url}/users/me")).await.0, 200);
}

#[tokio::test]
async fn the_request_log_is_read_and_cleared_over_http_without_secrets() {
    let (_fake, url) = start().await;
    api_get(&format!("{url}/chats?size=5&colour=blue")).await;
    get(&format!("{url}/_fake/faults")).await;
    let (status, body) = get(&format!("{url}/_fake/requests")).await;
    assert_eq!(status, 200);
    let log = body["requests"].as_array().unwrap();
    assert_eq!(log.len(), 1, "admin requests are not logged: {body}");
    let r = &log[0];
    assert_eq!(r["method"], "GET");
    assert_eq!(r["path"], "/chats");
    assert_eq!(r["query"], "size=5&colour=blue");
    assert_eq!(r["operation_id"], "list-chats");
    assert_eq!(r["unknown_query"], json!(["colour"]));
    assert_eq!(r["has_authorization"], true);
    assert_eq!(r["headers"]["authorization"], "<redacted>");
    assert!(!body.to_string().contains(TOKEN), "{body}");
    let (_, filtered) = get(&format!("{url}/_fake/requests?operation=get-current-user")).await;
    assert!(filtered["requests"].as_array().unwrap().is_empty());
    assert_eq!(delete(&format!("{url}/_fake/requests")).await.0, 200);
    let (_, body) = get(&format!("{url}/_fake/requests")).await;
    assert!(body["requests"].as_array().unwrap().is_empty(), "{body}");
}

#[tokio::test]
async fn reset_puts_tokens_overrides_faults_limits_and_the_log_back_to_the_start() {
    let (_fake, url) = start().await;
    let (_, minted) = post(
        &format!("{url}/_fake/tokens"),
        json!({"scopes": ["read:self"]}),
    )
    .await;
    let minted = minted["access_token"].as_str().unwrap().to_string();
    put(
        &format!("{url}/_fake/overrides/get-current-user"),
        json!({"status": 418}),
    )
    .await;
    post(
        &format!("{url}/_fake/faults"),
        json!({"operation": "list-chats", "fault": {"kind": "status", "status": 500}, "times": 5}),
    )
    .await;
    put(
        &format!("{url}/_fake/rate-limits"),
        json!({"limit": 1, "window_secs": WINDOW_SECS}),
    )
    .await;
    assert_eq!(api_get(&format!("{url}/users/me")).await.0, 418);

    let (status, _) = post(&format!("{url}/_fake/reset"), json!({})).await;
    assert_eq!(status, 200);
    let (_, log) = get(&format!("{url}/_fake/requests")).await;
    assert!(log["requests"].as_array().unwrap().is_empty(), "{log}");
    let (_, limits) = get(&format!("{url}/_fake/rate-limits")).await;
    assert!(limits["buckets"].as_array().unwrap().is_empty(), "{limits}");
    let (_, faults) = get(&format!("{url}/_fake/faults")).await;
    assert_eq!(faults["pending"], 0);
    // No override, no fault, no limit (a second request would be refused under the old limit of 1).
    for _ in 0..2 {
        assert_eq!(api_get(&format!("{url}/users/me")).await.0, 200);
        assert_eq!(api_get(&format!("{url}/chats")).await.0, 200);
    }
    // The minted token is gone; the configured one works.
    let (status, _) = api(reqwest::Method::GET, &format!("{url}/users/me"), &minted).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_delivered_on_request_signed() {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    const SECRET: &str = "whsec-admin-test";
    let (_fake, url) = start().await;
    // Without an endpoint: 409.
    let (status, body) = post(
        &format!("{url}/_fake/webhooks"),
        json!({"type": "payout.paid", "data": {"amount": 1500}}),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    let (got_tx, mut got) = tokio::sync::mpsc::unbounded_channel::<(HeaderMap, Bytes)>();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let got_tx = got_tx.clone();
            async move {
                let _ = got_tx.send((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (status, _) = put(
        &format!("{url}/_fake/webhooks/endpoint"),
        json!({"url": hook, "secret": SECRET}),
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = post(
        &format!("{url}/_fake/webhooks"),
        json!({"type": "payout.paid", "data": {"amount": 1500}}),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_u64()),
        (200, Some(200)),
        "{body}"
    );
    let (headers, sent) = tokio::time::timeout(Duration::from_secs(10), got.recv())
        .await
        .unwrap()
        .unwrap();
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(sent["type"], "payout.paid");
    assert_eq!(sent["data"]["amount"], 1500);
    assert_eq!(sent["id"], body["event_id"]);
    assert!(headers.contains_key("x-fanvue-signature"), "{headers:?}");

    let fan = uuid::Uuid::new_v4();
    let (status, body) = post(
        &format!("{url}/_fake/webhooks/fan-message"),
        json!({"fan": fan, "text": "hello from python"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, sent) = tokio::time::timeout(Duration::from_secs(10), got.recv())
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&sent);
    assert!(
        text.contains("hello from python") && text.contains(&fan.to_string()),
        "{text}"
    );
}
