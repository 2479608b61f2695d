//! [`RedisTokenStore`]: one OAuth grant shared by every process of a
//! deployment through Redis (feature `redis`).
//!
//! Each process builds its client with the same
//! [`OAuthCredentials`](super::OAuthCredentials) (the seed: used only while the
//! store is empty) and a `RedisTokenStore` under the same key. Then:
//!
//! - **One refresh at a time, across processes.** A refresh first takes the
//!   lock `{key}:lock` (`SET NX PX`: a lease of [`RedisTokenStore::with_lease`],
//!   default [`DEFAULT_LEASE`]) holding a fencing token from the counter
//!   `{key}:fence`. A process that waits for the lock reads the tokens the
//!   holder saved and uses them: one token request per expiry, whatever the
//!   number of processes. A holder that crashed blocks the others for at most
//!   the lease. The lock's value names the acquisition (`<fence>:<owner>`,
//!   a random owner id per attempt): when the answer to taking it is lost
//!   after the script ran, the same attempt asks again at once and gets its
//!   fence back instead of leaving the lock orphaned for the lease.
//! - **No token lost, none overwritten.** The tokens live in the hash
//!   `{key}:tokens` (the SHA-256 of the refresh token, the whole record as
//!   JSON, and the fence of its writer). A save is a compare-and-set in one
//!   Lua script: it is accepted only while the stored refresh token is still
//!   the one the holder exchanged (so a holder whose lease expired can still
//!   save the successor of the token it consumed, and nobody can overwrite a
//!   newer one: [`TokenStoreError::Superseded`]). A save that replaces nothing
//!   in particular ([`Fanvue::set_tokens`](crate::Fanvue::set_tokens)) is
//!   refused only when a holder with a newer fence wrote
//!   ([`TokenStoreError::LeaseLost`]). Refresh tokens are compared as
//!   hashes; they reach Redis in clear only inside the record stored. A fence
//!   counter lost in a restart without persistence is moved past the stored
//!   writer's fence on the next lock. Saves happen before the new access
//!   token is used.
//! - **Outages.** When Redis is down, a refresh fails with
//!   [`TokenStoreError::Unavailable`] (surfaced as
//!   [`AuthError::Store`](super::AuthError::Store)) before any token request,
//!   or, when it went down between the token request and the save, the new
//!   tokens stay in memory and are saved by the next attempt. Requests with a
//!   still-valid access token are not affected. The connection is re-made
//!   on the next use.
//!
//! Keys are wrapped in a hash tag (`{key}:...`), so all of one grant's keys
//! would share one slot, but the store talks to a single Redis server (or a
//! primary behind a failover address): Redis Cluster is not supported. Run
//! Redis with persistence (AOF) if a Redis restart must not forget the tokens.

use std::fmt;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret as _;

use super::store::{RefreshLease, StoredTokens, TokenRecord, TokenStore, TokenStoreError};

/// The default lease of the refresh lock (20 s): longer than a token request
/// and its at-once retry usually take (the default token timeout is 10 s),
/// and shorter than the refresh token's grace
/// ([`DEFAULT_REFRESH_GRACE`](super::DEFAULT_REFRESH_GRACE), 30 s), so a
/// process taking over from a holder that vanished mid-refresh spends the
/// same refresh token inside its grace (answered, not revoked).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(20);
/// How long a process waits for the refresh lock by default (the lease and a margin).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(25);
/// The timeout of one Redis command.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// Takes the lock with a new fencing token, or answers 0 when it is held.
/// KEYS: the lock, the fence counter, the tokens hash; ARGV: the lease in
/// ms, the owner id of this acquisition. The lock's value is
/// `<fence>:<owner>`: the same owner asking again (its first answer was lost
/// after the script ran) gets the fence it already holds instead of waiting
/// out its own lease. A counter that fell behind the fence of the stored
/// tokens' writer (lost in a Redis restart without persistence) is moved
/// past it.
const ACQUIRE: &str = r"
local held = redis.call('GET', KEYS[1])
if held then
  local fence, owner = string.match(held, '^(%d+):(.+)$')
  if fence and owner == ARGV[2] then return tonumber(fence) end
  return 0
