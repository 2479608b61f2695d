//! Fanvue's official OpenAPI document (`https://api.fanvue.com/openapi`) → one synthetic page per operation, so
//! that the rest of the pipeline (3.0 conversion, operation fixes, integer rules, `oneOf` merging, schema merging
//! and naming, overlay) treats both inputs alike.
//!
//! The official document is the authority for shapes. Its own defects (listed in its PROVENANCE.md) are fixed by
//! the named rules of [`RULES`], each tested; the reference pages only add what the official document lacks: the
//! tag (the page's group), the reference-page URL and, where the official description names none, the scopes.
//!
//! Inline schemas are hoisted under the machine-made names the reference pages use for the same places
//! (`ChatsGetResponsesContentApplicationJsonSchemaDataItems`, `createUploadSession_Response_200`, ...), so that
//! `names.yaml` names both inputs alike.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::NormalizeError;
use super::naming::Names;
use super::operations::{is_error_status, parse_scopes};
use super::page::Page;
use super::walk::{self, METHODS, SCHEMA_REF, pascal};

/// The `file` of the synthetic pages (in messages): the official document.
pub const OFFICIAL_FILE: &str = "openapi.json";

/// A named rule applied to the official document: what it does and why (the document's own words or
/// PROVENANCE.md's).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Its name (used in tests and in openapi/README.md).
    pub name: &'static str,
    /// What it does.
    pub what: &'static str,
    /// Why.
    pub why: &'static str,
}

/// The rules applied to the official document, in order. (Integers and instants are the rules of numbers.yaml,
/// applied to both inputs; the error schema, 410/429 and required bodies are fixes of every operation.)
pub const RULES: [Rule; 10] = [
    Rule {
        name: "inline-components",
        what: "parameters and responses written as `$ref` to components.parameters/responses are inlined",
        why: "each operation stands alone as a page does",
    },
    Rule {
        name: "kebab-operation-ids",
        what: "operationIds become kebab-case (`listChats` -> `list-chats`)",
        why: "the reference pages and the existing client use kebab-case ids (method names, tracing ids)",
    },
    Rule {
        name: "error-bodies",
        what: "4xx/5xx bodies are replaced by the one ApiError schema",
        why: "PROVENANCE: error responses are shared components.responses whose shapes all fit one struct of \
              optional fields `{error, message, errors, nextVersion}`",
    },
    Rule {
        name: "required-path-parameters",
        what: "path parameters are required and never nullable",
        why: "PROVENANCE: path parameter `partNumber` is declared `required: false`, `nullable`; a path segment \
              cannot be absent",
    },
    Rule {
        name: "deprecated-never-required",
        what: "a property described \"DEPRECATED: use X\" is removed from `required` and marked `deprecated: true`",
        why: "PROVENANCE: some required fields are described \"DEPRECATED: use X\" (e.g. `gross` of fan spending \
              totals); a deprecated field may disappear, so the client must not require it",
    },
    Rule {
        name: "default-within-bounds",
        what: "a numeric `default` outside its own `minimum`/`maximum` is dropped",
        why: "the official document's `limit` of GET /creators/{creatorUserUuid}/subscribers/online says \
              `default: 1000` with `maximum: 50`: a client sending its default would be refused",
    },
    Rule {
        name: "bare-nullable-branch",
        what: "an `anyOf` branch that is only `{nullable: true}` is dropped and the `anyOf` made nullable",
        why: "PROVENANCE: one `anyOf` has a bare `{nullable: true}` branch (3.0 keyword in a 3.1 document)",
    },
    Rule {
        name: "batch-map-union",
        what: "a batch map value `anyOf: [object, {error}]` becomes `oneOf: [PerKeyError, object]` \
               (PerKeyError first, so an untagged decode tries it first)",
        why: "PROVENANCE: the batch endpoints answer maps whose values are either the object or \
              `PerKeyError {error}` (\"Batches keep partial results instead of failing the whole request\")",
    },
    Rule {
        name: "anyof-media",
        what: "any other `anyOf` of objects becomes a `oneOf`, which the subset merge turns into one object",
        why: "PROVENANCE: `GET /media/{uuid}` (and the creator variant) answers an `anyOf` of a short \
              `{uuid, status}` object and the full media object",
    },
    Rule {
        name: "hoist-inline-schemas",
        what: "inline objects and enums become named component schemas, named like the reference pages name \
               the same places",
        why: "PROVENANCE: 13 named schemas, everything else inline; the creator and agency variants then share \
              their types and names.yaml applies",
    },
];

