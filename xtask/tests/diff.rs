//! `cargo xtask diff` on fixture specs written for these tests (`tests/fixtures/diff/`).
//!
//! `old.json` → `new.json` contains every kind of change the changelog reports; `expected.md` is the
//! reviewed markdown for it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use xtask::diff::{
    BodyLocation, Change, Changelog, DiffError, Format, OperationSummary, Subject, diff_specs,
    read_spec, render,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diff")
        .join(name)
}

fn fixtures() -> (Value, Value) {
    (
        read_spec(&fixture("old.json")).unwrap(),
        read_spec(&fixture("new.json")).unwrap(),
    )
}

/// The changes of the operation `method path`.
fn changes_of<'c>(changelog: &'c Changelog, method: &str, path: &str) -> &'c [Change] {
    changelog
        .operations_changed
        .iter()
        .find(|c| c.operation.method == method && c.operation.path == path)
        .map(|c| c.changes.as_slice())
        .unwrap_or_else(|| panic!("{method} {path} is not among the changed operations"))
}

fn query(name: &str) -> Subject {
    Subject::Parameter {
        location: "query".to_owned(),
        name: name.to_owned(),
    }
}

fn response_field(status: &str, path: &str) -> Subject {
    Subject::Field {
        body: BodyLocation::Response {
            status: status.to_owned(),
            media_type: "application/json".to_owned(),
        },
        path: path.to_owned(),
    }
}

