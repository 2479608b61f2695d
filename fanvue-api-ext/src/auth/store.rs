//! Where an OAuth session keeps its tokens: the [`TokenStore`] trait, the
//! in-memory default ([`MemoryTokenStore`]) and a file ([`FileTokenStore`]).
//!
//! A refresh runs against the store in this order, so a rotated refresh token
//! is never only in memory:
//!
//! 1. [`TokenStore::acquire`] a refresh lease (a no-op for a store used by one
//!    process; a lock with a lease and a fencing token for one shared by many,
//!    like the Redis store of the `redis` feature);
//! 2. [`TokenStore::load`] what is stored: when another process already
//!    refreshed (the stored tokens differ from the ones this process holds),
//!    its still-fresh access token is used and no token request is made;
//! 3. otherwise the token endpoint is called with the stored refresh token,
//!    and the new tokens are [`TokenStore::save`]d *before* the new access
//!    token is used for any request;
//! 4. the lease is [`TokenStore::release`]d.
//!
//! A failure of the store is surfaced to the caller
//! ([`AuthError::Store`](super::AuthError::Store)); new tokens whose save
//! failed are kept in memory (unused until saved) and saved again in the
//! background, at once and then with a growing backoff (a compare-and-set on
//! the refresh token they replace: no lease needed), and by
//! [`Fanvue::flush_tokens`](crate::Fanvue::flush_tokens) at shutdown, so an
//! outage of the store loses nothing.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::RefreshTokenCallback;

/// The tokens of one OAuth grant, as a [`TokenStore`] keeps them.
#[derive(Clone)]
#[non_exhaustive]
pub struct StoredTokens {
    /// The refresh token (the newest: each refresh may rotate it).
    pub refresh_token: SecretString,
    /// The current access token, if any.
    pub access_token: Option<SecretString>,
    /// When `access_token` expires (`None`: unknown).
    pub access_token_expires_at: Option<SystemTime>,
}

impl StoredTokens {
    /// A refresh token alone (the first request refreshes).
    pub fn new(refresh_token: impl Into<SecretString>) -> Self {
        Self {
            refresh_token: refresh_token.into(),
            access_token: None,
            access_token_expires_at: None,
        }
    }

    /// With a current access token, valid until `expires_at` (if known).
    pub fn with_access_token(
        mut self,
        access_token: impl Into<SecretString>,
        expires_at: Option<SystemTime>,
    ) -> Self {
        self.access_token = Some(access_token.into());
        self.access_token_expires_at = expires_at;
        self
    }

    /// Whether both hold the same tokens (compared as secrets, never printed).
    pub(crate) fn same_tokens(&self, other: &StoredTokens) -> bool {
        self.refresh_token.expose_secret() == other.refresh_token.expose_secret()
            && self.access_token.as_ref().map(ExposeSecret::expose_secret)
                == other.access_token.as_ref().map(ExposeSecret::expose_secret)
    }
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("refresh_token", &"[REDACTED]")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("access_token_expires_at", &self.access_token_expires_at)
            .finish()
    }
}

/// The right to refresh, held from [`TokenStore::acquire`] to
/// [`TokenStore::release`].
///
/// `fence` is a fencing token: a number the store increases with every lease
/// it grants, so a save by a holder whose lease has expired (and was granted
/// to someone else since) can be refused ([`TokenStoreError::LeaseLost`]).
/// Stores used by one process grant [`RefreshLease::local`] leases.
#[derive(Clone)]
pub struct RefreshLease {
    fence: u64,
    replaces: Option<SecretString>,
}

impl RefreshLease {
    /// A lease with fencing token `fence`, granted by a shared store.
    pub fn new(fence: u64) -> Self {
        Self {
            fence,
            replaces: None,
        }
    }

    /// The lease of a store used by one process (fence 0).
    pub fn local() -> Self {
        Self::new(0)
    }

    /// The fencing token.
    pub fn fence(&self) -> u64 {
        self.fence
    }

    /// The refresh token the holder exchanged (set before [`TokenStore::save`]):
    /// a shared store may accept a save after the lease expired as long as the
    /// stored refresh token is still this one (nobody else refreshed since).
    pub fn replaces(&self) -> Option<&SecretString> {
        self.replaces.as_ref()
    }

    pub(crate) fn set_replaces(&mut self, token: SecretString) {
        self.replaces = Some(token);
    }
}

impl fmt::Debug for RefreshLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshLease")
            .field("fence", &self.fence)
            .finish_non_exhaustive()
    }
}

