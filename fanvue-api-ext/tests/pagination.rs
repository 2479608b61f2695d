//! Page and item streams: across pages, limits, resume, errors mid-stream.

mod support;

use fanvue_api_ext::Error;
use fanvue_api_ext::prelude::*;
use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::json;
use support::{Recorded, Reply, Server, client, fixtures};

/// A page-number list of `total` followers, honouring `page` and `size` (default 15).
fn numbered(total: u64) -> impl Fn(&Recorded) -> Reply {
    move |r| {
        let page: u64 = r.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let size: u64 = r.query("size").and_then(|p| p.parse().ok()).unwrap_or(15);
        let start = (page - 1) * size;
        let data: Vec<_> = (start..total.min(start + size))
            .map(fixtures::follower)
            .collect();
        Reply::json(
            200,
            json!({"data": data, "pagination": {"page": page, "size": size, "hasMore": start + size < total}}),
        )
    }
}

/// A cursor list of `total` items (`cursor` + `limit`); the cursor is the next index as text.
fn cursored(total: u64) -> impl Fn(&Recorded) -> Reply {
    move |r| {
        let start: u64 = r.query("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
        let size: u64 = r.query("limit").and_then(|p| p.parse().ok()).unwrap_or(20);
        let end = total.min(start + size);
        let data: Vec<_> = (start..end).map(fixtures::tracking_link).collect();
        let next = (end < total).then(|| end.to_string());
        Reply::json(200, json!({"data": data, "nextCursor": next}))
    }
}

fn followers(items: &[fanvue_api::types::ChatUser]) -> Vec<u64> {
    items
        .iter()
        .map(|f| f.handle["fan-".len()..].parse().unwrap())
        .collect()
}

fn links(items: &[fanvue_api::types::TrackingLink]) -> Vec<u64> {
    items
        .iter()
        .map(|l| l.name["link-".len()..].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn page_numbers_across_pages() {
    let server = Server::start(numbered(23)).await;
    let fanvue = client(&server);
    let items: Vec<_> = fanvue
        .api()
        .list_followers()
        .paginate()
        .page_size(10)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(followers(&items), (0..23).collect::<Vec<_>>());
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for (i, request) in requests.iter().enumerate() {
        assert_eq!(request.query("page"), Some((i + 1).to_string()));
        assert_eq!(request.query("size"), Some("10".into()));
    }
}

#[tokio::test]
async fn pages_report_position_and_resume() {
    let server = Server::start(numbered(40)).await;
    let fanvue = client(&server);
    let pages: Vec<_> = fanvue
        .api()
        .list_followers()
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.iter().map(|p| p.page).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(pages[1].has_more && !pages[2].has_more);
    // resume after page 2
    let rest: Vec<_> = fanvue
        .api()
        .list_followers()
        .paginate()
        .start_page(pages[1].page + 1)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(followers(&rest), (30..40).collect::<Vec<_>>());
    assert_eq!(
        server.requests().last().unwrap().query("page"),
        Some("3".into())
    );
}

#[tokio::test]
async fn item_limit_stops_fetching() {
    let server = Server::start(numbered(1000)).await;
    let fanvue = client(&server);
    let items: Vec<_> = fanvue
        .api()
        .list_followers()
        .paginate()
        .page_size(50)
        .max_items(120)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 120);
    assert_eq!(server.requests().len(), 3);
    // taking from the stream stops it too
    let server = Server::start(numbered(1000)).await;
    let fanvue = client(&server);
    let first: Vec<_> = fanvue
        .api()
        .list_followers()
        .items()
        .take(5)
        .collect()
        .await;
    assert_eq!(first.len(), 5);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn error_mid_stream_is_yielded_and_ends_the_stream() {
    let inner = numbered(100);
    let server = Server::start(move |r| {
        if r.query("page").as_deref() == Some("2") {
            Reply::json(404, json!({"message": "gone"}))
        } else {
            inner(r)
        }
    })
    .await;
    let fanvue = client(&server);
    let results: Vec<_> = fanvue
        .api()
        .list_followers()
        .paginate()
        .page_size(10)
        .items()
        .collect()
        .await;
    assert_eq!(results.len(), 11, "10 items, then the error, then the end");
    assert!(results[..10].iter().all(Result::is_ok));
    assert!(matches!(&results[10], Err(Error::NotFound { .. })));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn cursors_across_pages_and_resume() {
    let server = Server::start(cursored(45)).await;
    let fanvue = client(&server);
    let pages: Vec<_> = fanvue
        .api()
        .list_tracking_links()
        .paginate()
        .page_size(20)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].next_cursor.as_deref(), Some("20"));
    assert_eq!(pages[2].next_cursor, None);
    let requests = server.requests();
    assert_eq!(requests[0].query("cursor"), None);
    assert_eq!(
        requests[0].query("limit"),
        Some("20".into()),
        "page size goes in `limit` here"
    );
    assert_eq!(requests[1].query("cursor"), Some("20".into()));
    assert_eq!(requests[2].query("cursor"), Some("40".into()));

    let rest: Vec<_> = fanvue
        .api()
        .list_tracking_links()
        .paginate()
        .page_size(20)
        .start_cursor("40")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(links(&rest), (40..45).collect::<Vec<_>>());

    let limited: Vec<_> = fanvue
        .api()
        .list_tracking_links()
        .paginate()
        .page_size(20)
        .max_items(25)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(limited.len(), 25);
}

#[tokio::test]
async fn out_of_range_page_size_fails_without_a_request() {
    let server = Server::start(numbered(10)).await;
    let fanvue = client(&server);
    for size in [0, 51, 1000] {
        let results: Vec<_> = fanvue
            .api()
            .list_followers()
            .paginate()
            .page_size(size)
            .pages()
            .collect()
            .await;
        assert_eq!(results.len(), 1);
        assert!(
            matches!(&results[0], Err(Error::InvalidInput { .. })),
            "{size}"
        );
    }
    // The tracking-link lists' `limit` has no maximum in the official
    // document (MAX_PAGE_SIZE = u64::MAX), only `> 0`.
    let results: Vec<_> = fanvue
        .api()
        .list_tracking_links()
        .paginate()
        .page_size(0)
        .items()
        .collect()
        .await;
    assert!(matches!(&results[..], [Err(Error::InvalidInput { .. })]));
    let results: Vec<_> = fanvue
        .api()
        .list_followers()
        .paginate()
        .start_page(0)
        .pages()
        .collect()
        .await;
    assert!(matches!(&results[..], [Err(Error::InvalidInput { .. })]));
    assert!(server.requests().is_empty());
}

/// Collects a stream's results, failing the test if it has not ended within 10 s.
async fn within_time<T>(
    stream: futures::stream::BoxStream<'_, Result<T, Error>>,
) -> Vec<Result<T, Error>> {
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.collect())
        .await
        .expect("the stream ended")
}

#[tokio::test]
async fn a_server_ignoring_page_stops_the_stream_with_a_typed_error() {
    // Always page 1, always "more": the same items forever unless the stream notices.
    let server = Server::start(|_| {
        let data: Vec<_> = (0..3).map(fixtures::follower).collect();
        Reply::json(
            200,
            json!({"data": data, "pagination": {"page": 1, "size": 3, "hasMore": true}}),
        )
    })
    .await;
    let fanvue = client(&server);
    let results = within_time(fanvue.api().list_followers().paginate().items()).await;
    assert_eq!(results.len(), 4, "page 1's items, then the error");
    assert!(results[..3].iter().all(Result::is_ok));
    match &results[3] {
        Err(Error::Pagination { operation, reason }) => {
            assert_eq!(*operation, "list-followers");
            assert!(
                reason.contains("requested page 2") && reason.contains("page 1"),
                "{reason}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.requests()[1].query("page"), Some("2".into()));
}

/// A cursor list whose cursors go `None → A → B → A → ...`.
fn cursor_cycle(r: &Recorded) -> Reply {
    let next = match r.query("cursor").as_deref() {
        None => "A",
        Some("A") => "B",
        _ => "A",
    };
    Reply::json(
        200,
        json!({"data": [fixtures::tracking_link(1)], "nextCursor": next}),
    )
}

#[tokio::test]
async fn a_cursor_cycle_stops_the_stream_with_a_typed_error() {
    let server = Server::start(cursor_cycle).await;
    let fanvue = client(&server);
    let results = within_time(fanvue.api().list_tracking_links().pages()).await;
    assert_eq!(results.len(), 4, "three pages, then the error");
    match &results[3] {
        Err(Error::Pagination { operation, reason }) => {
            assert_eq!(*operation, "list-tracking-links");
            assert!(reason.contains("\"A\""), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let cursors: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.query("cursor"))
        .collect();
    assert_eq!(cursors, [None, Some("A".into()), Some("B".into())]);

    // the same from a start cursor: A → B → A
    let server = Server::start(cursor_cycle).await;
    let results = within_time(
        client(&server)
            .api()
            .list_tracking_links()
            .paginate()
            .start_cursor("A")
            .items(),
    )
    .await;
    assert!(matches!(
        results.last(),
        Some(Err(Error::Pagination { .. }))
    ));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_cursor_pointing_at_its_own_page_is_an_error_not_the_end() {
    let server = Server::start(|r: &Recorded| {
        let cursor = r.query("cursor").unwrap_or_else(|| "A".into());
        Reply::json(
            200,
            json!({"data": [fixtures::tracking_link(1)], "nextCursor": cursor}),
        )
    })
    .await;
    let fanvue = client(&server);
    let results = within_time(fanvue.api().list_tracking_links().items()).await;
    // first page (next A), page A (next A again): stopped, and reported
    assert!(
        matches!(results.last(), Some(Err(Error::Pagination { .. }))),
        "{results:?}"
    );
    assert_eq!(server.requests().len(), 2);
}

/// A cursor list that never ends: every page has a new cursor, and
/// `items_per_page` items.
fn endless(items_per_page: u64) -> impl Fn(&Recorded) -> Reply {
    move |r| {
        let n: u64 = r.query("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
        let data: Vec<_> = (0..items_per_page).map(fixtures::tracking_link).collect();
        Reply::json(
            200,
            json!({"data": data, "nextCursor": (n + 1).to_string()}),
        )
    }
}

#[tokio::test]
async fn empty_pages_with_new_cursors_stop_the_stream_with_a_typed_error() {
    let server = Server::start(endless(0)).await;
    let fanvue = client(&server);
    let results = within_time(fanvue.api().list_tracking_links().pages()).await;
    assert_eq!(
        results.len(),
        fanvue_api_ext::pagination::MAX_EMPTY_PAGES_IN_ROW as usize + 1,
        "the empty pages, then the error"
    );
    match results.last() {
        Some(Err(Error::Pagination { operation, reason })) => {
            assert_eq!(*operation, "list-tracking-links");
            assert!(reason.contains("empty pages"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        server.requests().len(),
        fanvue_api_ext::pagination::MAX_EMPTY_PAGES_IN_ROW as usize
    );
}

#[tokio::test]
async fn a_page_cap_stops_an_endless_stream() {
    let server = Server::start(endless(1)).await;
    let fanvue = client(&server);
    let results = within_time(
        fanvue
            .api()
            .list_tracking_links()
            .paginate()
            .max_pages(5)
            .items(),
    )
    .await;
    assert_eq!(results.len(), 6, "five pages of one item, then the error");
    assert!(results[..5].iter().all(Result::is_ok));
    match &results[5] {
        Err(Error::Pagination { reason, .. }) => {
            assert!(reason.contains("5 pages"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.requests().len(), 5);
    // The cap applies to page-number lists too.
    let server = Server::start(numbered(100)).await;
    let results = within_time(
        client(&server)
            .api()
            .list_followers()
            .paginate()
            .page_size(10)
            .max_pages(2)
            .items(),
    )
    .await;
    assert_eq!(results.len(), 21, "{}", results.len());
    assert!(matches!(results[20], Err(Error::Pagination { .. })));
}