/// What the reference page of an operation adds to the official document.
#[derive(Debug, Clone, Default)]
pub struct PageFacts {
    /// The page file (`chats/get-list-of-chats.md`).
    pub file: String,
    /// The page's group: the operation's tag.
    pub group: String,
    /// The page's `Reference:` URL.
    pub reference: Option<String>,
    /// The scopes the page names.
    pub scopes: Vec<String>,
}

/// A path-prefix → tag rule of names.yaml, for operations without a reference page.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagRule {
    /// A path template prefix, compared segment by segment (`/creators/{creatorUserUuid}`).
    pub prefix: String,
    /// The tag.
    pub tag: String,
}

/// The tag of `path` by the rules: the rule with the longest matching prefix (in segments).
pub fn tag_by_rule<'a>(rules: &'a [TagRule], path: &str) -> Option<&'a str> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    rules
        .iter()
        .filter_map(|r| {
            let pre: Vec<&str> = r.prefix.split('/').filter(|s| !s.is_empty()).collect();
            let matches = pre.len() <= segs.len()
                && pre.iter().zip(&segs).all(|(a, b)| {
                    a == b || (a.starts_with('{') && b.starts_with('{') && a.ends_with('}'))
                });
            matches.then_some((pre.len(), r.tag.as_str()))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, t)| t)
}

/// The tag of an operation no page or rule names: its first literal path segment in kebab-case
/// (`/webhooks/subscriptions` -> `webhooks`, `/trackingLinks` -> `tracking-links`); `default` when the path has
/// none.
pub fn segment_tag(path: &str) -> String {
    path.split('/')
        .find(|s| !s.is_empty() && !s.starts_with('{'))
        .map(|s| kebab(s).trim_matches('-').to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// `listChats` → `list-chats`; `getUserMediaByUuid` → `get-user-media-by-uuid`.
pub fn kebab(id: &str) -> String {
    let mut out = String::new();
    for (i, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('-') {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == '_' || c == ' ' {
            out.push('-');
        } else {
            out.push(c);
        }
    }
    out
}

/// The machine-made prefix of an operation's schemas in the reference pages: the path's segments in PascalCase,
/// then the method (`/chats/{userUuid}/messages` GET → `ChatsUserUuidMessagesGet`).
pub fn machine_base(method: &str, path: &str) -> String {
    let mut s: String = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(pascal)
        .collect();
    s.push_str(&pascal(method));
    s
}

/// Parses the official document (JSON).
pub fn parse(text: &str, file: &str) -> Result<Value, NormalizeError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| NormalizeError::NotAnOpenApiPage {
        file: file.to_string(),
        reason: format!("not JSON: {e}"),
    })?;
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.") {
        return Err(NormalizeError::NotAnOpenApiPage {
            file: file.to_string(),
            reason: format!("`openapi: {version}` is not OpenAPI 3"),
        });
    }
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err(NormalizeError::NotAnOpenApiPage {
            file: file.to_string(),
            reason: "no `paths` object".to_string(),
        });
    }
    Ok(doc)
}

/// One operation of the official document.
#[derive(Debug, Clone)]
pub struct OfficialOperation {
    /// Lower-case method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// The operation, with its `$ref` parameters and responses inlined (nothing else changed).
    pub value: Value,
}

/// The operations of the official document, `$ref` parameters and responses inlined, sorted by path and method.
pub fn operations(doc: &Value, file: &str) -> Result<Vec<OfficialOperation>, NormalizeError> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let mut op = op.clone();
            if !shared.is_empty()
                && let Some(obj) = op.as_object_mut()
            {
                let params = obj
                    .entry("parameters")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Some(params) = params.as_array_mut() {
                    for p in shared.iter().rev() {
                        params.insert(0, p.clone());
                    }
                }
            }
            inline_components(&mut op, doc, file, method, path)?;
            out.push(OfficialOperation {
                method: method.clone(),
                path: path.clone(),
                value: op,
            });
        }
    }
    out.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    Ok(out)
}

