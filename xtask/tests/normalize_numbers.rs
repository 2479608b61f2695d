//! The number rules of `openapi/numbers.yaml`: integers, cents and decimals by the document's words, one test per
//! rule, on the document's own descriptions.

use std::path::Path;

use serde_json::{Value, json};
use xtask::normalize::numbers::{NumberKind, NumberRules};

fn workspace_rules() -> NumberRules {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/numbers.yaml");
    let text = std::fs::read_to_string(&path).expect("openapi/numbers.yaml");
    NumberRules::from_yaml(&text).expect("numbers.yaml parses")
}

/// The kind and the rule's name for a number named `name` described `description` (with `minimum`).
fn classify(name: &str, description: Option<&str>, minimum: Option<f64>) -> (NumberKind, String) {
    let rules = workspace_rules();
    let (kind, rule) = rules.classify(Some(name), description, minimum);
    (kind, rule.map(|r| r.rule.clone()).unwrap_or_default())
}

/// Asserts that the rule named `rule` quotes `words`.
fn quotes(rule: &str, words: &str) {
    let rules = workspace_rules();
    let found = rules
        .integers
        .iter()
        .chain(&rules.cents)
        .chain(&rules.decimals)
        .find(|r| r.rule == rule)
        .unwrap_or_else(|| panic!("no rule {rule}"));
    assert!(
        found.reason.contains(&format!("\"{words}")),
        "rule {rule} quotes {words:?}: {}",
        found.reason
    );
}

#[test]
fn counts_are_integers_by_their_words() {
    for (name, description) in [
        ("likesCount", "Number of likes the post has received"),
        ("count", "Number of paid tips received on this post"),
        ("clicks", "Number of clicks on this link"),
        ("newTip", "Number of unread tip notifications"),
        (
            "size",
            "Number of items to return per page (1-50, default: 15)",
        ),
        ("limit", "Maximum number of subscribers to return"),
        (
            "totalFollowers",
            "Total count of all users who clicked this link and are currently followers",
        ),
    ] {
        assert_eq!(
            classify(name, Some(description), None),
            (NumberKind::Integer, "counts".into()),
            "{name}"
        );
    }
    quotes("counts", "Number of likes the post has received");
}

#[test]
fn page_numbers_are_integers() {
    for description in [
        "Current page number",
        "Page number to retrieve (starts from 1)",
    ] {
        assert_eq!(
            classify("page", Some(description), None),
            (NumberKind::Integer, "page-numbers".into())
        );
    }
    quotes("page-numbers", "Current page number");
}

#[test]
fn part_numbers_and_pixel_sizes_are_integers_without_a_description() {
    for (name, rule) in [
        ("partNumber", "part-numbers"),
        ("PartNumber", "part-numbers"),
        ("width", "pixel-sizes"),
        ("height", "pixel-sizes"),
    ] {
        assert_eq!(
            classify(name, None, None),
            (NumberKind::Integer, rule.into()),
            "{name}"
        );
    }
    quotes(
        "part-numbers",
        "Return a presigned URL to upload a specific part number",
    );
    quotes("pixel-sizes", "width\": 1920");
}

#[test]
fn undescribed_counts_are_integers_described_ones_go_by_their_words() {
    assert_eq!(
        classify("unreadMessagesCount", None, None),
        (NumberKind::Integer, "undescribed-counts".into())
    );
    // A described `...Count` goes by its description, not by its name.
    assert_eq!(
        classify("oddCount", Some("Average of something"), None).0,
        NumberKind::Decimal
    );
    quotes("undescribed-counts", "Number of comments on the post");
}

#[test]
fn amounts_in_cents_are_money_whatever_their_name() {
    for (name, description) in [
        (
            "availableBalance",
            "Current available balance that can be withdrawn, in USD cents",
        ),
        ("price", "Price in cents for paid posts"),
        ("gross", "Amount the fan paid, converted to USD cents"),
        ("net", "Creator's cut after Fanvue fees, in USD cents"),
        (
            "totalRevenue",
            "Total revenue generated from purchases of this message (in cents)",
        ),
        (
            "eph",
            "Earnings per active hour, in cents (0 if no active hours)",
        ),
        (
            "total",
            "Largest single payment this fan made, in USD cents",
        ),
    ] {
        assert_eq!(
            classify(name, Some(description), None),
            (NumberKind::Cents, "cents".into()),
            "{name}"
        );
    }
    quotes(
        "cents",
        "Current available balance that can be withdrawn, in USD cents",
    );
    // The request price of a message: no description, the paid-content bound.
    assert_eq!(
        classify("price", None, Some(300.0)),
        (NumberKind::Cents, "paid-content-prices".into())
    );
    quotes(
        "paid-content-prices",
        "Message price in cents (null for free messages)",
    );
}

#[test]
fn numbers_without_words_stay_decimals() {
    for (name, description) in [
        // an app's subscription plan price: no unit given (`9.99` is a real answer)
        ("price", None),
        ("lengthMs", None),
        ("displayPosition", None),
        ("recommendedPrice", None),
        (
            "totalGross",
            Some("Total gross earnings from this link (before fees)"),
        ),
        (
            "total",
            Some("Cumulative net subscriber change from query start date (new - cancelled)."),
        ),
    ] {
        assert_eq!(
            classify(name, description, None),
            (NumberKind::Decimal, String::new()),
            "{name}"
        );
    }
}

