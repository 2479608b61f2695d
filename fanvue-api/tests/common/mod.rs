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
