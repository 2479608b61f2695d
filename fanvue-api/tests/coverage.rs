//! The operations the official document added (one test per tag at least):
//! the wire form (method, path, query encoding incl. comma-separated arrays,
//! JSON body) and the decoding of realistic responses, with `null` in every
//! nullable timestamp of the response.

mod common;

use common::{client, exchange, query_of, recording_client};
use fanvue_api::operation::{PageNumberList, SinglePageList};
use fanvue_api::prelude::*;
use fanvue_api::types::{EarningSource, MediaStatus, MediaVariantType};
use httpmock::prelude::*;
use serde_json::json;
use uuid::Uuid;

const FAN: &str = "3f1d2c4b-5a69-4e7f-8a9b-0c1d2e3f4a5b";
const OTHER: &str = "6a1d2c4b-5a69-4e7f-8a9b-0c1d2e3f4a5c";
const CREATOR: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const ITEM: &str = "0b7c7e5e-8f5a-4c55-9d2e-3d1f5c8a9b01";

fn uuid(text: &str) -> Uuid {
    text.parse().expect("test uuid")
}

fn pagination(page: u64, has_more: bool) -> serde_json::Value {
    json!({"page": page, "size": 20, "hasMore": has_more})
}

#[tokio::test]
async fn collections_list_is_one_page_and_create_sends_the_label() {
    let server = MockServer::start_async().await;
    let list = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/collections");
            then.status(200).json_body(json!({
                "data": [
                    {"uuid": ITEM, "label": "Beach", "createdAt": null},
                    {"uuid": FAN, "label": "City", "createdAt": "2025-03-01T10:00:00Z"}
                ],
                "pagination": pagination(1, false)
            }));
        },
        client(&server).list_collections().send_raw(),
    )
    .await;
    let page = <fanvue_api::builder::ListCollections<'_> as SinglePageList>::into_page(list);
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].created_at, None);
    assert!(page.items[1].created_at.is_some());
    assert!(fanvue_api::SINGLE_PAGE_LISTS.contains(&"list-collections"));

    let created = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path("/collections")
                .json_body(json!({"label": "Gym"}));
            then.status(201)
                .json_body(json!({"uuid": OTHER, "label": "Gym", "createdAt": null}));
        },
        client(&server)
            .create_collection()
            .body_map(|body| body.label("Gym"))
            .send_raw(),
    )
    .await;
    assert_eq!(created.label, "Gym");
    assert_eq!(created.created_at, None);
}

#[tokio::test]
async fn vault_folders_list_is_one_page_with_null_created_at() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let list = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/vault/folders");
            then.status(200).json_body(json!({
                "data": [{"name": "Beach", "mediaCount": 3, "createdAt": null}],
                "pagination": pagination(1, false)
            }));
        },
        client.list_vault_folders().send_raw(),
    )
    .await;
    // no paging parameters exist, so none is sent
    assert_eq!(query_of(&recorder.seen()[0].url), "");
    assert_eq!(list.data[0].created_at, None);
    assert_eq!(list.data[0].media_count, 3);
    assert!(fanvue_api::SINGLE_PAGE_LISTS.contains(&"list-vault-folders"));
}

#[tokio::test]
async fn notifications_list_sends_page_size_and_event_type() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let list = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/notifications");
            then.status(200).json_body(json!({
                "data": [{
                    "uuid": ITEM,
                    "eventType": 3,
                    "isRead": false,
                    "createdAt": "2025-03-01T10:00:00Z",
                    "receiverUuid": CREATOR,
                    "data": {"postUuid": OTHER},
                    "originator": {"uuid": FAN, "handle": "fan1", "displayName": "Fan",
                        "avatarUrl": null, "isCreator": false}
                }],
                "pagination": pagination(2, true)
            }));
        },
        client
            .list_notifications()
            .page(2)
            .size(20)
            .event_type(3)
            .send_raw(),
    )
    .await;
    assert_eq!(
        query_of(&recorder.seen()[0].url),
        "eventType=3&page=2&size=20"
    );
    assert_eq!(list.data[0].event_type, 3);
    assert_eq!(
        list.data[0].originator.as_ref().map(|o| o.handle.as_str()),
        Some("fan1")
    );
    let page = <fanvue_api::builder::ListNotifications<'_> as PageNumberList>::into_page(list);
    assert_eq!((page.page, page.has_more), (2, true));
}

