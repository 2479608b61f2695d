//! Duplicate operations (fix 6) and bad input: each gives a typed error naming the file (and the line), never a
//! panic.

use std::path::Path;

use xtask::normalize::{self, Inputs, NormalizeError};

/// A small page in the shape of the reference pages, with `extra` appended to the YAML block (indented as given).
fn page(op_id: &str, method: &str, path: &str, response_schema: &str, components: &str) -> String {
    format!(
        "# {op_id}\n\n{} https://api.example.test{path}\n\nReference: https://docs.example.test/{op_id}\n\n\
         ## OpenAPI Specification\n\n```yaml\n\
openapi: 3.1.1
info:
  title: {op_id}
  version: endpoint_.x
paths:
  {path}:
    {method}:
      operationId: {op_id}
      summary: Summary of {op_id}
      tags:
        - []
      parameters:
        - name: X-Fanvue-API-Version
          in: header
          required: true
          schema:
            type: string
            default: '2030-01-01'
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
{response_schema}
{components}```\n",
        method.to_uppercase()
    )
}

const REF_THING: &str = "                $ref: '#/components/schemas/Thing'";

fn thing(props: &str) -> String {
    format!("components:\n  schemas:\n    Thing:\n      type: object\n      properties:\n{props}\n")
}

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write page");
}

fn run(files: &[(&str, String)]) -> Result<normalize::Normalized, NormalizeError> {
    let dir = tempfile::tempdir().expect("tempdir");
    for (file, text) in files {
        write(dir.path(), file, text);
    }
    normalize::normalize_dir(dir.path(), &Inputs::default())
}

fn good(op_id: &str, path: &str) -> String {
    page(
        op_id,
        "get",
        path,
        REF_THING,
        &thing("        id:\n          type: string"),
    )
}

#[test]
fn identical_duplicate_is_kept_once_and_the_misnamed_page_is_reported() {
    let list = good("list-things", "/things");
    let out = run(&[
        ("things/list-things.md", list.clone()),
        // Holds the list page although its name says "create".
        ("things/create-thing.md", list),
        ("things/get-other.md", good("get-other", "/other")),
    ])
    .expect("identical duplicates are fine");
    assert_eq!(normalize::count_operations(&out.doc), 2);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("things/create-thing.md") && w.contains("GET /things")),
        "{:?}",
        out.warnings
    );
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("identical") && w.contains("kept things/list-things.md")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn different_duplicate_is_an_error_naming_both_pages() {
    let a = good("list-things", "/things");
    let b = a.replace("Summary of list-things", "Another summary");
    let err = run(&[("things/a-list.md", a), ("things/b-list.md", b)]).expect_err("must fail");
    assert!(
        matches!(err, NormalizeError::DuplicateOperation { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("things/a-list.md")
            && msg.contains("things/b-list.md")
            && msg.contains("GET /things"),
        "{msg}"
    );
}

#[test]
fn page_without_yaml_block_is_an_error_naming_the_file() {
    let err = run(&[(
        "things/empty.md",
        "# Empty\n\nNo specification here.\n".into(),
    )])
    .expect_err("must fail");
    assert!(matches!(err, NormalizeError::NoYamlBlock { .. }), "{err:?}");
    assert!(err.to_string().contains("things/empty.md"));
}

#[test]
fn broken_yaml_names_file_and_page_line() {
    let text = good("get-thing", "/thing").replace(
        "      summary: Summary of get-thing",
        "      summary: [unclosed",
    );
    let line = text
        .lines()
        .position(|l| l.contains("[unclosed"))
        .expect("broken line")
        + 1;
    let err = run(&[("things/get-thing.md", text)]).expect_err("must fail");
    let NormalizeError::Yaml {
        file,
        line: Some(reported),
        ..
    } = &err
    else {
        panic!("not a YAML error with a line: {err:?}");
    };
    assert_eq!(file, "things/get-thing.md");
    // The parser reports where it noticed the problem: at or shortly after the broken line of the page.
    assert!(
        (line..line + 3).contains(reported),
        "line {reported}, broken at {line}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("things/get-thing.md:{reported}: broken YAML"))
    );
}

fn unsupported(props: &str, construct: &str) {
    let text = page("get-thing", "get", "/thing", REF_THING, &thing(props));
    let err = run(&[("things/get-thing.md", text.clone())]).expect_err("must fail");
    let NormalizeError::Unsupported {
        file,
        line,
        construct: c,
        ..
    } = &err
    else {
        panic!("not an Unsupported error: {err:?}");
    };
    assert_eq!(file, "things/get-thing.md");
    assert!(c.contains(construct), "{c} vs {construct}");
    let line = line.expect("a line");
    let text_line = text.lines().nth(line - 1).expect("line exists");
    assert!(
        text_line.contains(construct.trim_start_matches("type: [")),
        "{text_line}"
    );
}

#[test]
fn const_is_rejected() {
    unsupported("        kind:\n          const: fixed", "const");
}

#[test]
fn prefix_items_is_rejected() {
    unsupported(
        "        pair:\n          type: array\n          prefixItems:\n            - type: string",
        "prefixItems",
    );
}

#[test]
fn defs_is_rejected() {
    unsupported(
        "        nested:\n          $defs:\n            a:\n              type: string",
        "$defs",
    );
}

#[test]
fn two_non_null_types_are_rejected() {
    unsupported(
        "        either:\n          type:\n            - string\n            - integer",
        "type: [",
    );
}

#[test]
fn examples_arrays_are_dropped_and_numeric_exclusive_bounds_converted() {
    let props = "        n:\n          type: integer\n          exclusiveMinimum: 0\n          examples:\n            - 1";
    let out = run(&[(
        "things/get-thing.md",
        page("get-thing", "get", "/thing", REF_THING, &thing(props)),
    )])
    .expect("handled constructs");
    let n = &out.doc["components"]["schemas"]["Thing"]["properties"]["n"];
    assert_eq!(n["minimum"], 0);
    assert_eq!(n["exclusiveMinimum"], true);
    assert!(n.get("examples").is_none());
}

#[test]
fn dangling_ref_names_file_and_line() {
    let text = page(
        "get-thing",
        "get",
        "/thing",
        "                $ref: '#/components/schemas/Missing'",
        &thing("        id:\n          type: string"),
    );
    let line = text
        .lines()
        .position(|l| l.contains("Missing"))
        .expect("ref line")
        + 1;
    let err = run(&[("things/get-thing.md", text)]).expect_err("must fail");
    assert!(matches!(err, NormalizeError::DanglingRef { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("things/get-thing.md:{line}: dangling $ref `#/components/schemas/Missing`")
    );
}

