//! The fake's cold start: how long `start()` takes (it parses the document and compiles every
//! validator, once per process, on a blocking thread), and the first request after start as a ratio
//! to the second, each on a fresh connection (so both pay the TCP connect). Then the same for more
//! fakes in the same process, whose start finds the document ready. Also times one compile of every
//! validator, the work the first request used to pay before `start()` did it.
//!
//! The first fake of a process is measured in `FANVUE_BENCH_PROCESSES` (default 5) child processes of
//! this binary, medians reported, since one sample on a shared machine is noise.
//!
//! `cargo bench -p fanvue-fake --bench start` (optimized) or
//! `cargo bench -p fanvue-fake --bench start --profile dev` (a debug build, as `cargo test` uses);
//! `FANVUE_BENCH_FAKES` (default 50) fakes after the first.

use std::time::{Duration, Instant};

use fanvue_fake::FakeFanvue;

/// One synthesized operation (validation of its query, synthesis from its schema).
const PATH: &str = "/chats/templates?page=1&size=15";

/// Time of one request on a new connection, to its last body byte.
async fn request(fake: &FakeFanvue) -> Duration {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let resp = client
        .get(format!("{}{PATH}", fake.api_url()))
        .header("X-Fanvue-API-Version", fake.api_version())
        .bearer_auth(fake.access_token())
        .send()
        .await
        .expect("request");
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.bytes().await.expect("body");
    started.elapsed()
}

/// Start time, first and second request of one fresh fake.
async fn one_fake() -> (Duration, Duration, Duration, FakeFanvue) {
    let started = Instant::now();
    let fake = FakeFanvue::builder()
        .record_requests(false)
        .start()
        .await
        .expect("fake starts");
    let start = started.elapsed();
    let first = request(&fake).await;
    let second = request(&fake).await;
    (start, first, second, fake)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Parses a child's `cold <start> <first> <second>` line (seconds).
fn parse_child(out: &str) -> Option<(Duration, Duration, Duration)> {
    let line = out.lines().find_map(|l| l.strip_prefix("cold "))?;
    let v: Vec<f64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    match v[..] {
        [s, f, r] => Some((
            Duration::from_secs_f64(s),
            Duration::from_secs_f64(f),
            Duration::from_secs_f64(r),
        )),
        _ => None,
    }
}

fn main() {
    let child = std::env::args().any(|a| a == "--child");
    let processes: usize = std::env::var("FANVUE_BENCH_PROCESSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    if !child {
        let exe = std::env::current_exe().expect("current exe");
        let (mut starts, mut firsts, mut seconds) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..processes {
            let out = std::process::Command::new(&exe)
                .arg("--child")
                .output()
                .expect("child runs");
            let out = String::from_utf8_lossy(&out.stdout);
            let (s, f, r) = parse_child(&out).expect("child reports");
            starts.push(s);
            firsts.push(f);
            seconds.push(r);
        }
        let (s, f, r) = (median(starts), median(firsts), median(seconds));
        println!(
            "first fake of a process (parses the document, compiles the validators in start), median of {processes} processes:"
        );
        println!(
            "  start {:8.2} ms   first request {:6.2} ms   second request {:6.2} ms   first/second {:.2}",
            ms(s),
            ms(f),
            ms(r),
            f.as_secs_f64() / r.as_secs_f64()
        );
    }
    let fakes: usize = std::env::var("FANVUE_BENCH_FAKES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // The client's own first use (connection pool, runtime threads) is not the fake's: one
        // request to a plain axum server first.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        reqwest::get(format!("http://{addr}/"))
            .await
            .expect("warm-up request")
            .bytes()
            .await
            .expect("warm-up body");
        let (start, first, second, fake) = one_fake().await;
        drop(fake);
        if child {
            println!(
                "cold {} {} {}",
                start.as_secs_f64(),
                first.as_secs_f64(),
                second.as_secs_f64()
            );
            return;
        }
        let (mut starts, mut firsts, mut seconds) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..fakes {
            let (s, f, r, fake) = one_fake().await;
            drop(fake);
            starts.push(s);
            firsts.push(f);
            seconds.push(r);
        }
        let (s, f, r) = (median(starts), median(firsts), median(seconds));
        println!("next {fakes} fakes of the process (medians):");
        println!(
            "  start {:8.2} ms   first request {:6.2} ms   second request {:6.2} ms   first/second {:.2}",
            ms(s),
            ms(f),
            ms(r),
            f.as_secs_f64() / r.as_secs_f64()
        );
        let compile = tokio::task::spawn_blocking(|| {
            let started = Instant::now();
            let v = fanvue_fake::schema::Validators::build(fanvue_fake::spec::Spec::load());
            assert!(v.is_ok());
            started.elapsed()
        })
        .await
        .expect("compile");
        println!(
            "compiling every validator once: {:.2} ms = {:.1}× a warm first request (what the first request paid when it was lazy)",
            ms(compile),
            compile.as_secs_f64() / f.as_secs_f64()
        );
    });
}
