//! The cross-check of `cargo xtask check --official`: every difference between what a reference page says and
//! what the normalized document (the official document's shapes) says for the same operation.
//!
//! Both sides are compared after the same per-page fixes (3.0 conversion, header parameters removed, integer and
//! timestamp rules), so what is left is a real disagreement of the two inputs.
//!
//! Policy ([`Severity`]): a difference FAILS the check when the page has something the output lacks (an
//! operation, a parameter, a field, an enum value): the SDK would miss something the reference documents.
//! Everything else is reported only: what the official document has more (it is newer and richer), and
//! required/nullable/type/format/bound differences (the pages are a lossy rendering; the official document is the
//! authority). A failing difference that is known and accepted is listed in `openapi/crosscheck.yaml` with its
//! reason; an exception that matches nothing is itself an error (so stale exceptions do not pile up).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::normalize::walk;
use crate::normalize::{ProcessedPage, operations};

/// The schema keywords that bound a value (numbers, strings, arrays).
pub const BOUND_KEYWORDS: [&str; 8] = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
];

/// How much a difference matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Reported, does not fail the check.
    Report,
    /// Fails the check (unless excepted).
    Fail,
}

/// One difference between a page and the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Fail or report.
    pub severity: Severity,
    /// `METHOD /path`.
    pub operation: String,
    /// Where in the operation (`query page`, `response 200 .data[].createdAt`).
    pub place: String,
    /// What differs.
    pub what: String,
    /// The page.
    pub page: String,
    /// The exception of crosscheck.yaml that accepts it, if any.
    pub excepted: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match (self.severity, &self.excepted) {
            (Severity::Fail, None) => "FAIL",
            (Severity::Fail, Some(_)) => "accepted",
            (Severity::Report, _) => "note",
        };
        write!(
            f,
            "{tag:8} {} {}: {}",
            self.operation,
            if self.place.is_empty() {
                "-"
            } else {
                &self.place
            },
            self.what
        )?;
        if let Some(why) = &self.excepted {
            write!(f, " (exception: {why})")?;
        }
        Ok(())
    }
}

/// An accepted failing difference (openapi/crosscheck.yaml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// `METHOD /path`.
    pub operation: String,
    /// The place, exactly as the report prints it.
    pub place: String,
    /// Why it is accepted.
    pub why: String,
}

/// The exceptions file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exceptions {
    /// The accepted failing differences.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

impl Exceptions {
    /// Parses `crosscheck.yaml`.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_norway::from_str(text).map_err(|e| e.to_string())
    }
}

/// The cross-check of every page operation against the output document `doc`.
pub fn cross_check(pages: &[ProcessedPage], doc: &Value, exceptions: &Exceptions) -> Report {
    let out_schemas = object_at(doc, "/components/schemas");
    let mut diffs = Vec::new();
    for p in pages {
        for op in &p.operations {
            let key = format!("{} {}", op.method.to_uppercase(), op.path);
            let mut cx = Cx {
                operation: key.clone(),
                page: p.page.file.clone(),
                page_schemas: &p.schemas,
                out_schemas,
                out: &mut diffs,
            };
            let ptr = format!("/paths/{}/{}", walk::escape(&op.path), op.method);
            match doc.pointer(&ptr) {
                None => cx.push(
                    Severity::Fail,
                    "",
                    "the operation is on the page but not in the official document".into(),
                ),
                Some(out_op) => cx.operation(&op.value, out_op),
            }
        }
    }
    let mut used = vec![false; exceptions.exceptions.len()];
    for d in diffs.iter_mut().filter(|d| d.severity == Severity::Fail) {
        if let Some((i, e)) = exceptions
            .exceptions
            .iter()
            .enumerate()
            .find(|(_, e)| e.operation == d.operation && e.place == d.place)
        {
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            d.excepted = Some(e.why.clone());
        }
    }
    let unused = exceptions
        .exceptions
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(e, _)| format!("{} {}", e.operation, e.place))
        .collect();
    diffs.sort_by(|a, b| {
        (b.severity, &a.operation, &a.place, &a.what).cmp(&(
            a.severity,
            &b.operation,
            &b.place,
            &b.what,
        ))
    });
    Report { diffs, unused }
}

/// The result of [`cross_check`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every difference, failing ones first.
    pub diffs: Vec<Difference>,
    /// Exceptions that matched nothing (`METHOD /path place`).
    pub unused: Vec<String>,
}

