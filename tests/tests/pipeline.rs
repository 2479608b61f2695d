//! One pipeline for every operation: rate-limit buckets keyed like Fanvue, the gateway fault, HTTP
//! checks (Content-Type, scopes, unknown query parameters) and seeded answers behind the same checks.

mod common;

use std::time::Duration;

use common::{authed, client, get};
use fanvue_fake::model::Creator;
use fanvue_fake::{BucketKey, FakeFanvue, ListStyle, Listener};

const TEMPLATES: &str = "/chats/templates";

fn header(resp: &reqwest::Response, name: &str) -> Option<u64> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn bucket(fake: &FakeFanvue, key: &BucketKey) -> fanvue_fake::RateLimitBucket {
    fake.rate_limit_buckets()
        .into_iter()
        .find(|b| &b.key == key)
        .unwrap_or_else(|| panic!("no bucket {key}: {:?}", fake.rate_limit_buckets()))
}

/// A window no test can straddle, by construction: windows are aligned to Unix time, and one longer
/// than the time since the epoch makes the current window the first, `[1970, 2106)`. (An hour-long
/// window would roll over under a test running across a full hour and refill its bucket.)
const WINDOW: Duration = Duration::from_secs(u32::MAX as u64);

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn rate_limit_counts_and_stamps_an_operation_without_a_stateful_handler() {
    let fake = FakeFanvue::builder()
        .rate_limit_window(5, WINDOW)
        .start()
        .await
        .unwrap();
    let first = get(&fake, TEMPLATES).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "x-ratelimit-limit"), Some(5));
    assert_eq!(header(&first, "x-ratelimit-remaining"), Some(4));
    assert!(header(&first, "x-ratelimit-reset").is_some());
    let post = authed(&fake, client().post(format!("{}/posts", fake.api_url())))
        .json(&serde_json::json!({"audience": "subscribers", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 201, "{:?}", post.text().await);
    assert_eq!(fake.rate_admitted_count(), 2);
    let shared = bucket(&fake, &BucketKey::Shared);
    assert_eq!((shared.admitted, shared.remaining), (2, 3));
    assert_eq!(shared.principal, fake.rate_limit_principal());
}

#[tokio::test]
async fn creator_buckets_are_independent_of_each_other_and_of_the_shared_bucket() {
    let fake = FakeFanvue::builder()
        .rate_limit_window(2, WINDOW)
        .start()
        .await
        .unwrap();
    let (a, b) = (Creator::sample(0).user.uuid, Creator::sample(1).user.uuid);
    for _ in 0..2 {
        assert_eq!(get(&fake, "/users/me").send().await.unwrap().status(), 200);
    }
    let refused = get(&fake, "/users/me").send().await.unwrap();
    assert_eq!(refused.status(), 429);
    // The shared bucket is exhausted; each creator still has its whole budget.
    for creator in [a, b] {
        for n in 0..2u64 {
            let resp = get(&fake, &format!("/creators/{creator}/followers"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(header(&resp, "x-ratelimit-remaining"), Some(1 - n));
        }
        let over = get(&fake, &format!("/creators/{creator}/media"))
            .send()
            .await
            .unwrap();
        assert_eq!(over.status(), 429, "creator {creator} bucket exhausted");
    }
    let buckets = fake.rate_limit_buckets();
    assert_eq!(buckets.len(), 3, "{buckets:?}");
    for key in [
        BucketKey::Shared,
        BucketKey::Creator(a.to_string()),
        BucketKey::Creator(b.to_string()),
    ] {
        let bk = bucket(&fake, &key);
        assert_eq!((bk.admitted, bk.rejected, bk.remaining), (2, 1, 0), "{key}");
    }
}

#[tokio::test]
async fn an_operation_with_its_own_limit_has_its_own_bucket() {
    let fake = FakeFanvue::builder()
        .rate_limit_window(10, WINDOW)
        .operation_rate_limit("list-template-messages", 1)
        .start()
        .await
        .unwrap();
    let own = get(&fake, TEMPLATES).send().await.unwrap();
    assert_eq!(own.status(), 200);
    assert_eq!(header(&own, "x-ratelimit-limit"), Some(1));
    assert_eq!(header(&own, "x-ratelimit-remaining"), Some(0));
    assert_eq!(get(&fake, TEMPLATES).send().await.unwrap().status(), 429);
    let me = get(&fake, "/users/me").send().await.unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(header(&me, "x-ratelimit-limit"), Some(10));
    assert_eq!(header(&me, "x-ratelimit-remaining"), Some(9));
    let op = bucket(
        &fake,
        &BucketKey::Operation("list-template-messages".into()),
    );
    assert_eq!((op.limit, op.admitted, op.rejected), (1, 1, 1));

    // Live: back into the shared bucket.
    fake.set_operation_rate_limit("list-template-messages", None);
    let shared = get(&fake, TEMPLATES).send().await.unwrap();
    assert_eq!(header(&shared, "x-ratelimit-limit"), Some(10));
    assert_eq!(header(&shared, "x-ratelimit-remaining"), Some(8));
}

#[tokio::test]
async fn over_the_limit_is_429_with_retry_after_and_headers_and_errors_are_stamped_too() {
    let fake = FakeFanvue::builder()
        .rate_limit_window(3, WINDOW)
        .start()
        .await
        .unwrap();
    // A 401 (no token) and a 400 (bad query) after the rate-limit stage carry the headers.
    let unauthorized = client()
        .get(format!("{}{TEMPLATES}", fake.api_url()))
        .header("X-Fanvue-API-Version", fake.api_version())
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert_eq!(header(&unauthorized, "x-ratelimit-remaining"), Some(2));
    let invalid = get(&fake, &format!("{TEMPLATES}?size=500"))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    assert_eq!(header(&invalid, "x-ratelimit-remaining"), Some(1));
    assert_eq!(get(&fake, TEMPLATES).send().await.unwrap().status(), 200);
    let before = unix_now();
    let refused = get(&fake, TEMPLATES).send().await.unwrap();
    let after = unix_now();
    assert_eq!(refused.status(), 429);
    // Retry-After is the time left in the window, to its end (`X-RateLimit-Reset`).
    let retry_after = header(&refused, "retry-after").expect("Retry-After");
    let reset = header(&refused, "x-ratelimit-reset").expect("X-RateLimit-Reset");
    assert_eq!(reset, u64::from(u32::MAX));
    assert!(
        (reset - after..=reset - before + 1).contains(&retry_after),
        "{retry_after} vs reset {reset} at {before}..{after}"
    );
    assert_eq!(header(&refused, "x-ratelimit-limit"), Some(3));
    assert_eq!(header(&refused, "x-ratelimit-remaining"), Some(0));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(fake.rate_limited_count(), 1);
}

#[tokio::test]
async fn gateway_errors_have_no_rate_limit_headers_and_are_not_counted() {
    let fake = FakeFanvue::builder()
        .rate_limit_window(5, WINDOW)
        .start()
        .await
        .unwrap();
    fake.gateway_errors(502, 2);
    for _ in 0..2 {
        let resp = get(&fake, TEMPLATES).send().await.unwrap();
        assert_eq!(resp.status(), 502);
        assert!(
            resp.headers()
                .keys()
                .all(|k| !k.as_str().starts_with("x-ratelimit")),
            "{:?}",
            resp.headers()
        );
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(resp.text().await.unwrap().contains("502 Bad Gateway"));
    }
    // An outage for a while: every operation, none counted.
    fake.gateway_outage(503, Duration::from_secs(3600));
    let resp = get(&fake, "/users/me").send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert!(header(&resp, "x-ratelimit-limit").is_none());
    assert_eq!(fake.rate_admitted_count(), 0);
    assert!(fake.rate_limit_buckets().is_empty());
    fake.clear_faults();
    let after = get(&fake, "/users/me").send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(header(&after, "x-ratelimit-remaining"), Some(4));
}

#[tokio::test]
async fn a_gateway_outage_ends_after_its_duration() {
    let fake = FakeFanvue::start().await.unwrap();
    // Warm up (the first request pays for compiling the validators), so the outage is not spent on it.
    assert_eq!(get(&fake, "/users/me").send().await.unwrap().status(), 200);
    let outage = Duration::from_secs(2);
    let started = std::time::Instant::now();
    fake.gateway_outage(504, outage);
    let during = get(&fake, "/users/me").send().await.unwrap().status();
    if started.elapsed() < outage {
        assert_eq!(during, 504);
    }
    // Bounded wait for the outage to end, probing as a client would.
    let ok = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let status = get(&fake, "/users/me").send().await.unwrap().status();
            if status == 200 {
                return started.elapsed();
            }
            assert_eq!(status, 504);
            tokio::task::yield_now().await;
        }
    })
    .await;
    let ended_after = ok.expect("the outage never ended");
    assert!(ended_after >= outage, "ended early: {ended_after:?}");
}

