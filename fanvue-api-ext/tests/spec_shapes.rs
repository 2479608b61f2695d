//! Operations whose parameters or responses the spec shapes unusually, sent
//! through the client users hold: a path parameter named `uuid` that is an
//! enum, and an average that is a decimal.

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

fn members_page() -> serde_json::Value {
    json!({
        "data": [{
            "uuid": fixtures::uuid(1),
            "displayName": "Fan One",
            "handle": "fan1",
            "isCreator": false,
        }],
        "pagination": {"page": 1, "size": 20, "hasMore": false},
    })
}

#[tokio::test]
async fn smart_list_members_are_sent_with_their_enum_path_parameter() {
    let server = Server::start(|_| Reply::json(200, members_page())).await;
    let fanvue = client(&server);
    let creator = fixtures::uuid(7);
    let page = fanvue
        .api()
        .get_smart_list_members()
        .uuid(types::SmartListId::Subscribers)
        .size(20)
        .send()
        .await
        .expect("the smart-list operation is sent and decoded");
    assert_eq!(page.data.len(), 1);
    let page = fanvue
        .api()
        .get_creator_smart_list_members()
        .creator_user_uuid(creator.as_str())
        .uuid(types::SmartListId::SpentMoreThan50)
        .send()
        .await
        .expect("the agency variant too");
    assert_eq!(page.pagination.page, 1);
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/chats/lists/smart/subscribers".to_string(),
            format!("/creators/{creator}/chats/lists/smart/spent_more_than_50"),
        ]
    );

    // A value the spec's enum does not list is refused before sending.
    let err = fanvue
        .api()
        .get_smart_list_members()
        .uuid(types::SmartListId::Unknown("everyone".into()))
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::InvalidInput { what, reason } => {
            assert_eq!(what, "path parameter uuid");
            assert!(
                reason.contains("(enum)") && reason.contains("subscribers"),
                "{reason}"
            );
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 2, "nothing was sent for it");
}

#[tokio::test]
async fn a_leaderboard_average_response_time_decodes_as_a_decimal() {
    let row = |avg: serde_json::Value| {
        json!({
            "chatterUuid": fixtures::uuid(3),
            "chatterName": "Top Performer",
            "avatarUrl": null,
            "messages": 1240,
            "ppvsSent": 86,
            "ppvsUnlocked": 41,
            "revenue": 124500,
            "goldenRatio": 0.033,
            "unlockRatio": 0.477,
            "activeHours": 38.5,
            "eph": 3233,
            "avgResponseMs": avg,
        })
    };
    let body = json!({"data": [row(json!(412.5)), row(json!(45200)), row(json!(null))]});
    let server = Server::start(move |_| Reply::json(200, body.clone())).await;
    let fanvue = client(&server);
    let board = fanvue
        .api()
        .get_chatter_leaderboard()
        .send()
        .await
        .expect("an average in milliseconds with a fraction decodes");
    let averages: Vec<Option<f64>> = board.data.iter().map(|r| r.avg_response_ms).collect();
    assert_eq!(averages, [Some(412.5), Some(45200.0), None]);
}
