//! Makes the spec's prose safe for rustdoc: the upstream descriptions carry
//! MDX components (`<Info>`, `<Warning>`), bare URLs, indented blocks that
//! markdown would read as (doc-tested!) code, and brackets rustdoc would read
//! as intra-doc links.

use serde_json::Value;

/// Sanitizes every `description`, `summary` and `title` string in the document.
pub fn sanitize_all(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(text)
                        if matches!(key.as_str(), "description" | "summary" | "title") =>
                    {
                        *text = sanitize(text);
                    }
                    _ => sanitize_all(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sanitize_all),
        _ => {}
    }
}

/// Sanitizes one piece of prose for rustdoc.
pub fn sanitize(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            if !in_fence && trimmed.trim() == "```" {
                // An untagged fence would be compiled as a doctest.
                out.push("```text".to_string());
            } else {
                out.push(trimmed.to_string());
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(line.to_string());
        } else {
            // Leading indentation would make an indented code block.
            out.push(sanitize_line(trimmed));
        }
    }
    if in_fence {
        out.push("```".to_string());
    }
    // Collapse runs of blank lines left by removed tags.
    let mut result = String::new();
    let mut blank = 0;
    for line in out {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        result.push_str(line.trim_end());
        result.push('\n');
    }
    result.trim().to_string()
}

/// MDX components whose opening tag becomes a bold label.
fn label_for(component: &str) -> Option<&'static str> {
    match component {
        "Warning" => Some("**Warning:** "),
        "Note" => Some("**Note:** "),
        "Tip" => Some("**Tip:** "),
        "Info" => Some(""),
        _ => None,
    }
}

fn sanitize_line(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '`' => {
                // Copy a code span verbatim.
                let ticks = chars[i..].iter().take_while(|&&t| t == '`').count();
                let fence: String = "`".repeat(ticks);
                let rest: String = chars[i + ticks..].iter().collect();
                if let Some(end) = rest.find(&fence) {
                    let span_len = rest[..end].chars().count();
                    let span: String = chars[i..i + ticks + span_len + ticks].iter().collect();
                    out.push_str(&span);
                    i += ticks + span_len + ticks;
                } else {
                    out.push_str(&fence);
                    i += ticks;
                }
            }
            '<' => {
                let rest: String = chars[i..].iter().collect();
                let close = rest.find('>');
                let tag = close.map(|end| &rest[1..end]);
                match tag {
                    Some(inner)
                        if inner.starts_with("http://") || inner.starts_with("https://") =>
                    {
                        // Already an autolink.
                        out.push('<');
                        out.push_str(inner);
                        out.push('>');
                        i += inner.chars().count() + 2;
                    }
                    Some(inner) if is_component(inner) => {
                        let name = inner
                            .trim_start_matches('/')
                            .split(|ch: char| !ch.is_ascii_alphanumeric())
                            .next()
                            .unwrap_or_default();
                        if !inner.starts_with('/') {
                            out.push_str(label_for(name).unwrap_or(""));
                        }
                        i += inner.chars().count() + 2;
                    }
                    _ => {
                        out.push_str("&lt;");
                        i += 1;
                    }
                }
            }
            'h' if starts_with_url(&chars[i..]) && !in_link_target(&out) => {
                let mut end = i;
                while end < chars.len()
                    && !chars[end].is_whitespace()
                    && !matches!(chars[end], '<' | '>' | '"' | '`' | ')' | ']')
                {
                    end += 1;
                }
                while end > i && matches!(chars[end - 1], '.' | ',' | ';' | ':' | '!' | '?') {
                    end -= 1;
                }
                let url: String = chars[i..end].iter().collect();
                out.push('<');
                out.push_str(&url);
                out.push('>');
                i = end;
            }
            '[' => {
                // Keep real markdown links `[text](url)`; escape the rest so
                // rustdoc does not take them for intra-doc links.
                let rest: String = chars[i..].iter().collect();
                let is_link = rest
                    .find(']')
                    .map(|end| rest[end + 1..].starts_with('('))
                    .unwrap_or(false);
                out.push_str(if is_link { "[" } else { "\\[" });
                i += 1;
            }
            ']' => {
                let next = chars.get(i + 1);
                out.push_str(if next == Some(&'(') { "]" } else { "\\]" });
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_component(inner: &str) -> bool {
    let name = inner.trim_start_matches('/');
    let name = name.trim_end_matches('/');
    let word: &str = name
        .split(|ch: char| ch.is_whitespace())
        .next()
        .unwrap_or_default();
    word.chars()
        .next()
        .is_some_and(|ch| ch.is_ascii_uppercase())
        && word.chars().all(|ch| ch.is_ascii_alphanumeric())
}

fn starts_with_url(chars: &[char]) -> bool {
    let head: String = chars.iter().take(8).collect();
    head.starts_with("http://") || head.starts_with("https://")
}

/// Whether the text so far ends inside a markdown link target `](`.
fn in_link_target(out: &str) -> bool {
    out.ends_with("](")
}
