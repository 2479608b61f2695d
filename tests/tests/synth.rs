//! Every synthesized value of every operation (responses and request inputs, in every mode) is valid
//! against its schema.

use fanvue_fake::schema::Validators;
use fanvue_fake::spec::Spec;
use fanvue_fake::synth::{Mode, request_inputs, synthesize_keyed};

const MODES: [Mode; 5] = [
    Mode::Minimal,
    Mode::Full,
    Mode::Seeded(1),
    Mode::Seeded(2),
    Mode::Seeded(3),
];

#[test]
fn synthesized_responses_are_valid_for_every_operation() {
    let spec = Spec::load();
    let v = Validators::get();
    let mut failures = Vec::new();
    for op in spec.operations() {
        let Some(resp) = &op.response else { continue };
        for mode in MODES {
            let value = synthesize_keyed(spec, &resp.schema, mode, &op.id);
            if let Err(e) = v.check_response(&op.id, &value) {
                failures.push(format!("{} {mode:?}: {e:?}", op.id));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn synthesized_request_inputs_are_valid_for_every_operation() {
    let spec = Spec::load();
    let v = Validators::get();
    let mut failures = Vec::new();
    for op in spec.operations() {
        for mode in MODES {
            let inputs = request_inputs(spec, op, mode);
            if let Some(body) = &inputs.body
                && let Err(e) = v.check_body(&op.id, body)
            {
                failures.push(format!("{} {mode:?} body: {e:?}", op.id));
            }
            for (name, value) in inputs.path_params.iter().chain(&inputs.query) {
                if let Err(e) = v.check_param(&op.id, name, value) {
                    failures.push(format!("{} {mode:?} {name}: {e:?}", op.id));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn validators_refuse_what_the_schema_forbids() {
    let v = Validators::get();
    let spec = Spec::load();
    let op = spec.operation("get-current-user").unwrap();
    let mut good = synthesize_keyed(spec, &op.response.as_ref().unwrap().schema, Mode::Full, "");
    assert!(v.check_response(&op.id, &good).is_ok());
    good["uuid"] = serde_json::json!("not-a-uuid");
    let errors = v.check_response(&op.id, &good).unwrap_err();
    assert!(errors.iter().any(|e| e.starts_with("uuid:")), "{errors:?}");
    let errors = v
        .check_param("get-user-media", "size", &serde_json::json!(51))
        .unwrap_err();
    assert!(errors[0].starts_with("size"), "{errors:?}");
}

/// Whether a validation message is about the wire's deliberate noise: an enum value the document
/// does not list, or a field it does not list.
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

/// [`Mode::Wire`] answers break the document only by the wire's noise, and carry unlisted enum
/// values and unlisted fields somewhere across the operations.
#[test]
fn wire_answers_differ_from_the_document_only_by_the_wire_noise() {
    let spec = Spec::load();
    let v = Validators::get();
    let mut failures = Vec::new();
    let (mut enums, mut fields) = (0, 0);
    for op in spec.operations() {
        let Some(resp) = &op.response else { continue };
        for seed in 0..4 {
            let value = synthesize_keyed(spec, &resp.schema, Mode::Wire(seed), &op.id);
            let text = value.to_string();
            enums += usize::from(
                text.contains("ADDED_LATER")
                    || text.contains("added_later")
                    || text.contains("addedLater"),
            );
            fields += usize::from(text.contains("fanvueUnlistedField"));
            if let Err(errors) = v.check_response(&op.id, &value) {
                let other: Vec<_> = errors.iter().filter(|e| !is_wire_noise(e)).collect();
                if !other.is_empty() {
                    failures.push(format!("{} seed {seed}: {other:?}", op.id));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        enums > 10 && fields > 10,
        "noise: {enums} answers with unlisted enum values, {fields} with unlisted fields"
    );
}

/// An integer is sometimes written as an integral float in [`Mode::Wire`], never otherwise (a
/// `number` may be integral in any mode: that is not noise).
#[test]
fn integers_are_sometimes_integral_floats_on_the_wire_only() {
    let spec = Spec::load();
    let integer = serde_json::json!({"type": "integer", "minimum": 0, "maximum": 5000});
    let floats = |mode: fn(u64) -> Mode| {
        (0..64)
            .filter(|&seed| {
                let v = synthesize_keyed(spec, &integer, mode(seed), "n");
                assert_eq!(v.as_f64().map(f64::fract), Some(0.0), "{v}");
                v.is_f64()
            })
            .count()
    };
    assert_eq!(floats(Mode::Seeded), 0);
    let wire = floats(Mode::Wire);
    assert!(
        (8..=56).contains(&wire),
        "{wire} of 64 integers were floats"
    );
}

/// A fake started with `wire_noise(true)` answers with the noise; the default fake does not.
#[tokio::test]
async fn the_fake_serves_wire_noise_only_when_asked() {
    async fn noisy_answers(wire: bool) -> usize {
        let fake = fanvue_fake::FakeFanvue::builder()
            .wire_noise(wire)
            .start()
            .await
            .expect("fake starts");
        let http = reqwest::Client::new();
        let mut noisy = 0;
        for page in 1..=3 {
            let text = http
                .get(format!("{}/chats/templates?page={page}", fake.api_url()))
                .header("X-Fanvue-API-Version", fake.api_version())
                .bearer_auth(fake.access_token())
                .send()
                .await
                .expect("request")
                .text()
                .await
                .expect("body");
            noisy += usize::from(is_wire_noise(&text));
        }
        noisy
    }
    assert_eq!(noisy_answers(false).await, 0);
    assert!(noisy_answers(true).await > 0);
}
