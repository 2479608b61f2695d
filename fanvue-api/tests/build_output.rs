//! The build a downstream user gets: the spec ships as a real file identical
//! to the workspace's, and the generator writes the same bytes every time.

use std::path::{Path, PathBuf};
use std::process::Command;

const GENERATED: [&str; 3] = ["client.rs", "enums.rs", "mock.rs"];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn two_generator_runs_write_identical_files() {
    let generator = env!("FANVUE_API_GENERATOR");
    let base = std::env::temp_dir().join(format!("fanvue-api-determinism-{}", std::process::id()));
    let runs: Vec<PathBuf> = (0..2)
        .map(|run| {
            let out = base.join(run.to_string());
            std::fs::create_dir_all(&out).expect("temp dir");
            let output = Command::new(generator)
                .env_clear()
                .env("CARGO_MANIFEST_DIR", manifest_dir())
                .env("OUT_DIR", &out)
                .env("CARGO_FEATURE_MOCK", "1")
                .output()
                .expect("the build script runs");
            assert!(
                output.status.success(),
                "generator failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            out
        })
        .collect();
    for name in GENERATED {
        let first = std::fs::read(runs[0].join(name)).expect("first run wrote it");
        let second = std::fs::read(runs[1].join(name)).expect("second run wrote it");
        assert!(!first.is_empty(), "{name} is empty");
        assert!(first == second, "{name} differs between two runs");
    }
    // And the crate under test was compiled from those same bytes (unless a
    // development spec was substituted).
    if option_env!("FANVUE_API_SPEC").is_none() {
        for name in ["client.rs", "enums.rs"] {
            let compiled = Path::new(env!("OUT_DIR")).join(name);
            let compiled = std::fs::read(&compiled).expect("the build's output");
            let rerun = std::fs::read(runs[0].join(name)).expect("rerun output");
            assert!(compiled == rerun, "{name} differs from the compiled one");
        }
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn the_shipped_spec_is_a_real_file_identical_to_the_workspace_one() {
    let shipped = manifest_dir().join("openapi").join("fanvue.json");
    let meta = std::fs::symlink_metadata(&shipped).expect("the crate ships its spec");
    assert!(
        meta.file_type().is_file(),
        "{} must be a regular file, not a symlink",
        shipped.display()
    );
    let Some(workspace) = manifest_dir()
        .parent()
        .map(|root| root.join("openapi").join("fanvue.json"))
        .filter(|path| path.exists())
    else {
        eprintln!("skipped: the workspace's openapi/fanvue.json not found (packaged crate)");
        return;
    };
    let shipped_bytes = std::fs::read(&shipped).expect("read the shipped spec");
    let workspace_bytes = std::fs::read(&workspace).expect("read the workspace spec");
    assert!(
        shipped_bytes == workspace_bytes,
        "fanvue-api/openapi/fanvue.json differs from openapi/fanvue.json; \
         `cargo xtask normalize` writes both (or copy the workspace one)"
    );
}
