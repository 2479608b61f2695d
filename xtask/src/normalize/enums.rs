//! Every enum becomes a named component schema (inline enums are hoisted), so that the generated client can give
//! each one a tolerant Rust enum with an `Unknown(String)` fallback.

use serde_json::{Map, Value, json};

use super::fingerprint::fingerprint;
use super::walk::{self, RootKind, pascal};

/// Hoists every inline enum of the page document `doc` into `components.schemas`.
pub fn hoist_enums(doc: &mut Value) {
    // Names already taken: the page's own schemas (a hoisted enum never replaces one), then the hoisted ones.
    let mut hoisted: Vec<(String, Value)> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let existing = hoisted.len();
    let _ = walk::for_each_root::<()>(doc, &mut |schema, kind, _, op_id| {
        let op = pascal(op_id.unwrap_or(""));
        match kind {
            RootKind::Component(name) => hoist_children(schema, name, &mut hoisted),
            RootKind::Parameter(p) => hoist(schema, &format!("{op}{}", pascal(p)), &mut hoisted),
            RootKind::RequestBody => hoist(schema, &format!("{op}Body"), &mut hoisted),
            RootKind::Response(_) => hoist(schema, &format!("{op}Response"), &mut hoisted),
            RootKind::Header(h) => hoist(schema, &format!("{op}{}", pascal(h)), &mut hoisted),
        }
        Ok(())
    });
    if hoisted.len() == existing {
        return;
    }
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let components = root
        .entry("components")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(components) = components.as_object_mut() else {
        return;
    };
    let schemas = components
        .entry("schemas")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(schemas) = schemas.as_object_mut() {
        for (name, schema) in hoisted.into_iter().skip(existing) {
            schemas.insert(name, schema);
        }
    }
}

fn is_enum(schema: &Value) -> bool {
    schema.get("enum").is_some() && schema.get("$ref").is_none()
}

/// Hoists `schema` itself if it is an enum, else its children.
fn hoist(schema: &mut Value, name: &str, out: &mut Vec<(String, Value)>) {
    if is_enum(schema) {
        let name = unique(name, schema, out);
        let mut named = schema.clone();
        let nullable = named
            .as_object_mut()
            .and_then(|o| o.remove("nullable"))
            .is_some_and(|n| n == Value::Bool(true));
        let reference = json!({ "$ref": format!("{}{name}", walk::SCHEMA_REF) });
        *schema = if nullable {
            json!({ "allOf": [reference], "nullable": true })
        } else {
            reference
        };
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, named));
        }
        return;
    }
    hoist_children(schema, name, out);
}

fn hoist_children(schema: &mut Value, name: &str, out: &mut Vec<(String, Value)>) {
    let _ = walk::for_each_child::<()>(schema, &mut |child, suffix, prop| {
        let child_name = match prop {
            Some(p) => format!("{name}{}", pascal(p)),
            None if suffix == "/items" => format!("{name}Item"),
            None => name.to_string(),
        };
        hoist(child, &child_name, out);
        Ok(())
    });
}

/// `name`, or `name2`, `name3`, ... when `name` is already taken by a different enum.
fn unique(name: &str, schema: &Value, taken: &[(String, Value)]) -> String {
    let mine = plain_fingerprint(schema);
    let mut candidate = name.to_string();
    let mut n: usize = 1;
    while let Some((_, other)) = taken.iter().find(|(t, _)| *t == candidate) {
        if plain_fingerprint(other) == mine {
            break;
        }
        n = n.saturating_add(1);
        candidate = format!("{name}{n}");
    }
    candidate
}

/// The fingerprint of an enum without its `nullable` (which stays at the place of use).
fn plain_fingerprint(schema: &Value) -> String {
    let mut v = schema.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("nullable");
    }
    fingerprint(&v, &|_| None)
}
