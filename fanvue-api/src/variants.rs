//! The `variants` query parameter of the media endpoints.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::enums::MediaVariantType;

/// A list of media variants, sent comma-separated as the API reads it
/// (`variants=main,thumbnail`; style form, explode false).
///
/// ```
/// use fanvue_api::enums::MediaVariantType;
/// use fanvue_api::variants::VariantList;
///
/// let list: VariantList = [MediaVariantType::Main, MediaVariantType::Thumbnail].into();
/// assert_eq!(list.to_string(), "main,thumbnail");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct VariantList(Vec<MediaVariantType>);

impl VariantList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The variants, in order.
    pub fn as_slice(&self) -> &[MediaVariantType] {
        &self.0
    }

    /// Appends a variant.
    pub fn push(&mut self, variant: MediaVariantType) {
        self.0.push(variant);
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of variants.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The variants, consuming the list.
    pub fn into_inner(self) -> Vec<MediaVariantType> {
        self.0
    }
}

impl From<Vec<MediaVariantType>> for VariantList {
    fn from(variants: Vec<MediaVariantType>) -> Self {
        Self(variants)
    }
}

impl<const N: usize> From<[MediaVariantType; N]> for VariantList {
    fn from(variants: [MediaVariantType; N]) -> Self {
        Self(variants.into())
    }
}

impl From<&[MediaVariantType]> for VariantList {
    fn from(variants: &[MediaVariantType]) -> Self {
        Self(variants.to_vec())
    }
}

impl FromIterator<MediaVariantType> for VariantList {
    fn from_iter<I: IntoIterator<Item = MediaVariantType>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl IntoIterator for VariantList {
    type Item = MediaVariantType;
    type IntoIter = std::vec::IntoIter<MediaVariantType>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a VariantList {
    type Item = &'a MediaVariantType;
    type IntoIter = std::slice::Iter<'a, MediaVariantType>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for VariantList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, variant) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(variant.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for VariantList {
    type Err = std::convert::Infallible;
    /// Parses `main,thumbnail` (empty items are skipped).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(MediaVariantType::from)
            .collect())
    }
}

impl Serialize for VariantList {
    /// One comma-joined string.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VariantList {
    /// Accepts the comma-joined string or an array.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Joined(String),
            List(Vec<MediaVariantType>),
        }
        Ok(match Repr::deserialize(deserializer)? {
            Repr::Joined(text) => {
                let Ok(list) = text.parse::<VariantList>();
                list
            }
            Repr::List(list) => Self(list),
        })
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for VariantList {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "VariantList".into()
    }

    /// The comma-joined string it is sent as.
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Media variants, comma-separated (e.g. `main,thumbnail`)",
        })
    }
}
