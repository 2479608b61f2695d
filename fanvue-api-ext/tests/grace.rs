//! Refresh under Fanvue's grace: single-use refresh tokens that still work for
//! a grace after their first use and revoke the whole grant when reused after
//! it. Against the fake's model of that (`refresh_grace`, `TokenFault`), with
//! the times scaled down: token requests consumed then stalled or reset are
//! retried at once inside the grace and never after it; `build` refuses
//! timings that could reuse a token after the grace; a final failure re-reads
//! the store; a failed store read is not final; a failing proactive refresh
//! does not fail requests whose token still works.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fanvue_api_ext::auth::{
    AuthError, MemoryTokenStore, OAuthCredentials, RefreshLease, StoredTokens, TokenStore,
    TokenStoreError,
};
use fanvue_api_ext::error::BuildError;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, FanvueBuilder};
use fanvue_fake::{ApiRoute, FakeFanvue, Fault, FaultTarget, TokenFault};
use futures::future::BoxFuture;

const GRACE: Duration = Duration::from_millis(1500);
const TOKEN_TIMEOUT: Duration = Duration::from_millis(300);

async fn fake(grace: Duration) -> FakeFanvue {
    FakeFanvue::builder()
        .refresh_grace(grace)
        .start()
        .await
        .unwrap()
}

fn builder(fake: &FakeFanvue, refresh_token: &str) -> FanvueBuilder {
    Fanvue::builder()
        .base_url(fake.api_url())
        .token_url(fake.token_url())
        .allow_insecure_http(true)
        .refresh_grace(GRACE)
        .token_timeout(TOKEN_TIMEOUT)
        .oauth(OAuthCredentials::new(
            fake.client_id(),
            fake.client_secret().to_string(),
            refresh_token.to_string(),
        ))
}

#[tokio::test]
async fn a_token_request_consumed_then_stalled_is_retried_at_once_inside_the_grace() {
    for fault in [
        TokenFault::ConsumeThenStall(None),
        TokenFault::ConsumeThenStall(Some(Duration::from_secs(5))),
        TokenFault::ConsumeThenReset,
    ] {
        let fake = fake(GRACE).await;
        fake.inject_token_fault(fault, 1);
        let fanvue = builder(&fake, &fake.refresh_token()).build().unwrap();
        let started = Instant::now();
        fanvue
            .api()
            .get_current_user()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert!(started.elapsed() < GRACE, "{fault:?}: retried at once");
        assert!(!fake.chain_revoked(), "{fault:?}");
        assert_eq!(
            fake.token_requests(),
            2,
            "{fault:?}: the same token, once more"
        );
        assert_eq!(fake.grace_reuses(), 1, "{fault:?}");
        assert_eq!(fake.token_refresh_count(), 1, "{fault:?}");
        // the pair the lost answer held is the one in use now
        let held = fanvue.credentials().unwrap();
        use secrecy::ExposeSecret as _;
        assert_eq!(held.refresh_token.expose_secret(), fake.refresh_token());
    }
}

#[tokio::test]
async fn a_token_in_doubt_is_never_spent_after_the_grace() {
    let fake = fake(GRACE).await;
    // every token request is consumed and then never answered
    fake.inject_token_fault(TokenFault::ConsumeThenStall(None), 1000);
    let fanvue = builder(&fake, &fake.refresh_token()).build().unwrap();
    let first_sent = Instant::now();
    let deadline = first_sent + GRACE * 4;
    let final_error = loop {
        match fanvue.api().get_current_user().send().await {
            Err(Error::Auth(e @ AuthError::RefreshOutcomeUnknown { .. })) => break e,
            Err(Error::Auth(AuthError::Timeout { .. })) => {}
            other => panic!("unexpected: {other:?}"),
        }
        assert!(Instant::now() < deadline, "no final answer");
        // paces the calls through the backoff
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(matches!(final_error, AuthError::RefreshOutcomeUnknown { grace } if grace == GRACE));
    let requests = fake.token_requests();
    assert!(requests >= 2, "{requests}");
    // every request was sent while a whole token timeout still fit in the grace
    let last_allowed = first_sent + GRACE - TOKEN_TIMEOUT + Duration::from_millis(100);
    for request in fake.auth_requests() {
        assert!(
            request.at <= last_allowed,
            "a token request after the grace"
        );
    }
    // long after the grace: still not spent, nothing revoked
    fake.clear_token_faults();
    tokio::time::sleep(GRACE).await;
    for _ in 0..3 {
        let again = fanvue.api().get_current_user().send().await.unwrap_err();
        assert!(
            matches!(again, Error::Auth(AuthError::RefreshOutcomeUnknown { .. })),
            "{again:?}"
        );
    }
    assert_eq!(fake.token_requests(), requests);
    assert!(!fake.chain_revoked());
    // new tokens (the user signed in again, here: the pair the lost answers held) end it
    fanvue
        .set_tokens(StoredTokens::new(fake.refresh_token()))
        .await
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    assert!(!fake.chain_revoked());
}

/// A store of one process that reports a lease (as a shared store would).
struct LeasedStore(Duration);

impl TokenStore for LeasedStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>> {
        Box::pin(async { Ok(None) })
    }
    fn save<'a>(
        &'a self,
        _tokens: &'a StoredTokens,
        _lease: &'a RefreshLease,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn lease(&self) -> Option<Duration> {
        Some(self.0)
    }
}

