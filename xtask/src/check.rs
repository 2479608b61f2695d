//! `cargo xtask check --from DIR`: fails, with a short summary of what differs, when `openapi/fanvue.json` is not
//! what `cargo xtask normalize --from DIR` would write now (and likewise `openapi/webhooks.json`, the normalized
//! `openapi/webhooks.yaml`, with the crate's copy).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::normalize::{self, Inputs, NormalizeError, OUTPUT_FILE};

/// At most this many differing places are listed.
const MAX_LISTED: usize = 20;

/// Arguments of `cargo xtask check`: the same as those of `cargo xtask normalize`.
pub use crate::normalize::Args;

/// Why `check` failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Normalizing the pages failed.
    #[error(transparent)]
    Normalize(#[from] NormalizeError),
    /// The committed file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The reference pages have something the official document lacks (see openapi/README.md).
    #[error(
        "the cross-check failed: {failures} difference(s) between the pages and the official document fail it (listed above); fix the input or add a reasoned exception to openapi/crosscheck.yaml"
    )]
    CrossCheck {
        /// The number of failing differences (and unused exceptions).
        failures: usize,
    },
    /// openapi/crosscheck.yaml does not parse.
    #[error("openapi/crosscheck.yaml: {0}")]
    Exceptions(String),
    /// The committed file differs from what `normalize` writes.
    #[error(
        "{} is not what `cargo xtask normalize` would write now; run `cargo xtask normalize --from DIR`.\n{summary}",
        path.display()
    )]
    Differs {
        /// The file.
        path: PathBuf,
        /// One line per differing place.
        summary: String,
    },
}

/// Runs `cargo xtask check`.
pub fn run(args: Args) -> Result<(), CheckError> {
    let dir = args.openapi_dir();
    check_with(&args.from, args.official.as_deref(), &dir)?;
    eprintln!("{} is up to date", dir.join(OUTPUT_FILE).display());
    Ok(())
}

/// Compares `openapi_dir/fanvue.json` with the normalization of the pages in `from`.
pub fn check(from: &Path, openapi_dir: &Path) -> Result<(), CheckError> {
    check_with(from, None, openapi_dir)
}

/// Compares `openapi_dir/fanvue.json` with the normalization of the pages in `from` and, when given, the official
/// document `official`.
pub fn check_with(
    from: &Path,
    official: Option<&Path>,
    openapi_dir: &Path,
) -> Result<(), CheckError> {
    let inputs = Inputs::load(openapi_dir)?;
    let expected = match official {
        Some(o) => normalize::normalize_with_official(from, o, &inputs)?,
        None => normalize::normalize_dir(from, &inputs)?,
    };
    if official.is_some() {
        let report = cross_check_report(&expected, openapi_dir)?;
        eprint!("{}", report.render());
        if !report.passes() {
            return Err(CheckError::CrossCheck {
                failures: report.failure_count(),
            });
        }
    }
    let mut files = vec![openapi_dir.join(OUTPUT_FILE)];
    files.extend(normalize::crate_copy(openapi_dir));
    for path in files {
        compare_file(&path, &expected)?;
    }
    if normalize::webhooks::has_overlay(openapi_dir) {
        let hooks = normalize::webhooks::normalize(openapi_dir, &inputs.numbers)?;
        for path in normalize::webhooks::output_files(openapi_dir) {
            compare_text(&path, &hooks.text, &hooks.doc)?;
        }
    }
    Ok(())
}

/// `path` holds exactly `expected.text`, or the error lists what differs.
fn compare_file(path: &Path, expected: &normalize::Normalized) -> Result<(), CheckError> {
    compare_text(path, &expected.text, &expected.doc)
}

/// `path` holds exactly `text` (the rendering of `doc`), or the error lists what differs.
fn compare_text(path: &Path, text: &str, doc: &Value) -> Result<(), CheckError> {
    let path = path.to_path_buf();
    let actual = std::fs::read_to_string(&path).map_err(|source| CheckError::Io {
        path: path.clone(),
        source,
    })?;
    if actual == text {
        return Ok(());
    }
    let summary = match serde_json::from_str::<Value>(&actual) {
        Err(e) => format!("  the file is not valid JSON: {e}"),
        Ok(actual) => {
            let mut diffs = Vec::new();
            diff_values("", &actual, doc, &mut diffs);
            summarize(&diffs)
        }
    };
    Err(CheckError::Differs { path, summary })
}

/// The cross-check of the pages (kept in `normalized`) against the normalized document, with the exceptions of
/// `openapi_dir/crosscheck.yaml` (none when the file is absent).
pub fn cross_check_report(
    normalized: &normalize::Normalized,
    openapi_dir: &Path,
) -> Result<crate::crosscheck::Report, CheckError> {
    let path = openapi_dir.join(CROSSCHECK_FILE);
    let exceptions = match std::fs::read_to_string(&path) {
        Ok(text) => {
            crate::crosscheck::Exceptions::from_yaml(&text).map_err(CheckError::Exceptions)?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
        Err(source) => return Err(CheckError::Io { path, source }),
    };
    Ok(crate::crosscheck::cross_check(
        &normalized.pages,
        &normalized.doc,
        &exceptions,
    ))
}

/// The accepted cross-check differences, in the openapi folder.
pub const CROSSCHECK_FILE: &str = "crosscheck.yaml";

/// How one place differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Only in the committed file.
    Extra(String),
    /// Only in the normalized document.
    Missing(String),
    /// In both, with different values.
    Changed(String),
}

/// The places (JSON pointers) where `actual` differs from `expected`.
pub fn diff_values(ptr: &str, actual: &Value, expected: &Value, out: &mut Vec<Difference>) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, av) in a {
                let p = format!("{ptr}/{}", k.replace('~', "~0").replace('/', "~1"));
                match e.get(k) {
                    Some(ev) => diff_values(&p, av, ev, out),
                    None => out.push(Difference::Extra(p)),
                }
            }
            for k in e.keys().filter(|k| !a.contains_key(*k)) {
                out.push(Difference::Missing(format!(
                    "{ptr}/{}",
                    k.replace('~', "~0").replace('/', "~1")
                )));
            }
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                diff_values(&format!("{ptr}/{i}"), av, ev, out);
            }
        }
        (a, e) if a == e => {}
        _ => out.push(Difference::Changed(if ptr.is_empty() {
            "/".into()
        } else {
            ptr.into()
        })),
    }
}

/// One line per difference (at most `MAX_LISTED`), or a note that only the formatting differs.
pub fn summarize(diffs: &[Difference]) -> String {
    if diffs.is_empty() {
        return "  same content, different formatting or key order".to_string();
    }
    let mut lines: Vec<String> = diffs
        .iter()
        .take(MAX_LISTED)
        .map(|d| match d {
            Difference::Extra(p) => format!("  - {p} (only in the committed file)"),
            Difference::Missing(p) => format!("  + {p} (missing from the committed file)"),
            Difference::Changed(p) => format!("  ~ {p} (changed)"),
        })
        .collect();
    if diffs.len() > MAX_LISTED {
        lines.push(format!(
            "  ... and {} more",
            diffs.len().saturating_sub(MAX_LISTED)
        ));
    }
    lines.join("\n")
}
