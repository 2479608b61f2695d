//! `cargo xtask normalize --from DIR`: Fanvue's reference pages → one OpenAPI 3.0.3 document,
//! `openapi/fanvue.json`.
//!
//! Per page: extract the YAML block ([`page`]), convert 3.1 to 3.0 ([`convert31`]), fix the operation
//! ([`operations`]), apply the integer rules ([`numbers`]), merge subset `oneOf`s ([`oneof`]) and hoist inline enums
//! ([`enums`]). Then all pages: drop duplicate operations ([`duplicates`]), merge and name the schemas ([`merge`],
//! [`naming`]), apply the overlay ([`overlay`]), drop unused schemas, validate and render ([`output`]).

pub mod convert31;
pub mod duplicates;
pub mod enums;
pub mod error;
pub mod fingerprint;
pub mod merge;
pub mod naming;
pub mod numbers;
pub mod official;
pub mod oneof;
pub mod operations;
pub mod output;
pub mod overlay;
pub mod page;
pub mod walk;
pub mod webhooks;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

pub use error::NormalizeError;
use naming::Names;
use numbers::NumberRules;
use overlay::Overlay;
use page::Page;
use walk::{RootKind, SCHEMA_REF};

/// The file `normalize` writes in the openapi folder.
pub const OUTPUT_FILE: &str = "fanvue.json";
/// The naming decisions, in the openapi folder.
pub const NAMES_FILE: &str = "names.yaml";
/// The integer rules, in the openapi folder.
pub const NUMBERS_FILE: &str = "numbers.yaml";
/// The overlay, in the openapi folder.
pub const OVERLAY_FILE: &str = "overlay.yaml";

/// The API host.
pub const SERVER_URL: &str = "https://api.fanvue.com";

/// Arguments of `cargo xtask normalize` (and of `cargo xtask check`).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder of reference pages, `<group>/<slug>.md` (as written by `cargo xtask fetch`).
    #[arg(long)]
    pub from: PathBuf,
    /// Fanvue's official OpenAPI document (`openapi.json`, as written by `cargo xtask fetch`): the authority for
    /// shapes. Without it the spec is built from the reference pages alone (their 75 pages).
    #[arg(long)]
    pub official: Option<PathBuf>,
    /// The openapi folder: names.yaml, numbers.yaml and overlay.yaml are read there, fanvue.json is written
    /// (normalize) or compared (check) there. Defaults to `openapi/` of the workspace.
    #[arg(long)]
    pub openapi_dir: Option<PathBuf>,
}

impl Args {
    /// The openapi folder: `--openapi-dir`, else `openapi/` of the workspace.
    pub fn openapi_dir(&self) -> PathBuf {
        self.openapi_dir
            .clone()
            .unwrap_or_else(|| crate::workspace_root().join("openapi"))
    }
}

/// Runs `cargo xtask normalize`.
pub fn run(args: Args) -> Result<(), NormalizeError> {
    let dir = args.openapi_dir();
    let inputs = Inputs::load(&dir)?;
    let result = match &args.official {
        Some(official) => normalize_with_official(&args.from, official, &inputs)?,
        None => normalize_dir(&args.from, &inputs)?,
    };
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let target = dir.join(OUTPUT_FILE);
    write_spec(&dir, &result.text)?;
    eprintln!(
        "wrote {} ({} operations, {} schemas)",
        target.display(),
        result.operation_count(),
        result.schema_count()
    );
    if webhooks::has_overlay(&dir) {
        let hooks = webhooks::normalize(&dir, &inputs.numbers)?;
        webhooks::write(&dir, &hooks)?;
        eprintln!(
            "wrote {} ({} webhook events)",
            dir.join(webhooks::WEBHOOKS_OUTPUT).display(),
            hooks.event_count()
        );
    }
    Ok(())
}

/// The copy of the spec inside the `fanvue-api` crate (so that the published crate carries it), relative to the
/// workspace root. Kept in sync by `normalize` and compared by `check` when it is a regular file (a symlink to
/// `openapi/fanvue.json` needs nothing).
pub const CRATE_COPY: &str = "fanvue-api/openapi/fanvue.json";

