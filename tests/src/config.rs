//! Options of the fake, set through [`crate::FakeFanvueBuilder`].

use std::time::Duration;

use crate::model::{Chat, Creator, CurrentUser, Earning, MediaItem, TrackingLink};

/// The API version the fake accepts by default (the pinned version of the reference pages).
pub const DEFAULT_API_VERSION: &str = "2025-06-26";

/// The scopes of the fake's access tokens by default: the OpenID ones Fanvue's app starter asks for,
/// and every API scope the document's operations require.
pub const DEFAULT_SCOPE: &str = "openid offline_access offline read:self read:media write:media \
read:chat write:chat read:post write:post read:fan read:insights read:tracking_links \
write:tracking_links read:creator write:creator read:agency write:agency";

/// S3's minimum size of every part but the last: 5 MiB.
pub const S3_MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// Name of the bucket in presigned URLs.
pub const BUCKET: &str = "fanvue-fake-bucket";

/// How the fake S3 keeps uploaded part bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageMode {
    /// Keep every part's bytes in memory: completion computes the assembled object's SHA-256 and size,
    /// and [`crate::FakeFanvue::assembled_bytes`] returns it. Default.
    #[default]
    KeepBytes,
    /// Keep only each part's size, MD5 (the `ETag`) and SHA-256, streaming the body through the hashes.
    /// Memory stays flat for multi-GiB benchmarks; the assembled object's size and per-part SHA-256s are
    /// known, but not its whole-object SHA-256 ([`crate::FakeFanvue::assembled_sha256`] returns `None`).
    HashOnly,
    /// Keep only each part's size and MD5 (its `ETag`; `Content-MD5` is still checked): what S3 itself
    /// computes when no additional checksum is asked for. No SHA-256 at all (the `sha256` fields are
    /// empty), so the fake spends the least CPU: for throughput benchmarks, where it shares the machine
    /// with the client it measures.
    Md5Only,
}

/// Knobs that can also be changed while the fake runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Knobs {
    pub api_latency: Duration,
    pub s3_latency: Duration,
    pub s3_bandwidth: Option<u64>,
    pub processing_polls: u32,
    pub processing_fails: bool,
}

/// Everything the builder collected.
#[derive(Clone)]
pub(crate) struct Config {
    pub access_tokens: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub token_lifetime: Duration,
    /// How long a used refresh token still works ([`crate::FakeFanvueBuilder::refresh_grace`]).
    pub refresh_grace: Duration,
    pub scope: String,
    pub supported_versions: Vec<String>,
    pub sunset_versions: Vec<(String, Option<String>)>,
    pub user: CurrentUser,
    pub media: Vec<MediaItem>,
    pub chats: Vec<Chat>,
    pub tracking_links: Vec<TrackingLink>,
    pub earnings: Vec<Earning>,
    pub creators: Vec<Creator>,
    pub creator_media: Vec<(uuid::Uuid, Vec<MediaItem>)>,
    pub min_part_size: u64,
    pub url_ttl: Duration,
    pub storage: StorageMode,
    pub opaque_etags: bool,
    pub record_requests: bool,
    /// Seed of the answers synthesized from the document.
    pub seed: u64,
    /// Synthesized answers carry a real wire's noise ([`crate::synth::Mode::Wire`]).
    pub wire_noise: bool,
    /// Address the three listeners bind (default `127.0.0.1`).
    pub bind: std::net::IpAddr,
    /// Port of the API listener (0: any).
    pub api_port: u16,
    /// Port of the OAuth listener (0: any).
    pub auth_port: u16,
    /// Port of the S3 listener (0: any).
    pub s3_port: u16,
    /// The limit and window of every bucket, from the builder (what a reset goes back to).
    pub rate_limit_window: Option<(u64, Duration)>,
    /// Items in each synthesized list collection.
    pub list_size: usize,
    pub knobs: Knobs,
    /// Refuse query parameters the operation does not declare (400) instead of ignoring them.
    pub strict_query: bool,
    /// Operations with a rate limit of their own, from the builder.
    pub operation_rate_limits: Vec<(String, u64)>,
}
