//! Every operation of the spec, sent through the client users hold
//! (`Fanvue` + `.send()`) against the spec-driven fake: with only the
//! required inputs and with every input set (values at their bounds), each
//! must pass client-side validation, be accepted by the fake's validation,
//! reach it as the spec describes (path, query encoding, body) and decode;
//! then every operation's Minimal response (nullable fields null, optional
//! fields absent), Full response and wire-noise responses (integral floats,
//! unlisted enum values and fields) must decode too. Method and headers
//! (version, bearer token, Content-Type) are compared as well. Failures are collected and reported
//! together, each naming the operation.

#[path = "support/plain_http.rs"]
mod plain_http;

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use fanvue_api_ext::api::dispatch::{OperationVisitor, dispatch};
use fanvue_api_ext::api::operation::Operation;
use fanvue_api_ext::prelude::*;
use fanvue_api_ext::{Error, Fanvue, RetryPolicy};
use fanvue_fake::spec::{Operation as SpecOperation, Spec};
use fanvue_fake::synth::{Mode, RequestInputs, request_inputs, synthesize_keyed};
use fanvue_fake::{FakeFanvue, Override, RecordedRequest};
use serde_json::{Map, Value};

type Sent<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// Sends whatever builder it is given with the ext client's `send()`.
struct SendIt;

impl<'a> OperationVisitor<'a> for SendIt {
    type Output = Sent<'a>;
    fn visit<O: Operation + 'a>(self, operation: O) -> Sent<'a> {
        Box::pin(async move { operation.send().await.map(drop) })
    }
}

fn client(fake: &FakeFanvue) -> Fanvue {
    Fanvue::builder()
        .base_url(fake.api_url())
        .allow_insecure_http(true)
        .access_token(fake.access_token())
        .retry_policy(RetryPolicy::builder().max_attempts(1).build())
        .build()
        .unwrap()
}

/// Points the inputs that name a stateful resource of the fake (a creator
/// of the agency, a media item, an upload session with an uploaded part, a
/// stored post, list, folder, message, ...) at one that exists, so the
/// stateful handlers answer as they would for a real account; every other
/// input stays as the spec synthesized it.
async fn bind_to_fake(fake: &FakeFanvue, op: &SpecOperation, inputs: &mut RequestInputs) {
    fake.bind_to_resources(op, inputs);
    let creator = inputs
        .path_params
        .iter()
        .any(|(name, _)| name == "creatorUserUuid")
        .then(|| fake.creators()[0].user.uuid);
    if let Some(creator) = creator {
        set_path(
            inputs,
            "creatorUserUuid",
            Value::String(creator.to_string()),
        );
    }
    let base = match creator {
        Some(c) => format!("{}/creators/{c}", fake.api_url()),
        None => fake.api_url().to_string(),
    };
    match op.id.as_str() {
        "get-user-media-by-uuid" | "get-creator-media-by-uuid" => {
            let session = create_upload_session(fake, &base).await;
            set_path(inputs, "uuid", session["mediaUuid"].clone());
        }
        "get-upload-part-url" | "get-creator-upload-part-url" => {
            let session = create_upload_session(fake, &base).await;
            set_path(inputs, "uploadId", session["uploadId"].clone());
        }
        "complete-upload-session" | "complete-creator-upload-session" => {
            let session = create_upload_session(fake, &base).await;
            let upload_id = session["uploadId"].as_str().unwrap().to_string();
            let http = fixture_client();
            let url = fake_call(
                http.get(format!("{base}/media/uploads/{upload_id}/parts/1/url")),
                fake,
            )
            .await
            .text()
            .await
            .unwrap();
            let put = http.put(url).body(vec![7u8; 1024]).send().await.unwrap();
            assert!(put.status().is_success(), "part PUT: {}", put.status());
            let etag = put.headers()["etag"].to_str().unwrap().to_string();
            set_path(inputs, "uploadId", Value::String(upload_id));
            inputs.body = Some(serde_json::json!({ "parts": [{ "PartNumber": 1, "ETag": etag }] }));
        }
        _ => {}
    }
}

/// The plain client the fixtures are created with (`reqwest::Client::new()` panics with the
/// default `rustls-ring` feature).
fn fixture_client() -> reqwest::Client {
    plain_http::plain_http_builder()
        .build()
        .expect("plain HTTP client")
}

