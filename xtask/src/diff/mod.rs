//! `cargo xtask diff OLD NEW`: a changelog between two normalized specs, for a maintainer to read before
//! moving the pinned API version.
//!
//! It lists the API version change (`info.version`), operations added and removed (by method and path),
//! and for every operation in both: operationId, parameters, request bodies and responses. Bodies are
//! compared field by field: `$ref`s are followed into the components, nested objects and arrays give dotted
//! paths like `data[].variants[].width`, and self-referring schemas are followed once. For every parameter
//! and field it reports added, removed, retyped (type, format or nullability), required or optional, and
//! enum values added or removed. Schema names are not part of a type, so renaming a schema changes nothing
//! but the list of component schemas.
//!
//! The output is markdown (default) or JSON (`--format json`), in a stable order. The command exits 0
//! whatever the differences; only an unreadable file is an error.

pub mod compare;
pub mod model;
pub mod render;
pub mod spec;

use std::path::{Path, PathBuf};

pub use compare::diff_specs;
pub use model::{
    BodyLocation, Change, Changelog, OperationChanges, OperationSummary, Subject, VersionChange,
};

/// Output format of `cargo xtask diff`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// Readable markdown.
    #[default]
    Markdown,
    /// The changelog as JSON.
    Json,
}

/// Arguments of `cargo xtask diff`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The old normalized spec (JSON).
    pub old: PathBuf,
    /// The new normalized spec (JSON).
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    pub format: Format,
}

/// Why `cargo xtask diff` failed.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A spec file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A spec file is not JSON.
    #[error("{path} is not valid JSON")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A spec file is JSON but not an object.
    #[error("{path} is not an OpenAPI document (expected a JSON object)")]
    NotADocument {
        /// The file.
        path: PathBuf,
    },
}

/// Runs `cargo xtask diff`: prints the changelog on stdout.
pub fn run(args: Args) -> Result<(), DiffError> {
    let old = read_spec(&args.old)?;
    let new = read_spec(&args.new)?;
    print!("{}", render(&diff_specs(&old, &new), args.format));
    Ok(())
}

/// Renders a changelog in the given format (JSON is pretty-printed and ends with a newline).
pub fn render(changelog: &Changelog, format: Format) -> String {
    match format {
        Format::Markdown => render::markdown(changelog),
        Format::Json => {
            // Serializing plain data with string keys cannot fail.
            let mut json = serde_json::to_string_pretty(changelog).unwrap_or_default();
            json.push('\n');
            json
        }
    }
}

/// Reads a spec file as JSON, with an error naming the file.
pub fn read_spec(path: &Path) -> Result<serde_json::Value, DiffError> {
    let text = std::fs::read_to_string(path).map_err(|source| DiffError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| DiffError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    if !value.is_object() {
        return Err(DiffError::NotADocument {
            path: path.to_path_buf(),
        });
    }
    Ok(value)
}
