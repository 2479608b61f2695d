//! Webhook verification and events: the shared vectors (when `../shared` is present), this crate's own
//! fixtures of the same classes, events of all four families, and the axum extractor over real HTTP.

use std::path::PathBuf;

use fanvue_api_ext::webhook::{
    DedupeSource, Event, MalformedHeader, Receiver, TopicSource, Verifier, VerifyError,
    WebhookError,
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

const NOW: u64 = 1_800_000_060;
const T: u64 = 1_800_000_000;
const SECRET: &str = "fixture-secret-not-real";

/// Independent signer: HMAC-SHA256 over `t.body`, lower-case hex.
fn sig(secret: &str, t: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn verifier(secrets: &[&str]) -> Verifier {
    Verifier::builder()
        .secrets(secrets.iter().map(|s| s.to_string()))
        .clock(|| NOW)
        .build()
        .unwrap()
}

fn reason(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::MissingHeader => "missing_header",
        VerifyError::MalformedHeader(_) => "malformed_header",
        VerifyError::NoMatchingSignature => "signature_mismatch",
        VerifyError::TimestampOutsideTolerance { .. } => "timestamp_outside_tolerance",
        _ => "other",
    }
}

#[test]
fn shared_vectors_all_pass() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fanvue-webhooks/vectors.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return;
    };
    let doc: Value = serde_json::from_str(&text).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 30);
    for v in vectors {
        let id = v["id"].as_str().unwrap();
        let now = v["now"].as_u64().unwrap();
        let verifier = Verifier::builder()
            .secret(v["secret"].as_str().unwrap().to_string())
            .tolerance(std::time::Duration::from_secs(
                v["tolerance_seconds"].as_u64().unwrap(),
            ))
            .clock(move || now)
            .build()
            .unwrap();
        let body = v["raw_body"].as_str().unwrap().as_bytes();
        let result = verifier.verify(v["header_value"].as_str(), body);
        match v["expected"].as_str().unwrap() {
            "valid" => assert_eq!(result, Ok(body), "{id}"),
            _ => {
                let err = result.expect_err(id);
                assert_eq!(
                    reason(&err),
                    v["expected_reason"].as_str().unwrap(),
                    "{id}: {err:?}"
                );
                let text = format!("{err} {err:?}");
                assert!(!text.contains(v["secret"].as_str().unwrap()), "{id}");
            }
        }
    }
}

fn body() -> Vec<u8> {
    br#"{"counterpartUuid":"11111111-2222-4333-8444-555555555555","readMessagesCount":2,"recipientUuid":"66666666-7777-4888-9999-000000000000","timestamp":"2027-01-15T08:00:00.000Z"}"#.to_vec()
}

