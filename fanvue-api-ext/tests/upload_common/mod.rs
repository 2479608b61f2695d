//! Helpers shared by the upload tests: a fake Fanvue, clients for it, and
//! deterministic pseudo-random content.
#![allow(dead_code)]

use std::io::Write;
use std::time::Duration;

use fanvue_api_ext::Fanvue;
use fanvue_api_ext::auth::OAuthCredentials;
use fanvue_api_ext::upload::{Media, UploadBuilder};
use fanvue_fake::FakeFanvue;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const MIB: usize = 1024 * 1024;

/// A fake with instant processing polls.
pub async fn fake() -> FakeFanvue {
    FakeFanvue::builder()
        .processing_polls(1)
        .start()
        .await
        .expect("fake starts")
}

/// A client with the fake's static token.
pub fn client(fake: &FakeFanvue) -> Fanvue {
    Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .build()
        .expect("client builds")
}

/// A client that refreshes its token at the fake's OAuth server.
pub fn oauth_client(fake: &FakeFanvue) -> Fanvue {
    Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .token_url(fake.token_url())
        .oauth(OAuthCredentials::new(
            fake.client_id(),
            fake.client_secret().to_owned(),
            fake.refresh_token(),
        ))
        .build()
        .expect("client builds")
}

/// Fast test settings: short polls and retry delays.
pub fn quick(builder: UploadBuilder) -> UploadBuilder {
    builder
        .poll_interval(Duration::from_millis(10))
        .processing_timeout(Duration::from_secs(20))
        .part_retry(
            fanvue_api_ext::upload::PartRetryPolicy::default()
                .with_delays(Duration::from_millis(10), Duration::from_millis(100)),
        )
}

/// Deterministic pseudo-random bytes (xorshift64*), fast enough for hundreds of MiB.
pub fn fill_pseudo_random(buf: &mut [u8], state: &mut u64) {
    for chunk in buf.chunks_mut(8) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let v = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// `len` pseudo-random bytes from `seed`.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let mut state = seed | 1;
    fill_pseudo_random(&mut buf, &mut state);
    buf
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A temporary file of `len` pseudo-random bytes with the given suffix,
/// written in 1 MiB chunks; returns it and its SHA-256.
pub fn temp_file(len: usize, seed: u64, suffix: &str) -> (tempfile::NamedTempFile, String) {
    let mut file = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .expect("temp file");
    let mut hasher = Sha256::new();
    let mut state = seed | 1;
    let mut chunk = vec![0u8; MIB];
    let mut left = len;
    while left > 0 {
        let n = left.min(MIB);
        fill_pseudo_random(&mut chunk[..n], &mut state);
        hasher.update(&chunk[..n]);
        file.write_all(&chunk[..n]).expect("write temp file");
        left -= n;
    }
    file.flush().expect("flush temp file");
    (file, hex::encode(hasher.finalize()))
}

/// The uuid of uploaded media.
pub fn uuid_of(media: &Media) -> Uuid {
    media.uuid
}

/// Asserts the fake S3 never saw credentials or Fanvue headers.
pub fn assert_s3_clean(fake: &FakeFanvue) {
    assert!(
        !fake.s3_saw_authorization(),
        "S3 saw an Authorization header"
    );
    assert!(!fake.s3_saw_fanvue_header(), "S3 saw an X-Fanvue-* header");
    assert!(
        !fake.token_leaked_outside_api(),
        "a token left the API host"
    );
}

/// Asserts the fake assembled exactly `sha256` for `media`.
pub fn assert_assembled(fake: &FakeFanvue, media: Uuid, sha256: &str, len: usize) {
    assert_eq!(
        fake.assembled_size(media),
        Some(len as u64),
        "assembled size"
    );
    assert_eq!(
        fake.assembled_sha256(media).as_deref(),
        Some(sha256),
        "assembled SHA-256"
    );
}
