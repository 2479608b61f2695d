//! Upload sessions: create, presigned part URL, complete (assembling the object), personal and agency.
//! The document validated the bodies' shapes (names, media type, part numbers); these handlers check
//! what only state tells: the session, its parts and their ETags.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, header};
use serde_json::json;
use sha2::Digest;
use uuid::Uuid;

use super::handlers::Call;
use super::lists::int_param;
use super::media::owner;
use crate::model::{MediaItem, MediaStatus, MediaType};
use crate::respond;
use crate::s3;
use crate::state::{Assembled, Processing, Shared, UploadSession};

/// `POST /media/uploads` and the agency variant.
pub(crate) fn create(shared: &Arc<Shared>, call: &Call) -> Response {
    let value: serde_json::Value = serde_json::from_slice(&call.body).unwrap_or_default();
    let text = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (name, filename) = (text("name"), text("filename"));
    let media_type = value
        .get("mediaType")
        .and_then(|v| v.as_str())
        .and_then(MediaType::parse)
        .unwrap_or(MediaType::Image);
    let mut st = shared.lock();
    let creator = match owner(&st, call) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let media_uuid = Uuid::new_v4();
    let upload_id = format!("upl_{}", Uuid::new_v4().simple());
    st.data.media.entry(creator).or_default().push(MediaItem {
        uuid: media_uuid,
        status: MediaStatus::Created,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        caption: None,
        description: None,
        name: Some(name.clone()),
        media_type,
        recommended_price: None,
        variants: Vec::new(),
    });
    st.uploads.insert(
        upload_id.clone(),
        UploadSession {
            upload_id: upload_id.clone(),
            media_uuid,
            creator,
            name,
            filename,
            media_type,
            parts: BTreeMap::new(),
            attempts: BTreeMap::new(),
            successes: BTreeMap::new(),
            urls_issued: BTreeMap::new(),
            assembled: None,
        },
    );
    respond::json(
        StatusCode::OK,
        json!({ "mediaUuid": media_uuid, "uploadId": upload_id }),
    )
}

/// `GET /media/uploads/{uploadId}/parts/{partNumber}/url` and the agency variant.
pub(crate) fn part_url(shared: &Arc<Shared>, call: &Call) -> Response {
    let upload_id = call.param("uploadId").unwrap_or_default();
    let part_number = u32::try_from(int_param(&call.params, "partNumber", 1)).unwrap_or(1);
    let expired = call.expired_url;
    let mut st = shared.lock();
    let creator = match owner(&st, call) {
        Ok(o) => o,
        Err(r) => return r,
    };
    match st.uploads.get_mut(upload_id) {
        Some(u) if u.creator == creator => {
            *u.urls_issued.entry(part_number).or_insert(0) += 1;
        }
        _ => return respond::not_found("Upload session not found"),
    }
    let url = s3::presign(shared, &mut st, upload_id, part_number, expired);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        url,
    )
        .into_response()
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// `PATCH /media/uploads/{uploadId}` and the agency variant.
pub(crate) fn complete(shared: &Arc<Shared>, call: &Call) -> Response {
    let upload_id = call.param("uploadId").unwrap_or_default();
    let value: serde_json::Value = serde_json::from_slice(&call.body).unwrap_or_default();
    let parts = value
        .get("parts")
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_default();
    let mut listed: Vec<(u32, Option<String>)> = Vec::new();
    for p in &parts {
        // Whole numbers 1..=10000 (the document checked them; `3.0` reads as 3).
        let number = p
            .get("PartNumber")
            .and_then(|n| n.as_f64())
            .map_or(0, |n| n as u32);
        let etag = p.get("ETag").and_then(|e| e.as_str()).map(str::to_string);
        listed.push((number, etag));
    }
    let mut st = shared.lock();
    let creator = match owner(&st, call) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let min_part = shared.config.min_part_size;
    let keep = shared.config.storage == crate::config::StorageMode::KeepBytes;
    let session = match st.uploads.get_mut(upload_id) {
        Some(u) if u.creator == creator => u,
        _ => return respond::not_found("Upload session not found"),
    };
    if session.assembled.is_some() {
        return respond::validation(vec!["upload session is already completed".into()]);
    }
    let mut errors = Vec::new();
    if listed.is_empty() {
        errors.push("parts must not be empty".into());
    }
    for (i, (number, etag)) in listed.iter().enumerate() {
        let expected = i as u32 + 1;
        if *number != expected {
            errors.push(format!(
                "parts must be numbered contiguously from 1 in ascending order: expected {expected}, got {number}"
            ));
            break;
        }
        let Some(stored) = session.parts.get(number) else {
            errors.push(format!("part {number} was never uploaded"));
            continue;
        };
        match etag {
            Some(e) if unquote(e) == stored.etag => {}
            Some(_) => errors.push(format!("ETag of part {number} does not match")),
            None => errors.push(format!("ETag of part {number} is missing")),
        }
        if i + 1 < listed.len() && stored.size < min_part {
            errors.push(format!(
                "part {number} is {} bytes, smaller than the minimum {min_part}",
                stored.size
            ));
        }
    }
    if !errors.is_empty() {
        return respond::validation(errors);
    }
    let mut size = 0u64;
    let mut part_sha256 = Vec::new();
    let mut hasher = sha2::Sha256::new();
    let mut bytes: Vec<Bytes> = Vec::new();
    for (number, _) in &listed {
        if let Some(p) = session.parts.get(number) {
            size += p.size;
            part_sha256.push(p.sha256_hex.clone());
            if let Some(b) = &p.bytes {
                hasher.update(b);
                bytes.push(b.clone());
            }
        }
    }
    session.assembled = Some(Assembled {
        size,
        sha256: keep.then(|| hex::encode(hasher.finalize())),
        part_sha256,
        bytes: keep.then_some(bytes),
    });
    let media_uuid = session.media_uuid;
    if let Some(item) = st
        .data
        .media
        .get_mut(&creator)
        .and_then(|v| v.iter_mut().find(|m| m.uuid == media_uuid))
    {
        item.status = MediaStatus::Processing;
    }
    st.processing.insert(media_uuid, Processing { polls: 0 });
    respond::json(StatusCode::OK, json!({ "status": "processing" }))
}
