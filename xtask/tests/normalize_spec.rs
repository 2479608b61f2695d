//! The contracts of the committed `openapi/fanvue.json` that the other crates rely on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

fn spec_text() -> String {
    std::fs::read_to_string(xtask::workspace_root().join("openapi/fanvue.json"))
        .expect("openapi/fanvue.json exists")
}

fn spec() -> Value {
    serde_json::from_str(&spec_text()).expect("openapi/fanvue.json is JSON")
}

/// (method, path, operation) of every operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

fn op_by_id(doc: &Value, id: &str) -> Value {
    operations(doc)
        .into_iter()
        .find(|(_, _, op)| op["operationId"] == id)
        .map(|(_, _, op)| op)
        .unwrap_or_else(|| panic!("no operation {id}"))
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc.pointer(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("no schema {name}"))
}

/// Calls `f` on every schema node of the document with its JSON pointer.
fn each_schema(v: &Value, ptr: &str, f: &mut dyn FnMut(&str, &Value)) {
    match v {
        Value::Object(obj) => {
            let is_schema =
                obj.contains_key("type") || obj.contains_key("$ref") || obj.contains_key("enum");
            if is_schema {
                f(ptr, v);
            }
            for (k, child) in obj {
                each_schema(
                    child,
                    &format!("{ptr}/{}", k.replace('~', "~0").replace('/', "~1")),
                    f,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                each_schema(child, &format!("{ptr}/{i}"), f);
            }
        }
        _ => {}
    }
}

#[test]
fn parses_with_openapiv3_and_has_143_operations() {
    let spec: openapiv3::OpenAPI = serde_json::from_str(&spec_text()).expect("openapiv3 parses");
    assert_eq!(spec.openapi, "3.0.3");
    assert_eq!(spec.info.version, "2025-06-26");
    assert_eq!(spec.servers[0].url, "https://api.fanvue.com");
    assert_eq!(spec.operations().count(), 143);
    let ids: BTreeSet<_> = spec
        .operations()
        .filter_map(|(_, _, op)| op.operation_id.clone())
        .collect();
    assert_eq!(ids.len(), 143, "operationIds are unique");
    for id in [
        "get-user-media-by-uuid",
        "create-creator-upload-session",
        "create-creator-tracking-link",
        "list-chats",
        "get-current-user",
        "list-agency-chats",
        "batch-fan-insights",
        "messages-batch",
    ] {
        assert!(ids.contains(id), "{id}");
    }
}

#[test]
fn every_operation_has_one_known_tag_scopes_and_reference() {
    let doc = spec();
    let tags: BTreeMap<String, String> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or("").to_string(),
                t["description"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut with_page = 0;
    for (method, path, op) in operations(&doc) {
        let op_tags = op["tags"].as_array().expect("tags");
        assert_eq!(op_tags.len(), 1, "{method} {path}");
        let tag = op_tags[0].as_str().expect("tag");
        assert!(
            tags.get(tag).is_some_and(|d| !d.is_empty()),
            "{tag} listed with a description"
        );
        assert!(
            op["x-fanvue-scopes"]
                .as_array()
                .is_some_and(|s| !s.is_empty()),
            "{method} {path} scopes"
        );
        // Operations with a reference page link it; the others (only in the official document) have none.
        if let Some(url) = op.get("externalDocs") {
            assert!(
                url["url"].as_str().is_some_and(
                    |u| u.starts_with("https://api.fanvue.com/docs/api-reference/reference/")
                ),
                "{method} {path}"
            );
            with_page += 1;
        }
        assert!(op.get("security").is_none(), "{method} {path}");
        for p in op["parameters"].as_array().into_iter().flatten() {
            assert_ne!(p["in"], "header", "{method} {path}: header parameter left");
            if p["in"] == "path" {
                assert_eq!(p["required"], true, "{method} {path}");
            }
        }
    }
    assert_eq!(with_page, 73, "the pages' distinct operations");
    // Tags by the path rules of names.yaml for operations without a page.
    for (id, tag) in [
        ("list-collections", "collections"),
        ("get-app-subscription-status", "apps"),
        ("list-notifications", "notifications"),
        ("list-team-members", "team"),
        ("list-agency-chats", "agencies"),
        ("list-creator-vault-folders", "agencies"),
        ("list-mass-messages", "chat-messages"),
        ("delete-post", "posts"),
    ] {
        assert_eq!(op_by_id(&doc, id)["tags"], json!([tag]), "{id}");
    }
    let agency = op_by_id(&doc, "create-creator-upload-session");
    assert_eq!(agency["tags"], json!(["agencies"]));
    assert_eq!(
        agency["x-fanvue-scopes"],
        json!(["write:creator", "write:media"])
    );
    assert_eq!(
        op_by_id(&doc, "create-creator-tracking-link")["x-fanvue-scopes"],
        json!(["write:tracking_links", "write:creator"])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["type"],
        "http"
    );
    assert_eq!(doc["security"], json!([{ "bearerAuth": [] }]));
}

#[test]
fn every_error_response_is_api_error_and_410_429_are_everywhere() {
    let doc = spec();
    let api_error =
        json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ApiError" } } });
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.contains_key("410") && responses.contains_key("429"),
            "{method} {path}"
        );
        for (code, r) in responses {
            if code.starts_with('4') || code.starts_with('5') {
                assert_eq!(r["content"], api_error, "{method} {path} {code}");
            }
        }
        let headers = responses["429"]["headers"]
            .as_object()
            .expect("429 headers");
        assert_eq!(headers.len(), 4);
        assert!(headers.values().all(|h| h["schema"]["type"] == "integer"));
    }
    let props = schema(&doc, "ApiError")["properties"]
        .as_object()
        .expect("ApiError properties");
    assert_eq!(props["error"]["type"], "string");
    assert_eq!(props["message"]["type"], "string");
    assert_eq!(
        props["errors"],
        json!({ "type": "array", "items": { "type": "string" } })
    );
    assert_eq!(props["nextVersion"]["type"], "string");
    assert!(schema(&doc, "ApiError").get("required").is_none());
}

