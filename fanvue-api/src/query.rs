//! Query strings as the API reads them.
//!
//! The generated code encodes a comma-joined value like `main,thumbnail` as
//! `main%2Cthumbnail` (and a plain array as repeated `name=a&name=b`). For
//! the parameters the spec declares `style: form, explode: false`, the API
//! expects one `name=a,b` pair with literal commas; this rewrites them so.

use url::form_urlencoded;

/// Rewrites the `params` of `url`'s query into one comma-separated pair each.
pub(crate) fn join_comma_lists(url: &mut reqwest::Url, params: &[&str]) {
    if params.is_empty() || url.query().is_none() {
        return;
    }
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if !pairs
        .iter()
        .any(|(name, _)| params.contains(&name.as_str()))
    {
        return;
    }
    let mut query = String::new();
    let mut done: Vec<&str> = Vec::new();
    for (name, value) in &pairs {
        let joined = params.iter().find(|p| **p == name.as_str());
        let piece = match joined {
            Some(param) if done.contains(param) => continue,
            Some(param) => {
                done.push(param);
                let items: Vec<String> = pairs
                    .iter()
                    .filter(|(n, _)| n == name)
                    .flat_map(|(_, v)| v.split(','))
                    .filter(|item| !item.is_empty())
                    .map(|item| form_urlencoded::byte_serialize(item.as_bytes()).collect())
                    .collect();
                format!("{}={}", encode(name), items.join(","))
            }
            None => format!("{}={}", encode(name), encode(value)),
        };
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&piece);
    }
    url.set_query(Some(&query));
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::join_comma_lists;

    fn rewrite(input: &str, params: &[&str]) -> String {
        let mut url = reqwest::Url::parse(input).expect("test URL");
        join_comma_lists(&mut url, params);
        url.to_string()
    }

    #[test]
    fn joins_encoded_and_repeated_values() {
        assert_eq!(
            rewrite("http://h/m?page=2&variants=main%2Cthumbnail", &["variants"]),
            "http://h/m?page=2&variants=main,thumbnail"
        );
        assert_eq!(
            rewrite(
                "http://h/m?variants=main&q=a%2Cb&variants=blurred",
                &["variants"]
            ),
            "http://h/m?variants=main,blurred&q=a%2Cb"
        );
    }

    #[test]
    fn leaves_other_queries_alone() {
        assert_eq!(
            rewrite("http://h/m?q=a%2Cb", &["variants"]),
            "http://h/m?q=a%2Cb"
        );
        assert_eq!(rewrite("http://h/m?q=a%2Cb", &[]), "http://h/m?q=a%2Cb");
    }
}
