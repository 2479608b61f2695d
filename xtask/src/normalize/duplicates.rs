//! The same operation on two pages (fix 6), and pages whose content is not what their file name says.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ProcessedPage;
use super::error::NormalizeError;

/// The HTTP methods a page's file name promises, from its first word (`create-…` → POST), if it is a known verb.
pub fn expected_methods(slug: &str) -> Option<&'static [&'static str]> {
    let verb = slug.split('-').next().unwrap_or("");
    Some(match verb {
        "get" | "list" => &["get"],
        "create" | "send" | "add" | "attach" => &["post"],
        "delete" | "remove" | "detach" => &["delete"],
        "update" | "rename" | "complete" => &["patch", "put", "post"],
        _ => return None,
    })
}

/// Why `page` does not hold what its file name says, if it does not.
pub fn misnamed(page: &ProcessedPage) -> Option<String> {
    let expected = expected_methods(&page.page.slug)?;
    let op = page.operations.first()?;
    let id = op
        .value
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or("?");
    // A method the name does not promise is fine when the operationId uses the same verb
    // (`get-online-statuses.md` holds `POST /chats/statuses`, operationId `get-batch-statuses`).
    let same_verb = id.split('-').next() == page.page.slug.split('-').next();
    if expected.contains(&op.method.as_str()) || same_verb {
        return None;
    }
    Some(format!(
        "{}: the file name says `{}` but the page holds {} {} ({id})",
        page.page.file,
        page.page.slug,
        op.method.to_uppercase(),
        op.path
    ))
}

/// A warning for each page whose content is not what its file name says.
pub fn misnamed_pages(pages: &[ProcessedPage]) -> Vec<String> {
    pages.iter().filter_map(misnamed).collect()
}

/// Drops operations defined twice identically (keeping the copy on the page whose name matches); errors on an
/// operation defined twice differently. Returns a note for each dropped copy.
pub fn drop_duplicates(pages: &mut Vec<ProcessedPage>) -> Result<Vec<String>, NormalizeError> {
    let mut first_seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut drop: Vec<(usize, String, String)> = Vec::new();
    let mut notes = Vec::new();
    for (idx, p) in pages.iter().enumerate() {
        for op in &p.operations {
            let key = (op.path.clone(), op.method.clone());
            let Some(&other) = first_seen.get(&key) else {
                first_seen.insert(key, idx);
                continue;
            };
            let Some(a) = pages.get(other) else {
                continue;
            };
            if a.page.doc != p.page.doc || a.page.reference != p.page.reference {
                return Err(NormalizeError::DuplicateOperation {
                    method: op.method.to_uppercase(),
                    path: op.path.clone(),
                    first: a.page.file.clone(),
                    second: p.page.file.clone(),
                });
            }
            // Identical: keep the page whose file name matches its content.
            let (keep, lose) = if misnamed(a).is_some() && misnamed(p).is_none() {
                first_seen.insert(key, idx);
                (idx, other)
            } else {
                (other, idx)
            };
            notes.push(format!(
                "{} {} is on {} and {} (identical): kept {}",
                op.method.to_uppercase(),
                op.path,
                a.page.file,
                p.page.file,
                if keep == idx {
                    &p.page.file
                } else {
                    &a.page.file
                }
            ));
            drop.push((lose, op.path.clone(), op.method.clone()));
        }
    }
    for (idx, path, method) in drop {
        if let Some(p) = pages.get_mut(idx) {
            p.operations
                .retain(|o| !(o.path == path && o.method == method));
        }
    }
    pages.retain(|p| !p.operations.is_empty());
    Ok(notes)
}
