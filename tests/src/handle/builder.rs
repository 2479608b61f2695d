//! [`FakeFanvueBuilder`]: the fake's options, and starting it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use super::FakeFanvue;
use crate::config::{
    Config, DEFAULT_API_VERSION, DEFAULT_SCOPE, Knobs, S3_MIN_PART_SIZE, StorageMode,
};
use crate::error::FakeError;
use crate::faults::FaultBook;
use crate::model::{Chat, Creator, CurrentUser, Earning, MediaItem, TrackingLink};
use crate::state::{AccessEntry, Data, Shared, State, TokenStore};
use crate::webhooks::WebhookEndpoint;
use crate::{api, auth, s3, serve};

/// Options for [`FakeFanvue`]; every option has a default, so `FakeFanvue::builder().start()` works.
#[must_use]
pub struct FakeFanvueBuilder {
    config: Config,
    media_count: Option<usize>,
    chat_count: Option<usize>,
    link_count: Option<usize>,
    earning_count: Option<usize>,
    creator_count: Option<usize>,
    webhook_endpoint: Option<WebhookEndpoint>,
}

impl fmt::Debug for FakeFanvueBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFanvueBuilder").finish_non_exhaustive()
    }
}

impl Default for FakeFanvueBuilder {
    fn default() -> Self {
        FakeFanvueBuilder {
            config: Config {
                access_tokens: Vec::new(),
                client_id: "fake-client-id".into(),
                client_secret: "fake-client-secret".into(),
                refresh_token: auth::new_token("fvrt"),
                token_lifetime: Duration::from_secs(3600),
                refresh_grace: auth::DEFAULT_REFRESH_GRACE,
                scope: DEFAULT_SCOPE.into(),
                supported_versions: vec![DEFAULT_API_VERSION.into()],
                sunset_versions: Vec::new(),
                user: CurrentUser::sample(),
                media: Vec::new(),
                chats: Vec::new(),
                tracking_links: Vec::new(),
                earnings: Vec::new(),
                creators: Vec::new(),
                creator_media: Vec::new(),
                min_part_size: S3_MIN_PART_SIZE,
                url_ttl: Duration::from_secs(3600),
                storage: StorageMode::KeepBytes,
                opaque_etags: false,
                record_requests: true,
                seed: 0,
                wire_noise: false,
                bind: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                api_port: 0,
                auth_port: 0,
                s3_port: 0,
                rate_limit_window: None,
                list_size: 40,
                knobs: Knobs {
                    processing_polls: 2,
                    ..Knobs::default()
                },
                strict_query: false,
                operation_rate_limits: Vec::new(),
            },
            media_count: None,
            chat_count: None,
            link_count: None,
            earning_count: None,
            creator_count: None,
            webhook_endpoint: None,
        }
    }
}

impl FakeFanvueBuilder {
    /// Delivers webhooks to `endpoint` ([`FakeFanvue::deliver_webhook`], [`FakeFanvue::fan_sends_message`]).
    pub fn webhook_endpoint(mut self, endpoint: WebhookEndpoint) -> Self {
        self.webhook_endpoint = Some(endpoint);
        self
    }

    /// Limits **every bucket** to `limit` requests per `window` (whole seconds, at least 1 s, windows
    /// aligned to Unix time): the principal's shared bucket, each creator's bucket (operations under
    /// `/creators/{creatorUserUuid}/*`) and the buckets of operations with a limit of their own
    /// ([`Self::operation_rate_limit`], which keep their own limit but use this window). Every answer of
    /// a limited bucket carries `X-RateLimit-Limit/Remaining/Reset`; beyond the limit, 429 with
    /// `Retry-After`. See [`crate::ratelimit`].
    pub fn rate_limit_window(mut self, limit: u64, window: Duration) -> Self {
        self.config.rate_limit_window = Some((limit, window));
        self
    }

