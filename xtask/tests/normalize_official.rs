//! The rules applied to the official OpenAPI document, each on the fixture `tests/fixtures/official/openapi.json`
//! (a tiny document in the official document's style, with its defects) and its reference pages.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use xtask::normalize::{self, Inputs, Normalized};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/official")
}

fn inputs() -> Inputs {
    Inputs::load(&fixtures().join("openapi")).expect("fixture inputs load")
}

fn official() -> Value {
    let text = std::fs::read_to_string(fixtures().join("openapi.json")).expect("fixture document");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn normalized() -> Normalized {
    normalize::normalize_with_official(
        &fixtures().join("pages"),
        &fixtures().join("openapi.json"),
        &inputs(),
    )
    .expect("fixture normalizes")
}

fn at<'a>(doc: &'a Value, ptr: &str) -> &'a Value {
    doc.pointer(ptr)
        .unwrap_or_else(|| panic!("nothing at {ptr}"))
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    at(doc, &format!("/components/schemas/{name}"))
}

fn param<'a>(doc: &'a Value, op: &str, name: &str) -> &'a Value {
    at(doc, &format!("{op}/parameters"))
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no parameter {name} in {op}"))
}

const LIST: &str = "/paths/~1widgets/get";
const CREATE: &str = "/paths/~1widgets/post";
const CREATOR_LIST: &str = "/paths/~1creators~1{creatorUserUuid}~1widgets/get";
const GET: &str = "/paths/~1widgets~1{uuid}/get";
const PART_URL: &str = "/paths/~1widgets~1uploads~1{uploadId}~1parts~1{partNumber}~1url/get";
const BATCH: &str = "/paths/~1widgets~1batch/post";
const GADGETS: &str = "/paths/~1gadgets/get";

#[test]
fn every_official_operation_is_kept_with_kebab_case_ids() {
    let n = normalized();
    assert_eq!(n.operation_count(), 7);
    let doc = &n.doc;
    assert_eq!(at(doc, LIST)["operationId"], "list-widgets");
    assert_eq!(at(doc, CREATOR_LIST)["operationId"], "list-creator-widgets");
    assert_eq!(at(doc, GET)["operationId"], "get-widget-by-uuid");
    assert_eq!(at(doc, BATCH)["operationId"], "batch-widget-totals");
    normalize::validate(doc).expect("parses with openapiv3");
    assert_eq!(doc["openapi"], "3.0.3");
}

#[test]
fn version_header_is_pinned_and_auth_is_the_security_scheme() {
    let doc = normalized().doc;
    assert_eq!(doc["info"]["version"], "2030-01-01");
    assert_eq!(doc["security"], json!([{ "bearerAuth": [] }]));
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            assert!(op.get("security").is_none(), "{method} {path}");
            for p in op["parameters"].as_array().into_iter().flatten() {
                assert_ne!(p["in"], "header", "{method} {path}: {p}");
            }
        }
    }
}

#[test]
fn tags_come_from_the_page_group_else_the_path_rule_and_mismatches_are_reported() {
    let n = normalized();
    // A page: its group, its reference URL, its scopes only where the official description names none.
    assert_eq!(at(&n.doc, LIST)["tags"], json!(["widgets"]));
    assert_eq!(
        at(&n.doc, LIST)["externalDocs"]["url"],
        "https://docs.example.test/reference/widgets/list-widgets"
    );
    assert_eq!(at(&n.doc, LIST)["x-fanvue-scopes"], json!(["read:widget"]));
    assert_eq!(
        at(&n.doc, GADGETS)["x-fanvue-scopes"],
        json!(["read:gadget"])
    );
    // No page: the path rule.
    assert_eq!(at(&n.doc, CREATOR_LIST)["tags"], json!(["agencies"]));
    assert_eq!(
        at(&n.doc, CREATOR_LIST)["x-fanvue-scopes"],
        json!(["read:widget", "read:creator"])
    );
    assert!(at(&n.doc, CREATOR_LIST).get("externalDocs").is_none());
    // The gadgets page sits in `widgets/` while the rule says `gadgets`: the page wins, the mismatch is reported.
    assert_eq!(at(&n.doc, GADGETS)["tags"], json!(["widgets"]));
    assert!(
        n.warnings
            .iter()
            .any(|w| w.contains("GET /gadgets") && w.contains("`gadgets`")),
        "{:?}",
        n.warnings
    );
    let tags: Vec<&str> = n.doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tags, ["agencies", "widgets"]);
}

