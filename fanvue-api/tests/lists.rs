//! The list operations, detected from the spec's response shapes, implement
//! `PageNumberList` / `CursorList`.

mod common;

use common::{query_of, recording_client};
use fanvue_api::executor::OperationMeta;
use fanvue_api::operation::{CursorList, Operation, PageNumberList};
use fanvue_api::prelude::*;
use fanvue_api::{CURSOR_LISTS, PAGE_NUMBER_LISTS, SINGLE_PAGE_LISTS};
use httpmock::prelude::*;
use serde_json::{Value, json};

/// Follows `$ref`s to component schemas.
fn resolve<'a>(spec: &'a Value, mut v: &'a Value) -> Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        v = &spec["components"]["schemas"][name];
    }
    v.clone()
}

/// The list operations of the spec, computed here independently of the build script.
fn lists_in_spec() -> (Vec<String>, Vec<String>, Vec<String>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/fanvue.json");
    let text = std::fs::read_to_string(path).expect("spec readable");
    let spec: Value = serde_json::from_str(&text).expect("spec is JSON");
    let resolve = |v: &Value| resolve(&spec, v);
    let (mut pages, mut cursors, mut single) = (Vec::new(), Vec::new(), Vec::new());
    for item in spec["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            let query: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let body = resolve(&op["responses"]["200"]["content"]["application/json"]["schema"]);
            let props = &body["properties"];
            let has = |name: &str| query.contains(&name);
            if resolve(&props["data"])["type"] != "array" {
                continue;
            }
            let id = op["operationId"].as_str().expect("id").to_string();
            if props.get("pagination").is_some() && has("page") && has("size") {
                pages.push(id);
            } else if props.get("pagination").is_some() && !has("page") && !has("size") {
                single.push(id);
            } else if props.get("nextCursor").is_some()
                && has("cursor")
                && (has("size") || has("limit"))
            {
                cursors.push(id);
            }
        }
    }
    (pages, cursors, single)
}

#[test]
fn every_list_of_the_spec_implements_its_list_trait() {
    let (pages, cursors, single) = lists_in_spec();
    let sorted = |ids: &[&str]| {
        let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        ids.sort();
        ids
    };
    let (mut pages, mut cursors, mut single) = (pages, cursors, single);
    pages.sort();
    cursors.sort();
    single.sort();
    assert_eq!(sorted(PAGE_NUMBER_LISTS), pages);
    assert_eq!(sorted(CURSOR_LISTS), cursors);
    assert_eq!(sorted(SINGLE_PAGE_LISTS), single);
    // The official document (2025-06-26): 39 lists answer `{data, pagination}`,
    // 36 of them with `page`/`size` parameters and 3 without (one page
    // only); 11 lists answer `{data, nextCursor}`.
    assert_eq!(PAGE_NUMBER_LISTS.len(), 36, "{PAGE_NUMBER_LISTS:?}");
    assert_eq!(
        sorted(SINGLE_PAGE_LISTS),
        [
            "list-collections",
            "list-creator-vault-folders",
            "list-vault-folders"
        ]
    );
    assert_eq!(CURSOR_LISTS.len(), 11, "{CURSOR_LISTS:?}");
    for id in PAGE_NUMBER_LISTS
        .iter()
        .chain(CURSOR_LISTS)
        .chain(SINGLE_PAGE_LISTS)
    {
        let meta = OperationMeta::find(id).expect("list id is an operation");
        assert_eq!(meta.method, "GET", "{id}");
    }
}

fn page_size<O: PageNumberList>(_: &O) -> u64 {
    O::MAX_PAGE_SIZE
}

#[tokio::test]
async fn page_number_list_sets_page_and_size_and_splits_the_page() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/media")
                .query_param("page", "2")
                .query_param("size", "10");
            then.status(200).json_body(json!({
                "data": [{"uuid": "0b7c7e5e-8f5a-4c55-9d2e-3d1f5c8a9b01", "status": "ready"}],
                "pagination": {"page": 2, "size": 10, "hasMore": true}
            }));
        })
        .await;
    let (client, recorder) = recording_client(&server);

    let op = client.get_user_media().with_page(2).with_page_size(10);
    assert_eq!(page_size(&op), 50);
    let response = op.send_request().await.expect("page 2");
    let page =
        <fanvue_api::builder::GetUserMedia<'_> as PageNumberList>::into_page(response.into_inner());
    assert_eq!(page.page, 2);
    assert!(page.has_more);
    assert_eq!(page.items.len(), 1);
    assert_eq!(query_of(&recorder.seen()[0].url), "page=2&size=10");
}

#[tokio::test]
async fn cursor_list_sets_cursor_and_limit_and_ends_on_null() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/tracking-links")
                .query_param("cursor", "abc")
                .query_param("limit", "5");
            then.status(200)
                .json_body(json!({"data": [], "nextCursor": null}));
        })
        .await;
    let (client, recorder) = recording_client(&server);

    let op = client
        .list_tracking_links()
        .with_cursor("abc".to_string())
        .with_page_size(5);
    let response = op.send_request().await.expect("cursor page");
    let page = <fanvue_api::builder::ListTrackingLinks<'_> as CursorList>::into_page(
        response.into_inner(),
    );
    assert_eq!(page.next_cursor, None);
    assert!(page.items.is_empty());
    let query = query_of(&recorder.seen()[0].url).to_string();
    assert!(
        query.contains("cursor=abc") && query.contains("limit=5"),
        "{query}"
    );
}
