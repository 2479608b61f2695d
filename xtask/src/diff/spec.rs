//! Reading what the changelog compares out of an OpenAPI 3.0 document held as JSON: operations with their
//! parameters and bodies, bodies flattened into fields with dotted paths.
//!
//! The reader never fails: a missing or odd-shaped part is simply absent, a `$ref` that points nowhere
//! gives the type `unresolved <ref>`, and a schema that refers to itself (directly or not) is not followed
//! again: the field gets the type `recursive <ref>`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The HTTP methods of an OpenAPI path item, in the order operations are listed.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How deep nested schemas are followed at most (a guard besides the recursion check).
const MAX_DEPTH: usize = 64;

/// How many `$ref` hops are followed at most for one node.
const MAX_REF_HOPS: usize = 32;

/// The key of an operation: its path, then its method's position in [`METHODS`].
pub type OperationKey = (String, usize);

/// One operation, as the changelog sees it.
#[derive(Debug, Clone, Default)]
pub struct Operation {
    /// The operationId, if any.
    pub operation_id: Option<String>,
    /// Parameters by (location, name), path-level parameters included.
    pub parameters: BTreeMap<(String, String), Field>,
    /// The request body's fields, by media type.
    pub request: BTreeMap<String, Fields>,
    /// The responses: by status, the fields of each media type.
    pub responses: BTreeMap<String, BTreeMap<String, Fields>>,
}

/// The fields of one body, by dotted path (`""` is the body itself).
pub type Fields = BTreeMap<String, Field>;

/// What the changelog compares of a parameter or field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The type, like `string(uuid)`, `array<integer> (style=form, explode=false)` (parameters), `array`
    /// (fields), `object | null`.
    /// Fields' types stop at `array`: the items are fields of their own (`path[]`).
    pub ty: String,
    /// The type as shown when the parameter or field is added or removed: like `ty`, with the item type of
    /// an array (`array<string>`).
    pub summary: String,
    /// Whether it is required.
    pub required: bool,
    /// Its enum values (for an array parameter, those of its items), if it has any.
    pub enum_values: Option<BTreeSet<String>>,
}

/// A spec being read.
pub struct Spec<'a> {
    root: &'a Value,
}

impl<'a> Spec<'a> {
    /// Wraps a parsed document.
    pub fn new(root: &'a Value) -> Self {
        Spec { root }
    }