#[test]
fn own_fixtures_cover_the_vector_classes() {
    let b = body();
    let good = sig(SECRET, &T.to_string(), &b);
    let other = sig("another-secret", &T.to_string(), &b);
    let v = verifier(&[SECRET]);
    let ok = |h: &str, body: &[u8]| v.verify(Some(h), body).map(|_| ()).map_err(|e| reason(&e));
    // valid, order, whitespace, case, unknown keys, prefixed secret used verbatim, empty body
    assert_eq!(ok(&format!("t={T},v0={good}"), &b), Ok(()));
    assert_eq!(ok(&format!("v0={good},t={T}"), &b), Ok(()));
    assert_eq!(ok(&format!("t={T}, v0={good}"), &b), Ok(()));
    assert_eq!(ok(&format!("t={T},v0={}", good.to_uppercase()), &b), Ok(()));
    assert_eq!(ok(&format!("t={T},v9=zz,v0={good}"), &b), Ok(()));
    let wv = verifier(&["whsec_abc"]);
    assert!(
        wv.verify(
            Some(&format!(
                "t={T},v0={}",
                sig("whsec_abc", &T.to_string(), b"")
            )),
            b""
        )
        .is_ok()
    );
    // rotation: both header forms, and two configured secrets
    assert_eq!(ok(&format!("t={T},v0={other},{good}"), &b), Ok(()));
    assert_eq!(ok(&format!("t={T},v0={other},v0={good}"), &b), Ok(()));
    assert_eq!(
        ok(&format!("t={T},v0={other},{other}"), &b),
        Err("signature_mismatch")
    );
    let both = verifier(&["another-secret", SECRET]);
    assert!(both.verify(Some(&format!("t={T},v0={good}")), &b).is_ok());
    // wrong secret, tampered body, trailing newline, re-serialised, swapped timestamp
    assert_eq!(
        ok(&format!("t={T},v0={other}"), &b),
        Err("signature_mismatch")
    );
    let mut tampered = b.clone();
    tampered[30] ^= 1;
    assert_eq!(
        ok(&format!("t={T},v0={good}"), &tampered),
        Err("signature_mismatch")
    );
    let mut nl = b.clone();
    nl.push(b'\n');
    assert_eq!(
        ok(&format!("t={T},v0={good}"), &nl),
        Err("signature_mismatch")
    );
    let pretty = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&b).unwrap()).unwrap();
    assert_eq!(
        ok(&format!("t={T},v0={good}"), &pretty),
        Err("signature_mismatch")
    );
    assert_eq!(
        ok(&format!("t={},v0={good}", T + 1), &b),
        Err("signature_mismatch")
    );
    // tolerance edges: |now - t| <= 300
    for (t, expect) in [
        (NOW - 300, Ok(())),
        (NOW - 301, Err("timestamp_outside_tolerance")),
        (NOW + 300, Ok(())),
        (NOW + 301, Err("timestamp_outside_tolerance")),
    ] {
        assert_eq!(
            ok(&format!("t={t},v0={}", sig(SECRET, &t.to_string(), &b)), &b),
            expect,
            "t={t}"
        );
    }
    let ms = format!("{T}000");
    assert_eq!(
        ok(&format!("t={ms},v0={}", sig(SECRET, &ms, &b)), &b),
        Err("timestamp_outside_tolerance")
    );
    // malformed
    for h in [
        "",
        " , ",
        &format!("v0={good}"),
        &format!("t={T}"),
        &format!("t=abc,v0={good}"),
        &format!("t={T},v0=zz{}", &good[2..]),
        &format!("t={T},t={},v0={good}", T + 1),
        &format!("{good},t={T}"),
        &format!("t={T},v0="),
    ] {
        assert_eq!(ok(h, &b), Err("malformed_header"), "{h:?}");
    }
    assert_eq!(
        ok(&format!("t={T},v0={}", &good[..62]), &b),
        Err("signature_mismatch")
    );
    assert_eq!(v.verify(None, &b), Err(VerifyError::MissingHeader));
    assert_eq!(
        v.verify(Some(&format!("t={T},t={T},v0={good}")), &b),
        Err(VerifyError::MalformedHeader(
            MalformedHeader::DuplicateTimestamp
        ))
    );
}

fn receiver(topic: Option<&str>) -> Receiver {
    let mut b = Receiver::builder()
        .secret(SECRET)
        .clock(|| NOW)
        .max_body(4096);
    if let Some(t) = topic {
        b = b.topic(t);
    }
    b.build().unwrap()
}

fn signed_headers(body: &[u8], topic: Option<&str>) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        "x-fanvue-signature",
        format!("t={T},v0={}", sig(SECRET, &T.to_string(), body))
            .parse()
            .unwrap(),
    );
    if let Some(t) = topic {
        h.insert("x-fanvue-topic", t.parse().unwrap());
    }
    h
}

fn user() -> Value {
    json!({"uuid": "11111111-2222-4333-8444-555555555555", "handle": "fan-one", "displayName": "Fan One", "avatarUrl": null})
}

fn envelope(kind: &str, data: Value) -> Value {
    json!({"id": format!("evt-{kind}"), "type": kind, "timestamp": "2027-01-15T08:00:00.000Z", "data": data, "extra_field": 1})
}

