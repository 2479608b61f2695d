//! The spec pipeline of the Fanvue Rust SDK, as a library so that integration tests can call each step.

// Library code never panics on its inputs (fetched pages, specs on disk):
// no unwrap/expect/panic, no unchecked indexing or arithmetic (tests may).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

use std::path::PathBuf;

pub mod check;
pub mod crosscheck;
pub mod diff;
pub mod fetch;
pub mod normalize;
pub mod public_api;
pub mod update;

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}
