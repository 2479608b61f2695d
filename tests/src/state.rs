//! The fake's mutable state, shared by the three listeners.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use uuid::Uuid;

use crate::config::{Config, Knobs};
use crate::faults::{ApiRoute, FaultBook};
use crate::log::RecordedRequest;
use crate::model::{Chat, Creator, CurrentUser, Earning, MediaItem, MediaType, TrackingLink};

/// One stored part of a multipart upload.
#[derive(Clone)]
pub(crate) struct StoredPart {
    pub size: u64,
    /// The ETag S3 gave for it, unquoted (the MD5, or an opaque value in opaque-ETag mode).
    pub etag: String,
    pub sha256_hex: String,
    pub bytes: Option<Bytes>,
}

/// An upload session (`POST /media/uploads`).
pub(crate) struct UploadSession {
    pub upload_id: String,
    pub media_uuid: Uuid,
    pub creator: Option<Uuid>,
    pub name: String,
    pub filename: String,
    pub media_type: MediaType,
    pub parts: BTreeMap<u32, StoredPart>,
    pub attempts: BTreeMap<u32, u32>,
    pub successes: BTreeMap<u32, u32>,
    pub urls_issued: BTreeMap<u32, u32>,
    pub assembled: Option<Assembled>,
}

/// The object assembled on completion.
#[derive(Clone)]
pub(crate) struct Assembled {
    pub size: u64,
    pub sha256: Option<String>,
    pub part_sha256: Vec<String>,
    pub bytes: Option<Vec<Bytes>>,
}

/// An object stored by the raw single-PUT endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawObject {
    /// Bytes received.
    pub size: u64,
    /// Hex SHA-256 of the body.
    pub sha256: String,
    /// Hex MD5 of the body (the ETag without quotes).
    pub md5: String,
}

/// An access token the API accepts.
pub(crate) struct AccessEntry {
    pub expires_at: Option<Instant>,
    pub revoked: bool,
}

/// A registered authorization code (PKCE).
pub(crate) struct AuthCode {
    pub code_challenge: String,
    pub redirect_uri: String,
}

/// OAuth state: access tokens, refresh tokens, codes, counters.
#[derive(Default)]
pub(crate) struct TokenStore {
    pub access: HashMap<String, AccessEntry>,
    /// Refresh tokens issued and not used yet.
    pub refresh_valid: HashSet<String>,
    pub latest_refresh: String,
    pub latest_access: String,
    /// New token pairs issued for a refresh token (first uses; grace reuses not counted).
    pub refresh_count: u64,
    pub code_exchange_count: u64,
    pub codes: HashMap<String, AuthCode>,
    /// Refresh tokens already used: when, and the pair that first use issued.
    pub used: HashMap<String, UsedRefresh>,
    /// The chain (grant) of each refresh token and access token issued; absent: chain 0 (the seed's).
    pub chain_of: HashMap<String, u64>,
    /// Chains revoked by a reuse after the grace.
    pub revoked_chains: HashSet<u64>,
    /// The last chain id handed out (chain 0 is the seed's).
    pub last_chain: u64,
    /// `grant_type=refresh_token` requests that reached the handler (any outcome).
    pub token_requests: u64,
    /// Reuses answered inside the grace.
    pub grace_reuses: u64,
    /// Token-endpoint faults that consume the refresh token first, in order.
    pub consume_faults: std::collections::VecDeque<crate::faults::TokenFault>,
}

/// A refresh token after its first use.
pub(crate) struct UsedRefresh {
    pub at: Instant,
    pub access: String,
    pub refresh: String,
}

impl TokenStore {
    /// The chain a token belongs to.
    pub fn chain(&self, token: &str) -> u64 {
        self.chain_of.get(token).copied().unwrap_or(0)
    }

    /// Revokes `chain`: every refresh token of it, every access token issued from it.
    pub fn revoke_chain(&mut self, chain: u64) {
        self.revoked_chains.insert(chain);
        let chain_of = &self.chain_of;
        let in_chain = |t: &String| chain_of.get(t).copied().unwrap_or(0) == chain;
        self.refresh_valid.retain(|t| !in_chain(t));
        for (token, entry) in &mut self.access {
            if chain_of.get(token).is_some_and(|c| *c == chain) {
                entry.revoked = true;
            }
        }
    }
}

impl TokenStore {
    pub fn is_valid(&self, token: &str) -> bool {
        match self.access.get(token) {
            Some(e) => !e.revoked && e.expires_at.is_none_or(|t| Instant::now() < t),
            None => false,
        }
    }
}

/// Processing progress of a completed upload's media.
pub(crate) struct Processing {
    pub polls: u32,
}

