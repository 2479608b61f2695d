//! The bounds table: every `minimum`/`maximum`/`exclusive*`/`minLength`/
//! `maxLength`/`minItems`/`maxItems` of every operation's path and query
//! parameters and JSON request body, plus the `type: integer`, `format` and
//! `enum` of path and query parameters (and of their array items), read from
//! the raw document and emitted as `operation_bounds(id) -> &'static [Bound]`
//! (see `src/bounds.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::{Map, Value};

/// One bound found in the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// `Path`, `Query` or `Body`.
    pub place: &'static str,
    /// Parameter name (`/*` appended for array elements) or JSON pointer.
    pub target: String,
    /// `Minimum`, `MaxLength`, ..., `Integer`, `Format`, `Enum`.
    pub rule: &'static str,
    /// The bound's value (numeric rules).
    pub value: f64,
    /// The `format` (rule `Format`) or the allowed values (rule `Enum`).
    pub words: Vec<String>,
}

/// The bounds of every operation, by operationId, in spec order.
pub fn collect(doc: &Value) -> Vec<(String, Vec<Found>)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for item in paths.values() {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        for (method, op) in item {
            if !matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options" | "trace"
            ) {
                continue;
            }
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let mut found = Vec::new();
            let own = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|p| p.iter().collect::<Vec<_>>())
                .unwrap_or_default();
            for param in shared.iter().chain(own.iter()) {
                let param = resolve(doc, param);
                let place = match param.get("in").and_then(Value::as_str) {
                    Some("path") => "Path",
                    Some("query") => "Query",
                    _ => continue,
                };
                let (Some(name), Some(schema)) = (
                    param.get("name").and_then(Value::as_str),
                    param.get("schema"),
                ) else {
                    continue;
                };
                let schema = resolve(doc, schema);
                rules(schema, place, name, &mut found);
                type_rules(schema, place, name, &mut found);
                if let Some(items) = schema.get("items") {
                    let target = format!("{name}/*");
                    rules(resolve(doc, items), place, &target, &mut found);
                    type_rules(resolve(doc, items), place, &target, &mut found);
                }
            }
            if let Some(body) = op
                .get("requestBody")
                .map(|b| resolve(doc, b))
                .and_then(|b| b.get("content"))
                .and_then(|c| c.get("application/json"))
                .and_then(|c| c.get("schema"))
            {
                body_rules(doc, body, String::new(), 0, &mut found);
            }
            dedup(&mut found);
            out.push((id.to_string(), found));
        }
    }
    out
}

fn dedup(found: &mut Vec<Found>) {
    let mut seen = Vec::new();
    found.retain(|f| {
        if seen.contains(f) {
            false
        } else {
            seen.push(f.clone());
            true
        }
    });
}

/// Follows `$ref`s (to any component).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..32 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let Some(pointer) = reference.strip_prefix('#') else {
            return value;
        };
        match doc.pointer(pointer) {
            Some(target) => value = target,
            None => return value,
        }
    }
    value
}

fn body_rules(doc: &Value, schema: &Value, pointer: String, depth: usize, found: &mut Vec<Found>) {
    // Recursive schemas stop here (no spec nests anywhere near this deep).
    if depth > 16 {
        return;
    }
    let schema = resolve(doc, schema);
    rules(schema, "Body", &pointer, found);
    // Every `allOf` part applies; `oneOf`/`anyOf` branches apply only
    // conditionally, so their bounds are left to the server.
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            body_rules(doc, part, pointer.clone(), depth + 1, found);
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            let escaped = name.replace('~', "~0").replace('/', "~1");
            body_rules(doc, child, format!("{pointer}/{escaped}"), depth + 1, found);
        }
    }
    if let Some(items) = schema.get("items") {
        body_rules(doc, items, format!("{pointer}/*"), depth + 1, found);
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        body_rules(doc, values, format!("{pointer}/*"), depth + 1, found);
    }
}

