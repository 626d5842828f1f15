//! Highlighted code as HTML spans carrying only the classes the syntax stylesheet uses.
//!
//! syntect's own `ClassedHTMLGenerator` writes a `<span>` for every scope the grammar
//! pushes, with one class per atom: `<span class="hl-meta hl-function-call hl-arguments
//! hl-shell">`. Most of those scopes and atoms match no rule of the stylesheet, yet they
//! were about half of every page with code and of the highlight cache. Here a span keeps
//! exactly the atoms of the stylesheet's compound selectors (`.hl-keyword.hl-operator`)
//! that it satisfies, and a span that satisfies none is left out. A compound selector
//! matches an element only if the element has all its classes, so the kept classes match
//! exactly the rules the full ones did, and a left-out span matched no rule (descendant
//! selectors only look at ancestors that match): the colours are the same, with half the
//! markup.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use syntect::highlighting::Theme;
use syntect::parsing::{
    BasicScopeStackOp, ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet,
};
use syntect::util::LinesWithEndings;

use crate::util::push_escaped;

/// The compound selectors of the stylesheet's themes, each as its set of atoms.
pub struct Selectors {
    compounds: Vec<Vec<String>>,
    prefix: &'static str,
}

impl Selectors {
    /// The compounds of every rule of `themes`, for classes written as `<prefix><atom>`
    /// (what `syntect::html::css_for_theme_with_class_style` writes for them).
    pub fn of_themes(themes: &[&Theme], prefix: &'static str) -> Self {
        let mut compounds: Vec<Vec<String>> = themes
            .iter()
            .flat_map(|t| &t.scopes)
            .flat_map(|item| &item.scope.selectors)
            .flat_map(|selector| selector.extract_scopes())
            .map(|scope| atoms(scope).into_iter().collect())
            .collect();
        compounds.sort();
        compounds.dedup();
        Self { compounds, prefix }
    }

    /// The `class` attribute for a span of `scope`, or `None` when no rule can match it.
    fn class_for(&self, scope: Scope) -> Option<String> {
        let atoms = atoms(scope);
        let have: HashSet<&str> = atoms.iter().map(String::as_str).collect();
        let used: HashSet<&str> = self
            .compounds
            .iter()
            .filter(|c| c.iter().all(|a| have.contains(a.as_str())))
            .flatten()
            .map(String::as_str)
            .collect();
        let classes: Vec<String> = atoms
            .iter()
            .filter(|a| used.contains(a.as_str()))
            .map(|a| format!("{}{a}", self.prefix))
            .collect();
        (!classes.is_empty()).then(|| classes.join(" "))
    }
}

fn atoms(scope: Scope) -> Vec<String> {
    scope
        .build_string()
        .split('.')
        .map(str::to_string)
        .collect()
}

thread_local! {
    /// `class` attribute per scope (scopes repeat endlessly; computing one takes syntect's
    /// global scope-name lock). Per thread, so rendering threads never wait on each other.
    static CLASSES: RefCell<HashMap<Scope, Option<Rc<str>>>> = RefCell::new(HashMap::new());
}

fn cached_class(selectors: &Selectors, scope: Scope) -> Option<Rc<str>> {
    CLASSES.with(|c| {
        c.borrow_mut()
            .entry(scope)
            .or_insert_with(|| selectors.class_for(scope).map(Rc::from))
            .clone()
    })
}

