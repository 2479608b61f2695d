//! A scripted HTTP/1.1 server on 127.0.0.1 (port 0) for the client's tests:
//! records every request (with the instant it arrived) and answers with
//! whatever the test's handler returns. Keep-alive, `Content-Length` bodies.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fanvue_api_ext::{Fanvue, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod plain_http;
pub use plain_http::plain_http_builder;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub at: Instant,
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What to answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Answer only once this is notified (never, if it never is).
    pub gate: Option<Arc<tokio::sync::Notify>>,
    /// How the body is delimited.
    pub framing: Framing,
}

/// How a reply's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `content-length` = the body's length.
    Length,
    /// `content-length` = this (more than the body: the connection is closed after the body).
    Declared(usize),
    /// No `content-length`: the body ends when the connection is closed.
    CloseDelimited,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
            gate: None,
            framing: Framing::Length,
        }
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.to_owned(),
            delay: Duration::ZERO,
            gate: None,
            framing: Framing::Length,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Declares `content-length: declared` but sends only the body, then closes the connection.
    pub fn cut_short(mut self, declared: usize) -> Self {
        self.framing = Framing::Declared(declared);
        self
    }

    /// Sends no `content-length`; the body ends when the connection is closed.
    pub fn close_delimited(mut self) -> Self {
        self.framing = Framing::CloseDelimited;
        self
    }

    /// Holds the answer until `gate` is notified.
    pub fn gated(mut self, gate: Arc<tokio::sync::Notify>) -> Self {
        self.gate = Some(gate);
        self
    }
}

type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

/// A default client of [`plain_http_builder`]: what `reqwest::Client::new()`
/// would be, but buildable with the default `rustls-ring` feature.
pub fn plain_http_client() -> reqwest::Client {
    plain_http_builder().build().expect("plain HTTP client")
}

/// A running server; stops when dropped (the runtime ends).
pub struct Server {
    pub addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let accept_log = log.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, handler.clone(), accept_log.clone()));
            }
        });
        Self { addr, log }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// How many requests so far had this path.
    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path() == path).count()
    }
}

async fn serve(mut stream: TcpStream, handler: Handler, log: Arc<Mutex<Vec<Recorded>>>) {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        log.lock().unwrap().push(request.clone());
        let reply = handler(&request);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        if let Some(gate) = &reply.gate {
            gate.notified().await;
        }
        let mut head = match reply.framing {
            Framing::Length => format!(
                "HTTP/1.1 {} X\r\ncontent-length: {}\r\n",
                reply.status,
                reply.body.len()
            ),
            Framing::Declared(length) => format!(
                "HTTP/1.1 {} X\r\ncontent-length: {length}\r\n",
                reply.status
            ),
            Framing::CloseDelimited => {
                format!("HTTP/1.1 {} X\r\nconnection: close\r\n", reply.status)
            }
        };
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(reply.body.as_bytes()).await.is_err()
        {
            return;
        }
        if reply.framing != Framing::Length {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// Reads one HTTP/1.1 request (head and `Content-Length` body) from `stream`;
/// `buffer` keeps bytes already read past it (pipelining, keep-alive).
/// `None` when the peer closes or the head is malformed.
pub async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Recorded> {
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buffer.drain(..head_end + 4);
    while buffer.len() < length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer.drain(..length).collect();
    Some(Recorded {
        at,
        method,
        target,
        headers,
        body,
    })
}

/// JSON bodies shaped like the API's (own fixtures, not copied from the docs).
pub mod fixtures {
    use serde_json::{Value, json};

    /// A deterministic UUID for item `n`.
    pub fn uuid(n: u64) -> String {
        format!("2b8f1c1e-5b8a-4a53-9d6c-{:012x}", n + 1)
    }

    /// `GET /users/me`
    pub fn current_user() -> Value {
        json!({
            "uuid": uuid(0), "handle": "jane", "displayName": "Jane", "email": "jane@example.test",
            "bio": "", "isCreator": true, "avatarUrl": null, "bannerUrl": null,
            "createdAt": "2024-01-02T03:04:05Z", "updatedAt": null
        })
    }

    /// An item of the followers list; `handle` is `fan-<n>`.
    pub fn follower(n: u64) -> Value {
        json!({
            "uuid": uuid(n), "handle": format!("fan-{n}"), "displayName": format!("Fan {n}"),
            "nickname": null, "avatarUrl": null, "isTopSpender": false,
            "registeredAt": "2024-05-06T07:08:09Z"
        })
    }

    /// An item of the tracking links list; `name` is `link-<n>`.
    pub fn tracking_link(n: u64) -> Value {
        json!({
            "uuid": uuid(n), "name": format!("link-{n}"), "linkUrl": format!("https://fanvue.test/l/{n}"),
            "externalSocialPlatform": "instagram", "clicks": n, "createdAt": "2024-05-06T07:08:09Z",
            "engagement": {"acquiredFollowers": n, "acquiredSubscribers": 0, "totalFollowers": n, "totalSubscribers": 0},
            "earnings": null
        })
    }

    /// `POST /media/uploads`
    pub fn upload_session() -> Value {
        json!({"mediaUuid": uuid(7), "uploadId": "upload-7"})
    }
}

/// A client for `server` (plain HTTP allowed, access token `tok`) retrying by `policy`.
pub fn client_with(server: &Server, policy: RetryPolicy) -> Fanvue {
    Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token("tok".to_string())
        .retry_policy(policy)
        .build()
        .unwrap()
}

/// A client for `server` (plain HTTP allowed, access token `tok`) that never retries.
pub fn client(server: &Server) -> Fanvue {
    client_with(server, RetryPolicy::none())
}

/// Answers `first` for the first `n` requests, then `then`.
pub fn first_n(n: usize, first: Reply, then: Reply) -> impl Fn(&Recorded) -> Reply {
    let count = AtomicUsize::new(0);
    move |_| {
        if count.fetch_add(1, Ordering::SeqCst) < n {
            first.clone()
        } else {
            then.clone()
        }
    }
}