/// The crate copy of the spec for the openapi folder `openapi_dir` (`<openapi_dir>/../fanvue-api/openapi/...`),
/// when it exists as a regular file.
pub fn crate_copy(openapi_dir: &Path) -> Option<PathBuf> {
    let root = openapi_dir.parent()?;
    let path = root.join(CRATE_COPY);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    meta.file_type().is_file().then_some(path)
}

/// Writes the spec `text` to `openapi_dir/fanvue.json` and to its crate copy ([`crate_copy`]) when there is one.
pub fn write_spec(openapi_dir: &Path, text: &str) -> Result<(), NormalizeError> {
    write_atomically(&openapi_dir.join(OUTPUT_FILE), text)?;
    if let Some(copy) = crate_copy(openapi_dir) {
        write_atomically(&copy, text)?;
    }
    Ok(())
}

/// Writes `text` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), NormalizeError> {
    let io = |source| NormalizeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The hand-kept inputs of the openapi folder.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `names.yaml`.
    pub names: Names,
    /// `numbers.yaml`.
    pub numbers: NumberRules,
    /// `overlay.yaml`.
    pub overlay: Overlay,
}

impl Inputs {
    /// Reads names.yaml, numbers.yaml and overlay.yaml from `dir`.
    pub fn load(dir: &Path) -> Result<Self, NormalizeError> {
        let read = |name: &str| -> Result<String, NormalizeError> {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| NormalizeError::Io { path, source })
        };
        let config = |name: &str, message: String| NormalizeError::Config {
            file: format!("openapi/{name}"),
            message,
        };
        Ok(Inputs {
            names: Names::from_yaml(&read(NAMES_FILE)?).map_err(|m| config(NAMES_FILE, m))?,
            numbers: NumberRules::from_yaml(&read(NUMBERS_FILE)?)
                .map_err(|m| config(NUMBERS_FILE, m))?,
            overlay: Overlay::from_yaml(&read(OVERLAY_FILE)?)
                .map_err(|m| config(OVERLAY_FILE, m))?,
        })
    }
}

/// The normalized document.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The document.
    pub doc: Value,
    /// Its committed text ([`output::render`]).
    pub text: String,
    /// What was reported along the way (pages whose content is not what their name says, dropped duplicates).
    pub warnings: Vec<String>,
    /// With the official document: the reference pages after their per-page fixes (for the cross-check).
    pub pages: Vec<ProcessedPage>,
}

impl Normalized {
    /// The number of operations.
    pub fn operation_count(&self) -> usize {
        count_operations(&self.doc)
    }

    /// The number of component schemas.
    pub fn schema_count(&self) -> usize {
        self.doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map_or(0, Map::len)
    }
}

/// The number of operations in an OpenAPI document.
pub fn count_operations(doc: &Value) -> usize {
    doc.get("paths")
        .and_then(Value::as_object)
        .map_or(0, |paths| {
            paths
                .values()
                .filter_map(Value::as_object)
                .map(|item| {
                    item.keys()
                        .filter(|k| walk::METHODS.contains(&k.as_str()))
                        .count()
                })
                .sum()
        })
}

/// Reads every `<group>/<slug>.md` under `dir` (sorted by path).
pub fn read_pages(dir: &Path) -> Result<Vec<Page>, NormalizeError> {
    let io = |path: &Path, source| NormalizeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for group in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let group = group.map_err(|e| io(dir, e))?.path();
        if !group.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&group).map_err(|e| io(&group, e))? {
            let path = entry.map_err(|e| io(&group, e))?.path();
            if path.extension().is_some_and(|e| e == "md") && path.is_file() {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((rel, path));
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(NormalizeError::NoPages {
            dir: dir.to_path_buf(),
        });
    }
    files
        .into_iter()
        .map(|(rel, path)| {
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            page::parse_page(&rel, &text)
        })
        .collect()
}

/// Normalizes the pages of `dir`.
pub fn normalize_dir(dir: &Path, inputs: &Inputs) -> Result<Normalized, NormalizeError> {
    normalize_pages(read_pages(dir)?, inputs)
}

/// One operation of a page, fixed, with page-local references.
#[derive(Debug, Clone)]
pub struct PageOperation {
    /// Lower-case method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// The operation object.
    pub value: Value,
}

