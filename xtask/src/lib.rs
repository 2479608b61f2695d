//! The spec pipeline of the Fanvue Rust SDK, as a library so that integration tests can call each step.

use std::path::PathBuf;

pub mod check;
pub mod crosscheck;
pub mod diff;
pub mod fetch;
pub mod normalize;
pub mod update;

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}
