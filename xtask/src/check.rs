//! `cargo xtask check` (placeholder).

/// Arguments of `cargo xtask check`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `cargo xtask check`.
pub fn run(_args: Args) -> Result<(), std::io::Error> {
    Err(std::io::Error::other("not implemented yet"))
}
