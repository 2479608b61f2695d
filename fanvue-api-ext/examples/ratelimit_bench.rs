//! The rate-limit benchmark, two cases.
//!
//! **Single bucket:** 64 tasks calling `GET /users/me` as fast as they can
//! against the fake limited to R requests per 1 s window, for W windows
//! (started on a window boundary). Prints requests per second as a ratio to
//! R and the fake's 429 count, without the client-side limiter
//! (`RateLimitMode::Off`, 429s retried by the default policy), with it, and
//! (with `--features redis` and a `redis-server` on PATH) 4 clients of 16
//! tasks each sharing the window through Redis.
//!
//! **Agency:** one client acting for 8 creators, 4 tasks per creator on
//! `GET /creators/{id}/followers` plus 4 tasks on `GET /users/me`, against the
//! fake, which keys its buckets like Fanvue (one per creator, one shared), R
//! requests per 2 s window per bucket, for W windows. Prints the requests
//! served as a ratio to the allowance (creators + 1) × R × W and the 429s
//! as a share of the requests, without the limiter, with it, and (with
//! `--features redis`) 4 processes (this binary started again as workers)
//! sharing every bucket through Redis. The server is [`start_agency_server`]:
//! anything implementing [`BenchServer`] can take its place.
//!
//! ```text
//! cargo run -p fanvue-api-ext --features redis --example ratelimit_bench -- [R] [W] [AGENCY_R] [AGENCY_W]
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Fanvue, RateLimitMode, RateLimiter};
use fanvue_fake::FakeFanvue;
use uuid::Uuid;

const TASKS: usize = 64;
const CREATORS: usize = 8;
const TASKS_PER_BUCKET: usize = 4;
const AGENCY_WINDOW: Duration = Duration::from_secs(2);
const PROCESSES: usize = 4;
/// How long before the last window's end a run stops.
const END_EARLY: Duration = Duration::from_millis(50);

async fn until_next_second() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let wait = Duration::from_secs(1) - Duration::from_nanos(u64::from(now.subsec_nanos()));
    tokio::time::sleep(wait).await;
}

