//! End to end against the local fake of the Fanvue API and its OAuth server
//! (`fanvue-fake`): the client's behaviours on a stateful server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fanvue_api_ext::auth::OAuthCredentials;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, RetryPolicy};
use fanvue_fake::{ApiRoute, FakeFanvue};
use futures::TryStreamExt as _;
use futures::stream::BoxStream;
use secrecy::{ExposeSecret, SecretString};

fn fast_policy() -> RetryPolicy {
    RetryPolicy::builder()
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
        .build()
}

fn static_client(fake: &FakeFanvue) -> Fanvue {
    Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .retry_policy(fast_policy())
        .build()
        .unwrap()
}

/// `GET /users/me` through [`static_client`], which must succeed.
async fn get_me(fake: &FakeFanvue) {
    static_client(fake)
        .api()
        .get_current_user()
        .send()
        .await
        .unwrap();
}

/// Every item of `items`, which must all arrive.
async fn all_items<T>(items: BoxStream<'_, Result<T, Error>>) -> Vec<T> {
    items.try_collect().await.unwrap()
}

#[tokio::test]
async fn current_user_with_every_header() {
    let fake = FakeFanvue::start().await.unwrap();
    let fanvue = static_client(&fake);
    let me = fanvue.api().get_current_user().send().await.unwrap();
    assert!(!me.handle.is_empty());
    let request = &fake.api_requests()[0];
    assert_eq!(
        request.header("x-fanvue-api-version"),
        Some(fanvue_api::API_VERSION)
    );
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("fanvue-rust/")
    );
    assert!(!fake.token_leaked_outside_api());
}

#[tokio::test]
async fn sunset_version_is_a_typed_error() {
    let fake = FakeFanvue::builder()
        .sunset_version(fanvue_api::API_VERSION, Some("2026-01-01"))
        .start()
        .await
        .unwrap();
    let err = static_client(&fake)
        .api()
        .get_current_user()
        .send()
        .await
        .unwrap_err();
    match err {
        Error::VersionSunset { next_version, .. } => {
            assert_eq!(next_version.as_deref(), Some("2026-01-01"))
        }
        other => panic!("unexpected {other:?}"),
    }
    let fake = FakeFanvue::start().await.unwrap();
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .api_version("1999-01-01")
        .build()
        .unwrap();
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err:?}");
}

#[tokio::test]
async fn oauth_refresh_after_expiry_rotates_the_refresh_token() {
    let fake = FakeFanvue::start().await.unwrap();
    let rotated = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = rotated.clone();
    let fanvue = Fanvue::builder()
        .base_url(fake.api_url())
        .token_url(fake.token_url())
        .allow_insecure_http(true)
        .oauth(
            OAuthCredentials::new(
                fake.client_id(),
                fake.client_secret().to_string(),
                fake.refresh_token(),
            )
            .with_access_token(fake.access_token(), None),
        )
        .on_refresh_token_rotated(move |t: SecretString| {
            seen.lock().unwrap().push(t.expose_secret().to_owned())
        })
        .build()
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap();
    assert_eq!(fake.token_refresh_count(), 0);
    fake.expire_all_access_tokens();
    let (a, b) = tokio::join!(
        fanvue.api().get_current_user().send(),
        fanvue.api().get_current_user().send()
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(fake.token_refresh_count(), 1, "one refresh for both 401s");
    assert_eq!(*rotated.lock().unwrap(), [fake.refresh_token()]);
    assert!(!fake.token_leaked_outside_api());
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.rate_limit(ApiRoute::UsersMe, 1, 1);
    let started = Instant::now();
    get_me(&fake).await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(fake.request_count(ApiRoute::UsersMe), 2);
}

#[tokio::test]
async fn resets_and_gateway_errors_are_retried_for_get() {
    let fake = FakeFanvue::start().await.unwrap();
    fake.reset_route(ApiRoute::UsersMe, 1);
    fake.fail_route(ApiRoute::UsersMe, 503, 1);
    get_me(&fake).await;
    assert_eq!(fake.request_count(ApiRoute::UsersMe), 3);
}

#[tokio::test]
async fn media_pages_and_tracking_link_cursors() {
    let fake = FakeFanvue::builder()
        .media_count(40)
        .tracking_link_count(45)
        .start()
        .await
        .unwrap();
    let fanvue = static_client(&fake);
    let media = all_items(
        fanvue
            .api()
            .get_user_media()
            .paginate()
            .page_size(15)
            .items(),
    )
    .await;
    assert_eq!(media.len(), 40);
    assert_eq!(fake.request_count(ApiRoute::MediaList), 3);
    let mut uuids: Vec<_> = media.iter().map(|m| m.uuid).collect();
    uuids.dedup();
    assert_eq!(uuids.len(), 40);

    let links = all_items(
        fanvue
            .api()
            .list_tracking_links()
            .paginate()
            .page_size(20)
            .items(),
    )
    .await;
    assert_eq!(links.len(), 45);
    assert_eq!(fake.request_count(ApiRoute::TrackingLinks), 3);
}
