//! `cargo xtask public-api [--check]`: the public API of `fanvue-api-ext` as a
//! sorted text listing, from rustdoc's JSON output.
//!
//! Rustdoc's JSON backend is unstable; it is enabled on the stable toolchain
//! with `RUSTC_BOOTSTRAP=1` for this one `cargo rustdoc` run. The listing has
//! one line per public item reachable from the crate root (modules, types,
//! fields, variants, functions with their signatures, trait impls, constants,
//! re-exports), so any change of the API changes the file. `--check` fails
//! when the committed `fanvue-api-ext/public-api.txt` differs, naming the
//! lines added and removed and the command that updates it.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The crate whose API is listed.
pub const CRATE: &str = "fanvue-api-ext";
/// Where the listing is committed, relative to the workspace root.
pub const LISTING: &str = "fanvue-api-ext/public-api.txt";
/// The command that rewrites the listing.
pub const UPDATE_COMMAND: &str = "cargo xtask public-api";

/// Arguments of `cargo xtask public-api`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Compare with the committed listing instead of writing it.
    #[arg(long)]
    pub check: bool,
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum PublicApiError {
    /// A command could not be run or failed.
    #[error("`{command}` failed: {reason}")]
    Command {
        /// The command line.
        command: String,
        /// Its error or stderr.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Rustdoc's JSON is not what this reader understands.
    #[error("rustdoc JSON: {0}")]
    Json(String),
    /// The API differs from the committed listing.
    #[error(
        "the public API of {CRATE} differs from {LISTING}:\n{diff}\nIf the change is deliberate, run `{UPDATE_COMMAND}` and commit {LISTING}."
    )]
    Changed {
        /// Lines removed (`-`) and added (`+`).
        diff: String,
    },
}