/// A page after the per-page fixes.
#[derive(Debug, Clone)]
pub struct ProcessedPage {
    /// The page as read (its `doc` untouched).
    pub page: Page,
    /// Its operations.
    pub operations: Vec<PageOperation>,
    /// Its schemas (page-local names and references).
    pub schemas: Map<String, Value>,
    /// The pinned API version it states.
    pub api_version: Option<String>,
}

/// Schemas every document has, whatever the pages say.
const BUILTIN_SCHEMAS: [&str; 1] = [operations::API_ERROR];

/// Applies the per-page fixes to `page`.
pub fn process_page(page: Page, numbers: &NumberRules) -> Result<ProcessedPage, NormalizeError> {
    let mut doc = page.doc.clone();
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.") {
        return Err(NormalizeError::NotAnOpenApiPage {
            file: page.file.clone(),
            reason: format!("`openapi: {version}` is not OpenAPI 3"),
        });
    }

    // 3.1 → 3.0 (and `- value: x` enums).
    walk::for_each_root(&mut doc, &mut |schema, _, ptr, _| {
        convert31::convert(schema, ptr)
    })
    .map_err(|u| NormalizeError::Unsupported {
        file: page.file.clone(),
        line: if u.needle.is_empty() {
            None
        } else {
            page.line_of(&u.needle)
        },
        construct: u.construct,
        pointer: u.pointer,
    })?;

    // The operations themselves.
    let info = operations::PageInfo {
        group: &page.group,
        reference: page.reference.as_deref(),
    };
    let mut api_version = None;
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if walk::METHODS.contains(&method.as_str()) {
                    let facts = operations::fix_operation(op, &info);
                    if facts.api_version.is_some() {
                        api_version = facts.api_version;
                    }
                }
            }
        }
    }

    // Integers, cents and decimals (parameters by their own name and description).
    numbers.apply_parameters(&mut doc);
    let _ = walk::for_each_root::<()>(&mut doc, &mut |schema, kind, _, _| {
        if !matches!(kind, RootKind::Parameter(_)) {
            numbers.apply(schema, None);
        }
        Ok(())
    });

    let before = reached_schemas(&doc);
    oneof::fix_oneofs(&mut doc);
    // The variants of a merged `oneOf` are no longer used: they are dropped, so they get no name.
    let after = reached_schemas(&doc);
    if let Some(s) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        s.retain(|name, _| !before.contains(name) || after.contains(name));
    }
    enums::hoist_enums(&mut doc);
    check_refs(&page, &doc)?;

    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut ops = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if walk::METHODS.contains(&method.as_str()) {
                    if !op.get("operationId").is_some_and(Value::is_string) {
                        return Err(NormalizeError::NotAnOpenApiPage {
                            file: page.file.clone(),
                            reason: format!("{} {path} has no operationId", method.to_uppercase()),
                        });
                    }
                    ops.push(PageOperation {
                        method: method.clone(),
                        path: path.clone(),
                        value: op.clone(),
                    });
                }
            }
        }
    }
    if ops.is_empty() {
        return Err(NormalizeError::NotAnOpenApiPage {
            file: page.file.clone(),
            reason: "no operation under `paths`".to_string(),
        });
    }
    Ok(ProcessedPage {
        page,
        operations: ops,
        schemas,
        api_version,
    })
}

/// Every `$ref` of the page must name one of its schemas (or a built-in one).
fn check_refs(page: &Page, doc: &Value) -> Result<(), NormalizeError> {
    let mut refs = Vec::new();
    walk::collect_refs(doc, &mut refs);
    for r in refs {
        let ok = match walk::ref_name(&r) {
            Some(name) => {
                BUILTIN_SCHEMAS.contains(&name)
                    || doc
                        .pointer(&format!("/components/schemas/{}", walk::escape(name)))
                        .is_some()
            }
            None => false,
        };
        if !ok {
            let needle = walk::ref_name(&r).unwrap_or(&r).to_string();
            return Err(NormalizeError::DanglingRef {
                file: page.file.clone(),
                line: page.line_of(&needle),
                reference: r,
            });
        }
    }
    Ok(())
}

/// Normalizes the pages of `pages_dir` and the official document at `official` into one document: the official
/// document's operations and shapes, with the pages' tags, reference URLs and (where the official document names
/// none) scopes.
pub fn normalize_with_official(
    pages_dir: &Path,
    official: &Path,
    inputs: &Inputs,
) -> Result<Normalized, NormalizeError> {
    let text = std::fs::read_to_string(official).map_err(|source| NormalizeError::Io {
        path: official.to_path_buf(),
        source,
    })?;
    let doc = official::parse(&text, &official.display().to_string())?;
    normalize_official(read_pages(pages_dir)?, &doc, inputs)
}

