//! One reference page: its title, `Reference:` URL and YAML block, parsed into a JSON tree.

use serde_json::{Map, Value};

use super::error::NormalizeError;

/// A reference page, read and parsed, before any normalization.
#[derive(Debug, Clone)]
pub struct Page {
    /// The page's path relative to the pages folder, e.g. `media/get-media-by-uuid.md` (used in messages).
    pub file: String,
    /// The folder the page sits in, e.g. `media`: it becomes the operation's tag.
    pub group: String,
    /// The file name without `.md`, e.g. `get-media-by-uuid`.
    pub slug: String,
    /// The first `# ` heading, if any.
    pub title: Option<String>,
    /// The URL on the page's `Reference:` line, if any.
    pub reference: Option<String>,
    /// The full page text (used to find the line of a construct named in an error).
    pub text: String,
    /// The YAML block, parsed.
    pub doc: Value,
}

impl Page {
    /// The 1-based line of the first occurrence of `needle` in the page, if any.
    pub fn line_of(&self, needle: &str) -> Option<usize> {
        line_of(&self.text, needle)
    }
}

/// The 1-based line of the first occurrence of `needle` in `text`, if any.
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i.saturating_add(1))
}

/// Parses the page `file` (a path relative to the pages folder, `<group>/<slug>.md`) with content `text`.
pub fn parse_page(file: &str, text: &str) -> Result<Page, NormalizeError> {
    let (group, slug) = split_file(file);
    let (block, first_line) = yaml_block(text).ok_or_else(|| NormalizeError::NoYamlBlock {
        file: file.to_string(),
    })?;
    let yaml: serde_norway::Value =
        serde_norway::from_str(block).map_err(|e| NormalizeError::Yaml {
            file: file.to_string(),
            line: e
                .location()
                .map(|l| l.line().saturating_add(first_line).saturating_sub(1)),
            column: e.location().map(|l| l.column()),
            message: e.to_string(),
        })?;
    let doc = yaml_to_json(yaml).map_err(|message| NormalizeError::NotAnOpenApiPage {
        file: file.to_string(),
        reason: message,
    })?;
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err(NormalizeError::NotAnOpenApiPage {
            file: file.to_string(),
            reason: "the YAML block has no `paths` object".to_string(),
        });
    }
    Ok(Page {
        file: file.to_string(),
        group,
        slug,
        title: text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(|t| t.trim().to_string()),
        reference: text
            .lines()
            .find_map(|l| l.strip_prefix("Reference:"))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        text: text.to_string(),
        doc,
    })
}

/// Splits `group/slug.md` into its group and slug (an empty group when the file is at the top).
fn split_file(file: &str) -> (String, String) {
    let normalized = file.replace('\\', "/");
    let (group, name) = match normalized.rsplit_once('/') {
        Some((g, n)) => (g.rsplit('/').next().unwrap_or(g).to_string(), n.to_string()),
        None => (String::new(), normalized.clone()),
    };
    let slug = name.strip_suffix(".md").unwrap_or(&name).to_string();
    (group, slug)
}

/// An opening code fence: its character, its length and its info string.
fn opening_fence(line: &str) -> Option<(char, usize, &str)> {
    let t = line.trim();
    let c = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|x| *x == c).count();
    if len < 3 {
        return None;
    }
    Some((c, len, t[len..].trim()))
}

/// True when `line` closes a fence opened with `len` times `c`.
fn is_closing_fence(line: &str, c: char, len: usize) -> bool {
    let t = line.trim();
    t.chars().count() >= len && t.chars().all(|x| x == c)
}

/// The text of the first fenced `yaml` (or `yml`) code block and the 1-based line its content starts on.
///
/// Fences of three or more backticks or tildes are recognized (pages use four when the YAML itself contains a
/// fenced block); blocks of other languages before it are skipped whole.
pub fn yaml_block(text: &str) -> Option<(&str, usize)> {
    let mut offset: usize = 0;
    // (fence char, fence length, is yaml, content start offset, content first line)
    let mut open: Option<(char, usize, bool, usize, usize)> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        match open {
            None => {
                if let Some((c, len, info)) = opening_fence(line) {
                    let lang = info.split_whitespace().next().unwrap_or("");
                    let is_yaml =
                        lang.eq_ignore_ascii_case("yaml") || lang.eq_ignore_ascii_case("yml");
                    open = Some((
                        c,
                        len,
                        is_yaml,
                        offset.saturating_add(line.len()),
                        i.saturating_add(2),
                    ));
                }
            }
            Some((c, len, is_yaml, start, first_line)) => {
                if is_closing_fence(line, c, len) {
                    if is_yaml {
                        return text.get(start..offset).map(|b| (b, first_line));
                    }
                    open = None;
                }
            }
        }
        offset = offset.saturating_add(line.len());
    }
    None
}

/// Converts a YAML tree to a JSON tree: mapping keys that are numbers or booleans become strings.
pub(crate) fn yaml_to_json(v: serde_norway::Value) -> Result<Value, String> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| format!("the number {f} cannot be represented in JSON"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_yaml_block_after_other_blocks_and_inside_longer_fences() {
        let text = "# T\n\n```json\n{\"a\": 1}\n```\n\n````yaml\nx: 1\ny: |\n  ```json\n  {}\n  ```\n````\n";
        let (block, line) = yaml_block(text).expect("block");
        assert_eq!(block, "x: 1\ny: |\n  ```json\n  {}\n  ```\n");
        assert_eq!(line, 8);
    }

    #[test]
    fn an_unclosed_block_is_no_block() {
        assert_eq!(yaml_block("```yaml\nx: 1\n"), None);
        assert_eq!(yaml_block("no fences"), None);
    }

    #[test]
    fn group_and_slug_come_from_the_path() {
        assert_eq!(
            split_file("media/get-x.md"),
            ("media".into(), "get-x".into())
        );
        assert_eq!(split_file("a/b/c.md"), ("b".into(), "c".into()));
        assert_eq!(split_file("top.md"), (String::new(), "top".into()));
    }

    #[test]
    fn numeric_mapping_keys_become_strings() {
        let page =
            parse_page("g/s.md", "```yaml\npaths: {}\nresponses:\n  200: {}\n```\n").expect("page");
        assert!(page.doc["responses"].get("200").is_some());
    }
}
