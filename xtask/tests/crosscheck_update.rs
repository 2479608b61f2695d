//! `cargo xtask check --official` (the cross-check of the pages against the official document) and
//! `cargo xtask update` (normalize, cross-check, diff, semver verdict), on the fixture of
//! `tests/fixtures/official` copied into temporary folders.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use xtask::check::{self, CheckError};
use xtask::normalize::{self, Inputs};
use xtask::update::{self, Verdict};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/official")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// A copy of the fixture in a temporary folder: `pages/`, `openapi/` (with the committed spec normalized from
/// the fixture) and `openapi.json`.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&fixtures(), dir.path());
        let ws = Workspace { dir };
        let inputs = Inputs::load(&ws.openapi()).expect("inputs");
        let n = normalize::normalize_with_official(&ws.pages(), &ws.official(), &inputs)
            .expect("normalizes");
        normalize::write_spec(&ws.openapi(), &n.text).expect("write");
        ws
    }
    fn pages(&self) -> PathBuf {
        self.dir.path().join("pages")
    }
    fn openapi(&self) -> PathBuf {
        self.dir.path().join("openapi")
    }
    fn official(&self) -> PathBuf {
        self.dir.path().join("openapi.json")
    }
    fn edit_official(&self, f: impl FnOnce(&mut Value)) {
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(self.official()).expect("read"))
                .expect("json");
        f(&mut doc);
        std::fs::write(self.official(), serde_json::to_string(&doc).expect("json")).expect("write");
    }
    fn edit_page(&self, file: &str, from: &str, to: &str) {
        let path = self.pages().join(file);
        let text = std::fs::read_to_string(&path).expect("page");
        assert!(text.contains(from), "{from:?} is in {file}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    }
    fn check(&self) -> Result<(), CheckError> {
        check::check_with(&self.pages(), Some(&self.official()), &self.openapi())
    }
    fn report(&self) -> xtask::crosscheck::Report {
        let inputs = Inputs::load(&self.openapi()).expect("inputs");
        let n = normalize::normalize_with_official(&self.pages(), &self.official(), &inputs)
            .expect("normalizes");
        check::cross_check_report(&n, &self.openapi()).expect("report")
    }
}

#[test]
fn the_fixture_passes_and_reports_what_the_official_document_has_more() {
    let ws = Workspace::new();
    ws.check()
        .expect("the committed spec is what normalize writes");
    let report = ws.report();
    assert!(report.passes(), "{}", report.render());
    let text = report.render();
    assert!(text.contains("0 failing"), "{text}");
    for expected in [
        // More enum values, fields, parameters in the official document: reported only.
        "note     GET /widgets query status[]: enum values only in the official document: \"archived\"",
        "note     GET /widgets response 200 .data[]: fields only in the official document: rating, releasedOn, status, updatedAt",
        // Nullability and bounds the pages lose: reported only.
        "note     GET /widgets response 200 .data[] .createdAt: nullable: page false, official true",
        "note     GET /widgets response 200 .data[] .price: minimum: page null, official 300",
        "note     GET /widgets query page: minimum: page null, official 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn what_a_page_has_and_the_official_document_lacks_fails_the_check() {
    let ws = Workspace::new();
    ws.edit_page(
        "widgets/list-widgets.md",
        "        - value: live\n",
        "        - value: live\n        - value: retired\n",
    );
    ws.edit_page(
        "widgets/list-widgets.md",
        "        price:\n",
        "        color:\n          type: string\n        price:\n",
    );
    ws.edit_page(
        "widgets/list-widgets.md",
        "        - name: Authorization\n",
        "        - name: search\n          in: query\n          required: false\n          schema:\n            type: string\n        - name: Authorization\n",
    );
    let report = ws.report();
    let fails: Vec<String> = report.failures().iter().map(|d| d.to_string()).collect();
    assert_eq!(
        fails,
        [
            "FAIL     GET /widgets query search: parameter on the page, not in the official document",
            "FAIL     GET /widgets query status[]: enum value \"retired\" on the page, not in the official document",
            "FAIL     GET /widgets response 200 .data[] .color: field on the page, not in the official document",
        ]
    );
    let err = ws.check().expect_err("fails");
    assert!(
        matches!(err, CheckError::CrossCheck { failures: 3 }),
        "{err}"
    );

    // A reasoned exception accepts one; the others still fail.
    std::fs::write(
        ws.openapi().join("crosscheck.yaml"),
        "exceptions:\n  - operation: GET /widgets\n    place: query search\n    why: the server ignores it\n",
    )
    .expect("write");
    let report = ws.report();
    assert_eq!(report.failures().len(), 2);
    assert!(
        report
            .render()
            .contains("accepted GET /widgets query search: parameter on the page, not in the official document (exception: the server ignores it)"),
        "{}",
        report.render()
    );
}

#[test]
fn an_exception_that_matches_nothing_fails() {
    let ws = Workspace::new();
    std::fs::write(
        ws.openapi().join("crosscheck.yaml"),
        "exceptions:\n  - operation: GET /widgets\n    place: query gone\n    why: stale\n",
    )
    .expect("write");
    let report = ws.report();
    assert!(!report.passes());
    assert_eq!(report.unused, ["GET /widgets query gone"]);
    assert!(matches!(
        ws.check(),
        Err(CheckError::CrossCheck { failures: 1 })
    ));
}

#[test]
fn an_operation_only_on_a_page_fails() {
    let ws = Workspace::new();
    ws.edit_official(|doc| {
        doc["paths"]
            .as_object_mut()
            .expect("paths")
            .remove("/gadgets");
    });
    let report = ws.report();
    let fails: Vec<String> = report.failures().iter().map(|d| d.to_string()).collect();
    assert_eq!(
        fails,
        ["FAIL     GET /gadgets -: the operation is on the page but not in the official document"]
    );
}

#[test]
fn a_stale_committed_spec_fails_the_check() {
    let ws = Workspace::new();
    let path = ws.openapi().join("fanvue.json");
    let text = std::fs::read_to_string(&path).expect("spec");
    std::fs::write(&path, text.replace("list-widgets", "list-widgetz")).expect("write");
    let err = ws.check().expect_err("differs");
    assert!(matches!(err, CheckError::Differs { .. }), "{err}");
}

#[test]
fn update_with_no_change_says_none() {
    let ws = Workspace::new();
    let out = update::update_from(&ws.pages(), &ws.official(), &ws.openapi()).expect("update");
    assert_eq!(out.verdict, Verdict::None);
    assert!(out.summary.contains("**none**"), "{}", out.summary);
    assert!(out.cross_check.passes());
}

#[test]
fn update_with_an_added_operation_is_minor() {
    let ws = Workspace::new();
    ws.edit_official(|doc| {
        let list = doc["paths"]["/gadgets"]["get"].clone();
        let mut op = list;
        op["operationId"] = json!("listSprockets");
        doc["paths"]["/sprockets"] = json!({ "get": op });
    });
    // The new path needs a tag rule.
    let names = ws.openapi().join("names.yaml");
    let text = std::fs::read_to_string(&names).expect("names");
    std::fs::write(
        &names,
        format!("{text}  - {{ prefix: \"/sprockets\", tag: gadgets }}\n"),
    )
    .expect("write");
    let out = update::update_from(&ws.pages(), &ws.official(), &ws.openapi()).expect("update");
    assert_eq!(out.verdict, Verdict::Minor, "{}", out.summary);
    assert!(out.summary.contains("**MINOR**"), "{}", out.summary);
    assert!(out.summary.contains("/sprockets"), "{}", out.summary);
    assert!(!out.summary.contains("### Breaking"), "{}", out.summary);
}

#[test]
fn update_with_a_removed_field_is_breaking() {
    let ws = Workspace::new();
    ws.edit_official(|doc| {
        for path in ["/widgets", "/creators/{creatorUserUuid}/widgets"] {
            let item = doc
                .pointer_mut(&format!(
                    "/paths/{}/get/responses/200/content/application~1json/schema/properties/data/items",
                    path.replace('/', "~1")
                ))
                .expect("widget");
            item["properties"]
                .as_object_mut()
                .expect("props")
                .remove("rating");
            let req = item["required"].as_array_mut().expect("required");
            req.retain(|r| r != "rating");
        }
    });
    let out = update::update_from(&ws.pages(), &ws.official(), &ws.openapi()).expect("update");
    assert_eq!(out.verdict, Verdict::Major, "{}", out.summary);
    assert!(
        out.summary.contains("**MAJOR (breaking)**") && out.summary.contains("### Breaking"),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains(
            "GET /widgets: response 200 body (application/json) field `data[].rating` removed"
        ),
        "{}",
        out.summary
    );
}

#[test]
fn update_with_an_optional_request_field_becoming_required_is_breaking() {
    let ws = Workspace::new();
    ws.edit_official(|doc| {
        doc.pointer_mut(
            "/paths/~1widgets/post/requestBody/content/application~1json/schema/required",
        )
        .expect("required")
        .as_array_mut()
        .expect("array")
        .push(json!("price"));
    });
    let out = update::update_from(&ws.pages(), &ws.official(), &ws.openapi()).expect("update");
    assert_eq!(out.verdict, Verdict::Major, "{}", out.summary);
    assert!(
        out.summary.contains(
            "POST /widgets: request body (application/json) field `price` became required"
        ),
        "{}",
        out.summary
    );
}

/// A next version of the fixture API: a new area no page and no `tag_rules` entry knows (webhook
/// subscriptions), one breaking change (a required query parameter added to GET /widgets) and one additive
/// change (an optional response field of GET /gadgets).
fn next_version(doc: &mut Value) {
    let version = json!({"$ref": "#/components/parameters/ApiVersionHeader"});
    let subscription = json!({
        "type": "object",
        "properties": {
            "uuid": {"type": "string", "format": "uuid"},
            "url": {"type": "string"},
            "events": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["uuid", "url", "events"]
    });
    doc["paths"]["/webhooks/subscriptions"] = json!({
        "get": {
            "operationId": "listWebhookSubscriptions",
            "summary": "List webhook subscriptions",
            "description": "The subscriptions this client created.",
            "parameters": [version],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"data": {"type": "array", "items": subscription}},
                "required": ["data"]
            }}}}}
        },
        "post": {
            "operationId": "createWebhookSubscription",
            "summary": "Create a webhook subscription",
            "description": "Subscribes a URL to events.",
            "parameters": [version],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {
                    "url": {"type": "string"},
                    "events": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["url", "events"]
            }}}},
            "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {
                    "uuid": {"type": "string", "format": "uuid"},
                    "signingSecret": {"type": "string"}
                },
                "required": ["uuid", "signingSecret"]
            }}}}}
        }
    });
    doc["paths"]["/webhooks/subscriptions/{uuid}"] = json!({
        "delete": {
            "operationId": "deleteWebhookSubscription",
            "summary": "Delete a webhook subscription",
            "description": "Unsubscribes.",
            "parameters": [version, {"name": "uuid", "in": "path", "required": true,
                                     "schema": {"type": "string", "format": "uuid"}}],
            "responses": {"204": {"description": "Deleted"}}
        }
    });
    // Breaking: GET /widgets needs a new query parameter.
    doc["paths"]["/widgets"]["get"]["parameters"]
        .as_array_mut()
        .expect("parameters")
        .push(json!({"name": "region", "in": "query", "required": true, "schema": {"type": "string"}}));
    // Additive: GET /gadgets answers one more optional field.
    doc.pointer_mut(
        "/paths/~1gadgets/get/responses/200/content/application~1json/schema/properties/data/items/properties",
    )
    .expect("gadget properties")
    .as_object_mut()
    .expect("object")
    .insert("color".into(), json!({"type": "string"}));
}

