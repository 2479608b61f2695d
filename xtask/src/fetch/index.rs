//! Finding the API-reference pages in the reference index (`llms.txt`).
//!
//! The index is markdown. A link to a reference page is either a markdown link `[Title](target)` or a bare
//! `http(s)://` URL. Markdown link targets may be relative; they are resolved against the index URL.
//!
//! A URL is a reference page when its path ends with `api-reference/reference/<group>/<slug>`, optionally
//! followed by `.md`, where `<group>` and `<slug>` are made of ASCII letters, digits, `-` and `_` only (so
//! they are safe as a folder and file name). Every other link is ignored. The host does not matter: a page
//! may live on another host than the index (the index is the maintainer's choice of source).
//!
//! **The `.md` rule**: a page's markdown lives at its URL with `.md` appended to the path. A link whose last
//! path segment already ends in `.md` is used as is; otherwise `.md` is appended to the path (after removing
//! a trailing `/`), keeping any query string. Fragments are dropped.

use std::collections::BTreeMap;

use url::Url;

/// One API-reference page listed by the index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageRef {
    /// The page's group (its folder): `media`, `chats`, `agencies`, ...
    pub group: String,
    /// The page's slug (its file name without `.md`): `get-media-by-uuid`, ...
    pub slug: String,
    /// Where the page's markdown is downloaded from (the `.md` rule already applied).
    pub url: Url,
}

impl PageRef {
    /// The page's path relative to the output folder: `<group>/<slug>.md`.
    pub fn relative_path(&self) -> std::path::PathBuf {
        std::path::Path::new(&self.group).join(format!("{}.md", self.slug))
    }
}

/// What the index lists: its reference pages (sorted by group and slug, one per group/slug) and how many
/// other links were ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexListing {
    /// The reference pages, sorted by `(group, slug)`, without duplicates.
    pub pages: Vec<PageRef>,
    /// How many links of the index were not reference pages.
    pub ignored_links: usize,
}

/// Extracts the API-reference pages from the text of the index downloaded from `index_url`.
///
/// When two links name the same `<group>/<slug>` (for example with and without `.md`), the first one wins.
pub fn reference_pages(index: &str, index_url: &Url) -> IndexListing {
    let mut pages: BTreeMap<(String, String), PageRef> = BTreeMap::new();
    let mut ignored: usize = 0;
    let mut seen_urls = std::collections::HashSet::new();
    for link in links(index, index_url) {
        if !seen_urls.insert(link.clone()) {
            continue;
        }
        match classify(&link) {
            Some(page) => {
                pages
                    .entry((page.group.clone(), page.slug.clone()))
                    .or_insert(page);
            }
            None => ignored = ignored.saturating_add(1),
        }
    }
    IndexListing {
        pages: pages.into_values().collect(),
        ignored_links: ignored,
    }
}

/// Every link of the index, resolved to an absolute URL, in order of appearance (fragments removed).
fn links(index: &str, index_url: &Url) -> Vec<Url> {
    let mut out = Vec::new();
    // Markdown links: `](target)` or `](target "title")`, target possibly in `<...>`.
    let mut rest = index;
    while let Some(pos) = rest.find("](") {
        rest = rest.get(pos.saturating_add(2)..).unwrap_or_default();
        let target = rest
            .split(|c: char| c == ')' || c.is_whitespace())
            .next()
            .unwrap_or_default();
        let target = target.trim_start_matches('<').trim_end_matches('>');
        if target.is_empty() || target.starts_with('#') {
            continue;
        }
        if let Ok(mut url) = index_url.join(target) {
            url.set_fragment(None);
            out.push(url);
        }
    }
    // Bare absolute URLs (also finds the targets above again; duplicates are skipped by the caller).
    for scheme in ["https://", "http://"] {
        let mut rest = index;
        while let Some(pos) = rest.find(scheme) {
            let candidate = &rest[pos..];
            let end = candidate
                .find(|c: char| {
                    c.is_whitespace()
                        || matches!(c, ')' | '(' | '<' | '>' | '[' | ']' | '"' | '\'' | '`')
                })
                .unwrap_or(candidate.len());
            let text = candidate[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if let Ok(mut url) = Url::parse(text) {
                url.set_fragment(None);
                out.push(url);
            }
            rest = &candidate[scheme.len()..];
        }
    }
    out
}

/// The reference page `url` points to, or `None` when it is not a reference page.
pub fn classify(url: &Url) -> Option<PageRef> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let segments: Vec<&str> = url.path_segments()?.collect();
    let segments = match segments.split_last() {
        Some((&"", init)) => init,
        _ => &segments[..],
    };
    let [.., api, reference, group, last] = segments else {
        return None;
    };
    if *api != "api-reference" || *reference != "reference" {
        return None;
    }
    let slug = last.strip_suffix(".md").unwrap_or(last);
    if !is_safe_name(group) || !is_safe_name(slug) {
        return None;
    }
    Some(PageRef {
        group: (*group).to_owned(),
        slug: slug.to_owned(),
        url: markdown_url(url),
    })
}

