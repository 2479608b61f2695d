//! The client-side rate limiter against servers on loopback: buckets keyed
//! like Fanvue's (a keyed server from `support/keyed.rs`), recovery after a
//! header-less gateway outage, and the credential taken after the wait (the
//! fake).

#[path = "support/keyed.rs"]
mod keyed;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fanvue_api_ext::auth::OAuthCredentials;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Bucket, Error, Fanvue, RateLimitMode, RetryPolicy};
use fanvue_fake::{ApiRoute, FakeFanvue, Fault, FaultTarget};
use keyed::KeyedServer;
use uuid::Uuid;

fn client(server: &KeyedServer, mode: RateLimitMode) -> Fanvue {
    Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token("token")
        .retry_policy(RetryPolicy::none())
        .rate_limit(mode)
        .build()
        .unwrap()
}

fn unix_secs_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test]
async fn a_headerless_outage_across_a_reset_is_followed_by_successful_calls_within_one_window() {
    // Failed before: after 502s without headers across a window reset, the window sat at 0 with
    // no reset and every later call waited until its timeout.
    let server = KeyedServer::start(3, Duration::from_secs(1)).await;
    let fanvue = client(&server, RateLimitMode::Wait);
    let call = || async {
        tokio::time::timeout(
            Duration::from_secs(3),
            fanvue.api().get_current_user().send(),
        )
        .await
    };
    call().await.unwrap().unwrap();
    let reset = fanvue.rate_limiter().state()[&Bucket::Shared]
        .reset
        .unwrap();
    server.set_outage(true);
    // calls through the outage until it spans the window's reset
    while unix_secs_f64() < reset as f64 + 0.3 {
        match call().await {
            Ok(Err(_)) => {}
            Ok(Ok(_)) => panic!("a call succeeded during the outage"),
            Err(_) => panic!("a call blocked during the outage"),
        }
    }
    assert!(server.outage_answers() >= 1);
    server.set_outage(false);
    let recovered = Instant::now();
    for _ in 0..3 {
        call()
            .await
            .expect("a call after the outage waited out its timeout")
            .expect("a call after the outage failed");
    }
    let took = recovered.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "3 calls after the outage took {took:?}"
    );
}

#[tokio::test]
async fn an_exhausted_creator_bucket_holds_neither_other_creators_nor_the_shared_bucket() {
    // Failed before: every bucket's headers landed in one window, so one creator's exhausted
    // bucket stopped everything.
    let server = KeyedServer::start(3, Duration::from_secs(60)).await;
    let fanvue = client(&server, RateLimitMode::FailFast);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let followers = |creator: Uuid| {
        let fanvue = fanvue.clone();
        async move {
            fanvue
                .api()
                .list_creator_followers()
                .creator_user_uuid(creator)
                .send()
                .await
        }
    };
    for _ in 0..3 {
        followers(a).await.unwrap();
    }
    let refused = followers(a).await.unwrap_err();
    assert!(
        matches!(refused, Error::RateLimitedLocally { .. }),
        "{refused:?}"
    );
    for _ in 0..3 {
        followers(b).await.unwrap();
        fanvue.api().get_current_user().send().await.unwrap();
    }
    assert_eq!(server.served_in(&format!("creator:{a}")), 3);
    assert_eq!(server.served_in(&format!("creator:{b}")), 3);
    assert_eq!(server.served_in("shared"), 3);
    assert_eq!(server.rejected(), 0, "no 429");
    let state = fanvue.rate_limiter().state();
    assert_eq!(state[&Bucket::Creator(a.to_string())].remaining, Some(0));
    assert_eq!(state[&Bucket::Creator(b.to_string())].remaining, Some(0));
    assert_eq!(state[&Bucket::Shared].remaining, Some(0));
}

#[tokio::test]
async fn an_operation_with_a_limit_of_its_own_is_learned_and_limited_apart() {
    let server = KeyedServer::start(4, Duration::from_secs(60)).await;
    server.own_limit("/media", 50);
    let fanvue = client(&server, RateLimitMode::FailFast);
    fanvue.api().get_current_user().send().await.unwrap();
    fanvue.api().list_chats().send().await.unwrap();
    for _ in 0..3 {
        fanvue.api().get_user_media().send().await.unwrap();
    }
    // the shared bucket's last two, then it is exhausted; the media operation goes on
    fanvue.api().get_current_user().send().await.unwrap();
    fanvue.api().list_chats().send().await.unwrap();
    let refused = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(
        matches!(refused, Error::RateLimitedLocally { .. }),
        "{refused:?}"
    );
    fanvue.api().get_user_media().send().await.unwrap();
    assert_eq!(server.rejected(), 0, "no 429");
    let state = fanvue.rate_limiter().state();
    let own = state
        .iter()
        .find(|(bucket, _)| {
            matches!(bucket, Bucket::Operation { operation_id, creator: None } if *operation_id == "get-user-media")
        })
        .map(|(_, state)| *state)
        .expect("a bucket of its own");
    assert_eq!(own.limit, Some(50));
    assert_eq!(own.remaining, Some(46));
    assert_eq!(state[&Bucket::Shared].limit, Some(4));
}