fn request_field(path: &str) -> Subject {
    Subject::Field {
        body: BodyLocation::Request {
            media_type: "application/json".to_owned(),
        },
        path: path.to_owned(),
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// Method, path and operation id of each summary.
fn keys(operations: &[OperationSummary]) -> Vec<(&str, &str, Option<&str>)> {
    operations
        .iter()
        .map(|o| {
            (
                o.method.as_str(),
                o.path.as_str(),
                o.operation_id.as_deref(),
            )
        })
        .collect()
}

/// Fails, listing `changes`, unless every one of `expected` is among them.
#[track_caller]
fn assert_contains_all(changes: &[Change], expected: impl IntoIterator<Item = Change>) {
    for expected in expected {
        assert!(
            changes.contains(&expected),
            "missing {expected:?} in {changes:#?}"
        );
    }
}

#[test]
fn markdown_of_the_fixtures_is_the_reviewed_changelog() {
    let (old, new) = fixtures();
    let expected = std::fs::read_to_string(fixture("expected.md")).unwrap();
    assert_eq!(render(&diff_specs(&old, &new), Format::Markdown), expected);
}

#[test]
fn version_and_operations_added_and_removed() {
    let (old, new) = fixtures();
    let changelog = diff_specs(&old, &new);

    let version = changelog.version.as_ref().unwrap();
    assert_eq!(version.old.as_deref(), Some("2025-06-26"));
    assert_eq!(version.new.as_deref(), Some("2025-09-01"));

    let added = keys(&changelog.operations_added);
    assert_eq!(
        added,
        [("POST", "/tracking-links", Some("createTrackingLink"))]
    );
    let removed = keys(&changelog.operations_removed);
    assert_eq!(removed, [("DELETE", "/media/{uuid}", Some("deleteMedia"))]);
    assert_eq!(changelog.schemas_added, ["TrackingLink"]);
    assert_eq!(changelog.schemas_removed, ["LegacyThing"]);
}

#[test]
fn parameters_added_removed_retyped_required_and_enum_values() {
    let (old, new) = fixtures();
    let changelog = diff_specs(&old, &new);
    let changes = changes_of(&changelog, "GET", "/media");

    assert_contains_all(
        changes,
        [
            Change::Added {
                subject: query("cursor"),
                ty: "string".to_owned(),
                required: false,
            },
            Change::Removed {
                subject: query("legacy"),
                ty: "string".to_owned(),
            },
            Change::Retyped {
                subject: query("page"),
                old: "number(double)".to_owned(),
                new: "integer".to_owned(),
            },
            Change::RequiredChanged {
                subject: query("size"),
                required: true,
            },
            Change::Retyped {
                subject: query("variants"),
                old: "array<string>".to_owned(),
                new: "array<string> (style=form, explode=false)".to_owned(),
            },
            Change::EnumValuesAdded {
                subject: query("variants"),
                values: strings(&["blurred"]),
            },
        ],
    );
    // The path-level header parameter is unchanged and not reported.
    assert!(!changes.iter().any(|c| matches!(
        c,
        Change::Added { subject: Subject::Parameter { name, .. }, .. }
            | Change::Removed { subject: Subject::Parameter { name, .. }, .. } if name == "X-Trace"
    )));
}

#[test]
fn response_fields_follow_refs_into_nested_arrays_and_objects() {
    let (old, new) = fixtures();
    let changelog = diff_specs(&old, &new);
    let changes = changes_of(&changelog, "GET", "/media");

    assert_contains_all(
        changes,
        [
            Change::Retyped {
                subject: response_field("200", "data[].variants[].width"),
                old: "number".to_owned(),
                new: "integer".to_owned(),
            },
            Change::Added {
                subject: response_field("200", "data[].variants[].height"),
                ty: "integer".to_owned(),
                required: false,
            },
            Change::Retyped {
                subject: response_field("200", "data[].caption"),
                old: "string | null".to_owned(),
                new: "string".to_owned(),
            },
            Change::Removed {
                subject: response_field("200", "pagination.total"),
                ty: "integer".to_owned(),
            },
            Change::EnumValuesAdded {
                subject: response_field("200", "data[].status"),
                values: strings(&["failed"]),
            },
            Change::EnumValuesRemoved {
                subject: response_field("200", "data[].status"),
                values: strings(&["error"]),
            },
            Change::ResponseAdded {
                status: "404".to_owned(),
            },
        ],
    );
    // A new object is one change; its own fields are not listed again.
    assert!(changes.contains(&Change::Added {
        subject: response_field("200", "data[].thumbnail"),
        ty: "object".to_owned(),
        required: false,
    }));
    assert!(!changes.iter().any(|c| matches!(
        c,
        Change::Added { subject: Subject::Field { path, .. }, .. } if path.starts_with("data[].thumbnail.")
    )));
}

#[test]
fn request_bodies_operation_ids_and_media_types() {
    let (old, new) = fixtures();
    let changelog = diff_specs(&old, &new);
    let changes = changes_of(&changelog, "POST", "/media");

    assert_eq!(
        changes.first(),
        Some(&Change::OperationIdChanged {
            old: Some("createMedia".to_owned()),
            new: Some("createMediaItem".to_owned()),
        })
    );
    assert_contains_all(
        changes,
        [
            Change::RequiredChanged {
                subject: request_field("caption"),
                required: true,
            },
            Change::Removed {
                subject: request_field("legacyFlag"),
                ty: "boolean".to_owned(),
            },
            Change::Added {
                subject: request_field("tags"),
                ty: "array<string>".to_owned(),
                required: false,
            },
            Change::BodyAdded {
                body: BodyLocation::Response {
                    status: "200".to_owned(),
                    media_type: "text/plain".to_owned(),
                },
            },
        ],
    );
}

#[test]
fn recursive_schemas_are_compared_without_looping() {
    let (old, new) = fixtures();
    let changelog = diff_specs(&old, &new);
    let changes = changes_of(&changelog, "GET", "/folders");
    assert_eq!(
        changes,
        [Change::Added {
            subject: response_field("200", "color"),
            ty: "string".to_owned(),
            required: false,
        }]
    );
}

#[test]
fn the_committed_spec_is_read_completely() {
    let spec = read_spec(&xtask::workspace_root().join("openapi/fanvue.json")).unwrap();
    assert!(diff_specs(&spec, &spec).is_empty());
    let operations = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().keys())
        .filter(|key| *key != "parameters")
        .count();
    let changelog = diff_specs(&json!({}), &spec);
    assert_eq!(changelog.operations_added.len(), operations);
    assert!(operations > 0);
}

#[test]
fn identical_specs_have_no_changes() {
    let (old, _) = fixtures();
    let changelog = diff_specs(&old, &old);
    assert!(changelog.is_empty());
    assert_eq!(
        render(&changelog, Format::Markdown),
        "# API changelog\n\nNo changes.\n"
    );
}

#[test]
fn swapping_the_specs_swaps_added_and_removed() {
    let (old, new) = fixtures();
    let forward = diff_specs(&old, &new);
    let backward = diff_specs(&new, &old);
    assert_eq!(forward.operations_added, backward.operations_removed);
    assert_eq!(forward.schemas_removed, backward.schemas_added);
    let changes = changes_of(&backward, "GET", "/media");
    assert!(changes.contains(&Change::EnumValuesRemoved {
        subject: response_field("200", "data[].status"),
        values: strings(&["failed"]),
    }));
    assert!(changes.contains(&Change::ResponseRemoved {
        status: "404".to_owned()
    }));
}

#[test]
fn json_format_serializes_the_changelog() {
    let (old, new) = fixtures();
    let json: Value = serde_json::from_str(&render(&diff_specs(&old, &new), Format::Json)).unwrap();
    assert_eq!(
        json["version"],
        json!({"old": "2025-06-26", "new": "2025-09-01"})
    );
    assert_eq!(
        json["operations_added"][0]["operation_id"],
        "createTrackingLink"
    );
    let post_media = json["operations_changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operation"]["method"] == "POST" && c["operation"]["path"] == "/media")
        .unwrap();
    assert_eq!(
        post_media["changes"][0],
        json!({"kind": "operation_id_changed", "old": "createMedia", "new": "createMediaItem"})
    );
    assert!(post_media["changes"].as_array().unwrap().contains(&json!({
        "kind": "removed",
        "subject": {"type": "field", "body": {"in": "request", "media_type": "application/json"}, "path": "legacyFlag"},
        "ty": "boolean"
    })));
}