#[tokio::test]
async fn chats_list_decodes_null_timestamps_and_sends_comma_filters() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let list = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/chats");
            then.status(200).json_body(json!({
                "data": [{
                    "createdAt": null,
                    "lastMessageAt": null,
                    "isMuted": true,
                    "isRead": false,
                    "unreadMessagesCount": 2,
                    "lastMessage": {
                        "uuid": "m-1",
                        "text": null,
                        "type": "SINGLE_RECIPIENT",
                        "senderUuid": FAN,
                        "sentAt": null,
                        "sentByUserId": null,
                        "hasMedia": null,
                        "mediaType": null
                    },
                    "user": {"uuid": FAN, "handle": "fan1", "displayName": "Fan",
                        "nickname": null, "avatarUrl": null, "isTopSpender": false,
                        "registeredAt": "2024-01-02T03:04:05Z"}
                }],
                "pagination": pagination(1, false)
            }));
        },
        client
            .list_chats()
            .page(1)
            .size(50)
            .search("fan")
            .send_raw(),
    )
    .await;
    assert_eq!(
        query_of(&recorder.seen()[0].url),
        "page=1&search=fan&size=50"
    );
    let chat = &list.data[0];
    assert_eq!(chat.created_at, None);
    assert_eq!(chat.last_message_at, None);
    assert!(chat.is_muted);
    assert_eq!(chat.unread_messages_count, 2);
    let last = chat.last_message.as_ref().expect("last message");
    assert_eq!(last.sent_at, None);
    assert_eq!(last.sent_by_user_id, None);
}

#[tokio::test]
async fn chats_list_mass_messages_with_null_timestamps() {
    let server = MockServer::start_async().await;
    let list = exchange(
        &server,
        |when, then| {
            when.method(GET)
                .path("/chats/mass-messages")
                .query_param("includeDeleted", "true");
            then.status(200).json_body(json!({
                "data": [{
                    "uuid": ITEM,
                    "text": null,
                    "price": null,
                    "mediaUuids": [],
                    "status": "SCHEDULED",
                    "createdAt": null,
                    "publishedAt": null,
                    "scheduledAt": null,
                    "recipientCount": 10,
                    "purchaseCount": 0,
                    "viewCount": 4,
                    "totalRevenue": 0
                }],
                "pagination": pagination(1, false)
            }));
        },
        client(&server)
            .list_mass_messages()
            .include_deleted("true")
            .send_raw(),
    )
    .await;
    let message = &list.data[0];
    assert_eq!(message.created_at, None);
    assert_eq!(message.published_at, None);
    assert_eq!(message.scheduled_at, None);
    assert_eq!(message.recipient_count, 10);
}

#[tokio::test]
async fn media_lists_send_status_and_variants_comma_separated() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let list = exchange(
        &server,
        |when, then| {
            when.method(GET)
                .path("/media")
                .query_param("status", "ready,processing")
                .query_param("variants", "main,thumbnail");
            then.status(200).json_body(json!({
                "data": [{
                    "uuid": ITEM,
                    "status": "ready",
                    "mediaType": "image",
                    "createdAt": null,
                    "caption": null,
                    "description": null,
                    "name": null,
                    "recommendedPrice": null
                }],
                "pagination": pagination(1, false)
            }));
        },
        client
            .get_user_media()
            .status(vec![MediaStatus::Ready, MediaStatus::Processing])
            .variants(vec![MediaVariantType::Main, MediaVariantType::Thumbnail])
            .send_raw(),
    )
    .await;
    assert_eq!(
        query_of(&recorder.seen()[0].url),
        "status=ready,processing&variants=main,thumbnail"
    );
    assert_eq!(list.data[0].status, MediaStatus::Ready);
    assert_eq!(list.data[0].created_at, None);
}

#[tokio::test]
async fn media_grant_sends_the_entitlement_body() {
    let server = MockServer::start_async().await;
    let granted = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path(format!("/media/{ITEM}/grant"))
                .json_body(json!({"consumerId": FAN, "source": "shop", "sourceRef": "order-7"}));
            then.status(200)
                .json_body(json!({"entitlementId": OTHER, "status": "granted"}));
        },
        client(&server)
            .grant_media()
            .uuid(uuid(ITEM))
            .body_map(|body| {
                body.consumer_id(uuid(FAN))
                    .source("shop")
                    .source_ref("order-7")
            })
            .send_raw(),
    )
    .await;
    assert_eq!(granted.entitlement_id, uuid(OTHER));
}