#[test]
fn two_schemas_one_name_different_shapes_is_an_error_naming_both() {
    let a = page(
        "get-a",
        "get",
        "/a",
        REF_THING,
        &thing("        id:\n          type: string"),
    );
    let b = page(
        "get-b",
        "get",
        "/b",
        REF_THING,
        &thing("        count:\n          type: boolean"),
    );
    let err = run(&[("things/get-a.md", a), ("things/get-b.md", b)]).expect_err("must fail");
    assert!(
        matches!(err, NormalizeError::SchemaNameConflict { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("Thing") && msg.contains("things/get-a.md") && msg.contains("things/get-b.md"),
        "{msg}"
    );
}

#[test]
fn same_name_same_shape_is_merged() {
    let out = run(&[
        ("things/get-a.md", good("get-a", "/a")),
        ("things/get-b.md", good("get-b", "/b")),
    ])
    .expect("identical schemas merge");
    assert_eq!(
        out.doc["components"]["schemas"]
            .as_object()
            .map(|s| s.len()),
        Some(2)
    ); // Thing + ApiError
}

#[test]
fn disagreeing_api_versions_are_an_error() {
    let a = good("get-a", "/a");
    let b = good("get-b", "/b").replace("'2030-01-01'", "'2031-01-01'");
    let err = run(&[("things/get-a.md", a), ("things/get-b.md", b)]).expect_err("must fail");
    assert!(
        matches!(err, NormalizeError::VersionMismatch { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("things/get-b.md"));
}

#[test]
fn an_empty_folder_is_an_error() {
    let err = run(&[]).expect_err("must fail");
    assert!(matches!(err, NormalizeError::NoPages { .. }), "{err:?}");
}

#[test]
fn overlay_naming_a_missing_operation_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "things/get-a.md", &good("get-a", "/a"));
    let overlay = xtask::normalize::overlay::Overlay::from_yaml(
        "- why: test\n  operation: GET /nope\n  merge: {summary: x}\n",
    )
    .expect("overlay parses");
    let inputs = Inputs {
        overlay,
        ..Inputs::default()
    };
    let err = normalize::normalize_dir(dir.path(), &inputs).expect_err("must fail");
    assert!(
        err.to_string().contains("GET /nope does not exist"),
        "{err}"
    );
}

#[test]
fn an_operation_without_operation_id_is_an_error() {
    let text = good("get-a", "/a").replace("      operationId: get-a\n", "");
    let err = run(&[("things/get-a.md", text)]).expect_err("must fail");
    assert!(
        matches!(err, NormalizeError::NotAnOpenApiPage { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("things/get-a.md") && err.to_string().contains("no operationId")
    );
}

#[test]
fn a_hoisted_enum_never_replaces_a_schema_of_the_page() {
    let text = page(
        "get-thing",
        "get",
        "/thing",
        REF_THING,
        &thing("        id:\n          type: string")
            .replace("    Thing:", "    GetThingSort:\n      type: object\n    Thing:"),
    )
    .replace(
        "      parameters:\n",
        "      parameters:\n        - name: sort\n          in: query\n          schema:\n            type: string\n            enum:\n              - value: asc\n",
    );
    let out = run(&[("things/get-thing.md", text)]).expect("normalizes");
    let schemas = &out.doc["components"]["schemas"];
    assert_eq!(schemas["GetThingSort2"]["enum"], serde_json::json!(["asc"]));
    let param = &out.doc["paths"]["/thing"]["get"]["parameters"][0];
    assert_eq!(
        param["schema"]["$ref"],
        "#/components/schemas/GetThingSort2"
    );
}
