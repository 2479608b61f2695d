//! [`FakeFanvueBuilder`] (options) and [`FakeFanvue`] (the running fake: URLs, tokens, faults, inspection).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::config::{Config, DEFAULT_API_VERSION, Knobs, S3_MIN_PART_SIZE, StorageMode};
use crate::error::FakeError;
use crate::faults::{ApiRoute, Fault, FaultBook, FaultTarget, TokenFault};
use crate::log::{Listener, RecordedRequest};
use crate::model::{
    Chat, Creator, CurrentUser, Earning, MediaItem, MediaStatus, MediaType, TrackingLink, UserRef,
};
use crate::state::{
    AccessEntry, CustomRoute, Data, ListStyle, RawObject, SentMessage, Shared, State, TokenStore,
    UploadSession,
};
use crate::webhooks::{WebhookAttempt, WebhookDeliveryError, WebhookEndpoint, WebhookEvent};
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
    rate_limit_window: Option<(u64, Duration)>,
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
                scope: "openid offline_access offline read:self read:media write:media read:chat \
                        write:chat read:insights read:tracking_links write:tracking_links \
                        read:creator write:creator"
                    .into(),
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
                api_port: 0,
                list_size: 40,
                knobs: Knobs {
                    processing_polls: 2,
                    ..Knobs::default()
                },
            },
            media_count: None,
            chat_count: None,
            link_count: None,
            earning_count: None,
            creator_count: None,
            rate_limit_window: None,
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

    /// Limits the API to `limit` requests per `window` (whole seconds, at least 1 s, aligned to Unix
    /// time), with `X-RateLimit-Limit/Remaining/Reset` on every API response and 429 beyond the limit.
    pub fn rate_limit_window(mut self, limit: u64, window: Duration) -> Self {
        self.rate_limit_window = Some((limit, window));
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

    /// The `scope` string returned by the token endpoint.
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

    /// Port of the API listener on `127.0.0.1` (default 0: any free port).
    pub fn api_port(mut self, port: u16) -> Self {
        self.config.api_port = port;
        self
    }

    /// Seed of the answers synthesized from the document (default 0): the same seed, path and query
    /// always give the same answer.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Items in each list collection synthesized from the document (default 40), paginated by
    /// `page`/`size` or `cursor`.
    pub fn list_size(mut self, n: usize) -> Self {
        self.config.list_size = n;
        self
    }

    /// Binds the three listeners on `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> Result<FakeFanvue, FakeError> {
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

        let (api_listener, api_addr) = serve::bind(config.api_port).await?;
        let (auth_listener, auth_addr) = serve::bind(0).await?;
        let (s3_listener, s3_addr) = serve::bind(0).await?;

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
        let state = State {
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
            overrides: HashMap::new(),
            conversations: Vec::new(),
        };
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            signing_key: Uuid::new_v4().simple().to_string(),
            s3_in_flight: Default::default(),
            s3_max_in_flight: Default::default(),
            s3_saw_authorization: Default::default(),
            request_ids: Default::default(),
            s3_saw_fanvue_header: Default::default(),
            s3_base: format!("http://{s3_addr}"),
            rate_window: Default::default(),
            events: watch::channel(0).0,
            webhooks: Default::default(),
        });
        shared.webhooks.set(self.webhook_endpoint.clone());
        shared.rate_window.set(self.rate_limit_window);
        let (tx, rx) = watch::channel(false);
        let tasks = vec![
            serve::spawn(api_listener, api::router(shared.clone()), rx.clone()),
            serve::spawn(auth_listener, auth::router(shared.clone()), rx.clone()),
            serve::spawn(s3_listener, s3::router(shared.clone()), rx),
        ];
        Ok(FakeFanvue {
            shared,
            api_url: format!("http://{api_addr}"),
            auth_url: format!("http://{auth_addr}"),
            s3_url: format!("http://{s3_addr}"),
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

fn fill<T>(items: &mut Vec<T>, n: usize, make: impl Fn(usize) -> T) {
    let start = items.len();
    items.extend((start..start + n).map(make));
}

/// The assembled object of a completed upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledObject {
    /// Total size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the whole object; `None` in [`StorageMode::HashOnly`] and [`StorageMode::Md5Only`].
    pub sha256: Option<String>,
    /// Hex SHA-256 of each part, in part order.
    pub part_sha256: Vec<String>,
}

/// A snapshot of one upload session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// The `uploadId`.
    pub upload_id: String,
    /// The media created for it.
    pub media_uuid: Uuid,
    /// The creator it was created for (agency endpoints), or `None` for the authenticated user.
    pub creator: Option<Uuid>,
    /// `name` of the create request.
    pub name: String,
    /// `filename` of the create request.
    pub filename: String,
    /// `mediaType` of the create request.
    pub media_type: MediaType,
    /// Part PUTs received per part number (every attempt that passed the signature check, faults included).
    pub part_attempts: BTreeMap<u32, u32>,
    /// Part PUTs stored per part number.
    pub part_successes: BTreeMap<u32, u32>,
    /// Presigned URLs handed out per part number.
    pub urls_issued: BTreeMap<u32, u32>,
    /// Size of the currently stored bytes of each part.
    pub stored_parts: BTreeMap<u32, u64>,
    /// The assembled object, once completed.
    pub assembled: Option<AssembledObject>,
}