#[tokio::test]
async fn insights_earnings_send_source_comma_separated() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let earnings = exchange(
        &server,
        |when, then| {
            when.method(GET)
                .path("/insights/earnings")
                .query_param("source", "tip,appStore");
            then.status(200).json_body(json!({
                "data": [{
                    "date": "2025-03-01T00:00:00Z",
                    "gross": 1000,
                    "net": 800,
                    "currency": null,
                    "source": "appStore",
                    "transactionOrderId": "o-1",
                    "transactionOrderStatus": "pendingBalance",
                    "user": {"uuid": FAN, "handle": "fan1", "displayName": "Fan",
                        "nickname": null, "isTopSpender": true}
                }],
                "nextCursor": null
            }));
        },
        client
            .get_earnings()
            .source(vec![EarningSource::Tip, EarningSource::AppStore])
            .size(20)
            .send_raw(),
    )
    .await;
    assert_eq!(
        query_of(&recorder.seen()[0].url),
        "size=20&source=tip,appStore"
    );
    assert_eq!(earnings.data[0].source, EarningSource::AppStore);
    assert_eq!(earnings.next_cursor, None);
}

#[tokio::test]
async fn posts_update_pin_and_comment() {
    let server = MockServer::start_async().await;
    let post_json = json!({
        "uuid": ITEM,
        "audience": "subscribers",
        "collections": [{"uuid": OTHER, "label": "Beach"}],
        "commentsCount": 0,
        "likesCount": 1,
        "createdAt": "2025-03-01T00:00:00Z",
        "expiresAt": null,
        "isPinned": true,
        "mediaPreviewUuid": null,
        "mediaUuids": [],
        "price": null,
        "publishAt": null,
        "publishedAt": null,
        "text": "Hello",
        "tips": {"count": 0, "totalGross": 0, "totalNet": 0}
    });
    let reply = post_json.clone();
    let updated = exchange(
        &server,
        |when, then| {
            when.method(PATCH)
                .path(format!("/posts/{ITEM}"))
                .json_body(json!({"text": "Hello", "collectionUuids": [OTHER]}));
            then.status(200).json_body(reply);
        },
        client(&server)
            .update_post()
            .uuid(uuid(ITEM))
            .body_map(|body| {
                body.text(Some("Hello".to_string()))
                    .collection_uuids(vec![uuid(OTHER)])
            })
            .send_raw(),
    )
    .await;
    assert_eq!(updated.collections[0].label, "Beach");
    assert_eq!(updated.published_at, None);

    let pinned = exchange(
        &server,
        |when, then| {
            when.method(POST).path(format!("/posts/{ITEM}/pin"));
            then.status(200).json_body(post_json);
        },
        client(&server).pin_post().uuid(uuid(ITEM)).send_raw(),
    )
    .await;
    assert!(pinned.is_pinned);

    let comment = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path(format!("/posts/{ITEM}/comments"))
                .json_body(json!({"text": "Nice"}));
            then.status(201).json_body(json!({
                "uuid": FAN, "text": "Nice", "createdAt": "2025-03-01T00:00:00Z", "updatedAt": null
            }));
        },
        client(&server)
            .create_post_comment()
            .uuid(uuid(ITEM))
            .body_map(|body| body.text("Nice"))
            .send_raw(),
    )
    .await;
    assert_eq!(comment.updated_at, None);
}

#[tokio::test]
async fn subscribers_list_sends_sorting() {
    let server = MockServer::start_async().await;
    let (client, recorder) = recording_client(&server);
    let list = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/subscribers");
            then.status(200).json_body(json!({
                "data": [{"uuid": FAN, "handle": "fan1", "displayName": "Fan", "nickname": null,
                    "avatarUrl": null, "isTopSpender": false, "registeredAt": "2024-01-02T03:04:05Z"}],
                "pagination": pagination(1, false)
            }));
        },
        client
            .list_subscribers()
            .sort_field("subscribedAt")
            .sort_direction("desc")
            .send_raw(),
    )
    .await;
    assert_eq!(
        query_of(&recorder.seen()[0].url),
        "sortDirection=desc&sortField=subscribedAt"
    );
    assert_eq!(list.data[0].handle, "fan1");
}