/// Rule `inline-components`.
fn inline_components(
    op: &mut Value,
    doc: &Value,
    file: &str,
    method: &str,
    path: &str,
) -> Result<(), NormalizeError> {
    let resolve = |v: &mut Value| -> Result<(), NormalizeError> {
        for _ in 0..8 {
            let Some(r) = v.get("$ref").and_then(Value::as_str).map(str::to_string) else {
                return Ok(());
            };
            let target = r
                .strip_prefix('#')
                .and_then(|p| doc.pointer(p))
                .ok_or_else(|| NormalizeError::DanglingRef {
                    file: format!("{file} ({} {path})", method.to_uppercase()),
                    line: None,
                    reference: r.clone(),
                })?;
            *v = target.clone();
        }
        Ok(())
    };
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            resolve(p)?;
        }
    }
    if let Some(body) = op.get_mut("requestBody") {
        resolve(body)?;
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        for r in responses.values_mut() {
            resolve(r)?;
        }
    }
    Ok(())
}

/// The synthetic pages of the official document: one per operation, with the tag, reference URL and scopes of
/// its reference page (`facts`, keyed by `METHOD /path`) or, without a page, the tag of the `tag_rules`, or,
/// when no rule matches either (a new area of the API), the tag of its first path segment ([`segment_tag`]).
/// Operations that get their tag by a rule that disagrees with their page's group, and operations tagged by
/// their first segment, are reported in `warnings`.
pub fn official_pages(
    doc: &Value,
    facts: &BTreeMap<String, PageFacts>,
    names: &Names,
    warnings: &mut Vec<String>,
) -> Result<Vec<Page>, NormalizeError> {
    let named = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut pages = Vec::new();
    for op in operations(doc, OFFICIAL_FILE)? {
        let key = format!("{} {}", op.method.to_uppercase(), op.path);
        let fact = facts.get(&key);
        let rule_tag = tag_by_rule(&names.tag_rules, &op.path);
        let group = match (fact, rule_tag) {
            (Some(f), Some(t)) => {
                if f.group != t {
                    warnings.push(format!(
                        "{key}: tagged `{}` by its page {} (the path rule of names.yaml says `{t}`)",
                        f.group, f.file
                    ));
                }
                f.group.clone()
            }
            (Some(f), None) => f.group.clone(),
            (None, Some(t)) => t.to_string(),
            (None, None) => {
                let tag = segment_tag(&op.path);
                warnings.push(format!(
                    "{key}: no reference page and no `tag_rules` prefix of openapi/names.yaml matches it: \
                     tagged `{tag}` from its first path segment (a `tag_rules` entry chooses another)"
                ));
                tag
            }
        };
        let mut value = op.value.clone();
        let camel_id = value
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| NormalizeError::NotAnOpenApiPage {
                file: OFFICIAL_FILE.to_string(),
                reason: format!("{key} has no operationId"),
            })?;
        fix_official_operation(&mut value, fact);
        let mut schemas = Map::new();
        hoist_operation(&mut value, &op.method, &op.path, &camel_id, &mut schemas);
        // The official named schemas the operation uses (transitively).
        let mut todo = Vec::new();
        walk::collect_refs(&value, &mut todo);
        walk::collect_refs(&Value::Object(schemas.clone()), &mut todo);
        while let Some(r) = todo.pop() {
            let Some(name) = walk::ref_name(&r) else {
                continue;
            };
            if schemas.contains_key(name) {
                continue;
            }
            if let Some(s) = named.get(name) {
                let mut s = s.clone();
                fix_schema(&mut s);
                walk::collect_refs(&s, &mut todo);
                schemas.insert(name.to_string(), s);
            }
        }
        let slug = kebab(&camel_id);
        let page_doc = json!({
            "openapi": "3.0.3",
            "paths": { op.path.clone(): { op.method.clone(): value } },
            "components": { "schemas": Value::Object(schemas) },
        });
        pages.push(Page {
            file: format!("{OFFICIAL_FILE} ({key})"),
            group,
            slug,
            title: op
                .value
                .get("summary")
                .and_then(Value::as_str)
                .map(str::to_string),
            reference: fact.and_then(|f| f.reference.clone()),
            text: String::new(),
            doc: page_doc,
        });
    }
    Ok(pages)
}