    /// `info.version`, if it is a string.
    pub fn version(&self) -> Option<String> {
        self.root
            .pointer("/info/version")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The names of `components.schemas`.
    pub fn schema_names(&self) -> BTreeSet<String> {
        self.root
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every operation, by (path, method index).
    pub fn operations(&self) -> BTreeMap<OperationKey, Operation> {
        let mut out = BTreeMap::new();
        let Some(paths) = self.root.get("paths").and_then(Value::as_object) else {
            return out;
        };
        for (path, item) in paths {
            let item = self.deref(item);
            let shared = item.get("parameters");
            for (index, method) in METHODS.iter().enumerate() {
                if let Some(op) = item.get(*method).filter(|v| v.is_object()) {
                    out.insert((path.clone(), index), self.operation(op, shared));
                }
            }
        }
        out
    }

    fn operation(&self, op: &'a Value, shared: Option<&'a Value>) -> Operation {
        let mut operation = Operation {
            operation_id: op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            ..Operation::default()
        };
        // Path-level parameters first, so that operation-level ones override them.
        for list in [shared, op.get("parameters")].into_iter().flatten() {
            for param in list.as_array().into_iter().flatten() {
                let param = self.deref(param);
                let (Some(name), Some(location)) = (
                    param.get("name").and_then(Value::as_str),
                    param.get("in").and_then(Value::as_str),
                ) else {
                    continue;
                };
                operation.parameters.insert(
                    (location.to_owned(), name.to_owned()),
                    self.parameter(param),
                );
            }
        }
        if let Some(body) = op.get("requestBody") {
            operation.request = self.content(self.deref(body));
        }
        if let Some(responses) = op.get("responses").and_then(Value::as_object) {
            for (status, response) in responses {
                operation
                    .responses
                    .insert(status.clone(), self.content(self.deref(response)));
            }
        }
        operation
    }

    fn parameter(&self, param: &'a Value) -> Field {
        let required = param.get("required").and_then(Value::as_bool) == Some(true);
        let schema = param.get("schema").map(|s| self.deref(s));
        let Some(schema) = schema else {
            return Field {
                ty: "any".to_owned(),
                summary: "any".to_owned(),
                required,
                enum_values: None,
            };
        };
        let items = schema.get("items").map(|i| self.deref(i));
        let mut ty = self.summary(schema);
        // How the value is serialized is part of the parameter's type.
        let style = param.get("style").and_then(Value::as_str);
        let explode = param.get("explode").and_then(Value::as_bool);
        if style.is_some() || explode.is_some() {
            let parts: Vec<String> = style
                .map(|s| format!("style={s}"))
                .into_iter()
                .chain(explode.map(|e| format!("explode={e}")))
                .collect();
            ty = format!("{ty} ({})", parts.join(", "));
        }
        let enum_values = enum_values(schema).or_else(|| items.and_then(enum_values));
        Field {
            summary: ty.clone(),
            ty,
            required,
            enum_values,
        }
    }

    /// `type_of(schema)`, with the item type of an array: `array<string>`.
    fn summary(&self, schema: &'a Value) -> String {
        let ty = type_of(schema);
        match schema.get("items") {
            Some(items) if ty.starts_with("array") => {
                let inner = format!("array<{}>", type_of(self.deref(items)));
                ty.replacen("array", &inner, 1)
            }
            _ => ty,
        }
    }

    /// The fields of each media type of a request body or response.
    fn content(&self, holder: &'a Value) -> BTreeMap<String, Fields> {
        let mut out = BTreeMap::new();
        for (media_type, media) in holder
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let fields = media
                .get("schema")
                .map(|schema| self.flatten(schema))
                .unwrap_or_default();
            out.insert(media_type.clone(), fields);
        }
        out
    }

    /// The fields of `schema`, the schema itself at the empty path.
    fn flatten(&self, schema: &'a Value) -> Fields {
        let mut fields = Fields::new();
        Flattener {
            spec: self,
            out: &mut fields,
            stack: Vec::new(),
        }
        .field(schema, String::new(), true, 0);
        fields
    }

    /// Follows `$ref`s (any kind of component) to the node they name; gives up on loops and dangling refs.
    fn deref(&self, node: &'a Value) -> &'a Value {
        let mut node = node;
        for _ in 0..MAX_REF_HOPS {
            match node.get("$ref").and_then(Value::as_str) {
                Some(reference) => match self.lookup(reference) {
                    Some(target) => node = target,
                    None => return node,
                },
                None => return node,
            }
        }
        node
    }

    fn lookup(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return None;
        }
        self.root.pointer(pointer)
    }
}

/// Walks a schema and records every field under its dotted path.
struct Flattener<'s, 'a> {
    spec: &'s Spec<'a>,
    out: &'s mut Fields,
    /// The `$ref`s being expanded, outermost first (the recursion guard).
    stack: Vec<String>,
}

impl<'a> Flattener<'_, 'a> {
    /// Records the field at `path` (the first record of a path wins), then its children.
    fn field(&mut self, node: &'a Value, path: String, required: bool, depth: usize) {
        let pushed = match self.enter(node) {
            Entered::Node(node, pushed) => {
                self.out.entry(path.clone()).or_insert_with(|| Field {
                    ty: type_of(node),
                    summary: self.spec.summary(node),
                    required,
                    enum_values: enum_values(node),
                });
                if depth < MAX_DEPTH {
                    self.children(node, &path, depth);
                }
                pushed
            }
            Entered::Stop(ty) => {
                self.out.entry(path).or_insert(Field {
                    summary: ty.clone(),
                    ty,
                    required,
                    enum_values: None,
                });
                0
            }
        };
        self.leave(pushed);
    }

