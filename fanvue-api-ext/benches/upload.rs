//! Upload benchmark: this SDK's defaults versus a sequential 5 MiB-part loop
//! (the hand-written pattern) versus one raw single-stream PUT, against the
//! fake Fanvue with a per-request latency and a per-connection bandwidth cap;
//! plus forced 8 MiB parts, 100 ms latency, 64 parts in flight, and a batch
//! of 10 files through `upload_many` versus one file after another. The last
//! line is `link utilization: X.XX` for the SDK defaults at the compared size
//! (measured MB/s / (concurrency × per-connection cap)).
//!
//! Run with `scripts/bench-upload.sh` (or `cargo bench -p fanvue-api-ext --bench upload`).
//! The fake runs in this process; each scenario runs in a child process of
//! this binary so its peak RSS (`VmHWM`) is its own. Knobs (environment):
//!
//! - `UPLOAD_BENCH_MIB` (1024): size of the compared uploads.
//! - `UPLOAD_BENCH_FLAT_MIB` ("256,2048"): sizes of the extra SDK-default runs
//!   that show peak RSS staying flat as the file grows ("" to skip).
//! - `UPLOAD_BENCH_SCENARIOS` ("sdk,sdk8,sdk100,c64,sequential,raw"): `sdk` the
//!   defaults, `sdk8` 8 MiB parts forced, `sdk100` the defaults at 100 ms
//!   latency, `c64` 64 parts in flight of 8 MiB.
//! - `UPLOAD_BENCH_BATCH` ("10x100"): files × MiB of the batch comparison
//!   (`upload_many` vs one `upload` after another; "" to skip).
//! - `UPLOAD_BENCH_LATENCY_MS` (40): latency added to every API and S3 request.
//! - `UPLOAD_BENCH_BANDWIDTH` (25000000): S3 bytes per second per connection.
//! - `UPLOAD_BENCH_DIR` (the system temp dir): where the source files are written.
//! - `UPLOAD_BENCH_FAKE_SHA256` (unset): set to `1` to make the fake S3 also
//!   hash every byte with SHA-256 (`StorageMode::HashOnly`, as the tests do).
//!   By default it keeps what S3 computes, the MD5 (`Content-MD5` checked,
//!   `ETag`): on a small machine the fake's hashing competes for the CPUs
//!   with the client being measured.

#[path = "../tests/support/plain_http.rs"]
mod plain_http;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fanvue_api_ext::Fanvue;
use fanvue_api_ext::api::prelude::*;
use fanvue_api_ext::api::types;
use fanvue_api_ext::prelude::OperationExt;
use fanvue_api_ext::upload::UploadSource;
use fanvue_api_ext::upload::plan::PartPlan;
use fanvue_fake::{FakeFanvue, StorageMode};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

const MIB: u64 = 1024 * 1024;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        return child(&args[2..]);
    }
    parent()
}

/// What a child reports.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Outcome {
    scenario: String,
    bytes: u64,
    secs: f64,
    vmhwm_kib: u64,
    /// The media uploaded, in the order of the files.
    media: Vec<uuid::Uuid>,
    /// CPU seconds (user + system) the client process used.
    #[serde(default)]
    client_cpu: f64,
    /// CPU seconds the fake (the parent process) used meanwhile (set by the parent).
    #[serde(default)]
    fake_cpu: f64,
}

impl Outcome {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.secs
    }
}

/// One row of the report.
struct Row {
    label: String,
    mib: u64,
    outcome: Outcome,
    /// Parts in flight × per-connection cap, MB/s (SDK rows).
    link_mb_s: Option<f64>,
    /// concurrency × part size + 64 MiB (SDK rows).
    budget_mib: Option<u64>,
}

/// The SDK defaults: parts in flight.
const CONCURRENCY: u64 = 8;

/// The SDK's plan for a file of `mib` MiB (no part size given).
fn default_plan(mib: u64) -> Option<PartPlan> {
    PartPlan::for_connections(mib * MIB, CONCURRENCY as usize).ok()
}

/// The size (MiB) of the plan's full-size parts.
fn default_part_mib(mib: u64) -> u64 {
    default_plan(mib).map_or(8, |p| p.part_size() / MIB)
}