/// Runs the command.
pub fn run(args: Args) -> Result<(), PublicApiError> {
    let root = workspace_root()?;
    let json = rustdoc_json(&root)?;
    let text = std::fs::read_to_string(&json).map_err(|source| PublicApiError::Io {
        path: json.clone(),
        source,
    })?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| PublicApiError::Json(e.to_string()))?;
    let listing = render(&doc)?;
    let path = root.join(LISTING);
    if args.check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let diff = diff(&committed, &listing);
        if diff.is_empty() {
            println!(
                "{LISTING} is up to date ({} lines)",
                listing.lines().count()
            );
            Ok(())
        } else {
            Err(PublicApiError::Changed { diff })
        }
    } else {
        std::fs::write(&path, &listing).map_err(|source| PublicApiError::Io {
            path: path.clone(),
            source,
        })?;
        println!("wrote {LISTING} ({} lines)", listing.lines().count());
        Ok(())
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn output(command: &mut Command) -> Result<Vec<u8>, PublicApiError> {
    let line = format!("{command:?}");
    let out = command.output().map_err(|e| PublicApiError::Command {
        command: line.clone(),
        reason: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(PublicApiError::Command {
            command: line,
            reason: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(out.stdout)
}

fn metadata() -> Result<Value, PublicApiError> {
    let out = output(Command::new(cargo()).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]))?;
    serde_json::from_slice(&out).map_err(|e| PublicApiError::Json(format!("cargo metadata: {e}")))
}

fn workspace_root() -> Result<PathBuf, PublicApiError> {
    metadata()?
        .get("workspace_root")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| PublicApiError::Json("cargo metadata: no workspace_root".into()))
}

/// Builds the crate's rustdoc JSON (all features) and returns its path.
fn rustdoc_json(root: &Path) -> Result<PathBuf, PublicApiError> {
    let target = metadata()?
        .get("target_directory")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| PublicApiError::Json("cargo metadata: no target_directory".into()))?;
    output(
        Command::new(cargo())
            .current_dir(root)
            .env("RUSTC_BOOTSTRAP", "1")
            .args([
                "rustdoc",
                "-p",
                CRATE,
                "--lib",
                "--all-features",
                "--",
                "-Z",
                "unstable-options",
                "--output-format",
                "json",
            ]),
    )?;
    Ok(target
        .join("doc")
        .join(format!("{}.json", CRATE.replace('-', "_"))))
}

/// Lines removed (`- `) and added (`+ `) between two listings.
pub fn diff(old: &str, new: &str) -> String {
    let old_lines: BTreeSet<&str> = old.lines().collect();
    let new_lines: BTreeSet<&str> = new.lines().collect();
    let mut out = String::new();
    for line in old_lines.difference(&new_lines) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in new_lines.difference(&old_lines) {
        out.push_str(&format!("+ {line}\n"));
    }
    out
}

/// The listing of a rustdoc JSON document: sorted lines, newline-terminated.
pub fn render(doc: &Value) -> Result<String, PublicApiError> {
    let index = doc
        .get("index")
        .and_then(Value::as_object)
        .ok_or_else(|| PublicApiError::Json("no `index`".into()))?;
    let root = doc
        .get("root")
        .ok_or_else(|| PublicApiError::Json("no `root`".into()))?;
    let root_item = index
        .get(&id_key(root))
        .ok_or_else(|| PublicApiError::Json("the root item is not in the index".into()))?;
    let crate_name = root_item
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("crate")
        .to_owned();
    let mut walker = Walker {
        index,
        lines: BTreeSet::new(),
        visiting: HashSet::new(),
    };
    walker.module(root_item, &crate_name);
    let mut text = String::new();
    for line in walker.lines {
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

/// An id as an `index` key (ids are numbers or strings depending on the format version).
fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Walker<'a> {
    index: &'a serde_json::Map<String, Value>,
    lines: BTreeSet<String>,
    /// Modules being walked (guards against re-export cycles).
    visiting: HashSet<String>,
}

fn inner(item: &Value) -> Option<(&str, &Value)> {
    let inner = item.get("inner")?.as_object()?;
    let (kind, value) = inner.iter().next()?;
    Some((kind.as_str(), value))
}

fn is_public(item: &Value) -> bool {
    item.get("visibility").and_then(Value::as_str) == Some("public")
}

fn name(item: &Value) -> &str {
    item.get("name").and_then(Value::as_str).unwrap_or("_")
}

fn ids(value: Option<&Value>) -> Vec<&Value> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

impl<'a> Walker<'a> {
    fn item(&self, id: &Value) -> Option<&'a Value> {
        self.index.get(&id_key(id))
    }

    fn module(&mut self, module: &Value, path: &str) {
        let key = format!(
            "{path}#{}",
            module.get("id").map(id_key).unwrap_or_default()
        );
        if !self.visiting.insert(key) {
            return;
        }
        let Some(("module", body)) = inner(module) else {
            return;
        };
        for id in ids(body.get("items")) {
            let Some(item) = self.item(id) else { continue };
            if !is_public(item) {
                continue;
            }
            self.public_item(item, path);
        }
    }

    fn public_item(&mut self, item: &Value, parent: &str) {
        let Some((kind, body)) = inner(item) else {
            return;
        };
        let path = format!("{parent}::{}", name(item));
        match kind {
            "module" => {
                self.lines.insert(format!("pub mod {path}"));
                self.module(item, &path);
            }
            "use" => self.reexport(body, parent),
            "struct" => {
                let generics = generics(body.get("generics"));
                self.lines.insert(format!(
                    "pub struct {path}{generics}{}",
                    struct_shape(self, body)
                ));
                self.fields_of(body, &path);
                self.impls(body, &path);
            }
            "enum" => {
                let generics = generics(body.get("generics"));
                self.lines.insert(format!("pub enum {path}{generics}"));
                for id in ids(body.get("variants")) {
                    if let Some(variant) = self.item(id) {
                        self.variant(variant, &path);
                    }
                }
                self.impls(body, &path);
            }
            "union" => {
                self.lines.insert(format!("pub union {path}"));
                self.impls(body, &path);
            }
            "trait" => {
                let generics = generics(body.get("generics"));
                let bounds = bounds(body.get("bounds"));
                let bounds = if bounds.is_empty() {
                    String::new()
                } else {
                    format!(": {bounds}")
                };
                self.lines
                    .insert(format!("pub trait {path}{generics}{bounds}"));
                for id in ids(body.get("items")) {
                    if let Some(member) = self.item(id) {
                        self.member(member, &path);
                    }
                }
            }
            "function" => {
                self.lines.insert(function(body, &path));
            }
            "type_alias" => {
                self.lines.insert(format!(
                    "pub type {path}{} = {}",
                    generics(body.get("generics")),
                    ty(body.get("type"))
                ));
            }
            "constant" => {
                self.lines
                    .insert(format!("pub const {path}: {}", ty(body.get("type"))));
            }
            "static" => {
                self.lines
                    .insert(format!("pub static {path}: {}", ty(body.get("type"))));
            }
            "macro" | "proc_macro" => {
                self.lines.insert(format!("pub macro {path}"));
            }
            other => {
                self.lines.insert(format!("pub {other} {path}"));
            }
        }
    }

    /// A `pub use`: local items are listed under the re-exported path;
    /// items of other crates are listed as the re-export itself.
    fn reexport(&mut self, body: &Value, parent: &str) {
        let source = body.get("source").and_then(Value::as_str).unwrap_or("_");
        let alias = body.get("name").and_then(Value::as_str).unwrap_or("_");
        let glob = body.get("is_glob").and_then(Value::as_bool) == Some(true);
        let target = body
            .get("id")
            .filter(|id| !id.is_null())
            .and_then(|id| self.item(id))
            .filter(|item| item.get("crate_id").and_then(Value::as_u64) == Some(0));
        match target {
            Some(item) if glob => {
                self.module(item, parent);
            }
            Some(item) => {
                let mut item = item.clone();
                if let Some(map) = item.as_object_mut() {
                    map.insert("name".into(), Value::String(alias.to_owned()));
                    map.insert("visibility".into(), Value::String("public".into()));
                }
                self.public_item(&item, parent);
            }
            None if glob => {
                self.lines
                    .insert(format!("pub use {parent}::* = {source}::*"));
            }
            None => {
                self.lines
                    .insert(format!("pub use {parent}::{alias} = {source}"));
            }
        }
    }

    fn fields_of(&mut self, body: &Value, path: &str) {
        let Some(kind) = body.get("kind") else { return };
        let fields = kind
            .get("plain")
            .and_then(|p| p.get("fields"))
            .or_else(|| kind.get("tuple"));
        for (index, id) in ids(fields).into_iter().enumerate() {
            if id.is_null() {
                continue;
            }
            let Some(field) = self.item(id) else { continue };
            if !is_public(field) {
                continue;
            }
            let Some((_, field_ty)) = inner(field) else {
                continue;
            };
            let field_name = match field.get("name").and_then(Value::as_str) {
                Some(n) if !n.chars().all(|c| c.is_ascii_digit()) => n.to_owned(),
                _ => index.to_string(),
            };
            self.lines
                .insert(format!("pub {path}::{field_name}: {}", ty(Some(field_ty))));
        }
    }

    fn variant(&mut self, variant: &Value, enum_path: &str) {
        let Some(("variant", body)) = inner(variant) else {
            return;
        };
        let path = format!("{enum_path}::{}", name(variant));
        let kind = body.get("kind");
        let shape = match kind {
            Some(Value::Object(map)) if map.contains_key("tuple") => {
                let parts: Vec<String> = ids(map.get("tuple"))
                    .into_iter()
                    .map(|id| {
                        self.item(id)
                            .and_then(inner)
                            .map(|(_, t)| ty(Some(t)))
                            .unwrap_or_else(|| "_".into())
                    })
                    .collect();
                format!("({})", parts.join(", "))
            }
            Some(Value::Object(map)) if map.contains_key("struct") => {
                let fields = map.get("struct").and_then(|s| s.get("fields"));
                for id in ids(fields) {
                    if let Some(field) = self.item(id)
                        && let Some((_, t)) = inner(field)
                    {
                        self.lines
                            .insert(format!("pub {path}::{}: {}", name(field), ty(Some(t))));
                    }
                }
                " { .. }".to_owned()
            }
            _ => String::new(),
        };
        self.lines.insert(format!("pub {path}{shape}"));
    }

    /// Inherent methods and trait impls (not auto traits or blanket impls).
    fn impls(&mut self, body: &Value, path: &str) {
        for id in ids(body.get("impls")) {
            let Some(imp) = self.item(id) else { continue };
            let Some(("impl", imp)) = inner(imp) else {
                continue;
            };
            if imp.get("is_synthetic").and_then(Value::as_bool) == Some(true)
                || imp.get("blanket_impl").is_some_and(|b| !b.is_null())
            {
                continue;
            }
            match imp.get("trait").filter(|t| !t.is_null()) {
                Some(tr) => {
                    let negative = if imp.get("is_negative").and_then(Value::as_bool) == Some(true)
                    {
                        "!"
                    } else {
                        ""
                    };
                    let for_args = imp
                        .get("for")
                        .and_then(|f| f.get("resolved_path"))
                        .map(|p| args(p.get("args")))
                        .unwrap_or_default();
                    self.lines.insert(format!(
                        "impl{} {negative}{} for {path}{for_args}",
                        generics(imp.get("generics")),
                        path_ty(tr),
                    ));
                }
                None => {
                    for id in ids(imp.get("items")) {
                        if let Some(member) = self.item(id)
                            && is_public(member)
                        {
                            self.member(member, path);
                        }
                    }
                }
            }
        }
    }

    /// A method, associated constant or type of a trait or inherent impl.
    fn member(&mut self, member: &Value, owner: &str) {
        let Some((kind, body)) = inner(member) else {
            return;
        };
        let path = format!("{owner}::{}", name(member));
        let line = match kind {
            "function" => {
                self.lines.insert(function(body, &path));
                return;
            }
            "assoc_const" => format!("const {path}: {}", ty(body.get("type"))),
            "assoc_type" => {
                let bounds = bounds(body.get("bounds"));
                let mut line = format!("type {path}");
                if !bounds.is_empty() {
                    line.push_str(&format!(": {bounds}"));
                }
                if let Some(t) = body.get("type").filter(|t| !t.is_null()) {
                    line.push_str(&format!(" = {}", ty(Some(t))));
                }
                line
            }
            other => format!("{other} {path}"),
        };
        self.lines.insert(format!("pub {line}"));
    }
}

fn struct_shape(walker: &Walker<'_>, body: &Value) -> String {
    match body.get("kind") {
        Some(Value::String(unit)) if unit == "unit" => ";".into(),
        Some(Value::Object(map)) if map.contains_key("tuple") => {
            let parts: Vec<String> = ids(map.get("tuple"))
                .into_iter()
                .map(|id| {
                    if id.is_null() {
                        return "_".to_owned();
                    }
                    walker
                        .item(id)
                        .and_then(inner)
                        .map(|(_, t)| ty(Some(t)))
                        .unwrap_or_else(|| "_".into())
                })
                .collect();
            format!("({})", parts.join(", "))
        }
        _ => String::new(),
    }
}

fn function(body: &Value, path: &str) -> String {
    let header = body.get("header");
    let flag = |name: &str| {
        header
            .and_then(|h| h.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let mut qualifiers = String::new();
    if flag("is_const") {
        qualifiers.push_str("const ");
    }
    if flag("is_async") {
        qualifiers.push_str("async ");
    }
    if flag("is_unsafe") {
        qualifiers.push_str("unsafe ");
    }
    let sig = body.get("sig");
    let inputs: Vec<String> = ids(sig.and_then(|s| s.get("inputs")))
        .into_iter()
        .map(|pair| {
            let arg = pair.get(0).and_then(Value::as_str).unwrap_or("_");
            let arg_ty = pair.get(1);
            match (arg, arg_ty.map(|t| ty(Some(t)))) {
                ("self", Some(t)) if t == "Self" => "self".to_owned(),
                ("self", Some(t)) if t == "&Self" => "&self".to_owned(),
                ("self", Some(t)) if t == "&mut Self" => "&mut self".to_owned(),
                (arg, Some(t)) => format!("{arg}: {t}"),
                (arg, None) => arg.to_owned(),
            }
        })
        .collect();
    let output = sig
        .and_then(|s| s.get("output"))
        .filter(|o| !o.is_null())
        .map(|o| format!(" -> {}", ty(Some(o))))
        .unwrap_or_default();
    let generics_value = body.get("generics");
    format!(
        "pub {qualifiers}fn {path}{}({}){output}{}",
        generics(generics_value),
        inputs.join(", "),
        where_clause(generics_value)
    )
}

/// `<'a, T: Bound>` (synthetic `impl Trait` parameters left out).
fn generics(value: Option<&Value>) -> String {
    let params: Vec<String> = ids(value.and_then(|g| g.get("params")))
        .into_iter()
        .filter_map(|param| {
            let name = param.get("name").and_then(Value::as_str).unwrap_or("_");
            let kind = param.get("kind")?;
            if let Some(t) = kind.get("type") {
                if t.get("is_synthetic").and_then(Value::as_bool) == Some(true) {
                    return None;
                }
                let bounds = bounds(t.get("bounds"));
                return Some(if bounds.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name}: {bounds}")
                });
            }
            if let Some(c) = kind.get("const") {
                return Some(format!("const {name}: {}", ty(c.get("type"))));
            }
            Some(name.to_owned())
        })
        .collect();
    if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    }
}

