//! The Fanvue API client for Rust.
//!
//! (crate docs are written by the ext layer; see README.md)

pub mod auth;
pub mod client;
pub mod error;
pub mod pagination;
pub mod retry;
pub mod upload;
pub mod validate;
mod executor;

pub use client::{Fanvue, FanvueBuilder};
pub use error::Error;
pub use fanvue_api as api;