#[test]
fn every_enum_is_a_named_schema_and_media_status_exists_once() {
    let doc = spec();
    each_schema(&doc["paths"], "/paths", &mut |ptr, s| {
        assert!(s.get("enum").is_none(), "inline enum at {ptr}");
    });
    for (name, s) in doc["components"]["schemas"].as_object().expect("schemas") {
        each_schema(s, name, &mut |ptr, node| {
            if ptr != name {
                assert!(node.get("enum").is_none(), "inline enum at {ptr}");
            }
        });
    }
    let status: BTreeSet<&str> = ["created", "processing", "ready", "error"].into();
    let with_status = doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .iter()
        .filter(|(_, s)| {
            s["enum"].as_array().is_some_and(|e| {
                e.iter().filter_map(Value::as_str).collect::<BTreeSet<_>>() == status
            })
        })
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>();
    assert_eq!(with_status, ["MediaStatus"]);
    let values = |name: &str| -> BTreeSet<String> {
        schema(&doc, name)["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        values("MediaType"),
        ["image", "video", "audio", "document"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        values("MediaVariantType"),
        ["blurred", "main", "thumbnail", "thumbnail_gallery"]
            .map(String::from)
            .into()
    );
}

#[test]
fn names_are_short_and_no_schema_forbids_additional_properties() {
    let doc = spec();
    for name in doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
    {
        assert!(name.len() <= 40, "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
    }
    assert!(!spec_text().contains("\"additionalProperties\": false"));
    each_schema(&doc, "", &mut |ptr, s| {
        if let Some(Value::Array(_)) = s.get("type") {
            panic!("3.1 type array at {ptr}");
        }
        assert_ne!(s.get("type"), Some(&json!("null")), "type null at {ptr}");
    });
}

#[test]
fn pagination_and_list_shapes() {
    let doc = spec();
    assert_eq!(
        schema(&doc, "Pagination"),
        &json!({
            "type": "object",
            "description": "Pagination information",
            "required": ["page", "size", "hasMore"],
            "properties": {
                "page": { "type": "integer", "format": "int64", "description": "Current page number" },
                "size": { "type": "integer", "format": "int64", "description": "Number of records returned in this response" },
                "hasMore": { "type": "boolean", "description": "Whether there are more items available on subsequent pages" }
            }
        })
    );
    let mut page_lists = 0;
    let mut cursor_lists = 0;
    for (method, path, op) in operations(&doc) {
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        let Some(body) = op
            .pointer("/responses/200/content/application~1json/schema/$ref")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let body = schema(&doc, body.trim_start_matches("#/components/schemas/"));
        if params.contains(&"page") {
            assert_eq!(
                body["properties"]["pagination"]["$ref"], "#/components/schemas/Pagination",
                "{method} {path}"
            );
            assert_eq!(
                body["properties"]["data"]["type"], "array",
                "{method} {path}"
            );
            page_lists += 1;
        }
        if params.contains(&"cursor") {
            assert_eq!(
                body["properties"]["nextCursor"]["type"], "string",
                "{method} {path}"
            );
            assert_eq!(
                body["properties"]["nextCursor"]["nullable"], true,
                "{method} {path}"
            );
            assert_eq!(
                body["properties"]["data"]["type"], "array",
                "{method} {path}"
            );
            cursor_lists += 1;
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            if ["page", "size", "limit", "partNumber"].contains(&p["name"].as_str().unwrap_or("")) {
                assert_eq!(
                    p["schema"]["type"], "integer",
                    "{method} {path} {}",
                    p["name"]
                );
            }
        }
    }
    assert_eq!(
        (page_lists, cursor_lists),
        (36, 11),
        "page-numbered (with page/size) and cursor lists"
    );
    // The three page-numbered lists without page/size parameters keep none (the official document declares
    // none; no parameter is invented).
    for id in [
        "list-vault-folders",
        "list-creator-vault-folders",
        "list-collections",
    ] {
        let op = op_by_id(&doc, id);
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(!names.contains(&"page") && !names.contains(&"size"), "{id}");
    }
}

#[test]
fn media_by_uuid_is_one_object_not_a_subset_oneof() {
    let doc = spec();
    let op = op_by_id(&doc, "get-user-media-by-uuid");
    assert_eq!(
        op.pointer("/responses/200/content/application~1json/schema"),
        Some(&json!({ "$ref": "#/components/schemas/Media" }))
    );
    let media = schema(&doc, "Media");
    assert_eq!(media["required"], json!(["uuid", "status"]));
    assert_eq!(
        media["properties"]["status"],
        json!({ "$ref": "#/components/schemas/MediaStatus" })
    );
    assert_eq!(
        media["properties"]["mediaType"],
        json!({ "$ref": "#/components/schemas/MediaType" })
    );
    // The only `oneOf`s left are the batch unions (PerKeyError first).
    let with_one_of: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .iter()
        .filter(|(_, s)| s.get("oneOf").is_some())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(with_one_of, ["ChatMessagesOrError", "FanInsightsOrError"]);
    for name in with_one_of {
        assert_eq!(
            schema(&doc, name)["oneOf"][0],
            json!({ "$ref": "#/components/schemas/PerKeyError" })
        );
    }
    assert_eq!(spec_text().matches("\"oneOf\"").count(), 2);
}

#[test]
fn variants_are_comma_separated() {
    let doc = spec();
    let list = schema(&doc, "MediaVariantList");
    assert_eq!(list["type"], "array");
    assert_eq!(
        list["items"],
        json!({ "$ref": "#/components/schemas/MediaVariantType" })
    );
    assert!(
        list["description"]
            .as_str()
            .is_some_and(|d| d.contains("comma-separated"))
    );
    let mut seen = 0;
    let mut strings = 0;
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["name"] == "variants" && p["schema"]["type"] == "string" {
                // Declared a plain (comma-separated) string by the official document: kept so.
                strings += 1;
            } else if p["name"] == "variants" {
                assert_eq!(p["style"], "form", "{method} {path}");
                assert_eq!(p["explode"], false, "{method} {path}");
                assert_eq!(
                    p["schema"],
                    json!({ "$ref": "#/components/schemas/MediaVariantList" })
                );
                seen += 1;
            }
        }
    }
    assert_eq!((seen, strings), (5, 3));
    // Every comma-separated array parameter of the official document (variants, source, status,
    // creatorUuids): style form, explode false.
    let mut explode_false = BTreeMap::new();
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["explode"] == false {
                assert_eq!(p["style"], "form", "{method} {path}");
                *explode_false
                    .entry(p["name"].as_str().unwrap_or("").to_string())
                    .or_insert(0) += 1;
            }
        }
    }
    assert_eq!(
        explode_false,
        BTreeMap::from([
            ("creatorUuids".to_string(), 3),
            ("source".to_string(), 3),
            ("status".to_string(), 2),
            ("variants".to_string(), 5),
        ])
    );
}