impl Report {
    /// The failing differences no exception accepts.
    pub fn failures(&self) -> Vec<&Difference> {
        self.diffs
            .iter()
            .filter(|d| d.severity == Severity::Fail && d.excepted.is_none())
            .collect()
    }

    /// The failing differences no exception accepts plus the unused exceptions.
    pub fn failure_count(&self) -> usize {
        self.failures().len().saturating_add(self.unused.len())
    }

    /// True when the check passes: no unaccepted failure, no unused exception.
    pub fn passes(&self) -> bool {
        self.failures().is_empty() && self.unused.is_empty()
    }

    /// The readable report.
    pub fn render(&self) -> String {
        let fails = self.failures().len();
        let accepted = self.diffs.iter().filter(|d| d.excepted.is_some()).count();
        let notes = self
            .diffs
            .len()
            .saturating_sub(fails)
            .saturating_sub(accepted);
        let mut s = format!(
            "cross-check of the reference pages against the official document: {fails} failing, {accepted} \
             accepted by openapi/crosscheck.yaml, {notes} reported\n"
        );
        for d in &self.diffs {
            s.push_str(&format!("  {d}\n"));
        }
        for u in &self.unused {
            s.push_str(&format!(
                "  FAIL     exception of openapi/crosscheck.yaml matches nothing: {u}\n"
            ));
        }
        s
    }
}

struct Cx<'a> {
    operation: String,
    page: String,
    page_schemas: &'a Map<String, Value>,
    out_schemas: &'a Map<String, Value>,
    out: &'a mut Vec<Difference>,
}

/// Follows `$ref` and single-`allOf` wrappers; returns the schema and whether a wrapper said `nullable`.
fn resolve<'a>(mut v: &'a Value, schemas: &'a Map<String, Value>) -> (&'a Value, bool) {
    let mut nullable = v.get("nullable") == Some(&Value::Bool(true));
    for _ in 0..16 {
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            match walk::ref_name(r).and_then(|n| schemas.get(n)) {
                Some(t) => v = t,
                None => break,
            }
        } else if let Some([only]) = v.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            v = only;
        } else {
            break;
        }
        nullable |= v.get("nullable") == Some(&Value::Bool(true));
    }
    (v, nullable)
}

/// The JSON object at `pointer` (a JSON Pointer, e.g. `/responses`) in `v`, or an
/// empty map when there is none there or it is not an object.
fn object_at<'a>(v: &'a Value, pointer: &str) -> &'a Map<String, Value> {
    static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
    v.pointer(pointer)
        .and_then(Value::as_object)
        .unwrap_or(&EMPTY)
}