    /// Records the properties, items and additional properties of `node`, and those of its `allOf`, `oneOf`
    /// and `anyOf` branches (merged under the same path).
    fn children(&mut self, node: &'a Value, path: &str, depth: usize) {
        let required: BTreeSet<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            for (name, child) in properties {
                let child_path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                self.field(
                    child,
                    child_path,
                    required.contains(name.as_str()),
                    depth.saturating_add(1),
                );
            }
        }
        if let Some(items) = node.get("items").filter(|i| i.is_object()) {
            self.field(items, format!("{path}[]"), true, depth.saturating_add(1));
        }
        if let Some(extra) = node.get("additionalProperties").filter(|a| a.is_object()) {
            let child_path = if path.is_empty() {
                "*".to_owned()
            } else {
                format!("{path}.*")
            };
            self.field(extra, child_path, false, depth.saturating_add(1));
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for branch in node
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Entered::Node(branch, pushed) = self.enter(branch) {
                    if depth < MAX_DEPTH {
                        self.children(branch, path, depth.saturating_add(1));
                    }
                    self.leave(pushed);
                }
            }
        }
    }

    /// Follows the `$ref`s of `node`, pushing each on the stack; stops at a loop or a dangling ref.
    fn enter(&mut self, node: &'a Value) -> Entered<'a> {
        let mut node = node;
        let mut pushed = 0;
        while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            if self.stack.iter().any(|r| r == reference) || pushed >= MAX_REF_HOPS {
                self.leave(pushed);
                return Entered::Stop(format!("recursive {reference}"));
            }
            match self.spec.lookup(reference) {
                Some(target) => {
                    self.stack.push(reference.to_owned());
                    pushed = pushed.saturating_add(1);
                    node = target;
                }
                None => {
                    self.leave(pushed);
                    return Entered::Stop(format!("unresolved {reference}"));
                }
            }
        }
        Entered::Node(node, pushed)
    }

    fn leave(&mut self, pushed: usize) {
        let keep = self.stack.len().saturating_sub(pushed);
        self.stack.truncate(keep);
    }
}

enum Entered<'a> {
    /// The node reached, and how many refs were pushed to reach it.
    Node(&'a Value, usize),
    /// Not followed further; the type to record.
    Stop(String),
}

/// A schema's own type, without descending: `string(uuid)`, `integer`, `array`, `object`, `oneOf(a | b)`,
/// with ` | null` when nullable. Enum values and schema names are not part of it.
pub fn type_of(schema: &Value) -> String {
    let mut types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let mut nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    if let Some(i) = types.iter().position(|t| t == "null") {
        types.remove(i);
        nullable = true;
    }
    let mut ty = if !types.is_empty() {
        let joined = types.join(" | ");
        match schema.get("format").and_then(Value::as_str) {
            Some(format) => format!("{joined}({format})"),
            None => joined,
        }
    } else if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
        "object".to_owned()
    } else if let Some(ref_) = schema.get("$ref").and_then(Value::as_str) {
        format!("unresolved {ref_}")
    } else if let Some((key, branches)) = ["oneOf", "anyOf", "allOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(Value::as_array).map(|b| (*k, b)))
    {
        let inner: Vec<String> = branches
            .iter()
            .map(|b| match b.get("$ref").and_then(Value::as_str) {
                Some(r) => r.rsplit('/').next().unwrap_or(r).to_owned(),
                None => type_of(b),
            })
            .collect();
        format!("{key}({})", inner.join(" | "))
    } else {
        "any".to_owned()
    };
    if nullable {
        ty.push_str(" | null");
    }
    ty
}

/// The enum values of a schema as text (strings as they are, other values as JSON).
pub fn enum_values(schema: &Value) -> Option<BTreeSet<String>> {
    let values = schema.get("enum")?.as_array()?;
    Some(
        values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types() {
        assert_eq!(
            type_of(&json!({"type": "string", "format": "uuid"})),
            "string(uuid)"
        );
        assert_eq!(
            type_of(&json!({"type": "integer", "nullable": true})),
            "integer | null"
        );
        assert_eq!(
            type_of(&json!({"type": ["string", "null"]})),
            "string | null"
        );
        assert_eq!(type_of(&json!({"properties": {}})), "object");
        assert_eq!(type_of(&json!({})), "any");
        assert_eq!(
            type_of(&json!({"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "string"}]})),
            "oneOf(A | string)"
        );
    }

    #[test]
    fn recursive_refs_stop() {
        let doc = json!({
            "components": {"schemas": {
                "Node": {"type": "object", "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "self": {"$ref": "#/components/schemas/Node"}
                }},
                "Loop": {"$ref": "#/components/schemas/Loop"}
            }}
        });
        let spec = Spec::new(&doc);
        let fields = spec.flatten(&json!({"$ref": "#/components/schemas/Node"}));
        let paths: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(paths, ["", "children", "children[]", "self"]);
        assert_eq!(fields["self"].ty, "recursive #/components/schemas/Node");

        let fields = spec.flatten(&json!({"$ref": "#/components/schemas/Loop"}));
        assert_eq!(fields[""].ty, "recursive #/components/schemas/Loop");
    }
}