#[test]
fn an_operation_without_page_or_rule_is_tagged_by_its_first_segment_with_a_note() {
    let mut inputs = inputs();
    inputs.names.tag_rules.retain(|r| r.prefix != "/creators");
    let n = normalize::normalize_official(
        normalize::read_pages(&fixtures().join("pages")).expect("pages"),
        &official(),
        &inputs,
    )
    .expect("a new area does not stop normalize");
    assert_eq!(at(&n.doc, CREATOR_LIST)["tags"], json!(["creators"]));
    let note = "GET /creators/{creatorUserUuid}/widgets: no reference page and no `tag_rules` prefix of \
                openapi/names.yaml matches it: tagged `creators` from its first path segment (a `tag_rules` \
                entry chooses another)";
    assert!(n.warnings.iter().any(|w| w == note), "{:#?}", n.warnings);
}

#[test]
fn rule_a_instants_are_date_times_nullable_exactly_when_the_official_document_says() {
    let raw = official();
    let raw_widget = at(
        &raw,
        "/paths/~1widgets/get/responses/200/content/application~1json/schema/properties/data/items/properties",
    );
    assert_eq!(raw_widget["createdAt"]["format"], "date", "the defect");
    let doc = normalized().doc;
    let props = &schema(&doc, "Widget")["properties"];
    assert_eq!(
        props["createdAt"],
        json!({ "type": "string", "format": "date-time", "nullable": true, "example": "2024-01-15T00:00:00.000Z" })
    );
    assert_eq!(props["updatedAt"]["format"], "date-time");
    assert!(props["updatedAt"].get("nullable").is_none());
    // A real date stays a date.
    assert_eq!(props["releasedOn"]["format"], "date");
}

#[test]
fn rule_b_integers_and_cents_by_the_rules_with_their_bounds_and_decimals_stay_numbers() {
    let doc = normalized().doc;
    let page = param(&doc, LIST, "page");
    assert_eq!(
        page["schema"],
        json!({ "type": "integer", "format": "int64", "default": 1, "minimum": 1 })
    );
    let size = &param(&doc, LIST, "size")["schema"];
    assert_eq!(
        (&size["type"], &size["minimum"], &size["maximum"]),
        (&json!("integer"), &json!(1), &json!(50))
    );
    let widget = &schema(&doc, "Widget")["properties"];
    assert_eq!(widget["price"]["type"], "number");
    assert_eq!(widget["price"]["format"], "cents");
    assert_eq!(widget["price"]["minimum"], 300);
    assert_eq!(widget["rating"]["type"], "number");
    assert_eq!(
        schema(&doc, "Pagination")["properties"]["page"]["type"],
        "integer"
    );
}

#[test]
fn rule_c_comma_separated_array_parameters_keep_style_form_explode_false() {
    let doc = normalized().doc;
    for op in [LIST, CREATOR_LIST] {
        let status = param(&doc, op, "status");
        assert_eq!(status["style"], "form", "{op}");
        assert_eq!(status["explode"], false, "{op}");
        assert_eq!(status["schema"]["type"], "array");
        assert_eq!(
            status["schema"]["items"]["$ref"],
            "#/components/schemas/WidgetStatus"
        );
    }
}

#[test]
fn rule_d_deprecated_properties_are_never_required() {
    let raw = official();
    let raw_totals = at(
        &raw,
        "/paths/~1widgets~1batch/post/responses/200/content/application~1json/schema/additionalProperties/anyOf/0",
    );
    assert_eq!(
        raw_totals["required"],
        json!(["total", "gross"]),
        "the defect"
    );
    let doc = normalized().doc;
    let totals = schema(&doc, "WidgetTotals");
    assert_eq!(totals["required"], json!(["total"]));
    assert_eq!(totals["properties"]["gross"]["deprecated"], true);
    assert!(totals["properties"]["total"].get("deprecated").is_none());
}

#[test]
fn rule_e_batch_map_values_are_a_named_union_with_per_key_error_first() {
    let doc = normalized().doc;
    let map = at(
        &doc,
        &format!("{BATCH}/responses/200/content/application~1json/schema"),
    );
    assert_eq!(
        map["additionalProperties"],
        json!({ "$ref": "#/components/schemas/WidgetTotalsOrError" })
    );
    assert_eq!(
        schema(&doc, "WidgetTotalsOrError"),
        &json!({ "oneOf": [
            { "$ref": "#/components/schemas/PerKeyError" },
            { "$ref": "#/components/schemas/WidgetTotals" },
        ] })
    );
    assert_eq!(schema(&doc, "PerKeyError")["required"], json!(["error"]));
}