#[test]
fn events_of_all_four_families_decode_and_unknowns_are_kept() {
    let r = receiver(None);
    let decode = |v: &Value, topic: Option<&str>| {
        let b = serde_json::to_vec(v).unwrap();
        r.receive(&signed_headers(&b, topic), &b).unwrap()
    };
    // flat, by topic header
    let msg = json!({"message": {"uuid": "22222222-2222-4333-8444-555555555555", "text": null, "hasMedia": false, "createdAt": "2027-01-15T08:00:00Z"},
        "messageUuid": "22222222-2222-4333-8444-555555555555", "sender": user(), "recipientUuid": "66666666-7777-4888-9999-000000000000",
        "timestamp": "2027-01-15T08:00:00Z", "someNewField": true});
    let d = decode(&msg, Some("message.received"));
    let Event::MessageReceived(m) = &d.event else {
        panic!("{:?}", d.event)
    };
    assert_eq!(m.message.text, None);
    assert_eq!(d.dedupe_source(), DedupeSource::BodyDigest);
    let tip = json!({"context": "post", "postUuid": "33333333-2222-4333-8444-555555555555", "recipientUuid": "66666666-7777-4888-9999-000000000000",
        "senderUuid": "11111111-2222-4333-8444-555555555555", "price": 500, "sender": user(), "timestamp": "2027-01-15T08:00:00Z"});
    assert!(matches!(
        decode(&tip, Some("tip.received")).event,
        Event::TipReceived(_)
    ));
    // flat without topic: Unknown with an empty kind (no guessing) ...
    assert!(matches!(decode(&tip, None).event, Event::Unknown { ref kind, .. } if kind.is_empty()));
    // ... unless declared for the endpoint, or sniffing is asked for
    let declared = receiver(Some("tip.new"));
    let b = serde_json::to_vec(&tip).unwrap();
    assert!(matches!(
        declared
            .receive(&signed_headers(&b, None), &b)
            .unwrap()
            .event,
        Event::TipReceived(_)
    ));
    let sniff = Receiver::builder()
        .secret(SECRET)
        .clock(|| NOW)
        .sniff_flat_topics(true)
        .build()
        .unwrap();
    assert!(matches!(
        sniff.receive(&signed_headers(&b, None), &b).unwrap().event,
        Event::TipReceived(_)
    ));
    // checkout
    let pay = envelope(
        "checkout_link.payment.succeeded",
        json!({"object": "payment", "id": "FV-1", "status": "succeeded", "billing_reason": "brand_new_reason",
        "gross": 1000, "net": 800, "fees": {"fanvue_fee": 150, "transaction_fee": 50}, "currency": "EUR", "paid_in_full": true, "installment": null,
        "subscription": null, "client_reference_id": null, "transaction_id": "tx", "created_at": null, "paid_at": "2027-01-15T08:00:00Z",
        "checkout_link": {"uuid": "44444444-2222-4333-8444-555555555555", "name": "L", "product_uuid": "44444444-2222-4333-8444-555555555556", "product_price_uuid": "44444444-2222-4333-8444-555555555557"},
        "purchaser": {"uuid": "11111111-2222-4333-8444-555555555555", "email": null}, "creator": {"uuid": "c"}, "metadata": {"k": "v"}}),
    );
    let d = decode(&pay, None);
    let Event::CheckoutPaymentSucceeded(p) = &d.event else {
        panic!("{:?}", d.event)
    };
    assert_eq!(p.data.gross, 1000);
    assert_eq!(p.data.billing_reason.to_string(), "brand_new_reason");
    assert_eq!(d.dedupe_key(), "evt-checkout_link.payment.succeeded");
    assert_eq!(d.dedupe_source(), DedupeSource::EnvelopeId);
    // payout / app billing
    let payout = envelope(
        "payout.paid",
        json!({"object": "payout", "id": "FVW-1", "status": "paid", "amount": 5, "creator": {"uuid": "c"}, "fx_rate": 1.1}),
    );
    assert!(matches!(decode(&payout, None).event, Event::PayoutPaid(_)));
    let app = envelope(
        "app.payment.succeeded",
        json!({"object": "payment", "purchase_reference": "appotp_1"}),
    );
    assert!(matches!(
        decode(&app, None).event,
        Event::AppPaymentSucceeded(_)
    ));
    // creator.*, with the alias of the presence event
    let presence = envelope(
        "creator.fan.status_changed",
        json!({"object": "fan_status", "state": "online"}),
    );
    assert!(matches!(
        decode(&presence, None).event,
        Event::CreatorFanPresenceChanged(_)
    ));
    // unknown type kept
    let liked = envelope("creator.post.liked", json!({"post": 1}));
    let d = decode(&liked, None);
    assert!(
        matches!(&d.event, Event::Unknown { kind, raw } if kind == "creator.post.liked" && raw["data"]["post"] == 1)
    );
    // an unknown envelope still dedupes on its id
    assert_eq!(d.dedupe_key(), "evt-creator.post.liked");
    assert_eq!(d.decode_error, None);
}