/// Normalizes already-read pages and an already-parsed official document (see [`normalize_with_official`]).
pub fn normalize_official(
    pages: Vec<Page>,
    official_doc: &Value,
    inputs: &Inputs,
) -> Result<Normalized, NormalizeError> {
    let mut processed = pages
        .into_iter()
        .map(|p| process_page(p, &inputs.numbers))
        .collect::<Result<Vec<_>, _>>()?;
    let mut warnings = duplicates::misnamed_pages(&processed);
    warnings.extend(duplicates::drop_duplicates(&mut processed)?);
    let facts = page_facts(&processed);
    let synthetic = official::official_pages(official_doc, &facts, &inputs.names, &mut warnings)?;
    let synthetic = synthetic
        .into_iter()
        .map(|p| process_page(p, &inputs.numbers))
        .collect::<Result<Vec<_>, _>>()?;
    let mut result = assemble(synthetic, inputs, warnings)?;
    result.pages = processed;
    Ok(result)
}

/// What each page adds to the official document, by `METHOD /path`.
pub fn page_facts(processed: &[ProcessedPage]) -> BTreeMap<String, official::PageFacts> {
    let mut facts = BTreeMap::new();
    for p in processed {
        for op in &p.operations {
            let scopes = op
                .value
                .get("x-fanvue-scopes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            facts.insert(
                format!("{} {}", op.method.to_uppercase(), op.path),
                official::PageFacts {
                    file: p.page.file.clone(),
                    group: p.page.group.clone(),
                    reference: p.page.reference.clone(),
                    scopes,
                },
            );
        }
    }
    facts
}

/// Normalizes already-read pages.
pub fn normalize_pages(pages: Vec<Page>, inputs: &Inputs) -> Result<Normalized, NormalizeError> {
    let mut processed = pages
        .into_iter()
        .map(|p| process_page(p, &inputs.numbers))
        .collect::<Result<Vec<_>, _>>()?;
    let mut warnings = duplicates::misnamed_pages(&processed);
    warnings.extend(duplicates::drop_duplicates(&mut processed)?);
    assemble(processed, inputs, warnings)
}

/// Merges processed pages (duplicates already dropped) into the final document.
fn assemble(
    processed: Vec<ProcessedPage>,
    inputs: &Inputs,
    warnings: Vec<String>,
) -> Result<Normalized, NormalizeError> {
    // The pinned API version: every page that states one must agree.
    let mut version: Option<(String, String)> = None;
    for p in &processed {
        if let Some(v) = &p.api_version {
            match &version {
                None => version = Some((v.clone(), p.page.file.clone())),
                Some((expected, first_file)) if expected != v => {
                    return Err(NormalizeError::VersionMismatch {
                        file: p.page.file.clone(),
                        found: v.clone(),
                        expected: expected.clone(),
                        first_file: first_file.clone(),
                    });
                }
                Some(_) => {}
            }
        }
    }
    let (version, _) = version.ok_or(NormalizeError::NoVersion)?;

    // Schemas of all pages.
    let page_schemas: Vec<merge::PageSchemas<'_>> = processed
        .iter()
        .map(|p| merge::PageSchemas {
            file: &p.page.file,
            operation: walk::pascal(
                p.operations
                    .first()
                    .and_then(|o| o.value.get("operationId"))
                    .and_then(Value::as_str)
                    .unwrap_or(&p.page.slug),
            ),
            schemas: &p.schemas,
        })
        .collect();
    let merged = merge::merge(&page_schemas, &inputs.names, &BUILTIN_SCHEMAS)?;

    let mut paths = Map::new();
    for (idx, p) in processed.iter().enumerate() {
        for op in &p.operations {
            let mut value = op.value.clone();
            if let Some(renames) = merged.renames.get(idx) {
                merge::rename_refs(&mut value, renames);
            }
            let item = paths
                .entry(op.path.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(item) = item.as_object_mut() {
                item.insert(op.method.clone(), value);
            }
        }
    }
    let mut schemas: Map<String, Value> = merged.schemas.into_iter().collect();
    schemas.insert(operations::API_ERROR.into(), operations::api_error_schema());

    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Fanvue API",
            "description": "The Fanvue API (api.fanvue.com), normalized by `cargo xtask normalize` from Fanvue's \
                            official OpenAPI document and API reference pages. `info.version` is the pinned API \
                            version, sent as the `X-Fanvue-API-Version` header on every request.",
            "version": version,
        },
        "servers": [{ "url": SERVER_URL }],
        "security": [{ "bearerAuth": [] }],
        "paths": Value::Object(paths),
        "components": {
            "schemas": Value::Object(schemas),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An OAuth 2.0 access token from https://auth.fanvue.com, sent as `Authorization: Bearer <token>`."
                }
            }
        }
    });

    inputs.overlay.apply(&mut doc)?;
    set_tags(&mut doc, &inputs.names);
    drop_unused_schemas(&mut doc);
    check_final_refs(&doc)?;
    check_operation_ids(&doc)?;
    validate(&doc)?;
    let text = output::render(&doc);
    Ok(Normalized {
        doc,
        text,
        warnings,
        pages: Vec::new(),
    })
}