#[tokio::test]
async fn build_refuses_timings_not_shorter_than_the_grace() {
    let fake = fake(GRACE).await;
    let refused = |result: Result<Fanvue, Error>| match result {
        Err(Error::Build(BuildError::TimingExceedsGrace { what, value, grace })) => {
            (what, value, grace)
        }
        other => panic!("not refused: {other:?}"),
    };
    let seed = fake.refresh_token();
    let (what, value, grace) = refused(builder(&fake, &seed).token_timeout(GRACE).build());
    assert_eq!((what, value, grace), ("token timeout", GRACE, GRACE));
    let (what, value, _) = refused(
        builder(&fake, &seed)
            .token_store(LeasedStore(GRACE * 2))
            .build(),
    );
    assert_eq!((what, value), ("token store lease", GRACE * 2));
    builder(&fake, &seed)
        .token_store(LeasedStore(GRACE / 2))
        .build()
        .unwrap();
    // the defaults keep the invariants
    Fanvue::builder()
        .oauth(OAuthCredentials::new(
            "id",
            "secret".to_string(),
            "rt".to_string(),
        ))
        .build()
        .unwrap();
    assert!(fanvue_api_ext::auth::DEFAULT_TOKEN_TIMEOUT <= Duration::from_secs(10));
    assert!(
        fanvue_api_ext::auth::DEFAULT_TOKEN_TIMEOUT < fanvue_api_ext::auth::DEFAULT_REFRESH_GRACE
    );
}

/// One store shared by several clients (processes, as far as their sessions go).
#[derive(Clone, Default)]
struct SharedStore(Arc<SharedInner>);

#[derive(Default)]
struct SharedInner {
    memory: MemoryTokenStore,
    loads: AtomicU32,
    /// Load number (1-based) that fails, 0: none.
    fail_load: AtomicU32,
    direct: Mutex<Option<StoredTokens>>,
}

impl SharedStore {
    /// Writes tokens as another process would have saved them.
    async fn put(&self, tokens: StoredTokens) {
        self.0
            .memory
            .save(&tokens, &RefreshLease::local())
            .await
            .unwrap();
        *self.0.direct.lock().unwrap() = Some(tokens);
    }
}

impl TokenStore for SharedStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<StoredTokens>, TokenStoreError>> {
        let n = self.0.loads.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.0.fail_load.load(Ordering::SeqCst) {
            return Box::pin(async { Err(TokenStoreError::Unavailable("store down".into())) });
        }
        self.0.memory.load()
    }
    fn save<'a>(
        &'a self,
        tokens: &'a StoredTokens,
        lease: &'a RefreshLease,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        self.0.memory.save(tokens, lease)
    }
}

