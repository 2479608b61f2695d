//! Answers of every operation without a stateful handler, from the document: the documented success
//! status and a body synthesized from the response schema ([`crate::synth`], seeded with the fake's
//! seed and the request path), lists paginating over a seeded collection of
//! [`crate::FakeFanvueBuilder::list_size`] items.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::resources;
use crate::respond;
use crate::spec::{Operation, Pagination, Spec};
use crate::synth::{Mode, seed_for, synthesize_keyed};

/// The items a list answer pages through instead of the seeded collection (the resource store's).
pub(crate) struct Items<'a> {
    /// How many there are.
    pub total: usize,
    /// The item at an index, shaped like the list's item schema.
    pub item: &'a dyn Fn(usize) -> Value,
}

/// The answer of `op` for a request to `path` with `query` (already validated).
pub(crate) fn answer(
    op: &Operation,
    path: &str,
    query: &[(String, String)],
    seed: u64,
    list_size: usize,
    wire_noise: bool,
) -> Response {
    answer_with(op, path, query, seed, list_size, wire_noise, None)
}

/// [`answer`], a list paging through `items` when given (a list without pagination answers them all
/// in `data`).
pub(crate) fn answer_with(
    op: &Operation,
    path: &str,
    query: &[(String, String)],
    seed: u64,
    list_size: usize,
    wire_noise: bool,
    items: Option<Items<'_>>,
) -> Response {
    let seeded = |s: u64| {
        if wire_noise {
            Mode::Wire(s)
        } else {
            Mode::Seeded(s)
        }
    };
    let spec = Spec::load();
    let status = StatusCode::from_u16(op.success_status).unwrap_or(StatusCode::OK);
    let Some(resp) = &op.response else {
        return status.into_response();
    };
    let mode = seeded(seed_for(seed, path));
    if resp.content_type != "application/json" {
        let v = synthesize_keyed(spec, &resp.schema, mode, path);
        let mut r = Response::new(Body::from(crate::synth::scalar_text(&v)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&resp.content_type)
                .unwrap_or(HeaderValue::from_static("text/plain")),
        );
        return r;
    }
    let Some(pagination) = &op.pagination else {
        let mut key = path.to_string();
        for (k, v) in query {
            key.push_str(&format!("&{k}={v}"));
        }
        let mut v = synthesize_keyed(spec, &resp.schema, seeded(seed_for(seed, &key)), &key);
        if let Some((_, params)) = spec.find(&op.method, path) {
            resources::echo_path(&mut v, &resp.schema, &params);
        }
        resources::plausible(&mut v);
        if let (Some(items), Some(obj)) = (&items, v.as_object_mut())
            && obj.get("data").is_some_and(Value::is_array)
        {
            let data: Vec<Value> = (0..items.total).map(|i| (items.item)(i)).collect();
            obj.insert("data".into(), Value::Array(data));
        }
        return respond::json(status, v);
    };
    let schema = spec.resolve(&resp.schema);
    let empty = json!({});
    let item_schema = schema.pointer("/properties/data/items").unwrap_or(&empty);
    let item = |i: usize| match &items {
        Some(items) => (items.item)(i),
        None => seeded_item(spec, item_schema, path, i, seed, wire_noise),
    };
    let mut body = synthesize_keyed(spec, &resp.schema, mode, path);
    let param = |name: &str| {
        query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let int = |name: &str, default: u64| {
        param(name)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let default_size = |name: &str| {
        op.parameter(name)
            .and_then(|p| {
                spec.resolve(&p.schema)
                    .get("default")
                    .and_then(Value::as_u64)
            })
            .unwrap_or(20)
    };
    let total = items.as_ref().map_or(list_size, |i| i.total);
    let Some(obj) = body.as_object_mut() else {
        return respond::json(status, body);
    };
    match pagination {
        Pagination::PageNumber => {
            let page = int("page", 1).max(1);
            let size = int("size", default_size("size")).max(1);
            let start = usize::try_from(page.saturating_sub(1).saturating_mul(size))
                .unwrap_or(usize::MAX)
                .min(total);
            let end = start
                .saturating_add(usize::try_from(size).unwrap_or(usize::MAX))
                .min(total);
            let data: Vec<Value> = (start..end).map(item).collect();
            obj.insert("data".into(), Value::Array(data));
            obj.insert(
                "pagination".into(),
                json!({ "page": page, "size": size, "hasMore": end < total }),
            );
        }
        Pagination::Cursor { size_param } => {
            let size = int(size_param, default_size(size_param)).max(1);
            let start = match param("cursor") {
                None | Some("") => 0,
                Some(c) => match c.strip_prefix("cur_").and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) if n <= total => n,
                    _ => return respond::validation(vec!["cursor: is invalid".into()]),
                },
            };
            let end = start
                .saturating_add(usize::try_from(size).unwrap_or(usize::MAX))
                .min(total);
            let data: Vec<Value> = (start..end).map(item).collect();
            obj.insert("data".into(), Value::Array(data));
            let next = (end < total).then(|| format!("cur_{end}"));
            obj.insert("nextCursor".into(), json!(next));
        }
    }
    resources::plausible(&mut body);
    respond::json(status, body)
}

/// The `i`th item of the seeded collection of the list at `path`.
pub(crate) fn seeded_item(
    spec: &Spec,
    item_schema: &Value,
    path: &str,
    i: usize,
    seed: u64,
    wire_noise: bool,
) -> Value {
    let key = format!("{path}#{i}");
    let s = seed_for(seed, &key);
    let mode = if wire_noise {
        Mode::Wire(s)
    } else {
        Mode::Seeded(s)
    };
    synthesize_keyed(spec, item_schema, mode, &key)
}