/// The per-operation rules (`kebab-operation-ids`, `error-bodies`, `required-path-parameters`) and the schema
/// rules on every schema of the operation.
pub fn fix_official_operation(op: &mut Value, fact: Option<&PageFacts>) {
    let Some(obj) = op.as_object_mut() else {
        return;
    };
    // `bearerAuth` is the document's one security requirement (top level).
    obj.remove("security");
    if let Some(id) = obj.get("operationId").and_then(Value::as_str) {
        let id = kebab(id);
        obj.insert("operationId".into(), Value::String(id));
    }
    // Scopes: the official description's, else the page's.
    let own = obj
        .get("description")
        .and_then(Value::as_str)
        .map(parse_scopes)
        .unwrap_or_default();
    if own.is_empty()
        && let Some(f) = fact
        && !f.scopes.is_empty()
    {
        obj.insert("x-fanvue-scopes".into(), json!(f.scopes));
    }
    if let Some(params) = obj.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            let is_path = p.get("in").and_then(Value::as_str) == Some("path");
            if let Some(s) = p.get_mut("schema") {
                fix_schema(s);
                if is_path && let Some(s) = s.as_object_mut() {
                    s.remove("nullable");
                }
            }
            if is_path && let Some(p) = p.as_object_mut() {
                p.insert("required".into(), Value::Bool(true));
            }
        }
    }
    if let Some(content) = obj
        .get_mut("requestBody")
        .and_then(|b| b.get_mut("content"))
        .and_then(Value::as_object_mut)
    {
        for media in content.values_mut() {
            if let Some(s) = media.get_mut("schema") {
                fix_schema(s);
            }
        }
    }
    if let Some(responses) = obj.get_mut("responses").and_then(Value::as_object_mut) {
        for (code, resp) in responses.iter_mut() {
            let Some(resp) = resp.as_object_mut() else {
                continue;
            };
            if is_error_status(code) {
                resp.remove("content");
                continue;
            }
            if let Some(content) = resp.get_mut("content").and_then(Value::as_object_mut) {
                for media in content.values_mut() {
                    if let Some(s) = media.get_mut("schema") {
                        fix_schema(s);
                    }
                }
            }
        }
    }
}

/// The schema rules, on `schema` and all its sub-schemas: `default-within-bounds`, `deprecated-never-required`,
/// `bare-nullable-branch`,
/// `batch-map-union`, `anyof-media`.
pub fn fix_schema(schema: &mut Value) {
    let _ = walk::for_each_child::<()>(schema, &mut |child, _, _| {
        fix_schema(child);
        Ok(())
    });
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    // default-within-bounds
    if let Some(d) = obj.get("default").and_then(Value::as_f64) {
        let below = obj
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| d < m);
        let above = obj
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| d > m);
        if below || above {
            obj.remove("default");
        }
    }
    // deprecated-never-required
    let deprecated: Vec<String> = obj
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter(|(_, p)| is_deprecated(p))
                .map(|(n, _)| n.clone())
                .collect()
        })
        .unwrap_or_default();
    if !deprecated.is_empty() {
        if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
            for n in &deprecated {
                if let Some(p) = props.get_mut(n).and_then(Value::as_object_mut) {
                    p.insert("deprecated".into(), Value::Bool(true));
                }
            }
        }
        if let Some(Value::Array(req)) = obj.get_mut("required") {
            req.retain(|r| {
                !r.as_str()
                    .is_some_and(|r| deprecated.iter().any(|d| d == r))
            });
            if req.is_empty() {
                obj.remove("required");
            }
        }
    }
    let Some(Value::Array(branches)) = obj.get("anyOf").cloned() else {
        return;
    };
    // bare-nullable-branch
    let mut branches: Vec<Value> = branches;
    let before = branches.len();
    branches.retain(|b| !is_bare_nullable(b));
    if branches.len() != before {
        obj.insert("nullable".into(), Value::Bool(true));
    }
    // batch-map-union: `{error}` objects become the PerKeyError reference, first.
    let (errors, others): (Vec<Value>, Vec<Value>) =
        branches.into_iter().partition(is_per_key_error_shape);
    let mut out = Vec::new();
    if !errors.is_empty() {
        out.push(json!({ "$ref": format!("{SCHEMA_REF}{PER_KEY_ERROR}") }));
    }
    out.extend(others);
    obj.remove("anyOf");
    if out.len() == 1 {
        // A single remaining branch: the schema itself.
        let only = out.remove(0);
        if let Value::Object(b) = only {
            for (k, v) in b {
                obj.entry(k).or_insert(v);
            }
        }
    } else {
        // anyof-media (and the union): `oneOf`.
        obj.insert("oneOf".into(), Value::Array(out));
    }
}

