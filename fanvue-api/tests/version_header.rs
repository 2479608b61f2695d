//! The generated client sends the pinned `X-Fanvue-API-Version` on its own and
//! not progenitor's generic `api-version` header.

mod common;

use common::{client, current_user_json};
use fanvue_api::operation::Operation as _;
use fanvue_api::prelude::*;
use httpmock::prelude::*;

#[tokio::test]
async fn bare_client_sends_the_pinned_fanvue_version_header_only() {
    let server = MockServer::start_async().await;
    let pinned = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/users/me")
                .header("x-fanvue-api-version", fanvue_api::API_VERSION)
                .header_missing("api-version");
            then.status(200).json_body(current_user_json());
        })
        .await;
    client(&server)
        .get_current_user()
        .send_request()
        .await
        .expect("the request matches: pinned version header, no generic api-version");
    pinned.assert_async().await;
    assert_eq!(fanvue_api::API_VERSION, "2025-06-26");
}