fn set_path(inputs: &mut RequestInputs, name: &str, value: Value) {
    match inputs.path_params.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => *v = value,
        None => panic!("no path parameter {name}"),
    }
}

async fn fake_call(request: reqwest::RequestBuilder, fake: &FakeFanvue) -> reqwest::Response {
    let response = request
        .bearer_auth(fake.access_token())
        .header("X-Fanvue-API-Version", fake.api_version())
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "fixture: {}",
        response.status()
    );
    response
}

async fn create_upload_session(fake: &FakeFanvue, base: &str) -> Value {
    let body =
        serde_json::json!({ "name": "fixture", "filename": "fixture.jpg", "mediaType": "image" });
    let request = fixture_client()
        .post(format!("{base}/media/uploads"))
        .json(&body);
    fake_call(request, fake).await.json().await.unwrap()
}

fn params(inputs: &RequestInputs) -> Map<String, Value> {
    inputs
        .path_params
        .iter()
        .chain(&inputs.query)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn send(fanvue: &Fanvue, op: &SpecOperation, inputs: &RequestInputs) -> Result<(), String> {
    let future = dispatch(
        fanvue.api(),
        &op.id,
        &params(inputs),
        inputs.body.as_ref(),
        SendIt,
    )
    .map_err(|e| format!("dispatch: {e}"))?;
    future.await.map_err(|e| format!("{e} ({e:?})"))
}

fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Differences between the request the fake recorded and the inputs.
fn compare(
    op: &SpecOperation,
    inputs: &RequestInputs,
    seen: &RecordedRequest,
    version: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    if seen.method != op.method {
        problems.push(format!("method {}, expected {}", seen.method, op.method));
    }
    let header = |name: &str| seen.headers.get(name).and_then(|v| v.to_str().ok());
    if header("x-fanvue-api-version") != Some(version) {
        problems.push(format!(
            "X-Fanvue-API-Version {:?}, expected {version:?}",
            header("x-fanvue-api-version"),
        ));
    }
    if !header("authorization").is_some_and(|v| v.starts_with("Bearer ")) {
        problems.push("no bearer Authorization".into());
    }
    let has_body = seen.body.as_ref().is_some_and(|b| !b.is_empty());
    if has_body && !header("content-type").is_some_and(|v| v.starts_with("application/json")) {
        problems.push(format!(
            "Content-Type {:?} on a JSON body",
            header("content-type")
        ));
    }
    if !has_body && header("content-type").is_some() {
        problems.push(format!(
            "Content-Type {:?} without a body",
            header("content-type")
        ));
    }
    let want_path = inputs.path(op);
    let got_path: Vec<String> = seen.path.split('/').map(decode).collect();
    if got_path.join("/") != want_path {
        problems.push(format!("path {:?}, expected {want_path:?}", seen.path));
    }
    let mut want: Vec<(String, String)> = inputs.query_pairs(op);
    let mut got: Vec<(String, String)> =
        url::form_urlencoded::parse(seen.query.as_deref().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    // Dates may be re-serialized by chrono (same instant, another spelling).
    let norm = |pairs: &mut Vec<(String, String)>| {
        for (_, v) in pairs.iter_mut() {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
                *v = t.to_utc().to_rfc3339();
            }
        }
        pairs.sort();
    };
    norm(&mut want);
    norm(&mut got);
    if want != got {
        problems.push(format!("query {got:?}, expected {want:?}"));
    }
    let got_body: Option<Value> = seen
        .body
        .as_ref()
        .filter(|b| !b.is_empty())
        .and_then(|b| serde_json::from_slice(b).ok());
    let mut differences = Vec::new();
    json_diff(
        op.request_body.as_ref().map(|b| &b.schema),
        "",
        got_body.as_ref().unwrap_or(&Value::Null),
        inputs.body.as_ref().unwrap_or(&Value::Null),
        &mut differences,
    );
    problems.extend(differences.into_iter().map(|d| format!("body {d}")));
    problems
}

/// Where `got` differs from `want`, as JSON pointers with both values
/// (long strings shortened). Two spellings of one instant are equal, and a
/// field that was not given may be sent with the schema's `default`.
fn json_diff(schema: Option<&Value>, at: &str, got: &Value, want: &Value, out: &mut Vec<String>) {
    let spec = Spec::load();
    let schema = schema.map(|s| spec.resolve(s));
    let property = |key: &str| schema.and_then(|s| s.get("properties")?.get(key));
    let instant = |v: &Value| {
        v.as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let short = |v: &Value| {
        let text = v.to_string();
        if text.len() > 80 {
            let head: String = text.chars().take(60).collect();
            format!("{head}... ({} bytes)", text.len())
        } else {
            text
        }
    };
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (key, wv) in w {
                let here = format!("{at}/{key}");
                match g.get(key) {
                    Some(gv) => json_diff(property(key), &here, gv, wv, out),
                    None => out.push(format!("{here} missing, expected {}", short(wv))),
                }
            }
            for (key, gv) in g {
                let default = property(key)
                    .map(|p| spec.resolve(p))
                    .and_then(|p| p.get("default"));
                if !w.contains_key(key) && default != Some(gv) {
                    out.push(format!("{at}/{key} = {} was not given", short(gv)));
                }
            }
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => {
            let items = schema.and_then(|s| s.get("items"));
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                json_diff(items, &format!("{at}/{i}"), gv, wv, out);
            }
        }
        _ if got == want => {}
        _ if instant(got).is_some() && instant(got) == instant(want) => {}
        _ => out.push(format!(
            "{} = {}, expected {}",
            if at.is_empty() { "/" } else { at },
            short(got),
            short(want)
        )),
    }
}

