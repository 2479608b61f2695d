//! Reading the spec: loading, in-memory enrichment for the docs, and the
//! structural facts the generators need (operations, list shapes, params).

use openapiv3::{
    OpenAPI, Operation, Parameter, ParameterSchemaOrContent, QueryStyle, ReferenceOr, Schema,
    SchemaKind, Type,
};
use serde_json::Value;

use crate::names::snake;

/// Enriches the raw document before progenitor reads it: sanitized prose,
/// required scopes and the reference link appended to every operation's
/// description, and a description for every tag (the tag traits' docs).
pub fn enrich(doc: &mut Value) {
    crate::docs::sanitize_all(doc);
    let mut tags_seen = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if !is_method(method) {
                    continue;
                }
                let Some(op) = op.as_object_mut() else {
                    continue;
                };
                if let Some(tags) = op.get("tags").and_then(Value::as_array) {
                    tags_seen.extend(tags.iter().filter_map(Value::as_str).map(String::from));
                }
                let mut description = op
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let scopes: Vec<String> = op
                    .get("x-fanvue-scopes")
                    .and_then(Value::as_array)
                    .map(|s| {
                        s.iter()
                            .filter_map(Value::as_str)
                            .map(|s| format!("`{s}`"))
                            .collect()
                    })
                    .unwrap_or_default();
                if !scopes.is_empty() {
                    description
                        .push_str(&format!("\n\n**Required scopes:** {}", scopes.join(", ")));
                }
                if let Some(url) = op
                    .get("externalDocs")
                    .and_then(|d| d.get("url"))
                    .and_then(Value::as_str)
                {
                    description.push_str(&format!("\n\n**Reference:** <{url}>"));
                }
                if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                    description.push_str(&format!("\n\nOperation id: `{id}`."));
                }
                op.insert(
                    "description".into(),
                    Value::String(description.trim().to_string()),
                );
            }
        }
    }
    // Every tag used gets an entry with a description.
    let tags = doc.as_object_mut().map(|root| {
        root.entry("tags")
            .or_insert_with(|| Value::Array(Vec::new()))
    });
    if let Some(Value::Array(tags)) = tags {
        for tag in tags.iter_mut() {
            if let Some(tag) = tag.as_object_mut() {
                let name = tag
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                tag.entry("description")
                    .or_insert_with(|| Value::String(default_tag_doc(&name)));
            }
        }
        tags_seen.sort();
        tags_seen.dedup();
        for name in tags_seen {
            if !tags
                .iter()
                .any(|t| t.get("name").and_then(Value::as_str) == Some(&name))
            {
                tags.push(serde_json::json!({"name": name, "description": default_tag_doc(&name)}));
            }
        }
    }
}

