//! The fake S3: presigned part PUTs (signature and expiry checked, MD5 `ETag`s), a raw single-PUT endpoint,
//! bandwidth pacing and in-memory or hash-only storage.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http::{HeaderValue, StatusCode, header};
use md5::Digest as _;
use sha2::Sha256;

use crate::config::{BUCKET, StorageMode};
use crate::faults::{Fault, FaultSubject};
use crate::gate;
use crate::log::Listener;
use crate::respond::{self, s3_error};
use crate::serve::ConnAbort;
use crate::state::{RawObject, Shared, State as FakeState, StoredPart};

const AMZ_DATE: &str = "%Y%m%dT%H%M%SZ";

/// Builds the S3 router (every path goes to one handler that parses it).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(shared.clone())
        .layer(from_fn_with_state((shared, Listener::S3), gate::record))
}

fn signature(key: &str, path: &str, date: &str, expires: u64, seq: u64) -> String {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update(b"\nPUT\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(date.as_bytes());
    h.update(b"\n");
    h.update(expires.to_string().as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Issues a presigned URL for one part; `expired` backdates it so S3 rejects it as expired.
pub(crate) fn presign(
    shared: &Shared,
    st: &mut FakeState,
    upload_id: &str,
    part: u32,
    expired: bool,
) -> String {
    let seq = st.url_seq;
    st.url_seq += 1;
    let ttl = shared.config.url_ttl.as_secs().max(1);
    let mut issued = chrono::Utc::now();
    if expired {
        issued -= chrono::Duration::seconds(ttl as i64 + 60);
    }
    let date = issued.format(AMZ_DATE).to_string();
    let day = issued.format("%Y%m%d").to_string();
    let path = format!("/{BUCKET}/{upload_id}/{part}");
    let sig = signature(&shared.signing_key, &path, &date, ttl, seq);
    format!(
        "{}{path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=FAKEACCESSKEY%2F{day}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={date}&X-Amz-Expires={ttl}&X-Amz-SignedHeaders=host&x-fake-seq={seq}&X-Amz-Signature={sig}",
        shared.s3_base
    )
}

fn q<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Checks signature and expiry of a presigned URL.
fn verify(shared: &Shared, path: &str, pairs: &[(String, String)]) -> Result<(), Response> {
    let (Some(sig), Some(date), Some(expires), Some(seq)) = (
        q(pairs, "X-Amz-Signature"),
        q(pairs, "X-Amz-Date"),
        q(pairs, "X-Amz-Expires").and_then(|e| e.parse::<u64>().ok()),
        q(pairs, "x-fake-seq").and_then(|s| s.parse::<u64>().ok()),
    ) else {
        return Err(s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Query-string authentication requires the X-Amz-Signature, X-Amz-Date and X-Amz-Expires parameters",
        ));
    };
    if signature(&shared.signing_key, path, date, expires, seq) != sig {
        return Err(s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    let issued = chrono::NaiveDateTime::parse_from_str(date, AMZ_DATE)
        .map(|d| d.and_utc())
        .map_err(|_| {
            s3_error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "X-Amz-Date is invalid",
            )
        })?;
    let expired_on_demand = seq < shared.lock().expired_below_seq;
    if expired_on_demand || chrono::Utc::now() > issued + chrono::Duration::seconds(expires as i64)
    {
        return Err(expired());
    }
    Ok(())
}

fn expired() -> Response {
    s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired")
}

/// What was read from a body.
struct ReadBody {
    size: u64,
    md5: String,
    /// The raw MD5 (compared with `Content-MD5`).
    md5_raw: [u8; 16],
    sha256: String,
    bytes: Option<Bytes>,
}

/// Reads a body, pacing it to the bandwidth cap, hashing as it goes and keeping the bytes if asked.
/// With `stop_after`, stops once that many bytes were read (used to cut a connection mid-body).
async fn read_body(
    shared: &Shared,
    body: Body,
    keep: bool,
    capacity_hint: u64,
    stop_after: Option<u64>,
) -> Result<ReadBody, axum::Error> {
    read_body_with(shared, body, keep, capacity_hint, stop_after, false).await
}

/// [`read_body`], flipping the first byte on arrival when `corrupt` is set.
async fn read_body_with(
    shared: &Shared,
    body: Body,
    keep: bool,
    capacity_hint: u64,
    stop_after: Option<u64>,
    corrupt: bool,
) -> Result<ReadBody, axum::Error> {
    let mut corrupt = corrupt;
    let rate = shared.lock().knobs.s3_bandwidth.filter(|r| *r > 0);
    let start = Instant::now();
    let mut stream = body.into_data_stream();
    let mut md5 = md5::Md5::new();
    let mut sha = (shared.config.storage != StorageMode::Md5Only).then(Sha256::new);
    let mut buf = keep.then(|| BytesMut::with_capacity(capacity_hint.min(64 << 20) as usize));
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk?;
        if corrupt && !chunk.is_empty() {
            let mut owned = BytesMut::from(&chunk[..]);
            owned[0] ^= 0xFF;
            chunk = owned.freeze();
            corrupt = false;
        }
        size += chunk.len() as u64;
        md5.update(&chunk);
        if let Some(sha) = sha.as_mut() {
            sha.update(&chunk);
        }
        if let Some(b) = buf.as_mut() {
            b.extend_from_slice(&chunk);
        }
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64(size as f64 / rate as f64);
            let elapsed = start.elapsed();
            if due > elapsed {
                tokio::time::sleep(due - elapsed).await;
            }
        }
        if stop_after.is_some_and(|n| size >= n) {
            break;
        }
    }
    let md5_raw: [u8; 16] = md5.finalize().into();
    Ok(ReadBody {
        size,
        md5: hex::encode(md5_raw),
        md5_raw,
        sha256: sha.map(|s| hex::encode(s.finalize())).unwrap_or_default(),
        bytes: buf.map(BytesMut::freeze),
    })
}

fn etag_response(etag: &str) -> Response {
    let mut r = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r.headers_mut()
        .insert("x-amz-request-id", HeaderValue::from_static("FAKE0000"));
    r
}

/// Applies an S3 fault that ends the request early; `None` lets the PUT proceed.
async fn early_fault(
    shared: &Shared,
    fault: &Fault,
    body: &mut Option<Body>,
    abort: &ConnAbort,
    content_length: u64,
) -> Option<Response> {
    let drain = |body: &mut Option<Body>| {
        let b = body.take();
        async move {
            if let Some(b) = b {
                let _ = axum::body::to_bytes(b, usize::MAX).await;
            }
        }
    };
    match fault {
        Fault::Gateway { status } => {
            drain(body).await;
            Some(crate::respond::gateway(*status))
        }
        Fault::Status(code) => {
            drain(body).await;
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                "SlowDown"
            } else {
                "InternalError"
            };
            Some(s3_error(status, code, "Injected fault"))
        }
        Fault::RateLimited { retry_after_secs } => {
            drain(body).await;
            let mut r = s3_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            Some(r)
        }
        Fault::Unauthorized | Fault::ExpiredUrl => {
            drain(body).await;
            Some(expired())
        }
        Fault::Reset => {
            let stop = (content_length / 2).clamp(1, 256 * 1024);
            if let Some(b) = body.take() {
                let _ = read_body(shared, b, false, 0, Some(stop)).await;
            }
            abort.abort();
            std::future::pending::<()>().await;
            None
        }
        Fault::TruncatedResponse => {
            drain(body).await;
            Some(respond::truncated("application/xml"))
        }
        Fault::Delay(d) => {
            tokio::time::sleep(*d).await;
            None
        }
        Fault::WrongEtag | Fault::ExpireAccessTokens | Fault::ActThenReset | Fault::CorruptBody => {
            None
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Extension(abort): Extension<ConnAbort>,
    req: Request,
) -> Response {
    if req.method() != http::Method::PUT {
        return s3_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        );
    }
    let path = req.uri().path().to_string();
    let mut segs = path.trim_start_matches('/').splitn(3, '/');
    let (Some(bucket), Some(second), Some(third)) = (segs.next(), segs.next(), segs.next()) else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    if bucket != BUCKET {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
    }
    let content_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(content_length) = content_length else {
        return s3_error(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        );
    };
    if second == "raw" {
        return raw_put(&shared, &abort, third.to_string(), content_length, req).await;
    }
    let upload_id = second.to_string();
    let Ok(part) = third.parse::<u32>() else {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
        );
    };
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(req.uri())
        .map(|Query(p)| p)
        .unwrap_or_default();
    if let Err(r) = verify(&shared, &path, &pairs) {
        return r;
    }
    part_put(&shared, &abort, upload_id, part, content_length, req).await
}

