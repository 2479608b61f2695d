//! One operation per tag, called through the generated client against a
//! loopback mock: method, path, query string, JSON body and decoded response.

mod common;

use common::{
    chat_user_json, client, current_user_json, exchange, media_json, page_json, query_of,
    recording_client,
};
use fanvue_api::enums::{
    EarningSource, MediaStatus, MediaVariantType, PostAudience, SmartListId, SocialPlatform,
};
use fanvue_api::operation::Operation as _;
use fanvue_api::prelude::*;
use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;
use uuid::Uuid;

const FAN: &str = "3f1d2c4b-5a69-4e7f-8a9b-0c1d2e3f4a5b";
const CREATOR: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const MEDIA: &str = "0b7c7e5e-8f5a-4c55-9d2e-3d1f5c8a9b01";

fn uuid(text: &str) -> Uuid {
    text.parse().expect("test uuid")
}

#[tokio::test]
async fn users_get_current_user() {
    let server = MockServer::start_async().await;
    let user = exchange(
        &server,
        |when, then| {
            when.method(GET)
                .path("/users/me")
                .header("accept", "application/json");
            then.status(200).json_body(current_user_json());
        },
        client(&server).get_current_user().send_request(),
    )
    .await;
    assert_eq!(user.handle, "ada");
    assert_eq!(user.email, "ada@example.com");
    assert!(user.is_creator);
    assert_eq!(user.avatar_url, None);
}

#[tokio::test]
async fn media_get_user_media_by_uuid_sends_variants_comma_separated() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let media = exchange(
        &server,
        |when, then| {
            when.method(GET)
                .path(format!("/media/{MEDIA}"))
                .query_param("variants", "main,thumbnail")
                .query_param("purchasedBy", FAN);
            then.status(200).json_body(media_json("ready"));
        },
        client
            .get_user_media_by_uuid()
            .uuid(uuid(MEDIA))
            .purchased_by(uuid(FAN))
            .variants(vec![MediaVariantType::Main, MediaVariantType::Thumbnail])
            .send_request(),
    )
    .await;
    assert_eq!(
        query_of(&recorder.seen()[0].url),
        format!("purchasedBy={FAN}&variants=main,thumbnail")
    );
    assert_eq!(media.status, MediaStatus::Ready);
    assert_eq!(media.variants[0].variant_type, MediaVariantType::Thumbnail);
    assert_eq!(media.variants[0].width, Some(320));
}

#[tokio::test]
async fn media_get_upload_part_url_returns_the_plain_text_url() {
    let server = MockServer::start_async().await;
    let stream = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/media/uploads/up-1/parts/3/url");
            then.status(200)
                .header("content-type", "text/plain")
                .body("https://s3.example.com/bucket/key?partNumber=3&X-Amz-Signature=abc");
        },
        client(&server)
            .get_upload_part_url()
            .upload_id("up-1")
            .part_number(3)
            .send_request(),
    )
    .await;
    let chunks: Vec<bytes::Bytes> = stream.into_inner().try_collect().await.expect("body");
    let body = String::from_utf8(chunks.concat()).expect("utf-8");
    assert_eq!(
        body,
        "https://s3.example.com/bucket/key?partNumber=3&X-Amz-Signature=abc"
    );
}

#[tokio::test]
async fn chats_create_chat_sends_the_json_body() {
    let server = MockServer::start_async().await;
    let created = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path("/chats")
                .header("content-type", "application/json")
                .json_body(json!({"userUuid": FAN}));
            then.status(201)
                .json_body(json!({"message": "Chat created"}));
        },
        client(&server)
            .create_chat()
            .body_map(|body| body.user_uuid(uuid(FAN)))
            .send_request(),
    )
    .await;
    assert_eq!(created.message, "Chat created");
}

#[tokio::test]
async fn chat_messages_send_message() {
    let server = MockServer::start_async().await;
    let sent = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path(format!("/chats/{FAN}/message"))
                .json_body(json!({"text": "hi", "mediaUuids": [MEDIA], "price": 500}));
            then.status(201)
                .json_body(json!({"messageUuid": "11111111-2222-4333-8444-555555555555"}));
        },
        client(&server)
            .send_message()
            .user_uuid(uuid(FAN))
            .body_map(|body| {
                body.text(Some("hi".to_string()))
                    .media_uuids(vec![uuid(MEDIA)])
                    .price(Some(fanvue_api::Cents::from(500)))
            })
            .send_request(),
    )
    .await;
    assert_eq!(
        sent.message_uuid,
        uuid("11111111-2222-4333-8444-555555555555")
    );
}