/// The official document's per-key error schema of batch endpoints.
pub const PER_KEY_ERROR: &str = "PerKeyError";

/// True for a property described "DEPRECATED...".
fn is_deprecated(p: &Value) -> bool {
    p.get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| d.trim_start().starts_with("DEPRECATED"))
        || p.get("deprecated") == Some(&Value::Bool(true))
}

/// `{nullable: true}` and nothing else (but a description).
fn is_bare_nullable(b: &Value) -> bool {
    b.as_object().is_some_and(|o| {
        o.get("nullable") == Some(&Value::Bool(true))
            && o.keys().all(|k| k == "nullable" || k == "description")
    })
}

/// An object whose only property is `error`, required: the shape of PerKeyError (or a reference to it).
fn is_per_key_error_shape(b: &Value) -> bool {
    if b.get("$ref").and_then(Value::as_str) == Some(&format!("{SCHEMA_REF}{PER_KEY_ERROR}")) {
        return true;
    }
    let Some(props) = b.get("properties").and_then(Value::as_object) else {
        return false;
    };
    props.len() == 1
        && props.contains_key("error")
        && b.get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|x| x == "error"))
}

/// Rule `hoist-inline-schemas` for one operation: parameters, request body, 2xx responses.
pub fn hoist_operation(
    op: &mut Value,
    method: &str,
    path: &str,
    camel_id: &str,
    out: &mut Map<String, Value>,
) {
    let base = machine_base(method, path);
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .map(pascal)
                .unwrap_or_default();
            if let Some(s) = p.get_mut("schema") {
                let n = format!("{base}Parameters{name}");
                visit(s, &n, &format!("{n}Schema"), None, true, out);
            }
        }
    }
    if let Some(content) = op
        .pointer_mut("/requestBody/content")
        .and_then(Value::as_object_mut)
    {
        for media in content.values_mut() {
            if let Some(s) = media.get_mut("schema") {
                let prefix = format!("{base}RequestBodyContentApplicationJsonSchema");
                // The body itself stays inline (the generated client names it after the operation).
                visit(s, &prefix, &prefix, None, false, out);
            }
        }
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        for (code, resp) in responses.iter_mut() {
            if is_error_status(code) {
                continue;
            }
            let Some(content) = resp.get_mut("content").and_then(Value::as_object_mut) else {
                continue;
            };
            for media in content.values_mut() {
                if let Some(s) = media.get_mut("schema") {
                    let name = format!("{camel_id}_Response_{code}");
                    let prefix = format!("{base}ResponsesContentApplicationJsonSchema");
                    let branch = format!("{}Response{code}", pascal(camel_id));
                    visit(s, &name, &prefix, Some(&branch), true, out);
                }
            }
        }
    }
}

/// Hoists the inline objects and enums under `schema` (children first), then `schema` itself as `name` when
/// `hoist_self`. `prefix` names the children (`<prefix><Property>`, `<prefix>Items`, `<prefix>Value`,
/// `<prefix>OneOf<i>`); `branches` names the `oneOf` branches of a response root (`<branches><i>`).
fn visit(
    schema: &mut Value,
    name: &str,
    prefix: &str,
    branches: Option<&str>,
    hoist_self: bool,
    out: &mut Map<String, Value>,
) {
    let _ = walk::for_each_child::<()>(schema, &mut |child, suffix, prop| {
        let (child_name, child_prefix) = if let Some(p) = prop {
            let n = format!("{prefix}{}", pascal(p));
            (n.clone(), n)
        } else if suffix == "/items" {
            let n = format!("{prefix}Items");
            (n.clone(), n)
        } else if suffix == "/additionalProperties" {
            let n = format!("{prefix}Value");
            (n.clone(), n)
        } else {
            let i = suffix.rsplit('/').next().unwrap_or("0");
            let n = format!("{prefix}OneOf{i}");
            let named = branches.map_or_else(|| n.clone(), |b| format!("{b}{i}"));
            (named, n)
        };
        visit(child, &child_name, &child_prefix, None, true, out);
        Ok(())
    });
    if hoist_self && hoistable(schema) {
        hoist(schema, name, out);
    }
}