/// Why a [`TokenStore`] operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenStoreError {
    /// Reading or writing the store failed (a file store's I/O).
    #[error("token store I/O failed: {0}")]
    Io(#[source] std::io::Error),
    /// What the store holds is not a token record.
    #[error("token store holds invalid data: {reason}")]
    Corrupt {
        /// What was wrong (never the data itself).
        reason: &'static str,
    },
    /// The store could not be reached (a Redis server down or unreachable).
    #[error("token store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The refresh lease expired and another holder took over before the save:
    /// the save was refused so a newer token is not overwritten.
    #[error("the refresh lease was lost to another holder; the save was refused")]
    LeaseLost,
    /// The stored refresh token is no longer the one the new tokens replace:
    /// another process saved tokens since (the save was refused so they are
    /// not overwritten; the stored ones are used).
    #[error("the stored tokens changed since the refresh; the save was refused")]
    Superseded,
    /// The refresh lock stayed held by another process for longer than the wait allowed.
    #[error("timed out after {} ms waiting for the refresh lock", after.as_millis())]
    LockTimeout {
        /// How long this process waited.
        after: Duration,
    },
}

/// Where an OAuth session keeps its tokens.
///
/// A refresh calls it in this order, so a rotated refresh token is never only
/// in memory: [`acquire`](Self::acquire) a refresh lease, [`load`](Self::load)
/// what is stored (another process may have refreshed already: its fresh
/// access token is used, no token request made), else call the token endpoint
/// and [`save`](Self::save) the new tokens *before* the new access token is
/// used, then [`release`](Self::release) the lease.
///
/// Implement it to keep tokens in your own database. `load` and `save` are
/// required; `acquire`/`release` default to a lease that excludes nothing
/// (right for a store used by one process: refreshes within a process are
/// already single-flight). A store shared by several processes must
/// implement them with a lock that has a lease (so a crashed holder cannot
/// block the others) and fence its saves with [`RefreshLease::fence`].
///
/// ```
/// use fanvue_api_ext::auth::{RefreshLease, StoredTokens, TokenStore, TokenStoreError};
/// use futures::future::BoxFuture;
/// use std::sync::Mutex;
///
/// #[derive(Default)]
/// struct MyStore(Mutex<Option<StoredTokens>>);
///
/// impl TokenStore for MyStore {
///     fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>> {
///         let tokens = self.0.lock().unwrap().clone();
///         Box::pin(async move { Ok(tokens) })
///     }
///     fn save<'a>(
///         &'a self,
///         tokens: &'a StoredTokens,
///         _lease: &'a RefreshLease,
///     ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
///         *self.0.lock().unwrap() = Some(tokens.clone());
///         Box::pin(async { Ok(()) })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + 'static {
    /// The stored tokens (`None`: nothing stored yet; the builder's credentials are used).
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>>;

    /// Stores `tokens` (just issued by the token endpoint) under `lease`.
    fn save<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        lease: &'a RefreshLease,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>>;

    /// Takes the right to refresh (waiting while another process holds it).
    fn acquire(&self) -> BoxFuture<'_, Result<RefreshLease, TokenStoreError>> {
        Box::pin(async { Ok(RefreshLease::local()) })
    }

    /// Gives the right to refresh back (errors are ignored: the lease expires).
    fn release(&self, lease: RefreshLease) -> BoxFuture<'_, ()> {
        drop(lease);
        Box::pin(async {})
    }

    /// How long a lease lasts when its holder vanishes, for a store shared by
    /// several processes (`None`, the default: a store of one process, whose
    /// leases exclude nothing). A process that takes over after the lease
    /// may spend the refresh token the vanished holder already sent, so
    /// [`FanvueBuilder::build`](crate::FanvueBuilder::build) requires it to be
    /// shorter than the [refresh grace](crate::FanvueBuilder::refresh_grace).
    fn lease(&self) -> Option<Duration> {
        None
    }
}

/// Keeps the tokens in memory (the default store): they live as long as the
/// client. Persist rotated refresh tokens with a [`FileTokenStore`], a store
/// of your own, or [`FanvueBuilder::on_refresh_token_rotated`](crate::FanvueBuilder::on_refresh_token_rotated).
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<StoredTokens>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>> {
        let tokens = self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Box::pin(async move { Ok(tokens) })
    }

    fn save<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        _lease: &'a RefreshLease,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        *self.tokens.lock().unwrap_or_else(|p| p.into_inner()) = Some(tokens.clone());
        Box::pin(async { Ok(()) })
    }
}

/// Keeps the tokens in a JSON file, for one process (a CLI, a single worker).
///
/// Each save writes a temporary file beside it (mode `0600` on Unix: only the
/// owner can read it), syncs it and renames it over the file, so a crash
/// leaves the old tokens or the new ones, never half of each. A missing file
/// loads as nothing stored.
///
/// ```no_run
/// # fn run() -> Result<(), fanvue_api_ext::Error> {
/// use fanvue_api_ext::auth::{FileTokenStore, OAuthCredentials};
///
/// let fanvue = fanvue_api_ext::Fanvue::builder()
///     .oauth(OAuthCredentials::new("client-id", "secret", "first-refresh-token"))
///     .token_store(FileTokenStore::new("/var/lib/my-app/fanvue-tokens.json"))
///     .build()?;
/// # let _ = fanvue; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    /// A store at `path` (created on the first save; its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The file format of [`FileTokenStore`] (and the Redis store's value).
#[derive(Serialize, Deserialize)]
pub(crate) struct TokenRecord {
    pub(crate) refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) access_token: Option<String>,
    /// Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) access_token_expires_at_ms: Option<u64>,
}

