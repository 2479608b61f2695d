//! `GET /media`, `GET /media/{uuid}` and their agency variants; media status progression on polls.
//! Query values (`mediaType`, `status`, `variants`, page bounds) were validated against the document.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use uuid::Uuid;

use super::custom::page_of;
use super::handlers::Call;
use super::lists::{int_param, list_param, param};
use crate::model::{MediaStatus, MediaType, sample_variants};
use crate::respond;
use crate::state::{Shared, State as FakeState};

/// Whether `creator` is one of the agency's creators.
pub(crate) fn creator_known(st: &FakeState, creator: Uuid) -> bool {
    st.data.creators.iter().any(|c| c.user.uuid == creator)
}

/// The library a call is about: `Ok(None)` for the authenticated user's, `Ok(Some(creator))` for an
/// agency creator's, 404 `{message}` for a creator the agency does not have.
pub(crate) fn owner(st: &FakeState, call: &Call) -> Result<Option<Uuid>, Response> {
    if call.param("creatorUserUuid").is_none() {
        return Ok(None);
    }
    match call.uuid_param("creatorUserUuid") {
        Some(c) if creator_known(st, c) => Ok(Some(c)),
        _ => Err(respond::not_found("Creator not found")),
    }
}

/// `GET /media` and `GET /creators/{creatorUserUuid}/media`
pub(crate) fn list(shared: &Arc<Shared>, call: &Call) -> Response {
    let q = &call.query;
    let (page, size) = (
        int_param(q, "page", 1).max(1),
        int_param(q, "size", 15).max(1),
    );
    let variants = list_param(q, "variants");
    let media_type = param(q, "mediaType").and_then(MediaType::parse);
    let statuses = list_param(q, "status");
    let st = shared.lock();
    let owner = match owner(&st, call) {
        Ok(o) => o,
        Err(r) => return r,
    };
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

/// `GET /media/{uuid}` and the agency variant: advances a processing media item by one poll and
/// renders it.
pub(crate) fn get(shared: &Arc<Shared>, call: &Call) -> Response {
    let variants = list_param(&call.query, "variants");
    let mut st = shared.lock();
    let owner = match owner(&st, call) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(uuid) = call.uuid_param("uuid") else {
        return respond::not_found("Media not found");
    };
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