fn required(v: &Value) -> Vec<&str> {
    v.get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

impl Cx<'_> {
    fn push(&mut self, severity: Severity, place: &str, what: String) {
        self.out.push(Difference {
            severity,
            operation: self.operation.clone(),
            place: place.to_string(),
            what,
            page: self.page.clone(),
            excepted: None,
        });
    }

    fn operation(&mut self, page: &Value, out: &Value) {
        let params = |op: &Value| -> BTreeMap<(String, String), Value> {
            op.get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some((
                        (
                            p.get("in")?.as_str()?.to_string(),
                            p.get("name")?.as_str()?.to_string(),
                        ),
                        p.clone(),
                    ))
                })
                .collect()
        };
        let (pp, op) = (params(page), params(out));
        for ((loc, name), p) in &pp {
            let place = format!("{loc} {name}");
            match op.get(&(loc.clone(), name.clone())) {
                None => self.push(
                    Severity::Fail,
                    &place,
                    "parameter on the page, not in the official document".into(),
                ),
                Some(o) => {
                    if p.get("required") != o.get("required")
                        && (p.get("required") == Some(&Value::Bool(true))
                            || o.get("required") == Some(&Value::Bool(true)))
                    {
                        self.push(
                            Severity::Report,
                            &place,
                            format!(
                                "required: page {}, official {}",
                                p.get("required").unwrap_or(&Value::Bool(false)),
                                o.get("required").unwrap_or(&Value::Bool(false))
                            ),
                        );
                    }
                    if let (Some(ps), Some(os)) = (p.get("schema"), o.get("schema")) {
                        self.schema(ps, os, &place, 0);
                    }
                }
            }
        }
        for (loc, name) in op.keys().filter(|k| !pp.contains_key(*k)) {
            self.push(
                Severity::Report,
                &format!("{loc} {name}"),
                "parameter only in the official document".into(),
            );
        }
        let json_schema = |v: &Value, ptr: &str| -> Option<Value> {
            v.pointer(ptr)
                .and_then(|c| c.get("application/json"))
                .and_then(|m| m.get("schema"))
                .cloned()
        };
        if let Some(ps) = json_schema(page, "/requestBody/content") {
            match json_schema(out, "/requestBody/content") {
                Some(os) => self.schema(&ps, &os, "body", 0),
                None => self.push(
                    Severity::Fail,
                    "body",
                    "JSON body on the page, none in the official document".into(),
                ),
            }
        }
        let page_responses = object_at(page, "/responses");
        let out_responses = object_at(out, "/responses");
        for (code, pr) in page_responses {
            if operations::is_error_status(code) {
                continue;
            }
            let place = format!("response {code}");
            let Some(or) = out_responses.get(code) else {
                self.push(
                    Severity::Fail,
                    &place,
                    "status on the page, not in the official document".into(),
                );
                continue;
            };
            let ptypes: Vec<&String> = object_at(pr, "/content").keys().collect();
            let otypes: Vec<&String> = object_at(or, "/content").keys().collect();
            if ptypes != otypes {
                self.push(
                    Severity::Report,
                    &place,
                    format!("media types: page {ptypes:?}, official {otypes:?}"),
                );
            }
            if let (Some(ps), Some(os)) = (json_schema(pr, "/content"), json_schema(or, "/content"))
            {
                self.schema(&ps, &os, &place, 0);
            }
        }
    }

    fn schema(&mut self, page: &Value, out: &Value, place: &str, depth: usize) {
        if depth > 12 {
            return;
        }
        let (p, pn) = resolve(page, self.page_schemas);
        let (o, on) = resolve(out, self.out_schemas);
        if pn != on {
            self.push(
                Severity::Report,
                place,
                format!("nullable: page {pn}, official {on}"),
            );
        }
        for key in ["type", "format"].into_iter().chain(BOUND_KEYWORDS) {
            if p.get(key) != o.get(key) {
                self.push(
                    Severity::Report,
                    place,
                    format!(
                        "{key}: page {}, official {}",
                        p.get(key).unwrap_or(&Value::Null),
                        o.get(key).unwrap_or(&Value::Null)
                    ),
                );
            }
        }
        if let Some(pe) = p.get("enum").and_then(Value::as_array) {
            let oe: Vec<&Value> = o
                .get("enum")
                .and_then(Value::as_array)
                .map(|e| e.iter().collect())
                .unwrap_or_default();
            for v in pe.iter().filter(|v| !oe.contains(v)) {
                self.push(
                    Severity::Fail,
                    place,
                    format!("enum value {v} on the page, not in the official document"),
                );
            }
            let extra: Vec<String> = oe
                .iter()
                .filter(|v| !pe.contains(v))
                .map(|v| v.to_string())
                .collect();
            if !extra.is_empty() {
                self.push(
                    Severity::Report,
                    place,
                    format!(
                        "enum values only in the official document: {}",
                        extra.join(", ")
                    ),
                );
            }
        }
        let pprops = object_at(p, "/properties");
        let oprops = object_at(o, "/properties");
        let (preq, oreq) = (required(p), required(o));
        for (name, ps) in pprops {
            let child = format!("{place} .{name}");
            match oprops.get(name) {
                None => self.push(
                    Severity::Fail,
                    &child,
                    "field on the page, not in the official document".into(),
                ),
                Some(os) => {
                    let (pr, or) = (preq.contains(&name.as_str()), oreq.contains(&name.as_str()));
                    if pr != or {
                        self.push(
                            Severity::Report,
                            &child,
                            format!("required: page {pr}, official {or}"),
                        );
                    }
                    self.schema(ps, os, &child, depth.saturating_add(1));
                }
            }
        }
        let extra: Vec<&String> = oprops.keys().filter(|k| !pprops.contains_key(*k)).collect();
        if !extra.is_empty() {
            self.push(
                Severity::Report,
                place,
                format!(
                    "fields only in the official document: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if let (Some(pi), Some(oi)) = (p.get("items"), o.get("items")) {
            self.schema(pi, oi, &format!("{place}[]"), depth.saturating_add(1));
        }
        if let (Some(pa), Some(oa)) = (
            p.get("additionalProperties").filter(|v| v.is_object()),
            o.get("additionalProperties").filter(|v| v.is_object()),
        ) {
            self.schema(pa, oa, &format!("{place}{{}}"), depth.saturating_add(1));
        }
    }
}