#[test]
fn rule_f_path_parameters_are_required_integers_with_bounds() {
    let doc = normalized().doc;
    let part = param(&doc, PART_URL, "partNumber");
    assert_eq!(part["required"], true);
    assert_eq!(
        part["schema"],
        json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": 10000 })
    );
}

#[test]
fn rule_g_the_part_url_stays_text_plain() {
    let doc = normalized().doc;
    assert_eq!(
        at(&doc, &format!("{PART_URL}/responses/200/content")),
        &json!({ "text/plain": { "schema": { "type": "string" } } })
    );
}

#[test]
fn rule_h_anyof_media_is_one_object_and_a_bare_nullable_branch_is_nullable() {
    let doc = normalized().doc;
    let detail = schema(&doc, "WidgetDetail");
    assert!(detail.get("oneOf").is_none() && detail.get("anyOf").is_none());
    assert_eq!(detail["required"], json!(["uuid", "status"]));
    let props: Vec<&String> = detail["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    assert_eq!(props, ["name", "status", "uuid", "width"]);
    assert_eq!(detail["properties"]["width"]["type"], "integer");
    // `lookup` values: anyOf [short, full, {nullable: true}] → the same merged object, nullable.
    let lookup = at(
        &doc,
        "/components/schemas/ListGadgetsResponse/properties/lookup/additionalProperties",
    );
    assert_eq!(
        lookup,
        &json!({ "allOf": [{ "$ref": "#/components/schemas/WidgetDetail" }], "nullable": true })
    );
}

#[test]
fn rule_i_every_error_is_api_error_and_410_429_are_everywhere() {
    let doc = normalized().doc;
    let api_error =
        json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ApiError" } } });
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = op["responses"].as_object().expect("responses");
            for code in ["410", "429"] {
                assert!(responses.contains_key(code), "{method} {path} {code}");
            }
            for (code, r) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    assert_eq!(r["content"], api_error, "{method} {path} {code}");
                }
            }
            assert_eq!(
                responses["429"]["headers"].as_object().map(|h| h.len()),
                Some(4)
            );
        }
    }
    // The error shapes of the official document are not in the output.
    for gone in ["UnsupportedVersionError", "ValidationError"] {
        assert!(
            doc.pointer(&format!("/components/schemas/{gone}"))
                .is_none()
        );
    }
}

#[test]
fn rule_j_no_page_parameters_are_invented() {
    let doc = normalized().doc;
    assert!(
        at(&doc, GADGETS).get("parameters").is_none(),
        "the official document declares no page/size for /gadgets"
    );
}

#[test]
fn rule_k_request_bodies_are_required_with_their_bounds() {
    let doc = normalized().doc;
    let body = at(&doc, &format!("{CREATE}/requestBody"));
    assert_eq!(body["required"], true);
    let s = &body["content"]["application/json"]["schema"];
    assert_eq!(s["type"], "object", "the body stays inline");
    assert_eq!(s["properties"]["name"]["minLength"], 1);
    assert_eq!(s["properties"]["name"]["maxLength"], 255);
    assert_eq!(s["properties"]["price"]["exclusiveMinimum"], true);
    assert_eq!(s["properties"]["price"]["minimum"], 0);
    assert_eq!(s["properties"]["tags"]["minItems"], 1);
    assert_eq!(s["properties"]["tags"]["maxItems"], 100);
    // The body's inline enum is named and shared with the response's.
    assert_eq!(
        s["properties"]["kind"]["$ref"],
        schema(&doc, "Widget")["properties"]["kind"]["$ref"]
    );
}

#[test]
fn creator_and_agency_variants_share_their_types() {
    let doc = normalized().doc;
    let schema_of = |op: &str| {
        at(
            &doc,
            &format!("{op}/responses/200/content/application~1json/schema/$ref"),
        )
        .clone()
    };
    assert_eq!(schema_of(LIST), schema_of(CREATOR_LIST));
    assert_eq!(
        schema(&doc, "ListWidgetsResponse")["properties"]["data"]["items"]["$ref"],
        "#/components/schemas/Widget"
    );
}

#[test]
fn output_is_deterministic() {
    assert_eq!(normalized().text, normalized().text);
}

#[test]
fn the_official_document_must_be_openapi_3() {
    let err = normalize::official::parse("{\"openapi\": \"2.0\", \"paths\": {}}", "x.json")
        .expect_err("swagger 2");
    assert!(err.to_string().contains("x.json"), "{err}");
    let err = normalize::official::parse("not json", "y.json").expect_err("not json");
    assert!(err.to_string().contains("y.json"), "{err}");
}
