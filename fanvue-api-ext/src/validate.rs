//! Checks made before anything is sent: an error here means no request.
//!
//! [`check_request`] runs in the executor for every operation, matching the
//! built URL against the operation's path template: every path parameter
//! must be non-empty, and every path and query parameter must satisfy what
//! the spec declares for it ([`OperationMeta::bounds`]: `minimum`, `maximum`,
//! `minLength`, `maxLength`, `minItems`, `maxItems`, `type: integer`, the
//! `uuid`/`date-time`/`date`/`int64` formats — a `uuid` also not the nil
//! UUID — and `enum`). Only the spec decides: a parameter's name never
//! does (a path parameter named `uuid` whose schema is an enum is checked
//! against the enum). [`check_body`] checks the JSON body against the
//! operation's body checks ([`OperationMeta::body_checks`], a tree the build
//! script writes from the spec): bounds, `type: integer`, formats, enums and
//! required properties, through nested objects, array elements and map
//! values; the error names the field (`body.audience`) and nothing is sent. A
//! valid body is checked without allocating (see `body`). Nothing here is
//! written per operation: a bound the spec adds is checked after regeneration. The pagination streams and the upload
//! flow also use the single-value checks directly.

mod body;

use std::ops::RangeInclusive;

use fanvue_api::bounds::{Bound, Place, Rule};
use fanvue_api::executor::OperationMeta;
use percent_decode::decode;
use url::Url;

use crate::Error;

/// Part numbers S3 multipart uploads accept.
pub const PART_NUMBERS: RangeInclusive<u64> = 1..=10_000;

/// Checks a UUID parameter: not empty, well-formed, not the nil UUID.
pub fn uuid(what: &str, value: &str) -> Result<uuid::Uuid, Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(what, "must not be empty"));
    }
    let parsed = uuid::Uuid::try_parse(value)
        .map_err(|_| Error::invalid_input(what, format!("{value:?} is not a UUID")))?;
    if parsed.is_nil() {
        return Err(Error::invalid_input(what, "must not be the nil UUID"));
    }
    Ok(parsed)
}

/// Checks a page size against `1..=max`.
pub fn page_size(size: u64, max: u64) -> Result<u64, Error> {
    if (1..=max).contains(&size) {
        Ok(size)
    } else {
        Err(Error::invalid_input(
            "page size",
            format!("{size} is outside 1..={max}"),
        ))
    }
}

/// Checks a page number (from 1).
pub fn page_number(page: u64) -> Result<u64, Error> {
    if page >= 1 {
        Ok(page)
    } else {
        Err(Error::invalid_input("page number", "pages start at 1"))
    }
}

/// Checks a multipart part number against `1..=10000`.
pub fn part_number(part: u64) -> Result<u64, Error> {
    if PART_NUMBERS.contains(&part) {
        Ok(part)
    } else {
        Err(Error::invalid_input(
            "part number",
            format!("{part} is outside 1..=10000"),
        ))
    }
}

/// Checks a request built for `operation` before it is sent: path
/// parameters, then the spec's bounds on path and query parameters.
pub fn check_request(url: &Url, operation: &OperationMeta) -> Result<(), Error> {
    check_path(url.path(), operation.path)?;
    check_params(url, operation.path, operation.bounds())
}

/// Checks a JSON request body against the spec's checks for `operation`
/// (enums, bounds, formats, required properties); a body that is not JSON is
/// not checked. The error names the field: `body.audience`,
/// `body.parts.0.PartNumber`.
pub fn check_body(body: &[u8], operation: &OperationMeta) -> Result<(), Error> {
    match operation.body_checks() {
        Some(node) => body::check(body, node),
        None => Ok(()),
    }
}

/// Checks the path and query parameters of `url` against `bounds`.
///
/// An array query parameter's elements are its repeated values, each split at
/// commas (the API reads `status=a,b`). Absent parameters are not checked.
pub fn check_params(url: &Url, template: &str, bounds: &[Bound]) -> Result<(), Error> {
    for bound in bounds {
        let (name, elements) = match bound.target.strip_suffix("/*") {
            Some(name) => (name, true),
            None => (bound.target, false),
        };
        let what = format!("{} {name}", bound.place);
        let values: Vec<String> = match bound.place {
            Place::Query => url
                .query_pairs()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
                .collect(),
            Place::Path => path_value(url.path(), template, name).into_iter().collect(),
            Place::Body => continue,
        };
        if values.is_empty() {
            continue;
        }
        let items = || -> Vec<&str> {
            values
                .iter()
                .flat_map(|v| v.split(','))
                .filter(|v| !v.is_empty())
                .collect()
        };
        match bound.rule {
            Rule::MinItems(_) | Rule::MaxItems(_) => {
                let count = items().len() as u64;
                if !bound.rule.allows_items(count) {
                    return Err(violation(what, bound.rule, format!("{count} elements")));
                }
            }
            _ => {
                let checked: Vec<&str> = if elements {
                    items()
                } else {
                    values.iter().map(String::as_str).collect()
                };
                for value in checked {
                    check_scalar(&what, bound.rule, value)?;
                }
            }
        }
    }
    Ok(())
}