#[test]
fn odd_documents_do_not_panic() {
    let dangling = json!({
        "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Missing"
        }}}}}}}},
        "components": {"schemas": {"Loop": {"$ref": "#/components/schemas/Loop"}}}
    });
    let odd = json!({"paths": {"/x": {"get": {"parameters": [1, {"name": 2}], "responses": []}}}, "info": 3});
    for (old, new) in [
        (&dangling, &odd),
        (&odd, &dangling),
        (&json!({}), &dangling),
    ] {
        let changelog = diff_specs(old, new);
        let _ = render(&changelog, Format::Markdown);
    }
    let changelog = diff_specs(&json!({}), &dangling);
    assert_eq!(changelog.operations_added.len(), 1);
}

#[test]
fn unreadable_files_are_named() {
    let missing = fixture("does-not-exist.json");
    let err = read_spec(&missing).unwrap_err();
    assert!(matches!(err, DiffError::Read { .. }));
    assert!(err.to_string().contains("does-not-exist.json"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken.json");
    std::fs::write(&broken, "{\"openapi\": ").unwrap();
    let err = read_spec(&broken).unwrap_err();
    assert!(matches!(err, DiffError::Parse { .. }));
    assert!(err.to_string().contains("broken.json"), "{err}");

    let array = tmp.path().join("array.json");
    std::fs::write(&array, "[]").unwrap();
    let err = read_spec(&array).unwrap_err();
    assert!(matches!(err, DiffError::NotADocument { .. }));
    assert!(err.to_string().contains("array.json"), "{err}");
}

#[test]
fn the_command_prints_the_changelog_and_exits_zero() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("diff")
        .arg(fixture("old.json"))
        .arg(fixture("new.json"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let expected = std::fs::read_to_string(fixture("expected.md")).unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);

    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["diff", "--format", "json"])
        .arg(fixture("old.json"))
        .arg(fixture("new.json"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schemas_added"], json!(["TrackingLink"]));
}

#[test]
fn the_command_fails_on_an_unreadable_file_and_names_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("diff")
        .arg(fixture("old.json"))
        .arg(fixture("nowhere.json"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nowhere.json"), "{stderr}");
    assert!(output.stdout.is_empty());
}
