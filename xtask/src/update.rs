//! `cargo xtask update`: one command for "the spec changed".
//!
//! 1. Inputs: `--from PAGES --official openapi.json` (offline), or else `fetch` both into a temporary folder
//!    (`--index-url`, `--openapi-url`).
//! 2. `normalize` them into a temporary folder (the committed `openapi/fanvue.json` is not touched unless
//!    `--write`).
//! 3. `check`: the cross-check of the pages against the official document (printed; its failures make the
//!    command fail after the verdict is printed).
//! 4. `diff` the committed spec against the new one and print a semver verdict for the SDK and a
//!    CHANGELOG-ready markdown summary.
//!
//! A new area of the API (an operation under a path prefix `names.yaml` does not know, with no reference page
//! yet) does not stop it: the operation is tagged by its first path segment and a note says so (a `tag_rules`
//! entry of `names.yaml` chooses another tag). The notes of normalizing are printed before the summary.
//!
//! The verdict ([`verdict`]): MAJOR when something callers use may break (an operation, parameter, field, enum
//! value, response or schema removed; a type changed, which for the generated Rust types also covers
//! nullability; a required-ness change, which changes a Rust type between `T` and `Option<T>` or, in a
//! request, makes callers send something new; a new required request parameter or field; an operationId
//! changed, which renames a method); MINOR when there are only additions; NONE when nothing changed.

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use crate::diff::{self, BodyLocation, Change, Changelog, Subject};
use crate::fetch::{self, FetchError, FetchOptions};
use crate::normalize::{self, Inputs, NormalizeError, OUTPUT_FILE};

/// Arguments of `cargo xtask update`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A local folder of reference pages (offline use; needs `--official` too). Without it, both inputs are
    /// fetched.
    #[arg(long, requires = "official")]
    pub from: Option<PathBuf>,
    /// A local official OpenAPI document (offline use; needs `--from` too).
    #[arg(long, requires = "from")]
    pub official: Option<PathBuf>,
    /// URL of the reference index, when fetching.
    #[arg(long, value_name = "URL", default_value = fetch::DEFAULT_INDEX_URL)]
    pub index_url: Url,
    /// URL of the official OpenAPI document, when fetching.
    #[arg(long, value_name = "URL", default_value = fetch::DEFAULT_OPENAPI_URL)]
    pub openapi_url: Url,
    /// The openapi folder (names.yaml, numbers.yaml, overlay.yaml, crosscheck.yaml and the committed
    /// fanvue.json). Defaults to `openapi/` of the workspace.
    #[arg(long)]
    pub openapi_dir: Option<PathBuf>,
    /// Also replace the committed fanvue.json by the new one.
    #[arg(long)]
    pub write: bool,
}

