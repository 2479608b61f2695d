//! What every example shares: a client for the real API when credentials are
//! in the environment, else for a local fake Fanvue API + S3 started in-process;
//! and a generated image to upload.
//!
//! Environment:
//! - `FANVUE_ACCESS_TOKEN`: a static access token, or
//! - `FANVUE_CLIENT_ID`, `FANVUE_CLIENT_SECRET`, `FANVUE_REFRESH_TOKEN`: an OAuth
//!   session (the access token is refreshed as needed; a rotated refresh token is
//!   reported so you can store it);
//! - neither: the local fake (`fanvue-fake`), no network needed.
//!
//! `FANVUE_API_URL` and `FANVUE_AUTH_URL` point the credentials at another server
//! (e.g. the standalone fake, `cargo run -p fanvue-fake`, which prints these
//! variables; plain `http://` is accepted for loopback addresses only).

#![allow(dead_code)] // each example uses a different part of this module

use std::error::Error as StdError;
use std::process::ExitCode;
use std::time::Duration;

use fanvue_api_ext::auth::OAuthCredentials;
use fanvue_api_ext::secrecy::SecretString;
use fanvue_api_ext::upload::{Phase, UploadBuilder};
use fanvue_api_ext::{Fanvue, FanvueBuilder};
use fanvue_fake::FakeFanvue;

/// The examples' error type: anything, reported by `main`.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// Where the examples send their requests.
pub enum Backend {
    /// The API named by the environment's credentials (the real Fanvue API unless
    /// `FANVUE_API_URL` says otherwise).
    Real,
    /// The local fake, kept alive as long as this value.
    Fake(FakeFanvue),
}

impl Backend {
    /// The running fake, if the examples use it.
    pub fn fake(&self) -> Option<&FakeFanvue> {
        match self {
            Backend::Real => None,
            Backend::Fake(fake) => Some(fake),
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Prints an error and its causes; the process's exit status.
pub fn report(result: Result<(), BoxError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// A client for the real API when `FANVUE_ACCESS_TOKEN` or the OAuth variables
/// are set, else for a fake started here (with `fake` options applied).
pub async fn connect(
    fake: impl FnOnce(fanvue_fake::FakeFanvueBuilder) -> fanvue_fake::FakeFanvueBuilder,
) -> Result<(Fanvue, Backend), BoxError> {
    if let Some(token) = env("FANVUE_ACCESS_TOKEN") {
        println!(
            "Using the Fanvue API at {} with FANVUE_ACCESS_TOKEN.",
            api_url_label()
        );
        let fanvue = servers(Fanvue::builder())
            .access_token(SecretString::from(token))
            .build()?;
        return Ok((fanvue, Backend::Real));
    }
    if let (Some(id), Some(secret), Some(refresh)) = (
        env("FANVUE_CLIENT_ID"),
        env("FANVUE_CLIENT_SECRET"),
        env("FANVUE_REFRESH_TOKEN"),
    ) {
        println!(
            "Using the Fanvue API at {} with an OAuth refresh token.",
            api_url_label()
        );
        let fanvue = servers(Fanvue::builder())
            .oauth(OAuthCredentials::new(
                id,
                SecretString::from(secret),
                SecretString::from(refresh),
            ))
            .on_refresh_token_rotated(|_new: SecretString| {
                // A real app stores the new refresh token (the old one may stop working).
                eprintln!("note: the refresh token was rotated; store the new one to reuse it");
            })
            .build()?;
        return Ok((fanvue, Backend::Real));
    }
    let fake = fake(FakeFanvue::builder()).start().await?;
    println!(
        "No Fanvue credentials in the environment: using a local fake API at {} (S3 at {}).",
        fake.api_url(),
        fake.s3_url()
    );
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .token_url(fake.token_url())
        .allow_insecure_http(true) // the fake listens on plain http://127.0.0.1
        .access_token(SecretString::from(fake.access_token()))
        .build()?;
    Ok((fanvue, Backend::Fake(fake)))
}

/// Applies `FANVUE_API_URL` / `FANVUE_AUTH_URL` when set.
fn servers(mut builder: FanvueBuilder) -> FanvueBuilder {
    let (api, auth) = (env("FANVUE_API_URL"), env("FANVUE_AUTH_URL"));
    let local = [&api, &auth].iter().any(|u| u.is_some())
        && [&api, &auth]
            .iter()
            .all(|u| u.as_deref().is_none_or(is_loopback));
    if let Some(url) = api {
        builder = builder.base_url(url);
    }
    if let Some(url) = auth {
        builder = builder.token_url(format!("{}/oauth2/token", url.trim_end_matches('/')));
    }
    builder.allow_insecure_http(local)
}

fn api_url_label() -> String {
    env("FANVUE_API_URL").unwrap_or_else(|| fanvue_api_ext::api::DEFAULT_BASE_URL.to_owned())
}

/// Whether `url` points at this machine (where plain http is acceptable).
fn is_loopback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        matches!(
            u.host(),
            Some(url::Host::Domain("localhost"))
                | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
                | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
        )
    })
}

/// Settings that keep an upload to the fake quick (it processes media in a few polls).
pub fn tune_for(backend: &Backend, upload: UploadBuilder) -> UploadBuilder {
    match backend {
        Backend::Real => upload,
        Backend::Fake(_) => upload.poll_interval(Duration::from_millis(50)),
    }
}

/// A valid PNG of `width × height` RGB pixels (a colour gradient), stored
/// uncompressed so its size is about `3 × width × height` bytes.
pub fn generated_png(width: u32, height: u32) -> Vec<u8> {
    let row_len = 1 + 3 * width as usize; // filter byte + RGB pixels
    let mut raw = Vec::with_capacity(row_len * height as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.push((x * 255 / width.max(1)) as u8);
            raw.push((y * 255 / height.max(1)) as u8);
            raw.push(((x ^ y) & 0xff) as u8);
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit, RGB, deflate, no filter, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Appends a PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of uncompressed ("stored") deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len())); // BFINAL on the last block, BTYPE 00
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `n` bytes as MiB, for messages.
pub fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
}

/// Prints a ready media item and its variants.
pub fn print_media(media: &fanvue_api_ext::upload::Media) {
    println!(
        "Media {} is {} ({} variant(s)):",
        media.uuid,
        media.status,
        media.variants.len()
    );
    for variant in &media.variants {
        let size = match (variant.width, variant.height) {
            (Some(w), Some(h)) => format!("{w}x{h}"),
            _ => "size unknown".to_owned(),
        };
        println!(
            "  {:<10} {:<12} {}",
            variant.variant_type.to_string(),
            size,
            variant.url.as_deref().unwrap_or("(no URL)")
        );
    }
}

/// A short label for an upload phase.
pub fn phase_label(phase: Phase) -> &'static str {
    match phase {
        Phase::Preparing => "preparing",
        Phase::CreatingSession => "session",
        Phase::Uploading => "uploading",
        Phase::Completing => "completing",
        Phase::Processing => "processing",
        Phase::Done => "done",
        _ => "working",
    }
}