#[test]
fn every_event_of_the_spec_table_has_a_variant() {
    for info in fanvue_api_ext::api::webhooks::EVENTS {
        assert!(
            Event::known_kinds().contains(&info.kind),
            "{} has no Event variant",
            info.kind
        );
    }
    assert_eq!(
        Event::known_kinds().len(),
        fanvue_api_ext::api::webhooks::EVENTS.len()
    );
}

#[test]
fn oversized_and_unparseable_bodies() {
    let r = receiver(None);
    let big = vec![b' '; 5000];
    assert_eq!(
        r.receive(&signed_headers(&big, None), &big)
            .unwrap_err()
            .status(),
        413
    );
    let bad = b"{not json";
    // verified but not JSON: delivered as Unknown, with the bytes and the reason
    let d = r.receive(&signed_headers(bad, None), bad).unwrap();
    assert!(matches!(&d.event, Event::Unknown { kind, raw } if kind.is_empty() && raw.is_null()));
    assert_eq!(&d.body[..], bad);
    assert_eq!(d.decode_error.as_ref().map(|e| e.kind.as_str()), Some(""));
    // unsigned: refused before anything is parsed
    let err = r.receive(&http::HeaderMap::new(), bad).unwrap_err();
    assert!(matches!(
        err,
        WebhookError::Verify(VerifyError::MissingHeader)
    ));
    assert_eq!(err.status(), 401);
}

mod extractor {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use fanvue_api_ext::webhook::extract::Webhook;
    use std::sync::{Arc, Mutex};

    /// What the handler was given: the body and whether it failed to decode.
    type Bodies = Arc<Mutex<Vec<(Vec<u8>, bool)>>>;

    #[derive(Clone)]
    struct AppState {
        receiver: Receiver,
        seen: Arc<Mutex<Vec<String>>>,
        bodies: Bodies,
    }
    impl axum::extract::FromRef<AppState> for Receiver {
        fn from_ref(s: &AppState) -> Receiver {
            s.receiver.clone()
        }
    }