    /// Gives one operation (by `operationId`, e.g. `"get-current-user"`) a bucket of its own with this
    /// limit per window, as Fanvue does for a few high-volume endpoints: its requests no longer draw from
    /// the shared or creator bucket, and its `X-RateLimit-Limit` is `limit`. The window is the one of
    /// [`Self::rate_limit_window`] ([`crate::ratelimit::DEFAULT_RATE_LIMIT_WINDOW`] without one). Works
    /// without [`Self::rate_limit_window`] too (then only such operations are limited).
    pub fn operation_rate_limit(mut self, operation_id: impl Into<String>, limit: u64) -> Self {
        self.config
            .operation_rate_limits
            .push((operation_id.into(), limit));
        self
    }

    /// Refuses query parameters the operation does not declare with 400 `{errors}` naming them
    /// (default false: they are ignored, as Fanvue does, and listed in
    /// [`crate::RecordedRequest::unknown_query`]). Catches misspelled parameters and `variants[]=main`
    /// (Fanvue reads only `variants=main`).
    pub fn strict_query(mut self, strict: bool) -> Self {
        self.config.strict_query = strict;
        self
    }

    /// Adds an access token the API accepts (never expires unless expired on demand). The first one added
    /// is [`FakeFanvue::access_token`]; without any, a random one is generated.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.config.access_tokens.push(token.into());
        self
    }

    /// OAuth client id and secret expected in HTTP Basic on `POST /oauth2/token`
    /// (default `fake-client-id` / `fake-client-secret`).
    pub fn client_credentials(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.config.client_id = id.into();
        self.config.client_secret = secret.into();
        self
    }

    /// The initial refresh token the OAuth server accepts (default: random). It is rotated on use.
    pub fn refresh_token(mut self, token: impl Into<String>) -> Self {
        self.config.refresh_token = token.into();
        self
    }

    /// Lifetime of access tokens issued by `POST /oauth2/token` (`expires_in`; default 3600 s).
    /// Issued tokens are rejected with 401 once it has passed.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.token_lifetime = lifetime;
        self
    }

    /// The scopes (space-separated) of the access tokens: the static ones, the ones the OAuth server
    /// issues (its `scope` answer), but not [`FakeFanvue::mint_access_token`] ones. Every operation
    /// requires all the scopes of its `x-fanvue-scopes`; a token without one gets 403 `{error}` naming
    /// it. Default [`DEFAULT_SCOPE`] (every scope the document uses).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.config.scope = scope.into();
        self
    }

    /// Accepts one more `X-Fanvue-API-Version` value (default: only [`DEFAULT_API_VERSION`]).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.config.supported_versions.push(version.into());
        self
    }

    /// Answers 410 `{error, message, nextVersion}` to requests with this API version. Takes precedence over
    /// the supported versions, so `sunset_version(DEFAULT_API_VERSION, Some("2026-01-01"))` sunsets the
    /// default one.
    pub fn sunset_version(mut self, version: impl Into<String>, next: Option<&str>) -> Self {
        self.config
            .sunset_versions
            .push((version.into(), next.map(str::to_string)));
        self
    }

    /// The user returned by `GET /users/me` (default [`CurrentUser::sample`]).
    pub fn current_user(mut self, user: CurrentUser) -> Self {
        self.config.user = user;
        self
    }

    /// Seeds `n` sample ready media items (default 20) after any given with [`Self::media`].
    pub fn media_count(mut self, n: usize) -> Self {
        self.media_count = Some(n);
        self
    }

    /// Seeds these media items (in list order) instead of the default samples.
    pub fn media(mut self, items: Vec<MediaItem>) -> Self {
        self.config.media = items;
        self.media_count.get_or_insert(0);
        self
    }

    /// Seeds `n` sample chats (default 20).
    pub fn chat_count(mut self, n: usize) -> Self {
        self.chat_count = Some(n);
        self
    }

    /// Seeds these chats instead of the default samples.
    pub fn chats(mut self, chats: Vec<Chat>) -> Self {
        self.config.chats = chats;
        self.chat_count.get_or_insert(0);
        self
    }

    /// Seeds `n` sample tracking links (default 25).
    pub fn tracking_link_count(mut self, n: usize) -> Self {
        self.link_count = Some(n);
        self
    }

    /// Seeds these tracking links instead of the default samples.
    pub fn tracking_links(mut self, links: Vec<TrackingLink>) -> Self {
        self.config.tracking_links = links;
        self.link_count.get_or_insert(0);
        self
    }

    /// Seeds `n` sample earnings entries (default 30).
    pub fn earnings_count(mut self, n: usize) -> Self {
        self.earning_count = Some(n);
        self
    }

    /// Seeds these earnings entries instead of the default samples.
    pub fn earnings(mut self, earnings: Vec<Earning>) -> Self {
        self.config.earnings = earnings;
        self.earning_count.get_or_insert(0);
        self
    }

    /// Seeds `n` sample agency creators (default 2; [`Creator::sample`] gives their ids).
    pub fn creator_count(mut self, n: usize) -> Self {
        self.creator_count = Some(n);
        self
    }

    /// Seeds these agency creators instead of the default samples.
    pub fn creators(mut self, creators: Vec<Creator>) -> Self {
        self.config.creators = creators;
        self.creator_count.get_or_insert(0);
        self
    }

    /// Seeds the media library of one agency creator.
    pub fn creator_media(mut self, creator: Uuid, items: Vec<MediaItem>) -> Self {
        self.config.creator_media.push((creator, items));
        self
    }

    /// Minimum size of every part but the last on completion (default 5 MiB; lower it for fast tests).
    pub fn min_part_size(mut self, bytes: u64) -> Self {
        self.config.min_part_size = bytes;
        self
    }

    /// How many `GET /media/{uuid}` polls after completion answer `processing` before `ready` (default 2).
    pub fn processing_polls(mut self, polls: u32) -> Self {
        self.config.knobs.processing_polls = polls;
        self
    }

    /// Whether processing ends in `error` instead of `ready` (default false).
    pub fn processing_fails(mut self, fails: bool) -> Self {
        self.config.knobs.processing_fails = fails;
        self
    }

    /// Validity of presigned part URLs (`X-Amz-Expires`, default 3600 s).
    pub fn url_ttl(mut self, ttl: Duration) -> Self {
        self.config.url_ttl = ttl;
        self
    }

    /// How S3 keeps part bytes (default [`StorageMode::KeepBytes`]).
    pub fn storage(mut self, mode: StorageMode) -> Self {
        self.config.storage = mode;
        self
    }

    /// Makes S3 answer part ETags that are not the MD5 of the bytes, though they look like one (32 hex
    /// digits, as S3 answers under SSE-KMS or SSE-C); completion then expects those ETags back. Default
    /// false (MD5 ETags).
    pub fn opaque_etags(mut self, opaque: bool) -> Self {
        self.config.opaque_etags = opaque;
        self
    }

    /// Whether requests are kept in the log (default true). Turn it off for long benchmarks; the per-route
    /// counters and [`FakeFanvue::s3_saw_authorization`] / [`FakeFanvue::s3_saw_fanvue_header`] keep working.
    pub fn record_requests(mut self, record: bool) -> Self {
        self.config.record_requests = record;
        self
    }

    /// Simulated latency before every API, OAuth and S3 request is handled.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.config.knobs.api_latency = latency;
        self.config.knobs.s3_latency = latency;
        self
    }

    /// Simulated latency for the API and OAuth listeners only.
    pub fn api_latency(mut self, latency: Duration) -> Self {
        self.config.knobs.api_latency = latency;
        self
    }

    /// Simulated latency for S3 only.
    pub fn s3_latency(mut self, latency: Duration) -> Self {
        self.config.knobs.s3_latency = latency;
        self
    }

    /// Caps how fast S3 reads each PUT body (bytes per second, per connection; HTTP/1.1 so one request at a
    /// time per connection).
    pub fn s3_bandwidth(mut self, bytes_per_sec: u64) -> Self {
        self.config.knobs.s3_bandwidth = Some(bytes_per_sec);
        self
    }

    /// Port of the API listener (default 0: any free port).
    pub fn api_port(mut self, port: u16) -> Self {
        self.config.api_port = port;
        self
    }

    /// Port of the OAuth listener (default 0: any free port).
    pub fn auth_port(mut self, port: u16) -> Self {
        self.config.auth_port = port;
        self
    }

    /// Port of the S3 listener (default 0: any free port); presigned part URLs name it.
    pub fn s3_port(mut self, port: u16) -> Self {
        self.config.s3_port = port;
        self
    }

    /// The address the three listeners bind (default `127.0.0.1`). `0.0.0.0` makes the fake reachable
    /// from other machines or containers; its URLs then name the address a client should use: the bound
    /// one, or `127.0.0.1` for an unspecified address (`0.0.0.0`, `::`).
    pub fn bind(mut self, addr: std::net::IpAddr) -> Self {
        self.config.bind = addr;
        self
    }

    /// Seed of the answers synthesized from the document (default 0): the same seed, path and query
    /// always give the same answer.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Whether answers synthesized from the document carry what Fanvue's real wire carries beyond the
    /// document (default false): integers written as integral floats (`3840.0`), string-enum values
    /// the document does not list, fields it does not list ([`crate::synth::Mode::Wire`]). Run a
    /// suite with it on to prove a client tolerates Fanvue's real answers. Still seeded: the same seed,
    /// path and query give the same answer.
    pub fn wire_noise(mut self, on: bool) -> Self {
        self.config.wire_noise = on;
        self
    }

    /// Items in each list collection synthesized from the document (default 40), paginated by
    /// `page`/`size` or `cursor`.
    pub fn list_size(mut self, n: usize) -> Self {
        self.config.list_size = n;
        self
    }

    /// Parses the document and compiles its validators (once per process, on a blocking thread), binds
    /// the three listeners ([`Self::bind`], default `127.0.0.1`, each on its port or a free one) and
    /// starts serving: the first request costs what every later one does.
    pub async fn start(self) -> Result<FakeFanvue, FakeError> {
        warm_up().await;
        let mut config = self.config;
        if config.access_tokens.is_empty() {
            config.access_tokens.push(auth::new_token("fvat"));
        }
        fill(
            &mut config.media,
            self.media_count.unwrap_or(20),
            MediaItem::sample,
        );
        fill(
            &mut config.chats,
            self.chat_count.unwrap_or(20),
            Chat::sample,
        );
        fill(
            &mut config.tracking_links,
            self.link_count.unwrap_or(25),
            TrackingLink::sample,
        );
        fill(
            &mut config.earnings,
            self.earning_count.unwrap_or(30),
            Earning::sample,
        );
        fill(
            &mut config.creators,
            self.creator_count.unwrap_or(2),
            Creator::sample,
        );

        let (api_listener, api_addr) = serve::bind(config.bind, config.api_port).await?;
        let (auth_listener, auth_addr) = serve::bind(config.bind, config.auth_port).await?;
        let (s3_listener, s3_addr) = serve::bind(config.bind, config.s3_port).await?;

        let state = initial_state(&config);
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            signing_key: Uuid::new_v4().simple().to_string(),
            s3_in_flight: Default::default(),
            s3_max_in_flight: Default::default(),
            s3_saw_authorization: Default::default(),
            request_ids: Default::default(),
            s3_saw_fanvue_header: Default::default(),
            s3_base: serve::url(s3_addr),
            rate_limits: Default::default(),
            request_seq: Default::default(),
            events: watch::channel(0).0,
            webhooks: Default::default(),
        });
        shared.webhooks.set(self.webhook_endpoint.clone());
        shared
            .rate_limits
            .set_window(shared.config.rate_limit_window);
        for (id, limit) in &shared.config.operation_rate_limits {
            shared.rate_limits.set_operation(id, Some(*limit));
        }
        let (tx, rx) = watch::channel(false);
        let tasks = vec![
            serve::spawn(api_listener, api::router(shared.clone()), rx.clone()),
            serve::spawn(auth_listener, auth::router(shared.clone()), rx.clone()),
            serve::spawn(s3_listener, s3::router(shared.clone()), rx),
        ];
        Ok(FakeFanvue {
            shared,
            api_url: serve::url(api_addr),
            auth_url: serve::url(auth_addr),
            s3_url: serve::url(s3_addr),
            shutdown: tx,
            tasks,
        })
    }

    /// How long a used refresh token still works (default [`crate::DEFAULT_REFRESH_GRACE`], 30 s, the
    /// value reported for Fanvue). Refresh tokens are single-use and rotate: the first use issues a new
    /// pair; a reuse inside the grace answers **the same pair again** (an idempotent retry: nothing new is
    /// issued); a reuse after the grace revokes the whole chain (every refresh token of the grant and every
    /// access token issued from it) and answers `400 invalid_grant`. `Duration::ZERO`: no grace at all.
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.config.refresh_grace = grace;
        self
    }
}