/// Checks one parameter value (text) against a number or length rule.
fn check_scalar(what: &str, rule: Rule, value: &str) -> Result<(), Error> {
    match rule {
        Rule::MinLength(_) | Rule::MaxLength(_) => {
            let len = value.chars().count() as u64;
            if !rule.allows_length(len) {
                return Err(violation(what, rule, format!("{len} characters")));
            }
        }
        Rule::Minimum(_)
        | Rule::ExclusiveMinimum(_)
        | Rule::Maximum(_)
        | Rule::ExclusiveMaximum(_) => {
            let n: f64 = value
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| Error::invalid_input(what, format!("{value:?} is not a number")))?;
            if !rule.allows_number(n) {
                return Err(violation(what, rule, value.to_string()));
            }
        }
        Rule::Format("uuid") => {
            uuid(what, value)?;
        }
        Rule::Integer | Rule::Format(_) | Rule::Enum(_) => {
            if !rule.allows_text(value) {
                return Err(violation(what, rule, format!("{value:?}")));
            }
        }
        Rule::MinItems(_) | Rule::MaxItems(_) => {}
    }
    Ok(())
}

fn violation(what: impl Into<String>, rule: Rule, got: String) -> Error {
    Error::invalid_input(what, format!("must be {rule}, got {got}"))
}

/// The (decoded) value of path parameter `name` in `path`, lined up with `template`.
fn path_value(path: &str, template: &str, name: &str) -> Option<String> {
    let template: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let segments: Vec<&str> = path.split('/').collect();
    let tail = segments.get(segments.len().checked_sub(template.len())?..)?;
    let wanted = format!("{{{name}}}");
    template
        .iter()
        .zip(tail)
        .find(|(pattern, _)| **pattern == wanted)
        .map(|(_, segment)| decode(segment).into_owned())
}

/// Matches the last segments of `path` against `template`: every `{param}`
/// must be non-empty (its type, format and bounds are in the bounds table).
fn check_path(path: &str, template: &str) -> Result<(), Error> {
    let template: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() < template.len() {
        // Cannot line up (should not happen for generated code): nothing to check.
        return Ok(());
    }
    let tail = segments
        .get(segments.len().saturating_sub(template.len())..)
        .unwrap_or_default();
    for (pattern, segment) in template.iter().zip(tail) {
        let Some(name) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            continue;
        };
        if decode(segment).trim().is_empty() {
            return Err(Error::invalid_input(
                format!("path parameter {name}"),
                "must not be empty",
            ));
        }
    }
    Ok(())
}

mod percent_decode {
    use std::borrow::Cow;