    async fn hook(
        axum::extract::State(s): axum::extract::State<AppState>,
        Webhook(d): Webhook,
    ) -> &'static str {
        s.seen.lock().unwrap().push(d.event.kind().to_string());
        s.bodies
            .lock()
            .unwrap()
            .push((d.body.to_vec(), d.decode_error.is_some()));
        "ok"
    }

    async fn post_raw(addr: std::net::SocketAddr, headers: &[(&str, String)], body: &[u8]) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut req = format!(
            "POST /hook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        s.write_all(body).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out)[9..12].parse().unwrap()
    }

    #[tokio::test]
    async fn refuses_tampered_stale_and_wrong_secret_with_401_and_parses_nothing() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = AppState {
            receiver: receiver(Some("message.read")),
            seen: seen.clone(),
            bodies: Arc::default(),
        };
        let app = Router::new().route("/hook", post(hook)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let b = body();
        let good = format!("t={T},v0={}", sig(SECRET, &T.to_string(), &b));
        let mut tampered = b.clone();
        tampered[40] ^= 1;
        let stale_t = NOW - 301;
        let stale = format!("t={stale_t},v0={}", sig(SECRET, &stale_t.to_string(), &b));
        let wrong = format!("t={T},v0={}", sig("not-the-secret", &T.to_string(), &b));
        let h = |v: &str| vec![("x-fanvue-signature", v.to_string())];
        assert_eq!(post_raw(addr, &h(&good), &tampered).await, 401);
        assert_eq!(post_raw(addr, &h(&stale), &b).await, 401);
        assert_eq!(post_raw(addr, &h(&wrong), &b).await, 401);
        assert_eq!(post_raw(addr, &[], &b).await, 401);
        assert_eq!(post_raw(addr, &h(&good), &vec![b' '; 5000]).await, 413);
        assert!(seen.lock().unwrap().is_empty(), "nothing may be processed");
        assert_eq!(post_raw(addr, &h(&good), &b).await, 200);
        assert_eq!(*seen.lock().unwrap(), vec!["message.read".to_string()]);
    }

    /// Serves `hook` for `receiver` (by default declared for `message.read`).
    async fn serve(seen: Arc<Mutex<Vec<String>>>) -> std::net::SocketAddr {
        serve_with(receiver(Some("message.read")), seen, Arc::default()).await
    }

    async fn serve_with(
        receiver: Receiver,
        seen: Arc<Mutex<Vec<String>>>,
        bodies: Bodies,
    ) -> std::net::SocketAddr {
        let state = AppState {
            receiver,
            seen,
            bodies,
        };
        let app = Router::new().route("/hook", post(hook)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    }

    /// Sends `head` (request line and headers, without the blank line) and `rest` as written; the status.
    async fn send_raw(addr: std::net::SocketAddr, raw: &[u8]) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(raw).await.unwrap();
        let mut out = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out)
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn a_body_that_cannot_be_read_is_400_not_413() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let addr = serve(seen.clone()).await;
        let b = body();
        let signature = format!("t={T},v0={}", sig(SECRET, &T.to_string(), &b));
        // A chunked body whose chunk size is not hexadecimal: well under the cap, but unreadable.
        let raw = format!(
            "POST /hook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             transfer-encoding: chunked\r\nx-fanvue-signature: {signature}\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
        );
        assert_eq!(send_raw(addr, raw.as_bytes()).await, 400);
        // Over the cap without a Content-Length (chunked) is still 413.
        let big = vec![b' '; 5000];
        let mut raw = format!(
            "POST /hook HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\
             x-fanvue-signature: {signature}\r\n\r\n{:x}\r\n",
            big.len()
        )
        .into_bytes();
        raw.extend_from_slice(&big);
        raw.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(send_raw(addr, &raw).await, 413);
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unsigned_probe_is_acknowledged_only_when_asked_and_never_processed() {
        let probe = |r: &str| {
            format!(
                "POST /hook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{r}",
                r.len()
            )
        };
        // By default an unsigned request is 401, like any other failed verification.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let strict = serve(seen.clone()).await;
        assert_eq!(send_raw(strict, probe("").as_bytes()).await, 401);
        // Acknowledging probes: 200 for a request without any signature, with or without a body ...
        let acknowledging = Receiver::builder()
            .secret(SECRET)
            .clock(|| NOW)
            .topic("message.read")
            .acknowledge_unsigned_probes(true)
            .build()
            .unwrap();
        let addr = serve_with(acknowledging, seen.clone(), Arc::default()).await;
        assert_eq!(send_raw(addr, probe("").as_bytes()).await, 200);
        let b = String::from_utf8(body()).unwrap();
        assert_eq!(send_raw(addr, probe(&b).as_bytes()).await, 200);
        // ... and the handler never ran.
        assert!(seen.lock().unwrap().is_empty());
        // A signature that is present but wrong, malformed or stale is still 401.
        let wrong = format!(
            "t={T},v0={}",
            sig("not-the-secret", &T.to_string(), b.as_bytes())
        );
        assert_eq!(
            post_raw(addr, &[("x-fanvue-signature", wrong)], b.as_bytes()).await,
            401
        );
        assert_eq!(
            post_raw(addr, &[("x-fanvue-signature", "t=1".into())], b.as_bytes()).await,
            401
        );
        assert!(seen.lock().unwrap().is_empty());
        // A signed delivery is processed as usual.
        let good = format!("t={T},v0={}", sig(SECRET, &T.to_string(), b.as_bytes()));
        assert_eq!(
            post_raw(addr, &[("x-fanvue-signature", good)], b.as_bytes()).await,
            200
        );
        assert_eq!(*seen.lock().unwrap(), vec!["message.read".to_string()]);
    }

    #[tokio::test]
    async fn a_verified_body_that_does_not_decode_reaches_the_handler() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let addr = serve_with(receiver(Some("message.read")), seen.clone(), bodies.clone()).await;
        // The declared event, drifted: a count became a string.
        let mut drifted: Value = serde_json::from_slice(&body()).unwrap();
        drifted["readMessagesCount"] = json!("three");
        let drifted = serde_json::to_vec(&drifted).unwrap();
        // Not JSON at all.
        let garbage = b"\x00 not json".to_vec();
        for b in [&drifted, &garbage] {
            let good = format!("t={T},v0={}", sig(SECRET, &T.to_string(), b));
            assert_eq!(
                post_raw(addr, &[("x-fanvue-signature", good)], b).await,
                200,
                "{}",
                String::from_utf8_lossy(b)
            );
        }
        assert_eq!(
            *seen.lock().unwrap(),
            vec!["message.read".to_string(), String::new()]
        );
        // The handler got the exact signed bytes, and knew they did not decode.
        assert_eq!(
            *bodies.lock().unwrap(),
            vec![(drifted.clone(), true), (garbage.clone(), true)]
        );
        // Unsigned or tampered stays 401.
        let good = format!("t={T},v0={}", sig(SECRET, &T.to_string(), &drifted));
        assert_eq!(
            post_raw(addr, &[("x-fanvue-signature", good)], &garbage).await,
            401
        );
        assert_eq!(seen.lock().unwrap().len(), 2);
    }
}