fn where_clause(value: Option<&Value>) -> String {
    let predicates: Vec<String> = ids(value.and_then(|g| g.get("where_predicates")))
        .into_iter()
        .filter_map(|p| {
            let bound = p.get("bound_predicate")?;
            Some(format!(
                "{}: {}",
                ty(bound.get("type")),
                bounds(bound.get("bounds"))
            ))
        })
        .collect();
    if predicates.is_empty() {
        String::new()
    } else {
        format!(" where {}", predicates.join(", "))
    }
}

fn bounds(value: Option<&Value>) -> String {
    ids(value)
        .into_iter()
        .map(|b| {
            if let Some(t) = b.get("trait_bound") {
                let modifier = match t.get("modifier").and_then(Value::as_str) {
                    Some("maybe") => "?",
                    _ => "",
                };
                format!(
                    "{modifier}{}",
                    t.get("trait").map(path_ty).unwrap_or_default()
                )
            } else if let Some(l) = b.get("outlives").and_then(Value::as_str) {
                l.to_owned()
            } else if b.get("use").is_some() {
                "use<..>".to_owned()
            } else {
                "_".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A resolved path with its generic arguments: `Result<T, Error>`.
fn path_ty(path: &Value) -> String {
    let name = path
        .get("path")
        .or_else(|| path.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("_");
    format!("{name}{}", args(path.get("args")))
}

fn args(value: Option<&Value>) -> String {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return String::new();
    };
    if let Some(angle) = value.get("angle_bracketed") {
        let mut parts: Vec<String> = ids(angle.get("args"))
            .into_iter()
            .map(|arg| {
                if let Some(t) = arg.get("type") {
                    ty(Some(t))
                } else if let Some(l) = arg.get("lifetime").and_then(Value::as_str) {
                    l.to_owned()
                } else if let Some(c) = arg.get("const") {
                    c.get("expr")
                        .and_then(Value::as_str)
                        .unwrap_or("_")
                        .to_owned()
                } else {
                    "_".to_owned()
                }
            })
            .collect();
        for constraint in ids(angle.get("constraints").or_else(|| angle.get("bindings"))) {
            let name = constraint
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("_");
            let binding = constraint.get("binding");
            let rhs = binding
                .and_then(|b| b.get("equality"))
                .map(|e| ty(e.get("type").or(Some(e))))
                .or_else(|| {
                    binding
                        .and_then(|b| b.get("constraint"))
                        .map(|c| bounds(Some(c)))
                })
                .unwrap_or_else(|| "_".into());
            parts.push(format!("{name} = {rhs}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("<{}>", parts.join(", "))
        }
    } else if let Some(paren) = value.get("parenthesized") {
        let inputs: Vec<String> = ids(paren.get("inputs"))
            .into_iter()
            .map(|t| ty(Some(t)))
            .collect();
        let output = paren
            .get("output")
            .filter(|o| !o.is_null())
            .map(|o| format!(" -> {}", ty(Some(o))))
            .unwrap_or_default();
        format!("({}){output}", inputs.join(", "))
    } else {
        String::new()
    }
}

/// Renders a rustdoc JSON type.
fn ty(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "_".into();
    };
    if let Some(s) = value.as_str() {
        return if s == "infer" {
            "_".into()
        } else {
            s.to_owned()
        };
    }
    let Some((kind, body)) = value.as_object().and_then(|m| m.iter().next()) else {
        return "_".into();
    };
    match kind.as_str() {
        "resolved_path" => path_ty(body),
        "generic" | "primitive" => body.as_str().unwrap_or("_").to_owned(),
        "borrowed_ref" => {
            let lifetime = body
                .get("lifetime")
                .and_then(Value::as_str)
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let mutability = if body.get("is_mutable").and_then(Value::as_bool) == Some(true) {
                "mut "
            } else {
                ""
            };
            format!("&{lifetime}{mutability}{}", ty(body.get("type")))
        }
        "raw_pointer" => {
            let mutability = if body.get("is_mutable").and_then(Value::as_bool) == Some(true) {
                "mut"
            } else {
                "const"
            };
            format!("*{mutability} {}", ty(body.get("type")))
        }
        "tuple" => {
            let parts: Vec<String> = ids(Some(body)).into_iter().map(|t| ty(Some(t))).collect();
            format!("({})", parts.join(", "))
        }
        "slice" => format!("[{}]", ty(Some(body))),
        "array" => format!(
            "[{}; {}]",
            ty(body.get("type")),
            body.get("len").and_then(Value::as_str).unwrap_or("_")
        ),
        "impl_trait" => format!("impl {}", bounds(Some(body))),
        "dyn_trait" => {
            let traits: Vec<String> = ids(body.get("traits"))
                .into_iter()
                .map(|t| t.get("trait").map(path_ty).unwrap_or_default())
                .collect();
            let lifetime = body
                .get("lifetime")
                .and_then(Value::as_str)
                .map(|l| format!(" + {l}"))
                .unwrap_or_default();
            format!("dyn {}{lifetime}", traits.join(" + "))
        }
        "qualified_path" => {
            let name = body.get("name").and_then(Value::as_str).unwrap_or("_");
            let self_type = ty(body.get("self_type"));
            match body.get("trait").filter(|t| !t.is_null()) {
                Some(tr) => format!("<{self_type} as {}>::{name}", path_ty(tr)),
                None => format!("{self_type}::{name}"),
            }
        }
        "function_pointer" => "fn(..)".to_owned(),
        "pat" => ty(body.get("type")),
        _ => "_".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_items_signatures_and_reexports() {
        let doc = json!({
            "root": 0,
            "index": {
                "0": {"id": 0, "crate_id": 0, "name": "demo", "visibility": "public",
                      "inner": {"module": {"is_crate": true, "items": [1, 2, 5, 6, 7]}}},
                "1": {"id": 1, "crate_id": 0, "name": "Policy", "visibility": "public",
                      "inner": {"struct": {"kind": {"plain": {"fields": [3], "has_stripped_fields": true}},
                                           "generics": {"params": [], "where_predicates": []},
                                           "impls": [4, 8]}}},
                "2": {"id": 2, "crate_id": 0, "name": "hidden", "visibility": "crate",
                      "inner": {"function": {}}},
                "3": {"id": 3, "crate_id": 0, "name": "attempts", "visibility": "public",
                      "inner": {"struct_field": {"primitive": "u32"}}},
                "4": {"id": 4, "crate_id": 0, "name": null, "visibility": "default",
                      "inner": {"impl": {"trait": null, "for": {"resolved_path": {"path": "Policy", "id": 1, "args": null}},
                                         "items": [9], "is_synthetic": false, "blanket_impl": null,
                                         "generics": {"params": [], "where_predicates": []}}}},
                "5": {"id": 5, "crate_id": 0, "name": "api", "visibility": "public",
                      "inner": {"use": {"source": "other_crate", "name": "api", "id": 100, "is_glob": false}}},
                "6": {"id": 6, "crate_id": 0, "name": "Kind", "visibility": "public",
                      "inner": {"enum": {"generics": {"params": [], "where_predicates": []},
                                         "variants": [10], "impls": []}}},
                "7": {"id": 7, "crate_id": 0, "name": "Alias", "visibility": "public",
                      "inner": {"use": {"source": "crate::Policy", "name": "Alias", "id": 1, "is_glob": false}}},
                "8": {"id": 8, "crate_id": 0, "name": null, "visibility": "default",
                      "inner": {"impl": {"trait": {"path": "Clone", "id": 50, "args": null},
                                         "for": {"resolved_path": {"path": "Policy", "id": 1, "args": null}},
                                         "items": [], "is_synthetic": false, "blanket_impl": null,
                                         "generics": {"params": [], "where_predicates": []}}}},
                "9": {"id": 9, "crate_id": 0, "name": "attempts", "visibility": "public",
                      "inner": {"function": {
                          "sig": {"inputs": [["self", {"borrowed_ref": {"lifetime": null, "is_mutable": false, "type": {"generic": "Self"}}}],
                                             ["extra", {"resolved_path": {"path": "Option", "id": 60,
                                                "args": {"angle_bracketed": {"args": [{"type": {"primitive": "u8"}}], "constraints": []}}}}]],
                                  "output": {"primitive": "u32"}},
                          "generics": {"params": [], "where_predicates": []},
                          "header": {"is_const": false, "is_async": false, "is_unsafe": false}}}},
                "10": {"id": 10, "crate_id": 0, "name": "Tuple", "visibility": "default",
                       "inner": {"variant": {"kind": {"tuple": [11]}}}},
                "11": {"id": 11, "crate_id": 0, "name": "0", "visibility": "default",
                       "inner": {"struct_field": {"resolved_path": {"path": "String", "id": 61, "args": null}}}}
            }
        });
        let listing = render(&doc).unwrap();
        let expected = "\
impl Clone for demo::Alias
impl Clone for demo::Policy
pub demo::Alias::attempts: u32
pub demo::Kind::Tuple(String)
pub demo::Policy::attempts: u32
pub enum demo::Kind
pub fn demo::Alias::attempts(&self, extra: Option<u8>) -> u32
pub fn demo::Policy::attempts(&self, extra: Option<u8>) -> u32
pub struct demo::Alias
pub struct demo::Policy
pub use demo::api = other_crate
";
        assert_eq!(listing, expected);
    }

    #[test]
    fn diff_names_removed_and_added_lines() {
        assert_eq!(diff("a\nb\n", "b\nc\n"), "- a\n+ c\n");
        assert_eq!(diff("a\n", "a\n"), "");
    }
}
