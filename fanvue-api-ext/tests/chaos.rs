//! Chaos (issue #10, item 12): a loopback proxy in front of the fake Fanvue API
//! answers a bounded number of requests with seeded random statuses, headers,
//! garbage, truncated or huge bodies, slow drips, stalls and resets (and the
//! fake's S3 resets, truncates and corrupts parts), while the client runs
//! calls, list streams and uploads through it.
//!
//! Asserts: no panic; every call, stream and upload ends within its bound;
//! memory stays bounded (a 300 MiB body does not get read: the body cap
//! holds); any upload that reports success delivered exactly the source's
//! bytes (SHA-256 of the fake's assembled object).

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, RetryPolicy};
use fanvue_fake::{FakeFanvue, Fault, FaultTarget};
use futures::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use support::{Recorded, read_request};

// Memory: a counting allocator (current and peak bytes of this test process).

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// The chaos proxy.

const SEED: u64 = 0x5eed_c4a0_5000_0010;
/// Requests that may get chaos (a third of them do); later ones are forwarded untouched.
const CHAOS_BUDGET: u64 = 400;
/// The body size of the "huge" answers: far more than the client may read.
const HUGE: usize = 300 * 1024 * 1024;
/// The client's success-body cap in this test.
const CAP: usize = 1024 * 1024;

#[derive(Default)]
struct Stats {
    chaos: Mutex<std::collections::BTreeMap<&'static str, usize>>,
    requests: AtomicU64,
}

struct Proxy {
    upstream: String,
    http: reqwest::Client,
    stats: Stats,
}

async fn start_proxy(upstream: String) -> (String, Arc<Proxy>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let proxy = Arc::new(Proxy {
        upstream,
        http: support::plain_http_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        stats: Stats::default(),
    });
    let serving = proxy.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serving.clone().serve(stream));
        }
    });
    (url, proxy)
}

impl Proxy {
    async fn serve(self: Arc<Self>, mut stream: TcpStream) {
        let mut buffer = Vec::new();
        while let Some(request) = read_request(&mut stream, &mut buffer).await {
            let n = self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut rng = StdRng::seed_from_u64(SEED ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let kind = if n < CHAOS_BUDGET && rng.random_bool(0.35) {
                Some(rng.random_range(0..9u8))
            } else {
                None
            };
            let keep_going = match kind {
                None => self.forward(&mut stream, &request).await,
                Some(kind) => self.chaos(kind, &mut rng, &mut stream, &request).await,
            };
            if !keep_going {
                return;
            }
        }
    }

    fn count(&self, what: &'static str) {
        *self.stats.chaos.lock().unwrap().entry(what).or_default() += 1;
    }

    /// The fake's answer to `request`: status line + headers, and body.
    async fn upstream(&self, request: &Recorded) -> Option<(String, Vec<u8>)> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).ok()?;
        let mut builder = self
            .http
            .request(method, format!("{}{}", self.upstream, request.target))
            .body(request.body.clone());
        for (name, value) in &request.headers {
            if !matches!(name.as_str(), "host" | "content-length" | "connection") {
                builder = builder.header(name, value);
            }
        }
        let response = builder.send().await.ok()?;
        let mut head = format!("HTTP/1.1 {} X\r\n", response.status().as_u16());
        for (name, value) in response.headers() {
            if !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            ) {
                head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap_or("")));
            }
        }
        let body = response.bytes().await.ok()?.to_vec();
        Some((head, body))
    }

    async fn forward(&self, stream: &mut TcpStream, request: &Recorded) -> bool {
        let Some((head, body)) = self.upstream(request).await else {
            return false;
        };
        let head = format!("{head}content-length: {}\r\n\r\n", body.len());
        stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(&body).await.is_ok()
    }

    /// One chaotic answer; `false` when the connection is done.
    async fn chaos(
        &self,
        kind: u8,
        rng: &mut StdRng,
        stream: &mut TcpStream,
        request: &Recorded,
    ) -> bool {
        match kind {
            0 => {
                self.count("reset");
                false
            }
            1 => {
                self.count("random status");
                let statuses = [
                    200, 201, 204, 301, 302, 307, 308, 400, 401, 403, 404, 409, 410, 418, 422, 429,
                    500, 502, 503, 504, 599,
                ];
                let status = statuses[rng.random_range(0..statuses.len())];
                let mut body = vec![0u8; rng.random_range(0..4096)];
                rng.fill(&mut body[..]);
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n{}\r\n",
                    body.len(),
                    random_headers(rng)
                );
                stream.write_all(head.as_bytes()).await.is_ok()
                    && stream.write_all(&body).await.is_ok()
            }
            2 => {
                self.count("wrong json");
                let bodies: [&[u8]; 6] = [
                    b"{}",
                    b"[]",
                    b"null",
                    b"{\"data\": 5, \"pagination\": \"x\"}",
                    b"{\"data\": [], \"nextCursor\": 7}",
                    b"{\"uuid\": \"",
                ];
                let body = bodies[rng.random_range(0..bodies.len())];
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.is_ok()
                    && stream.write_all(body).await.is_ok()
            }
            3 => {
                self.count("truncated");
                let Some((head, body)) = self.upstream(request).await else {
                    return false;
                };
                let cut = body.len() / 2;
                let head = format!("{head}content-length: {}\r\n\r\n", body.len() + 1);
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body[..cut]).await;
                false
            }
            4 => {
                self.count("slow drip");
                let Some((head, body)) = self.upstream(request).await else {
                    return false;
                };
                let whole = [
                    format!("{head}content-length: {}\r\n\r\n", body.len()).into_bytes(),
                    body,
                ]
                .concat();
                let step = whole.len().div_ceil(12).max(1);
                for piece in whole.chunks(step) {
                    if stream.write_all(piece).await.is_err() {
                        return false;
                    }
                    tokio::time::sleep(Duration::from_millis(rng.random_range(10..120))).await;
                }
                true
            }
            5 => {
                self.count("huge declared");
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {HUGE}\r\n\r\n");
                let _ = stream.write_all(head.as_bytes()).await;
                write_huge(stream).await;
                false
            }
            6 => {
                self.count("huge close-delimited");
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
                    .await;
                write_huge(stream).await;
                false
            }
            7 => {
                self.count("stall");
                // never answer; hold the connection until the client gives up
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                false
            }
            _ => {
                self.count("garbage head");
                let heads: [&[u8]; 4] = [
                    b"HELLO\r\n\r\n",
                    b"HTTP/1.1 200 OK\r\nbroken header line\r\n\r\n",
                    b"HTTP/1.1 abc OK\r\n\r\n",
                    b"HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n",
                ];
                let _ = stream
                    .write_all(heads[rng.random_range(0..heads.len())])
                    .await;
                false
            }
        }
    }
}

