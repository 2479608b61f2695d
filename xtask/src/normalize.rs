//! `cargo xtask normalize` (placeholder).

/// Arguments of `cargo xtask normalize`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `cargo xtask normalize`.
pub fn run(_args: Args) -> Result<(), std::io::Error> {
    Err(std::io::Error::other("not implemented yet"))
}