/// `code` highlighted as `syntax`, or `None` when the grammar fails on it.
pub fn highlight(
    code: &str,
    syntax: &SyntaxReference,
    set: &SyntaxSet,
    selectors: &Selectors,
) -> Option<String> {
    let mut out = String::with_capacity(code.len() * 2);
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    // Per pushed scope: where its `<span>` starts in `out`, or `None` if it has none.
    let mut open: Vec<Option<usize>> = Vec::new();
    // Nothing was written since the last `<span>` opened (an empty span is dropped).
    let mut just_opened = false;
    for line in LinesWithEndings::from(code) {
        let ops = state.parse_line(line, set).ok()?;
        let mut at = 0;
        for (i, op) in ops {
            if i > at {
                push_escaped(&mut out, &line[at..i]);
                just_opened = false;
                at = i;
            }
            stack
                .apply_with_hook(&op, |basic, _| match basic {
                    BasicScopeStackOp::Push(scope) => match cached_class(selectors, scope) {
                        Some(class) => {
                            open.push(Some(out.len()));
                            out.push_str("<span class=\"");
                            out.push_str(&class);
                            out.push_str("\">");
                            just_opened = true;
                        }
                        None => open.push(None),
                    },
                    BasicScopeStackOp::Pop => {
                        if let Some(Some(start)) = open.pop() {
                            if just_opened {
                                out.truncate(start);
                            } else {
                                out.push_str("</span>");
                            }
                            just_opened = false;
                        }
                    }
                })
                .ok()?;
        }
        push_escaped(&mut out, &line[at..]);
        if at < line.len() {
            just_opened = false;
        }
    }
    for span in open.into_iter().rev() {
        if span.is_some() {
            out.push_str("</span>");
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syntect::highlighting::ThemeSet;
    use syntect::html::{ClassStyle, ClassedHTMLGenerator};

    const PREFIX: &str = "hl-";

    /// Per character of text: the classes of each enclosing span, outermost first.
    fn styled_chars(html: &str) -> Vec<(char, Vec<Vec<String>>)> {
        let mut out = Vec::new();
        let mut stack: Vec<Vec<String>> = Vec::new();
        let mut rest = html;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("</span>") {
                stack.pop().expect("balanced spans");
                rest = r;
            } else if let Some(r) = rest.strip_prefix("<span class=\"") {
                let end = r.find("\">").expect("a closed tag");
                stack.push(r[..end].split(' ').map(str::to_string).collect());
                rest = &r[end + 2..];
            } else if rest.starts_with('&') {
                let end = rest.find(';').expect("an entity");
                let c = match &rest[..=end] {
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&amp;" => '&',
                    "&quot;" => '"',
                    "&#39;" | "&#x27;" => '\'',
                    other => panic!("entity {other}"),
                };
                out.push((c, stack.clone()));
                rest = &rest[end + 1..];
            } else {
                let c = rest.chars().next().unwrap();
                out.push((c, stack.clone()));
                rest = &rest[c.len_utf8()..];
            }
        }
        assert!(stack.is_empty(), "unclosed spans");
        out
    }

    /// What the stylesheet sees of a character: for each enclosing span that matches any
    /// compound selector, the compounds it matches.
    fn as_styled(selectors: &Selectors, html: &str) -> Vec<(char, Vec<Vec<Vec<String>>>)> {
        styled_chars(html)
            .into_iter()
            .map(|(c, spans)| {
                let matched = spans
                    .iter()
                    .map(|classes| {
                        selectors
                            .compounds
                            .iter()
                            .filter(|comp| {
                                comp.iter()
                                    .all(|a| classes.contains(&format!("{PREFIX}{a}")))
                            })
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .filter(|m| !m.is_empty())
                    .collect();
                (c, matched)
            })
            .collect()
    }

    #[test]
    fn the_stylesheet_matches_every_character_as_with_syntects_full_markup() {
        let set = SyntaxSet::load_defaults_newlines();
        let themes = ThemeSet::load_defaults();
        let selectors = Selectors::of_themes(
            &[
                &themes.themes["InspiredGitHub"],
                &themes.themes["base16-ocean.dark"],
            ],
            PREFIX,
        );
        let samples = [
            ("sh", "#!/bin/bash\nset -euo pipefail\nfor f in \"$@\"; do echo \"${f%.txt}\" | tr a-z A-Z > /tmp/out-$$; done\n"),
            ("py", "import csv\n\n@dataclass\nclass Row:\n    '''Doc <b>'''\n    def f(self, x=1):\n        return f\"{x!r} & {self}\"  # note\n"),
            ("sql", "SELECT o.id, COUNT(*) AS n -- comment\nFROM orders o WHERE o.status = 'open' AND o.total > 10.5\nGROUP BY o.id;\n"),
            ("yaml", "version: '2.1'\nwaves:\n  - id: pilot # first\n    go_live: 2027-03-29T18:00\n    enabled: true\n"),
            ("json", "{\"a\": [1, 2.5, true, null], \"b\": {\"c\": \"<d>\"}}\n"),
            ("rs", "fn main() -> Result<(), Box<dyn Error>> {\n    let x: u8 = b'a'; // x\n    println!(\"{x}\");\n    Ok(())\n}\n"),
        ];
        for (token, code) in samples {
            let syntax = set.find_syntax_by_extension(token).expect(token);
            let mut full = ClassedHTMLGenerator::new_with_class_style(
                syntax,
                &set,
                ClassStyle::SpacedPrefixed { prefix: PREFIX },
            );
            for line in LinesWithEndings::from(code) {
                full.parse_html_for_line_which_includes_newline(line)
                    .unwrap();
            }
            let full = full.finalize();
            let ours = highlight(code, syntax, &set, &selectors).unwrap();
            assert_eq!(
                as_styled(&selectors, &ours),
                as_styled(&selectors, &full),
                "{token}: the same rules must apply to every character"
            );
            assert!(
                ours.len() * 10 < full.len() * 8,
                "{token}: {} bytes, syntect's full markup {}",
                ours.len(),
                full.len()
            );
        }
    }

    #[test]
    fn text_is_escaped_and_spans_without_a_matching_rule_are_left_out() {
        let set = SyntaxSet::load_defaults_newlines();
        let themes = ThemeSet::load_defaults();
        let selectors = Selectors::of_themes(&[&themes.themes["InspiredGitHub"]], PREFIX);
        let syntax = set.find_syntax_by_extension("py").unwrap();
        let html = highlight("x = '<script>' # a & b\n", syntax, &set, &selectors).unwrap();
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("&amp;"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        // Atoms no rule names (`meta.qualified-name.python`, `meta.generic-name.python`).
        assert!(
            !html.contains("qualified-name") && !html.contains("generic-name"),
            "{html}"
        );
        assert!(html.contains("class=\"hl-comment"), "{html}");
    }
}
