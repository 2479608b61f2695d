//! The bounds the spec declares for every operation's inputs, as data.
//!
//! The build script reads every `minimum`, `maximum`, `exclusiveMinimum`,
//! `exclusiveMaximum`, `minLength`, `maxLength`, `minItems` and `maxItems` of
//! an operation's path and query parameters and of its JSON request body
//! (through `$ref`s, `allOf`s, nested objects and array items), and the
//! `type: integer`, `format` and `enum` of its path and query parameters (and
//! of their array items), into a [`Bound`] table; [`OperationMeta::bounds`](crate::executor::OperationMeta::bounds)
//! returns it. `fanvue-api-ext` checks a request against it before sending;
//! nothing here is written per operation.
//!
//! ```
//! use fanvue_api::bounds::{Place, Rule};
//! use fanvue_api::executor::OperationMeta;
//!
//! for op in fanvue_api::OPERATIONS {
//!     for bound in op.bounds() {
//!         // e.g. "query parameter `size`: at most 50"
//!         let _ = format!("{} {}: {}", bound.place, bound.target, bound.rule);
//!     }
//! }
//! # let _ = (Place::Query, Rule::Minimum(1.0));
//! ```

use std::fmt;

/// Where a bounded value sits in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// A path parameter; [`Bound::target`] is its name.
    Path,
    /// A query parameter; [`Bound::target`] is its name, followed by `/*`
    /// when the bound applies to each element of an array parameter.
    Query,
    /// The JSON request body; [`Bound::target`] is a JSON pointer into it,
    /// where a `*` segment stands for every element of an array (or every
    /// value of a map). The empty pointer is the whole body.
    Body,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Place::Path => "path parameter",
            Place::Query => "query parameter",
            Place::Body => "body field",
        })
    }
}

/// One bound of the spec.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// The number is `>=` this (`minimum`).
    Minimum(f64),
    /// The number is `>` this (`minimum` with `exclusiveMinimum`).
    ExclusiveMinimum(f64),
    /// The number is `<=` this (`maximum`).
    Maximum(f64),
    /// The number is `<` this (`maximum` with `exclusiveMaximum`).
    ExclusiveMaximum(f64),
    /// The string has at least this many characters (`minLength`).
    MinLength(u64),
    /// The string has at most this many characters (`maxLength`).
    MaxLength(u64),
    /// The array has at least this many elements (`minItems`).
    MinItems(u64),
    /// The array has at most this many elements (`maxItems`).
    MaxItems(u64),
    /// The parameter is a whole number (`type: integer`).
    Integer,
    /// The parameter has this `format` (`uuid`, `date-time`, `int64`, ...);
    /// see [`Rule::allows_text`] for the formats that are checked.
    Format(&'static str),
    /// The parameter is one of these values (`enum`).
    Enum(&'static [&'static str]),
}

