//! `GET /users/me` and the list endpoints, with page-number and cursor pagination.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::response::Response;
use http::StatusCode;
use serde::Serialize;
use serde_json::json;

use crate::gate;
use crate::log::Listener;
use crate::respond;
use crate::state::{CustomRoute, ListStyle, Shared};

/// Raw query pairs (repeated keys kept).
pub(crate) type Pairs = Query<Vec<(String, String)>>;

/// Last value of a query key.
pub(crate) fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// All values of a query key, comma-separated values split.
pub(crate) fn list_param(q: &[(String, String)], key: &str) -> Vec<String> {
    q.iter()
        .filter(|(k, _)| k == key || k == &format!("{key}[]"))
        .flat_map(|(_, v)| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Parses an integer query value (accepting `2.0`, as the reference pages type them as doubles).
fn int_param(q: &[(String, String)], key: &str) -> Result<Option<u64>, String> {
    match param(q, key) {
        None => Ok(None),
        Some(v) => {
            if let Ok(n) = v.parse::<u64>() {
                return Ok(Some(n));
            }
            match v.parse::<f64>() {
                Ok(f) if f.fract() == 0.0 && (0.0..1e15).contains(&f) => Ok(Some(f as u64)),
                _ => Err(format!("{key} must be a whole number")),
            }
        }
    }
}

/// Validated `page`/`size` (page from 1, size 1..=50, default 15).
pub(crate) fn page_params(q: &[(String, String)]) -> Result<(u64, u64), Response> {
    let mut errors = Vec::new();
    let page = int_param(q, "page").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let size = int_param(q, "size").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let page = page.unwrap_or(1);
    let size = size.unwrap_or(15);
    if page < 1 {
        errors.push("page must be at least 1".into());
    }
    if !(1..=50).contains(&size) {
        errors.push("size must be between 1 and 50".into());
    }
    if errors.is_empty() {
        Ok((page, size))
    } else {
        Err(respond::validation(errors))
    }
}

/// One page of `items` as `{data, pagination: {page, size, hasMore}}`.
pub(crate) fn page_of<T>(
    items: &[T],
    page: u64,
    size: u64,
    render: impl Fn(&T) -> serde_json::Value,
) -> Response {
    let start = ((page - 1).saturating_mul(size)) as usize;
    let end = start.saturating_add(size as usize).min(items.len());
    let data: Vec<serde_json::Value> = if start < items.len() {
        items[start..end].iter().map(render).collect()
    } else {
        Vec::new()
    };
    let has_more = end < items.len() && start < items.len();
    respond::json(
        StatusCode::OK,
        json!({ "data": data, "pagination": { "page": page, "size": size, "hasMore": has_more } }),
    )
}

/// Cursor pagination `{data, nextCursor}`; the cursor is an opaque offset.
pub(crate) fn cursor_page<T: Serialize>(
    items: &[T],
    q: &[(String, String)],
    size_key: &str,
    default_size: u64,
) -> Response {
    let size = match int_param(q, size_key) {
        Ok(v) => v.unwrap_or(default_size),
        Err(e) => return respond::validation(vec![e]),
    };
    // Upper bounds are the document's (checked before the handler); some cursor lists have none.
    if size < 1 {
        return respond::validation(vec![format!("{size_key} must be at least 1")]);
    }
    let start = match param(q, "cursor") {
        None | Some("") => 0usize,
        Some(c) => match c.strip_prefix("cur_").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= items.len() => n,
            _ => return respond::validation(vec!["cursor is invalid".into()]),
        },
    };
    let end = start.saturating_add(size as usize).min(items.len());
    let next = (end < items.len()).then(|| format!("cur_{end}"));
    respond::json(
        StatusCode::OK,
        json!({ "data": &items[start..end], "nextCursor": next }),
    )
}

/// `GET /users/me`
pub(crate) async fn users_me(State(shared): State<Arc<Shared>>) -> Response {
    let user = shared.lock().data.user.clone();
    respond::json(StatusCode::OK, json!(user))
}

/// `GET /chats`
pub(crate) async fn chats(State(shared): State<Arc<Shared>>, Query(q): Pairs) -> Response {
    let (page, size) = match page_params(&q) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let st = shared.lock();
    page_of(&st.data.chats, page, size, |c| json!(c))
}

/// `GET /creators`
pub(crate) async fn creators(State(shared): State<Arc<Shared>>, Query(q): Pairs) -> Response {
    let (page, size) = match page_params(&q) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let st = shared.lock();
    page_of(&st.data.creators, page, size, |c| json!(c))
}

/// `GET /tracking-links` (cursor with `limit`).
pub(crate) async fn tracking_links(State(shared): State<Arc<Shared>>, Query(q): Pairs) -> Response {
    let st = shared.lock();
    cursor_page(&st.data.tracking_links, &q, "limit", 20)
}

/// `GET /insights/earnings` (cursor with `size`).
pub(crate) async fn earnings(State(shared): State<Arc<Shared>>, Query(q): Pairs) -> Response {
    let st = shared.lock();
    cursor_page(&st.data.earnings, &q, "size", 20)
}

/// Test-seeded endpoints ([`crate::FakeFanvue::seed_list`], [`crate::FakeFanvue::stub`]); 404 otherwise.
pub(crate) async fn custom(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let key = (req.method().clone(), req.uri().path().to_string());
    let Some(route) = shared.lock().custom.get(&key).cloned() else {
        return respond::not_found("Not found");
    };
    let req = match gate::gate(&shared, Listener::Api, None, req).await {
        Ok(req) => req,
        Err(resp) => return resp,
    };
    let q: Vec<(String, String)> = Query::try_from_uri(req.uri())
        .map(|Query(q)| q)
        .unwrap_or_default();
    match route {
        CustomRoute::Stub { status, body } => {
            respond::json(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body)
        }
        CustomRoute::List {
            style: ListStyle::PageNumber,
            items,
        } => match page_params(&q) {
            Ok((page, size)) => page_of(&items, page, size, |v| v.clone()),
            Err(r) => r,
        },
        CustomRoute::List {
            style:
                ListStyle::Cursor {
                    size_param,
                    default_size,
                },
            items,
        } => cursor_page(&items, &q, &size_param, default_size),
    }
}
