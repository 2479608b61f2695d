//! Each normalization fix, on the fixture pages of `tests/fixtures/normalize/fixes` (which show the defects).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use xtask::normalize::{self, Inputs, Normalized, page};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/normalize")
}

fn inputs() -> Inputs {
    Inputs::load(&fixtures().join("openapi")).expect("fixture inputs load")
}

fn normalized() -> Normalized {
    normalize::normalize_dir(&fixtures().join("fixes"), &inputs()).expect("fixture pages normalize")
}

/// The raw YAML document of a fixture page, to show the defect is really there.
fn raw(file: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join("fixes").join(file)).expect("fixture page");
    page::parse_page(file, &text)
        .expect("fixture page parses")
        .doc
}

fn at<'a>(doc: &'a Value, ptr: &str) -> &'a Value {
    doc.pointer(ptr)
        .unwrap_or_else(|| panic!("nothing at {ptr}"))
}

const GET_WIDGET: &str = "/paths/~1widgets~1{widgetId}~1parts~1{partNumber}/get";
const LIST_WIDGETS: &str = "/paths/~1widgets/get";
const CREATE_GADGET: &str = "/paths/~1gadgets/post";

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    at(doc, &format!("/components/schemas/{name}"))
}

fn param<'a>(doc: &'a Value, op: &str, name: &str) -> &'a Value {
    at(doc, &format!("{op}/parameters"))
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no parameter {name} in {op}"))
}

#[test]
fn fix1_enum_value_maps_become_plain_values() {
    let page = raw("widgets/get-widget.md");
    let enum_raw = at(
        &page,
        "/components/schemas/WidgetsWidgetIdGetResponsesContentApplicationJsonSchemaOneOf0State/enum",
    );
    assert_eq!(
        enum_raw[0],
        json!({ "value": "idle" }),
        "the fixture shows the defect"
    );
    let doc = normalized().doc;
    assert_eq!(schema(&doc, "WidgetState")["enum"], json!(["idle", "busy"]));
    assert!(!normalized().text.contains("\"value\""));
}

#[test]
fn fix2_empty_tag_lists_become_the_page_group() {
    assert_eq!(
        at(&raw("widgets/get-widget.md"), &format!("{GET_WIDGET}/tags")),
        &json!([[]])
    );
    let doc = normalized().doc;
    assert_eq!(at(&doc, &format!("{GET_WIDGET}/tags")), &json!(["widgets"]));
    assert_eq!(
        at(&doc, &format!("{LIST_WIDGETS}/tags")),
        &json!(["widgets"])
    );
    assert_eq!(
        at(&doc, &format!("{CREATE_GADGET}/tags")),
        &json!(["gadgets"])
    );
    let tags = at(&doc, "/tags").as_array().expect("tags");
    let names: Vec<&str> = tags.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["agencies", "gadgets", "widgets"]);
    assert_eq!(tags[2]["description"], "Widgets of the fixture API.");
    assert!(
        tags[1]["description"]
            .as_str()
            .is_some_and(|d| d.contains("gadgets"))
    );
}

#[test]
fn fix3_openapi_31_nullables_become_30() {
    let page = raw("widgets/get-widget.md");
    assert_eq!(
        at(
            &page,
            "/components/schemas/GetWidgetResponse2001/properties/label/type"
        ),
        &json!(["string", "null"])
    );
    let doc = normalized().doc;
    assert_eq!(doc["openapi"], "3.0.3");
    let widget = schema(&doc, "Widget");
    assert_eq!(
        widget["properties"]["label"],
        json!({ "type": "string", "nullable": true })
    );
    let owner = &widget["properties"]["owner"];
    assert_eq!(owner["nullable"], true);
    let owner_ref = owner["allOf"][0]["$ref"]
        .as_str()
        .expect("owner is a nullable $ref");
    assert!(owner_ref.starts_with("#/components/schemas/"));
    // additionalProperties: false is dropped (the client must tolerate new fields).
    assert!(
        widget["properties"]["settings"]
            .get("additionalProperties")
            .is_none()
    );
    assert!(!normalized().text.contains("'null'") && !normalized().text.contains("\"null\""));
}

#[test]
fn fix4_auth_and_version_headers_become_security_and_info_version() {
    let doc = normalized().doc;
    for op in [GET_WIDGET, LIST_WIDGETS, CREATE_GADGET] {
        let params = doc
            .pointer(&format!("{op}/parameters"))
            .and_then(Value::as_array);
        assert!(
            params.is_none_or(|ps| ps.iter().all(|p| p["in"] != "header")),
            "header parameters left in {op}"
        );
    }
    assert_eq!(doc["info"]["version"], "2030-01-01");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{ "bearerAuth": [] }]));
}

