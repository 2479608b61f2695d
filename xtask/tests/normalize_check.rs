//! `cargo xtask check`: passes when openapi/fanvue.json is what normalize writes, fails with a short summary of the
//! differing places otherwise. And the committed spec is what normalize writes from the upstream snapshot.

use std::path::{Path, PathBuf};

use xtask::check::{self, CheckError};
use xtask::normalize::{self, Inputs};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/normalize")
}

/// A temporary openapi folder with the fixture inputs and the fixture pages' fanvue.json written by `run`.
fn openapi_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in ["names.yaml", "numbers.yaml", "overlay.yaml"] {
        std::fs::copy(fixtures().join("openapi").join(f), dir.path().join(f)).expect("copy input");
    }
    normalize::run(normalize::Args {
        from: fixtures().join("fixes"),
        official: None,
        openapi_dir: Some(dir.path().to_path_buf()),
    })
    .expect("normalize runs");
    dir
}

#[test]
fn check_passes_right_after_normalize() {
    let dir = openapi_dir();
    check::check(&fixtures().join("fixes"), dir.path()).expect("up to date");
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn check_fails_with_the_differing_places_when_the_file_is_edited() {
    let dir = openapi_dir();
    let file = dir.path().join("fanvue.json");
    let text = std::fs::read_to_string(&file).expect("read");
    let edited = text
        .replacen(
            "\"summary\": \"Get a widget\"",
            "\"summary\": \"Edited by hand\"",
            1,
        )
        .replacen(
            "\"openapi\": \"3.0.3\",",
            "\"openapi\": \"3.0.3\",\n  \"x-extra\": 1,",
            1,
        );
    assert_ne!(edited, text);
    std::fs::write(&file, edited).expect("write");
    let err = check::check(&fixtures().join("fixes"), dir.path()).expect_err("must fail");
    let CheckError::Differs { summary, .. } = &err else {
        panic!("not a Differs error: {err:?}");
    };
    assert!(
        summary
            .contains("~ /paths/~1widgets~1{widgetId}~1parts~1{partNumber}/get/summary (changed)"),
        "{summary}"
    );
    assert!(
        summary.contains("- /x-extra (only in the committed file)"),
        "{summary}"
    );
    assert_eq!(summary.lines().count(), 2, "{summary}");
    assert!(err.to_string().contains("cargo xtask normalize"));
}

#[test]
fn check_reports_formatting_only_changes_and_invalid_json() {
    let dir = openapi_dir();
    let file = dir.path().join("fanvue.json");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.trim_end()).expect("write");
    let err = check::check(&fixtures().join("fixes"), dir.path()).expect_err("must fail");
    assert!(err.to_string().contains("formatting"), "{err}");
    std::fs::write(&file, "{ not json").expect("write");
    let err = check::check(&fixtures().join("fixes"), dir.path()).expect_err("must fail");
    assert!(err.to_string().contains("not valid JSON"), "{err}");
}

#[test]
fn summary_is_capped() {
    let diffs: Vec<check::Difference> = (0..30)
        .map(|i| check::Difference::Changed(format!("/p{i}")))
        .collect();
    let summary = check::summarize(&diffs);
    assert_eq!(summary.lines().count(), 21);
    assert!(summary.ends_with("... and 10 more"));
}

/// The upstream inputs, when this checkout has them next to the workspace (as in CI and on maintainers' machines).
fn snapshot() -> Option<(PathBuf, PathBuf)> {
    let shared = xtask::workspace_root().join("../shared");
    let pages = shared.join("fanvue-api-docs");
    let official = shared.join("fanvue-openapi/openapi.json");
    (pages.is_dir() && official.is_file()).then_some((pages, official))
}

#[test]
fn committed_spec_is_what_normalize_writes_from_the_snapshot() {
    let Some((pages, official)) = snapshot() else {
        eprintln!(
            "skipped: ../shared/fanvue-api-docs or ../shared/fanvue-openapi/openapi.json not found: the committed \
             spec is checked by normalize_spec.rs only"
        );
        return;
    };
    let inputs = Inputs::load(&xtask::workspace_root().join("openapi")).expect("inputs");
    let first = normalize::normalize_with_official(&pages, &official, &inputs)
        .expect("snapshot normalizes");
    let second = normalize::normalize_with_official(&pages, &official, &inputs)
        .expect("snapshot normalizes");
    assert_eq!(first.text, second.text, "deterministic");
    assert_eq!(first.operation_count(), 143);
    let committed = std::fs::read_to_string(xtask::workspace_root().join("openapi/fanvue.json"))
        .expect("committed");
    assert!(
        first.text == committed,
        "openapi/fanvue.json is stale: run `cargo xtask normalize --from ... --official ...`"
    );
    // The pages alone still normalize (the YAML path and its fixes): their 73 distinct operations.
    let pages_only = normalize::normalize_dir(&pages, &inputs).expect("pages normalize");
    assert_eq!(pages_only.operation_count(), 73);
    // The two mis-pasted agency pages are reported.
    for page in [
        "agencies/create-creator-tracking-link.md",
        "agencies/create-creator-upload-session.md",
    ] {
        assert!(
            first.warnings.iter().any(|w| w.starts_with(page)),
            "{page}: {:?}",
            first.warnings
        );
    }
    assert_eq!(
        first
            .warnings
            .iter()
            .filter(|w| w.contains("the file name says"))
            .count(),
        2
    );
}
