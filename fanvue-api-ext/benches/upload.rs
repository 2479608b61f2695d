//! Upload benchmark: this SDK's defaults versus a sequential 5 MiB-part loop
//! (the hand-written pattern) versus one raw single-stream PUT, against the
//! fake Fanvue with a per-request latency and a per-connection bandwidth cap.
//!
//! Run with `scripts/bench-upload.sh` (or `cargo bench -p fanvue-api-ext --bench upload`).
//! The fake runs in this process; each scenario runs in a child process of
//! this binary so its peak RSS (`VmHWM`) is its own. Knobs (environment):
//!
//! - `UPLOAD_BENCH_MIB` (1024): size of the compared uploads.
//! - `UPLOAD_BENCH_FLAT_MIB` ("256,2048"): sizes of the extra SDK-default runs
//!   that show peak RSS staying flat as the file grows ("" to skip).
//! - `UPLOAD_BENCH_SCENARIOS` ("sdk,sequential,raw").
//! - `UPLOAD_BENCH_LATENCY_MS` (40): latency added to every API and S3 request.
//! - `UPLOAD_BENCH_BANDWIDTH` (25000000): S3 bytes per second per connection.
//! - `UPLOAD_BENCH_DIR` (the system temp dir): where the source files are written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fanvue_api_ext::Fanvue;
use fanvue_api_ext::api::prelude::*;
use fanvue_api_ext::api::types;
use fanvue_api_ext::prelude::OperationExt;
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
    media_uuid: Option<uuid::Uuid>,
}

impl Outcome {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.secs
    }
}

