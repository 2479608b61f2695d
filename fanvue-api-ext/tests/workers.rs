//! Auth hardening and client-side controls against the fake: one refresh
//! failure shared by every waiter, backoff, `invalid_grant` final until new
//! tokens, the token store (saved before use, errors surfaced, nothing lost),
//! empty tokens refused, the rate limiter, the per-call timeout and the
//! scopes of a 403.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fanvue_api_ext::auth::{
    AuthError, FileTokenStore, OAuthCredentials, RefreshLease, StoredTokens, TokenStore,
    TokenStoreError,
};
use fanvue_api_ext::error::BuildError;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, FanvueBuilder, RateLimitMode, RetryPolicy};
use fanvue_fake::{ApiRoute, FakeFanvue, Fault, FaultTarget};
use futures::future::BoxFuture;
use secrecy::ExposeSecret;

fn oauth_builder(fake: &FakeFanvue, refresh_token: &str) -> FanvueBuilder {
    Fanvue::builder()
        .base_url(fake.api_url())
        .token_url(fake.token_url())
        .allow_insecure_http(true)
        .oauth(OAuthCredentials::new(
            fake.client_id(),
            fake.client_secret().to_string(),
            refresh_token.to_string(),
        ))
}

#[tokio::test]
async fn a_failed_refresh_is_shared_by_all_50_waiters_then_backs_off() {
    let fake = FakeFanvue::start().await.unwrap();
    // the token endpoint hangs past the token timeout
    fake.inject(
        FaultTarget::Api(ApiRoute::Token),
        Fault::Delay(Duration::from_secs(5)),
        100,
    );
    let token_timeout = Duration::from_millis(700);
    let fanvue = oauth_builder(&fake, &fake.refresh_token())
        .token_timeout(token_timeout)
        .build()
        .unwrap();
    let started = Instant::now();
    let calls = (0..50).map(|_| {
        let fanvue = fanvue.clone();
        async move { fanvue.api().get_current_user().send().await }
    });
    let results = futures::future::join_all(calls).await;
    let elapsed = started.elapsed();
    for result in &results {
        assert!(
            matches!(result, Err(Error::Auth(AuthError::Timeout { .. }))),
            "{result:?}"
        );
    }
    // one token request for 50 calls, and its at-once retry with the same
    // refresh token (it got no answer: it may have been consumed)
    assert_eq!(
        fake.auth_requests().len(),
        2,
        "one token request (and its retry) for 50 calls"
    );
    assert!(
        elapsed < token_timeout * 3,
        "all 50 failed within two token timeouts: {elapsed:?}"
    );
    // within the backoff, the next call fails at once without a token request
    let again = fanvue.api().get_current_user().send().await;
    assert!(matches!(again, Err(Error::Auth(AuthError::Timeout { .. }))));
    assert_eq!(fake.auth_requests().len(), 2);
    // after the backoff, a new attempt is made (and succeeds once the endpoint answers)
    fake.clear_faults();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match fanvue.api().get_current_user().send().await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("no recovery after the backoff: {e}"),
        }
    }
    assert_eq!(fake.token_refresh_count(), 1);
}

#[tokio::test]
async fn invalid_grant_is_final_until_new_tokens_are_given() {
    let fake = FakeFanvue::start().await.unwrap();
    let fanvue = oauth_builder(&fake, "fvrt_revoked").build().unwrap();
    let first = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(
        matches!(&first, Error::Auth(e) if e.is_invalid_grant()),
        "{first:?}"
    );
    for _ in 0..5 {
        let again = fanvue.api().get_current_user().send().await.unwrap_err();
        assert!(matches!(&again, Error::Auth(e) if e.is_invalid_grant()));
    }
    assert_eq!(fake.auth_requests().len(), 1, "no second token request");
    fanvue
        .set_tokens(StoredTokens::new(fake.refresh_token()))
        .await
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_refresh_count(), 1);
}

