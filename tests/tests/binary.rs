//! The `fanvue-fake` binary listens on `--port` and serves the document-driven API there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Kills the child on drop, so a failing assertion does not leave it running.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_listens_on_the_given_port() {
    // A free port: bind, read it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_fanvue-fake"))
            .args([
                "--port",
                &port.to_string(),
                "--seed",
                "3",
                "--list-size",
                "7",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut vars = std::collections::HashMap::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("Running") {
            break;
        }
        if let Some((k, v)) = line.split_once('=') {
            vars.insert(k.to_string(), v.to_string());
        }
    }
    let api = &vars["FANVUE_API_URL"];
    assert_eq!(api, &format!("http://127.0.0.1:{port}"));
    let resp = reqwest::Client::new()
        .get(format!("{api}/agencies/chats?size=50"))
        .header("X-Fanvue-API-Version", &vars["FANVUE_API_VERSION"])
        .bearer_auth(&vars["FANVUE_ACCESS_TOKEN"])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 7, "--list-size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_delivers_a_fans_typed_message_as_a_signed_webhook() {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use std::io::Write as _;

    const SECRET: &str = "whsec-binary-test";
    let (got_tx, mut got) = tokio::sync::mpsc::unbounded_channel::<(HeaderMap, Bytes)>();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let got_tx = got_tx.clone();
            async move {
                let _ = got_tx.send((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_fanvue-fake"))
            .args(["--webhook-url", &url, "--webhook-secret", SECRET])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Standard output, line by line, from a thread (the reads block).
    let stdout = child.0.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut fan = String::new();
    while let Some(line) = lines.recv().await {
        if let Some(value) = line.strip_prefix("FANVUE_WEBHOOK_FAN=") {
            fan = value.to_string();
        }
        if line.starts_with("Running") {
            break;
        }
    }
    assert!(!fan.is_empty(), "the fan is printed");

    let mut stdin = child.0.stdin.take().unwrap();
    writeln!(stdin, "hello from the terminal").unwrap();
    stdin.flush().unwrap();

    let (headers, body) = tokio::time::timeout(std::time::Duration::from_secs(30), got.recv())
        .await
        .expect("a delivery within 30 s")
        .expect("a delivery");
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["message"]["text"], "hello from the terminal");
    assert_eq!(payload["sender"]["uuid"], fan.as_str());
    assert_eq!(headers["x-fanvue-topic"], "message.received");
    let signature = headers["x-fanvue-signature"].to_str().unwrap();
    let t: u64 = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse().ok())
        .unwrap();
    assert_eq!(fanvue_fake::webhooks::sign(SECRET, t, &body), signature);

    let mut delivered = None;
    while let Ok(Some(line)) =
        tokio::time::timeout(std::time::Duration::from_secs(30), lines.recv()).await
    {
        if line.starts_with("delivered") {
            delivered = Some(line);
            break;
        }
    }
    assert_eq!(
        delivered.as_deref(),
        Some("delivered message.received (attempt 1, status 200)")
    );
}

/// Three distinct free ports (bound together, then released).
fn free_ports() -> [u16; 3] {
    let listeners: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    [ports[0], ports[1], ports[2]]
}

#[tokio::test]
async fn binary_takes_fixed_ports_a_token_and_limits_and_prints_each_variable_once() {
    let [api_port, auth_port, s3_port] = free_ports();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_fanvue-fake"))
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &api_port.to_string(),
                "--auth-port",
                &auth_port.to_string(),
                "--s3-port",
                &s3_port.to_string(),
                "--token",
                "cli-token",
                "--rate-limit",
                "2/4294967295",
                "--strict-query",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut printed: Vec<(String, String)> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("Running") {
            break;
        }
        if let Some((k, v)) = line.split_once('=') {
            printed.push((k.to_string(), v.to_string()));
        }
    }
    // Each variable once, so `export $(fanvue-fake ...)`-style use keeps every value.
    let mut names: Vec<&str> = printed.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "a variable printed twice: {printed:?}");
    let var = |name: &str| {
        printed
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} not printed: {printed:?}"))
    };
    assert_eq!(
        var("FANVUE_API_URL"),
        format!("http://127.0.0.1:{api_port}")
    );
    assert_eq!(
        var("FANVUE_AUTH_URL"),
        format!("http://127.0.0.1:{auth_port}")
    );
    assert_eq!(var("FANVUE_S3_URL"), format!("http://127.0.0.1:{s3_port}"));
    assert_eq!(var("FANVUE_ACCESS_TOKEN"), "cli-token");
    let creators = var("FANVUE_CREATORS");
    let creators: Vec<uuid::Uuid> = creators.split(',').map(|c| c.parse().unwrap()).collect();
    assert_eq!(creators.len(), 2);
    let fan: uuid::Uuid = var("FANVUE_FAN").parse().unwrap();

    let api = var("FANVUE_API_URL");
    let get = |path: String| {
        reqwest::Client::new()
            .get(format!("{api}{path}"))
            .header("X-Fanvue-API-Version", var("FANVUE_API_VERSION"))
            .bearer_auth("cli-token")
            .send()
    };
    // The fan is the fan of the first chat.
    let chats: serde_json::Value = get("/chats".into()).await.unwrap().json().await.unwrap();
    assert_eq!(chats["data"][0]["user"]["uuid"], fan.to_string(), "{chats}");
    // --strict-query: an unknown parameter is refused (and, refused or not, counted).
    assert_eq!(
        get("/users/me?colour=blue".into()).await.unwrap().status(),
        400
    );
    // --rate-limit 2/...: the shared bucket is spent.
    assert_eq!(get("/users/me".into()).await.unwrap().status(), 429);
    // The creator's bucket is its own; the fan id names a chat of the fake.
    let media = get(format!("/creators/{}/media", creators[0]))
        .await
        .unwrap();
    assert_eq!(media.status(), 200);
    let admin: serde_json::Value =
        reqwest::get(format!("{}/rate-limits", var("FANVUE_FAKE_ADMIN_URL")))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(admin["rejected"], 1, "{admin}");
}