/// The bounds of one schema (3.0 boolean and 3.1 numeric `exclusive*` forms).
fn rules(schema: &Value, place: &'static str, target: &str, found: &mut Vec<Found>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    let mut push = |rule: &'static str, value: f64| {
        found.push(Found {
            place,
            target: target.to_string(),
            rule,
            value,
            words: Vec::new(),
        })
    };
    let flag =
        |m: &Map<String, Value>, key: &str| m.get(key).and_then(Value::as_bool) == Some(true);
    if let Some(min) = map.get("minimum").and_then(Value::as_f64) {
        push(
            if flag(map, "exclusiveMinimum") {
                "ExclusiveMinimum"
            } else {
                "Minimum"
            },
            min,
        );
    }
    if let Some(min) = map.get("exclusiveMinimum").and_then(Value::as_f64) {
        push("ExclusiveMinimum", min);
    }
    if let Some(max) = map.get("maximum").and_then(Value::as_f64) {
        push(
            if flag(map, "exclusiveMaximum") {
                "ExclusiveMaximum"
            } else {
                "Maximum"
            },
            max,
        );
    }
    if let Some(max) = map.get("exclusiveMaximum").and_then(Value::as_f64) {
        push("ExclusiveMaximum", max);
    }
    for (key, rule) in [
        ("minLength", "MinLength"),
        ("maxLength", "MaxLength"),
        ("minItems", "MinItems"),
        ("maxItems", "MaxItems"),
    ] {
        if let Some(n) = map.get(key).and_then(Value::as_u64) {
            push(rule, n as f64);
        }
    }
}

/// The type facts of one parameter (or of its array items) that a value
/// written as text can break: `type: integer`, a `format`, an `enum`.
fn type_rules(schema: &Value, place: &'static str, target: &str, found: &mut Vec<Found>) {
    let mut push = |rule: &'static str, words: Vec<String>| {
        found.push(Found {
            place,
            target: target.to_string(),
            rule,
            value: 0.0,
            words,
        })
    };
    if schema.get("type").and_then(Value::as_str) == Some("integer") {
        push("Integer", Vec::new());
    }
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        push("Format", vec![format.to_string()]);
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        if !values.is_empty() {
            push("Enum", values);
        }
    }
}

