//! Errors of the fake.

/// Why the fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// Binding a loopback listener failed.
    #[error("could not bind a loopback listener: {0}")]
    Bind(#[from] std::io::Error),
}