/// The plan in words: its lead parts, then its parts.
fn describe_plan(mib: u64) -> String {
    let Some(plan) = default_plan(mib) else {
        return "no plan".into();
    };
    let mut sizes: Vec<(u64, u32)> = Vec::new();
    for n in 1..=plan.part_count() {
        let len = plan.len_of(n).div_ceil(MIB);
        match sizes.last_mut() {
            Some((size, count)) if *size == len => *count += 1,
            _ => sizes.push((len, 1)),
        }
    }
    sizes
        .iter()
        .map(|(size, count)| format!("{count} × {size} MiB"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parent() -> Result<(), Box<dyn std::error::Error>> {
    let size_mib: u64 = env_or("UPLOAD_BENCH_MIB", 1024);
    let flat: Vec<u64> = std::env::var("UPLOAD_BENCH_FLAT_MIB")
        .unwrap_or_else(|_| "256,2048".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let scenarios: Vec<String> = std::env::var("UPLOAD_BENCH_SCENARIOS")
        .unwrap_or_else(|_| "sdk,sdk8,sdk100,c64,sequential,raw".into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let batch: Option<(u64, u64)> = std::env::var("UPLOAD_BENCH_BATCH")
        .unwrap_or_else(|_| "10x100".into())
        .split_once('x')
        .and_then(|(n, m)| Some((n.trim().parse().ok()?, m.trim().parse().ok()?)));
    let latency = Duration::from_millis(env_or("UPLOAD_BENCH_LATENCY_MS", 40));
    let bandwidth: u64 = env_or("UPLOAD_BENCH_BANDWIDTH", 25_000_000);
    let dir: PathBuf = std::env::var_os("UPLOAD_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let cap = bandwidth as f64 / 1e6;
    let sha256 = std::env::var("UPLOAD_BENCH_FAKE_SHA256").is_ok_and(|v| v == "1");
    let storage = if sha256 {
        StorageMode::HashOnly
    } else {
        StorageMode::Md5Only
    };

    let runtime = tokio::runtime::Runtime::new()?;
    // The fake's cold start (the document parsed, every validator compiled) happens in `start()`,
    // before any scenario: no measured request pays for it.
    let started = Instant::now();
    let fake = runtime.block_on(
        FakeFanvue::builder()
            .storage(storage)
            .latency(latency)
            .s3_bandwidth(bandwidth)
            .processing_polls(0)
            .record_requests(false)
            .start(),
    )?;
    let fake_start = started.elapsed();
    println!(
        "upload benchmark: fake started in {:.0} ms (outside the measured time); latency {} ms per request, S3 cap {:.1} MB/s per connection, fake S3 checking Content-MD5 ({})",
        fake_start.as_secs_f64() * 1000.0,
        latency.as_millis(),
        cap,
        if sha256 {
            "HashOnly: MD5 and SHA-256 of every byte"
        } else {
            "Md5Only: no SHA-256"
        }
    );

    let mut rows: Vec<Row> = Vec::new();
    let print = |row: &Row| {
        println!(
            "  {:<44} {:>6} MiB  {:>7.1} MB/s  {:>7.2} s  peak RSS {:>7.1} MiB  CPU s client {:.1} fake {:.1}{}",
            row.label,
            row.mib,
            row.outcome.mb_per_s(),
            row.outcome.secs,
            row.outcome.vmhwm_kib as f64 / 1024.0,
            row.outcome.client_cpu,
            row.outcome.fake_cpu,
            row.link_mb_s
                .map(|l| format!("  utilization {:.2}", row.outcome.mb_per_s() / l))
                .unwrap_or_default()
        );
    };
    let main_file = SourceFile::create(&dir, size_mib * MIB, 0)?;
    let main_part_mib = default_part_mib(size_mib);
    for scenario in &scenarios {
        let slow = scenario == "sdk100";
        if slow {
            fake.set_latency(Duration::from_millis(100));
        }
        let outcome = run_child(&fake, scenario, &main_file.path);
        if slow {
            fake.set_latency(latency);
        }
        let outcome = outcome?;
        verify(&fake, &outcome, std::slice::from_ref(&main_file.path))?;
        let (concurrency, part_mib) = match scenario.as_str() {
            "sdk" | "sdk100" => (CONCURRENCY, main_part_mib),
            "sdk8" => (CONCURRENCY, 8),
            "c64" => (64, 8),
            _ => (0, 0),
        };
        let row = Row {
            label: label(scenario).to_owned(),
            mib: size_mib,
            outcome,
            link_mb_s: (concurrency > 0).then_some(concurrency as f64 * cap),
            budget_mib: (concurrency > 0).then_some(concurrency * part_mib + 64),
        };
        print(&row);
        rows.push(row);
    }
    drop(main_file);
    for &mib in &flat {
        if mib == size_mib && scenarios.iter().any(|s| s == "sdk") {
            continue;
        }
        let file = SourceFile::create(&dir, mib * MIB, 0)?;
        let outcome = run_child(&fake, "sdk", &file.path)?;
        verify(&fake, &outcome, std::slice::from_ref(&file.path))?;
        let row = Row {
            label: label("sdk").to_owned(),
            mib,
            outcome,
            link_mb_s: Some(CONCURRENCY as f64 * cap),
            budget_mib: Some(CONCURRENCY * default_part_mib(mib) + 64),
        };
        print(&row);
        rows.push(row);
    }
    if let Some((count, mib)) = batch {
        let batch_dir = dir.join(format!("fanvue-upload-bench-batch-{}", std::process::id()));
        std::fs::create_dir_all(&batch_dir)?;
        let files: Vec<SourceFile> = (0..count)
            .map(|i| SourceFile::create(&batch_dir, mib * MIB, i + 1))
            .collect::<Result<_, _>>()?;
        let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
        for scenario in ["batch", "one-by-one"] {
            let outcome = run_child(&fake, scenario, &batch_dir)?;
            verify(&fake, &outcome, &paths)?;
            let row = Row {
                label: format!("{} ({count} files)", label(scenario)),
                mib: count * mib,
                outcome,
                link_mb_s: Some(CONCURRENCY as f64 * cap),
                budget_mib: Some(CONCURRENCY * default_part_mib(mib) + 64),
            };
            print(&row);
            rows.push(row);
        }
        drop(files);
        let _ = std::fs::remove_dir(&batch_dir);
    }

    println!();
    println!(
        "| scenario | size | MB/s | time | link utilization | peak RSS (budget) | CPU s client + fake | vs sequential |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let sequential = rows
        .iter()
        .find(|r| r.mib == size_mib && r.outcome.scenario == "sequential")
        .map(|r| r.outcome.mb_per_s());
    for r in &rows {
        let ratio = sequential.map_or("n/a".to_owned(), |s| {
            format!("{:.2}×", r.outcome.mb_per_s() / s)
        });
        let rss = r.outcome.vmhwm_kib as f64 / 1024.0;
        println!(
            "| {} | {} MiB | {:.1} | {:.2} s | {} | {:.1} MiB{} | {:.1} + {:.1} | {} |",
            r.label,
            r.mib,
            r.outcome.mb_per_s(),
            r.outcome.secs,
            r.link_mb_s.map_or("".to_owned(), |l| format!(
                "{:.2}",
                r.outcome.mb_per_s() / l
            )),
            rss,
            r.budget_mib.map_or("".to_owned(), |b| format!(
                " ({b} MiB{})",
                if rss <= b as f64 { "" } else { ", OVER" }
            )),
            r.outcome.client_cpu,
            r.outcome.fake_cpu,
            ratio
        );
    }
    println!();
    println!(
        "SDK defaults: {CONCURRENCY} parts in flight, {} at {size_mib} MiB; link = {CONCURRENCY} × {cap:.1} MB/s = {:.1} MB/s",
        describe_plan(size_mib),
        CONCURRENCY as f64 * cap
    );
    if let Some(r) = rows
        .iter()
        .find(|r| r.mib == size_mib && r.outcome.scenario == "sdk")
    {
        println!(
            "link utilization: {:.2}",
            r.outcome.mb_per_s() / (CONCURRENCY as f64 * cap)
        );
    }
    Ok(())
}

fn label(scenario: &str) -> &'static str {
    match scenario {
        "sdk" => "SDK defaults",
        "sdk8" => "SDK, 8 MiB parts forced",
        "sdk100" => "SDK defaults at 100 ms latency",
        "c64" => "SDK, 64 parts in flight of 8 MiB",
        "sequential" => "sequential 5 MiB-part loop",
        "raw" => "one raw single-stream PUT",
        "batch" => "upload_many",
        "one-by-one" => "one upload after another",
        _ => "unknown",
    }
}

/// A generated source file, deleted on drop.
struct SourceFile {
    path: PathBuf,
}

impl SourceFile {
    fn create(dir: &Path, len: u64, seed: u64) -> std::io::Result<Self> {
        let path = dir.join(format!(
            "fanvue-upload-bench-{}-{}-{seed}.mp4",
            std::process::id(),
            len / MIB
        ));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ len ^ seed.wrapping_mul(0x1234_5678_9ABC_DEF1);
        let mut chunk = vec![0u8; MIB as usize];
        let mut left = len;
        while left > 0 {
            let n = left.min(MIB) as usize;
            for word in chunk[..n].chunks_mut(8) {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let v = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
                word.copy_from_slice(&v[..word.len()]);
            }
            file.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        file.flush()?;
        Ok(Self { path })
    }
}

impl Drop for SourceFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn run_child(
    fake: &FakeFanvue,
    scenario: &str,
    path: &Path,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let fake_cpu_before = cpu_secs();
    let mut outcome = run_child_inner(fake, scenario, path)?;
    outcome.fake_cpu = cpu_secs() - fake_cpu_before;
    Ok(outcome)
}

fn run_child_inner(
    fake: &FakeFanvue,
    scenario: &str,
    path: &Path,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let output = Command::new(std::env::current_exe()?)
        .arg("--child")
        .arg(scenario)
        .arg(path)
        .arg(fake.api_url())
        .arg(fake.raw_put_url(&format!("bench-{scenario}-{}", std::process::id())))
        .env("UPLOAD_BENCH_TOKEN", fake.access_token())
        .output()?;
    let _ = std::fs::write(format!("/tmp/partlog-{scenario}.txt"), &output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "scenario {scenario} failed: {}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or("the child printed no result")?;
    Ok(serde_json::from_str(line)?)
}

fn verify(
    fake: &FakeFanvue,
    outcome: &Outcome,
    paths: &[PathBuf],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut len = 0;
    for p in paths {
        len += std::fs::metadata(p)?.len();
    }
    if outcome.bytes != len {
        return Err(format!(
            "{} reported {} bytes of {len}",
            outcome.scenario, outcome.bytes
        )
        .into());
    }
    if outcome.media.is_empty() {
        return Ok(());
    }
    if outcome.media.len() != paths.len() {
        return Err(format!(
            "{}: {} media for {} files",
            outcome.scenario,
            outcome.media.len(),
            paths.len()
        )
        .into());
    }
    for (uuid, path) in outcome.media.iter().zip(paths) {
        let want = std::fs::metadata(path)?.len();
        let size = fake.assembled_size(*uuid);
        if size != Some(want) {
            return Err(format!(
                "{}: the fake assembled {size:?} bytes of {want}",
                outcome.scenario
            )
            .into());
        }
    }
    Ok(())
}

/// CPU seconds (user + system) this process has used so far.
fn cpu_secs() -> f64 {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces), 1-based
            // from field 3: utime is field 14, stime field 15.
            let rest = s.rsplit_once(')')?.1.to_owned();
            let fields: Vec<u64> = rest
                .split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect();
            Some(fields.get(11)? + fields.get(12)?)
        })
        .unwrap_or(0);
    ticks as f64 / 100.0
}

/// Peak resident set size of this process, in KiB.
fn vmhwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn child(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [scenario, path, api_url, raw_url] = args else {
        return Err("usage: --child SCENARIO FILE|DIR API_URL RAW_PUT_URL".into());
    };
    let token = std::env::var("UPLOAD_BENCH_TOKEN")?;
    let path = PathBuf::from(path);
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        files
    } else {
        vec![path.clone()]
    };
    let mut len = 0;
    for f in &files {
        len += std::fs::metadata(f)?.len();
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let (secs, media) = runtime.block_on(async {
        let fanvue = Fanvue::builder()
            .base_url(api_url.as_str())
            .allow_insecure_http(true)
            .access_token(token)
            .build()?;
        let uploads = fanvue.media();
        let one = |p: &Path| uploads.upload(UploadSource::path(p));
        let started = Instant::now();
        let media = match scenario.as_str() {
            "sdk" | "sdk100" => vec![one(&path).send().await?.uuid],
            "sdk8" => vec![one(&path).part_size(8 * MIB).send().await?.uuid],
            "c64" => vec![
                one(&path)
                    .part_size(8 * MIB)
                    .concurrency(64)
                    .send()
                    .await?
                    .uuid,
            ],
            "batch" => {
                let mut media = Vec::new();
                for r in uploads
                    .upload_many(files.iter().map(|f| f.as_path()))
                    .send()
                    .await
                {
                    media.push(r.result?.uuid);
                }
                media
            }
            "one-by-one" => {
                let mut media = Vec::new();
                for f in &files {
                    media.push(one(f).send().await?.uuid);
                }
                media
            }
            "sequential" => vec![sequential_loop(&fanvue, &path, len).await?],
            "raw" => {
                raw_put(raw_url, &path, len).await?;
                Vec::new()
            }
            other => return Err(format!("unknown scenario {other}").into()),
        };
        Ok::<_, Box<dyn std::error::Error>>((started.elapsed().as_secs_f64(), media))
    })?;
    let outcome = Outcome {
        scenario: scenario.clone(),
        bytes: len,
        secs,
        vmhwm_kib: vmhwm_kib(),
        media,
        client_cpu: cpu_secs(),
        fake_cpu: 0.0,
    };
    println!("RESULT {}", serde_json::to_string(&outcome)?);
    Ok(())
}

/// The hand-written pattern: one 5 MiB part at a time (URL, PUT, ETag), then
/// complete and read the media.
async fn sequential_loop(
    fanvue: &Fanvue,
    path: &Path,
    len: u64,
) -> Result<uuid::Uuid, Box<dyn std::error::Error>> {
    let part_size = 5 * MIB;
    let api = fanvue.api();
    let session = api
        .create_upload_session()
        .body_map(|b| {
            b.name("bench")
                .filename("bench.mp4")
                .media_type(types::MediaType::Video)
        })
        .send()
        .await?;
    let http = plain_http::plain_http_builder().build()?;
    let mut file = tokio::fs::File::open(path).await?;
    let mut parts = Vec::new();
    let mut offset = 0;
    let mut number = 1;
    while offset < len {
        let n = part_size.min(len - offset) as usize;
        let mut buf = vec![0u8; n];
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        file.read_exact(&mut buf).await?;
        let mut stream = api
            .get_upload_part_url()
            .upload_id(session.upload_id.as_str())
            .part_number(number)
            .send()
            .await?
            .into_inner();
        let mut url = Vec::new();
        while let Some(chunk) = stream.next().await {
            url.extend_from_slice(&chunk?);
        }
        let response = http
            .put(String::from_utf8(url)?.trim())
            .body(buf)
            .send()
            .await?
            .error_for_status()?;
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        parts.push(types::UploadedPart {
            e_tag: etag,
            part_number: std::num::NonZeroU64::new(number).ok_or("part 0")?,
        });
        offset += n as u64;
        number += 1;
    }
    api.complete_upload_session()
        .upload_id(session.upload_id.as_str())
        .body_map(|b| b.parts(parts))
        .send()
        .await?;
    let media = api
        .get_user_media_by_uuid()
        .uuid(session.media_uuid)
        .send()
        .await?;
    Ok(media.uuid)
}

/// One PUT streaming the whole file.
async fn raw_put(url: &str, path: &Path, len: u64) -> Result<(), Box<dyn std::error::Error>> {
    let file = tokio::fs::File::open(path).await?;
    let stream = futures::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 256 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    plain_http::plain_http_builder()
        .build()?
        .put(url)
        .header(reqwest::header::CONTENT_LENGTH, len)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}