/// The state a fake starts with (and goes back to on a reset): the seeded data, the configured
/// tokens, no faults, overrides, log or uploads.
pub(crate) fn initial_state(config: &Config) -> State {
    let mut media: HashMap<Option<Uuid>, Vec<MediaItem>> = HashMap::new();
    media.insert(None, config.media.clone());
    for c in &config.creators {
        media.insert(Some(c.user.uuid), Vec::new());
    }
    for (c, items) in &config.creator_media {
        media
            .entry(Some(*c))
            .or_default()
            .extend(items.iter().cloned());
    }
    let mut tokens = TokenStore {
        latest_refresh: config.refresh_token.clone(),
        latest_access: config.access_tokens[0].clone(),
        ..TokenStore::default()
    };
    tokens.refresh_valid.insert(config.refresh_token.clone());
    for t in &config.access_tokens {
        tokens.access.insert(
            t.clone(),
            AccessEntry {
                expires_at: None,
                revoked: false,
            },
        );
    }
    State {
        data: Data {
            user: config.user.clone(),
            media,
            chats: config.chats.clone(),
            tracking_links: config.tracking_links.clone(),
            earnings: config.earnings.clone(),
            creators: config.creators.clone(),
        },
        processing: HashMap::new(),
        uploads: HashMap::new(),
        tokens,
        faults: FaultBook::default(),
        log: Vec::new(),
        route_counts: HashMap::new(),
        url_seq: 1,
        expired_below_seq: 0,
        raw_objects: HashMap::new(),
        knobs: config.knobs.clone(),
        custom: HashMap::new(),
        overrides: Default::default(),
        conversations: Vec::new(),
        token_scopes: HashMap::new(),
        gateway_outage: None,
        resources: Default::default(),
    }
}

fn fill<T>(items: &mut Vec<T>, n: usize, make: impl Fn(usize) -> T) {
    let start = items.len();
    items.extend((start..start + n).map(make));
}

/// Parses the embedded document and compiles every validator, so no request pays for it. Both are
/// process-wide and built once: later fakes of the process find them ready.
async fn warm_up() {
    let compile = || {
        crate::schema::Validators::get();
    };
    // On a runtime, a blocking thread keeps the executor free; a panic there would be a broken build
    // of the embedded document (the crate's tests compile every schema), and is left to the first request.
    if tokio::task::spawn_blocking(compile).await.is_err() {
        tracing::warn!("compiling the document's validators failed");
    }
}
