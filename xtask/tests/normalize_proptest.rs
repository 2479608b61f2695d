//! No input makes the page parser or the per-page normalization panic: arbitrary text, arbitrary YAML blocks and
//! randomly mutated fixture pages all give `Ok` or a typed error.

use std::path::Path;

use proptest::prelude::*;
use xtask::normalize::{self, Inputs, page};

fn fixture_page() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/normalize/fixes/widgets/get-widget.md");
    std::fs::read_to_string(path).expect("fixture page")
}

/// Parses and normalizes `text` as one page; any outcome but a panic is fine.
fn exercise(text: &str) {
    let inputs = Inputs::default();
    if let Ok(p) = page::parse_page("group/slug.md", text) {
        let _ = normalize::process_page(p.clone(), &inputs.numbers);
        let _ = normalize::normalize_pages(vec![p], &inputs);
    }
}

/// One edit of a page: delete a range, insert text, or duplicate a line.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (
            any::<usize>(),
            prop_oneof![
                "[ -~\n]{0,12}".boxed(),
                Just("\n  - value: x\n".to_string()).boxed(),
                Just(" type: [string, integer]".to_string()).boxed(),
                Just("$ref: '#/components/schemas/Nope'".to_string()).boxed(),
                Just("\n```\n".to_string()).boxed(),
                Just("oneOf:\n  - type: 'null'\n".to_string()).boxed(),
                Just("\t".to_string()).boxed(),
            ]
        )
            .prop_map(|(at, s)| Mutation::Insert(at, s)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    match m {
        Mutation::Delete(at, len) => {
            let start = at % (chars.len() + 1);
            let end = (start + len).min(chars.len());
            chars[..start].iter().chain(&chars[end..]).collect()
        }
        Mutation::Insert(at, s) => {
            let at = at % (chars.len() + 1);
            let mut out: String = chars[..at].iter().collect();
            out.push_str(s);
            out.extend(&chars[at..]);
            out
        }
        Mutation::DuplicateLine(n) => {
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                return text.to_string();
            }
            let n = n % lines.len();
            let mut out: Vec<&str> = lines[..=n].to_vec();
            out.extend(&lines[n..]);
            out.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        exercise(&text);
    }

    #[test]
    fn arbitrary_yaml_blocks_never_panic(body in "[ -~\n]{0,300}", fence in prop_oneof![Just("```"), Just("````")]) {
        exercise(&format!("# T\n\n{fence}yaml\n{body}\n{fence}\n"));
    }

    #[test]
    fn mutated_fixture_pages_never_panic(mutations in proptest::collection::vec(mutation(), 1..6)) {
        let mut text = fixture_page();
        for m in &mutations {
            text = apply(&text, m);
        }
        exercise(&text);
    }
}

#[test]
fn the_unmutated_fixture_page_normalizes() {
    let p = page::parse_page("widgets/get-widget.md", &fixture_page()).expect("parses");
    let out = normalize::normalize_pages(vec![p], &Inputs::default()).expect("normalizes");
    assert_eq!(out.operation_count(), 1);
}
