//! The changelog as markdown, for a maintainer to read.

use std::fmt::Write;

use super::model::{BodyLocation, Change, Changelog, OperationSummary, Subject};

/// Renders `changelog` as markdown: version, operations added, removed and changed, schemas. Sections
/// without entries are left out; an empty changelog says so.
pub fn markdown(changelog: &Changelog) -> String {
    let mut out = String::from("# API changelog\n");
    if changelog.is_empty() {
        out.push_str("\nNo changes.\n");
        return out;
    }
    if let Some(version) = &changelog.version {
        let _ = write!(
            out,
            "\n## API version\n\n{} → {}\n",
            code_or_none(version.old.as_deref()),
            code_or_none(version.new.as_deref())
        );
    }
    let _ = write!(
        out,
        "\n{} operation(s) added, {} removed, {} changed.\n",
        changelog.operations_added.len(),
        changelog.operations_removed.len(),
        changelog.operations_changed.len()
    );
    for (title, ops) in [
        ("Operations added", &changelog.operations_added),
        ("Operations removed", &changelog.operations_removed),
    ] {
        if !ops.is_empty() {
            let _ = writeln!(out, "\n## {title}\n");
            for op in ops {
                let _ = writeln!(out, "- {}", operation(op));
            }
        }
    }
    if !changelog.operations_changed.is_empty() {
        out.push_str("\n## Operations changed\n");
        for changed in &changelog.operations_changed {
            let _ = writeln!(out, "\n### {}\n", operation(&changed.operation));
            for change in &changed.changes {
                let _ = writeln!(out, "- {}", describe(change));
            }
        }
    }
    if !changelog.schemas_added.is_empty() || !changelog.schemas_removed.is_empty() {
        out.push_str("\n## Schemas\n\n");
        for (label, names) in [
            ("added", &changelog.schemas_added),
            ("removed", &changelog.schemas_removed),
        ] {
            if !names.is_empty() {
                let names: Vec<String> = names.iter().map(|n| code(n)).collect();
                let _ = writeln!(out, "- {label}: {}", names.join(", "));
            }
        }
    }
    out
}

fn operation(op: &OperationSummary) -> String {
    let mut text = format!("`{} {}`", op.method, op.path);
    if let Some(id) = &op.operation_id {
        let _ = write!(text, " ({})", code(id));
    }
    text
}

/// One change as a sentence: "<subject>: <what happened>".
fn describe(change: &Change) -> String {
    match change {
        Change::OperationIdChanged { old, new } => format!(
            "operationId: {} → {}",
            code_or_none(old.as_deref()),
            code_or_none(new.as_deref())
        ),
        Change::ResponseAdded { status } => format!("response {status}: added"),
        Change::ResponseRemoved { status } => format!("response {status}: removed"),
        Change::BodyAdded { body } => format!("{}: added", body_name(body)),
        Change::BodyRemoved { body } => format!("{}: removed", body_name(body)),
        Change::Added {
            subject,
            ty,
            required,
        } => format!(
            "{}: added, {}, {}",
            subject_name(subject),
            code(ty),
            if *required { "required" } else { "optional" }
        ),
        Change::Removed { subject, ty } => {
            format!("{}: removed (was {})", subject_name(subject), code(ty))
        }
        Change::Retyped { subject, old, new } => format!(
            "{}: type {} → {}",
            subject_name(subject),
            code(old),
            code(new)
        ),
        Change::RequiredChanged { subject, required } => format!(
            "{}: now {}",
            subject_name(subject),
            if *required { "required" } else { "optional" }
        ),
        Change::EnumValuesAdded { subject, values } => format!(
            "{}: enum values added: {}",
            subject_name(subject),
            codes(values)
        ),
        Change::EnumValuesRemoved { subject, values } => format!(
            "{}: enum values removed: {}",
            subject_name(subject),
            codes(values)
        ),
    }
}

fn subject_name(subject: &Subject) -> String {
    match subject {
        Subject::Parameter { location, name } => format!("{location} parameter {}", code(name)),
        Subject::Field { body, path } if path.is_empty() => body_name(body),
        Subject::Field { body, path } => format!("{} field {}", body_name(body), code(path)),
    }
}

/// `request body` / `response 200`, with the media type when it is not JSON.
fn body_name(body: &BodyLocation) -> String {
    let (mut name, media_type) = match body {
        BodyLocation::Request { media_type } => ("request body".to_owned(), media_type),
        BodyLocation::Response { status, media_type } => (format!("response {status}"), media_type),
    };
    if media_type != "application/json" {
        let _ = write!(name, " ({media_type})");
    }
    name
}

fn codes(values: &[String]) -> String {
    values
        .iter()
        .map(|v| code(v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn code_or_none(text: Option<&str>) -> String {
    text.map(code).unwrap_or_else(|| "(none)".to_owned())
}

/// `text` as inline code, with a fence long enough for any backticks inside.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        format!("`{text}`")
    } else {
        let fence = "`".repeat(longest.saturating_add(1));
        format!("{fence} {text} {fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "`` a`b ``");
    }
}