#[test]
fn update_survives_a_new_area_and_reports_every_change() {
    let ws = Workspace::new();
    ws.edit_official(next_version);
    let out = update::update_from(&ws.pages(), &ws.official(), &ws.openapi())
        .expect("a new area does not stop update");
    // The new area is tagged by its first path segment, and each of its operations says so.
    for op in [
        "GET /webhooks/subscriptions",
        "POST /webhooks/subscriptions",
        "DELETE /webhooks/subscriptions/{uuid}",
    ] {
        let note = format!(
            "{op}: no reference page and no `tag_rules` prefix of openapi/names.yaml matches it: \
             tagged `webhooks` from its first path segment (a `tag_rules` entry chooses another)"
        );
        assert!(
            out.notes.contains(&note),
            "missing {note:?} in {:#?}",
            out.notes
        );
    }
    let spec: Value = serde_json::from_str(&out.new_spec).expect("spec");
    for (path, method) in [
        ("/webhooks/subscriptions", "get"),
        ("/webhooks/subscriptions", "post"),
        ("/webhooks/subscriptions/{uuid}", "delete"),
    ] {
        assert_eq!(
            spec["paths"][path][method]["tags"],
            json!(["webhooks"]),
            "{method} {path}"
        );
    }
    assert!(
        spec["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|t| t["name"] == "webhooks"),
        "{}",
        spec["tags"]
    );
    // The breaking change makes the verdict MAJOR; its line is there, the additions are listed too.
    assert_eq!(out.verdict, Verdict::Major, "{}", out.summary);
    assert!(
        out.summary.contains("**MAJOR (breaking)**"),
        "{}",
        out.summary
    );
    let breaking: Vec<&str> = out
        .summary
        .split("### Breaking\n\n")
        .nth(1)
        .expect("a breaking section")
        .lines()
        .take_while(|l| l.starts_with("- "))
        .collect();
    assert_eq!(
        breaking,
        ["- GET /widgets: query parameter `region` added, required"],
        "{}",
        out.summary
    );
    assert!(
        out.summary
            .contains("- 3 operation(s) added, 0 removed, 2 changed;"),
        "{}",
        out.summary
    );
    for added in [
        "/webhooks/subscriptions",
        "/webhooks/subscriptions/{uuid}",
        "list-webhook-subscriptions",
        "create-webhook-subscription",
        "delete-webhook-subscription",
        "color",
    ] {
        assert!(
            out.summary.contains(added),
            "missing {added:?} in\n{}",
            out.summary
        );
    }
    assert!(out.cross_check.passes(), "{}", out.cross_check.render());

    // Without the breaking change, the same new area and addition are MINOR.
    let ws = Workspace::new();
    ws.edit_official(|doc| {
        next_version(doc);
        doc["paths"]["/widgets"]["get"]["parameters"]
            .as_array_mut()
            .expect("parameters")
            .retain(|p| p["name"] != "region");
    });
    let out = update::update_from(&ws.pages(), &ws.official(), &ws.openapi()).expect("update");
    assert_eq!(out.verdict, Verdict::Minor, "{}", out.summary);
    assert!(out.summary.contains("**MINOR**"), "{}", out.summary);
    assert!(!out.summary.contains("### Breaking"), "{}", out.summary);
    assert!(
        out.summary
            .contains("- 3 operation(s) added, 0 removed, 1 changed;"),
        "{}",
        out.summary
    );

    // A `tag_rules` entry overrides the segment tag, and then there is no note.
    let names = ws.openapi().join("names.yaml");
    let text = std::fs::read_to_string(&names).expect("names");
    std::fs::write(
        &names,
        format!("{text}  - {{ prefix: \"/webhooks\", tag: hooks }}\n"),
    )
    .expect("write");
    let out = update::update_from(&ws.pages(), &ws.official(), &ws.openapi()).expect("update");
    assert!(
        !out.notes.iter().any(|n| n.contains("first path segment")),
        "{:#?}",
        out.notes
    );
    let spec: Value = serde_json::from_str(&out.new_spec).expect("spec");
    assert_eq!(
        spec["paths"]["/webhooks/subscriptions"]["get"]["tags"],
        json!(["hooks"])
    );
}