#[tokio::test]
async fn a_body_needs_a_json_content_type() {
    let fake = FakeFanvue::start().await.unwrap();
    let url = format!("{}/posts", fake.api_url());
    let body = r#"{"audience":"subscribers","text":"hi"}"#;
    for content_type in [None, Some("text/plain")] {
        let mut rb = authed(&fake, client().post(&url)).body(body);
        if let Some(ct) = content_type {
            rb = rb.header("content-type", ct);
        }
        let resp = rb.send().await.unwrap();
        assert_eq!(resp.status(), 400, "{content_type:?}");
        let errors: serde_json::Value = resp.json().await.unwrap();
        assert!(
            errors["errors"][0]
                .as_str()
                .is_some_and(|e| e.starts_with("Content-Type")),
            "{errors}"
        );
    }
    let ok = authed(&fake, client().post(&url))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn a_token_without_a_scope_gets_403_naming_it() {
    let fake = FakeFanvue::start().await.unwrap();
    let token = fake.mint_access_token(&["read:self"]);
    let send = |path: &str| {
        client()
            .get(format!("{}{path}", fake.api_url()))
            .header("X-Fanvue-API-Version", fake.api_version())
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(send("/users/me").await.unwrap().status(), 200);
    let refused = send(TEMPLATES).await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("read:chat")),
        "{body}"
    );
    // Every listed scope is required: read:creator alone does not open the creator's followers.
    let creator = Creator::sample(0).user.uuid;
    let partial = fake.mint_access_token(&["read:creator"]);
    let resp = client()
        .get(format!("{}/creators/{creator}/followers", fake.api_url()))
        .header("X-Fanvue-API-Version", fake.api_version())
        .bearer_auth(&partial)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("read:fan"),
        "{body}"
    );
    // The default token carries the configured scopes.
    assert_eq!(get(&fake, TEMPLATES).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_configured_scope_applies_to_the_static_token() {
    let fake = FakeFanvue::builder()
        .scope("openid read:self")
        .start()
        .await
        .unwrap();
    assert_eq!(get(&fake, "/users/me").send().await.unwrap().status(), 200);
    assert_eq!(get(&fake, TEMPLATES).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn unknown_query_parameters_are_recorded_and_refused_in_strict_mode() {
    let fake = FakeFanvue::start().await.unwrap();
    let resp = get(&fake, &format!("{TEMPLATES}?page=1&pgae=2&colour=red"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let logged = fake.requests_to(Listener::Api).pop().unwrap();
    assert_eq!(logged.unknown_query, vec!["pgae", "colour"]);
    assert_eq!(
        logged.operation_id.as_deref(),
        Some("list-template-messages")
    );

    let strict = FakeFanvue::builder()
        .strict_query(true)
        .start()
        .await
        .unwrap();
    let resp = get(&strict, &format!("{TEMPLATES}?pgae=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["errors"][0].as_str().unwrap().starts_with("pgae"),
        "{body}"
    );
    assert_eq!(
        get(&strict, &format!("{TEMPLATES}?page=2"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn bracketed_variants_are_not_honoured() {
    let fake = FakeFanvue::builder().media_count(1).start().await.unwrap();
    let media = fake.media()[0].uuid;
    let (status, with) = common::get_json(&fake, &format!("/media/{media}?variants=main")).await;
    assert_eq!(status, 200);
    assert!(
        with["variants"].as_array().is_some_and(|v| !v.is_empty()),
        "{with}"
    );
    let (status, bracketed) =
        common::get_json(&fake, &format!("/media/{media}?variants%5B%5D=main")).await;
    assert_eq!(status, 200);
    assert!(
        bracketed["variants"]
            .as_array()
            .is_none_or(|v| v.is_empty()),
        "{bracketed}"
    );
    let logged = fake.requests_to(Listener::Api).pop().unwrap();
    assert_eq!(logged.unknown_query, vec!["variants[]"]);
}

fn unread_counts(chats: u64) -> serde_json::Value {
    serde_json::json!({
        "unreadChatsCount": chats,
        "unreadMessagesCount": 4,
        "unreadNotifications": {
            "newFollower": 0, "newPostComment": 0, "newPostLike": 0, "newPromotion": 0,
            "newPurchase": 0, "newSubscriber": 0, "newTip": 0
        }
    })
}

#[tokio::test]
async fn stubs_and_seeded_lists_are_validated_like_everything_else() {
    let fake = FakeFanvue::builder()
        .rate_limit_window(100, WINDOW)
        .start()
        .await
        .unwrap();
    fake.stub(http::Method::GET, "/chats/unread", 200, unread_counts(3));
    // The request is checked (unknown version) and counted like any operation.
    let resp = client()
        .get(format!("{}/chats/unread", fake.api_url()))
        .header("X-Fanvue-API-Version", "1999-01-01")
        .bearer_auth(fake.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(header(&resp, "x-ratelimit-limit").is_some());
    // A scope check applies too.
    let token = fake.mint_access_token(&["read:self"]);
    let resp = client()
        .get(format!("{}/chats/unread", fake.api_url()))
        .header("X-Fanvue-API-Version", fake.api_version())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let (status, body) = common::get_json(&fake, "/chats/unread").await;
    assert_eq!((status, body["unreadChatsCount"].as_u64()), (200, Some(3)));

    // A stub answer the document does not allow is refused.
    fake.stub(
        http::Method::GET,
        "/chats/unread",
        200,
        serde_json::json!({ "unread": "three" }),
    );
    let (status, body) = common::get_json(&fake, "/chats/unread").await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("does not match"),
        "{body}"
    );

    // A seeded list's request is validated against its operation (size bound).
    fake.seed_list(TEMPLATES, ListStyle::PageNumber, Vec::new());
    let (status, _) = common::get_json(&fake, &format!("{TEMPLATES}?size=500")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_fault_aimed_at_any_operation_is_answered_before_the_rate_limit() {
    use fanvue_fake::{Fault, FaultTarget};
    let fake = FakeFanvue::builder()
        .rate_limit_window(5, WINDOW)
        .start()
        .await
        .unwrap();
    fake.inject(
        FaultTarget::Operation("list-template-messages".into()),
        Fault::Status(503),
        1,
    );
    let faulted = get(&fake, TEMPLATES).send().await.unwrap();
    assert_eq!(faulted.status(), 503);
    assert!(header(&faulted, "x-ratelimit-limit").is_none());
    let body: serde_json::Value = faulted.json().await.unwrap();
    assert!(
        body["message"].is_string(),
        "the document's 503 shape: {body}"
    );
    assert_eq!(fake.rate_admitted_count(), 0);
    // Another operation is not hit; a 404 of a stateful handler is stamped.
    let missing = get(&fake, &format!("/media/{}", uuid::Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "x-ratelimit-remaining"), Some(4));
    assert_eq!(get(&fake, TEMPLATES).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn rust_overrides_take_times_sequences_and_matchers_and_reset_forgets_them() {
    use fanvue_fake::Override;
    let fake = FakeFanvue::builder()
        .bind(std::net::Ipv4Addr::UNSPECIFIED.into())
        .start()
        .await
        .unwrap();
    // Bound on every interface, reached on loopback.
    assert!(
        fake.api_url().starts_with("http://127.0.0.1:"),
        "{}",
        fake.api_url()
    );
    fake.override_sequence(
        "get-current-user",
        vec![
            Override::status(503).times(2),
            Override::body(serde_json::json!({"handle": "overridden"})),
        ],
    );
    fake.add_override("list-chats", Override::status(404).when_query("page", "2"));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let resp = get(&fake, "/users/me").send().await.unwrap();
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        statuses.push((status, body["handle"] == "overridden"));
    }
    assert_eq!(
        statuses,
        [(503, false), (503, false), (200, true), (200, false)]
    );
    assert_eq!(
        get(&fake, "/chats?page=2").send().await.unwrap().status(),
        404
    );
    assert_eq!(
        get(&fake, "/chats?page=1").send().await.unwrap().status(),
        200
    );
    let minted = fake.mint_access_token(&["read:self"]);
    fake.reset();
    assert!(fake.api_requests().is_empty());
    assert_eq!(
        get(&fake, "/chats?page=2").send().await.unwrap().status(),
        200
    );
    let resp = client()
        .get(format!("{}/users/me", fake.api_url()))
        .header("X-Fanvue-API-Version", fake.api_version())
        .bearer_auth(minted)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
