//! The fake against Fanvue's official OpenAPI document (`../shared/fanvue-openapi/openapi.json`), not
//! only against the normalized document it is generated from: every synthesized answer of every
//! operation, in every synthesis mode, must be valid against the official document's response schema
//! (in [`Mode::Wire`], but for the unlisted enum values and fields that are that mode's point).
//! Skips (with a printed reason) when the official document is absent (a fresh clone); CI has it.
//!
//! Deliberate deviations, each applied to the official document before validating and each with its
//! own test below:
//! - **instants**: the official document writes `format: date` for timestamps (`createdAt`, `sentAt`,
//!   ...: 52 of its 54 `date` fields, PROVENANCE.md) while Fanvue sends ISO 8601 date-times; the
//!   normalizer's `timestamp_suffixes` rule (openapi/numbers.yaml: a `date` field whose name ends in
//!   `At` or `_at`) makes them `date-time`, and the fake sends date-times. The same rule is applied to
//!   the official document here.

mod common;

use std::path::PathBuf;

use common::{authed, client};
use fanvue_fake::FakeFanvue;
use fanvue_fake::schema::Validators;
use fanvue_fake::spec::Spec;
use fanvue_fake::synth::{Mode, request_inputs, synthesize_keyed};
use serde_json::Value;

/// The official document's text, or `None` (with the reason printed) when `../shared` is absent.
fn official_text() -> Option<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fanvue-openapi/openapi.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!(
                "skipped: {} not readable ({e}); a fresh clone has no ../shared, CI has it",
                path.display()
            );
            None
        }
    }
}

/// Whether a validation message is about [`Mode::Wire`]'s deliberate noise.
fn is_wire_noise(message: &str) -> bool {
    [
        "ADDED_LATER",
        "added_later",
        "addedLater",
        "fanvueUnlistedField",
    ]
    .iter()
    .any(|n| message.contains(n))
}

/// The `timestamp_suffixes` rule of openapi/numbers.yaml.
fn is_instant_name(name: &str) -> bool {
    name.ends_with("At") || name.ends_with("_at")
}

/// Applies the instants deviation: a `format: date` property named like an instant becomes
/// `date-time`. Returns how many it changed.
fn instants_as_date_times(v: &mut Value) -> usize {
    let mut changed = 0;
    match v {
        Value::Object(o) => {
            if let Some(Value::Object(props)) = o.get_mut("properties") {
                for (name, prop) in props.iter_mut() {
                    if is_instant_name(name)
                        && prop.get("format").and_then(Value::as_str) == Some("date")
                        && let Some(p) = prop.as_object_mut()
                    {
                        p.insert("format".into(), Value::String("date-time".into()));
                        changed += 1;
                    }
                }
            }
            for child in o.values_mut() {
                changed += instants_as_date_times(child);
            }
        }
        Value::Array(a) => {
            for child in a {
                changed += instants_as_date_times(child);
            }
        }
        _ => {}
    }
    changed
}

/// The official document with the listed deviations applied.
fn official() -> Option<Spec> {
    let mut doc: Value =
        serde_json::from_str(&official_text()?).expect("official document is JSON");
    instants_as_date_times(&mut doc);
    Some(Spec::from_json(&doc.to_string()).expect("the official document indexes"))
}