/// Runs `clients` (tasks spread evenly) for `windows` seconds; returns (ok, 429s).
async fn run(fake: &FakeFanvue, clients: Vec<Fanvue>, windows: u64) -> (u64, u64) {
    let rejected_before = fake.rate_limited_count();
    until_next_second().await;
    // (ends just before the last window does: requests let go at its end count in the next)
    let end = tokio::time::Instant::now() + Duration::from_secs(windows) - END_EARLY;
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

fn client(base_url: &str, token: &str, limiter: RateLimiter) -> Fanvue {
    Fanvue::builder()
        .base_url(base_url)
        .allow_insecure_http(true)
        .access_token(token)
        .rate_limiter(limiter)
        .build()
        .unwrap()
}

fn report(label: &str, (ok, rejected): (u64, u64), limit: u64, windows: u64) {
    let rps = ok as f64 / windows as f64;
    println!(
        "{label:<52} {rps:>7.1} req/s  ratio {:.3}  429s {rejected}",
        rps / limit as f64
    );
}

/// The server side of the agency case: an API that keys its rate-limit buckets like Fanvue
/// (every `/creators/{creatorUserUuid}/...` path in that creator's bucket, the rest in one shared
/// bucket), `R` requests per window per bucket, windows of whole seconds starting on a whole
/// second, and counts what it served and refused.
trait BenchServer: Send + Sync {
    /// The API's base URL.
    fn url(&self) -> String;
    /// An access token it accepts.
    fn token(&self) -> String;
    /// Requests answered 2xx so far.
    fn served(&self) -> u64;
    /// Requests answered 429 so far.
    fn rejected(&self) -> u64;
    /// A Unix millisecond at least `margin` from now at which a window of every bucket starts.
    fn next_window_start(&self, margin: Duration) -> u64;
}

/// The fake, its buckets keyed like Fanvue's, every bucket `limit` requests per `window` (windows
/// aligned to Unix time).
struct AgencyFake {
    fake: FakeFanvue,
    window: Duration,
}

impl BenchServer for AgencyFake {
    fn url(&self) -> String {
        self.fake.api_url().to_owned()
    }
    fn token(&self) -> String {
        self.fake.access_token()
    }
    fn served(&self) -> u64 {
        self.fake.rate_admitted_count()
    }
    fn rejected(&self) -> u64 {
        self.fake.rate_limited_count()
    }
    fn next_window_start(&self, margin: Duration) -> u64 {
        let window = u64::try_from(self.window.as_millis()).unwrap().max(1);
        (unix_ms() + u64::try_from(margin.as_millis()).unwrap()).div_ceil(window) * window
    }
}

/// Starts the agency case's server: the fake, acting for [`creators`].
async fn start_agency_server(limit: u64, window: Duration) -> Box<dyn BenchServer> {
    let agency = creators()
        .into_iter()
        .enumerate()
        .map(|(i, uuid)| {
            let mut creator = fanvue_fake::model::Creator::sample(i);
            creator.user.uuid = uuid;
            creator
        })
        .collect();
    let fake = FakeFanvue::builder()
        .record_requests(false)
        .creators(agency)
        .rate_limit_window(limit, window)
        .start()
        .await
        .unwrap();
    Box::new(AgencyFake { fake, window })
}

fn unix_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The agency's tasks for `creators` (each `TASKS_PER_BUCKET` tasks) and, with `shared`,
/// `TASKS_PER_BUCKET` tasks on the shared bucket, from `start_ms` (Unix ms) for `duration`.
async fn agency_tasks(
    fanvue: &Fanvue,
    creators: &[Uuid],
    shared_tasks: usize,
    start_ms: u64,
    duration: Duration,
) {
    let now = tokio::time::Instant::now();
    let start = now + Duration::from_millis(start_ms.saturating_sub(unix_ms()));
    tokio::time::sleep_until(start).await;
    // (ends just before the last window does: requests let go at its end count in the next)
    let end = start + duration - END_EARLY;
    let mut tasks = Vec::new();
    let mut spawn = |creator: Option<Uuid>| {
        let fanvue = fanvue.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let call = async {
                    match creator {
                        Some(creator) => fanvue
                            .api()
                            .list_creator_followers()
                            .creator_user_uuid(creator)
                            .send()
                            .await
                            .map(drop),
                        None => fanvue.api().get_current_user().send().await.map(drop),
                    }
                };
                if tokio::time::timeout_at(end, call).await.is_err() {
                    return;
                }
            }
        }));
    };
    for creator in creators {
        for _ in 0..TASKS_PER_BUCKET {
            spawn(Some(*creator));
        }
    }
    for _ in 0..shared_tasks {
        spawn(None);
    }
    for task in tasks {
        task.await.unwrap();
    }
}

fn creators() -> Vec<Uuid> {
    (0..CREATORS)
        .map(|i| Uuid::from_u128(0x1000 + i as u128))
        .collect()
}

fn agency_client(server: &dyn BenchServer, limiter: RateLimiter) -> Fanvue {
    client(&server.url(), &server.token(), limiter)
}

fn agency_report(
    label: &str,
    server: &dyn BenchServer,
    before: (u64, u64),
    limit: u64,
    windows: u64,
) {
    let served = server.served() - before.0;
    let rejected = server.rejected() - before.1;
    let allowance = (CREATORS as u64 + 1) * limit * windows;
    let sent = served + rejected;
    println!(
        "{label:<52} served {served:>5} of {allowance}  ratio {:.3}  429s {rejected} ({:.2} % of {sent})",
        served as f64 / allowance as f64,
        100.0 * rejected as f64 / sent.max(1) as f64,
    );
}

async fn agency(limit: u64, windows: u64) {
    println!(
        "agency: {CREATORS} creators x {TASKS_PER_BUCKET} tasks + {TASKS_PER_BUCKET} shared tasks, \
         R = {limit} requests per {} s window per bucket, {windows} windows",
        AGENCY_WINDOW.as_secs()
    );
    let duration = AGENCY_WINDOW * u32::try_from(windows).unwrap();
    let creators = creators();
    for (label, limiter) in [
        (
            "without the limiter (429s retried)",
            RateLimiter::new(RateLimitMode::Off),
        ),
        ("with the limiter", RateLimiter::default()),
    ] {
        // a server per run: every bucket starts empty
        let server = start_agency_server(limit, AGENCY_WINDOW).await;
        let fanvue = agency_client(server.as_ref(), limiter);
        let before = (server.served(), server.rejected());
        let start = server.next_window_start(Duration::from_millis(300));
        agency_tasks(&fanvue, &creators, TASKS_PER_BUCKET, start, duration).await;
        agency_report(label, server.as_ref(), before, limit, windows);
    }
    #[cfg(feature = "redis")]
    agency_redis(limit, windows, duration).await;
}