end
local fence = redis.call('INCR', KEYS[2])
local writer = tonumber(redis.call('HGET', KEYS[3], 'fence') or '0')
if fence <= writer then
  fence = writer + 1
  redis.call('SET', KEYS[2], string.format('%d', fence))
end
redis.call('SET', KEYS[1], string.format('%d', fence) .. ':' .. ARGV[2], 'PX', ARGV[1])
return fence
";

/// Deletes the lock if this fence still holds it.
const RELEASE: &str = r"
local held = redis.call('GET', KEYS[1])
if held and string.match(held, '^(%d+)') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// How many times, at most, an `ACQUIRE` without an answer is asked again
/// at once (with the same owner id) before the error is returned.
const ACQUIRE_RETRIES: u32 = 3;

/// Compare-and-set of the tokens: 1 saved; [`SAVE_SUPERSEDED`]: the stored
/// refresh token is not the one replaced; [`SAVE_FENCED`]: an unconditional
/// save under an older fence than the stored tokens' writer.
/// KEYS[1] the tokens hash; ARGV: fence, record JSON, SHA-256 of the refresh
/// token, SHA-256 of the refresh token replaced ('' = any). Refresh tokens are
/// compared (and kept in the `refresh` field) as hashes: they never travel
/// as arguments of their own (only inside the record being stored).
/// A save that names the token it replaces needs no fence: the
/// compare-and-set alone proves nobody refreshed since.
const SAVE: &str = r"
local stored = redis.call('HGET', KEYS[1], 'refresh')
if ARGV[4] ~= '' then
  if stored and stored ~= ARGV[4] then return -1 end
else
  local writer = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
  if writer > tonumber(ARGV[1]) then return -2 end
end
local writer = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
local fence = math.max(writer, tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'refresh', ARGV[3], 'record', ARGV[2], 'fence', fence)
return 1
";

/// [`SAVE`]'s answer when the stored refresh token is not the one replaced.
const SAVE_SUPERSEDED: i64 = -1;
/// [`SAVE`]'s answer when a newer fence wrote (unconditional saves only).
const SAVE_FENCED: i64 = -2;

/// The SHA-256 (hex) of a refresh token, as compared and kept by [`SAVE`].
fn token_hash(token: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A [`TokenStore`] in Redis, shared by every process that uses the same key.
/// See the [module docs](self).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use fanvue_api_ext::auth::OAuthCredentials;
/// use fanvue_api_ext::auth::redis::RedisTokenStore;
///
/// let store = RedisTokenStore::open("redis://127.0.0.1:6379/", "fanvue:creator-42")?;
/// let fanvue = fanvue_api_ext::Fanvue::builder()
///     .oauth(OAuthCredentials::new("client-id", "secret", "seed-refresh-token"))
///     .token_store(store)
///     .build()?;
/// # let _ = fanvue; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisTokenStore {
    connection: ConnectionManager,
    tokens_key: String,
    lock_key: String,
    fence_key: String,
    lease: Duration,
    lock_wait: Duration,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("tokens_key", &self.tokens_key)
            .field("lease", &self.lease)
            .field("lock_wait", &self.lock_wait)
            .finish_non_exhaustive()
    }
}

fn unavailable(error: redis::RedisError) -> TokenStoreError {
    TokenStoreError::Unavailable(Box::new(error))
}

impl RedisTokenStore {
    /// A store at `url` (`redis://host:port/db`, `rediss://` for TLS) under
    /// `key` (one key per OAuth grant, e.g. per creator). Connects on first
    /// use (and again after a connection is lost).
    ///
    /// # Errors
    ///
    /// [`TokenStoreError::Unavailable`] when `url` is not a Redis URL.
    pub fn open(url: &str, key: &str) -> Result<Self, TokenStoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(DEFAULT_COMMAND_TIMEOUT))
            .set_response_timeout(Some(DEFAULT_COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(Self {
            connection,
            tokens_key: format!("{{{key}}}:tokens"),
            lock_key: format!("{{{key}}}:lock"),
            fence_key: format!("{{{key}}}:fence"),
            lease: DEFAULT_LEASE,
            lock_wait: DEFAULT_LOCK_WAIT,
        })
    }

    /// The lease of the refresh lock (default [`DEFAULT_LEASE`]): keep it
    /// longer than the token timeout
    /// ([`FanvueBuilder::token_timeout`](crate::FanvueBuilder::token_timeout))
    /// and shorter than the refresh grace
    /// ([`FanvueBuilder::refresh_grace`](crate::FanvueBuilder::refresh_grace);
    /// `build` refuses a lease that is not).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// How long to wait for a lock another process holds (default [`DEFAULT_LOCK_WAIT`])
    /// before failing with [`TokenStoreError::LockTimeout`].
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The fencing token of the process that wrote the stored tokens (0: none yet).
    ///
    /// # Errors
    ///
    /// [`TokenStoreError::Unavailable`] when Redis cannot be reached.
    pub async fn writer_fence(&self) -> Result<u64, TokenStoreError> {
        let mut connection = self.connection.clone();
        let fence: Option<u64> = connection
            .hget(&self.tokens_key, "fence")
            .await
            .map_err(unavailable)?;
        Ok(fence.unwrap_or(0))
    }
}