#[test]
fn synthesized_answers_are_valid_against_the_official_document() {
    let Some(official) = official() else { return };
    let validators = Validators::build(&official).expect("official schemas compile");
    let ours = Spec::load();
    let mut failures = Vec::new();
    let mut checked = 0;
    for op in ours.operations() {
        let Some(theirs) = official
            .operations()
            .iter()
            .find(|o| o.method == op.method && o.path == op.path)
        else {
            failures.push(format!(
                "{} {}: not in the official document",
                op.method, op.path
            ));
            continue;
        };
        let Some(resp) = &op.response else {
            assert!(
                theirs.response.is_none(),
                "{}: the official document documents a success body, ours none",
                op.id
            );
            continue;
        };
        if resp.content_type != "application/json" {
            continue;
        }
        let modes = [Mode::Minimal, Mode::Full]
            .into_iter()
            .chain((0..16).map(Mode::Seeded))
            .chain((0..8).map(Mode::Wire));
        for mode in modes {
            let v = synthesize_keyed(ours, &resp.schema, mode, &op.path);
            checked += 1;
            if let Err(errors) = validators.check_response(&theirs.id, &v) {
                // The wire mode's noise (unlisted enum values and fields) is its point.
                let errors: Vec<String> = errors
                    .into_iter()
                    .filter(|e| !(matches!(mode, Mode::Wire(_)) && is_wire_noise(e)))
                    .collect();
                if !errors.is_empty() {
                    failures.push(format!("{} ({mode:?}): {}", op.id, errors.join("; ")));
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} answers checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} synthesized answers are invalid against the official document:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The instants deviation changes what it says and nothing else: the two real dates keep `date`.
#[test]
fn the_instants_deviation_only_touches_instants() {
    let Some(text) = official_text() else { return };
    let mut doc: Value = serde_json::from_str(&text).expect("official document is JSON");
    let before =
        text.matches("\"format\":\"date\"").count() + text.matches("\"format\": \"date\"").count();
    let changed = instants_as_date_times(&mut doc);
    assert!(
        changed > 0 && changed < before,
        "changed {changed} of {before} date formats"
    );
    let after = doc.to_string();
    assert!(
        after.contains("\"format\":\"date\""),
        "the real dates (fields named `date`) must stay dates"
    );
}

/// Where the fake is deliberately stricter than the official document (listed in the crate docs and
/// tests/README.md, each with its reason): the name of the rule a validation message falls under.
fn deliberate(operation: &str, message: &str) -> Option<&'static str> {
    // Whole numbers: page numbers, page sizes and part numbers are whole by nature; the official
    // document types them `number`. Integral floats (`2.0`) are accepted, fractions refused.
    let whole = ["page", "size", "limit", "partNumber", "parts."]
        .iter()
        .any(|f| message.starts_with(f))
        && (message.contains("is not an integer")
            || message.contains("is not of type \"integer\""));
    if whole {
        return Some("whole-numbers");
    }
    // Bodies a create needs: the official document leaves `requestBody.required` unset where the
    // body's own schema has required fields (a tracking link needs a name) and leaves `parts`
    // optional on completing a multipart upload, which cannot complete without its parts.
    let body_needed = matches!(
        operation,
        "createTrackingLink" | "createCreatorTrackingLink"
    ) && message == "body: is required"
        || matches!(
            operation,
            "completeUploadSession" | "completeCreatorUploadSession"
        ) && message.contains("\"parts\" is a required property");
    body_needed.then_some("required-bodies")
}

/// Every request the official document allows, generated from it in every mode, is accepted by the
/// fake's validation (never a 400 validation answer), except the deliberate strictness listed in
/// the fake's docs.
#[tokio::test]
async fn requests_the_official_document_allows_are_accepted() {
    let Some(official) = official() else { return };
    let fake = FakeFanvue::builder().start().await.expect("fake starts");
    let http = client();
    let mut refused = Vec::new();
    let mut deliberate_refusals = 0;
    let mut sent = 0;
    for op in official.operations() {
        let modes = [Mode::Minimal, Mode::Full]
            .into_iter()
            .chain((0..6).map(Mode::Seeded));
        for mode in modes {
            let inputs = request_inputs(&official, op, mode);
            let url = format!("{}{}", fake.api_url(), inputs.path(op));
            let mut rb =
                authed(&fake, http.request(op.method.clone(), url)).query(&inputs.query_pairs(op));
            if let Some(body) = &inputs.body {
                rb = rb.json(body);
            }
            let resp = rb.send().await.expect("request reaches the fake");
            sent += 1;
            if resp.status() == 400 {
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                let errors: Vec<&str> = body["errors"]
                    .as_array()
                    .map(|e| e.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let unlisted: Vec<&str> = errors
                    .iter()
                    .copied()
                    .filter(|e| deliberate(&op.id, e).is_none())
                    .collect();
                if errors.is_empty() || !unlisted.is_empty() {
                    refused.push(format!("{} ({mode:?}): {body}", op.id));
                } else {
                    deliberate_refusals += 1;
                }
            }
        }
    }
    eprintln!("{sent} requests sent, {deliberate_refusals} refused by a listed strictness");
    assert!(
        refused.is_empty(),
        "{} of {sent} requests the official document allows were refused:\n{}",
        refused.len(),
        refused.join("\n")
    );
}

/// The `whole-numbers` strictness, as the fake answers it: `2.0` is a page number, `2.5` is not.
/// (Runs without `../shared`.)
#[tokio::test]
async fn whole_numbers_accept_integral_floats_and_refuse_fractions() {
    let fake = FakeFanvue::builder().start().await.expect("fake starts");
    let http = client();
    let get = |q: &'static str| {
        authed(
            &fake,
            http.get(format!("{}/chats", fake.api_url()))
                .query(&[("page", q)]),
        )
        .send()
    };
    let ok = get("2.0").await.expect("request");
    assert_eq!(ok.status(), 200, "page=2.0 is the whole number 2");
    let page: Value = ok.json().await.expect("json");
    assert_eq!(page["pagination"]["page"], 2, "{page}");
    let refused = get("2.5").await.expect("request");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("json");
    let message = body["errors"][0].as_str().unwrap_or_default();
    assert_eq!(
        deliberate("listChats", message),
        Some("whole-numbers"),
        "{body}"
    );
}

/// The `required-bodies` strictness, as the fake answers it: a tracking link cannot be created
/// without its name. (Runs without `../shared`.)
#[tokio::test]
async fn a_create_without_its_body_is_refused() {
    let fake = FakeFanvue::builder().start().await.expect("fake starts");
    let resp = authed(
        &fake,
        client().post(format!("{}/tracking-links", fake.api_url())),
    )
    .header("content-type", "application/json")
    .send()
    .await
    .expect("request");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    let message = body["errors"][0].as_str().unwrap_or_default();
    assert_eq!(
        deliberate("createTrackingLink", message),
        Some("required-bodies"),
        "{body}"
    );
}