impl Rule {
    /// The spec keyword this rule comes from (`minimum`, `maxLength`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            Rule::Minimum(_) => "minimum",
            Rule::ExclusiveMinimum(_) => "exclusiveMinimum",
            Rule::Maximum(_) => "maximum",
            Rule::ExclusiveMaximum(_) => "exclusiveMaximum",
            Rule::MinLength(_) => "minLength",
            Rule::MaxLength(_) => "maxLength",
            Rule::MinItems(_) => "minItems",
            Rule::MaxItems(_) => "maxItems",
            Rule::Integer => "type",
            Rule::Format(_) => "format",
            Rule::Enum(_) => "enum",
        }
    }

    /// Whether a parameter value, as sent in the URL, satisfies a type,
    /// format or enum rule (`true` for the numeric, length and item rules).
    ///
    /// Formats checked: `uuid` (hyphenated or simple form), `date-time`
    /// (RFC 3339), `date` (`YYYY-MM-DD`), `int32`/`int64` (a whole number in
    /// range); any other format is accepted as it is.
    ///
    /// ```
    /// use fanvue_api::bounds::Rule;
    ///
    /// assert!(Rule::Format("uuid").allows_text("2b8f1c1e-5b8a-4a53-9d6c-0d9f4e6a7b11"));
    /// assert!(!Rule::Format("date-time").allows_text("yesterday"));
    /// assert!(Rule::Enum(&["subscribers", "followers"]).allows_text("followers"));
    /// assert!(!Rule::Integer.allows_text("1.5"));
    /// ```
    pub fn allows_text(&self, value: &str) -> bool {
        match *self {
            Rule::Integer => value.parse::<i128>().is_ok(),
            Rule::Format("uuid") => uuid::Uuid::try_parse(value).is_ok(),
            Rule::Format("date-time") => chrono::DateTime::parse_from_rfc3339(value).is_ok(),
            Rule::Format("date") => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
            Rule::Format("int64") => value.parse::<i64>().is_ok(),
            Rule::Format("int32") => value.parse::<i32>().is_ok(),
            Rule::Enum(values) => values.contains(&value),
            _ => true,
        }
    }

    /// Whether a number satisfies the rule (`true` for length and item rules).
    pub fn allows_number(&self, n: f64) -> bool {
        match *self {
            Rule::Minimum(min) => n >= min,
            Rule::ExclusiveMinimum(min) => n > min,
            Rule::Maximum(max) => n <= max,
            Rule::ExclusiveMaximum(max) => n < max,
            _ => true,
        }
    }

    /// Whether a length (characters of a string, counted as Unicode scalar
    /// values like JSON Schema does) satisfies the rule (`true` for other rules).
    pub fn allows_length(&self, len: u64) -> bool {
        match *self {
            Rule::MinLength(min) => len >= min,
            Rule::MaxLength(max) => len <= max,
            _ => true,
        }
    }

    /// Whether an element count satisfies the rule (`true` for other rules).
    pub fn allows_items(&self, count: u64) -> bool {
        match *self {
            Rule::MinItems(min) => count >= min,
            Rule::MaxItems(max) => count <= max,
            _ => true,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Minimum(n) => write!(f, "at least {n} (minimum)"),
            Rule::ExclusiveMinimum(n) => write!(f, "more than {n} (exclusiveMinimum)"),
            Rule::Maximum(n) => write!(f, "at most {n} (maximum)"),
            Rule::ExclusiveMaximum(n) => write!(f, "less than {n} (exclusiveMaximum)"),
            Rule::MinLength(n) => write!(f, "at least {n} characters (minLength)"),
            Rule::MaxLength(n) => write!(f, "at most {n} characters (maxLength)"),
            Rule::MinItems(n) => write!(f, "at least {n} elements (minItems)"),
            Rule::MaxItems(n) => write!(f, "at most {n} elements (maxItems)"),
            Rule::Integer => f.write_str("a whole number (type integer)"),
            Rule::Format(format) => write!(f, "a valid {format} (format)"),
            Rule::Enum(values) => write!(f, "one of {} (enum)", values.join(", ")),
        }
    }
}

/// A bound on one input of an operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// Where the value sits.
    pub place: Place,
    /// The parameter name, or the JSON pointer into the body (see [`Place`]).
    pub target: &'static str,
    /// The rule the value must satisfy.
    pub rule: Rule,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}` must be {}", self.place, self.target, self.rule)
    }
}

/// The checks of one place of a JSON request body, built from the spec at build time: the rules of the value
/// there (bounds, `type: integer`, `format`, `enum`), the properties an object there must have, and the checks
/// of its properties, array elements and map values. The root is
/// [`OperationMeta::body_checks`](crate::executor::OperationMeta::body_checks).
///
/// ```
/// use fanvue_api::bounds::Rule;
/// use fanvue_api::executor::OperationMeta;
///
/// let body = OperationMeta::find("create-post").unwrap().body_checks().unwrap();
/// assert!(body.required.contains(&"audience"));
/// let audience = body.property("audience").unwrap();
/// assert!(audience.rules.iter().any(|r| matches!(r, Rule::Enum(_))));
/// ```
#[derive(Debug, PartialEq)]
pub struct BodyNode {
    /// The rules of the value here.
    pub rules: &'static [Rule],
    /// The properties an object here must have (`required`).
    pub required: &'static [&'static str],
    /// The checks of its properties, sorted by name.
    pub properties: &'static [(&'static str, &'static BodyNode)],
    /// The checks of every element of an array here.
    pub items: Option<&'static BodyNode>,
    /// The checks of every value of a map here (`additionalProperties`).
    pub values: Option<&'static BodyNode>,
}

impl BodyNode {
    /// The checks of property `name`, if it has any.
    pub fn property(&self, name: &str) -> Option<&'static BodyNode> {
        self.properties
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| self.properties[i].1)
    }
}