#[tokio::test]
async fn agencies_team_members_and_creator_invites() {
    let server = MockServer::start_async().await;
    let members = exchange(
        &server,
        |when, then| {
            when.method(GET).path("/agencies/team-members");
            then.status(200).json_body(json!([{
                "uuid": FAN, "displayName": "Ann", "email": "ann@example.com", "isAdmin": false,
                "nickname": null, "creatorAccess": [{"uuid": CREATOR, "role": "CHATTER"}]
            }]));
        },
        client(&server).list_team_members().send_raw(),
    )
    .await;
    assert_eq!(members[0].nickname, None);
    assert_eq!(members[0].creator_access[0].uuid, uuid(CREATOR));

    let invite = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path("/agencies/creator-invites")
                .json_body(json!({"email": "new@example.com"}));
            then.status(200)
                .json_body(json!({"success": true, "message": "Invite sent"}));
        },
        client(&server)
            .create_creator_invite()
            .body_map(|body| body.email("new@example.com"))
            .send_raw(),
    )
    .await;
    assert!(invite.success);
}

#[tokio::test]
async fn apps_subscription_status() {
    let server = MockServer::start_async().await;
    let status = exchange(
        &server,
        |when, then| {
            when.method(GET)
                .path(format!("/apps/{ITEM}/subscription-status"));
            then.status(200).json_body(json!({
                "appUuid": ITEM, "appName": "Tools", "availability": "complete",
                "overallStatus": "active",
                "pricingPlans": [{"uuid": OTHER, "name": "Pro", "billingType": "recurring",
                    "currencyCode": "USD", "interval": null, "price": 999, "status": "active"}]
            }));
        },
        client(&server)
            .get_app_subscription_status()
            .app_uuid(uuid(ITEM))
            .send_raw(),
    )
    .await;
    assert_eq!(status.app_name, "Tools");
    assert_eq!(status.pricing_plans[0].name, "Pro");
}

#[tokio::test]
async fn insights_batch_decodes_each_key_to_insights_or_error() {
    use fanvue_api::types::{FanInsightsOrError, PerKeyErrorKind};
    let server = MockServer::start_async().await;
    let batch = exchange(
        &server,
        |when, then| {
            when.method(POST)
                .path("/insights/fans/batch")
                .json_body(json!({"userUuids": [FAN, OTHER, ITEM]}));
            then.status(200).json_body(json!({
                FAN: {
                    "status": "subscriber",
                    "spending": {
                        "lastPurchaseAt": null,
                        // `gross` is "DEPRECATED: use `total`": never required
                        "maxSinglePayment": {"total": 5000},
                        "sources": {"tips": {"total": 5000.0}},
                        "total": {"gross": 12000, "total": 12000}
                    },
                    "subscription": {"autoRenewalEnabled": true, "createdAt": null, "renewsAt": null}
                },
                OTHER: {"error": "not_found"},
                ITEM: {"error": "rate_limited"}
            }));
        },
        client(&server)
            .batch_fan_insights()
            .body_map(|body| body.user_uuids(vec![uuid(FAN), uuid(OTHER), uuid(ITEM)]))
            .send_raw(),
    )
    .await;
    assert_eq!(batch.len(), 3);
    match &batch[FAN] {
        FanInsightsOrError::FanInsights(insights) => {
            assert_eq!(insights.spending.total.total, 12000);
            assert_eq!(insights.spending.sources["tips"].total, 5000);
            assert_eq!(insights.spending.last_purchase_at, None);
            assert_eq!(insights.subscription.created_at, None);
        }
        other => panic!("expected insights, got {other:?}"),
    }
    match &batch[OTHER] {
        FanInsightsOrError::PerKeyError(e) => assert_eq!(e.error, PerKeyErrorKind::NotFound),
        other => panic!("expected a per-key error, got {other:?}"),
    }
    // an error kind this spec does not list still decodes as an error
    match &batch[ITEM] {
        FanInsightsOrError::PerKeyError(e) => {
            assert_eq!(e.error, PerKeyErrorKind::Unknown("rate_limited".into()))
        }
        other => panic!("expected a per-key error, got {other:?}"),
    }
}
