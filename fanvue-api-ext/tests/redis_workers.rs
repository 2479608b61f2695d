//! Many workers on one OAuth grant through a real `redis-server` (feature
//! `redis`): 4 OS processes sharing one refresh token against the fake
//! (which rotates on every refresh and refuses a used refresh token), a lock
//! holder killed mid-refresh, Redis restarted mid-run, a lock acquisition
//! whose answer is lost, and a chaos run: 4 processes against the fake's
//! grace model with short access tokens while token requests are consumed
//! then stalled, Redis restarts and the worker refreshing is killed (no
//! revocation, the store ends with the newest refresh token, every survivor
//! makes calls after the last fault).
//!
//! Each test starts its own `redis-server` on a free loopback port (with
//! AOF, in a temporary directory) and stops it; without the binary the tests
//! print why and return. The worker processes are this test binary run
//! again with `FANVUE_WORKER_*` variables (see [`worker_process`]).
#![cfg(feature = "redis")]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fanvue_api_ext::auth::redis::RedisTokenStore;
use fanvue_api_ext::auth::{AuthError, OAuthCredentials, TokenStore, TokenStoreError};
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue};
use fanvue_fake::{ApiRoute, FakeFanvue, Fault, FaultTarget};
use secrecy::ExposeSecret as _;

