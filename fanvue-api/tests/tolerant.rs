//! Tolerant decoding: responses with enum values the spec does not list, or
//! with fields it does not list, still decode, and the unknown values stay
//! visible (`Unknown(String)`), for several operations.

mod common;

use common::{chat_user_json, client, current_user_json, media_json, page_json};
use fanvue_api::enums::{
    EarningSource, MediaStatus, MediaType, MediaVariantType, SmartListId, SocialPlatform,
};
use fanvue_api::operation::Operation as _;
use fanvue_api::prelude::*;
use httpmock::prelude::*;
use serde_json::json;

async fn serve(server: &MockServer, path: &str, body: serde_json::Value) {
    let path = path.to_string();
    server
        .mock_async(move |when, then| {
            when.path(path);
            then.status(200).json_body(body);
        })
        .await;
}

#[tokio::test]
async fn media_with_unknown_status_type_and_variant_still_decodes() {
    let server = MockServer::start_async().await;
    let mut body = media_json("archived");
    body["mediaType"] = json!("hologram");
    body["variants"][0]["variantType"] = json!("main_8k");
    body["variants"][0]["codec"] = json!("av1");
    body["aiTags"] = json!(["beach"]);
    serve(&server, "/media/0b7c7e5e-8f5a-4c55-9d2e-3d1f5c8a9b01", body).await;

    let media = client(&server)
        .get_user_media_by_uuid()
        .uuid(uuid::Uuid::parse_str("0b7c7e5e-8f5a-4c55-9d2e-3d1f5c8a9b01").expect("uuid"))
        .send_request()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(media.status, MediaStatus::Unknown("archived".into()));
    assert!(media.status.is_unknown());
    assert_eq!(
        media.media_type,
        Some(MediaType::Unknown("hologram".into()))
    );
    assert_eq!(
        media.variants[0].variant_type,
        MediaVariantType::Unknown("main_8k".into())
    );
    // The unknown value serializes back unchanged.
    assert_eq!(
        serde_json::to_value(&media.status).expect("json"),
        json!("archived")
    );
}

#[tokio::test]
async fn media_list_with_unknown_values_and_fields_still_decodes() {
    let server = MockServer::start_async().await;
    let mut body = page_json(
        vec![media_json("ready"), media_json("quarantined")],
        1,
        false,
    );
    body["pagination"]["total"] = json!(2);
    body["facets"] = json!({"image": 2});
    serve(&server, "/media", body).await;

    let page = client(&server)
        .get_user_media()
        .send_request()
        .await
        .expect("decodes")
        .into_inner();
    let statuses: Vec<_> = page.data.iter().map(|m| m.status.clone()).collect();
    assert_eq!(
        statuses,
        vec![
            MediaStatus::Ready,
            MediaStatus::Unknown("quarantined".into())
        ]
    );
}

#[tokio::test]
async fn current_user_with_extra_fields_still_decodes() {
    let server = MockServer::start_async().await;
    let mut body = current_user_json();
    body["verification"] = json!({"level": 3, "badges": ["gold"]});
    body["locale"] = json!("en-GB");
    serve(&server, "/users/me", body).await;

    let user = client(&server)
        .get_current_user()
        .send_request()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(user.handle, "ada");
}

#[tokio::test]
async fn smart_lists_with_an_unknown_list_id_still_decode() {
    let server = MockServer::start_async().await;
    serve(
        &server,
        "/chats/lists/smart",
        json!([
            {"uuid": "followers", "name": "Followers", "count": 1},
            {"uuid": "whales", "name": "Whales", "count": 2, "emoji": "🐋"}
        ]),
    )
    .await;

    let lists = client(&server)
        .get_smart_lists()
        .send_request()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(lists[0].uuid, SmartListId::Followers);
    assert_eq!(lists[1].uuid, SmartListId::Unknown("whales".into()));
    assert_eq!(lists[1].uuid.as_str(), "whales");
}

#[tokio::test]
async fn earnings_with_an_unknown_source_still_decode() {
    let server = MockServer::start_async().await;
    serve(
        &server,
        "/insights/earnings",
        json!({
            "data": [{
                "date": "2025-03-01T00:00:00Z",
                "gross": 1000,
                "net": 800,
                "currency": "USD",
                "source": "livestream",
                "transactionOrderId": "order-1",
                "transactionOrderStatus": "onHold",
                "user": chat_user_json(),
                "fees": {"platform": 200}
            }],
            "nextCursor": null,
            "currencyTotals": {}
        }),
    )
    .await;

    let earnings = client(&server)
        .get_earnings()
        .send_request()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(
        earnings.data[0].source,
        EarningSource::Unknown("livestream".into())
    );
    assert_eq!(earnings.next_cursor, None);
}

#[tokio::test]
async fn tracking_link_with_an_unknown_platform_still_decodes() {
    let server = MockServer::start_async().await;
    serve(
        &server,
        "/tracking-links",
        json!({
            "data": [{
                "uuid": "55555555-6666-4777-8888-999999999999",
                "name": "Sky",
                "linkUrl": "https://fanvue.com/ada?t=sky",
                "externalSocialPlatform": "bluesky",
                "clicks": 7,
                "createdAt": "2025-03-01T00:00:00Z",
                "engagement": {"acquiredFollowers": 1, "acquiredSubscribers": 2,
                    "totalFollowers": 3, "totalSubscribers": 4},
                "earnings": {"totalGross": 900, "totalNet": 720},
                "conversionRate": 0.5
            }],
            "nextCursor": "n2"
        }),
    )
    .await;

    let links = client(&server)
        .list_tracking_links()
        .send_request()
        .await
        .expect("decodes")
        .into_inner();
    assert_eq!(
        links.data[0].external_social_platform,
        SocialPlatform::Unknown("bluesky".into())
    );
    assert_eq!(links.next_cursor.as_deref(), Some("n2"));
}

#[test]
fn enums_parse_display_and_list_known_values() {
    assert_eq!("ready".parse::<MediaStatus>(), Ok(MediaStatus::Ready));
    assert_eq!(
        MediaStatus::from("gone"),
        MediaStatus::Unknown("gone".into())
    );
    assert_eq!(
        MediaVariantType::ThumbnailGallery.to_string(),
        "thumbnail_gallery"
    );
    assert_eq!(MediaStatus::KNOWN.len(), 4);
    assert!(MediaStatus::KNOWN.iter().all(|s| !s.is_unknown()));
}
