//! The executor seam: every request of the generated client goes through the
//! `RequestExecutor` of `Inner`, with the static metadata of its operation,
//! and the `Operation` trait drives any builder generically.

mod common;

use common::{mock_current_user, page_json, query_of, recording_client};
use fanvue_api::enums::MediaVariantType;
use fanvue_api::executor::OperationMeta;
use fanvue_api::operation::Operation;
use fanvue_api::prelude::*;
use fanvue_api::{API_VERSION, OPERATIONS};
use httpmock::prelude::*;

#[tokio::test]
async fn every_request_goes_through_the_executor_with_its_operation() {
    let server = MockServer::start_async().await;
    mock_current_user(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/media");
            then.status(200).json_body(page_json(Vec::new(), 1, false));
        })
        .await;
    let (client, recorder) = recording_client(&server);

    client
        .get_current_user()
        .send_request()
        .await
        .expect("get-current-user");
    client
        .get_user_media()
        .page(1)
        .send_request()
        .await
        .expect("get-user-media");

    let seen = recorder.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        *seen[0].meta,
        OperationMeta {
            operation_id: "get-current-user",
            method: "GET",
            path: "/users/me",
            tag: "users",
            creator_segment: None,
        }
    );
    assert_eq!(seen[1].meta.operation_id, "get-user-media");
    assert_eq!(seen[1].meta.path, "/media");
    assert_eq!(seen[1].meta.tag, "media");
    assert_eq!(seen[1].method, "GET");
    assert!(seen[1].url.ends_with("/media?page=1"), "{}", seen[1].url);
}

#[tokio::test]
async fn variants_are_sent_comma_separated() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/media")
                .query_param("variants", "main,thumbnail");
            then.status(200).json_body(page_json(Vec::new(), 1, false));
        })
        .await;
    let (client, recorder) = recording_client(&server);

    client
        .get_user_media()
        .variants(vec![MediaVariantType::Main, MediaVariantType::Thumbnail])
        .send_request()
        .await
        .expect("get-user-media");

    mock.assert_async().await;
    let seen = recorder.seen();
    assert_eq!(query_of(&seen[0].url), "variants=main,thumbnail");
}

/// Sends any operation through the generic trait, as `fanvue-api-ext` does.
async fn send_generic<O: Operation>(op: O) -> (&'static OperationMeta, O::Response)
where
    O::ErrorBody: std::fmt::Debug,
{
    let meta = O::meta();
    let response = op.send_request().await.expect("generic send");
    (meta, response.into_inner())
}

#[tokio::test]
async fn operation_trait_sends_any_builder() {
    let server = MockServer::start_async().await;
    mock_current_user(&server).await;
    let (client, recorder) = recording_client(&server);

    let (meta, user) = send_generic(client.get_current_user()).await;
    assert_eq!(meta.operation_id, "get-current-user");
    assert_eq!(user.handle, "ada");
    assert_eq!(recorder.seen()[0].meta, meta);
}

#[test]
fn operation_table_matches_the_spec() {
    assert_eq!(API_VERSION, "2025-06-26");
    assert!(OPERATIONS.len() >= 20, "{} operations", OPERATIONS.len());
    let meta = OperationMeta::find("get-user-media-by-uuid").expect("known operation");
    assert_eq!(
        (meta.method, meta.path, meta.tag),
        ("GET", "/media/{uuid}", "media")
    );
    assert!(meta.is_idempotent());
    let mut ids: Vec<_> = OPERATIONS.iter().map(|op| op.operation_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), OPERATIONS.len(), "operation ids are unique");
    for op in OPERATIONS {
        assert!(op.path.starts_with('/'), "{op:?}");
        assert!(
            matches!(op.method, "GET" | "POST" | "PUT" | "PATCH" | "DELETE"),
            "{op:?}"
        );
    }
}
