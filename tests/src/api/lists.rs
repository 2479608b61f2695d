//! `GET /users/me` and the stateful lists of seeded model data (chats, creators, earnings).
//! Query values were validated against the document; these handlers only page through state.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use serde_json::json;

use super::custom::{cursor_page, page_of};
use super::handlers::Call;
use crate::respond;
use crate::state::Shared;

/// Last value of a query key.
pub(crate) fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The values of a comma-separated (`explode: false`) query parameter. Only the documented name is
/// read: `variants[]=main` is not `variants`, as on Fanvue.
pub(crate) fn list_param(q: &[(String, String)], key: &str) -> Vec<String> {
    q.iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A whole-number query value (validated already; `2.0` reads as 2), or `default`.
pub(crate) fn int_param(q: &[(String, String)], key: &str, default: u64) -> u64 {
    param(q, key)
        .and_then(|v| {
            v.parse::<u64>().ok().or_else(|| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && (0.0..1e15).contains(f))
                    .map(|f| f as u64)
            })
        })
        .unwrap_or(default)
}

/// `page`/`size` of a page-number list (defaults 1 and 15).
fn page_size(q: &[(String, String)]) -> (u64, u64) {
    (
        int_param(q, "page", 1).max(1),
        int_param(q, "size", 15).max(1),
    )
}

/// `GET /users/me`
pub(crate) fn users_me(shared: &Arc<Shared>, _: &Call) -> Response {
    let user = shared.lock().data.user.clone();
    respond::json(StatusCode::OK, json!(user))
}

/// `GET /chats`
pub(crate) fn chats(shared: &Arc<Shared>, call: &Call) -> Response {
    let (page, size) = page_size(&call.query);
    let st = shared.lock();
    page_of(&st.data.chats, page, size, |c| json!(c))
}

/// `GET /creators`
pub(crate) fn creators(shared: &Arc<Shared>, call: &Call) -> Response {
    let (page, size) = page_size(&call.query);
    let st = shared.lock();
    page_of(&st.data.creators, page, size, |c| json!(c))
}

/// `GET /insights/earnings` (cursor with `size`).
pub(crate) fn earnings(shared: &Arc<Shared>, call: &Call) -> Response {
    let st = shared.lock();
    cursor_page(&st.data.earnings, &call.query, "size", 20)
}