#[tokio::test]
async fn chat_templates_list_template_messages() {
    let server = MockServer::start_async().await;
    let template = json!({
        "uuid": "22222222-3333-4444-8555-666666666666",
        "text": "Welcome!",
        "price": null,
        "mediaUuids": [],
        "folderName": "greetings"
    });
    let (client, recorder) = recording_client(&server);
    let page = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/chats/templates");
            then.status(200)
                .json_body(page_json(vec![template.clone()], 1, false));
        },
        client
            .list_template_messages()
            .page(1)
            .size(20)
            .folder_name("greetings")
            .send_request(),
    )
    .await;
    assert_eq!(
        query_of(&recorder.seen()[0].url),
        "folderName=greetings&page=1&size=20"
    );
    assert_eq!(page.data[0].text.as_deref(), Some("Welcome!"));
    assert!(!page.pagination.has_more);
}

#[tokio::test]
async fn chat_custom_lists_create_custom_list() {
    let server = MockServer::start_async().await;
    let list = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path("/chats/lists/custom")
                .json_body(json!({"name": "VIP"}));
            then.status(201).json_body(json!({
                "uuid": "33333333-4444-4555-8666-777777777777",
                "name": "VIP",
                "createdAt": "2025-01-01T00:00:00Z"
            }));
        },
        client(&server)
            .create_custom_list()
            .body_map(|body| body.name("VIP"))
            .send_request(),
    )
    .await;
    assert_eq!(list.name, "VIP");
}

#[tokio::test]
async fn chat_smart_lists_get_smart_lists() {
    let server = MockServer::start_async().await;
    let lists = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/chats/lists/smart");
            then.status(200).json_body(json!([
                {"uuid": "subscribers", "name": "Subscribers", "count": 12},
                {"uuid": "followers", "name": "Followers", "count": 40}
            ]));
        },
        client(&server).get_smart_lists().send_request(),
    )
    .await;
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0].uuid, SmartListId::Subscribers);
    assert_eq!(lists[1].count, 40);
}

#[tokio::test]
async fn chat_custom_list_members_add_members() {
    let server = MockServer::start_async().await;
    let list = "33333333-4444-4555-8666-777777777777";
    let result = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path(format!("/chats/lists/custom/{list}/members"))
                .json_body(json!({"userUuids": [FAN]}));
            then.status(201)
                .json_body(json!({"added": 1, "skipped": 0}));
        },
        client(&server)
            .add_members_to_custom_list()
            .uuid(uuid(list))
            .body_map(|body| body.user_uuids(vec![uuid(FAN)]))
            .send_request(),
    )
    .await;
    assert_eq!((result.added, result.skipped), (1, 0));
}

#[tokio::test]
async fn agencies_get_creator_media_by_uuid() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let media = exchange(
        &server,
        |when, then| {
            when.method(GET)
                .path(format!("/creators/{CREATOR}/media/{MEDIA}"))
                .query_param("variants", "main,blurred");
            then.status(200).json_body(media_json("processing"));
        },
        client
            .get_creator_media_by_uuid()
            .creator_user_uuid(uuid(CREATOR))
            .uuid(uuid(MEDIA))
            .variants(vec![MediaVariantType::Main, MediaVariantType::Blurred])
            .send_request(),
    )
    .await;
    assert_eq!(query_of(&recorder.seen()[0].url), "variants=main,blurred");
    assert_eq!(recorder.seen()[0].meta.tag, "agencies");
    assert_eq!(media.status, MediaStatus::Processing);
}

#[tokio::test]
async fn creators_list_followers() {
    let server = MockServer::start_async().await;
    let page = exchange(
        &server,
        |when, then| {
            when.method(GET)
                .path("/followers")
                .query_param("page", "3")
                .query_param("size", "50");
            then.status(200)
                .json_body(page_json(vec![chat_user_json()], 3, true));
        },
        client(&server)
            .list_followers()
            .page(3)
            .size(50)
            .send_request(),
    )
    .await;
    assert_eq!(page.data[0].handle, "fan1");
    assert_eq!(page.pagination.page, 3);
    assert!(page.pagination.has_more);
}

