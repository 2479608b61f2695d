//! Typed client for the Fanvue API, generated at build time by progenitor
//! from the normalized spec in `openapi/`.
//!
//! (placeholder: build.rs and the generated modules are being written)

pub mod executor;
pub mod operation;

/// The default base URL of the Fanvue API.
pub const DEFAULT_BASE_URL: &str = "https://api.fanvue.com";