fn default_tag_doc(tag: &str) -> String {
    format!("Operations of the `{tag}` area of the Fanvue API.")
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

/// How a list operation pages.
pub enum ListKind {
    /// `{data, pagination}` with `page` and `size` query params.
    PageNumber,
    /// `{data, pagination}` without `page`/`size` params: one page only.
    SinglePage,
    /// `{data, nextCursor}` with `cursor` and a size param.
    Cursor {
        /// `size` or `limit`.
        size_param: String,
    },
}

/// One operation of the spec, with the facts the generators need.
pub struct OperationInfo {
    /// The spec's operationId (kebab-case).
    pub id: String,
    /// progenitor's method name (snake-case).
    pub fn_name: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// First tag (or `untagged`).
    pub tag: String,
    /// The list shape, when the operation is a list.
    pub list: Option<ListKind>,
    /// Max page size (the size param's `maximum`; `u64::MAX` when the spec
    /// declares none, with a build warning).
    pub max_page_size: u64,
    /// Query params to send comma-separated (style form, explode false, array).
    pub comma_params: Vec<String>,
    /// The path and query parameters' names (spec order, path-item ones first).
    pub params: Vec<String>,
    /// Whether the operation takes a JSON request body.
    pub has_body: bool,
}

/// Collects every operation, in spec order.
pub fn operations(spec: &OpenAPI) -> Vec<OperationInfo> {
    let mut out = Vec::new();
    for (path, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let params: Vec<&Parameter> = item
                .parameters
                .iter()
                .chain(op.parameters.iter())
                .filter_map(|p| resolve_param(spec, p))
                .collect();
            let id = op.operation_id.clone().unwrap_or_default();
            let list = list_kind(spec, op, &params);
            let size_name = match &list {
                Some(ListKind::Cursor { size_param }) => size_param.clone(),
                _ => "size".to_string(),
            };
            let max_page_size = params
                .iter()
                .find(|p| is_query(p) && p.parameter_data_ref().name == size_name)
                .and_then(|p| param_schema(spec, p))
                .and_then(|s| match &s.schema_kind {
                    SchemaKind::Type(Type::Integer(int)) => int.maximum,
                    _ => None,
                })
                .and_then(|max| u64::try_from(max).ok())
                .unwrap_or(u64::MAX);
            let comma_params = params
                .iter()
                .filter_map(|p| match p {
                    Parameter::Query {
                        parameter_data,
                        style: QueryStyle::Form,
                        ..
                    } if parameter_data.explode == Some(false)
                        && param_schema(spec, p).is_some_and(|s| {
                            matches!(s.schema_kind, SchemaKind::Type(Type::Array(_)))
                        }) =>
                    {
                        Some(parameter_data.name.clone())
                    }
                    _ => None,
                })
                .collect();
            out.push(OperationInfo {
                fn_name: snake(&id),
                id,
                method: method.to_uppercase(),
                path: path.clone(),
                tag: op
                    .tags
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "untagged".into()),
                list,
                max_page_size,
                comma_params,
                params: params
                    .iter()
                    .filter(|p| matches!(p, Parameter::Path { .. } | Parameter::Query { .. }))
                    .map(|p| p.parameter_data_ref().name.clone())
                    .collect(),
                has_body: op.request_body.as_ref().is_some_and(|body| match body {
                    ReferenceOr::Item(body) => body.content.contains_key("application/json"),
                    ReferenceOr::Reference { .. } => true,
                }),
            });
        }
    }
    out
}

fn is_query(p: &Parameter) -> bool {
    matches!(p, Parameter::Query { .. })
}

fn has_query(params: &[&Parameter], name: &str) -> bool {
    params
        .iter()
        .any(|p| is_query(p) && p.parameter_data_ref().name == name)
}

fn list_kind(spec: &OpenAPI, op: &Operation, params: &[&Parameter]) -> Option<ListKind> {
    let response = op
        .responses
        .responses
        .iter()
        .find_map(|(code, r)| (code.to_string() == "200").then_some(r))?;
    let response = match response {
        ReferenceOr::Item(r) => r,
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()?
            .responses
            .get(reference.rsplit('/').next()?)?
            .as_item()?,
    };
    let schema = response.content.get("application/json")?.schema.as_ref()?;
    let schema = resolve_schema(spec, schema)?;
    let props = object_props(spec, schema)?;
    let data = props.iter().find(|(n, _)| n.as_str() == "data")?.1;
    if !matches!(data.schema_kind, SchemaKind::Type(Type::Array(_))) {
        return None;
    }
    if let Some((_, pagination)) = props.iter().find(|(n, _)| n.as_str() == "pagination") {
        let inner = object_props(spec, pagination)?;
        let has = |name: &str| inner.iter().any(|(n, _)| n == name);
        if !(has("page") && has("hasMore")) {
            return None;
        }
        if has_query(params, "page") && has_query(params, "size") {
            return Some(ListKind::PageNumber);
        }
        if !has_query(params, "page") && !has_query(params, "size") {
            return Some(ListKind::SinglePage);
        }
        return None;
    }
    if props.iter().any(|(n, _)| n == "nextCursor") && has_query(params, "cursor") {
        for size_param in ["size", "limit"] {
            if has_query(params, size_param) {
                return Some(ListKind::Cursor {
                    size_param: size_param.into(),
                });
            }
        }
    }
    None
}

/// The properties of an object schema (following refs and single `allOf`s).
fn object_props<'a>(spec: &'a OpenAPI, schema: &'a Schema) -> Option<Vec<(String, &'a Schema)>> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(obj)) => Some(
            obj.properties
                .iter()
                .filter_map(|(name, s)| {
                    let s = match s {
                        ReferenceOr::Item(b) => Some(b.as_ref()),
                        ReferenceOr::Reference { reference } => resolve_ref(spec, reference),
                    }?;
                    Some((name.clone(), s))
                })
                .collect(),
        ),
        SchemaKind::AllOf { all_of } => {
            let mut props = Vec::new();
            for part in all_of {
                props.extend(object_props(spec, resolve_schema(spec, part)?)?);
            }
            Some(props)
        }
        _ => None,
    }
}

