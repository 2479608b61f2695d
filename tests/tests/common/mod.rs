//! Helpers shared by the fake's own tests: a plain reqwest client with the API headers.
#![allow(dead_code)]

use fanvue_fake::FakeFanvue;

/// A plain reqwest client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .build()
        .expect("reqwest client builds")
}

/// `GET {api}{path}` with the default version and the fake's token.
pub fn get(fake: &FakeFanvue, path: &str) -> reqwest::RequestBuilder {
    authed(fake, client().get(format!("{}{path}", fake.api_url())))
}

/// Adds the version header and bearer token.
pub fn authed(fake: &FakeFanvue, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.header("X-Fanvue-API-Version", fake.api_version())
        .bearer_auth(fake.access_token())
}

/// `GET` returning status and JSON body.
pub async fn get_json(fake: &FakeFanvue, path: &str) -> (u16, serde_json::Value) {
    let resp = get(fake, path).send().await.expect("request succeeds");
    let status = resp.status().as_u16();
    let body = resp.json().await.expect("json body");
    (status, body)
}

/// Creates an upload session, returning `(mediaUuid, uploadId)`.
pub async fn create_upload(fake: &FakeFanvue, prefix: &str) -> (uuid::Uuid, String) {
    let resp = authed(
        fake,
        client().post(format!("{}{prefix}/media/uploads", fake.api_url())),
    )
    .json(&serde_json::json!({"name": "clip", "filename": "clip.mp4", "mediaType": "video"}))
    .send()
    .await
    .expect("create upload");
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = resp.json().await.expect("json");
    let media = v["mediaUuid"]
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .expect("mediaUuid");
    let upload = v["uploadId"].as_str().expect("uploadId").to_string();
    (media, upload)
}

/// Fetches the presigned URL of a part.
pub async fn part_url(fake: &FakeFanvue, prefix: &str, upload: &str, part: u32) -> String {
    let resp = authed(
        fake,
        client().get(format!(
            "{}{prefix}/media/uploads/{upload}/parts/{part}/url",
            fake.api_url()
        )),
    )
    .send()
    .await
    .expect("part url");
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("text/plain"), "content type {ct}");
    resp.text().await.expect("text")
}

/// PUTs bytes to a presigned URL, returning the response.
pub async fn put(url: &str, bytes: Vec<u8>) -> reqwest::Result<reqwest::Response> {
    client().put(url).body(bytes).send().await
}

/// PUTs a part and returns its ETag (asserting 200).
pub async fn put_part(url: &str, bytes: Vec<u8>) -> String {
    let resp = put(url, bytes).await.expect("part put");
    assert_eq!(resp.status().as_u16(), 200);
    resp.headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("etag")
        .to_string()
}

/// Completes an upload with `(part, etag)` pairs.
pub async fn complete(
    fake: &FakeFanvue,
    prefix: &str,
    upload: &str,
    parts: &[(u32, String)],
) -> (u16, serde_json::Value) {
    let parts: Vec<_> = parts
        .iter()
        .map(|(n, e)| serde_json::json!({"PartNumber": n, "ETag": e}))
        .collect();
    let resp = authed(
        fake,
        client().patch(format!("{}{prefix}/media/uploads/{upload}", fake.api_url())),
    )
    .json(&serde_json::json!({ "parts": parts }))
    .send()
    .await
    .expect("complete");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// Deterministic test bytes.
pub fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Hex MD5.
pub fn md5_hex(b: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(b))
}

/// Hex SHA-256.
pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}