fn parent() -> Result<(), Box<dyn std::error::Error>> {
    let size_mib: u64 = env_or("UPLOAD_BENCH_MIB", 1024);
    let flat: Vec<u64> = std::env::var("UPLOAD_BENCH_FLAT_MIB")
        .unwrap_or_else(|_| "256,2048".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let scenarios: Vec<String> = std::env::var("UPLOAD_BENCH_SCENARIOS")
        .unwrap_or_else(|_| "sdk,sequential,raw".into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let latency = Duration::from_millis(env_or("UPLOAD_BENCH_LATENCY_MS", 40));
    let bandwidth: u64 = env_or("UPLOAD_BENCH_BANDWIDTH", 25_000_000);
    let dir: PathBuf = std::env::var_os("UPLOAD_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);

    let runtime = tokio::runtime::Runtime::new()?;
    let fake = runtime.block_on(
        FakeFanvue::builder()
            .storage(StorageMode::HashOnly)
            .latency(latency)
            .s3_bandwidth(bandwidth)
            .processing_polls(0)
            .start(),
    )?;
    println!(
        "upload benchmark: latency {} ms per request, S3 cap {:.1} MB/s per connection, HashOnly fake S3",
        latency.as_millis(),
        bandwidth as f64 / 1e6
    );

    let mut results = Vec::new();
    let main_file = SourceFile::create(&dir, size_mib * MIB)?;
    for scenario in &scenarios {
        let outcome = run_child(&fake, scenario, &main_file.path)?;
        verify(&fake, &outcome, &main_file.path)?;
        println!(
            "  {scenario:<11} {:>6} MiB  {:>7.1} MB/s  {:>7.2} s  peak RSS {:>6.1} MiB",
            size_mib,
            outcome.mb_per_s(),
            outcome.secs,
            outcome.vmhwm_kib as f64 / 1024.0
        );
        results.push((size_mib, outcome));
    }
    drop(main_file);
    for &mib in &flat {
        if mib == size_mib && scenarios.iter().any(|s| s == "sdk") {
            continue;
        }
        let file = SourceFile::create(&dir, mib * MIB)?;
        let outcome = run_child(&fake, "sdk", &file.path)?;
        verify(&fake, &outcome, &file.path)?;
        println!(
            "  {:<11} {:>6} MiB  {:>7.1} MB/s  {:>7.2} s  peak RSS {:>6.1} MiB",
            "sdk",
            mib,
            outcome.mb_per_s(),
            outcome.secs,
            outcome.vmhwm_kib as f64 / 1024.0
        );
        results.push((mib, outcome));
    }

    println!();
    println!("| scenario | size | MB/s | time | peak RSS | vs sequential |");
    println!("|---|---:|---:|---:|---:|---:|");
    let sequential = results
        .iter()
        .find(|(m, o)| *m == size_mib && o.scenario == "sequential")
        .map(|(_, o)| o.mb_per_s());
    for (mib, o) in &results {
        let ratio = sequential.map_or("n/a".to_owned(), |s| format!("{:.2}×", o.mb_per_s() / s));
        println!(
            "| {} | {} MiB | {:.1} | {:.2} s | {:.1} MiB | {} |",
            label(&o.scenario),
            mib,
            o.mb_per_s(),
            o.secs,
            o.vmhwm_kib as f64 / 1024.0,
            ratio
        );
    }
    let budget = 8 * 8 + 64;
    println!();
    println!(
        "RSS budget for the SDK defaults (concurrency 8 × 8 MiB parts + 64 MiB): {budget} MiB"
    );
    Ok(())
}

fn label(scenario: &str) -> &'static str {
    match scenario {
        "sdk" => "SDK defaults (8 parts in flight, 8 MiB parts)",
        "sequential" => "sequential 5 MiB-part loop",
        "raw" => "one raw single-stream PUT",
        _ => "unknown",
    }
}

/// A generated source file, deleted on drop.
struct SourceFile {
    path: PathBuf,
}

impl SourceFile {
    fn create(dir: &Path, len: u64) -> std::io::Result<Self> {
        let path = dir.join(format!(
            "fanvue-upload-bench-{}-{}.mp4",
            std::process::id(),
            len / MIB
        ));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ len;
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
    let output = Command::new(std::env::current_exe()?)
        .arg("--child")
        .arg(scenario)
        .arg(path)
        .arg(fake.api_url())
        .arg(fake.raw_put_url(&format!("bench-{scenario}-{}", std::process::id())))
        .env("UPLOAD_BENCH_TOKEN", fake.access_token())
        .output()?;
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
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let len = std::fs::metadata(path)?.len();
    if outcome.bytes != len {
        return Err(format!(
            "{} reported {} bytes of {len}",
            outcome.scenario, outcome.bytes
        )
        .into());
    }
    if let Some(uuid) = outcome.media_uuid {
        let size = fake.assembled_size(uuid);
        if size != Some(len) {
            return Err(format!(
                "{}: the fake assembled {size:?} bytes of {len}",
                outcome.scenario
            )
            .into());
        }
    }
    Ok(())
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
        return Err("usage: --child SCENARIO FILE API_URL RAW_PUT_URL".into());
    };
    let token = std::env::var("UPLOAD_BENCH_TOKEN")?;
    let path = PathBuf::from(path);
    let len = std::fs::metadata(&path)?.len();
    let runtime = tokio::runtime::Runtime::new()?;
    let (secs, media_uuid) = runtime.block_on(async {
        let fanvue = Fanvue::builder()
            .base_url(api_url.as_str())
            .allow_insecure_http(true)
            .access_token(token)
            .build()?;
        let started = Instant::now();
        let media_uuid = match scenario.as_str() {
            "sdk" => Some(fanvue.media().upload(path.as_path()).send().await?.uuid),
            "sequential" => Some(sequential_loop(&fanvue, &path, len).await?),
            "raw" => {
                raw_put(raw_url, &path, len).await?;
                None
            }
            other => return Err(format!("unknown scenario {other}").into()),
        };
        Ok::<_, Box<dyn std::error::Error>>((started.elapsed().as_secs_f64(), media_uuid))
    })?;
    let outcome = Outcome {
        scenario: scenario.clone(),
        bytes: len,
        secs,
        vmhwm_kib: vmhwm_kib(),
        media_uuid,
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
    let http = reqwest::Client::new();
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
            part_number: std::num::NonZeroU64::new(number as u64).ok_or("part 0")?,
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
    reqwest::Client::new()
        .put(url)
        .header(reqwest::header::CONTENT_LENGTH, len)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}
