//! `cargo xtask diff` (placeholder).

/// Arguments of `cargo xtask diff`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `cargo xtask diff`.
pub fn run(_args: Args) -> Result<(), std::io::Error> {
    Err(std::io::Error::other("not implemented yet"))
}
