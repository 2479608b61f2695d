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
            if let Some(body) = &inputs.body {
                if let Err(e) = v.check_body(&op.id, body) {
                    failures.push(format!("{} {mode:?} body: {e:?}", op.id));
                }
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