/// Applies the `.md` rule (see the module documentation) to a page URL.
pub fn markdown_url(url: &Url) -> Url {
    let mut out = url.clone();
    out.set_fragment(None);
    let path = url.path().trim_end_matches('/');
    if !path.ends_with(".md") {
        out.set_path(&format!("{path}.md"));
    }
    out
}

/// A group or slug usable as a folder or file name: non-empty ASCII letters, digits, `-` and `_`.
fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://api.example.com/docs/llms.txt").expect("valid URL")
    }

    fn urls(listing: &IndexListing) -> Vec<String> {
        listing.pages.iter().map(|p| p.url.to_string()).collect()
    }

    #[test]
    fn md_rule_appends_md_only_when_missing() {
        let plain = Url::parse("https://h/docs/api-reference/reference/media/get-media").unwrap();
        assert_eq!(
            markdown_url(&plain).as_str(),
            "https://h/docs/api-reference/reference/media/get-media.md"
        );
        let md = Url::parse("https://h/docs/api-reference/reference/media/get-media.md").unwrap();
        assert_eq!(markdown_url(&md), md);
        let slash =
            Url::parse("https://h/docs/api-reference/reference/media/get-media/#x").unwrap();
        assert_eq!(
            markdown_url(&slash).as_str(),
            "https://h/docs/api-reference/reference/media/get-media.md"
        );
        let query =
            Url::parse("https://h/docs/api-reference/reference/media/get-media?v=2").unwrap();
        assert_eq!(
            markdown_url(&query).as_str(),
            "https://h/docs/api-reference/reference/media/get-media.md?v=2"
        );
    }

    #[test]
    fn finds_markdown_bare_and_relative_links() {
        let index = "\
# Docs
- [Get media](https://api.example.com/docs/api-reference/reference/media/get-media.md): one item
- [List chats](/docs/api-reference/reference/chats/list-chats)
- [Relative](api-reference/reference/vault/list-folders \"title\")
- [Intro](https://api.example.com/docs/introduction)
See https://api.example.com/docs/api-reference/reference/insights/get-earnings.
";
        let listing = reference_pages(index, &base());
        assert_eq!(
            urls(&listing),
            [
                "https://api.example.com/docs/api-reference/reference/chats/list-chats.md",
                "https://api.example.com/docs/api-reference/reference/insights/get-earnings.md",
                "https://api.example.com/docs/api-reference/reference/media/get-media.md",
                "https://api.example.com/docs/api-reference/reference/vault/list-folders.md",
            ]
        );
        assert_eq!(listing.pages[0].group, "chats");
        assert_eq!(listing.pages[0].slug, "list-chats");
        assert_eq!(listing.ignored_links, 1);
    }

    #[test]
    fn duplicates_with_and_without_md_are_one_page() {
        let index = "[a](https://h/api-reference/reference/media/x) [b](https://h/api-reference/reference/media/x.md)";
        let listing = reference_pages(index, &base());
        assert_eq!(listing.pages.len(), 1);
        assert_eq!(
            listing.pages[0].relative_path(),
            std::path::Path::new("media/x.md")
        );
    }

    #[test]
    fn rejects_non_reference_and_unsafe_names() {
        for url in [
            "https://h/docs/api-reference/reference/media",
            "https://h/docs/api-reference/media/x",
            "https://h/docs/api-reference/reference/media/x/y",
            "https://h/docs/api-reference/reference/me%2E%2E/x",
            "https://h/docs/api-reference/reference/media/.md",
            "ftp://h/docs/api-reference/reference/media/x",
        ] {
            let url = Url::parse(url).unwrap();
            assert_eq!(classify(&url), None, "{url}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_index_text_is_parsed_without_panicking(text in "\\PC*", tail in "[a-z/.()\\[\\]:-]{0,40}") {
            let index = format!("{text}](https://h/api-reference/reference/{tail}) https://{tail}");
            for page in reference_pages(&index, &base()).pages {
                proptest::prop_assert!(is_safe_name(&page.group) && is_safe_name(&page.slug));
            }
        }
    }

    #[test]
    fn empty_or_garbage_index_has_no_pages() {
        for index in ["", "](", "]( )", "https://", "[x](http://[::1)"] {
            assert!(
                reference_pages(index, &base()).pages.is_empty(),
                "{index:?}"
            );
        }
    }
}