/// A `redis-server` of this run, stopped on drop.
#[cfg(feature = "redis")]
struct Redis {
    child: std::process::Child,
    url: String,
}

#[cfg(feature = "redis")]
impl Redis {
    async fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
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
            .ok()?;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Some(Self {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        })
    }
}

#[cfg(feature = "redis")]
impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The agency run split over `PROCESSES` processes (this binary as `worker`): each takes every
/// creator and the shared bucket with one task per bucket, all sharing the windows through Redis.
#[cfg(feature = "redis")]
async fn agency_redis(limit: u64, windows: u64, duration: Duration) {
    let label = format!("{PROCESSES} processes sharing the buckets through Redis");
    let Some(redis) = Redis::start().await else {
        println!("{label}: skipped (no redis-server)");
        return;
    };
    let server = start_agency_server(limit, AGENCY_WINDOW).await;
    let before = (server.served(), server.rejected());
    // (time for the workers to start)
    let start = server.next_window_start(Duration::from_secs(2));
    let exe = std::env::current_exe().unwrap();
    let workers: Vec<_> = (0..PROCESSES)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "worker",
                    &server.url(),
                    &server.token(),
                    &redis.url,
                    &start.to_string(),
                    &u64::try_from(duration.as_millis()).unwrap().to_string(),
                ])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut worker in workers {
        let status = tokio::task::spawn_blocking(move || worker.wait())
            .await
            .unwrap();
        assert!(status.unwrap().success(), "a worker failed");
    }
    agency_report(&label, server.as_ref(), before, limit, windows);
}

/// One worker process of [`agency_redis`]: `worker URL TOKEN REDIS_URL START_MS DURATION_MS`.
#[cfg(feature = "redis")]
async fn worker(mut args: impl Iterator<Item = String>) {
    let mut next = || {
        args.next()
            .expect("worker URL TOKEN REDIS_URL START_MS DURATION_MS")
    };
    let (url, token, redis_url) = (next(), next(), next());
    let start: u64 = next().parse().unwrap();
    let duration = Duration::from_millis(next().parse().unwrap());
    let limiter = RateLimiter::shared(RateLimitMode::Wait, &redis_url, "agency-bench").unwrap();
    let fanvue = Fanvue::builder()
        .base_url(&url)
        .allow_insecure_http(true)
        .access_token(token)
        .rate_limiter(limiter)
        .build()
        .unwrap();
    // one task per bucket in each process: 4 per bucket over the 4 processes
    let creators = creators();
    let per_process = TASKS_PER_BUCKET / PROCESSES;
    let fanvues = vec![fanvue; per_process];
    let runs = fanvues
        .iter()
        .map(|fanvue| agency_tasks(fanvue, &creators, 1, start, duration));
    futures::future::join_all(runs).await;
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("worker") {
        args.next();
        #[cfg(feature = "redis")]
        worker(args).await;
        return;
    }
    let limit: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let windows: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let agency_limit: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let agency_windows: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let fake = FakeFanvue::builder()
        .record_requests(false)
        .rate_limit_window(limit, Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    println!(
        "single bucket: {TASKS} tasks, R = {limit} requests per 1 s window, {windows} windows"
    );
    let token = fake.access_token();
    let off = client(fake.api_url(), &token, RateLimiter::new(RateLimitMode::Off));
    report(
        "without the limiter (429s retried)",
        run(&fake, vec![off], windows).await,
        limit,
        windows,
    );
    let on = client(fake.api_url(), &token, RateLimiter::default());
    report(
        "with the limiter",
        run(&fake, vec![on], windows).await,
        limit,
        windows,
    );
    #[cfg(feature = "redis")]
    redis_run(&fake, limit, windows).await;
    agency(agency_limit, agency_windows).await;
}

#[cfg(feature = "redis")]
async fn redis_run(fake: &FakeFanvue, limit: u64, windows: u64) {
    let Some(redis) = Redis::start().await else {
        println!("4 clients through Redis: skipped (no redis-server)");
        return;
    };
    let token = fake.access_token();
    // 4 clients with separate limiters that share only the Redis window
    let clients = (0..4)
        .map(|_| {
            client(
                fake.api_url(),
                &token,
                RateLimiter::shared(RateLimitMode::Wait, &redis.url, "bench").unwrap(),
            )
        })
        .collect();
    report(
        "4 clients sharing the window through Redis",
        run(fake, clients, windows).await,
        limit,
        windows,
    );
}