#[tokio::test]
async fn set_tokens_on_one_process_reaches_the_others_after_a_final_invalid_grant() {
    let fake = fake(GRACE).await;
    let store = SharedStore::default();
    let a = builder(&fake, "fvrt_revoked")
        .token_store(store.clone())
        .build()
        .unwrap();
    let b = builder(&fake, "fvrt_revoked")
        .token_store(store.clone())
        .build()
        .unwrap();
    for client in [&a, &b] {
        let error = client.api().get_current_user().send().await.unwrap_err();
        assert!(
            matches!(&error, Error::Auth(e) if e.is_invalid_grant()),
            "{error:?}"
        );
    }
    // the user signs in again; the new tokens are given to process A only
    a.set_tokens(StoredTokens::new(fake.refresh_token()))
        .await
        .unwrap();
    a.api().get_current_user().send().await.unwrap();
    // B finds them in the store instead of failing for good (A's access token: no token request)
    b.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_refresh_count(), 1);
    assert!(!fake.chain_revoked());
}

#[tokio::test]
async fn a_failed_store_read_while_checking_an_invalid_grant_is_not_final() {
    let fake = fake(GRACE).await;
    let store = SharedStore::default();
    // load 1: before the token request; load 2: the re-read after `invalid_grant`
    store.0.fail_load.store(2, Ordering::SeqCst);
    let fanvue = builder(&fake, "fvrt_revoked")
        .token_store(store.clone())
        .build()
        .unwrap();
    let error = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(
        matches!(&error, Error::Auth(AuthError::Store(_))),
        "not an invalid_grant: the store may hold newer tokens: {error:?}"
    );
    // another process had saved valid tokens meanwhile
    store.put(StoredTokens::new(fake.refresh_token())).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match fanvue.api().get_current_user().send().await {
            Ok(_) => break,
            Err(Error::Auth(AuthError::Store(_))) if Instant::now() < deadline => {
                // paces the calls through the backoff
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("no recovery: {other:?}"),
        }
    }
    assert_eq!(fake.token_refresh_count(), 1);
}

#[tokio::test]
async fn a_failing_proactive_refresh_keeps_using_a_token_that_still_works() {
    let fake = fake(GRACE).await;
    // the token endpoint is down
    fake.inject(FaultTarget::Api(ApiRoute::Token), Fault::Status(503), 100);
    // an access token with 30 s left: inside the refresh margin, so every request tries to refresh
    let expires = SystemTime::now() + Duration::from_secs(30);
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .token_url(fake.token_url())
        .allow_insecure_http(true)
        .refresh_grace(GRACE)
        .token_timeout(TOKEN_TIMEOUT)
        .oauth(
            OAuthCredentials::new(
                fake.client_id(),
                fake.client_secret().to_string(),
                fake.refresh_token(),
            )
            .with_access_token(fake.access_token(), Some(expires)),
        )
        .build()
        .unwrap();
    for _ in 0..3 {
        fanvue.api().get_current_user().send().await.unwrap();
    }
    assert!(
        fake.request_count(ApiRoute::Token) >= 1,
        "a refresh was tried"
    );
    assert_eq!(fake.token_refresh_count(), 0);
}

#[tokio::test]
async fn a_401_on_a_token_just_refreshed_for_a_401_does_not_refresh_again() {
    use fanvue_fake::Override;
    let fake = fake(GRACE).await;
    let fanvue = builder(&fake, &fake.refresh_token()).build().unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_requests(), 1);
    // the API refuses every token from now on
    fake.override_operation("get-current-user", Override::status(401));
    // concurrent 401s on the same token share one refresh; the replays are refused again
    let calls = (0..6).map(|_| async { fanvue.api().get_current_user().send().await });
    for result in futures::future::join_all(calls).await {
        assert!(
            matches!(result, Err(Error::Unauthorized { .. })),
            "{result:?}"
        );
    }
    assert_eq!(
        fake.token_requests(),
        2,
        "one refresh for the refused token"
    );
    // later requests carry the token that refresh obtained: a 401 on it is
    // returned, with no further refresh
    for _ in 0..3 {
        let result = fanvue.api().get_current_user().send().await;
        assert!(
            matches!(result, Err(Error::Unauthorized { .. })),
            "{result:?}"
        );
    }
    assert_eq!(fake.token_requests(), 2, "at most one refresh per token");
    assert!(!fake.chain_revoked());
    // once the API accepts tokens again, the same session works
    fake.clear_override("get-current-user");
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_requests(), 2);
    // a token that was accepted may be refreshed after a later 401
    fake.expire_all_access_tokens();
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_requests(), 3);
}
