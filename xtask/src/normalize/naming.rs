//! Schema names (fix 7): the reviewed decisions of `openapi/names.yaml`, and the automatic fallback.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::walk::pascal;

/// No schema name is longer than this.
pub const MAX_NAME_LEN: usize = 40;

/// The naming decisions of `openapi/names.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// A schema's name in a page → its name. Strongest rule.
    #[serde(default)]
    pub schemas: BTreeMap<String, String>,
    /// An enum's values, sorted and comma-separated (`audio,document,image,video`) → its name.
    #[serde(default)]
    pub enums: BTreeMap<String, String>,
    /// The end of a schema's name in a page (`Pagination`) → its name. The longest matching suffix wins.
    #[serde(default)]
    pub suffixes: BTreeMap<String, String>,
    /// A page group (the operation tag) → the tag's description.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Path prefix → tag, for operations of the official document that have no reference page.
    #[serde(default)]
    pub tag_rules: Vec<super::official::TagRule>,
}

impl Names {
    /// Parses `names.yaml`.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_norway::from_str(text).map_err(|e| e.to_string())
    }

    /// The name a schema called `upstream` in its page gets, with the rule's rank (lower wins).
    ///
    /// `schema` is the (normalized) schema, `operation` the page's operationId in PascalCase.
    pub fn name_for(&self, upstream: &str, schema: &Value, operation: &str) -> (u8, String) {
        if let Some(n) = self.schemas.get(upstream) {
            return (0, n.clone());
        }
        if let Some(values) = enum_key(schema)
            && let Some(n) = self.enums.get(&values)
        {
            return (1, n.clone());
        }
        if let Some((_, n)) = self
            .suffixes
            .iter()
            .filter(|(s, _)| upstream.ends_with(s.as_str()))
            .max_by_key(|(s, _)| s.len())
        {
            return (2, n.clone());
        }
        (3, auto_name(upstream, operation))
    }
}

/// The key of an enum in `names.yaml`'s `enums`: its values sorted and joined with `,`.
pub fn enum_key(schema: &Value) -> Option<String> {
    let values = schema.get("enum")?.as_array()?;
    let mut texts: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    texts.sort();
    Some(texts.join(","))
}

/// The markers of machine-made names: `<Path><Method><Marker><Rest>`, and what replaces `<Path><Method><Marker>`
/// (the operation's name plus the given word).
const MARKERS: [(&str, &str); 3] = [
    ("ResponsesContentApplicationJsonSchema", ""),
    ("RequestBodyContentApplicationJsonSchema", "Body"),
    ("Parameters", ""),
];

/// The automatic name of a schema called `upstream` in the page of operation `operation` (PascalCase):
/// - `getUserMedia_Response_200` → `GetUserMediaResponse`;
/// - `MediaGetResponsesContentApplicationJsonSchemaDataItems` → `GetUserMediaDataItem`;
/// - any other name is only made PascalCase.
pub fn auto_name(upstream: &str, operation: &str) -> String {
    if let Some(idx) = upstream.find("_Response_") {
        return format!("{}Response", pascal(&upstream[..idx]));
    }
    for (marker, word) in MARKERS {
        if let Some(idx) = upstream.find(marker) {
            let rest = upstream
                .get(idx.saturating_add(marker.len())..)
                .unwrap_or_default();
            return format!("{operation}{word}{}", tidy(rest));
        }
    }
    pascal(upstream)
}

/// Drops the noise of machine-made name tails: `Schema`, `OneOf<N>`, and `Items` → `Item`.
fn tidy(rest: &str) -> String {
    let mut s = rest.replace("Schema", "");
    for n in 0..10 {
        s = s.replace(&format!("OneOf{n}"), "");
    }
    s = s.replace("DataItems", "Item").replace("Items", "Item");
    pascal(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_names() {
        assert_eq!(
            auto_name("getUserMedia_Response_200", "GetUserMedia"),
            "GetUserMediaResponse"
        );
        assert_eq!(
            auto_name(
                "ChatsGetResponsesContentApplicationJsonSchemaDataItemsUser",
                "ListChats"
            ),
            "ListChatsItemUser"
        );
        assert_eq!(
            auto_name(
                "MediaUploadsPostRequestBodyContentApplicationJsonSchemaMediaType",
                "CreateUploadSession"
            ),
            "CreateUploadSessionBodyMediaType"
        );
        assert_eq!(
            auto_name("ChatsGetParametersFilterSchemaItems", "ListChats"),
            "ListChatsFilterItem"
        );
        assert_eq!(auto_name("MediaStatus", "X"), "MediaStatus");
    }

    #[test]
    fn rules_in_order() {
        let names = Names::from_yaml(
            "schemas: {A: Exact}\nenums: {'x,y': XY}\nsuffixes: {Pagination: Pagination, LongPagination: Long}\n",
        )
        .expect("names");
        let e = serde_json::json!({ "enum": ["y", "x"] });
        assert_eq!(names.name_for("A", &e, "Op"), (0, "Exact".into()));
        assert_eq!(names.name_for("B", &e, "Op"), (1, "XY".into()));
        let o = serde_json::json!({ "type": "object" });
        assert_eq!(
            names.name_for("FooLongPagination", &o, "Op"),
            (2, "Long".into())
        );
        assert_eq!(
            names.name_for("FooPagination", &o, "Op"),
            (2, "Pagination".into())
        );
        assert_eq!(
            names.name_for("foo_Response_200", &o, "Op"),
            (3, "FooResponse".into())
        );
        assert!(Names::from_yaml("unknown: 1").is_err());
    }
}
