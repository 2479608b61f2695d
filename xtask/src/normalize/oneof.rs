//! `oneOf` of object variants where one variant's properties are a subset of another's.
//!
//! Example: `GET /media/{uuid}` answers `oneOf: [{uuid, status}, {uuid, status, createdAt, ...}]`. Decoded as an
//! untagged enum, the small variant matches every payload and the rich fields are lost. Such a `oneOf` is merged
//! into ONE object: the richest variant's properties, required only where every variant requires them (so the
//! extra fields become optional). A `oneOf` that cannot be merged that way has its variants ordered for an untagged
//! decode: first those requiring a property no other variant has (e.g. the batch endpoints' `PerKeyError {error}`),
//! smallest first,
//! then the others richer first.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::fingerprint::fingerprint;
use super::walk;

/// Merges or reorders every `oneOf` of objects in the page document `doc`.
pub fn fix_oneofs(doc: &mut Value) {
    let snapshot = doc.clone();
    let resolve = |r: &str| -> Option<&Value> {
        let name = walk::ref_name(r)?;
        snapshot.pointer(&format!("/components/schemas/{}", walk::escape(name)))
    };
    let mut pointers = Vec::new();
    let _ = walk::for_each_root::<()>(doc, &mut |schema, _, ptr, _| {
        collect_oneofs(schema, ptr.to_string(), &mut pointers);
        Ok(())
    });
    for ptr in pointers {
        let Some(node) = snapshot.pointer(&ptr) else {
            continue;
        };
        let replacement =
            merge_subset_variants(node, &resolve).or_else(|| richer_first(node, &resolve));
        if let (Some(new), Some(slot)) = (replacement, doc.pointer_mut(&ptr)) {
            *slot = new;
        }
    }
}

fn collect_oneofs(schema: &mut Value, ptr: String, out: &mut Vec<String>) {
    if schema
        .get("oneOf")
        .and_then(Value::as_array)
        .is_some_and(|b| b.len() >= 2)
    {
        out.push(ptr.clone());
    }
    let _ = walk::for_each_child::<()>(schema, &mut |child, suffix, _| {
        collect_oneofs(child, format!("{ptr}{suffix}"), out);
        Ok(())
    });
}

/// The object schema a branch stands for (following one `$ref`), if it is an object with properties.
fn object_of<'a>(
    branch: &'a Value,
    resolve: &dyn Fn(&str) -> Option<&'a Value>,
) -> Option<&'a Map<String, Value>> {
    let target = match branch.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(r)?,
        None => branch,
    };
    let obj = target.as_object()?;
    obj.get("properties")?.as_object()?;
    Some(obj)
}

fn properties(obj: &Map<String, Value>) -> Option<&Map<String, Value>> {
    obj.get("properties").and_then(Value::as_object)
}

fn required(obj: &Map<String, Value>) -> BTreeSet<String> {
    obj.get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// One object merging all variants, when one variant holds every other's properties with the same schemas.
pub fn merge_subset_variants<'a>(
    node: &'a Value,
    resolve: &dyn Fn(&str) -> Option<&'a Value>,
) -> Option<Value> {
    let branches = node.get("oneOf")?.as_array()?;
    let objects: Vec<&Map<String, Value>> = branches
        .iter()
        .map(|b| object_of(b, resolve))
        .collect::<Option<_>>()?;
    let richest = objects
        .iter()
        .copied()
        .max_by_key(|o| properties(o).map_or(0, Map::len))?;
    let rich_props = properties(richest)?;
    for o in &objects {
        for (name, schema) in properties(o)? {
            let rich = rich_props.get(name)?;
            if fingerprint(rich, resolve) != fingerprint(schema, resolve) {
                return None;
            }
        }
    }
    let mut common = required(richest);
    for o in &objects {
        let r = required(o);
        common.retain(|name| r.contains(name));
    }
    let mut merged = richest.clone();
    let order: Vec<Value> = richest
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter(|n| n.as_str().is_some_and(|n| common.contains(n)))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if order.is_empty() {
        merged.remove("required");
    } else {
        merged.insert("required".into(), Value::Array(order));
    }
    if let Some(d) = node.get("description") {
        merged.insert("description".into(), d.clone());
    }
    if node.get("nullable") == Some(&Value::Bool(true)) {
        merged.insert("nullable".into(), Value::Bool(true));
    }
    Some(Value::Object(merged))
}

/// The same `oneOf` with variants having more properties first (ties keep their order).
fn richer_first<'a>(node: &'a Value, resolve: &dyn Fn(&str) -> Option<&'a Value>) -> Option<Value> {
    let branches = node.get("oneOf")?.as_array()?;
    let objects: Vec<Option<&Map<String, Value>>> =
        branches.iter().map(|b| object_of(b, resolve)).collect();
    // A variant requiring a property that no other variant has (PerKeyError's `error`) matches only its own
    // payloads: it goes first, so that an untagged decode does not read it as a variant of optional fields.
    let discriminated = |i: usize| -> bool {
        let Some(o) = objects.get(i).copied().flatten() else {
            return false;
        };
        required(o).iter().any(|r| {
            objects
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .all(|(_, other)| {
                    other
                        .and_then(properties)
                        .is_none_or(|p| !p.contains_key(r))
                })
        })
    };
    let mut order: Vec<usize> = (0..branches.len()).collect();
    // Discriminated variants smallest first (the most specific), then the others richest first.
    order.sort_by_key(|&i| {
        let len = objects
            .get(i)
            .copied()
            .flatten()
            .and_then(properties)
            .map_or(0, Map::len);
        if discriminated(i) {
            (false, std::cmp::Reverse(0), len)
        } else {
            (true, std::cmp::Reverse(len), 0)
        }
    });
    let sorted: Vec<&Value> = order.into_iter().filter_map(|i| branches.get(i)).collect();
    let mut out = node.as_object()?.clone();
    out.insert(
        "oneOf".into(),
        Value::Array(sorted.into_iter().cloned().collect()),
    );
    Some(Value::Object(out))
}
