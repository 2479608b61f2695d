//! Amounts of money in cents, kept exactly as the API sends them.
//!
//! The Fanvue document types every number `number`; the ones it describes as cents ("in cents", "in USD cents",
//! "converted to USD cents") are generated as [`Cents`]. Most amounts are whole, but an amount after fees, a
//! converted one or an average can carry a fraction (`"availableBalance": 1234.56`): `Cents` decodes any JSON
//! number without loss, so such an answer still decodes, and the amount is not rounded.
//!
//! ```
//! use fanvue_api::Cents;
//!
//! let whole: Cents = serde_json::from_str("999").unwrap();
//! assert_eq!(whole.whole(), Some(999));
//! assert_eq!(whole, Cents::from(999));
//!
//! let fraction: Cents = serde_json::from_str("1234.56").unwrap();
//! assert_eq!(fraction.whole(), None);
//! assert_eq!(fraction.to_string(), "1234.56");
//! assert_eq!(serde_json::to_string(&fraction).unwrap(), "1234.56");
//! assert!(fraction > whole);
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

/// serde_json's name for a raw value: asked for it, serde_json's deserializer hands over the number's text as
/// written in the document (nothing parsed, nothing rounded).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// An amount of money in cents (USD cents where the document says so).
///
/// A whole amount is an exact `i64` ([`Cents::whole`]); any other JSON number (`1234.56`, `1e3`, a whole number
/// beyond `i64`) is kept as the text that was received: [`Display`](fmt::Display) and serialization write it back
/// exactly as received. Requests take whole cents: `Cents::from(999)` (or [`Cents::new`]), or an exact decimal
/// text with [`str::parse`].
///
/// Comparison is by value: whole amounts compare exactly; when either side has a fraction both are compared as
/// the nearest `f64` (which is why `Cents` is [`PartialOrd`], not `Ord`).
///
/// Decoding takes the number's text from serde_json's reader as written. Where the generated types decode through
/// a buffer (a `oneOf` of several objects), serde hands over an `f64` instead: the amount is then kept as the
/// shortest text that reads back as the same `f64`, which is the text sent for any amount with up to 15
/// significant digits.
#[derive(Clone)]
pub struct Cents(Repr);

#[derive(Clone)]
enum Repr {
    Whole(i64),
    /// A JSON number that is not a plain `i64` token, as received.
    Exact(Box<RawValue>),
}

/// A text that is not a JSON number (from [`Cents::from_str`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseCentsError {
    text: String,
}

impl fmt::Display for ParseCentsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a JSON number of cents", self.text)
    }
}

impl std::error::Error for ParseCentsError {}

impl Cents {
    /// A whole number of cents.
    pub const fn new(cents: i64) -> Self {
        Cents(Repr::Whole(cents))
    }

    /// The amount as a whole number of cents: `None` when it has a fraction (or does not fit `i64`).
    ///
    /// ```
    /// # use fanvue_api::Cents;
    /// assert_eq!(Cents::from(300).whole(), Some(300));
    /// assert_eq!("300.0".parse::<Cents>().unwrap().whole(), Some(300));
    /// assert_eq!("100.5".parse::<Cents>().unwrap().whole(), None);
    /// ```
    pub fn whole(&self) -> Option<i64> {
        match &self.0 {
            Repr::Whole(v) => Some(*v),
            Repr::Exact(raw) => {
                let f = self::parse_f64(raw.get())?;
                // Exact only within f64's integers.
                (f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0).then_some(f as i64)
            }
        }
    }

    /// Whether the amount is a whole number of cents.
    pub fn is_whole(&self) -> bool {
        self.whole().is_some()
    }

    /// The amount as the nearest `f64` (exact for whole amounts up to 2^53).
    pub fn to_f64(&self) -> f64 {
        match &self.0 {
            Repr::Whole(v) => *v as f64,
            Repr::Exact(raw) => parse_f64(raw.get()).unwrap_or(f64::NAN),
        }
    }

    /// Reads the text of a JSON number.
    fn from_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let number: serde_json::Number = serde_json::from_str(text)
            .map_err(|_| format!("expected a number of cents, got {text}"))?;
        if let Some(v) = number.as_i64()
            && !text.contains(['.', 'e', 'E'])
        {
            return Ok(Cents(Repr::Whole(v)));
        }
        RawValue::from_string(text.to_owned())
            .map(|raw| Cents(Repr::Exact(raw)))
            .map_err(|e| e.to_string())
    }

    fn from_f64(v: f64) -> Result<Self, String> {
        if !v.is_finite() {
            return Err(format!("expected a number of cents, got {v}"));
        }
        if v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0 {
            return Ok(Cents(Repr::Whole(v as i64)));
        }
        // The shortest text that reads back as `v` (Rust's float formatting).
        Self::from_text(&format!("{v:?}"))
    }
}

fn parse_f64(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

impl Default for Cents {
    /// Zero cents.
    fn default() -> Self {
        Cents::new(0)
    }
}

impl From<i64> for Cents {
    fn from(cents: i64) -> Self {
        Cents::new(cents)
    }
}

impl FromStr for Cents {
    type Err = ParseCentsError;

    /// Reads a JSON number (`"999"`, `"12.5"`), kept exactly.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Cents::from_text(text).map_err(|_| ParseCentsError {
            text: text.to_owned(),
        })
    }
}