/// Why `cargo xtask update` failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// Fetching the inputs failed (boxed: it is much larger than the other variants).
    #[error(transparent)]
    Fetch(#[from] Box<FetchError>),
    /// Normalizing failed.
    #[error(transparent)]
    Normalize(#[from] NormalizeError),
    /// Reading the committed spec failed.
    #[error(transparent)]
    Diff(#[from] diff::DiffError),
    /// The cross-check failed (its report was printed).
    #[error(transparent)]
    Check(#[from] crate::check::CheckError),
    /// A temporary folder could not be made.
    #[error("cannot create a temporary folder")]
    Temp(#[source] std::io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

impl From<FetchError> for UpdateError {
    fn from(error: FetchError) -> Self {
        UpdateError::Fetch(Box::new(error))
    }
}

/// The semver verdict for the SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Nothing changed.
    None,
    /// Only additions.
    Minor,
    /// Something callers use may break.
    Major,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::None => "none",
            Verdict::Minor => "MINOR",
            Verdict::Major => "MAJOR (breaking)",
        })
    }
}

/// The verdict for a changelog, with one reason per breaking change.
pub fn verdict(log: &Changelog) -> (Verdict, Vec<String>) {
    if log.is_empty() {
        return (Verdict::None, Vec::new());
    }
    let mut breaking = Vec::new();
    for op in &log.operations_removed {
        breaking.push(format!("operation removed: {} {}", op.method, op.path));
    }
    for name in &log.schemas_removed {
        breaking.push(format!("schema (Rust type) removed: {name}"));
    }
    for op in &log.operations_changed {
        let at = format!("{} {}", op.operation.method, op.operation.path);
        for c in &op.changes {
            let reason = match c {
                Change::OperationIdChanged { old, new } => Some(format!(
                    "operationId {} -> {} (the method is renamed)",
                    old.as_deref().unwrap_or("-"),
                    new.as_deref().unwrap_or("-")
                )),
                Change::ResponseRemoved { status } => Some(format!("response {status} removed")),
                Change::BodyRemoved { body } => Some(format!("{} removed", body_name(body))),
                Change::BodyAdded {
                    body: body @ BodyLocation::Request { .. },
                } => Some(format!("{} added", body_name(body))),
                Change::Removed { subject, ty } => {
                    Some(format!("{} removed (was {ty})", subject_name(subject)))
                }
                Change::Retyped { subject, old, new } => {
                    Some(format!("{}: type {old} -> {new}", subject_name(subject)))
                }
                Change::RequiredChanged { subject, required } => Some(format!(
                    "{} became {}",
                    subject_name(subject),
                    if *required { "required" } else { "optional" }
                )),
                Change::EnumValuesRemoved { subject, values } => Some(format!(
                    "{}: enum values removed: {}",
                    subject_name(subject),
                    values.join(", ")
                )),
                Change::Added {
                    subject,
                    required: true,
                    ..
                } if is_request(subject) => {
                    Some(format!("{} added, required", subject_name(subject)))
                }
                Change::Added { .. }
                | Change::EnumValuesAdded { .. }
                | Change::ResponseAdded { .. }
                | Change::BodyAdded { .. } => None,
            };
            if let Some(r) = reason {
                breaking.push(format!("{at}: {r}"));
            }
        }
    }
    if breaking.is_empty() {
        (Verdict::Minor, breaking)
    } else {
        (Verdict::Major, breaking)
    }
}

fn is_request(subject: &Subject) -> bool {
    match subject {
        Subject::Parameter { .. } => true,
        Subject::Field { body, .. } => matches!(body, BodyLocation::Request { .. }),
    }
}

fn body_name(body: &BodyLocation) -> String {
    match body {
        BodyLocation::Request { media_type } => format!("request body ({media_type})"),
        BodyLocation::Response { status, media_type } => {
            format!("response {status} body ({media_type})")
        }
    }
}

fn subject_name(subject: &Subject) -> String {
    match subject {
        Subject::Parameter { location, name } => format!("{location} parameter `{name}`"),
        Subject::Field { body, path } => format!("{} field `{path}`", body_name(body)),
    }
}

/// The CHANGELOG-ready markdown: the verdict, the breaking changes, then the full changelog.
pub fn summary(log: &Changelog) -> String {
    let (v, breaking) = verdict(log);
    let mut s = format!("## Fanvue API spec update\n\nSemver verdict for the SDK: **{v}**\n\n");
    if v == Verdict::None {
        s.push_str("No change.\n");
        return s;
    }
    s.push_str(&format!(
        "- {} operation(s) added, {} removed, {} changed; {} schema(s) added, {} removed.\n",
        log.operations_added.len(),
        log.operations_removed.len(),
        log.operations_changed.len(),
        log.schemas_added.len(),
        log.schemas_removed.len()
    ));
    if !breaking.is_empty() {
        s.push_str("\n### Breaking\n\n");
        for b in &breaking {
            s.push_str(&format!("- {b}\n"));
        }
    }
    s.push('\n');
    s.push_str(&diff::render(log, diff::Format::Markdown));
    s
}

/// What [`update_from`] found.
#[derive(Debug)]
pub struct Outcome {
    /// The verdict.
    pub verdict: Verdict,
    /// The markdown summary.
    pub summary: String,
    /// The cross-check report.
    pub cross_check: crate::crosscheck::Report,
    /// What normalizing reported (operations tagged by their first path segment, dropped duplicates, ...).
    pub notes: Vec<String>,
    /// The new spec's text.
    pub new_spec: String,
}

/// Normalizes `pages` + `official` with the inputs of `openapi_dir` and compares the result with the committed
/// `openapi_dir/fanvue.json`.
pub fn update_from(
    pages: &Path,
    official: &Path,
    openapi_dir: &Path,
) -> Result<Outcome, UpdateError> {
    let inputs = Inputs::load(openapi_dir)?;
    let new = normalize::normalize_with_official(pages, official, &inputs)?;
    let cross_check = crate::check::cross_check_report(&new, openapi_dir)?;
    let old = diff::read_spec(&openapi_dir.join(OUTPUT_FILE))?;
    let log = diff::diff_specs(&old, &new.doc);
    let (verdict, _) = verdict(&log);
    Ok(Outcome {
        verdict,
        summary: summary(&log),
        cross_check,
        notes: new.warnings,
        new_spec: new.text,
    })
}

/// Runs `cargo xtask update`.
pub fn run(args: Args) -> Result<(), UpdateError> {
    let openapi_dir = args
        .openapi_dir
        .clone()
        .unwrap_or_else(|| crate::workspace_root().join("openapi"));
    let tmp = tempfile::tempdir().map_err(UpdateError::Temp)?;
    let (pages, official) = match (&args.from, &args.official) {
        (Some(p), Some(o)) => (p.clone(), o.clone()),
        _ => {
            let out = tmp.path().join("inputs");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(UpdateError::Runtime)?;
            let options = FetchOptions {
                progress: true,
                ..FetchOptions::default()
            };
            runtime
                .block_on(fetch::fetch_with_official(
                    &args.index_url,
                    Some(&args.openapi_url),
                    &out,
                    &options,
                ))
                .map_err(Box::new)?;
            (out.clone(), out.join(fetch::OPENAPI_FILE))
        }
    };
    let outcome = update_from(&pages, &official, &openapi_dir)?;
    let new_path = tmp.path().join(OUTPUT_FILE);
    normalize::write_atomically(&new_path, &outcome.new_spec)?;
    for note in &outcome.notes {
        eprintln!("note: {note}");
    }
    eprint!("{}", outcome.cross_check.render());
    print!("{}", outcome.summary);
    if args.write {
        normalize::write_spec(&openapi_dir, &outcome.new_spec)?;
        eprintln!("wrote {}", openapi_dir.join(OUTPUT_FILE).display());
    }
    if !outcome.cross_check.passes() {
        return Err(crate::check::CheckError::CrossCheck {
            failures: outcome.cross_check.failure_count(),
        }
        .into());
    }
    Ok(())
}