#[test]
fn averages_ratios_percentages_and_hours_stay_decimals_with_the_documents_words_as_reason() {
    for (name, description, rule) in [
        (
            "avgResponseMs",
            Some("Average response time in milliseconds, or null if no responses were tracked"),
            "averages",
        ),
        ("averageByHourOfDay", None, "averages"),
        (
            "goldenRatio",
            Some("Ratio of PPVs unlocked to messages sent (0 if no messages were sent)"),
            "ratios",
        ),
        ("unlockRatio", None, "ratios"),
        ("grossChangePercentage", None, "percentages"),
        (
            "percentile",
            Some("Earnings percentile (decimal) the creator falls into"),
            "percentages",
        ),
        (
            "activeHours",
            Some("Number of hours the chatter was active in the period"),
            "hours",
        ),
    ] {
        assert_eq!(
            classify(name, description, None),
            (NumberKind::Decimal, rule.into()),
            "{name}"
        );
    }
    quotes("averages", "Average response time in milliseconds");
    quotes("ratios", "Ratio of PPVs unlocked to messages sent");
    quotes("percentages", "Earnings percentile (decimal)");
    quotes(
        "hours",
        "Number of hours the chatter was active in the period",
    );
    // prefixes only at a word boundary
    assert!(workspace_rules().decimal_rule("avgs").is_none());
}

#[test]
fn applied_to_schemas_and_parameters() {
    let rules = workspace_rules();
    let mut schema = json!({
        "type": "object",
        "properties": {
            "avgResponseMs": { "type": "number", "nullable": true, "description": "Average response time" },
            "lengthMs": { "type": "number" },
            "likesCount": { "type": "number", "description": "Number of likes the post has received" },
            "availableBalance": { "type": "number", "description": "Current available balance, in USD cents" },
            "variants": { "type": "array", "items": { "type": "object", "properties": {
                "width": { "type": "number", "nullable": true, "minimum": 1.0 }
            } } },
        }
    });
    rules.apply(&mut schema, None);
    let props = &schema["properties"];
    assert_eq!(props["avgResponseMs"]["type"], "number");
    assert_eq!(props["lengthMs"], json!({ "type": "number" }));
    assert_eq!(props["likesCount"]["type"], "integer");
    assert_eq!(props["likesCount"]["format"], "int64");
    assert_eq!(props["availableBalance"]["type"], "number");
    assert_eq!(props["availableBalance"]["format"], "cents");
    let width = &props["variants"]["items"]["properties"]["width"];
    assert_eq!(
        width,
        &json!({ "type": "integer", "format": "int64", "nullable": true, "minimum": 1 })
    );

    // A parameter is classified by its own description.
    let mut doc = json!({ "paths": { "/x": { "get": { "parameters": [
        { "name": "page", "in": "query", "description": "Page number to retrieve (starts from 1)",
          "schema": { "type": "number", "minimum": 1 } },
        { "name": "page", "in": "query", "schema": { "type": "number" } },
    ] } } } });
    rules.apply_parameters(&mut doc);
    let params = &doc["paths"]["/x"]["get"]["parameters"];
    assert_eq!(params[0]["schema"]["type"], "integer");
    assert_eq!(
        params[1]["schema"]["type"], "number",
        "no words, no name rule: a decimal"
    );
}

#[test]
fn every_number_of_the_committed_spec_is_what_its_rule_says() {
    // The committed spec: the fields the issue named.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/fanvue.json");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("spec")).expect("json");
    let schemas = &doc["components"]["schemas"];
    let find = |name: &str| -> Vec<&Value> {
        let mut out = Vec::new();
        for s in schemas.as_object().expect("schemas").values() {
            if let Some(p) = s.pointer(&format!("/properties/{name}")) {
                out.push(p);
            }
        }
        out
    };
    for balance in find("availableBalance") {
        assert_eq!(
            (&balance["type"], &balance["format"]),
            (&json!("number"), &json!("cents"))
        );
    }
    assert!(!find("availableBalance").is_empty());
    for count in find("likesCount") {
        assert_eq!(count["type"], "integer");
    }
    for length in find("lengthMs") {
        assert_eq!(length["type"], "number");
        assert!(length.get("format").is_none());
    }
}

#[test]
fn a_rule_needs_a_quoted_reason_a_unique_name_and_a_pattern() {
    let ok =
        "decimals:\n  - rule: averages\n    prefixes: [avg]\n    reason: 'doc: \"Average x\"'\n";
    assert!(NumberRules::from_yaml(ok).is_ok());
    let unquoted = "decimals:\n  - rule: averages\n    prefixes: [avg]\n    reason: averages\n";
    let err = NumberRules::from_yaml(unquoted).unwrap_err();
    assert!(err.contains("quote"), "{err}");
    let twice = format!(
        "{ok}integers:\n  - rule: averages\n    words: [mean]\n    reason: 'doc: \"Mean\"'\n"
    );
    let err = NumberRules::from_yaml(&twice).unwrap_err();
    assert!(err.contains("twice"), "{err}");
    let empty = "cents:\n  - rule: money\n    reason: 'doc: \"in cents\"'\n";
    let err = NumberRules::from_yaml(empty).unwrap_err();
    assert!(err.contains("matches no name"), "{err}");
    let no_reason = "decimals:\n  - rule: averages\n    prefixes: [avg]\n";
    assert!(NumberRules::from_yaml(no_reason).is_err());
    let legacy = "names: [price]\n";
    assert!(
        NumberRules::from_yaml(legacy).is_err(),
        "name lists are gone"
    );
}
