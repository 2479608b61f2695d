//! Shared helpers: a generated client pointed at a loopback mock server, and
//! an executor that records what goes through the seam.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use fanvue_api::Client;
use fanvue_api::executor::{BoxFuture, Inner, OperationMeta, RequestExecutor};
use httpmock::MockServer;

/// A client for `server` with no executor (requests sent as they are).
pub fn client(server: &MockServer) -> Client {
    Client::new_with_client(&server.base_url(), reqwest::Client::new(), Inner::default())
}

/// One request seen by [`Recorder`].
#[derive(Debug, Clone)]
pub struct Seen {
    /// The operation the generated code said it was sending.
    pub meta: &'static OperationMeta,
    /// The method of the request.
    pub method: String,
    /// The full URL as sent (path and raw query).
    pub url: String,
}

/// A [`RequestExecutor`] that records every request, then sends it.
#[derive(Default)]
pub struct Recorder {
    seen: Mutex<Vec<Seen>>,
}

impl Recorder {
    /// Everything recorded so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("recorder lock").clone()
    }
}

impl RequestExecutor for Recorder {
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: &'static OperationMeta,
    ) -> BoxFuture<'a, reqwest::Result<reqwest::Response>> {
        self.seen.lock().expect("recorder lock").push(Seen {
            meta: operation,
            method: request.method().to_string(),
            url: request.url().to_string(),
        });
        Box::pin(client.execute(request))
    }
}

/// A client for `server` whose requests go through a [`Recorder`].
pub fn recording_client(server: &MockServer) -> (Client, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let client = Client::new_with_client(
        &server.base_url(),
        reqwest::Client::new(),
        Inner::with_executor(recorder.clone()),
    );
    (client, recorder)
}

/// The query part of a recorded URL.
pub fn query_of(url: &str) -> &str {
    url.split_once('?').map(|(_, q)| q).unwrap_or("")
}

/// A user as `GET /users/me` returns it (all required fields).
pub fn current_user_json() -> serde_json::Value {
    serde_json::json!({
        "uuid": "7d6b1c84-3f34-4a51-9b0e-1f0c4a6e2b10",
        "email": "ada@example.com",
        "handle": "ada",
        "bio": "maths",
        "displayName": "Ada",
        "isCreator": true,
        "createdAt": "2024-01-02T03:04:05Z",
        "updatedAt": null,
        "avatarUrl": null,
        "bannerUrl": null
    })
}

/// A chat user (follower, chat partner).
pub fn chat_user_json() -> serde_json::Value {
    serde_json::json!({
        "uuid": "3f1d2c4b-5a69-4e7f-8a9b-0c1d2e3f4a5b",
        "handle": "fan1",
        "displayName": "Fan One",
        "nickname": null,
        "isTopSpender": false,
        "avatarUrl": null,
        "registeredAt": "2024-05-06T07:08:09Z"
    })
}

/// A finalised media item with one variant.
pub fn media_json(status: &str) -> serde_json::Value {
    serde_json::json!({
        "uuid": "0b7c7e5e-8f5a-4c55-9d2e-3d1f5c8a9b01",
        "status": status,
        "mediaType": "image",
        "createdAt": "2024-01-02T03:04:05Z",
        "variants": [{
            "uuid": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "variantType": "thumbnail",
            "displayPosition": 0,
            "width": 320,
            "height": 200,
            "lengthMs": null,
            "url": "https://cdn.example.com/t.jpg"
        }]
    })
}

/// A page-number list body.
pub fn page_json(data: Vec<serde_json::Value>, page: u64, has_more: bool) -> serde_json::Value {
    serde_json::json!({
        "data": data,
        "pagination": {"page": page, "size": 15, "hasMore": has_more}
    })
}

/// Registers the mock `expect` on `server`, awaits `request`, checks that
/// the mock was hit; the decoded body of the successful response.
pub async fn exchange<T, E: std::fmt::Debug>(
    server: &MockServer,
    expect: impl FnOnce(httpmock::When, httpmock::Then),
    request: impl Future<Output = Result<fanvue_api::ResponseValue<T>, fanvue_api::Error<E>>>,
) -> T {
    let mock = server.mock_async(expect).await;
    let value = request.await.expect("send").into_inner();
    mock.assert_async().await;
    value
}

/// Mocks `GET /users/me` on `server`, answering [`current_user_json`].
pub async fn mock_current_user(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(httpmock::Method::GET).path("/users/me");
            then.status(200).json_body(current_user_json());
        })
        .await
}
