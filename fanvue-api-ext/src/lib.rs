//! The Fanvue API client for Rust (placeholder while the layers are written).