/// The `crate::bounds::Rule` expression of one found rule.
fn rule_tokens(f: &Found) -> TokenStream {
    let rule = quote::format_ident!("{}", f.rule);
    if f.rule == "Integer" {
        return quote!(crate::bounds::Rule::Integer);
    }
    let value = if f.rule == "Format" {
        let format = f.words.first().map(String::as_str).unwrap_or_default();
        quote!(#format)
    } else if f.rule == "Enum" {
        let words = &f.words;
        quote!(&[#(#words),*])
    } else if f.rule.starts_with("Min") && f.rule != "Minimum"
        || f.rule.starts_with("Max") && f.rule != "Maximum"
    {
        let n = f.value as u64;
        quote!(#n)
    } else {
        let n = f.value;
        quote!(#n)
    };
    quote!(crate::bounds::Rule::#rule(#value))
}

/// `operation_bounds(operation_id) -> &'static [Bound]`.
pub fn generate(bounds: &[(String, Vec<Found>)]) -> TokenStream {
    let arms = bounds
        .iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(id, found)| {
            let entries = found.iter().map(|f| {
                let place = quote::format_ident!("{}", f.place);
                let target = &f.target;
                let rule = rule_tokens(f);
                quote! {
                    crate::bounds::Bound {
                        place: crate::bounds::Place::#place,
                        target: #target,
                        rule: #rule,
                    }
                }
            });
            quote! { #id => &[#(#entries),*], }
        });
    quote! {
        /// The spec's bounds on the inputs of an operation (by operationId).
        pub(crate) fn operation_bounds(operation_id: &str) -> &'static [crate::bounds::Bound] {
            match operation_id {
                #(#arms)*
                _ => &[],
            }
        }
    }
}

/// The checks of one place of a JSON request body: its rules (bounds, `type: integer`, `format`, `enum`), its
/// required properties, and the checks of its properties, array items and map values.
#[derive(Debug, Default)]
pub struct BodyTree {
    rules: Vec<Found>,
    required: Vec<String>,
    properties: Vec<(String, BodyTree)>,
    items: Option<Box<BodyTree>>,
    values: Option<Box<BodyTree>>,
}

impl BodyTree {
    fn is_empty(&self) -> bool {
        self.rules.is_empty()
            && self.required.is_empty()
            && self.properties.is_empty()
            && self.items.is_none()
            && self.values.is_none()
    }
}

/// The body check tree of every operation with a JSON request body that has something to check.
pub fn collect_bodies(doc: &Value) -> Vec<(String, BodyTree)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for item in paths.values() {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            if method == "parameters" {
                continue;
            }
            if let Some(body) = op
                .get("requestBody")
                .map(|b| resolve(doc, b))
                .and_then(|b| b.get("content"))
                .and_then(|c| c.get("application/json"))
                .and_then(|c| c.get("schema"))
            {
                let tree = body_tree(doc, body, 0);
                if !tree.is_empty() {
                    out.push((id.to_string(), tree));
                }
            }
        }
    }
    out
}

fn body_tree(doc: &Value, schema: &Value, depth: usize) -> BodyTree {
    let mut tree = BodyTree::default();
    if depth > 16 {
        return tree;
    }
    merge_into(doc, schema, depth, &mut tree);
    tree.properties.sort_by(|a, b| a.0.cmp(&b.0));
    tree.properties.dedup_by(|a, b| a.0 == b.0);
    tree.required.sort();
    tree.required.dedup();
    let mut seen = Vec::new();
    tree.rules.retain(|f| {
        if seen.contains(f) {
            false
        } else {
            seen.push(f.clone());
            true
        }
    });
    tree
}

/// Adds what `schema` (and every `allOf` part) says to `tree`; `oneOf`/`anyOf` branches apply only
/// conditionally, so they are left to the server.
fn merge_into(doc: &Value, schema: &Value, depth: usize, tree: &mut BodyTree) {
    let schema = resolve(doc, schema);
    rules(schema, "Body", "", &mut tree.rules);
    type_rules(schema, "Body", "", &mut tree.rules);
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            merge_into(doc, part, depth + 1, tree);
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        tree.required
            .extend(required.iter().filter_map(Value::as_str).map(String::from));
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            let child = body_tree(doc, child, depth + 1);
            if !child.is_empty() {
                tree.properties.push((name.clone(), child));
            }
        }
    }
    if let Some(items) = schema.get("items") {
        let child = body_tree(doc, items, depth + 1);
        if !child.is_empty() {
            tree.items = Some(Box::new(child));
        }
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        let child = body_tree(doc, values, depth + 1);
        if !child.is_empty() {
            tree.values = Some(Box::new(child));
        }
    }
}

/// `operation_body(operation_id) -> Option<&'static BodyNode>`: one `static` per node of every tree.
pub fn generate_bodies(trees: &[(String, BodyTree)]) -> TokenStream {
    let mut statics = Vec::new();
    let arms: Vec<TokenStream> = trees
        .iter()
        .map(|(id, tree)| {
            let root = emit_node(tree, &mut statics);
            quote! { #id => Some(&#root), }
        })
        .collect();
    quote! {
        #(#statics)*

        /// The checks of an operation's JSON request body (by operationId).
        pub(crate) fn operation_body(operation_id: &str) -> Option<&'static crate::bounds::BodyNode> {
            match operation_id {
                #(#arms)*
                _ => None,
            }
        }
    }
}

fn emit_node(tree: &BodyTree, statics: &mut Vec<TokenStream>) -> proc_macro2::Ident {
    let properties: Vec<TokenStream> = tree
        .properties
        .iter()
        .map(|(name, child)| {
            let child = emit_node(child, statics);
            quote!((#name, &#child))
        })
        .collect();
    let child_ref = |child: &Option<Box<BodyTree>>, statics: &mut Vec<TokenStream>| match child {
        Some(child) => {
            let ident = emit_node(child, statics);
            quote!(Some(&#ident))
        }
        None => quote!(None),
    };
    let items = child_ref(&tree.items, statics);
    let values = child_ref(&tree.values, statics);
    let rules = tree.rules.iter().map(rule_tokens);
    let required = &tree.required;
    let ident = quote::format_ident!("BODY_NODE_{}", statics.len());
    statics.push(quote! {
        static #ident: crate::bounds::BodyNode = crate::bounds::BodyNode {
            rules: &[#(#rules),*],
            required: &[#(#required),*],
            properties: &[#(#properties),*],
            items: #items,
            values: #values,
        };
    });
    ident
}
