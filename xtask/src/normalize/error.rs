//! The errors of `cargo xtask normalize`: each names the file (and the line, where one is known).

use std::fmt;
use std::path::PathBuf;

/// A 1-based line, printed as `:LINE` when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line(pub Option<usize>);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(l) => write!(f, ":{l}"),
            None => Ok(()),
        }
    }
}

/// Everything that can stop normalization.
#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The pages folder holds no page.
    #[error("{}: no reference page (*.md) found", dir.display())]
    NoPages {
        /// The folder.
        dir: PathBuf,
    },
    /// The page has no fenced ```` ```yaml ```` block.
    #[error("{file}: no ```yaml block found")]
    NoYamlBlock {
        /// The page.
        file: String,
    },
    /// The YAML block does not parse.
    #[error("{file}{}: broken YAML: {message}", Line(*line))]
    Yaml {
        /// The page.
        file: String,
        /// The 1-based line in the page.
        line: Option<usize>,
        /// The 1-based column.
        column: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// The YAML block parses but is not an OpenAPI document of one operation.
    #[error("{file}: not an OpenAPI page: {reason}")]
    NotAnOpenApiPage {
        /// The page.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A JSON Schema / OpenAPI 3.1 construct that 3.0 cannot express and normalization does not handle.
    #[error("{file}{}: unsupported OpenAPI 3.1 construct `{construct}` at {pointer}", Line(*line))]
    Unsupported {
        /// The page.
        file: String,
        /// The line where the construct probably is.
        line: Option<usize>,
        /// The construct, e.g. `const` or `type: [string, integer]`.
        construct: String,
        /// Where in the page's document (JSON pointer).
        pointer: String,
    },
    /// A `$ref` points at nothing.
    #[error("{file}{}: dangling $ref `{reference}`", Line(*line))]
    DanglingRef {
        /// The page (or `openapi/overlay.yaml`).
        file: String,
        /// The line of the reference.
        line: Option<usize>,
        /// The reference.
        reference: String,
    },
    /// Two pages disagree on the pinned API version (the `X-Fanvue-API-Version` default).
    #[error("{file}: API version {found} differs from {expected} (from {first_file})")]
    VersionMismatch {
        /// The page with the different version.
        file: String,
        /// Its version.
        found: String,
        /// The version of the first page.
        expected: String,
        /// The first page that stated a version.
        first_file: String,
    },
    /// No page states the API version.
    #[error("no page states the API version (default of the X-Fanvue-API-Version header)")]
    NoVersion,
    /// Two pages define the same operation differently.
    #[error("{method} {path} is defined differently by {first} and {second}")]
    DuplicateOperation {
        /// HTTP method (upper case).
        method: String,
        /// Path template.
        path: String,
        /// The first page.
        first: String,
        /// The second page.
        second: String,
    },
    /// Two operations share one operationId.
    #[error("operationId {operation_id} is used by {first} and {second}")]
    DuplicateOperationId {
        /// The id.
        operation_id: String,
        /// The first page.
        first: String,
        /// The second page.
        second: String,
    },
    /// Two different schemas would get the same name.
    #[error(
        "two different schemas would be named {name}: `{first_schema}` in {first} and `{second_schema}` in {second}; \
         give one of them another name in openapi/names.yaml"
    )]
    SchemaNameConflict {
        /// The contested name.
        name: String,
        /// The page of the first schema.
        first: String,
        /// The first schema's name in its page.
        first_schema: String,
        /// The page of the second schema.
        second: String,
        /// The second schema's name in its page.
        second_schema: String,
    },
    /// A schema name would be longer than the limit.
    #[error("{file}: schema `{upstream}` would be named {name} ({} characters, at most {max}); add a name to openapi/names.yaml", name.len())]
    NameTooLong {
        /// The page.
        file: String,
        /// Its name in the page.
        upstream: String,
        /// The name it would get.
        name: String,
        /// The limit.
        max: usize,
    },
    /// A hand-kept input of `openapi/` (names, numbers, overlay) is invalid.
    #[error("{file}: {message}")]
    Config {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An overlay entry cannot be applied.
    #[error("openapi/overlay.yaml entry {index} ({why}): {message}")]
    Overlay {
        /// The 0-based entry number.
        index: usize,
        /// The entry's `why`.
        why: String,
        /// What failed.
        message: String,
    },
    /// The result is not a valid OpenAPI 3.0 document for the `openapiv3` crate.
    #[error("the normalized document does not parse as OpenAPI 3.0: {0}")]
    InvalidResult(String),
}