impl TokenStore for RedisTokenStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let record: Option<Vec<u8>> = connection
                .hget(&self.tokens_key, "record")
                .await
                .map_err(unavailable)?;
            record.map(|bytes| TokenRecord::parse(&bytes)).transpose()
        })
    }

    fn save<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        lease: &'a RefreshLease,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let record = TokenRecord::from_tokens(tokens).to_json();
            let saved: i64 = redis::Script::new(SAVE)
                .key(&self.tokens_key)
                .arg(lease.fence())
                .arg(record)
                .arg(token_hash(tokens.refresh_token.expose_secret()))
                .arg(
                    lease
                        .replaces()
                        .map(|t| token_hash(t.expose_secret()))
                        .unwrap_or_default(),
                )
                .invoke_async(&mut connection)
                .await
                .map_err(unavailable)?;
            match saved {
                1 => Ok(()),
                SAVE_SUPERSEDED => Err(TokenStoreError::Superseded),
                SAVE_FENCED => Err(TokenStoreError::LeaseLost),
                _ => Err(TokenStoreError::Corrupt {
                    reason: "unexpected answer of the save script",
                }),
            }
        })
    }

    fn acquire(&self) -> BoxFuture<'_, Result<RefreshLease, TokenStoreError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let started = Instant::now();
            let lease_ms = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
            let script = redis::Script::new(ACQUIRE);
            // one owner id for this acquisition, reused when an answer is lost
            let owner = format!("{:032x}", rand::random::<u128>());
            let mut lost_answers = 0u32;
            loop {
                let answer: Result<u64, _> = script
                    .key(&self.lock_key)
                    .key(&self.fence_key)
                    .key(&self.tokens_key)
                    .arg(lease_ms)
                    .arg(&owner)
                    .invoke_async(&mut connection)
                    .await;
                let fence = match answer {
                    Ok(fence) => fence,
                    // the script may have run and taken the lock for this
                    // owner: ask again at once rather than orphan it for the lease
                    Err(error)
                        if lost_answers < ACQUIRE_RETRIES && started.elapsed() < self.lock_wait =>
                    {
                        lost_answers = lost_answers.saturating_add(1);
                        tracing::debug!(%error, lost_answers, "no answer to taking the refresh lock; asking again");
                        tokio::time::sleep(Duration::from_millis(rand::random_range(20..=60)))
                            .await;
                        continue;
                    }
                    Err(error) => return Err(unavailable(error)),
                };
                if fence != 0 {
                    return Ok(RefreshLease::new(fence));
                }
                if started.elapsed() >= self.lock_wait {
                    return Err(TokenStoreError::LockTimeout {
                        after: started.elapsed(),
                    });
                }
                // Another process refreshes (a token request: tens to hundreds
                // of ms); poll the lock at a jittered 20-60 ms.
                tokio::time::sleep(Duration::from_millis(rand::random_range(20..=60))).await;
            }
        })
    }

    fn lease(&self) -> Option<Duration> {
        Some(self.lease)
    }

    fn release(&self, lease: RefreshLease) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let released: Result<i64, _> = redis::Script::new(RELEASE)
                .key(&self.lock_key)
                .arg(lease.fence())
                .invoke_async(&mut connection)
                .await;
            if let Err(error) = released {
                tracing::debug!(%error, "refresh lock not released (it expires with its lease)");
            }
        })
    }
}
