//! `cargo xtask`: the spec pipeline of the Fanvue Rust SDK.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use xtask::{check, diff, fetch, normalize, public_api, update};

#[derive(Parser)]
#[command(name = "xtask", about = "Fanvue SDK maintainer tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Download the reference index and every API-reference page into DIR/<group>/<slug>.md, and the official
    /// OpenAPI document into DIR/openapi.json.
    Fetch(fetch::Args),
    /// Normalize the official OpenAPI document and the pages of DIR into one OpenAPI 3.0.3 document in openapi/.
    Normalize(normalize::Args),
    /// Fail when openapi/ is not what `normalize` would write now; with --official, also cross-check the pages.
    Check(check::Args),
    /// Print a changelog between two normalized specs.
    Diff(diff::Args),
    /// Fetch (or read) both inputs, normalize, cross-check, diff against the committed spec, print a semver
    /// verdict and a CHANGELOG-ready summary.
    Update(update::Args),
    /// Write fanvue-api-ext's public API listing (`--check`: fail when it changed).
    PublicApi(public_api::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command {
        Command::Fetch(args) => fetch::run(args).map_err(Into::into),
        Command::Normalize(args) => normalize::run(args).map_err(Into::into),
        Command::Check(args) => check::run(args).map_err(Into::into),
        Command::Diff(args) => diff::run(args).map_err(Into::into),
        Command::Update(args) => update::run(args).map_err(Into::into),
        Command::PublicApi(args) => public_api::run(args).map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
