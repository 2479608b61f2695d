//! Walking the schemas of an OpenAPI document, and rewriting its `$ref`s.

use serde_json::Value;

/// Where a schema root sits, for naming things hoisted out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootKind {
    /// `components.schemas.<name>`.
    Component(String),
    /// A parameter's schema (parameter name).
    Parameter(String),
    /// A request body's schema.
    RequestBody,
    /// A response's schema (status code).
    Response(String),
    /// A response header's schema (header name).
    Header(String),
}

/// Escapes one JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The HTTP methods of a path item, in the order they are written out.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A visitor of schema roots: the schema, its kind, its JSON pointer and the operation's id (if any).
pub type RootVisitor<'a, E> =
    dyn FnMut(&mut Value, &RootKind, &str, Option<&str>) -> Result<(), E> + 'a;

/// A visitor of sub-schemas: the schema, the pointer suffix from its parent and its property name (if any).
pub type ChildVisitor<'a, E> = dyn FnMut(&mut Value, String, Option<&str>) -> Result<(), E> + 'a;

/// Calls `f` on every schema root of `doc` with its kind, its JSON pointer and the operation's id (if any).
pub fn for_each_root<E>(doc: &mut Value, f: &mut RootVisitor<'_, E>) -> Result<(), E> {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, s) in schemas.iter_mut() {
            let ptr = format!("/components/schemas/{}", escape(name));
            f(s, &RootKind::Component(name.clone()), &ptr, None)?;
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        let path_ptr = format!("/paths/{}", escape(path));
        for (method, op) in item.iter_mut() {
            if method == "parameters" {
                if let Some(params) = op.as_array_mut() {
                    for_each_parameter(params, &path_ptr, None, f)?;
                }
                continue;
            }
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let op_ptr = format!("{path_ptr}/{method}");
            let op_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_string);
            let op_id = op_id.as_deref();
            if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for_each_parameter(params, &op_ptr, op_id, f)?;
            }
            if let Some(content) = op
                .pointer_mut("/requestBody/content")
                .and_then(Value::as_object_mut)
            {
                for (ct, media) in content.iter_mut() {
                    if let Some(s) = media.get_mut("schema") {
                        let ptr = format!("{op_ptr}/requestBody/content/{}/schema", escape(ct));
                        f(s, &RootKind::RequestBody, &ptr, op_id)?;
                    }
                }
            }
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                for (code, resp) in responses.iter_mut() {
                    let resp_ptr = format!("{op_ptr}/responses/{}", escape(code));
                    if let Some(content) = resp.get_mut("content").and_then(Value::as_object_mut) {
                        for (ct, media) in content.iter_mut() {
                            if let Some(s) = media.get_mut("schema") {
                                let ptr = format!("{resp_ptr}/content/{}/schema", escape(ct));
                                f(s, &RootKind::Response(code.clone()), &ptr, op_id)?;
                            }
                        }
                    }
                    if let Some(headers) = resp.get_mut("headers").and_then(Value::as_object_mut) {
                        for (h, header) in headers.iter_mut() {
                            if let Some(s) = header.get_mut("schema") {
                                let ptr = format!("{resp_ptr}/headers/{}/schema", escape(h));
                                f(s, &RootKind::Header(h.clone()), &ptr, op_id)?;
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Calls `f` on the schema of each parameter of `params` (the `parameters` of the path item or operation at `ptr`).
fn for_each_parameter<E>(
    params: &mut [Value],
    ptr: &str,
    op_id: Option<&str>,
    f: &mut RootVisitor<'_, E>,
) -> Result<(), E> {
    for (i, p) in params.iter_mut().enumerate() {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(s) = p.get_mut("schema") {
            let ptr = format!("{ptr}/parameters/{i}/schema");
            f(s, &RootKind::Parameter(name), &ptr, op_id)?;
        }
    }
    Ok(())
}

/// Calls `f` on each direct sub-schema of `schema` with the pointer suffix and the property name (if any).
pub fn for_each_child<E>(schema: &mut Value, f: &mut ChildVisitor<'_, E>) -> Result<(), E> {
    let Some(obj) = schema.as_object_mut() else {
        return Ok(());
    };
    for (key, v) in obj.iter_mut() {
        match key.as_str() {
            "properties" => {
                if let Some(props) = v.as_object_mut() {
                    for (name, p) in props.iter_mut() {
                        f(p, format!("/properties/{}", escape(name)), Some(name))?;
                    }
                }
            }
            "items" | "not" => f(v, format!("/{key}"), None)?,
            "additionalProperties" if v.is_object() => f(v, format!("/{key}"), None)?,
            "allOf" | "oneOf" | "anyOf" => {
                if let Some(items) = v.as_array_mut() {
                    for (i, s) in items.iter_mut().enumerate() {
                        f(s, format!("/{key}/{i}"), None)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Rewrites every `$ref` string under `v` with `f` (which returns the new reference).
pub fn rewrite_refs(v: &mut Value, f: &mut dyn FnMut(&str) -> String) {
    let mut edits = Vec::new();
    for_each_ref(v, "", &mut |ptr, reference| {
        edits.push((ptr.to_string(), f(reference)));
    });
    for (ptr, reference) in edits {
        if let Some(slot) = v.pointer_mut(&ptr) {
            *slot = Value::String(reference);
        }
    }
}

/// Collects every `$ref` string under `v`.
pub fn collect_refs(v: &Value, out: &mut Vec<String>) {
    for_each_ref(v, "", &mut |_, reference| out.push(reference.to_string()));
}

/// Calls `f` with the JSON pointer (below `ptr`) and the text of every `$ref` string under `v`, in document order.
fn for_each_ref(v: &Value, ptr: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::Object(obj) => {
            for (k, child) in obj {
                let child_ptr = format!("{ptr}/{}", escape(k));
                if k == "$ref" {
                    if let Value::String(s) = child {
                        f(&child_ptr, s);
                    }
                } else {
                    for_each_ref(child, &child_ptr, f);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                for_each_ref(child, &format!("{ptr}/{i}"), f);
            }
        }
        _ => {}
    }
}

/// The prefix of a schema reference.
pub const SCHEMA_REF: &str = "#/components/schemas/";

/// The schema name a `$ref` points at, when it is a local schema reference.
pub fn ref_name(reference: &str) -> Option<&str> {
    reference.strip_prefix(SCHEMA_REF)
}

/// `fooBar-baz_qux` → `FooBarBazQux`.
pub fn pascal(s: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}