#[test]
fn fix5_path_parameters_are_required() {
    let page = raw("widgets/get-widget.md");
    assert_eq!(param(&page, GET_WIDGET, "partNumber")["required"], false);
    let doc = normalized().doc;
    assert_eq!(param(&doc, GET_WIDGET, "partNumber")["required"], true);
    assert_eq!(param(&doc, GET_WIDGET, "widgetId")["required"], true);
}

#[test]
fn fix7_identical_schemas_merge_under_reviewed_or_automatic_names() {
    let doc = normalized().doc;
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    // Three machine-made copies of the state enum (two pages) → one `WidgetState` (names.yaml `enums`).
    let states = schemas
        .values()
        .filter(|s| s.get("enum") == Some(&json!(["idle", "busy"])))
        .count();
    assert_eq!(states, 1);
    assert!(schemas.contains_key("Pagination"), "suffix rule");
    assert!(schemas.contains_key("Widget"), "exact rule");
    assert!(
        schemas.contains_key("ListWidgetsItem"),
        "automatic name: operation + `DataItems` → `Item`"
    );
    assert!(
        schemas.contains_key("ListWidgetsResponse"),
        "automatic name of `listWidgets_Response_200`"
    );
    assert!(schemas.keys().all(|n| n.len() <= 40));
    // The variants of the merged oneOf are not left behind.
    assert!(!schemas.contains_key("GetWidgetResponse2000"));
}

#[test]
fn fix7_inline_enums_become_named_schemas() {
    let doc = normalized().doc;
    assert_eq!(
        param(&doc, GET_WIDGET, "sort")["schema"],
        json!({ "$ref": "#/components/schemas/GetWidgetSort" })
    );
    assert_eq!(
        schema(&doc, "GetWidgetSort")["enum"],
        json!(["newest", "oldest"])
    );
    let body = at(
        &doc,
        &format!("{CREATE_GADGET}/requestBody/content/application~1json/schema"),
    );
    assert_eq!(
        body["properties"]["kind"],
        json!({ "$ref": "#/components/schemas/CreateGadgetBodyKind" })
    );
}

#[test]
fn fix8_counts_positions_sizes_and_durations_are_integers_and_cents_are_cents() {
    let page = raw("widgets/list-widgets.md");
    assert_eq!(
        param(&page, LIST_WIDGETS, "page")["schema"]["format"],
        "double"
    );
    let doc = normalized().doc;
    let int = json!({ "type": "integer", "format": "int64" });
    let page_param = &param(&doc, LIST_WIDGETS, "page")["schema"];
    assert_eq!(
        page_param,
        &json!({ "type": "integer", "format": "int64", "default": 1 })
    );
    assert_eq!(
        param(&doc, LIST_WIDGETS, "size")["schema"]["type"],
        "integer"
    );
    assert_eq!(param(&doc, GET_WIDGET, "partNumber")["schema"], int);
    let pagination = &schema(&doc, "Pagination")["properties"];
    assert_eq!(pagination["page"], int);
    assert_eq!(pagination["size"], int);
    let widget = &schema(&doc, "Widget")["properties"];
    assert_eq!(widget["likesCount"], int);
    assert_eq!(widget["lengthMs"], int);
    // An amount in cents keeps any JSON number exactly (`format: cents`, the `Cents` type).
    assert_eq!(
        widget["price"],
        json!({ "type": "number", "format": "cents", "nullable": true })
    );
    // Not covered by a rule: stays a number.
    assert_eq!(
        widget["rating"],
        json!({ "type": "number", "format": "double" })
    );
    // `createdAt` with `format: date` is a timestamp.
    assert_eq!(widget["createdAt"]["format"], "date-time");
    let created = schema(&doc, "CreateGadgetResponse");
    assert_eq!(created["properties"]["partsCount"], int);
}

#[test]
fn fix9_overlay_is_applied_last() {
    let doc = normalized().doc;
    let variants = param(&doc, LIST_WIDGETS, "variants");
    assert_eq!(variants["style"], "form");
    assert_eq!(variants["explode"], false);
    assert_eq!(
        variants["schema"],
        json!({ "$ref": "#/components/schemas/VariantList" })
    );
    assert_eq!(
        at(
            &doc,
            "/paths/~1gadgets~1{gadgetId}~1manual-url/get/responses/200/content"
        ),
        &json!({ "text/plain": { "schema": { "type": "string", "format": "uri" } } })
    );
    let copy = at(&doc, "/paths/~1owners~1{ownerId}~1gadgets/post");
    assert_eq!(copy["operationId"], "create-owner-gadget");
    assert_eq!(copy["tags"], json!(["agencies"]));
    assert_eq!(
        copy["requestBody"],
        at(&doc, &format!("{CREATE_GADGET}/requestBody")).clone()
    );
    assert_eq!(normalize::count_operations(&doc), 5);
}