/// A store that records saves, can be told to fail them, and can hold a save until released.
#[derive(Clone, Default)]
struct ProbeStore(Arc<ProbeInner>);

impl std::ops::Deref for ProbeStore {
    type Target = ProbeInner;
    fn deref(&self) -> &ProbeInner {
        &self.0
    }
}

#[derive(Default)]
struct ProbeInner {
    tokens: Mutex<Option<StoredTokens>>,
    fail_loads: AtomicU32,
    fail_saves: AtomicU32,
    saves: AtomicU32,
    /// A permit per successful save.
    saved: tokio::sync::Notify,
    hold: Mutex<
        Option<(
            tokio::sync::oneshot::Sender<()>,
            tokio::sync::oneshot::Receiver<()>,
        )>,
    >,
}

impl TokenStore for ProbeStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>> {
        let tokens = self.tokens.lock().unwrap().clone();
        let fail = self
            .fail_loads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        Box::pin(async move {
            if fail {
                return Err(TokenStoreError::Io(std::io::Error::other("store offline")));
            }
            Ok(tokens)
        })
    }

    fn save<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        _lease: &'a RefreshLease,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        Box::pin(async move {
            let hold = self.hold.lock().unwrap().take();
            if let Some((saving, release)) = hold {
                saving.send(()).unwrap();
                release.await.unwrap();
            }
            if self
                .fail_saves
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(TokenStoreError::Io(std::io::Error::other("disk full")));
            }
            self.saves.fetch_add(1, Ordering::SeqCst);
            *self.tokens.lock().unwrap() = Some(tokens.clone());
            self.saved.notify_one();
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_rotated_token_is_saved_before_the_new_access_token_is_used() {
    let fake = FakeFanvue::start().await.unwrap();
    let store = ProbeStore::default();
    let (saving_tx, saving_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel();
    *store.hold.lock().unwrap() = Some((saving_tx, release_rx));
    let fanvue = oauth_builder(&fake, &fake.refresh_token())
        .token_store(store.clone())
        .build()
        .unwrap();
    let call = tokio::spawn({
        let fanvue = fanvue.clone();
        async move { fanvue.api().get_current_user().send().await }
    });
    saving_rx.await.unwrap();
    // the token endpoint answered, the save is in progress: no API request yet
    assert_eq!(fake.token_refresh_count(), 1);
    assert_eq!(fake.request_count(ApiRoute::UsersMe), 0);
    release_tx.send(()).unwrap();
    call.await.unwrap().unwrap();
    let saved = store.tokens.lock().unwrap().clone().unwrap();
    assert_eq!(saved.refresh_token.expose_secret(), fake.refresh_token());
    let current = fanvue.credentials().unwrap();
    assert_eq!(
        current.refresh_token.expose_secret(),
        saved.refresh_token.expose_secret()
    );
    assert_eq!(
        current.access_token.unwrap().expose_secret(),
        fake.latest_access_token()
    );
    assert!(current.access_token_expires_at.is_some());
}

#[tokio::test]
async fn a_failed_load_is_surfaced_and_nothing_is_refreshed() {
    let fake = FakeFanvue::start().await.unwrap();
    let store = ProbeStore::default();
    store.fail_loads.store(1, Ordering::SeqCst);
    let fanvue = oauth_builder(&fake, &fake.refresh_token())
        .token_store(store.clone())
        .build()
        .unwrap();
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(
        matches!(err, Error::Auth(AuthError::Store(TokenStoreError::Io(_)))),
        "{err:?}"
    );
    assert!(err.to_string().contains("store offline"));
    // Without knowing what the store holds, the refresh token may be stale: it is not spent.
    assert!(fake.auth_requests().is_empty(), "no token request");
    assert_eq!(fake.request_count(ApiRoute::UsersMe), 0);
    assert_eq!(store.saves.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_failed_save_is_surfaced_and_the_tokens_are_saved_by_the_next_attempt() {
    let fake = FakeFanvue::start().await.unwrap();
    let store = ProbeStore::default();
    store.fail_saves.store(1, Ordering::SeqCst);
    let fanvue = oauth_builder(&fake, &fake.refresh_token())
        .token_store(store.clone())
        .build()
        .unwrap();
    match fanvue.api().get_current_user().send().await {
        Err(err) => {
            assert!(
                matches!(err, Error::Auth(AuthError::Store(TokenStoreError::Io(_)))),
                "{err:?}"
            );
            assert!(err.to_string().contains("disk full"));
            assert_eq!(
                fake.request_count(ApiRoute::UsersMe),
                0,
                "unsaved tokens not used"
            );
            // the getter already gives the newest refresh token (for a manual save)
            assert_eq!(
                fanvue.credentials().unwrap().refresh_token.expose_secret(),
                fake.refresh_token()
            );
        }
        // the background save (at once) came before the call gave up: saved, then used
        Ok(_) => assert_eq!(store.saves.load(Ordering::SeqCst), 1),
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while fanvue.api().get_current_user().send().await.is_err() {
        assert!(Instant::now() < deadline, "no recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        fake.token_refresh_count(),
        1,
        "the kept tokens were saved, no new refresh"
    );
    let saved = store.tokens.lock().unwrap().clone().unwrap();
    assert_eq!(saved.refresh_token.expose_secret(), fake.refresh_token());
}

#[tokio::test]
async fn the_file_store_keeps_the_rotated_token_and_the_callback_still_runs() {
    let fake = FakeFanvue::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let rotated = Arc::new(Mutex::new(Vec::new()));
    let seen = rotated.clone();
    let fanvue = oauth_builder(&fake, &fake.refresh_token())
        .token_store(FileTokenStore::new(&path))
        .on_refresh_token_rotated(move |t| seen.lock().unwrap().push(t.expose_secret().to_owned()))
        .build()
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    let latest = fake.refresh_token();
    assert_eq!(*rotated.lock().unwrap(), std::slice::from_ref(&latest));
    let loaded = FileTokenStore::new(&path).load().await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token.expose_secret(), latest);
    // a second client on the same file starts from the stored tokens (no refresh)
    let second = oauth_builder(&fake, "fvrt_stale_seed")
        .token_store(FileTokenStore::new(&path))
        .build()
        .unwrap();
    fake.expire_all_access_tokens();
    second.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_refresh_count(), 2);
}

#[test]
fn an_empty_access_token_is_refused_by_build() {
    for token in ["", "   "] {
        let err = Fanvue::builder().access_token(token).build().unwrap_err();
        assert!(
            matches!(
                err,
                Error::Build(BuildError::EmptyCredential {
                    what: "access token"
                })
            ),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "the access token is empty");
    }
    let err = Fanvue::builder()
        .oauth(OAuthCredentials::new("id", "secret", ""))
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Build(BuildError::EmptyCredential {
            what: "refresh token"
        })
    ));
}

fn static_client(fake: &FakeFanvue) -> FanvueBuilder {
    Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
}

#[tokio::test]
async fn the_rate_limiter_keeps_concurrent_tasks_under_the_window() {
    let fake = FakeFanvue::builder()
        .rate_limit_window(8, Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let fanvue = static_client(&fake)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let calls = (0..20).map(|_| {
        let fanvue = fanvue.clone();
        async move { fanvue.api().get_current_user().send().await }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(fake.rate_limited_count(), 0, "no 429");
    assert_eq!(fake.rate_admitted_count(), 20);
    assert_eq!(
        fanvue.rate_limiter().state()[&fanvue_api_ext::Bucket::Shared].limit,
        Some(8)
    );
}

#[tokio::test]
async fn fail_fast_refuses_without_sending_when_the_window_is_exhausted() {
    let fake = FakeFanvue::builder()
        .rate_limit_window(2, Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let fanvue = static_client(&fake)
        .rate_limit(RateLimitMode::FailFast)
        .build()
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    match err {
        Error::RateLimitedLocally {
            retry_after, limit, ..
        } => {
            assert_eq!(limit, Some(2));
            assert!(retry_after <= Duration::from_secs(60));
        }
        other => panic!("{other:?}"),
    }
    assert!(fake.rate_limited_count() == 0 && fake.rate_admitted_count() == 2);
}

#[tokio::test]
async fn a_per_call_timeout_bounds_the_whole_call() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.delay_route(ApiRoute::UsersMe, Duration::from_secs(10), 5);
    let fanvue = static_client(&fake).build().unwrap();
    let started = Instant::now();
    let err = fanvue
        .api()
        .get_current_user()
        .send()
        .timeout(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    match err {
        Error::Transport(e) => {
            assert_eq!(e.kind(), fanvue_api_ext::TransportErrorKind::Timeout)
        }
        other => panic!("{other:?}"),
    }
    fake.clear_faults();
    fanvue
        .api()
        .get_current_user()
        .send()
        .with_response()
        .timeout(Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_403_names_the_scope_the_operation_requires() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.fail_route(ApiRoute::UsersMe, 403, 1);
    let fanvue = static_client(&fake).build().unwrap();
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    match &err {
        Error::Forbidden {
            required_scopes, ..
        } => assert_eq!(*required_scopes, ["read:self"]),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("requires scope read:self"),
        "{err}"
    );
}

#[tokio::test]
async fn unsaved_tokens_are_saved_in_the_background_without_another_call() {
    let fake = FakeFanvue::start().await.unwrap();
    let store = ProbeStore::default();
    store.fail_saves.store(1, Ordering::SeqCst);
    let fanvue = oauth_builder(&fake, &fake.refresh_token())
        .token_store(store.clone())
        .build()
        .unwrap();
    // fails with the store's error, or succeeds once the background save (at
    // once) stored the tokens: never uses tokens that are only in memory
    if let Err(err) = fanvue.api().get_current_user().send().await {
        assert!(matches!(err, Error::Auth(AuthError::Store(_))), "{err:?}");
        assert_eq!(fake.request_count(ApiRoute::UsersMe), 0);
    }
    // no further call: an idle process must not keep the new tokens only in memory
    tokio::time::timeout(Duration::from_secs(5), store.saved.notified())
        .await
        .expect("saved in the background");
    let saved = store.tokens.lock().unwrap().clone().unwrap();
    assert_eq!(saved.refresh_token.expose_secret(), fake.refresh_token());
    // and used: the next call needs no refresh
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_refresh_count(), 1);
    assert_eq!(fake.auth_requests().len(), 1);
}

#[tokio::test]
async fn flush_tokens_saves_unsaved_tokens_at_shutdown() {
    let fake = FakeFanvue::start().await.unwrap();
    let store = ProbeStore::default();
    store.fail_saves.store(u32::MAX, Ordering::SeqCst);
    let fanvue = oauth_builder(&fake, &fake.refresh_token())
        .token_store(store.clone())
        .build()
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap_err();
    // still down: the flush says so, and the tokens stay in memory
    let err = fanvue.flush_tokens().await.unwrap_err();
    assert!(matches!(err, Error::Auth(AuthError::Store(_))), "{err:?}");
    // the store is back: the flush saves them now
    store.fail_saves.store(0, Ordering::SeqCst);
    fanvue.flush_tokens().await.unwrap();
    let saved = store.tokens.lock().unwrap().clone().unwrap();
    assert_eq!(saved.refresh_token.expose_secret(), fake.refresh_token());
    // nothing left: a second flush is a no-op
    let saves = store.saves.load(Ordering::SeqCst);
    fanvue.flush_tokens().await.unwrap();
    assert_eq!(store.saves.load(Ordering::SeqCst), saves);
    assert_eq!(fake.token_refresh_count(), 1);
}
