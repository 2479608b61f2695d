//! The `mock` feature: progenitor's typed httpmock helpers.

#![cfg(feature = "mock")]

mod common;

use fanvue_api::enums::MediaVariantType;
use fanvue_api::mock::MockServerExt;
use fanvue_api::operation::Operation as _;
use fanvue_api::prelude::*;
use fanvue_api::types;
use fanvue_api::variants::VariantList;
use httpmock::MockServer;

#[tokio::test]
async fn typed_mocks_match_requests_and_serve_typed_responses() {
    let server = MockServer::start_async().await;
    let user: types::CurrentUser =
        serde_json::from_value(common::current_user_json()).expect("user fixture");
    let served = user.clone();
    let me = server.get_current_user(move |_when, then| {
        then.ok(&served);
    });
    let variants: VariantList = [MediaVariantType::Main, MediaVariantType::Thumbnail].into();
    let page: types::GetUserMediaResponse = serde_json::from_value(serde_json::json!({
        "data": [],
        "pagination": {"page": 3, "size": 15, "hasMore": false}
    }))
    .expect("page fixture");
    let served_page = page.clone();
    let media = server.get_user_media(move |when, then| {
        when.page(std::num::NonZeroU64::new(3).unwrap())
            .variants(&variants);
        then.ok(&served_page);
    });
    let client = common::client(&server);

    let got = client.get_current_user().send_request().await.expect("me");
    assert_eq!(got.into_inner(), user);
    let got = client
        .get_user_media()
        .page(3u64)
        .variants(vec![MediaVariantType::Main, MediaVariantType::Thumbnail])
        .send_request()
        .await
        .expect("media");
    assert_eq!(got.into_inner(), page);
    me.assert();
    media.assert();
}