impl UploadInfo {
    fn from_session(u: &UploadSession) -> Self {
        UploadInfo {
            upload_id: u.upload_id.clone(),
            media_uuid: u.media_uuid,
            creator: u.creator,
            name: u.name.clone(),
            filename: u.filename.clone(),
            media_type: u.media_type,
            part_attempts: u.attempts.clone(),
            part_successes: u.successes.clone(),
            urls_issued: u.urls_issued.clone(),
            stored_parts: u.parts.iter().map(|(k, p)| (*k, p.size)).collect(),
            assembled: u.assembled.as_ref().map(|a| AssembledObject {
                size: a.size,
                sha256: a.sha256.clone(),
                part_sha256: a.part_sha256.clone(),
            }),
        }
    }
}

/// The running fake. Dropping it stops the listeners.
pub struct FakeFanvue {
    shared: Arc<Shared>,
    api_url: String,
    auth_url: String,
    s3_url: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for FakeFanvue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFanvue")
            .field("api_url", &self.api_url)
            .field("auth_url", &self.auth_url)
            .field("s3_url", &self.s3_url)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeFanvue {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FakeFanvue {
    /// Starts building a fake.
    pub fn builder() -> FakeFanvueBuilder {
        FakeFanvueBuilder::default()
    }

    /// Starts a fake with default options.
    pub async fn start() -> Result<FakeFanvue, FakeError> {
        FakeFanvueBuilder::default().start().await
    }

    // ---- URLs and credentials ----

    /// Base URL of the API, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Base URL of the OAuth server (its own port): `POST {auth_url}/oauth2/token`, `GET {auth_url}/oauth2/auth`.
    pub fn auth_url(&self) -> &str {
        &self.auth_url
    }

    /// `{auth_url}/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.auth_url)
    }

    /// Base URL of the fake S3 (a different port from the API).
    pub fn s3_url(&self) -> &str {
        &self.s3_url
    }

    /// URL of the raw single-PUT endpoint for `key` (no signature needed).
    pub fn raw_put_url(&self, key: &str) -> String {
        format!("{}/{}/raw/{key}", self.s3_url, crate::BUCKET)
    }

    /// The primary static access token (never expires unless expired on demand).
    pub fn access_token(&self) -> String {
        self.shared.config.access_tokens[0].clone()
    }

    /// The most recently issued access token (the static one until a token request succeeds).
    pub fn latest_access_token(&self) -> String {
        self.shared.lock().tokens.latest_access.clone()
    }

    /// The current valid refresh token (the initial one until rotated).
    pub fn refresh_token(&self) -> String {
        self.shared.lock().tokens.latest_refresh.clone()
    }

    /// OAuth client id.
    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    /// OAuth client secret.
    pub fn client_secret(&self) -> &str {
        &self.shared.config.client_secret
    }

    /// The API version accepted by default.
    pub fn api_version(&self) -> &'static str {
        DEFAULT_API_VERSION
    }

    /// Successful `grant_type=refresh_token` exchanges so far.
    pub fn token_refresh_count(&self) -> u64 {
        self.shared.lock().tokens.refresh_count
    }

    /// Successful `grant_type=authorization_code` exchanges so far.
    pub fn code_exchange_count(&self) -> u64 {
        self.shared.lock().tokens.code_exchange_count
    }

    /// Makes the API reject `token` with 401 from now on.
    pub fn expire_access_token(&self, token: &str) {
        if let Some(e) = self.shared.lock().tokens.access.get_mut(token) {
            e.revoked = true;
        }
    }