/// Seeded and uploaded data.
pub(crate) struct Data {
    pub user: CurrentUser,
    /// Media of the authenticated user (`None`) and of each agency creator.
    pub media: HashMap<Option<Uuid>, Vec<MediaItem>>,
    pub chats: Vec<Chat>,
    pub tracking_links: Vec<TrackingLink>,
    pub earnings: Vec<Earning>,
    pub creators: Vec<Creator>,
}

/// All mutable state behind one lock (no lock is held across an await).
pub(crate) struct State {
    pub data: Data,
    pub processing: HashMap<Uuid, Processing>,
    pub uploads: HashMap<String, UploadSession>,
    pub tokens: TokenStore,
    pub faults: FaultBook,
    pub log: Vec<RecordedRequest>,
    pub route_counts: HashMap<ApiRoute, u64>,
    pub url_seq: u64,
    /// URLs with a sequence number below this one are expired.
    pub expired_below_seq: u64,
    pub raw_objects: HashMap<String, RawObject>,
    pub knobs: Knobs,
    /// Extra endpoints seeded by tests, keyed by method and exact path.
    pub custom: HashMap<(http::Method, String), CustomRoute>,
    /// Answers replaced by operationId ([`crate::FakeFanvue::override_operation`]).
    pub overrides: crate::overrides::Overrides,
    /// Messages the API accepted (`send-message`, `send-creator-message`), in order.
    pub conversations: Vec<SentMessage>,
    /// Scopes of the access tokens minted with chosen scopes
    /// ([`crate::FakeFanvue::mint_access_token`]); every other token carries the configured `scope`.
    pub token_scopes: HashMap<String, Vec<String>>,
    /// A gateway outage in progress: its status and when it ends.
    pub gateway_outage: Option<(u16, Instant)>,
    /// What the API created, per resource family and owner ([`crate::api::resources`]).
    pub resources: crate::api::resources::Store,
}

/// A message the fake's API accepted for a fan.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The creator it was sent for (`None`: the authenticated user).
    pub creator: Option<Uuid>,
    /// The fan it was sent to.
    pub fan: Uuid,
    /// The JSON body as sent (`text`, `mediaUuids`, `price`, ...).
    pub body: serde_json::Value,
}

/// How a seeded list paginates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStyle {
    /// `page`/`size` (size 1..=50, default 15) answering `{data, pagination: {page, size, hasMore}}`.
    PageNumber,
    /// `cursor` plus a size parameter answering `{data, nextCursor}`.
    Cursor {
        /// Name of the size parameter (`size` or `limit`).
        size_param: String,
        /// Page size when the parameter is absent.
        default_size: u64,
    },
}

/// A test-seeded endpoint.
#[derive(Debug, Clone)]
pub(crate) enum CustomRoute {
    List {
        style: ListStyle,
        items: Vec<serde_json::Value>,
    },
    Stub {
        status: u16,
        body: serde_json::Value,
    },
}

/// State plus immutable configuration and lock-free counters.
pub(crate) struct Shared {
    pub config: Config,
    pub state: Mutex<State>,
    pub signing_key: String,
    pub s3_in_flight: AtomicUsize,
    pub s3_max_in_flight: AtomicUsize,
    pub s3_saw_authorization: AtomicBool,
    pub s3_saw_fanvue_header: AtomicBool,
    /// The last `X-Request-Id` handed out (`req-00000001`, ...).
    pub request_ids: std::sync::atomic::AtomicU64,
    pub s3_base: String,
    /// The API rate limits and their buckets (`X-RateLimit-*`).
    pub rate_limits: crate::ratelimit::RateLimits,
    /// Arrival numbers of logged requests.
    pub request_seq: std::sync::atomic::AtomicU64,
    /// Bumped whenever something happens, so tests can wait for a condition without sleeping.
    pub events: tokio::sync::watch::Sender<u64>,
    /// The webhook endpoint and the delivery attempts.
    pub webhooks: crate::webhooks::Hub,
}

impl Shared {
    /// Locks the state, recovering from poisoning (a panicking handler must not wedge the fake).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes up waiters of [`crate::FakeFanvue::wait_until`].
    pub fn bump(&self) {
        self.events.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Marks one more part PUT in flight; the guard marks it done when dropped.
    pub fn part_in_flight(&self) -> InFlightGuard<'_> {
        let now = self.s3_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.s3_max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.bump();
        InFlightGuard { shared: self }
    }
}

/// Decrements the in-flight part counter on drop.
pub(crate) struct InFlightGuard<'a> {
    shared: &'a Shared,
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.shared.s3_in_flight.fetch_sub(1, Ordering::SeqCst);
        self.shared.bump();
    }
}
