//! Upload sessions: create, presigned part URL, complete (assembling the object), personal and agency.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, header};
use serde_json::json;
use sha2::Digest;
use uuid::Uuid;

use super::media::creator_known;
use crate::gate::ExpiredUrlFault;
use crate::model::{MediaItem, MediaStatus, MediaType};
use crate::respond;
use crate::s3;
use crate::state::{Assembled, Processing, Shared, UploadSession};

fn parse_creator(creator: &str) -> Result<Uuid, Response> {
    Uuid::parse_str(creator)
        .map_err(|_| respond::validation(vec!["creatorUserUuid must be a UUID".into()]))
}

fn create(shared: &Shared, creator: Option<Uuid>, body: &[u8]) -> Response {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return respond::validation(vec!["body must be a JSON object".into()]),
    };
    let mut errors = Vec::new();
    let text = |key: &str, errors: &mut Vec<String>| -> String {
        match value.get(key).and_then(|v| v.as_str()) {
            Some(s) if (1..=255).contains(&s.chars().count()) => s.to_string(),
            Some(_) => {
                errors.push(format!("{key} must be 1 to 255 characters"));
                String::new()
            }
            None => {
                errors.push(format!("{key} is required"));
                String::new()
            }
        }
    };
    let name = text("name", &mut errors);
    let filename = text("filename", &mut errors);
    let media_type = value
        .get("mediaType")
        .and_then(|v| v.as_str())
        .and_then(MediaType::parse);
    if media_type.is_none() {
        errors.push("mediaType must be one of image, video, audio, document".into());
    }
    let (Some(media_type), true) = (media_type, errors.is_empty()) else {
        return respond::validation(errors);
    };
    let mut st = shared.lock();
    if let Some(c) = creator
        && !creator_known(&st, c)
    {
        return respond::not_found("Creator not found");
    }
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

fn part_url(
    shared: &Shared,
    creator: Option<Uuid>,
    upload_id: &str,
    part: &str,
    expired: bool,
) -> Response {
    let part_number = match part.parse::<f64>() {
        Ok(n) if n.fract() == 0.0 && (1.0..=10000.0).contains(&n) => n as u32,
        _ => return respond::validation(vec!["partNumber must be between 1 and 10000".into()]),
    };
    let mut st = shared.lock();
    if let Some(c) = creator
        && !creator_known(&st, c)
    {
        return respond::not_found("Creator not found");
    }
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

fn complete(shared: &Shared, creator: Option<Uuid>, upload_id: &str, body: &[u8]) -> Response {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return respond::validation(vec!["body must be a JSON object".into()]),
    };
    let Some(parts) = value.get("parts").and_then(|p| p.as_array()) else {
        return respond::validation(vec!["parts is required".into()]);
    };
    let mut listed: Vec<(u32, Option<String>)> = Vec::new();
    for p in parts {
        let number = p.get("PartNumber").and_then(|n| n.as_f64());
        let etag = p.get("ETag").and_then(|e| e.as_str()).map(str::to_string);
        match number {
            Some(n) if n.fract() == 0.0 && (1.0..=10000.0).contains(&n) => {
                listed.push((n as u32, etag))
            }
            _ => {
                return respond::validation(vec![
                    "each part needs a PartNumber between 1 and 10000".into(),
                ]);
            }
        }
    }
    let mut st = shared.lock();
    if let Some(c) = creator
        && !creator_known(&st, c)
    {
        return respond::not_found("Creator not found");
    }
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

/// `POST /media/uploads`
pub(crate) async fn create_mine(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    create(&shared, None, &body)
}

/// `POST /creators/{creatorUserUuid}/media/uploads`
pub(crate) async fn create_creator(
    State(shared): State<Arc<Shared>>,
    Path(creator): Path<String>,
    body: Bytes,
) -> Response {
    match parse_creator(&creator) {
        Ok(c) => create(&shared, Some(c), &body),
        Err(r) => r,
    }
}

/// `GET /media/uploads/{uploadId}/parts/{partNumber}/url`
pub(crate) async fn part_url_mine(
    State(shared): State<Arc<Shared>>,
    Path((upload_id, part)): Path<(String, String)>,
    expired: Option<Extension<ExpiredUrlFault>>,
) -> Response {
    part_url(&shared, None, &upload_id, &part, expired.is_some())
}

/// `GET /creators/{creatorUserUuid}/media/uploads/{uploadId}/parts/{partNumber}/url`
pub(crate) async fn part_url_creator(
    State(shared): State<Arc<Shared>>,
    Path((creator, upload_id, part)): Path<(String, String, String)>,
    expired: Option<Extension<ExpiredUrlFault>>,
) -> Response {
    match parse_creator(&creator) {
        Ok(c) => part_url(&shared, Some(c), &upload_id, &part, expired.is_some()),
        Err(r) => r,
    }
}

/// `PATCH /media/uploads/{uploadId}`
pub(crate) async fn complete_mine(
    State(shared): State<Arc<Shared>>,
    Path(upload_id): Path<String>,
    body: Bytes,
) -> Response {
    complete(&shared, None, &upload_id, &body)
}

/// `PATCH /creators/{creatorUserUuid}/media/uploads/{uploadId}`
pub(crate) async fn complete_creator(
    State(shared): State<Arc<Shared>>,
    Path((creator, upload_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    match parse_creator(&creator) {
        Ok(c) => complete(&shared, Some(c), &upload_id, &body),
        Err(r) => r,
    }
}