fn random_headers(rng: &mut StdRng) -> String {
    let options = [
        "retry-after: 0\r\n",
        "retry-after: 1\r\n",
        "retry-after: -5\r\n",
        "retry-after: 99999999999999999999\r\n",
        "retry-after: Wed, 21 Oct 2015 07:28:00 GMT\r\n",
        "retry-after: Fri, 31 Dec 9999 23:59:59 GMT\r\n",
        "retry-after: soon\r\n",
        "x-ratelimit-reset: 18446744073709551615\r\n",
        "x-ratelimit-remaining: -1\r\n",
        "location: http://127.0.0.1:1/elsewhere\r\n",
        "content-type: application/json\r\n",
        "content-type: \u{1}\r\n",
    ];
    (0..rng.random_range(0..4))
        .map(|_| options[rng.random_range(0..options.len())])
        .collect()
}

/// Writes [`HUGE`] bytes from one small buffer, until done or the client hangs up.
async fn write_huge(stream: &mut TcpStream) {
    let chunk = vec![b' '; 64 * 1024];
    let mut left = HUGE;
    while left > 0 {
        let n = left.min(chunk.len());
        if stream.write_all(&chunk[..n]).await.is_err() {
            return;
        }
        left -= n;
    }
}

// The workload.

/// Runs `work` bounded by `bound`; the test fails if it does not end in time.
async fn bounded<T>(what: String, bound: Duration, work: impl Future<Output = T>) -> T {
    match tokio::time::timeout(bound, work).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not end within {bound:?}"),
    }
}

