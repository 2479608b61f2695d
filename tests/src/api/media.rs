//! `GET /media`, `GET /media/{uuid}` and their agency variants; media status progression on polls.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::StatusCode;
use uuid::Uuid;

use super::lists::{Pairs, list_param, page_of, page_params, param};
use crate::model::{MediaStatus, MediaType, sample_variants};
use crate::respond;
use crate::state::{Shared, State as FakeState};

/// Whether `creator` is one of the agency's creators.
pub(crate) fn creator_known(st: &FakeState, creator: Uuid) -> bool {
    st.data.creators.iter().any(|c| c.user.uuid == creator)
}

fn list(shared: &Shared, owner: Option<Uuid>, q: &[(String, String)]) -> Response {
    let (page, size) = match page_params(q) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let variants = list_param(q, "variants");
    let media_type = match param(q, "mediaType") {
        None => None,
        Some(t) => match MediaType::parse(t) {
            Some(t) => Some(t),
            None => return respond::validation(vec![format!("mediaType {t} is invalid")]),
        },
    };
    let statuses = list_param(q, "status");
    let st = shared.lock();
    if let Some(c) = owner
        && !creator_known(&st, c)
    {
        return respond::not_found("Creator not found");
    }
    let items: Vec<_> = st
        .data
        .media
        .get(&owner)
        .map(|v| {
            v.iter()
                .filter(|m| media_type.is_none_or(|t| m.media_type == t))
                .filter(|m| statuses.is_empty() || statuses.iter().any(|s| s == m.status.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    page_of(&items, page, size, |m| m.to_json(&variants))
}

/// Advances a processing media item by one poll and renders it.
fn get(shared: &Shared, owner: Option<Uuid>, uuid: &str, q: &[(String, String)]) -> Response {
    let Ok(uuid) = Uuid::parse_str(uuid) else {
        return respond::validation(vec!["uuid must be a UUID".into()]);
    };
    let variants = list_param(q, "variants");
    let mut st = shared.lock();
    if let Some(c) = owner
        && !creator_known(&st, c)
    {
        return respond::not_found("Creator not found");
    }
    let polls_needed = st.knobs.processing_polls;
    let fails = st.knobs.processing_fails;
    let advance = match st.processing.get_mut(&uuid) {
        Some(p) => {
            p.polls += 1;
            p.polls > polls_needed
        }
        None => false,
    };
    if advance {
        st.processing.remove(&uuid);
    }
    let Some(item) = st
        .data
        .media
        .get_mut(&owner)
        .and_then(|v| v.iter_mut().find(|m| m.uuid == uuid))
    else {
        return respond::not_found("Media not found");
    };
    if advance && item.status == MediaStatus::Processing {
        if fails {
            item.status = MediaStatus::Error;
        } else {
            item.status = MediaStatus::Ready;
            item.variants = sample_variants(uuid);
        }
    }
    respond::json(StatusCode::OK, item.to_json(&variants))
}

/// `GET /media`
pub(crate) async fn list_mine(State(shared): State<Arc<Shared>>, Query(q): Pairs) -> Response {
    list(&shared, None, &q)
}

/// `GET /media/{uuid}`
pub(crate) async fn get_mine(
    State(shared): State<Arc<Shared>>,
    Path(uuid): Path<String>,
    Query(q): Pairs,
) -> Response {
    get(&shared, None, &uuid, &q)
}

/// `GET /creators/{creatorUserUuid}/media`
pub(crate) async fn list_creator(
    State(shared): State<Arc<Shared>>,
    Path(creator): Path<String>,
    Query(q): Pairs,
) -> Response {
    match Uuid::parse_str(&creator) {
        Ok(c) => list(&shared, Some(c), &q),
        Err(_) => respond::validation(vec!["creatorUserUuid must be a UUID".into()]),
    }
}

/// `GET /creators/{creatorUserUuid}/media/{uuid}`
pub(crate) async fn get_creator(
    State(shared): State<Arc<Shared>>,
    Path((creator, uuid)): Path<(String, String)>,
    Query(q): Pairs,
) -> Response {
    match Uuid::parse_str(&creator) {
        Ok(c) => get(&shared, Some(c), &uuid, &q),
        Err(_) => respond::validation(vec!["creatorUserUuid must be a UUID".into()]),
    }
}