async fn part_put(
    shared: &Shared,
    abort: &ConnAbort,
    upload_id: String,
    part: u32,
    content_length: u64,
    req: Request,
) -> Response {
    let fault = {
        let mut st = shared.lock();
        match st.uploads.get_mut(&upload_id) {
            Some(u) if u.assembled.is_none() => {
                *u.attempts.entry(part).or_insert(0) += 1;
            }
            _ => {
                return s3_error(
                    StatusCode::NOT_FOUND,
                    "NoSuchUpload",
                    "The specified multipart upload does not exist.",
                );
            }
        }
        st.faults.take(FaultSubject::S3Part(part))
    };
    let _in_flight = shared.part_in_flight();
    // `Content-MD5` (base64 of the 16-byte MD5), checked like S3: malformed is 400 InvalidDigest, a
    // mismatch with the bytes received 400 BadDigest (and the part is not stored).
    let content_md5 = match req.headers().get("content-md5") {
        None => None,
        Some(v) => {
            use base64::Engine;
            let decoded = v
                .to_str()
                .ok()
                .and_then(|v| {
                    base64::engine::general_purpose::STANDARD
                        .decode(v.trim())
                        .ok()
                })
                .and_then(|d| <[u8; 16]>::try_from(d).ok());
            match decoded {
                Some(d) => Some(d),
                None => {
                    return s3_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidDigest",
                        "The Content-MD5 you specified was invalid.",
                    );
                }
            }
        }
    };
    let mut body = Some(req.into_body());
    let mut wrong_etag = false;
    let mut corrupt = false;
    if let Some(fault) = fault {
        if let Some(r) = early_fault(shared, &fault, &mut body, abort, content_length).await {
            return r;
        }
        wrong_etag = fault == Fault::WrongEtag;
        corrupt = fault == Fault::CorruptBody;
    }
    let Some(body) = body else {
        return s3_error(StatusCode::BAD_REQUEST, "IncompleteBody", "No body");
    };
    let keep = shared.config.storage == StorageMode::KeepBytes;
    let read = match read_body_with(shared, body, keep, content_length, None, corrupt).await {
        Ok(r) => r,
        Err(_) => {
            return s3_error(
                StatusCode::BAD_REQUEST,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            );
        }
    };
    if content_md5.is_some_and(|d| d != read.md5_raw) {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        );
    }
    let etag = if shared.config.opaque_etags {
        // 32 hex digits that are not the MD5 of the bytes, as under SSE-KMS / SSE-C.
        let mut h = md5::Md5::new();
        h.update(b"opaque etag of ");
        h.update(read.md5.as_bytes());
        hex::encode(h.finalize())
    } else {
        read.md5.clone()
    };
    {
        let mut st = shared.lock();
        let Some(u) = st.uploads.get_mut(&upload_id) else {
            return s3_error(
                StatusCode::NOT_FOUND,
                "NoSuchUpload",
                "The specified multipart upload does not exist.",
            );
        };
        u.parts.insert(
            part,
            StoredPart {
                size: read.size,
                etag: etag.clone(),
                sha256_hex: read.sha256,
                bytes: read.bytes,
            },
        );
        *u.successes.entry(part).or_insert(0) += 1;
    }
    if wrong_etag {
        let mut h = md5::Md5::new();
        h.update(b"wrong etag of ");
        h.update(etag.as_bytes());
        etag_response(&hex::encode(h.finalize()))
    } else {
        etag_response(&etag)
    }
}

async fn raw_put(
    shared: &Shared,
    abort: &ConnAbort,
    key: String,
    content_length: u64,
    req: Request,
) -> Response {
    let fault = shared.lock().faults.take(FaultSubject::S3Raw);
    let mut body = Some(req.into_body());
    if let Some(fault) = fault
        && let Some(r) = early_fault(shared, &fault, &mut body, abort, content_length).await
    {
        return r;
    }
    let Some(body) = body else {
        return s3_error(StatusCode::BAD_REQUEST, "IncompleteBody", "No body");
    };
    match read_body(shared, body, false, 0, None).await {
        Ok(read) => {
            let md5 = read.md5.clone();
            shared.lock().raw_objects.insert(
                key,
                RawObject {
                    size: read.size,
                    sha256: read.sha256,
                    md5: read.md5,
                },
            );
            etag_response(&md5)
        }
        Err(_) => s3_error(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ),
    }
}