#[test]
fn upload_operations_carry_the_live_reference_facts() {
    let doc = spec();
    for id in ["get-upload-part-url", "get-creator-upload-part-url"] {
        assert_eq!(
            op_by_id(&doc, id)["responses"]["200"]["content"],
            json!({ "text/plain": { "schema": { "type": "string", "format": "uri" } } }),
            "{id}"
        );
    }
    for id in ["create-upload-session", "create-creator-upload-session"] {
        let op = op_by_id(&doc, id);
        let body = &op["requestBody"]["content"]["application/json"]["schema"];
        for field in ["name", "filename"] {
            assert_eq!(body["properties"][field]["minLength"], 1, "{id} {field}");
            assert_eq!(body["properties"][field]["maxLength"], 255, "{id} {field}");
        }
        assert_eq!(
            body["properties"]["mediaType"],
            json!({ "$ref": "#/components/schemas/MediaType" })
        );
        let ok = &op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        let session = schema(
            &doc,
            ok.as_str()
                .expect("200 ref")
                .trim_start_matches("#/components/schemas/"),
        );
        assert_eq!(session["properties"]["mediaUuid"]["format"], "uuid");
    }
    assert!(op_by_id(&doc, "create-creator-upload-session")["responses"]["404"].is_object());
    for id in ["complete-upload-session", "complete-creator-upload-session"] {
        let op = op_by_id(&doc, id);
        let body = &op["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["required"], json!(["parts"]));
        assert_eq!(
            body["properties"]["parts"]["items"],
            json!({ "$ref": "#/components/schemas/UploadedPart" })
        );
        let ok = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .expect("ref");
        let status =
            &schema(&doc, ok.trim_start_matches("#/components/schemas/"))["properties"]["status"];
        assert_eq!(
            status,
            &json!({ "$ref": "#/components/schemas/MediaStatus" })
        );
    }
    let part = schema(&doc, "UploadedPart");
    assert_eq!(part["required"], json!(["PartNumber"]));
    assert_eq!(part["properties"]["PartNumber"]["type"], "integer");
    assert_eq!(part["properties"]["PartNumber"]["minimum"], 1);
    assert_eq!(part["properties"]["PartNumber"]["maximum"], 10000);
    assert_eq!(part["properties"]["ETag"]["type"], "string");
    let tracking = op_by_id(&doc, "create-creator-tracking-link");
    let plain = op_by_id(&doc, "create-tracking-link");
    assert_eq!(tracking["requestBody"], plain["requestBody"]);
    assert_eq!(tracking["responses"]["201"], plain["responses"]["201"]);
}