/// An object with properties, an enum, or a `oneOf`.
fn hoistable(schema: &Value) -> bool {
    let Some(o) = schema.as_object() else {
        return false;
    };
    if o.contains_key("$ref") {
        return false;
    }
    o.get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
        || o.contains_key("enum")
        || o.contains_key("oneOf")
}

/// Moves `schema` into `out` as `name` (or `name2`, ... when taken by a different schema) and leaves a reference;
/// its `nullable` stays at the place of use (`allOf: [$ref], nullable: true`).
fn hoist(schema: &mut Value, name: &str, out: &mut Map<String, Value>) {
    let mut named = schema.clone();
    let nullable = named
        .as_object_mut()
        .and_then(|o| o.remove("nullable"))
        .is_some_and(|n| n == Value::Bool(true));
    let mut candidate = name.to_string();
    let mut n: usize = 1;
    while let Some(existing) = out.get(&candidate) {
        if *existing == named {
            break;
        }
        n = n.saturating_add(1);
        candidate = format!("{name}{n}");
    }
    out.insert(candidate.clone(), named);
    let reference = json!({ "$ref": format!("{SCHEMA_REF}{candidate}") });
    *schema = if nullable {
        json!({ "allOf": [reference], "nullable": true })
    } else {
        reference
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_outside_its_bounds_is_dropped() {
        let mut s = json!({ "type": "number", "default": 1000, "minimum": 1, "maximum": 50 });
        fix_schema(&mut s);
        assert_eq!(s, json!({ "type": "number", "minimum": 1, "maximum": 50 }));
        let mut ok = json!({ "type": "number", "default": 15, "minimum": 1, "maximum": 50 });
        fix_schema(&mut ok);
        assert_eq!(ok["default"], 15);
        let mut low = json!({ "type": "number", "default": 0, "minimum": 1 });
        fix_schema(&mut low);
        assert!(low.get("default").is_none());
    }

    #[test]
    fn kebab_ids() {
        assert_eq!(kebab("listChats"), "list-chats");
        assert_eq!(kebab("getUserMediaByUuid"), "get-user-media-by-uuid");
        assert_eq!(kebab("messagesBatch"), "messages-batch");
    }

    #[test]
    fn machine_bases() {
        assert_eq!(machine_base("get", "/chats"), "ChatsGet");
        assert_eq!(
            machine_base("get", "/chats/{userUuid}/messages"),
            "ChatsUserUuidMessagesGet"
        );
        assert_eq!(
            machine_base("get", "/insights/top-spenders"),
            "InsightsTopSpendersGet"
        );
    }

    #[test]
    fn tag_rules_longest_prefix() {
        let rules = vec![
            TagRule {
                prefix: "/chats".into(),
                tag: "chats".into(),
            },
            TagRule {
                prefix: "/chats/{userUuid}/message".into(),
                tag: "chat-messages".into(),
            },
        ];
        assert_eq!(
            tag_by_rule(&rules, "/chats/{x}/message"),
            Some("chat-messages")
        );
        assert_eq!(tag_by_rule(&rules, "/chats/{x}/media"), Some("chats"));
        assert_eq!(tag_by_rule(&rules, "/posts"), None);
        // A prefix matches whole segments only.
        assert_eq!(tag_by_rule(&rules, "/chatsx"), None);
    }

    #[test]
    fn segment_tags_of_new_areas() {
        assert_eq!(segment_tag("/webhooks/subscriptions"), "webhooks");
        assert_eq!(segment_tag("/webhooks/subscriptions/{uuid}"), "webhooks");
        assert_eq!(segment_tag("/trackingLinks/{id}"), "tracking-links");
        assert_eq!(segment_tag("/{tenant}/payouts"), "payouts");
        assert_eq!(segment_tag("/"), "default");
    }
}
