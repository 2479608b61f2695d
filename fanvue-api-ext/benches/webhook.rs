//! Webhook verification cost: `Verifier::verify` of a 2 KiB body versus a bare HMAC-SHA256 of the same bytes
//! (`t.body`, keying included) in the same process, and the axum extractor (`Webhook`: body collection, cap,
//! verify, decode) per request on an in-memory request.
//!
//! Run: `cargo bench -p fanvue-api-ext --features axum --bench webhook` (optionally `-- <iterations>`).

use std::hint::black_box;
use std::time::Instant;

use axum::extract::FromRequest;
use fanvue_api_ext::webhook::{Receiver, Verifier, extract::Webhook};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET: &str = "bench-signing-secret";
const T: u64 = 1_800_000_000;

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let mut body = br#"{"padding":""#.to_vec();
    body.resize(2048 - 2, b'x');
    body.extend_from_slice(b"\"}");
    assert_eq!(body.len(), 2048);
    let verifier = Verifier::builder()
        .secret(SECRET)
        .clock(|| T)
        .build()
        .expect("verifier");
    let header = verifier.sign(T, &body).expect("sign");
    let t = T.to_string();

    let mut best = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..n {
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
            mac.update(t.as_bytes());
            mac.update(b".");
            mac.update(black_box(&body));
            black_box(mac.finalize().into_bytes());
        }
        let bare = start.elapsed().as_secs_f64() / f64::from(n);
        let start = Instant::now();
        for _ in 0..n {
            black_box(
                verifier
                    .verify(Some(black_box(&header)), black_box(&body))
                    .is_ok(),
            );
        }
        let verify = start.elapsed().as_secs_f64() / f64::from(n);
        best = (best.0.min(bare), best.1.min(verify));
    }
    println!(
        "2 KiB body: bare HMAC-SHA256 {:.2} µs, verify {:.2} µs, ratio {:.3}",
        best.0 * 1e6,
        best.1 * 1e6,
        best.1 / best.0
    );

    // The extractor on in-memory requests (a flat event with a topic header).
    let receiver = Receiver::builder()
        .secret(SECRET)
        .clock(|| T)
        .build()
        .expect("receiver");
    let event = br#"{"counterpartUuid":"11111111-2222-4333-8444-555555555555","readMessagesCount":2,"recipientUuid":"66666666-7777-4888-9999-000000000000","timestamp":"2027-01-15T08:00:00.000Z"}"#;
    let event_header = receiver.verifier().sign(T, event).expect("sign");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let m = n / 5;
    let request = || {
        axum::http::Request::builder()
            .method("POST")
            .header("x-fanvue-signature", event_header.as_str())
            .header("x-fanvue-topic", "message.read")
            .body(axum::body::Body::from(event.to_vec()))
            .expect("request")
    };
    let (extract, direct) = runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..m {
            let w = Webhook::from_request(request(), &receiver).await;
            black_box(w.is_ok());
        }
        let extract = start.elapsed().as_secs_f64() / f64::from(m);
        let start = Instant::now();
        for _ in 0..m {
            let r = request();
            black_box(receiver.receive(r.headers(), event).is_ok());
        }
        (extract, start.elapsed().as_secs_f64() / f64::from(m))
    });
    println!(
        "extractor: {:.2} µs per request, Receiver::receive on the same request {:.2} µs, overhead {:.2} µs",
        extract * 1e6,
        direct * 1e6,
        (extract - direct) * 1e6
    );
}