#[tokio::test]
async fn every_operation_goes_through_the_client_with_minimal_and_full_inputs() {
    every_operation_through(FakeFanvue::start().await.unwrap()).await;
}

/// The same against a fake whose synthesized answers carry a real wire's noise (integral floats,
/// unlisted enum values and fields), as Fanvue's own answers do.
#[tokio::test]
async fn every_operation_decodes_answers_with_the_wires_noise() {
    let fake = FakeFanvue::builder()
        .wire_noise(true)
        .seed(11)
        .start()
        .await
        .unwrap();
    every_operation_through(fake).await;
}

async fn every_operation_through(fake: FakeFanvue) {
    let spec = Spec::load();
    let ops = spec.operations();
    assert_eq!(
        ops.len(),
        fanvue_api_ext::api::OPERATIONS.len(),
        "the fake's spec is the client's"
    );
    assert_eq!(ops.len(), 143);
    let fanvue = client(&fake);
    let mut failures = Vec::new();
    let mut sent = 0usize;
    let started = Instant::now();
    for op in ops {
        for (mode, name) in [(Mode::Minimal, "minimal"), (Mode::Full, "full")] {
            let mut inputs = request_inputs(spec, op, mode);
            bind_to_fake(&fake, op, &mut inputs).await;
            fake.clear_requests();
            if let Err(e) = send(&fanvue, op, &inputs).await {
                failures.push(format!("{} ({name} inputs): {e}", op.id));
                continue;
            }
            sent += 1;
            match fake.api_requests().last() {
                Some(seen) => {
                    for problem in compare(op, &inputs, seen, fanvue.api_version()) {
                        failures.push(format!("{} ({name} inputs): sent {problem}", op.id));
                    }
                }
                None => failures.push(format!("{} ({name} inputs): nothing recorded", op.id)),
            }
        }
        // The sparsest and the fullest answer the spec allows decode, and so do answers with a real
        // wire's noise (integral floats, unlisted enum values and fields).
        if let Some(response) = op
            .response
            .as_ref()
            .filter(|r| r.content_type == "application/json")
        {
            let answers = [Mode::Minimal, Mode::Full]
                .into_iter()
                .chain((0..3).map(Mode::Wire));
            for answer in answers {
                let body = synthesize_keyed(spec, &response.schema, answer, &op.id);
                fake.override_operation(
                    &op.id,
                    Override::status(op.success_status).with_body(body),
                );
                let mut inputs = request_inputs(spec, op, Mode::Minimal);
                bind_to_fake(&fake, op, &mut inputs).await;
                if let Err(e) = send(&fanvue, op, &inputs).await {
                    failures.push(format!("{} ({answer:?} response): {e}", op.id));
                }
                fake.clear_override(&op.id);
            }
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "all operations: {sent} of {} requests sent and decoded in {elapsed:?}",
        ops.len() * 2
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