impl TokenRecord {
    pub(crate) fn from_tokens(tokens: &StoredTokens) -> Self {
        Self {
            refresh_token: tokens.refresh_token.expose_secret().to_owned(),
            access_token: tokens
                .access_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            access_token_expires_at_ms: tokens.access_token_expires_at.map(|at| {
                at.duration_since(UNIX_EPOCH)
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                    .unwrap_or(0)
            }),
        }
    }

    pub(crate) fn into_tokens(self) -> Result<StoredTokens, TokenStoreError> {
        if self.refresh_token.is_empty() {
            return Err(TokenStoreError::Corrupt {
                reason: "empty refresh token",
            });
        }
        Ok(StoredTokens {
            refresh_token: SecretString::from(self.refresh_token),
            access_token: self
                .access_token
                .filter(|t| !t.is_empty())
                .map(SecretString::from),
            access_token_expires_at: self
                .access_token_expires_at_ms
                .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms))),
        })
    }

    pub(crate) fn parse(bytes: &[u8]) -> Result<StoredTokens, TokenStoreError> {
        serde_json::from_slice::<TokenRecord>(bytes)
            .map_err(|_| TokenStoreError::Corrupt {
                reason: "not a JSON token record",
            })?
            .into_tokens()
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>> {
        Box::pin(async move {
            match tokio::fs::read(&self.path).await {
                Ok(bytes) => TokenRecord::parse(&bytes).map(Some),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(TokenStoreError::Io(error)),
            }
        })
    }

    fn save<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        _lease: &'a RefreshLease,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        let json = TokenRecord::from_tokens(tokens).to_json();
        let path = self.path.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || write_atomically(&path, &json))
                .await
                .map_err(|e| TokenStoreError::Io(std::io::Error::other(e)))?
                .map_err(TokenStoreError::Io)
        })
    }
}

/// Writes `bytes` to a new `0600` file beside `path`, syncs it and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        // the rename itself survives a crash once the directory is synced
        if let Ok(dir) = std::fs::File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A store that calls the rotated-token callback after each save that changed
/// the refresh token ([`FanvueBuilder::on_refresh_token_rotated`](crate::FanvueBuilder::on_refresh_token_rotated)).
pub(crate) struct CallbackStore {
    pub(crate) inner: Arc<dyn TokenStore>,
    pub(crate) callback: RefreshTokenCallback,
}

impl TokenStore for CallbackStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>> {
        self.inner.load()
    }

    fn save<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        lease: &'a RefreshLease,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        Box::pin(async move {
            self.inner.save(tokens, lease).await?;
            let rotated = lease
                .replaces()
                .is_none_or(|old| old.expose_secret() != tokens.refresh_token.expose_secret());
            if rotated {
                (self.callback)(tokens.refresh_token.clone());
            }
            Ok(())
        })
    }

    fn acquire(&self) -> BoxFuture<'_, Result<RefreshLease, TokenStoreError>> {
        self.inner.acquire()
    }

    fn release(&self, lease: RefreshLease) -> BoxFuture<'_, ()> {
        self.inner.release(lease)
    }

    fn lease(&self) -> Option<Duration> {
        self.inner.lease()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_store_round_trip_is_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("tokens.json"));
        assert!(store.load().await.unwrap().is_none());
        let expires = UNIX_EPOCH + Duration::from_millis(1_900_000_000_123);
        let tokens = StoredTokens::new("rt-1").with_access_token("at-1", Some(expires));
        store.save(&tokens, &RefreshLease::local()).await.unwrap();
        let loaded = store.load().await.unwrap().unwrap();
        assert!(loaded.same_tokens(&tokens));
        assert_eq!(loaded.access_token_expires_at, Some(expires));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // a second save replaces the file; no temporary file is left behind
        store
            .save(&StoredTokens::new("rt-2"), &RefreshLease::local())
            .await
            .unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["tokens.json"]);
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!(loaded.refresh_token.expose_secret(), "rt-2");
        assert!(loaded.access_token.is_none());
        // garbage is a typed error, not a panic, and never echoed
        std::fs::write(store.path(), b"rt-secret-garbage").unwrap();
        let err = store.load().await.unwrap_err();
        assert!(matches!(err, TokenStoreError::Corrupt { .. }));
        assert!(!err.to_string().contains("rt-secret"));
    }

    #[test]
    fn debug_redacts() {
        let tokens = StoredTokens::new("rt-secret").with_access_token("at-secret", None);
        let debug = format!("{tokens:?}");
        assert!(!debug.contains("secret"), "{debug}");
    }
}