/// The top-level `tags`: every tag an operation uses (after the overlay), with its description from names.yaml.
fn set_tags(doc: &mut Value, names: &Names) {
    let mut groups = BTreeSet::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values().filter_map(Value::as_object) {
            for op in item.values() {
                for tag in op
                    .get("tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(t) = tag.as_str() {
                        groups.insert(t.to_string());
                    }
                }
            }
        }
    }
    let tags: Vec<Value> = groups
        .iter()
        .map(|g| {
            let description = names.tags.get(g).cloned().unwrap_or_else(|| {
                format!("Operations of the `{g}` group of Fanvue's API reference.")
            });
            json!({ "name": g, "description": description })
        })
        .collect();

    if let Some(root) = doc.as_object_mut() {
        root.insert("tags".into(), Value::Array(tags));
    }
}

/// Removes component schemas no operation reaches (e.g. the variants of a merged `oneOf`).
fn drop_unused_schemas(doc: &mut Value) {
    let reached = reached_schemas(doc);
    if let Some(s) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        s.retain(|name, _| reached.contains(name));
    }
}

/// The component schemas the operations reach (transitively).
fn reached_schemas(doc: &Value) -> BTreeSet<String> {
    let empty = Map::new();
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut todo = Vec::new();
    if let Some(paths) = doc.get("paths") {
        walk::collect_refs(paths, &mut todo);
    }
    while let Some(r) = todo.pop() {
        let Some(name) = walk::ref_name(&r) else {
            continue;
        };
        if reached.insert(name.to_string())
            && let Some(s) = schemas.get(name)
        {
            walk::collect_refs(s, &mut todo);
        }
    }
    reached
}

/// Every reference of the final document resolves (the overlay may name schemas that do not exist).
fn check_final_refs(doc: &Value) -> Result<(), NormalizeError> {
    let mut refs = Vec::new();
    walk::collect_refs(doc, &mut refs);
    let refs: BTreeSet<String> = refs.into_iter().collect();
    for r in refs {
        let ok = r.starts_with(SCHEMA_REF) && doc.pointer(&r[1..]).is_some();
        if !ok {
            return Err(NormalizeError::DanglingRef {
                file: format!("openapi/{OVERLAY_FILE}"),
                line: None,
                reference: r,
            });
        }
    }
    Ok(())
}

/// operationIds are unique.
fn check_operation_ids(doc: &Value) -> Result<(), NormalizeError> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Ok(());
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let here = format!("{} {path}", method.to_uppercase());
            if let Some(first) = seen.insert(id.to_string(), here.clone()) {
                return Err(NormalizeError::DuplicateOperationId {
                    operation_id: id.to_string(),
                    first,
                    second: here,
                });
            }
        }
    }
    Ok(())
}

/// The document parses with the `openapiv3` crate (what progenitor reads).
pub fn validate(doc: &Value) -> Result<openapiv3::OpenAPI, NormalizeError> {
    serde_json::from_value::<openapiv3::OpenAPI>(doc.clone())
        .map_err(|e| NormalizeError::InvalidResult(e.to_string()))
}
