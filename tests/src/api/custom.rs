//! Test-seeded answers ([`crate::FakeFanvue::seed_list`], [`crate::FakeFanvue::stub`]) and the page
//! helpers the lists share. A seeded answer is served at the answer stage of the pipeline, so the
//! request went through the same checks as any other; on a path of the document, the answer itself is
//! checked against the operation's response schema (a stub with another status is sent as given).

use axum::response::Response;
use http::StatusCode;
use serde::Serialize;
use serde_json::json;

use super::lists::{int_param, param};
use crate::respond;
use crate::schema::Validators;
use crate::spec::Operation;
use crate::state::{CustomRoute, ListStyle};

/// One page of `items` as `{data, pagination: {page, size, hasMore}}`.
pub(crate) fn page_of<T>(
    items: &[T],
    page: u64,
    size: u64,
    render: impl Fn(&T) -> serde_json::Value,
) -> Response {
    respond::json(StatusCode::OK, page_body(items, page, size, render))
}

fn page_body<T>(
    items: &[T],
    page: u64,
    size: u64,
    render: impl Fn(&T) -> serde_json::Value,
) -> serde_json::Value {
    let start = usize::try_from(page.saturating_sub(1).saturating_mul(size)).unwrap_or(usize::MAX);
    let end = start
        .saturating_add(usize::try_from(size).unwrap_or(usize::MAX))
        .min(items.len());
    let data: Vec<serde_json::Value> = items
        .get(start..end)
        .map(|s| s.iter().map(render).collect())
        .unwrap_or_default();
    let has_more = end < items.len() && start < items.len();
    json!({ "data": data, "pagination": { "page": page, "size": size, "hasMore": has_more } })
}

fn cursor_body<T: Serialize>(
    items: &[T],
    q: &[(String, String)],
    size_key: &str,
    default_size: u64,
) -> Result<serde_json::Value, Response> {
    let size = int_param(q, size_key, default_size).max(1);
    let start = match param(q, "cursor") {
        None | Some("") => 0usize,
        Some(c) => match c.strip_prefix("cur_").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= items.len() => n,
            _ => return Err(respond::validation(vec!["cursor: is invalid".into()])),
        },
    };
    let end = start
        .saturating_add(usize::try_from(size).unwrap_or(usize::MAX))
        .min(items.len());
    let next = (end < items.len()).then(|| format!("cur_{end}"));
    Ok(json!({ "data": items.get(start..end).unwrap_or_default(), "nextCursor": next }))
}

/// Cursor pagination `{data, nextCursor}`; the cursor is an opaque offset (an unknown one: 400).
pub(crate) fn cursor_page<T: Serialize>(
    items: &[T],
    q: &[(String, String)],
    size_key: &str,
    default_size: u64,
) -> Response {
    match cursor_body(items, q, size_key, default_size) {
        Ok(body) => respond::json(StatusCode::OK, body),
        Err(r) => r,
    }
}

/// `page`/`size` of a seeded list on a path the document does not have (nothing validated them).
fn loose_page_params(q: &[(String, String)]) -> Result<(u64, u64), Response> {
    let mut errors = Vec::new();
    let mut whole = |key: &str, default: u64| match param(q, key) {
        None => default,
        Some(v) => match v.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(format!("{key}: must be a whole number"));
                default
            }
        },
    };
    let page = whole("page", 1);
    let size = whole("size", 15);
    if page < 1 {
        errors.push("page: must be at least 1".into());
    }
    if !(1..=50).contains(&size) {
        errors.push("size: must be between 1 and 50".into());
    }
    if errors.is_empty() {
        Ok((page, size))
    } else {
        Err(respond::validation(errors))
    }
}

/// The answer of a seeded route. `op` is the document's operation for the path, if it has one: the
/// request was validated against it, and a success answer is checked against its response schema (500
/// `{error}` listing the problems when the test seeded something Fanvue would never send).
pub(crate) fn answer(
    route: CustomRoute,
    op: Option<&Operation>,
    q: &[(String, String)],
) -> Response {
    let (status, body) = match route {
        CustomRoute::Stub { status, body } => (status, body),
        CustomRoute::List {
            style: ListStyle::PageNumber,
            items,
        } => {
            let (page, size) = if op.is_some() {
                (
                    int_param(q, "page", 1).max(1),
                    int_param(q, "size", 15).max(1),
                )
            } else {
                match loose_page_params(q) {
                    Ok(v) => v,
                    Err(r) => return r,
                }
            };
            (200, page_body(&items, page, size, |v| v.clone()))
        }
        CustomRoute::List {
            style:
                ListStyle::Cursor {
                    size_param,
                    default_size,
                },
            items,
        } => match cursor_body(&items, q, &size_param, default_size) {
            Ok(body) => (200, body),
            Err(r) => return r,
        },
    };
    if let Some(op) = op
        && status == op.success_status
        && op
            .response
            .as_ref()
            .is_some_and(|r| r.content_type == "application/json")
        && let Err(problems) = Validators::get().check_response(&op.id, &body)
    {
        return respond::json(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({
                "error": format!(
                    "the seeded answer of {} does not match the document's response schema: {}",
                    op.id,
                    problems.join("; ")
                )
            }),
        );
    }
    respond::json(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body)
}