#[test]
fn subset_oneof_merges_into_one_object_with_the_extra_fields_optional() {
    let page = raw("widgets/get-widget.md");
    assert!(at(&page, "/components/schemas/getWidget_Response_200/oneOf").is_array());
    let doc = normalized().doc;
    assert_eq!(
        at(
            &doc,
            &format!("{GET_WIDGET}/responses/200/content/application~1json/schema")
        ),
        &json!({ "$ref": "#/components/schemas/Widget" })
    );
    let widget = schema(&doc, "Widget");
    assert!(widget.get("oneOf").is_none());
    assert_eq!(widget["type"], "object");
    // Required only where both variants require: the fields of the full variant became optional.
    assert_eq!(widget["required"], json!(["id", "state"]));
    let props = widget["properties"].as_object().expect("properties");
    for p in [
        "id",
        "state",
        "label",
        "owner",
        "price",
        "rating",
        "createdAt",
    ] {
        assert!(props.contains_key(p), "{p} kept");
    }
    assert_eq!(
        props["state"],
        json!({ "$ref": "#/components/schemas/WidgetState" })
    );
}

#[test]
fn error_responses_share_one_schema_and_every_operation_may_answer_410_and_429() {
    let doc = normalized().doc;
    let api_error =
        json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ApiError" } } });
    for op in [GET_WIDGET, LIST_WIDGETS, CREATE_GADGET] {
        let responses = at(&doc, &format!("{op}/responses"))
            .as_object()
            .expect("responses");
        for code in ["410", "429"] {
            assert!(responses.contains_key(code), "{op} lacks {code}");
        }
        for (code, r) in responses {
            if code.starts_with('4') || code.starts_with('5') {
                assert_eq!(r["content"], api_error, "{op} {code}");
            }
        }
        let headers = responses["429"]["headers"]
            .as_object()
            .expect("429 headers");
        for h in [
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ] {
            assert!(headers.contains_key(h), "{op} 429 lacks {h}");
        }
    }
    let props = schema(&doc, "ApiError")["properties"]
        .as_object()
        .expect("ApiError");
    assert_eq!(
        props.keys().map(String::as_str).collect::<Vec<_>>(),
        ["error", "errors", "message", "nextVersion"]
    );
    assert!(schema(&doc, "ApiError").get("required").is_none());
    // 204 has no body; bodies are required.
    assert!(
        at(&doc, &format!("{CREATE_GADGET}/responses/204"))
            .get("content")
            .is_none()
    );
    assert_eq!(
        at(&doc, &format!("{CREATE_GADGET}/requestBody/required")),
        &json!(true)
    );
}

#[test]
fn operations_keep_id_summary_and_gain_scopes_and_reference() {
    let doc = normalized().doc;
    let op = at(&doc, GET_WIDGET);
    assert_eq!(op["operationId"], "get-widget");
    assert_eq!(op["summary"], "Get a widget");
    assert_eq!(op["x-fanvue-scopes"], json!(["read:widget", "read:self"]));
    assert_eq!(
        op["externalDocs"]["url"],
        "https://docs.example.test/reference/widgets/get-widget"
    );
}

#[test]
fn output_is_deterministic_sorted_and_parses_with_openapiv3() {
    let a = normalized();
    let b = normalized();
    assert_eq!(a.text, b.text);
    assert!(a.text.ends_with("}\n"));
    assert!(
        a.text
            .starts_with("{\n  \"openapi\": \"3.0.3\",\n  \"info\": {")
    );
    let spec: openapiv3::OpenAPI =
        serde_json::from_str(&a.text).expect("openapiv3 parses the output");
    let paths: Vec<&String> = spec.paths.paths.keys().collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

#[test]
fn scopes_are_parsed_from_both_spellings() {
    use xtask::normalize::operations::parse_scopes;
    assert_eq!(
        parse_scopes("<Info>Scope required: `read:media`</Info>"),
        ["read:media"]
    );
    assert_eq!(
        parse_scopes("x\n  <Info>Scopes required: `read:creator`, `read:chat` `read:fan'</Info>"),
        ["read:creator", "read:chat", "read:fan"]
    );
    assert!(parse_scopes("No scopes here: a:b").is_empty());
}

#[test]
fn fix6_an_identical_duplicate_on_a_misnamed_page_is_reported_and_dropped() {
    let dir = fixtures().join("duplicates");
    let out =
        normalize::normalize_dir(&dir, &Inputs::default()).expect("identical duplicates are fine");
    assert_eq!(out.operation_count(), 2);
    assert_eq!(
        out.warnings,
        [
            "widgets/create-widget.md: the file name says `create-widget` but the page holds GET /widgets \
             (list-widgets)",
            "GET /widgets is on widgets/create-widget.md and widgets/list-widgets.md (identical): kept \
             widgets/list-widgets.md",
        ]
    );
    let op = at(&out.doc, LIST_WIDGETS);
    assert_eq!(
        op["externalDocs"]["url"],
        "https://docs.example.test/reference/widgets/list-widgets"
    );
}