fn resolve_ref<'a>(spec: &'a OpenAPI, reference: &str) -> Option<&'a Schema> {
    let name = reference.strip_prefix("#/components/schemas/")?;
    let schema = spec.components.as_ref()?.schemas.get(name)?;
    resolve_schema(spec, schema)
}

/// Follows a schema reference (and a single-element `allOf` wrapper).
pub fn resolve_schema<'a>(
    spec: &'a OpenAPI,
    schema: &'a ReferenceOr<Schema>,
) -> Option<&'a Schema> {
    let schema = match schema {
        ReferenceOr::Item(s) => s,
        ReferenceOr::Reference { reference } => return resolve_ref(spec, reference),
    };
    match &schema.schema_kind {
        SchemaKind::AllOf { all_of } if all_of.len() == 1 => resolve_schema(spec, &all_of[0]),
        _ => Some(schema),
    }
}

fn resolve_param<'a>(spec: &'a OpenAPI, p: &'a ReferenceOr<Parameter>) -> Option<&'a Parameter> {
    match p {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => spec
            .components
            .as_ref()?
            .parameters
            .get(reference.strip_prefix("#/components/parameters/")?)?
            .as_item(),
    }
}

fn param_schema<'a>(spec: &'a OpenAPI, p: &'a Parameter) -> Option<&'a Schema> {
    match &p.parameter_data_ref().format {
        ParameterSchemaOrContent::Schema(s) => resolve_schema(spec, s),
        ParameterSchemaOrContent::Content(_) => None,
    }
}

/// Where the spec has a string enum that is not a named component schema
/// (such an enum would be generated strict, without the `Unknown` fallback).
pub fn inline_enums(spec: &OpenAPI) -> Vec<String> {
    let Ok(doc) = serde_json::to_value(spec) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    find_enums(&doc, "#", true, &mut found);
    found
}

fn find_enums(value: &Value, at: &str, top_level_schema: bool, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("enum") && !top_level_schema {
                found.push(at.to_string());
            }
            for (key, child) in map {
                let path = format!("{at}/{key}");
                // Component schemas themselves are the named enums.
                let is_component = at == "#/components/schemas";
                find_enums(child, &path, is_component, found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                find_enums(child, &format!("{at}/{i}"), false, found);
            }
        }
        _ => {}
    }
}

/// The `format` of the normalized spec's numbers that are amounts in cents.
pub const CENTS_FORMAT: &str = "cents";

/// The schema the spec's amounts in cents refer to after [`use_cents`]; the generator replaces it with
/// `fanvue_api::Cents`.
pub const CENTS_SCHEMA: &str = "Cents";

/// Replaces every `type: number, format: cents` schema by a reference to one [`CENTS_SCHEMA`] component (inside
/// an `allOf`, so that its description and `nullable` stay: a nullable amount is an `Option<Cents>`). Returns
/// how many were replaced.
pub fn use_cents(doc: &mut Value) -> usize {
    let count = replace_cents(doc);
    if count > 0
        && let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
    {
        schemas.insert(
            CENTS_SCHEMA.into(),
            serde_json::json!({
                "type": "number",
                "format": CENTS_FORMAT,
                "description": "An amount of money in cents.",
            }),
        );
    }
    count
}

fn replace_cents(value: &mut Value) -> usize {
    let mut count = 0;
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("number")
                && map.get("format").and_then(Value::as_str) == Some(CENTS_FORMAT)
            {
                let mut replacement = serde_json::Map::new();
                for key in ["description", "nullable", "deprecated"] {
                    if let Some(v) = map.get(key) {
                        replacement.insert(key.into(), v.clone());
                    }
                }
                replacement.insert(
                    "allOf".into(),
                    serde_json::json!([{ "$ref": format!("#/components/schemas/{CENTS_SCHEMA}") }]),
                );
                *map = replacement;
                return 1;
            }
            for child in map.values_mut() {
                count += replace_cents(child);
            }
        }
        Value::Array(items) => {
            for child in items {
                count += replace_cents(child);
            }
        }
        _ => {}
    }
    count
}
