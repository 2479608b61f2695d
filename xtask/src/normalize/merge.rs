//! Merging the schemas of all pages into one `components.schemas`: structurally identical schemas become one,
//! named by [`Names`]; two different schemas that would get one name are an error.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::NormalizeError;
use super::fingerprint::fingerprint;
use super::naming::{MAX_NAME_LEN, Names};
use super::walk::{self, SCHEMA_REF};

/// The schemas of one page, with page-local `$ref`s.
pub struct PageSchemas<'a> {
    /// The page (for messages).
    pub file: &'a str,
    /// The page's operationId in PascalCase (for automatic names).
    pub operation: String,
    /// Its `components.schemas`.
    pub schemas: &'a Map<String, Value>,
}

/// The merged schemas and, per page, the final name of each of its schemas.
pub struct Merged {
    /// Final name → schema (references rewritten to final names).
    pub schemas: BTreeMap<String, Value>,
    /// Per page (same order as the input): local name → final name.
    pub renames: Vec<BTreeMap<String, String>>,
}

struct Member {
    page: usize,
    local: String,
}

/// Merges the pages' schemas. `reserved` names (e.g. `ApiError`) may not be given to any page schema.
pub fn merge(
    pages: &[PageSchemas<'_>],
    names: &Names,
    reserved: &[&str],
) -> Result<Merged, NormalizeError> {
    // Structural groups, in a deterministic order (first appearance by page, then by name).
    let mut groups: Vec<(String, Vec<Member>)> = Vec::new();
    let mut group_of: BTreeMap<String, usize> = BTreeMap::new();
    for (page_idx, page) in pages.iter().enumerate() {
        let resolve =
            |r: &str| -> Option<&Value> { walk::ref_name(r).and_then(|n| page.schemas.get(n)) };
        let mut locals: Vec<&String> = page.schemas.keys().collect();
        locals.sort();
        for local in locals {
            let Some(schema) = page.schemas.get(local) else {
                continue;
            };
            let fp = fingerprint(schema, &resolve);
            let member = Member {
                page: page_idx,
                local: local.clone(),
            };
            match group_of.get(&fp) {
                Some(&g) => {
                    if let Some(group) = groups.get_mut(g) {
                        group.1.push(member);
                    }
                }
                None => {
                    group_of.insert(fp.clone(), groups.len());
                    groups.push((fp, vec![member]));
                }
            }
        }
    }

    // A name per group.
    let mut renames: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); pages.len()];
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (g, (_, members)) in groups.iter().enumerate() {
        let mut best: Option<((u8, usize, String), &Member)> = None;
        for m in members {
            let Some(page) = pages.get(m.page) else {
                continue;
            };
            let Some(schema) = page.schemas.get(&m.local) else {
                continue;
            };
            let (rank, name) = names.name_for(&m.local, schema, &page.operation);
            let key = (rank, if rank == 3 { name.len() } else { 0 }, name);
            if best.as_ref().is_none_or(|(b, _)| key < *b) {
                best = Some((key, m));
            }
        }
        let Some(((_, _, name), chosen)) = best else {
            continue;
        };
        if name.len() > MAX_NAME_LEN {
            return Err(NormalizeError::NameTooLong {
                file: file_of(pages, chosen.page),
                upstream: chosen.local.clone(),
                name,
                max: MAX_NAME_LEN,
            });
        }
        let first_member = |g: usize| groups.get(g).and_then(|(_, members)| members.first());
        if let Some(&other) = owner.get(&name)
            && let (Some(a), Some(b)) = (first_member(other), members.first())
        {
            return Err(NormalizeError::SchemaNameConflict {
                name,
                first: file_of(pages, a.page),
                first_schema: a.local.clone(),
                second: file_of(pages, b.page),
                second_schema: b.local.clone(),
            });
        }
        if reserved.contains(&name.as_str())
            && let Some(b) = members.first()
        {
            return Err(NormalizeError::SchemaNameConflict {
                name,
                first: "(built in)".to_string(),
                first_schema: "reserved".to_string(),
                second: file_of(pages, b.page),
                second_schema: b.local.clone(),
            });
        }
        owner.insert(name.clone(), g);
        for m in members {
            if let Some(renames) = renames.get_mut(m.page) {
                renames.insert(m.local.clone(), name.clone());
            }
        }
    }

    // The schemas, from each group's first member, with references renamed.
    let mut schemas = BTreeMap::new();
    for (name, g) in &owner {
        let Some(first) = groups.get(*g).and_then(|(_, members)| members.first()) else {
            continue;
        };
        let Some(schema) = pages
            .get(first.page)
            .and_then(|page| page.schemas.get(&first.local))
        else {
            continue;
        };
        let mut schema = schema.clone();
        if let Some(renames) = renames.get(first.page) {
            rename_refs(&mut schema, renames);
        }
        schemas.insert(name.clone(), schema);
    }
    Ok(Merged { schemas, renames })
}

/// Rewrites page-local schema references to their final names (unknown names are left as they are).
/// The file of page `index` (for errors; the index always comes from `pages`).
fn file_of(pages: &[PageSchemas<'_>], index: usize) -> String {
    pages
        .get(index)
        .map(|page| page.file.to_string())
        .unwrap_or_default()
}

pub fn rename_refs(v: &mut Value, renames: &BTreeMap<String, String>) {
    walk::rewrite_refs(
        v,
        &mut |r| match walk::ref_name(r).and_then(|n| renames.get(n)) {
            Some(new) => format!("{SCHEMA_REF}{new}"),
            None => r.to_string(),
        },
    );
}