/// What an unsigned header may and may not decide about a genuinely signed delivery.
mod trust {
    use super::*;

    fn tip() -> Vec<u8> {
        serde_json::to_vec(&json!({"context": "post", "postUuid": "33333333-2222-4333-8444-555555555555",
            "recipientUuid": "66666666-7777-4888-9999-000000000000", "senderUuid": "11111111-2222-4333-8444-555555555555",
            "price": 500, "sender": user(), "timestamp": "2027-01-15T08:00:00Z"}))
        .unwrap()
    }

    fn with_header(mut h: http::HeaderMap, name: &'static str, value: &str) -> http::HeaderMap {
        h.insert(name, value.parse().unwrap());
        h
    }

    #[test]
    fn a_declared_topic_wins_over_an_unsigned_topic_header() {
        let b = tip();
        let r = receiver(Some("tip.new"));
        // A genuine tip, replayed with an added topic header naming another event.
        for header in ["x-fanvue-topic", "x-fanvue-event"] {
            let h = with_header(signed_headers(&b, None), header, "purchase.new");
            let d = r.receive(&h, &b).unwrap();
            assert!(
                matches!(d.event, Event::TipReceived(_)),
                "{header}: {:?}",
                d.event
            );
            assert_eq!(d.event.kind(), "tip.new");
            assert_eq!(d.topic_source, TopicSource::Declared);
            assert_eq!(d.topic_header.as_deref(), Some("purchase.new"));
        }
        // The header naming the declared event by another spelling is no conflict.
        let h = signed_headers(&b, Some("tip.received"));
        assert!(matches!(
            r.receive(&h, &b).unwrap().event,
            Event::TipReceived(_)
        ));

        // Several declared topics: the header only chooses among them.
        let both = Receiver::builder()
            .secret(SECRET)
            .clock(|| NOW)
            .topic("tip.new")
            .topic("message.read")
            .build()
            .unwrap();
        let d = both
            .receive(&signed_headers(&b, Some("tip.received")), &b)
            .unwrap();
        assert!(matches!(d.event, Event::TipReceived(_)));
        assert_eq!(d.topic_source, TopicSource::Header);
        let d = both
            .receive(&signed_headers(&b, Some("purchase.new")), &b)
            .unwrap();
        assert!(
            matches!(&d.event, Event::Unknown { kind, .. } if kind.is_empty()),
            "{:?}",
            d.event
        );
        assert_eq!(d.topic_source, TopicSource::None);
        // ... and sniffing, when asked for, only picks a declared topic.
        let sniffing = Receiver::builder()
            .secret(SECRET)
            .clock(|| NOW)
            .topic("message.read")
            .topic("message.received")
            .sniff_flat_topics(true)
            .build()
            .unwrap();
        let d = sniffing.receive(&signed_headers(&b, None), &b).unwrap();
        assert!(matches!(&d.event, Event::Unknown { kind, .. } if kind.is_empty()));
        let read = body();
        let d = sniffing
            .receive(&signed_headers(&read, None), &read)
            .unwrap();
        assert!(matches!(d.event, Event::MessageRead(_)));
        assert_eq!(d.topic_source, TopicSource::Sniffed);

        // Nothing declared: the header decides, and the delivery says it rests on a header.
        let d = receiver(None)
            .receive(&signed_headers(&b, Some("tip.new")), &b)
            .unwrap();
        assert!(matches!(d.event, Event::TipReceived(_)));
        assert_eq!(d.topic_source, TopicSource::Header);
        // An envelope's type is signed: no header changes it.
        let env = serde_json::to_vec(&envelope(
            "payout.paid",
            json!({"object": "payout", "id": "FVW-1",
            "status": "paid", "amount": 5, "creator": {"uuid": "c"}}),
        ))
        .unwrap();
        let d = r
            .receive(&signed_headers(&env, Some("tip.new")), &env)
            .unwrap();
        assert!(matches!(d.event, Event::PayoutPaid(_)));
        assert_eq!(d.topic_source, TopicSource::Signed);
    }

