//! Limits on what a project file may hold, so hostile or broken input is refused quickly,
//! with a position, instead of taking minutes or gigabytes.
//!
//! [`preflight`] reads a YAML document once as a stream of events (yaml-rust2, linear in
//! the input) before it is deserialized, and stops at the first event over a limit: nesting
//! deeper than [`MAX_DEPTH`] (libyaml, under serde_norway, rescans its pending keys on every
//! token, so `[[[[…` 100,000 deep took 18 s), one text value longer than [`MAX_SCALAR`]
//! (page titles end up in calendar feeds whose line folding is quadratic), aliases that
//! expand to more than [`MAX_EXPANDED_NODES`] nodes ("billion laughs"), and a second
//! document in the file. [`MAX_FILE_BYTES`] bounds every file read.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};

use crate::diagnostics::Position;

/// The largest file tminus reads from `content/` (32 MiB).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// The deepest nesting of lists and maps in a YAML document.
pub const MAX_DEPTH: usize = 64;
/// The longest single YAML value, in bytes (64 KiB).
pub const MAX_SCALAR: usize = 64 * 1024;
/// The most nodes a YAML document may have once its aliases are expanded. A 10,000-task
/// plan has about 130,000 and a go-live night of 20,000 events about 140,000 (the scale
/// SPEC §8's benchmark asks for), so the bound is ten times that: still far below what
/// exponential aliases ("billion laughs") reach, and read in about a second.
pub const MAX_EXPANDED_NODES: usize = 1_000_000;

/// A limit the document is over: where (line 1-based and column 1-based, within the YAML
/// text), what, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverLimit {
    pub position: Position,
    pub message: String,
    pub hint: String,
}

/// Checks `yaml` against the limits; `Ok` also when it has a syntax error (the YAML
/// deserializer reports those, with their position).
pub fn preflight(yaml: &str) -> Result<(), OverLimit> {
    let mut parser = Parser::new_from_str(yaml);
    let mut depth = 0usize;
    let mut documents = 0usize;
    let mut expanded = 0usize;
    // Expanded size of each anchored node, and of each open collection with its anchor.
    let mut anchored: HashMap<usize, usize> = HashMap::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(next) => next,
            // The scanner refuses flow collections nested a few hundred deep before
            // their events arrive; other syntax errors are left to the deserializer.
            Err(e) if e.info().contains("recursion limit") => {
                let mark = e.marker();
                return Err(OverLimit {
                    position: Position::new(mark.line(), mark.col() + 1),
                    message: format!("lists and maps are nested more than {MAX_DEPTH} deep here"),
                    hint: "flatten the structure; no tminus file needs more than a few levels"
                        .into(),
                });
            }
            Err(_) => return Ok(()),
        };
        let at = Position::new(mark.line(), mark.col() + 1);
        let size = match event {
            Event::StreamEnd => return Ok(()),
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(OverLimit {
                        position: at,
                        message: "a second YAML document starts here; a file holds one".into(),
                        hint: "remove this `---` line (and what follows it, or merge it into the document above)".into(),
                    });
                }
                continue;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(OverLimit {
                        position: at,
                        message: format!(
                            "lists and maps are nested more than {MAX_DEPTH} deep here"
                        ),
                        hint: "flatten the structure; no tminus file needs more than a few levels"
                            .into(),
                    });
                }
                open.push((anchor, 0));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                depth = depth.saturating_sub(1);
                let Some((anchor, inner)) = open.pop() else {
                    continue;
                };
                let size = inner + 1;
                if anchor != 0 {
                    anchored.insert(anchor, size);
                }
                // Already counted into `expanded` as its items arrived.
                if let Some(parent) = open.last_mut() {
                    parent.1 += size;
                }
                continue;
            }
            Event::Scalar(text, _, anchor, _) => {
                if text.len() > MAX_SCALAR {
                    return Err(OverLimit {
                        position: at,
                        message: format!(
                            "this value is {} KiB long; the limit is {} KiB",
                            text.len() / 1024,
                            MAX_SCALAR / 1024
                        ),
                        hint:
                            "put long text in the Markdown body of a page instead of a YAML value"
                                .into(),
                    });
                }
                if anchor != 0 {
                    anchored.insert(anchor, 1);
                }
                1
            }
            Event::Alias(id) => {
                let size = anchored.get(&id).copied().unwrap_or(1);
                if expanded.saturating_add(size) > MAX_EXPANDED_NODES {
                    return Err(OverLimit {
                        position: at,
                        message: format!(
                            "with this alias the document expands to more than {MAX_EXPANDED_NODES} values"
                        ),
                        hint: "aliases (`*name`) copy what their anchor (`&name`) holds; nested copies multiply, so write the values out or use fewer levels of aliases".into(),
                    });
                }
                size
            }
            _ => continue,
        };
        expanded = expanded.saturating_add(size);
        if let Some(parent) = open.last_mut() {
            parent.1 = parent.1.saturating_add(size);
        }
        if expanded > MAX_EXPANDED_NODES {
            return Err(OverLimit {
                position: at,
                message: format!("the document has more than {MAX_EXPANDED_NODES} values"),
                hint: "split the file".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over(yaml: &str) -> OverLimit {
        preflight(yaml).expect_err("over a limit")
    }

    #[test]
    fn ordinary_documents_pass() {
        assert_eq!(
            preflight("a: 1\nb: [x, {c: d}]\ne: &x {f: 1}\ng: *x\n"),
            Ok(())
        );
        assert_eq!(
            preflight("a: [unclosed\n"),
            Ok(()),
            "syntax errors are left to serde"
        );
    }

    #[test]
    fn deep_nesting_is_refused_where_it_goes_too_deep() {
        let e = over(&format!("tasks: {}", "[".repeat(100_000)));
        assert_eq!(e.position.line, 1, "{e:?}");
        let e = over(&format!("tasks: {}x{}", "[".repeat(100), "]".repeat(100)));
        // At the bracket that goes too deep (yaml-rust2 marks a flow start one column early).
        assert_eq!(e.position.line, 1, "{e:?}");
        assert!(
            (8 + MAX_DEPTH - 1..=8 + MAX_DEPTH).contains(&e.position.column),
            "{e:?}"
        );
        let e = over(&format!("a:\n{}x\n", "- ".repeat(1000)));
        assert_eq!(e.position.line, 2, "{e:?}");
    }

    #[test]
    fn huge_values_are_refused() {
        let e = over(&format!(
            "a: b\ntitle: \"{}\"\n",
            "x".repeat(MAX_SCALAR + 1)
        ));
        assert_eq!(e.position, Position::new(2, 8));
    }

    #[test]
    fn billion_laughs_is_refused_at_the_alias() {
        let mut yaml = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, name) in ["b", "c", "d", "e", "f", "g"].iter().enumerate() {
            let prev = ["a", "b", "c", "d", "e", "f"][i];
            yaml.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 10].join(", ")
            ));
        }
        let e = over(&yaml);
        assert!(e.message.contains("alias"), "{e:?}");
        // Line 6 is the first whose aliases expand past 1,000,000 values (10^6 and more).
        assert_eq!(e.position.line, 6, "{e:?}");
    }

    #[test]
    fn a_second_document_is_located_at_its_marker() {
        let e = over("a: 1\n---\nb: 2\n");
        assert_eq!(e.position.line, 2, "{e:?}");
    }
}