    /// Makes the API reject every access token issued so far (static ones included) with 401, so the next
    /// request needs a token refresh. Tokens issued afterwards work.
    pub fn expire_all_access_tokens(&self) {
        for e in self.shared.lock().tokens.access.values_mut() {
            e.revoked = true;
        }
    }

    /// Registers an authorization code for a PKCE S256 `code_challenge` and `redirect_uri`; the code can be
    /// exchanged once at the token endpoint. (`GET /oauth2/auth` does the same and redirects with it.)
    pub fn register_authorization_code(&self, code_challenge: &str, redirect_uri: &str) -> String {
        auth::register_code(&self.shared, code_challenge, redirect_uri)
    }

    // ---- rate limit ----

    /// Sets (or with `None` removes) the API rate limit of [`FakeFanvueBuilder::rate_limit_window`].
    pub fn set_rate_limit_window(&self, limit_window: Option<(u64, Duration)>) {
        self.shared.rate_window.set(limit_window);
    }

    /// API requests refused with 429 by the rate limit window (not counting injected faults).
    pub fn rate_limited_count(&self) -> u64 {
        self.shared.rate_window.rejected()
    }

    /// API requests the rate limit window admitted.
    pub fn rate_admitted_count(&self) -> u64 {
        self.shared.rate_window.admitted()
    }

    // ---- faults ----

    /// Registers `fault` for the next `times` requests matching `target` (faults apply in registration order).
    pub fn inject(&self, target: FaultTarget, fault: Fault, times: u32) {
        self.shared.lock().faults.add(target, fault, 0, times);
    }

    /// The next `times` requests of `route` answer `status` with `{error}` without doing the work.
    pub fn fail_route(&self, route: ApiRoute, status: u16, times: u32) {
        self.inject(FaultTarget::Api(route), Fault::Status(status), times);
    }

    /// The next `times` requests of `route` answer 429 with `Retry-After: retry_after_secs` and
    /// `X-RateLimit-*` headers.
    pub fn rate_limit(&self, route: ApiRoute, retry_after_secs: u64, times: u32) {
        self.inject(
            FaultTarget::Api(route),
            Fault::RateLimited { retry_after_secs },
            times,
        );
    }

    /// The next `times` requests of `route` get their connection reset without a response.
    pub fn reset_route(&self, route: ApiRoute, times: u32) {
        self.inject(FaultTarget::Api(route), Fault::Reset, times);
    }

    /// The next `times` requests of `route` wait `delay` before being handled.
    pub fn delay_route(&self, route: ApiRoute, delay: Duration, times: u32) {
        self.inject(FaultTarget::Api(route), Fault::Delay(delay), times);
    }

    /// The next `times` PUTs of part `part` (any upload) answer `status` (S3 XML error).
    pub fn fail_part(&self, part: u32, status: u16, times: u32) {
        self.inject(
            FaultTarget::S3Part(Some(part)),
            Fault::Status(status),
            times,
        );
    }

    /// The next `times` PUTs of part `part` are cut mid-body (connection reset).
    pub fn reset_part(&self, part: u32, times: u32) {
        self.inject(FaultTarget::S3Part(Some(part)), Fault::Reset, times);
    }

    /// The next `times` PUTs of part `part` are stored but answer an `ETag` that is not the MD5.
    pub fn wrong_etag(&self, part: u32, times: u32) {
        self.inject(FaultTarget::S3Part(Some(part)), Fault::WrongEtag, times);
    }

    /// The next presigned URL handed out for part `part` is already expired (S3 answers 403
    /// `AccessDenied` / `Request has expired`); the URL after it works.
    pub fn expire_first_url_for_part(&self, part: u32) {
        self.inject(FaultTarget::PartUrlFor(Some(part)), Fault::ExpiredUrl, 1);
    }

    /// Expires every presigned URL handed out so far (on demand); new URLs work.
    pub fn expire_all_part_urls(&self) {
        let mut st = self.shared.lock();
        st.expired_below_seq = st.url_seq;
    }

    /// Like [`Self::inject`], but lets the first `skip` matching requests through untouched (e.g. fail the
    /// second page of a list).
    pub fn inject_after(&self, target: FaultTarget, skip: u32, fault: Fault, times: u32) {
        self.shared.lock().faults.add(target, fault, skip, times);
    }