    #[test]
    fn the_dedupe_key_does_not_follow_an_unsigned_event_id_header() {
        let b = body();
        let r = receiver(Some("message.read"));
        let first = r
            .receive(
                &with_header(signed_headers(&b, None), "x-fanvue-event-id", "evt-1"),
                &b,
            )
            .unwrap();
        // The same signed body replayed with a fresh event-id header is the same delivery.
        let replay = r
            .receive(
                &with_header(signed_headers(&b, None), "x-fanvue-event-id", "evt-2"),
                &b,
            )
            .unwrap();
        assert_eq!(first.dedupe_key(), replay.dedupe_key());
        // Another signed body is another delivery, whatever the header says.
        let mut other: Value = serde_json::from_slice(&b).unwrap();
        other["readMessagesCount"] = json!(3);
        let other = serde_json::to_vec(&other).unwrap();
        let different = r
            .receive(
                &with_header(signed_headers(&other, None), "x-fanvue-event-id", "evt-1"),
                &other,
            )
            .unwrap();
        assert_ne!(first.dedupe_key(), different.dedupe_key());
        // A retry is signed anew (another `t`) over the same bytes: the same key.
        let t2 = T + 30;
        let mut resigned = http::HeaderMap::new();
        resigned.insert(
            "x-fanvue-signature",
            format!("t={t2},v0={}", sig(SECRET, &t2.to_string(), &b))
                .parse()
                .unwrap(),
        );
        let retry = r.receive(&resigned, &b).unwrap();
        assert_eq!(retry.signed_at, t2);
        assert_eq!(first.dedupe_key(), retry.dedupe_key());
        assert_eq!(first.dedupe_source(), DedupeSource::BodyDigest);
        assert!(first.dedupe_key().starts_with("sha256:"));
        assert!(!first.dedupe_key().contains("evt-"));
        // The unauthenticated header is still there to read, as received.
        assert_eq!(first.event_id_header.as_deref(), Some("evt-1"));
    }
}
