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
