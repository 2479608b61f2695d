//! Each request runs in a span with operation id, method, path template,
//! status, attempt and latency; each retry is an event; no secrets anywhere.
//! (Alone in its test binary: tracing's callsite cache is process-wide, and
//! other tests running without a subscriber in parallel would race it.)

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Fanvue, RetryPolicy};
use support::{Reply, Server, first_n};

fn fast_policy() -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(3)
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
        .build()
}

fn user() -> serde_json::Value {
    support::fixtures::current_user()
}

/// A `MakeWriter` collecting formatted tracing output.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// Debug output with span closes, collected for this thread until the guard drops.
fn capture() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    (capture, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn each_retry_and_request_is_traced_without_secrets() {
    let (capture, _guard) = capture();

    let server = Server::start(first_n(
        1,
        Reply::text(503, "busy"),
        Reply::json(200, user()).header("x-request-id", "req-traced-7"),
    ))
    .await;
    let fanvue = Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token("tok-SECRET-42".to_string())
        .retry_policy(fast_policy())
        .build()
        .unwrap();
    fanvue.api().get_current_user().send().await.unwrap();

    let output = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let retry_line = output
        .lines()
        .find(|l| l.contains("retrying"))
        .unwrap_or_else(|| panic!("no retry event in:\n{output}"));
    assert!(retry_line.contains("attempt=1"), "{retry_line}");
    assert!(retry_line.contains("delay_ms="), "{retry_line}");
    assert!(retry_line.contains("503"), "{retry_line}");
    let close = output
        .lines()
        .find(|l| l.contains("close"))
        .unwrap_or_else(|| panic!("no span close in:\n{output}"));
    for field in [
        "operation_id=\"get-current-user\"",
        "method=\"GET\"",
        "path=\"/users/me\"",
        "status=200",
        "request_id=\"req-traced-7\"",
        "attempt=2",
        "latency_ms=",
    ] {
        assert!(close.contains(field), "{field} missing in {close}");
    }
    assert!(!output.contains("tok-SECRET-42"));
}

#[tokio::test]
async fn an_error_responses_span_carries_its_request_id() {
    let (capture, _guard) = capture();

    let server = Server::start(|_| {
        Reply::json(404, serde_json::json!({"message": "no such user"}))
            .header("x-request-id", "req-missing-9")
    })
    .await;
    let fanvue = Fanvue::builder()
        .base_url(server.url())
        .allow_insecure_http(true)
        .access_token("tok-SECRET-43".to_string())
        .retry_policy(fast_policy())
        .build()
        .unwrap();
    let err = fanvue.api().get_current_user().send().await.unwrap_err();
    assert_eq!(err.request_id(), Some("req-missing-9"));

    let output = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let close = output
        .lines()
        .find(|l| l.contains("close"))
        .unwrap_or_else(|| panic!("no span close in:\n{output}"));
    for field in ["status=404", "request_id=\"req-missing-9\""] {
        assert!(close.contains(field), "{field} missing in {close}");
    }
    assert!(!output.contains("tok-SECRET-43"));
}