    pub(super) fn decode(segment: &str) -> Cow<'_, str> {
        url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| Cow::Owned(v.into_owned()))
            .unwrap_or(Cow::Borrowed(segment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(operation_id: &'static str, path: &'static str) -> OperationMeta {
        OperationMeta {
            operation_id,
            method: "GET",
            path,
            tag: "test",
            creator_segment: None,
        }
    }

    /// Checks `url` against a generated operation's table.
    fn check_op(
        url: &str,
        operation_id: &'static str,
        template: &'static str,
    ) -> Result<(), Error> {
        check_request(&Url::parse(url).unwrap(), &meta(operation_id, template))
    }

    const ID: &str = "2b8f1c1e-5b8a-4a53-9d6c-0d9f4e6a7b11";

    #[test]
    fn uuid_params_by_format() {
        let t = "/creators/{creatorUserUuid}/media/{uuid}";
        let op = "get-creator-media-by-uuid";
        assert!(check_op(&format!("https://h/prefix/creators/{ID}/media/{ID}"), op, t).is_ok());
        for bad in [
            "",
            "%20",
            "not-a-uuid",
            "00000000-0000-0000-0000-000000000000",
        ] {
            let err = check_op(&format!("https://h/creators/{ID}/media/{bad}"), op, t).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput { what, .. } if what == "path parameter uuid"),
                "{bad}: {err}"
            );
        }
        let err = check_op(&format!("https://h/creators//media/{ID}"), op, t).unwrap_err();
        assert!(err.to_string().contains("creatorUserUuid"));
    }

    #[test]
    fn a_param_named_uuid_is_checked_by_its_schema_not_its_name() {
        // `get-smart-list-members`: `{uuid}` is a SmartListId enum.
        let t = "/chats/lists/smart/{uuid}";
        let op = "get-smart-list-members";
        assert!(check_op("https://h/chats/lists/smart/subscribers", op, t).is_ok());
        assert!(
            check_op(
                "https://h/chats/lists/smart/spent_more_than_50?page=1",
                op,
                t
            )
            .is_ok()
        );
        let err = check_op(&format!("https://h/chats/lists/smart/{ID}"), op, t).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid path parameter uuid: must be one of subscribers, auto_renewing, \
                 non_renewing, followers, free_trial_subscribers, expired_subscribers, \
                 spent_more_than_50, muted (enum), got \"{ID}\""
            )
        );
    }

    #[test]
    fn other_params_by_type() {
        let t = "/media/uploads/{uploadId}/parts/{partNumber}/url";
        let op = "get-upload-part-url";
        assert!(check_op("https://h/media/uploads/abc/parts/1/url", op, t).is_ok());
        assert!(check_op("https://h/media/uploads/abc/parts/10000/url", op, t).is_ok());
        for bad in ["1.5", "x", "NaN", "7.0"] {
            let err = check_op(
                &format!("https://h/media/uploads/abc/parts/{bad}/url"),
                op,
                t,
            )
            .unwrap_err();
            assert!(err.to_string().contains("partNumber"), "{bad}: {err}");
        }
        assert!(check_op("https://h/media/uploads//parts/1/url", op, t).is_err());
        let t = "/vault/folders/{folderName}";
        assert!(check_op("https://h/vault/folders/My%20Folder", "get-vault-folder", t).is_ok());
        assert!(check_op("https://h/vault/folders/", "get-vault-folder", t).is_err());
        // A query date-time is checked as RFC 3339.
        let op = "get-earnings";
        let t = "/insights/earnings";
        assert!(
            check_op(
                "https://h/insights/earnings?startDate=2024-01-01T00:00:00Z",
                op,
                t
            )
            .is_ok()
        );
        let err = check_op("https://h/insights/earnings?startDate=yesterday", op, t).unwrap_err();
        assert!(err.to_string().contains("date-time"), "{err}");
    }

    const SIZE_BOUNDS: &[Bound] = &[
        Bound {
            place: Place::Query,
            target: "page",
            rule: Rule::Minimum(1.0),
        },
        Bound {
            place: Place::Query,
            target: "size",
            rule: Rule::Minimum(1.0),
        },
        Bound {
            place: Place::Query,
            target: "size",
            rule: Rule::Maximum(50.0),
        },
        Bound {
            place: Place::Query,
            target: "status",
            rule: Rule::MaxItems(2),
        },
        Bound {
            place: Place::Query,
            target: "status/*",
            rule: Rule::MinLength(2),
        },
        Bound {
            place: Place::Path,
            target: "folderName",
            rule: Rule::MaxLength(5),
        },
    ];

    fn params(url: &str, template: &str) -> Result<(), Error> {
        check_params(&Url::parse(url).unwrap(), template, SIZE_BOUNDS)
    }

    #[test]
    fn query_ranges() {
        assert!(params("https://h/media?page=1&size=50", "/media").is_ok());
        assert!(params("https://h/media?page=2&size=1.0", "/media").is_ok());
        assert!(params("https://h/media?search=size", "/media").is_ok());
        let err = params("https://h/media?page=0", "/media").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid query parameter page: must be at least 1 (minimum), got 0"
        );
        assert!(params("https://h/media?size=0", "/media").is_err());
        let err = params("https://h/media?size=51", "/media").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid query parameter size: must be at most 50 (maximum), got 51"
        );
        assert!(params("https://h/media?size=ten", "/media").is_err());
        assert!(params("https://h/media?status=ab,cd", "/media").is_ok());
        assert!(params("https://h/media?status=ab&status=cd", "/media").is_ok());
        let err = params("https://h/media?status=ab,cd,ef", "/media").unwrap_err();
        assert!(
            err.to_string()
                .contains("at most 2 elements (maxItems), got 3"),
            "{err}"
        );
        let err = params("https://h/media?status=ab,c", "/media").unwrap_err();
        assert!(err.to_string().contains("status"), "{err}");
        assert!(params("https://h/vault/folders/abc", "/vault/folders/{folderName}").is_ok());
        let err = params(
            "https://h/vault/folders/abcdef",
            "/vault/folders/{folderName}",
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { what, .. } if what == "path parameter folderName")
        );
    }

    #[test]
    fn single_value_checks() {
        assert!(page_size(0, 50).is_err());
        assert!(page_size(50, 50).is_ok());
        assert!(page_size(51, 50).is_err());
        assert!(part_number(0).is_err());
        assert!(part_number(10_001).is_err());
        assert!(part_number(10_000).is_ok());
        assert!(page_number(0).is_err());
        assert!(uuid("x", ID).is_ok());
    }
}
