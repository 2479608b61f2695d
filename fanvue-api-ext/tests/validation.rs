//! Invalid inputs fail before anything is sent.

mod support;

use fanvue_api_ext::api::types;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue};
use serde_json::json;
use support::{Reply, Server, fixtures};

fn client(server: &Server) -> Fanvue {
    Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token("tok".to_string())
        .build()
        .unwrap()
}

#[track_caller]
fn assert_invalid<T>(result: Result<T, Error>, what: &str) {
    match result {
        Err(Error::InvalidInput { what: w, .. }) => assert!(w.contains(what), "{w} vs {what}"),
        Err(other) => panic!("expected InvalidInput({what}), got {other:?}"),
        Ok(_) => panic!("expected InvalidInput({what}), got a response"),
    }
}

#[tokio::test]
async fn bad_path_parameters_make_no_request() {
    let server = Server::start(|_| Reply::text(200, "https://s3.test/part?sig=1")).await;
    let fanvue = client(&server);
    // an empty or malformed UUID cannot even be set on the typed builder
    for bad in ["", "not-a-uuid"] {
        assert_invalid(
            fanvue.api().get_user_media_by_uuid().uuid(bad).send().await,
            "request",
        );
    }
    // the nil UUID is typed but empty
    assert_invalid(
        fanvue
            .api()
            .get_user_media_by_uuid()
            .uuid(uuid::Uuid::nil())
            .send()
            .await,
        "path parameter uuid",
    );
    for part in [10_001u64, 20_000] {
        assert_invalid(
            fanvue
                .api()
                .get_upload_part_url()
                .upload_id("up-1")
                .part_number(part)
                .send()
                .await,
            "path parameter partNumber",
        );
    }
    assert_invalid(
        fanvue
            .api()
            .get_upload_part_url()
            .upload_id("")
            .part_number(1)
            .send()
            .await,
        "path parameter uploadId",
    );
    // part 0 cannot be set on the typed builder (its type is non-zero)
    assert!(
        fanvue
            .api()
            .get_upload_part_url()
            .upload_id("up-1")
            .part_number(0u64)
            .send()
            .await
            .is_err()
    );
    assert!(server.requests().is_empty());
    // valid ones go through
    fanvue
        .api()
        .get_upload_part_url()
        .upload_id("up-1")
        .part_number(10_000)
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        server.requests()[0].path(),
        "/media/uploads/up-1/parts/10000/url"
    );
}

#[tokio::test]
async fn bad_page_sizes_make_no_request() {
    let server = Server::start(|_| {
        Reply::json(200, json!({"data": [fixtures::follower(1)], "pagination": {"page": 1, "size": 1, "hasMore": false}}))
    })
    .await;
    let fanvue = client(&server);
    // `size` and `page` have `minimum: 1`: the typed builder takes a
    // `NonZeroU64`, so 0 is refused while building the request
    for result in [
        fanvue.api().list_followers().size(0).send().await,
        fanvue.api().list_followers().page(0).send().await,
    ] {
        match result {
            Err(Error::InvalidInput { what, reason }) => {
                assert_eq!(what, "request");
                assert!(
                    reason.contains("size") || reason.contains("page"),
                    "{reason}"
                );
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    // `maximum: 50` comes from the spec's bounds table
    let err = fanvue
        .api()
        .list_followers()
        .size(51)
        .send()
        .await
        .expect_err("size 51");
    assert_eq!(
        err.to_string(),
        "invalid query parameter size: must be at most 50 (maximum), got 51"
    );
    // `limit` of the tracking links: `minimum: 0, exclusiveMinimum: true`
    // (a `NonZeroU64` in the builder) and no maximum in the official document
    match fanvue.api().list_tracking_links().limit(0).send().await {
        Err(Error::InvalidInput { reason, .. }) => assert!(reason.contains("limit"), "{reason}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(server.requests().is_empty());
    fanvue
        .api()
        .list_followers()
        .page(1)
        .size(50)
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn missing_required_parameter_is_invalid_input() {
    let server = Server::start(|_| Reply::json(200, json!({}))).await;
    let fanvue = client(&server);
    assert_invalid(
        fanvue.api().get_user_media_by_uuid().send().await,
        "request",
    );
    assert!(server.requests().is_empty());
}

/// Bounds from the spec on JSON bodies: checked before sending, the error
/// names the field (JSON pointer) and the bound.
#[tokio::test]
async fn out_of_bounds_bodies_make_no_request() {
    let server =
        Server::start(|_| Reply::json(201, json!({"messageUuid": fixtures::uuid(9)}))).await;
    let fanvue = client(&server);
    let fan = fixtures::uuid(1);

    let too_long = "x".repeat(6_000);
    let result = fanvue
        .api()
        .send_message()
        .user_uuid(fan.as_str())
        .body(json_body::<types::SendMessageBody>(
            json!({"text": too_long}),
        ))
        .send()
        .await;
    assert_bound(
        result,
        "body.text",
        "at most 5000 characters (maxLength), got 6000 characters",
    );

    let result = fanvue
        .api()
        .send_message()
        .user_uuid(fan.as_str())
        .body(json_body::<types::SendMessageBody>(
            json!({"text": "hi", "price": 299}),
        ))
        .send()
        .await;
    assert_bound(result, "body.price", "at least 300 (minimum), got 299");

    let result = fanvue
        .api()
        .get_batch_statuses()
        .body(json_body::<types::GetBatchStatusesBody>(
            json!({"userUuids": []}),
        ))
        .send()
        .await;
    assert_bound(
        result,
        "body.userUuids",
        "at least 1 elements (minItems), got 0",
    );
    assert!(server.requests().is_empty(), "nothing may reach the server");

    // in bounds: sent
    fanvue
        .api()
        .send_message()
        .user_uuid(fan.as_str())
        .body(json_body::<types::SendMessageBody>(
            json!({"text": "hi", "price": 300}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1);
}

/// A typed body from JSON (the builders accept anything convertible).
fn json_body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("typed body")
}

/// The error names the field and the bound, whichever layer caught it (the
/// typed builder for length-constrained strings, the spec-bounds check for
/// numbers and arrays).
#[track_caller]
fn assert_bound<T: std::fmt::Debug>(result: Result<T, Error>, field: &str, bound: &str) {
    let err = result.expect_err("out of bounds");
    let text = err.to_string();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(text.contains(field) && text.contains(bound), "{text}");
}

#[tokio::test]
async fn a_body_enum_outside_the_spec_is_refused_naming_the_field_and_nothing_is_sent() {
    let server = Server::start(|_| Reply::json(201, json!({}))).await;
    let fanvue = client(&server);
    let result = fanvue
        .api()
        .create_post()
        .body_map(|body| {
            body.audience(types::PostAudience::Unknown("everyone".to_string()))
                .text(Some("hello".to_string()))
        })
        .send()
        .await;
    match result {
        Err(Error::InvalidInput { what, reason }) => {
            assert_eq!(what, "body.audience");
            assert!(
                reason.contains("enum") && reason.contains("\"everyone\""),
                "{reason}"
            );
            assert!(
                reason.contains("subscribers"),
                "the allowed values are named: {reason}"
            );
        }
        other => panic!("expected InvalidInput(body.audience), got {other:?}"),
    }
    assert!(
        server.requests().is_empty(),
        "nothing may reach the server: {:?}",
        server.requests()
    );
}
