//! The integer rules of `openapi/numbers.yaml` and their named decimal exceptions.

use std::path::Path;

use serde_json::json;
use xtask::normalize::numbers::NumberRules;

fn workspace_rules() -> NumberRules {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/numbers.yaml");
    let text = std::fs::read_to_string(&path).expect("openapi/numbers.yaml");
    NumberRules::from_yaml(&text).expect("numbers.yaml parses")
}

#[test]
fn averages_ratios_and_percentages_stay_numbers_with_the_documents_words_as_reason() {
    let rules = workspace_rules();
    let averages = rules
        .decimal_rule("avgResponseMs")
        .expect("a rule keeps avgResponseMs a number");
    assert_eq!(averages.rule, "averages");
    assert!(
        averages
            .reason
            .contains("\"Average response time in milliseconds"),
        "the reason quotes the official document: {}",
        averages.reason
    );
    for (name, rule) in [
        ("avgResponseMs", "averages"),
        ("averageByHourOfDay", "averages"),
        ("goldenRatio", "ratios"),
        ("unlockRatio", "ratios"),
        ("grossChangePercentage", "percentages"),
        ("percentile", "percentages"),
    ] {
        assert_eq!(
            rules.decimal_rule(name).map(|r| r.rule.as_str()),
            Some(rule),
            "{name}"
        );
        assert!(!rules.is_integer(name), "{name} stays a number");
    }
    // The integer rules still apply to everything else, prefixes only at a word boundary.
    for name in ["lengthMs", "likesCount", "page", "price", "avgs"] {
        assert!(rules.decimal_rule(name).is_none(), "{name}");
    }
    for name in ["lengthMs", "likesCount", "page", "price"] {
        assert!(rules.is_integer(name), "{name} is an integer");
    }

    // Applied to a schema: the average keeps `number`, its sibling duration becomes an integer.
    let mut schema = json!({
        "type": "object",
        "properties": {
            "avgResponseMs": { "type": "number", "nullable": true },
            "lengthMs": { "type": "number" },
        }
    });
    rules.apply(&mut schema, None);
    assert_eq!(
        schema["properties"]["avgResponseMs"],
        json!({ "type": "number", "nullable": true })
    );
    assert_eq!(
        schema["properties"]["lengthMs"],
        json!({ "type": "integer", "format": "int64" })
    );
}

#[test]
fn a_decimal_rule_needs_a_quoted_reason_a_unique_name_and_a_pattern() {
    let ok =
        "decimals:\n  - rule: averages\n    prefixes: [avg]\n    reason: 'doc: \"Average x\"'\n";
    assert!(NumberRules::from_yaml(ok).is_ok());
    let unquoted = "decimals:\n  - rule: averages\n    prefixes: [avg]\n    reason: averages\n";
    let err = NumberRules::from_yaml(unquoted).unwrap_err();
    assert!(err.contains("quote"), "{err}");
    let twice =
        format!("{ok}  - rule: averages\n    suffixes: [Mean]\n    reason: 'doc: \"Mean\"'\n");
    let err = NumberRules::from_yaml(&twice).unwrap_err();
    assert!(err.contains("twice"), "{err}");
    let empty = "decimals:\n  - rule: averages\n    reason: 'doc: \"Average\"'\n";
    let err = NumberRules::from_yaml(empty).unwrap_err();
    assert!(err.contains("matches no name"), "{err}");
    let no_reason = "decimals:\n  - rule: averages\n    prefixes: [avg]\n";
    assert!(NumberRules::from_yaml(no_reason).is_err());
}