#[tokio::test]
async fn the_credential_is_taken_after_the_limiter_wait() {
    // Failed before: the request took its token before queueing behind the first probe, and was
    // sent with it after the wait even though the token was due for refresh by then.
    let fake = FakeFanvue::builder()
        .token_lifetime(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .token_url(fake.token_url())
        .allow_insecure_http(true)
        .oauth(OAuthCredentials::new(
            fake.client_id(),
            fake.client_secret().to_string(),
            fake.refresh_token(),
        ))
        .build()
        .unwrap();
    // the first request (the limiter's probe) is answered after 1.5 s, when the token issued for
    // it is past its refresh point (half its 2 s life)
    fake.inject(
        FaultTarget::Api(ApiRoute::UsersMe),
        Fault::Delay(Duration::from_millis(1500)),
        1,
    );
    let first = tokio::spawn({
        let fanvue = fanvue.clone();
        async move { fanvue.api().get_current_user().send().await.map(drop) }
    });
    tokio::time::timeout(
        Duration::from_secs(5),
        fake.wait_until(|fake| fake.api_requests().len() == 1),
    )
    .await
    .unwrap();
    let second = fanvue.api().get_current_user().send();
    tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .unwrap()
        .unwrap();
    first.await.unwrap().unwrap();
    let tokens: Vec<String> = fake
        .api_requests()
        .iter()
        .filter_map(|r| {
            r.headers
                .get("authorization")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_ne!(
        tokens[0], tokens[1],
        "the second request was sent with the token it held before its wait"
    );
    assert_eq!(tokens[1], format!("Bearer {}", fake.latest_access_token()));
}

#[tokio::test]
async fn a_wait_beyond_the_cap_fails_with_rate_limited_naming_it() {
    let fake = FakeFanvue::start().await.unwrap();
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .retry_policy(RetryPolicy::none())
        .rate_limit_max_wait(Duration::from_secs(30))
        .build()
        .unwrap();
    // a WAF's one-hour Retry-After
    fake.rate_limit(ApiRoute::UsersMe, 3600, 1);
    let first = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(matches!(first, Error::RateLimited { .. }), "{first:?}");
    let started = Instant::now();
    let second = tokio::time::timeout(
        Duration::from_secs(5),
        fanvue.api().get_current_user().send(),
    )
    .await
    .expect("blocked on a wait beyond the cap")
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    match second {
        Error::RateLimited { retry_after, .. } => {
            let wait = retry_after.unwrap();
            assert!(
                (Duration::from_secs(3500)..=Duration::from_secs(3600)).contains(&wait),
                "{wait:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.api_requests().len(), 1, "the second call was sent");
}

/// A `redis-server` on a free loopback port, killed on drop; `None` (reason printed) without the
/// binary.
#[cfg(feature = "redis")]
struct RedisServer(std::process::Child, u16);

#[cfg(feature = "redis")]
impl RedisServer {
    fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = match std::process::Command::new("redis-server")
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
        {
            Ok(child) => child,
            Err(e) => {
                eprintln!(
                    "skipped: redis-server not available ({e}); install it (apt-get install redis-server)"
                );
                return None;
            }
        };
        let server = Self(child, port);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::yield_now();
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.1)
    }
}

#[cfg(feature = "redis")]
impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn clients_sharing_buckets_through_redis_stay_under_each_bucket_together() {
    use fanvue_api_ext::RateLimiter;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = KeyedServer::start(4, Duration::from_secs(60)).await;
    // two clients with limiters of their own that share only Redis (as two processes would)
    let clients: Vec<Fanvue> = (0..2)
        .map(|_| {
            Fanvue::builder()
                .base_url(server.url())
                .allow_insecure_http(true)
                .access_token("token")
                .retry_policy(RetryPolicy::none())
                .rate_limiter(
                    RateLimiter::shared(RateLimitMode::FailFast, &redis.url(), "agency").unwrap(),
                )
                .build()
                .unwrap()
        })
        .collect();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let followers = |fanvue: &Fanvue, creator: Uuid| {
        let fanvue = fanvue.clone();
        async move {
            fanvue
                .api()
                .list_creator_followers()
                .creator_user_uuid(creator)
                .send()
                .await
        }
    };
    // creator a's 4: two from each client
    for fanvue in [&clients[0], &clients[1], &clients[0], &clients[1]] {
        followers(fanvue, a).await.unwrap();
    }
    for fanvue in &clients {
        let refused = followers(fanvue, a).await.unwrap_err();
        assert!(
            matches!(refused, Error::RateLimitedLocally { .. }),
            "{refused:?}"
        );
    }
    // creator b's and the shared bucket are their own
    for fanvue in [&clients[1], &clients[0], &clients[1], &clients[0]] {
        followers(fanvue, b).await.unwrap();
        fanvue.api().get_current_user().send().await.unwrap();
    }
    assert_eq!(server.rejected(), 0, "no 429");
    assert_eq!(server.served(), 12);
}