    /// Removes all pending faults.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// How many fault hits are still pending.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.pending()
    }

    // ---- knobs ----

    /// Sets the simulated latency of every listener.
    pub fn set_latency(&self, latency: Duration) {
        let mut st = self.shared.lock();
        st.knobs.api_latency = latency;
        st.knobs.s3_latency = latency;
    }

    /// Sets the S3 per-connection bandwidth cap (bytes per second), or removes it.
    pub fn set_s3_bandwidth(&self, bytes_per_sec: Option<u64>) {
        self.shared.lock().knobs.s3_bandwidth = bytes_per_sec;
    }

    /// Sets how many polls answer `processing` before the media is ready (for uploads completed later too).
    pub fn set_processing_polls(&self, polls: u32) {
        self.shared.lock().knobs.processing_polls = polls;
    }

    /// Makes processing end in `error` (true) or `ready` (false).
    pub fn set_processing_fails(&self, fails: bool) {
        self.shared.lock().knobs.processing_fails = fails;
    }

    // ---- request log ----

    /// Every request received so far, all listeners, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// Requests received by one listener.
    pub fn requests_to(&self, listener: Listener) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.listener == listener)
            .cloned()
            .collect()
    }

    /// Requests received by the API listener.
    pub fn api_requests(&self) -> Vec<RecordedRequest> {
        self.requests_to(Listener::Api)
    }

    /// Requests received by S3.
    pub fn s3_requests(&self) -> Vec<RecordedRequest> {
        self.requests_to(Listener::S3)
    }

    /// Requests received by the OAuth server.
    pub fn auth_requests(&self) -> Vec<RecordedRequest> {
        self.requests_to(Listener::Auth)
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }

    /// Requests that reached `route` so far (faulted ones included; rejected versions/tokens included).
    pub fn request_count(&self, route: ApiRoute) -> u64 {
        self.shared
            .lock()
            .route_counts
            .get(&route)
            .copied()
            .unwrap_or(0)
    }

    /// Whether S3 ever received an `Authorization` header (tracked even when the log is off or cleared).
    pub fn s3_saw_authorization(&self) -> bool {
        self.shared.s3_saw_authorization.load(Ordering::SeqCst)
    }

    /// Whether S3 ever received an `X-Fanvue-*` header (tracked even when the log is off or cleared).
    pub fn s3_saw_fanvue_header(&self) -> bool {
        self.shared.s3_saw_fanvue_header.load(Ordering::SeqCst)
    }

    /// Whether any request to S3 or the OAuth server carried one of the access tokens the fake knows
    /// (anywhere in its headers or query).
    pub fn token_leaked_outside_api(&self) -> bool {
        let st = self.shared.lock();
        let tokens: HashSet<&String> = st.tokens.access.keys().collect();
        st.log
            .iter()
            .filter(|r| r.listener != Listener::Api)
            .any(|r| {
                r.headers.values().any(|v| {
                    v.to_str()
                        .is_ok_and(|s| tokens.iter().any(|t| s.contains(t.as_str())))
                }) || r
                    .query
                    .as_ref()
                    .is_some_and(|q| tokens.iter().any(|t| q.contains(t.as_str())))
            })
    }

    // ---- uploads and S3 ----

    /// Snapshots of every upload session.
    pub fn uploads(&self) -> Vec<UploadInfo> {
        self.shared
            .lock()
            .uploads
            .values()
            .map(UploadInfo::from_session)
            .collect()
    }

    /// The upload session that created `media_uuid`.
    pub fn upload_for_media(&self, media_uuid: Uuid) -> Option<UploadInfo> {
        self.shared
            .lock()
            .uploads
            .values()
            .find(|u| u.media_uuid == media_uuid)
            .map(UploadInfo::from_session)
    }

    /// The upload session `upload_id`.
    pub fn upload(&self, upload_id: &str) -> Option<UploadInfo> {
        self.shared
            .lock()
            .uploads
            .get(upload_id)
            .map(UploadInfo::from_session)
    }

    /// The assembled object of the completed upload of `media_uuid`.
    pub fn assembled(&self, media_uuid: Uuid) -> Option<AssembledObject> {
        self.upload_for_media(media_uuid).and_then(|u| u.assembled)
    }

    /// Hex SHA-256 of the assembled object ([`StorageMode::KeepBytes`] only).
    pub fn assembled_sha256(&self, media_uuid: Uuid) -> Option<String> {
        self.assembled(media_uuid).and_then(|a| a.sha256)
    }

    /// Size of the assembled object.
    pub fn assembled_size(&self, media_uuid: Uuid) -> Option<u64> {
        self.assembled(media_uuid).map(|a| a.size)
    }

    /// The assembled object's bytes ([`StorageMode::KeepBytes`] only; copies them).
    pub fn assembled_bytes(&self, media_uuid: Uuid) -> Option<Vec<u8>> {
        let st = self.shared.lock();
        let u = st.uploads.values().find(|u| u.media_uuid == media_uuid)?;
        let parts = u.assembled.as_ref()?.bytes.as_ref()?;
        Some(parts.iter().flat_map(|b| b.iter().copied()).collect())
    }

    /// Part PUT attempts per part number for the upload of `media_uuid` (empty if unknown).
    pub fn part_put_counts(&self, media_uuid: Uuid) -> BTreeMap<u32, u32> {
        self.upload_for_media(media_uuid)
            .map(|u| u.part_attempts)
            .unwrap_or_default()
    }

    /// Most part PUTs observed in flight at once (all uploads) since start or the last reset.
    pub fn max_concurrent_part_puts(&self) -> usize {
        self.shared.s3_max_in_flight.load(Ordering::SeqCst)
    }

    /// Part PUTs in flight right now.
    pub fn part_puts_in_flight(&self) -> usize {
        self.shared.s3_in_flight.load(Ordering::SeqCst)
    }

    /// Resets the in-flight maximum to the current number in flight.
    pub fn reset_max_concurrent_part_puts(&self) {
        let now = self.shared.s3_in_flight.load(Ordering::SeqCst);
        self.shared.s3_max_in_flight.store(now, Ordering::SeqCst);
    }

    /// The object stored by the raw single-PUT endpoint under `key`.
    pub fn raw_object(&self, key: &str) -> Option<RawObject> {
        self.shared.lock().raw_objects.get(key).cloned()
    }

    // ---- waiting ----

    /// Resolves once `condition` holds, re-checking it whenever the fake handles something (a request
    /// arrives or finishes, a part PUT starts or ends). No polling interval, no sleeps; wrap it in
    /// `tokio::time::timeout` to bound the wait.
    pub async fn wait_until(&self, mut condition: impl FnMut(&FakeFanvue) -> bool) {
        let mut events = self.shared.events.subscribe();
        loop {
            if condition(self) {
                return;
            }
            if events.changed().await.is_err() {
                return;
            }
        }
    }

    // ---- data ----

    // ---- webhooks ----

    /// Sets (or, with `None`, removes) the endpoint webhooks are delivered to.
    pub fn set_webhook_endpoint(&self, endpoint: Option<WebhookEndpoint>) {
        self.shared.webhooks.set(endpoint);
    }

    /// Delivers `event` to the webhook endpoint, signed, retrying a non-2xx answer or a failed connection
    /// as the endpoint says (same body, same envelope `id`, fresh signature). Resolves with the attempt the
    /// receiver answered 2xx to, after the receiver answered.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use fanvue_fake::{FakeFanvue, WebhookEndpoint, WebhookEvent};
    /// let fake = FakeFanvue::builder()
    ///     .webhook_endpoint(WebhookEndpoint::new("http://127.0.0.1:3000/webhooks", "whsec-test"))
    ///     .start()
    ///     .await?;
    /// let paid = WebhookEvent::enveloped("payout.paid", serde_json::json!({"object": "payout", "amount": 1500}));
    /// fake.deliver_webhook(&paid).await?;
    /// assert!(fake.webhook_attempts().iter().all(|a| a.event_id == paid.id()));
    /// # Ok(()) }
    /// ```
    pub async fn deliver_webhook(
        &self,
        event: &WebhookEvent,
    ) -> Result<WebhookAttempt, WebhookDeliveryError> {
        let shared = self.shared.clone();
        self.shared
            .webhooks
            .deliver(event, move || shared.bump())
            .await
    }

    /// Every delivery attempt so far, in order.
    pub fn webhook_attempts(&self) -> Vec<WebhookAttempt> {
        self.shared.webhooks.attempts()
    }

    /// A fan writes `text` to the authenticated creator: the fake delivers Message Received
    /// (`message.received`, flat payload) for it and resolves once the receiver answered 2xx. The sender is
    /// the fan of the fake's chat with that user when there is one.
    pub async fn fan_sends_message(
        &self,
        fan: Uuid,
        text: &str,
    ) -> Result<WebhookAttempt, WebhookDeliveryError> {
        let (sender, recipient) = {
            let st = self.shared.lock();
            let sender = st
                .data
                .chats
                .iter()
                .find(|c| c.user.user.uuid == fan)
                .map(|c| c.user.user.clone())
                .unwrap_or_else(|| UserRef {
                    uuid: fan,
                    handle: format!("fan-{}", &fan.simple().to_string()[..8]),
                    display_name: "A fan".into(),
                    nickname: None,
                    is_top_spender: false,
                });
            (sender, st.data.user.uuid)
        };
        let payload = crate::webhooks::message_received(&sender, recipient, Uuid::new_v4(), text);
        self.deliver_webhook(&WebhookEvent::flat("message.received", payload))
            .await
    }

    /// The messages the API accepted for `fan` (`send-message` and `send-creator-message`), in order.
    pub fn messages_sent_to(&self, fan: Uuid) -> Vec<SentMessage> {
        self.shared
            .lock()
            .conversations
            .iter()
            .filter(|m| m.fan == fan)
            .cloned()
            .collect()
    }

    /// Serves `GET {path}` (exact path, any query) as a list of `items`, behind the same version, token and
    /// fault checks as the built-in routes. For list operations the fake has no built-in route for.
    pub fn seed_list(&self, path: &str, style: ListStyle, items: Vec<serde_json::Value>) {
        self.shared.lock().custom.insert(
            (http::Method::GET, path.to_string()),
            CustomRoute::List { style, items },
        );
    }

    /// Replaces the answer of one operation (by `operationId`, e.g. `"get-current-user"`) for every
    /// later request, stateful or synthesized; the version, token and validation checks still apply.
    pub fn override_operation(&self, operation_id: &str, answer: crate::Override) {
        self.shared
            .lock()
            .overrides
            .insert(operation_id.to_string(), answer);
    }

    /// Removes the override of one operation.
    pub fn clear_override(&self, operation_id: &str) {
        self.shared.lock().overrides.remove(operation_id);
    }

    /// Answers `method path` (exact path, any query) with `status` and the JSON `body`, behind the same
    /// version, token and fault checks as the built-in routes. Built-in routes take precedence.
    pub fn stub(&self, method: http::Method, path: &str, status: u16, body: serde_json::Value) {
        self.shared.lock().custom.insert(
            (method, path.to_string()),
            CustomRoute::Stub { status, body },
        );
    }

    /// Current status of a media item (of the user or any creator).
    pub fn media_status(&self, media_uuid: Uuid) -> Option<MediaStatus> {
        self.shared
            .lock()
            .data
            .media
            .values()
            .flatten()
            .find(|m| m.uuid == media_uuid)
            .map(|m| m.status)
    }

    /// Appends a media item to the library of the user (`None`) or of an agency creator.
    pub fn add_media(&self, owner: Option<Uuid>, item: MediaItem) {
        self.shared
            .lock()
            .data
            .media
            .entry(owner)
            .or_default()
            .push(item);
    }

    /// The seeded user.
    pub fn current_user(&self) -> CurrentUser {
        self.shared.lock().data.user.clone()
    }

    /// The authenticated user's chats (each with its fan, `chat.user.user.uuid`), in list order.
    pub fn chats(&self) -> Vec<crate::model::Chat> {
        self.shared.lock().data.chats.clone()
    }

    /// The agency creators.
    pub fn creators(&self) -> Vec<Creator> {
        self.shared.lock().data.creators.clone()
    }

    /// The user's media library (all statuses), in list order.
    pub fn media(&self) -> Vec<MediaItem> {
        self.shared
            .lock()
            .data
            .media
            .get(&None)
            .cloned()
            .unwrap_or_default()
    }
    /// Makes the next `times` refresh-token requests consume their token (the new pair is issued, the
    /// grace starts) and then fail as `fault` says: stall (for a while or forever) or drop the connection.
    pub fn inject_token_fault(&self, fault: TokenFault, times: u32) {
        let mut st = self.shared.lock();
        for _ in 0..times {
            st.tokens.consume_faults.push_back(fault);
        }
    }

    /// Drops the token faults not yet applied ([`FakeFanvue::inject_token_fault`]).
    pub fn clear_token_faults(&self) {
        self.shared.lock().tokens.consume_faults.clear();
    }

    /// Whether a refresh token was reused after its grace, revoking its chain.
    pub fn chain_revoked(&self) -> bool {
        !self.shared.lock().tokens.revoked_chains.is_empty()
    }

    /// `grant_type=refresh_token` requests the token endpoint handled (any outcome, faulted ones included).
    pub fn token_requests(&self) -> u64 {
        self.shared.lock().tokens.token_requests
    }

    /// Reuses of a used refresh token answered inside its grace (with the pair its first use issued).
    pub fn grace_reuses(&self) -> u64 {
        self.shared.lock().tokens.grace_reuses
    }
}
