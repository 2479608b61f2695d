//! Checks made before anything is sent: an error here means no request.
//!
//! [`check_request`] runs in the executor for every operation, matching the
//! built URL against the operation's path template: UUID path parameters must
//! be non-empty, well-formed and not nil, other path parameters non-empty,
//! part numbers in `1..=10000`, and the `page`, `size` and `limit` query
//! parameters in range. The pagination streams and the upload flow also use
//! the single-value checks directly.

use std::ops::RangeInclusive;

use fanvue_api::executor::OperationMeta;
use percent_decode::decode;
use url::Url;

use crate::Error;

/// Part numbers S3 multipart uploads accept.
pub const PART_NUMBERS: RangeInclusive<u64> = 1..=10_000;
/// The largest page size (`size` / `limit`) the API documents for its lists.
pub const MAX_PAGE_SIZE: u64 = 50;

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

/// Checks a request built for `operation` before it is sent.
pub fn check_request(url: &Url, operation: &OperationMeta) -> Result<(), Error> {
    check_path(url.path(), operation.path)?;
    for (name, value) in url.query_pairs() {
        let what = format!("query parameter {name}");
        match name.as_ref() {
            "page" if integer(&what, &value)? < 1 => {
                return Err(Error::invalid_input(what, "pages start at 1"));
            }
            "size" | "limit" => {
                let n = integer(&what, &value)?;
                if !(1..=MAX_PAGE_SIZE).contains(&n) {
                    return Err(Error::invalid_input(
                        what,
                        format!("{n} is outside 1..={MAX_PAGE_SIZE}"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Matches the last segments of `path` against `template` and checks each `{param}`.
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
        let what = format!("path parameter {name}");
        let value = decode(segment);
        if value.trim().is_empty() {
            return Err(Error::invalid_input(what, "must not be empty"));
        }
        if name == "uuid" || name.ends_with("Uuid") || name.ends_with("_uuid") {
            uuid(&what, &value)?;
        } else if name == "partNumber" || name == "part_number" {
            let part = integer(&what, &value)?;
            part_number(part)
                .map_err(|_| Error::invalid_input(&what, format!("{part} is outside 1..=10000")))?;
        }
    }
    Ok(())
}

/// Reads a whole number, also as a float with no fraction (`3`, `3.0`).
fn integer(what: &str, value: &str) -> Result<u64, Error> {
    if let Ok(n) = value.parse::<u64>() {
        return Ok(n);
    }
    match value.parse::<f64>() {
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f >= 0.0 && f <= u64::MAX as f64 => {
            Ok(f as u64)
        }
        _ => Err(Error::invalid_input(
            what,
            format!("{value:?} is not a whole number ≥ 0"),
        )),
    }
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

    fn meta(path: &'static str) -> OperationMeta {
        OperationMeta {
            operation_id: "test",
            method: "GET",
            path,
            tag: "test",
        }
    }

    fn check(url: &str, template: &'static str) -> Result<(), Error> {
        check_request(&Url::parse(url).unwrap(), &meta(template))
    }

    const ID: &str = "2b8f1c1e-5b8a-4a53-9d6c-0d9f4e6a7b11";

    #[test]
    fn uuid_params() {
        assert!(check(&format!("https://h/media/{ID}"), "/media/{uuid}").is_ok());
        assert!(
            check(
                &format!("https://h/prefix/creators/{ID}/media/{ID}"),
                "/creators/{creatorUserUuid}/media/{uuid}"
            )
            .is_ok()
        );
        for bad in [
            "",
            "%20",
            "not-a-uuid",
            "00000000-0000-0000-0000-000000000000",
        ] {
            let err = check(&format!("https://h/media/{bad}"), "/media/{uuid}").unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput { what, .. } if what == "path parameter uuid"),
                "{bad}: {err}"
            );
        }
        let err = check(
            &format!("https://h/creators//media/{ID}"),
            "/creators/{creatorUserUuid}/media/{uuid}",
        )
        .unwrap_err();
        assert!(err.to_string().contains("creatorUserUuid"));
    }

    #[test]
    fn other_params_and_part_numbers() {
        let t = "/media/uploads/{uploadId}/parts/{partNumber}/url";
        assert!(check("https://h/media/uploads/abc/parts/1/url", t).is_ok());
        assert!(check("https://h/media/uploads/abc/parts/10000/url", t).is_ok());
        assert!(check("https://h/media/uploads/abc/parts/7.0/url", t).is_ok());
        for bad in ["0", "10001", "-1", "1.5", "x", "NaN"] {
            assert!(
                check(&format!("https://h/media/uploads/abc/parts/{bad}/url"), t).is_err(),
                "{bad}"
            );
        }
        assert!(check("https://h/media/uploads//parts/1/url", t).is_err());
        assert!(
            check(
                "https://h/vault/folders/My%20Folder",
                "/vault/folders/{folderName}"
            )
            .is_ok()
        );
        assert!(check("https://h/vault/folders/", "/vault/folders/{folderName}").is_err());
    }

    #[test]
    fn query_ranges() {
        assert!(check("https://h/media?page=1&size=50", "/media").is_ok());
        assert!(check("https://h/media?page=2&size=1.0", "/media").is_ok());
        assert!(check("https://h/media?page=0", "/media").is_err());
        assert!(check("https://h/media?size=0", "/media").is_err());
        assert!(check("https://h/media?size=51", "/media").is_err());
        assert!(check("https://h/tracking-links?limit=100", "/tracking-links").is_err());
        assert!(check("https://h/media?search=size", "/media").is_ok());
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