/// What a task ended with, for the summary.
fn outcome<T>(result: &Result<T, Error>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(error) => {
            let debug = format!("{error:?}");
            debug
                .split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or("?")
                .to_owned()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_never_panics_hangs_or_corrupts() {
    let fake = FakeFanvue::builder()
        .processing_polls(1)
        .media_count(60)
        .tracking_link_count(60)
        .start()
        .await
        .unwrap();
    // S3 misbehaves too: resets, truncated answers, 5xx and corrupted parts.
    fake.inject(FaultTarget::S3Part(None), Fault::Reset, 2);
    fake.inject(FaultTarget::S3Part(Some(2)), Fault::TruncatedResponse, 1);
    fake.inject(FaultTarget::S3Part(Some(3)), Fault::Status(503), 2);
    fake.inject(FaultTarget::S3Part(Some(1)), Fault::CorruptBody, 1);
    let (proxy_url, proxy) = start_proxy(fake.api_url().to_string()).await;
    let fanvue = Fanvue::builder()
        .base_url(&proxy_url)
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .timeout(Duration::from_secs(1))
        .max_response_body(CAP)
        .retry_policy(
            RetryPolicy::builder()
                .max_attempts(4)
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(50))
                .max_elapsed(Duration::from_secs(4))
                .build(),
        )
        .build()
        .unwrap();
    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);

    // A call: at most 4 attempts of 1 s, backoff within 4 s; pages: at most 7 of them.
    let call_bound = Duration::from_secs(15);
    let stream_bound = Duration::from_secs(90);
    let upload_bound = Duration::from_secs(120);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let fanvue = fanvue.clone();
        tasks.push(tokio::spawn(async move {
            let result = bounded(format!("call {i}"), call_bound, async {
                fanvue.api().get_current_user().send().await
            })
            .await;
            ("call", outcome(&result))
        }));
    }
    for i in 0..4 {
        let client = fanvue.clone();
        tasks.push(tokio::spawn(async move {
            let fanvue = client;
            let results: Vec<_> = bounded(format!("media stream {i}"), stream_bound, async {
                fanvue
                    .api()
                    .get_user_media()
                    .paginate()
                    .page_size(10)
                    .items()
                    .collect()
                    .await
            })
            .await;
            let last = results
                .last()
                .map(outcome)
                .unwrap_or_else(|| "empty".into());
            // 60 items, the uploads' new media, one error: no page loop
            assert!(results.len() <= 64, "{} results", results.len());
            ("media stream", last)
        }));
        let client = fanvue.clone();
        tasks.push(tokio::spawn(async move {
            let fanvue = client;
            let results: Vec<_> = bounded(format!("link stream {i}"), stream_bound, async {
                fanvue
                    .api()
                    .list_tracking_links()
                    .paginate()
                    .page_size(10)
                    .items()
                    .collect()
                    .await
            })
            .await;
            let last = results
                .last()
                .map(outcome)
                .unwrap_or_else(|| "empty".into());
            assert!(results.len() <= 61, "{} results", results.len());
            ("link stream", last)
        }));
    }
    let mut uploads = Vec::new();
    for i in 0..3u64 {
        let fanvue = fanvue.clone();
        let len = 11 * 1024 * 1024 + 17 * i as usize;
        let mut data = vec![0u8; len];
        StdRng::seed_from_u64(SEED + i).fill(&mut data[..]);
        let sha = hex::encode(Sha256::digest(&data));
        uploads.push(tokio::spawn(async move {
            let result = bounded(format!("upload {i}"), upload_bound, async {
                fanvue
                    .media()
                    .upload(data)
                    .filename(format!("chaos-{i}.mp4"))
                    .part_size(5 * 1024 * 1024)
                    .concurrency(3)
                    .poll_interval(Duration::from_millis(10))
                    .processing_timeout(Duration::from_secs(20))
                    .send()
                    .await
            })
            .await;
            (
                result.map(|media| media.uuid).map_err(|e| e.to_string()),
                sha,
            )
        }));
    }

    let started = Instant::now();
    let mut summary = std::collections::BTreeMap::<String, usize>::new();
    for task in tasks {
        let (what, outcome) = task.await.expect("no task panicked");
        *summary.entry(format!("{what}: {outcome}")).or_default() += 1;
    }
    let mut delivered = 0;
    for upload in uploads {
        let (result, sha) = upload.await.expect("no upload panicked");
        match result {
            Ok(uuid) => {
                delivered += 1;
                assert_eq!(
                    fake.assembled_sha256(uuid).as_deref(),
                    Some(sha.as_str()),
                    "an upload that reported success delivered exactly the source's bytes"
                );
                *summary.entry("upload: ok".into()).or_default() += 1;
            }
            Err(error) => {
                let kind = error.chars().take(120).collect::<String>();
                *summary.entry(format!("upload: {kind}")).or_default() += 1;
            }
        }
    }
    // Then the chaos budget is spent: the same client recovers, and an upload
    // through it delivers the source exactly.
    let before = proxy
        .stats
        .requests
        .fetch_max(CHAOS_BUDGET, Ordering::Relaxed);
    assert!(
        before < CHAOS_BUDGET,
        "the chaos phase stayed within its budget"
    );
    bounded("call after chaos".into(), call_bound, async {
        fanvue.api().get_current_user().send().await
    })
    .await
    .expect("the client works once the server does");
    let mut data = vec![0u8; 7 * 1024 * 1024 + 3];
    StdRng::seed_from_u64(SEED).fill(&mut data[..]);
    let sha = hex::encode(Sha256::digest(&data));
    let media = bounded("upload after chaos".into(), upload_bound, async {
        fanvue
            .media()
            .upload(data)
            .filename("after-chaos.mp4")
            .part_size(5 * 1024 * 1024)
            .poll_interval(Duration::from_millis(10))
            .send()
            .await
    })
    .await
    .expect("an upload after the chaos succeeds");
    assert_eq!(
        fake.assembled_sha256(media.uuid).as_deref(),
        Some(sha.as_str())
    );

    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
    eprintln!(
        "chaos: {} requests through the proxy in {:?}; chaos injected {:?}",
        proxy.stats.requests.load(Ordering::Relaxed),
        started.elapsed(),
        proxy.stats.chaos.lock().unwrap()
    );
    eprintln!("chaos: outcomes {summary:#?}");
    eprintln!(
        "chaos: {delivered}/3 uploads delivered; peak heap above baseline {} MiB",
        peak / (1024 * 1024)
    );
    let chaos = proxy.stats.chaos.lock().unwrap();
    assert!(
        chaos.get("huge declared").is_some() || chaos.get("huge close-delimited").is_some(),
        "the seed exercises a huge body"
    );
    // Three 11 MiB sources, 3 parts of 5 MiB in flight each, the fake's copies:
    // well under 200 MiB; reading one 300 MiB body would exceed it.
    assert!(
        peak < 200 * 1024 * 1024,
        "peak heap {} MiB above baseline",
        peak / (1024 * 1024)
    );
}
