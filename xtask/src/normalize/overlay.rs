//! The overlay (fix 9): `openapi/overlay.yaml`, a list of small patches applied in order, last, to the merged
//! document. Each entry states `why` and does one of:
//!
//! - `schema: Name` + `value`: sets `components.schemas.Name`;
//! - `operation: "METHOD /path"` with optional `copy_from: "METHOD /path"` (start from a copy of that operation;
//!   the target must not exist yet), optional `merge` (deep-merged into the operation: objects merge key by key,
//!   anything else replaces) and optional `replace` (relative JSON pointer → value, replacing what is there);
//! - `parameter: name` + `in` + `value`: replaces that parameter in every operation that has it (at least one;
//!   with `arrays_only: true` only where its schema is an array).
//!
//! References in the overlay use the final schema names.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::NormalizeError;
use super::walk::{METHODS, escape};

/// One overlay entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Why the patch exists (required, shown in errors).
    pub why: String,
    /// `schema` entries: the schema's name.
    #[serde(default)]
    pub schema: Option<String>,
    /// `operation` entries: `METHOD /path`.
    #[serde(default)]
    pub operation: Option<String>,
    /// `operation` entries: start from a copy of this operation (`METHOD /path`).
    #[serde(default)]
    pub copy_from: Option<String>,
    /// `operation` entries: deep-merged into the operation.
    #[serde(default)]
    pub merge: Option<Value>,
    /// `operation` entries: relative JSON pointer → value.
    #[serde(default)]
    pub replace: BTreeMap<String, Value>,
    /// `parameter` entries: the parameter's name.
    #[serde(default)]
    pub parameter: Option<String>,
    /// `parameter` entries: where the parameter is (`query`, `path`, ...).
    #[serde(default, rename = "in")]
    pub location: Option<String>,
    /// `schema` and `parameter` entries: the new value.
    #[serde(default)]
    pub value: Option<Value>,
    /// `parameter` entries: replace only where the parameter's schema is an array (a parameter the official
    /// document declares a plain string keeps its own declaration).
    #[serde(default)]
    pub arrays_only: bool,
}

/// The parsed overlay.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    /// The entries, in order.
    pub entries: Vec<Entry>,
}

impl Overlay {
    /// Parses `overlay.yaml` (converting its YAML values to JSON values).
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let entries: Vec<Entry> = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        for (i, e) in entries.iter().enumerate() {
            if e.why.trim().is_empty() {
                return Err(format!("entry {i} has an empty `why`"));
            }
            let kinds = [
                e.schema.is_some(),
                e.operation.is_some(),
                e.parameter.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(format!(
                    "entry {i} ({}) must have exactly one of `schema`, `operation`, `parameter`",
                    e.why
                ));
            }
        }
        Ok(Overlay { entries })
    }

    /// Applies every entry to `doc`, in order.
    pub fn apply(&self, doc: &mut Value) -> Result<(), NormalizeError> {
        for (index, entry) in self.entries.iter().enumerate() {
            apply_entry(doc, entry).map_err(|message| NormalizeError::Overlay {
                index,
                why: entry.why.clone(),
                message,
            })?;
        }
        Ok(())
    }
}

/// `"POST /media/uploads"` → the JSON pointer of that operation.
fn operation_pointer(key: &str) -> Result<String, String> {
    let (method, path) = key
        .split_once(' ')
        .ok_or_else(|| format!("`{key}` is not `METHOD /path`"))?;
    let method = method.to_ascii_lowercase();
    if !METHODS.contains(&method.as_str()) || !path.starts_with('/') {
        return Err(format!("`{key}` is not `METHOD /path`"));
    }
    Ok(format!("/paths/{}/{method}", escape(path.trim())))
}

fn apply_entry(doc: &mut Value, e: &Entry) -> Result<(), String> {
    if let Some(name) = &e.schema {
        let value = e.value.clone().ok_or("a `schema` entry needs a `value`")?;
        set(doc, &format!("/components/schemas/{}", escape(name)), value);
        return Ok(());
    }
    if let Some(name) = &e.parameter {
        let value = e
            .value
            .clone()
            .ok_or("a `parameter` entry needs a `value`")?;
        let location = e
            .location
            .as_deref()
            .ok_or("a `parameter` entry needs `in`")?;
        let mut count: usize = 0;
        if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            for item in paths.values_mut() {
                let Some(item) = item.as_object_mut() else {
                    continue;
                };
                for (method, op) in item.iter_mut() {
                    if !METHODS.contains(&method.as_str()) {
                        continue;
                    }
                    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut)
                    else {
                        continue;
                    };
                    for p in params.iter_mut() {
                        if p.get("name").and_then(Value::as_str) == Some(name.as_str())
                            && p.get("in").and_then(Value::as_str) == Some(location)
                            && (!e.arrays_only
                                || p.pointer("/schema/type").and_then(Value::as_str)
                                    == Some("array"))
                        {
                            *p = value.clone();
                            count = count.saturating_add(1);
                        }
                    }
                }
            }
        }
        if count == 0 {
            return Err(format!(
                "no operation has the {location} parameter `{name}`"
            ));
        }
        return Ok(());
    }
    let Some(target) = &e.operation else {
        return Err("empty entry".into());
    };
    let ptr = operation_pointer(target)?;
    if let Some(source) = &e.copy_from {
        if doc.pointer(&ptr).is_some() {
            return Err(format!(
                "{target} already exists; `copy_from` only creates operations"
            ));
        }
        let src = doc
            .pointer(&operation_pointer(source)?)
            .cloned()
            .ok_or_else(|| format!("`copy_from` operation {source} does not exist"))?;
        set(doc, &ptr, src);
    }
    let op = doc
        .pointer_mut(&ptr)
        .ok_or_else(|| format!("operation {target} does not exist"))?;
    if let Some(patch) = &e.merge {
        deep_merge(op, patch);
    }
    for (rel, value) in &e.replace {
        let rel_ptr = format!("/{}", rel.trim_start_matches('/'));
        set(op, &rel_ptr, value.clone());
    }
    Ok(())
}

/// Sets the value at JSON pointer `ptr` in `doc`, creating objects on the way.
fn set(doc: &mut Value, ptr: &str, value: Value) {
    let mut cur = doc;
    let segments: Vec<String> = ptr
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = segments.split_last() else {
        *cur = value;
        return;
    };
    for seg in parents {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(obj) = cur else { return };
        cur = obj
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    if let Value::Object(obj) = cur {
        obj.insert(last.clone(), value);
    }
}

/// Objects merge key by key; any other value replaces.
pub fn deep_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