#[tokio::test]
async fn insights_get_earnings_sends_source_comma_separated() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let earnings = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/insights/earnings");
            then.status(200).json_body(json!({
                "data": [{
                    "date": "2025-03-01T00:00:00Z",
                    "gross": 1000,
                    "net": 800,
                    "currency": "USD",
                    "source": "tip",
                    "transactionOrderId": "order-1",
                    "transactionOrderStatus": "availableForPayout",
                    "user": null
                }],
                "nextCursor": "next-1"
            }));
        },
        client
            .get_earnings()
            .source(vec![EarningSource::Tip, EarningSource::Message])
            .cursor("c-0")
            .size(20)
            .send_request(),
    )
    .await;
    assert_eq!(
        query_of(&recorder.seen()[0].url),
        "cursor=c-0&size=20&source=tip,message"
    );
    assert_eq!(earnings.data[0].gross, 1000);
    assert_eq!(earnings.data[0].source, EarningSource::Tip);
    assert_eq!(earnings.next_cursor.as_deref(), Some("next-1"));
}

#[tokio::test]
async fn posts_create_post() {
    let server = MockServer::start_async().await;
    let post = exchange(
        &server,
        |when, then| {
            when.method(POST).path("/posts").json_body(
                json!({"audience": "followers-and-subscribers", "text": "New set", "price": 999}),
            );
            then.status(201).json_body(json!({
                "uuid": "44444444-5555-4666-8777-888888888888",
                "audience": "followers-and-subscribers",
                "createdAt": "2025-03-01T00:00:00Z",
                "expiresAt": null,
                "price": 999,
                "publishAt": null,
                "publishedAt": "2025-03-01T00:00:00Z",
                "text": "New set",
                "mediaPreviewUuid": null,
                "mediaUuids": [],
                "isPinned": false,
                "likesCount": 0,
                "commentsCount": 0,
                "tips": {"count": 0, "totalGross": 0, "totalNet": 0},
                "collections": []
            }));
        },
        client(&server)
            .create_post()
            .body_map(|body| {
                body.audience(PostAudience::FollowersAndSubscribers)
                    .text(Some("New set".to_string()))
                    .price(Some(fanvue_api::Cents::from(999)))
            })
            .send_request(),
    )
    .await;
    assert_eq!(post.audience, PostAudience::FollowersAndSubscribers);
    assert_eq!(post.price, Some(fanvue_api::Cents::from(999)));
}

#[tokio::test]
async fn tracking_links_create_tracking_link() {
    let server = MockServer::start_async().await;
    let link = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path("/tracking-links")
                .json_body(json!({"name": "Spring", "externalSocialPlatform": "reddit"}));
            then.status(201).json_body(json!({
                "uuid": "55555555-6666-4777-8888-999999999999",
                "name": "Spring",
                "linkUrl": "https://fanvue.com/ada?t=spring",
                "externalSocialPlatform": "reddit",
                "clicks": 0,
                "createdAt": "2025-03-01T00:00:00Z",
                "engagement": {"acquiredFollowers": 0, "acquiredSubscribers": 0, "totalFollowers": 0, "totalSubscribers": 0},
                "earnings": null
            }));
        },
        client(&server)
            .create_tracking_link()
            .body_map(|body| {
                body.name("Spring")
                    .external_social_platform(SocialPlatform::Reddit)
            })
            .send_request(),
    )
    .await;
    assert_eq!(link.external_social_platform, SocialPlatform::Reddit);
    assert_eq!(link.clicks, 0);
}

#[tokio::test]
async fn vault_create_vault_folder() {
    let server = MockServer::start_async().await;
    let folder = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path("/vault/folders")
                .json_body(json!({"name": "Beach"}));
            then.status(201).json_body(json!({
                "name": "Beach",
                "createdAt": "2025-03-01T00:00:00Z",
                "mediaCount": 0
            }));
        },
        client(&server)
            .create_vault_folder()
            .body_map(|body| body.name("Beach"))
            .send_request(),
    )
    .await;
    assert_eq!(folder.name, "Beach");
    assert_eq!(folder.media_count, 0);
}

#[tokio::test]
async fn error_responses_decode_to_api_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/users/me");
            then.status(410).json_body(json!({
                "error": "version_sunset",
                "message": "API version 2025-06-26 is no longer supported",
                "nextVersion": "2026-01-01"
            }));
        })
        .await;
    let error = client(&server)
        .get_current_user()
        .send_request()
        .await
        .expect_err("410");
    let status = error.status().map(|s| s.as_u16());
    let fanvue_api::Error::ErrorResponse(body) = error else {
        panic!("expected a typed error response");
    };
    assert_eq!(status, Some(410));
    assert_eq!(body.next_version.as_deref(), Some("2026-01-01"));
    assert_eq!(body.error.as_deref(), Some("version_sunset"));
}