impl fmt::Display for Cents {
    /// The amount as received (`999`, `1234.56`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Whole(v) => fmt::Display::fmt(v, f),
            Repr::Exact(raw) => f.write_str(raw.get()),
        }
    }
}

impl fmt::Debug for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cents({self})")
    }
}

impl PartialEq for Cents {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Cents {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (&self.0, &other.0) {
            (Repr::Whole(a), Repr::Whole(b)) => Some(a.cmp(b)),
            _ => self.to_f64().partial_cmp(&other.to_f64()),
        }
    }
}

impl PartialEq<i64> for Cents {
    fn eq(&self, other: &i64) -> bool {
        self.whole() == Some(*other)
    }
}

impl Serialize for Cents {
    /// The amount as received: a whole amount as an integer, any other as its original text.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Whole(v) => serializer.serialize_i64(*v),
            Repr::Exact(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, CentsVisitor)
    }
}

struct CentsVisitor;

impl<'de> Visitor<'de> for CentsVisitor {
    type Value = Cents;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of cents")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cents, E> {
        Ok(Cents::new(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cents, E> {
        match i64::try_from(v) {
            Ok(v) => Ok(Cents::new(v)),
            Err(_) => Cents::from_text(&v.to_string()).map_err(E::custom),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cents, E> {
        Cents::from_f64(v).map_err(E::custom)
    }

    /// A deserializer that does not know the raw-value name (a buffer, another format).
    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Cents, D::Error> {
        deserializer.deserialize_any(self)
    }

    /// serde_json's raw value: one entry whose value is the number's text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cents, A::Error> {
        if map.next_key::<de::IgnoredAny>()?.is_none() {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let cents = map.next_value_seed(TextSeed)?;
        Ok(cents)
    }
}

/// Reads the raw text without copying it when the reader lends it.
struct TextSeed;

impl<'de> de::DeserializeSeed<'de> for TextSeed {
    type Value = Cents;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cents, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for TextSeed {
    type Value = Cents;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the text of a number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Cents, E> {
        Cents::from_text(text).map_err(E::custom)
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for Cents {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Cents".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "format": "cents",
            "description": "An amount of money in cents; may carry a fraction."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de(json: &str) -> Result<Cents, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn any_number_decodes_and_serializes_back_as_received() {
        for text in [
            "0",
            "999",
            "-5",
            "1234.56",
            "100.5",
            "9.99",
            "300.0",
            "1e3",
            "0.1000000000000000055511151231257827",
            "18446744073709551615",
            "123456789012345678901234567890.123456789",
        ] {
            let cents = de(text).unwrap();
            assert_eq!(cents.to_string(), text);
            assert_eq!(serde_json::to_string(&cents).unwrap(), text);
            // through a buffer (serde_json::Value) the number survives as a number
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let again: Cents = serde_json::from_value(value).unwrap();
            assert_eq!(again.to_f64(), cents.to_f64(), "{text}");
        }
        assert_eq!(de("999").unwrap().whole(), Some(999));
        assert_eq!(de("300.0").unwrap().whole(), Some(300));
        assert_eq!(de("1234.56").unwrap().whole(), None);
        assert_eq!(de("1234.56").unwrap().to_f64(), 1234.56);
    }

    #[test]
    fn inside_a_struct_and_an_option() {
        #[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq)]
        struct Account {
            balance: Cents,
            #[serde(default)]
            price: Option<Cents>,
        }
        let text = r#"{"balance":1234.56,"price":null}"#;
        let account: Account = serde_json::from_str(text).unwrap();
        assert_eq!(account.balance.to_string(), "1234.56");
        assert_eq!(account.price, None);
        assert_eq!(serde_json::to_string(&account).unwrap(), text);
        let from_reader: Account = serde_json::from_reader(text.as_bytes()).unwrap();
        assert_eq!(from_reader, account);
        // an untagged enum buffers: the shortest text of the f64
        #[derive(Debug, serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            Account(Account),
        }
        let Either::Account(buffered) = serde_json::from_str::<Either>(text).unwrap();
        assert_eq!(buffered.balance.to_string(), "1234.56");
    }

    #[test]
    fn not_a_number_is_an_error() {
        for bad in ["\"12\"", "true", "{}", "[]"] {
            assert!(de(bad).is_err(), "{bad}");
        }
        assert!("x".parse::<Cents>().is_err());
        assert!("NaN".parse::<Cents>().is_err());
        assert_eq!("12.50".parse::<Cents>().unwrap().to_string(), "12.50");
    }

    #[test]
    fn compares_by_value() {
        let whole = Cents::from(999);
        assert!(whole < de("999.5").unwrap());
        assert_eq!(de("300.0").unwrap(), Cents::from(300));
        assert_eq!(Cents::from(5), 5);
        assert!(de("-0.5").unwrap() < Cents::default());
    }
}
