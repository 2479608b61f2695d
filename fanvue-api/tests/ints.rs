//! Integer fields accept integral JSON floats (`3840.0`, `0.0`) and reject
//! fractional ones with an error naming the type and field.

mod common;

use common::{client, media_json};
use fanvue_api::prelude::*;
use fanvue_api::types;
use httpmock::prelude::*;

const MEDIA: &str = "0b7c7e5e-8f5a-4c55-9d2e-3d1f5c8a9b01";

fn media_with_width(width: serde_json::Value) -> serde_json::Value {
    let mut media = media_json("ready");
    media["variants"][0]["width"] = width;
    media["variants"][0]["displayPosition"] = serde_json::json!(0.0);
    media
}

#[tokio::test]
async fn integral_floats_decode_through_the_client() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("/media/{MEDIA}"));
            then.status(200)
                .json_body(media_with_width(serde_json::json!(3840.0)));
        })
        .await;
    let media = client(&server)
        .get_user_media_by_uuid()
        .uuid(MEDIA.parse::<uuid::Uuid>().unwrap())
        .send_raw()
        .await
        .expect("3840.0 decodes")
        .into_inner();
    mock.assert_async().await;
    assert_eq!(media.variants[0].width, Some(3840));
    assert_eq!(media.variants[0].display_position, 0.0);
}

#[tokio::test]
async fn a_fractional_integer_is_an_error_naming_the_field() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("/media/{MEDIA}"));
            then.status(200)
                .json_body(media_with_width(serde_json::json!(3840.5)));
        })
        .await;
    let err = client(&server)
        .get_user_media_by_uuid()
        .uuid(MEDIA.parse::<uuid::Uuid>().unwrap())
        .send_raw()
        .await
        .expect_err("3840.5 is not an integer");
    // The message names type and field (the payload is quoted too, so
    // look for the field path, not just "width").
    let text = err.to_string();
    assert!(
        text.contains("field `MediaVariant.width`: expected an integer, got 3840.5"),
        "{text}"
    );
}

#[test]
fn generated_types_decode_floats_directly() {
    let pagination: types::Pagination =
        serde_json::from_value(serde_json::json!({"page": 2.0, "size": 15.0, "hasMore": true}))
            .unwrap();
    assert_eq!(pagination.page, 2);
    assert_eq!(pagination.size, 15);
    let err = serde_json::from_value::<types::Pagination>(
        serde_json::json!({"page": 1.5, "size": 15, "hasMore": true}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("Pagination.page"), "{err}");
    // integers stay integers on the way out
    assert_eq!(
        serde_json::to_value(&pagination).unwrap()["page"],
        serde_json::json!(2)
    );
}

#[test]
fn absent_optional_integers_stay_optional() {
    // `price` is optional: absent must still decode (serde only defaults an
    // absent `Option` itself when no `deserialize_with` is set).
    let body: types::SendMessageBody = serde_json::from_value(serde_json::json!({})).unwrap();
    assert_eq!(body.price, None);
    let body: types::SendMessageBody =
        serde_json::from_value(serde_json::json!({"price": 500.0})).unwrap();
    assert_eq!(body.price, Some(fanvue_api::Cents::from(500)));
}
