//! `cargo xtask fetch` (placeholder).

/// Arguments of `cargo xtask fetch`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `cargo xtask fetch`.
pub fn run(_args: Args) -> Result<(), std::io::Error> {
    Err(std::io::Error::other("not implemented yet"))
}