/// A `redis-server` of this test, stopped on drop.
struct Redis {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    /// Starts one, or `None` (with the reason printed) when the binary is absent.
    fn start() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_in(dir, port)
    }

    fn start_in(dir: tempfile::TempDir, port: u16) -> Option<Self> {
        let child = match Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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
        let redis = Self { child, port, dir };
        // ready when it accepts connections
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops it (the AOF stays in its directory), giving back what restarts it.
    fn stop(mut self) -> (tempfile::TempDir, u16) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let port = self.port;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (dir, port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(
    fake_api: &str,
    token_url: &str,
    id: &str,
    secret: &str,
    seed: &str,
    store: RedisTokenStore,
) -> Fanvue {
    Fanvue::builder()
        .base_url(fake_api)
        .token_url(token_url)
        .allow_insecure_http(true)
        .token_timeout(Duration::from_secs(20))
        .oauth(OAuthCredentials::new(
            id,
            secret.to_string(),
            seed.to_string(),
        ))
        .token_store(store)
        .build()
        .unwrap()
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// The worker side: does nothing unless started by a test below with
/// `FANVUE_WORKER_MODE`. `serve`: 5 calls, then `WORKER ok <n>` (after a
/// `WORKER err <e>` line per failure). `hold`: one call (its refresh hangs
/// at the fake until this process is killed).
#[test]
fn worker_process() {
    let mode = env("FANVUE_WORKER_MODE");
    if mode.is_empty() {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if mode == "chaos" {
        runtime.block_on(chaos_worker());
        return;
    }
    runtime.block_on(async {
        let store = RedisTokenStore::open(&env("FANVUE_WORKER_REDIS"), "grant")
            .unwrap()
            .with_lease(Duration::from_secs(2));
        let fanvue = client(
            &env("FANVUE_WORKER_API"),
            &env("FANVUE_WORKER_TOKEN_URL"),
            &env("FANVUE_WORKER_CLIENT_ID"),
            &env("FANVUE_WORKER_CLIENT_SECRET"),
            &env("FANVUE_WORKER_SEED"),
            store,
        );
        if mode == "hold" {
            println!("WORKER started");
            eprintln!("worker: holding");
            let _ = fanvue.api().get_current_user().send().await;
            return;
        }
        let mut done = 0;
        for _ in 0..5 {
            match fanvue.api().get_current_user().send().await {
                Ok(_) => done += 1,
                Err(e) => println!("WORKER err {e}"),
            }
        }
        println!("WORKER ok {done}");
    });
}

/// Starts this test binary as a worker process.
fn spawn_worker(mode: &str, fake: &FakeFanvue, redis: &Redis, seed: &str) -> Child {
    worker_command(mode, fake, redis, seed).spawn().unwrap()
}

/// The command that runs this test binary as a worker process.
fn worker_command(mode: &str, fake: &FakeFanvue, redis: &Redis, seed: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "worker_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FANVUE_WORKER_MODE", mode)
        .env("FANVUE_WORKER_REDIS", redis.url())
        .env("FANVUE_WORKER_API", fake.api_url())
        .env("FANVUE_WORKER_TOKEN_URL", fake.token_url())
        .env("FANVUE_WORKER_CLIENT_ID", fake.client_id())
        .env("FANVUE_WORKER_CLIENT_SECRET", fake.client_secret())
        .env("FANVUE_WORKER_SEED", seed)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn stored_refresh_token(redis: &Redis) -> String {
    let store = RedisTokenStore::open(&redis.url(), "grant").unwrap();
    store
        .load()
        .await
        .unwrap()
        .unwrap()
        .refresh_token
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_one_refresh_token_with_one_refresh_per_expiry() {
    let Some(redis) = Redis::start() else { return };
    let fake = FakeFanvue::start().await.unwrap();
    let seed = fake.refresh_token();
    for round in 1..=3u64 {
        // every access token expires: each process's first request gets a 401
        // (or, for a process that starts from the store, uses the stored one and gets a 401)
        fake.expire_all_access_tokens();
        let workers: Vec<_> = (0..4)
            .map(|_| spawn_worker("serve", &fake, &redis, &seed))
            .collect();
        let outputs = tokio::task::spawn_blocking(move || {
            workers
                .into_iter()
                .map(|w| w.wait_with_output().unwrap())
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        for output in outputs {
            let text = String::from_utf8_lossy(&output.stdout);
            let lines: Vec<&str> = text
                .lines()
                .filter_map(|l| l.split_once("WORKER ").map(|(_, rest)| rest))
                .collect();
            assert_eq!(
                lines,
                ["ok 5"],
                "round {round}: {text}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(output.status.success());
        }
        assert_eq!(
            fake.token_refresh_count(),
            round,
            "exactly one token request per expiry (round {round})"
        );
    }
    // no token lost: the store holds the refresh token the fake accepts now
    assert_eq!(stored_refresh_token(&redis).await, fake.refresh_token());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_holder_killed_mid_refresh_is_taken_over_after_its_lease() {
    let Some(redis) = Redis::start() else { return };
    let fake = FakeFanvue::start().await.unwrap();
    let seed = fake.refresh_token();
    // the holder's token request hangs at the fake, past the holder's life
    fake.inject(
        FaultTarget::Api(ApiRoute::Token),
        Fault::Delay(Duration::from_secs(60)),
        1,
    );
    let mut holder = spawn_worker("hold", &fake, &redis, &seed);
    fake.wait_until(|f| !f.auth_requests().is_empty()).await;
    holder.kill().unwrap();
    holder.wait().unwrap();
    // the lock is still held (its lease has not expired yet) ...
    let lock_held_at = Instant::now();
    let store = RedisTokenStore::open(&redis.url(), "grant")
        .unwrap()
        .with_lease(Duration::from_secs(2));
    let fanvue = client(
        fake.api_url(),
        &fake.token_url(),
        fake.client_id(),
        fake.client_secret(),
        &seed,
        store.clone(),
    );
    // ... so this process waits for it, then takes over and refreshes
    fanvue.api().get_current_user().send().await.unwrap();
    assert!(lock_held_at.elapsed() >= Duration::from_millis(500));
    assert_eq!(fake.token_refresh_count(), 1);
    assert_eq!(stored_refresh_token(&redis).await, fake.refresh_token());
    assert!(
        store.writer_fence().await.unwrap() >= 2,
        "a newer fence wrote"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_run_gives_a_clear_error_then_recovers_with_nothing_lost() {
    let Some(redis) = Redis::start() else { return };
    let fake = FakeFanvue::start().await.unwrap();
    let store = RedisTokenStore::open(&redis.url(), "grant").unwrap();
    let fanvue = client(
        fake.api_url(),
        &fake.token_url(),
        fake.client_id(),
        fake.client_secret(),
        &fake.refresh_token(),
        store,
    );
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_refresh_count(), 1);
    // a valid access token keeps working while Redis is down
    let (dir, port) = redis.stop();
    fanvue.api().get_current_user().send().await.unwrap();
    // a refresh needs the store: a clear error, and no token request
    fake.expire_all_access_tokens();
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth(AuthError::Store(TokenStoreError::Unavailable(_)))
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("token store unavailable"), "{err}");
    assert_eq!(
        fake.token_refresh_count(),
        1,
        "no token request without the store"
    );
    // Redis back (same data): the next attempt after the backoff recovers
    let redis = Redis::start_in(dir, port).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match fanvue.api().get_current_user().send().await {
            Ok(_) => break,
            Err(e) => {
                assert!(Instant::now() < deadline, "no recovery: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    assert_eq!(fake.token_refresh_count(), 2);
    assert_eq!(stored_refresh_token(&redis).await, fake.refresh_token());
}

/// Fanvue's times and the SDK's default timings, all scaled by 1/60: grace
/// 30 s → 500 ms, token timeout 10 s → 167 ms, lease 20 s → 333 ms.
const SCALE: u32 = 60;

fn scaled(d: Duration) -> Duration {
    d / SCALE
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_request_consumed_then_stalled_revokes_nothing_with_the_default_timings() {
    use fanvue_api_ext::auth::redis::DEFAULT_LEASE;
    use fanvue_api_ext::auth::{DEFAULT_REFRESH_GRACE, DEFAULT_TOKEN_TIMEOUT};
    use fanvue_fake::TokenFault;
    let Some(redis) = Redis::start() else { return };
    let grace = scaled(DEFAULT_REFRESH_GRACE);
    let fake = FakeFanvue::builder()
        .refresh_grace(grace)
        .token_lifetime(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    // the first token request is consumed by the server, then never answered (a network blip)
    fake.inject_token_fault(TokenFault::ConsumeThenStall(None), 1);
    let seed = fake.refresh_token();
    // two workers with memories of their own, sharing the grant through Redis
    let workers: Vec<Fanvue> = (0..2)
        .map(|_| {
            let store = RedisTokenStore::open(&redis.url(), "grant")
                .unwrap()
                .with_lease(scaled(DEFAULT_LEASE));
            Fanvue::builder()
                .base_url(fake.api_url())
                .token_url(fake.token_url())
                .allow_insecure_http(true)
                .refresh_grace(grace)
                .token_timeout(scaled(DEFAULT_TOKEN_TIMEOUT))
                .oauth(OAuthCredentials::new(
                    fake.client_id(),
                    fake.client_secret().to_string(),
                    seed.clone(),
                ))
                .token_store(store)
                .build()
                .unwrap()
        })
        .collect();
    let calls = workers.iter().flat_map(|fanvue| {
        (0..20).map(move |_| async move { fanvue.api().get_current_user().send().await })
    });
    let results = tokio::time::timeout(Duration::from_secs(20), futures::future::join_all(calls))
        .await
        .expect("every call ends");
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} calls failed: {:?}",
        failed.len(),
        failed.first()
    );
    assert!(!fake.chain_revoked(), "the chain was revoked");
    assert_eq!(
        fake.token_refresh_count(),
        1,
        "one new pair for both workers"
    );
    assert_eq!(stored_refresh_token(&redis).await, fake.refresh_token());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_fence_counter_refuses_no_save_and_refresh_tokens_are_compared_as_hashes() {
    use sha2::Digest as _;
    let Some(redis) = Redis::start() else { return };
    let fake = FakeFanvue::start().await.unwrap();
    let seed = fake.refresh_token();
    let mut raw = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // log every command with its arguments
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg("0")
        .query_async(&mut raw)
        .await
        .unwrap();
    let store = RedisTokenStore::open(&redis.url(), "grant").unwrap();
    let fanvue = client(
        fake.api_url(),
        &fake.token_url(),
        fake.client_id(),
        fake.client_secret(),
        &seed,
        store.clone(),
    );
    let mut issued = vec![seed];
    for _ in 0..2 {
        fake.expire_all_access_tokens();
        fanvue.api().get_current_user().send().await.unwrap();
        issued.push(fake.refresh_token());
    }
    assert_eq!(store.writer_fence().await.unwrap(), 2);
    // Redis restarted without persistence for the counter alone: the next fence would be 1
    let _: () = redis::cmd("DEL")
        .arg("{grant}:fence")
        .query_async(&mut raw)
        .await
        .unwrap();
    fake.expire_all_access_tokens();
    fanvue.api().get_current_user().send().await.unwrap();
    issued.push(fake.refresh_token());
    assert_eq!(stored_refresh_token(&redis).await, fake.refresh_token());
    assert!(
        store.writer_fence().await.unwrap() > 2,
        "the counter moved past the writer"
    );
    // the stored comparison field is a hash, not the token
    let field: String = redis::cmd("HGET")
        .arg("{grant}:tokens")
        .arg("refresh")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        field,
        hex::encode(sha2::Sha256::digest(fake.refresh_token().as_bytes()))
    );
    // no command carried a refresh token as an argument of its own
    let log: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg("1000")
        .query_async(&mut raw)
        .await
        .unwrap();
    let text = format!("{log:?}");
    assert!(
        text.contains("HGET") || text.contains("EVAL"),
        "the log has the commands"
    );
    for token in &issued {
        let alone = format!("\"{token}\"");
        assert!(
            !text.contains(&alone),
            "a refresh token as a whole argument"
        );
    }
}

/// A TCP proxy in front of Redis that, once armed, forwards the next command
/// naming `trigger` and then drops the connection instead of its reply (the
/// command ran; its answer is lost).
struct DroppingProxy {
    port: u16,
    armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    dropped: std::sync::Arc<tokio::sync::Notify>,
}

impl DroppingProxy {
    async fn start(upstream: u16, trigger: &'static str) -> Self {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(tokio::sync::Notify::new());
        let (armed2, dropped2) = (Arc::clone(&armed), Arc::clone(&dropped));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (armed, dropped) = (Arc::clone(&armed2), Arc::clone(&dropped2));
                tokio::spawn(async move {
                    let Ok(mut server) =
                        tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                    else {
                        return;
                    };
                    let (mut from_client, mut from_server) = (vec![0u8; 65536], vec![0u8; 65536]);
                    let mut drop_reply = false;
                    loop {
                        tokio::select! {
                            n = client.read(&mut from_client) => {
                                let Ok(n @ 1..) = n else { return };
                                let chunk = &from_client[..n];
                                if armed.load(Ordering::SeqCst)
                                    && chunk.windows(trigger.len()).any(|w| w == trigger.as_bytes())
                                {
                                    armed.store(false, Ordering::SeqCst);
                                    drop_reply = true;
                                }
                                if server.write_all(chunk).await.is_err() { return }
                            }
                            n = server.read(&mut from_server) => {
                                let Ok(n @ 1..) = n else { return };
                                if drop_reply {
                                    // the command ran; its answer never arrives
                                    dropped.notify_one();
                                    return;
                                }
                                if client.write_all(&from_server[..n]).await.is_err() { return }
                            }
                        }
                    }
                });
            }
        });
        Self {
            port,
            armed,
            dropped,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn arm(&self) {
        self.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acquire_whose_answer_is_lost_does_not_orphan_the_lock() {
    let Some(redis) = Redis::start() else { return };
    let proxy = DroppingProxy::start(redis.port, "{grant}:lock").await;
    let lease = Duration::from_secs(20);
    let proxied = RedisTokenStore::open(&proxy.url(), "grant")
        .unwrap()
        .with_lease(lease);
    // the connection is made and the script loaded
    let first = proxied.acquire().await.unwrap();
    proxied.release(first).await;
    // the next ACQUIRE runs in Redis, and its answer is lost
    proxy.arm();
    let outcome = tokio::time::timeout(Duration::from_secs(15), proxied.acquire())
        .await
        .expect("acquire answers");
    tokio::time::timeout(Duration::from_secs(5), proxy.dropped.notified())
        .await
        .expect("the answer was dropped");
    if let Ok(held) = outcome {
        proxied.release(held).await;
    }
    // another process gets the lock well before the lease is over
    let other = RedisTokenStore::open(&redis.url(), "grant")
        .unwrap()
        .with_lease(lease)
        .with_lock_wait(Duration::from_secs(3));
    let started = Instant::now();
    let taken = other.acquire().await;
    assert!(
        taken.is_ok(),
        "the lock is orphaned for the lease: {taken:?} after {:?}",
        started.elapsed()
    );
}

// Chaos: 4 worker processes on one grant through faults.

/// The chaos timings, Fanvue's scaled down: the refresh token's grace, the
/// access token's lifetime (refreshed at half of it), the token timeout and
/// the lease (token timeout < lease < grace, as `build` requires).
const CHAOS_GRACE: Duration = Duration::from_secs(6);
const CHAOS_ACCESS_LIFETIME: Duration = Duration::from_secs(2);
const CHAOS_TOKEN_TIMEOUT: Duration = Duration::from_millis(800);
const CHAOS_LEASE: Duration = Duration::from_secs(2);

/// The `chaos` worker: calls until its stdin is closed, one `WORKER call ok`
/// or `WORKER call err <e>` line per call, then saves unsaved tokens and
/// prints `WORKER done`.
async fn chaos_worker() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let stop_reader = Arc::clone(&stop);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        stop_reader.store(true, Ordering::SeqCst);
    });
    let store = RedisTokenStore::open(&env("FANVUE_WORKER_REDIS"), "grant")
        .unwrap()
        .with_lease(CHAOS_LEASE)
        .with_lock_wait(CHAOS_LEASE * 2);
    let fanvue = Fanvue::builder()
        .base_url(env("FANVUE_WORKER_API"))
        .token_url(env("FANVUE_WORKER_TOKEN_URL"))
        .allow_insecure_http(true)
        .refresh_grace(CHAOS_GRACE)
        .token_timeout(CHAOS_TOKEN_TIMEOUT)
        .oauth(OAuthCredentials::new(
            env("FANVUE_WORKER_CLIENT_ID"),
            env("FANVUE_WORKER_CLIENT_SECRET"),
            env("FANVUE_WORKER_SEED"),
        ))
        .token_store(store)
        .build()
        .unwrap();
    while !stop.load(Ordering::SeqCst) {
        let call = fanvue.api().get_current_user().send();
        match tokio::time::timeout(Duration::from_secs(10), call).await {
            Ok(Ok(_)) => println!("WORKER call ok"),
            Ok(Err(e)) => println!("WORKER call err {e}"),
            Err(_) => println!("WORKER call err no answer in 10 s"),
        }
        // pacing between calls (not a synchronization)
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let flushed = tokio::time::timeout(Duration::from_secs(10), fanvue.flush_tokens()).await;
    println!("WORKER done {flushed:?}");
}

/// A worker process of the chaos test: killed on drop.
struct ChaosWorker {
    child: Child,
}

impl Drop for ChaosWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines from the workers: (worker index, line after `WORKER `).
type Lines = tokio::sync::mpsc::UnboundedReceiver<(usize, String)>;

/// Successful calls and the last error per worker, read from their lines.
struct Tally {
    ok: Vec<u64>,
    last_error: Vec<Option<String>>,
}

impl Tally {
    /// Reads lines until each worker in `alive` has made `more` successful
    /// calls beyond `since`; panics after `bound` with each one's last error.
    async fn wait_for(
        &mut self,
        lines: &mut Lines,
        alive: &[usize],
        since: &[u64],
        more: u64,
        bound: Duration,
        phase: &str,
    ) {
        let deadline = tokio::time::Instant::now() + bound;
        while alive.iter().any(|&w| self.ok[w] < since[w] + more) {
            match tokio::time::timeout_at(deadline, lines.recv()).await {
                Ok(Some((worker, line))) => {
                    if line == "call ok" {
                        self.ok[worker] += 1;
                    } else if let Some(error) = line.strip_prefix("call err ") {
                        self.last_error[worker] = Some(error.to_owned());
                    }
                }
                Ok(None) => panic!("{phase}: every worker's output ended"),
                Err(_) => panic!(
                    "{phase}: a worker did not recover within {bound:?}: ok {:?} (needed {more} beyond {since:?}), last errors {:?}",
                    self.ok, self.last_error
                ),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_four_workers_keep_one_grant_through_stalls_restarts_and_a_kill() {
    use fanvue_fake::TokenFault;
    let Some(redis) = Redis::start() else { return };
    let started = Instant::now();
    let fake = FakeFanvue::builder()
        .refresh_grace(CHAOS_GRACE)
        .token_lifetime(CHAOS_ACCESS_LIFETIME)
        .start()
        .await
        .unwrap();
    let seed = fake.refresh_token();
    let (sender, mut lines) = tokio::sync::mpsc::unbounded_channel();
    let mut workers: Vec<Option<ChaosWorker>> = (0..4)
        .map(|index| {
            let mut command = worker_command("chaos", &fake, &redis, &seed);
            // the query tells the fake's log which worker sent a token request
            command
                .env(
                    "FANVUE_WORKER_TOKEN_URL",
                    format!("{}?worker={index}", fake.token_url()),
                )
                .stdin(Stdio::piped())
                .stderr(Stdio::null());
            let mut child = command.spawn().unwrap();
            let stdout = child.stdout.take().unwrap();
            let sender = sender.clone();
            std::thread::spawn(move || {
                use std::io::BufRead as _;
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { return };
                    if let Some((_, rest)) = line.split_once("WORKER ") {
                        let _ = sender.send((index, rest.to_owned()));
                    }
                }
            });
            Some(ChaosWorker { child })
        })
        .collect();
    drop(sender);
    let mut tally = Tally {
        ok: vec![0; 4],
        last_error: vec![None; 4],
    };
    let mut alive: Vec<usize> = (0..4).collect();
    let bound = Duration::from_secs(20);
    // every worker works, through a few refreshes
    tally
        .wait_for(&mut lines, &alive, &[0; 4], 3, bound, "start")
        .await;
    tokio::time::timeout(bound, fake.wait_until(|f| f.token_refresh_count() >= 2))
        .await
        .expect("refreshes as access tokens expire");

    // 1. token requests consumed by the server, then stalled (the first try and its at-once retry)
    let requests = fake.token_requests();
    fake.inject_token_fault(TokenFault::ConsumeThenStall(None), 2);
    tokio::time::timeout(
        bound,
        fake.wait_until(|f| f.token_requests() >= requests + 3),
    )
    .await
    .expect("the stalled token requests and a later one arrive");
    let since = tally.ok.clone();
    tally
        .wait_for(&mut lines, &alive, &since, 3, bound, "after the stalls")
        .await;

    // 2. Redis restarted (its data kept in its AOF)
    let (dir, port) = redis.stop();
    let redis = Redis::start_in(dir, port).unwrap();
    let refreshes = fake.token_refresh_count();
    tokio::time::timeout(
        bound,
        fake.wait_until(|f| f.token_refresh_count() > refreshes),
    )
    .await
    .expect("a refresh after the restart");
    let since = tally.ok.clone();
    tally
        .wait_for(
            &mut lines,
            &alive,
            &since,
            3,
            bound,
            "after the Redis restart",
        )
        .await;

    // 3. the worker whose token request is in flight is killed (its request
    // consumed the refresh token, and its answer and retry stall)
    let logged = fake.auth_requests().len();
    fake.inject_token_fault(TokenFault::ConsumeThenStall(None), 2);
    tokio::time::timeout(bound, fake.wait_until(|f| f.auth_requests().len() > logged))
        .await
        .expect("a token request to stall");
    let request = fake.auth_requests().swap_remove(logged);
    let query = request.query.unwrap_or_default();
    let victim: usize = query
        .strip_prefix("worker=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a worker's token request: {query:?}"));
    drop(workers[victim].take());
    alive.retain(|&w| w != victim);
    // a later token request (a survivor taking over, spending the consumed
    // token inside its grace): by then the victim's request was handled
    tokio::time::timeout(
        bound,
        fake.wait_until(|f| f.auth_requests().len() > logged + 1),
    )
    .await
    .expect("a survivor takes over");
    // and the grant rotates on from there
    let refreshes = fake.token_refresh_count();
    tokio::time::timeout(
        bound,
        fake.wait_until(|f| f.token_refresh_count() > refreshes),
    )
    .await
    .expect("the grant rotates on after the kill");
    let since = tally.ok.clone();
    tally
        .wait_for(&mut lines, &alive, &since, 3, bound, "after the kill")
        .await;
    fake.clear_token_faults();

    // the survivors stop, saving what they hold
    for worker in workers.iter_mut().flatten() {
        drop(worker.child.stdin.take());
    }
    for worker in workers.iter_mut().flatten() {
        let status = tokio::task::block_in_place(|| worker.child.wait()).unwrap();
        assert!(status.success(), "a worker failed: {status}");
    }
    let mut ends = Vec::new();
    while let Ok(Some((worker, line))) =
        tokio::time::timeout(Duration::from_secs(5), lines.recv()).await
    {
        if line.starts_with("done") {
            ends.push(format!("{worker}: {line}"));
        }
    }
    assert!(!fake.chain_revoked(), "the grant was revoked");
    assert_eq!(
        stored_refresh_token(&redis).await,
        fake.refresh_token(),
        "the store holds the newest refresh token; {} token requests, {} refreshes, {} grace reuses, worker {victim} killed, ends {ends:?}",
        fake.token_requests(),
        fake.token_refresh_count(),
        fake.grace_reuses(),
    );
    assert!(
        fake.grace_reuses() >= 1,
        "a consumed token was spent again inside its grace"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    eprintln!(
        "chaos: {:?}, {} token requests, {} refreshes, {} grace reuses, calls ok {:?}, worker {victim} killed",
        started.elapsed(),
        fake.token_requests(),
        fake.token_refresh_count(),
        fake.grace_reuses(),
        tally.ok
    );
}
