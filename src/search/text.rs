//! Markdown → searchable text, split at headings.
//!
//! Heading anchors are computed exactly as [`crate::markdown::render`] computes them (an
//! explicit `{#id}`, else the slug of the heading text, made unique with `-1`, `-2`, …), so
//! a result links to the section the reader sees; a test checks both agree.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::markdown::{anchor_slug, options, unique};

/// A part of a Markdown document: the text before the first heading (no anchor), or a
/// `#`–`###` heading and the text up to the next such heading. Deeper headings stay in
/// their parent section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub anchor: Option<String>,
    pub title: String,
    pub level: u8,
    pub text: String,
}

pub fn sections(markdown: &str) -> Vec<Section> {
    let mut out = vec![Section {
        anchor: None,
        title: String::new(),
        level: 0,
        text: String::new(),
    }];
    let mut used: Vec<String> = Vec::new();
    let mut heading: Option<(u8, Option<String>, String)> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                heading = Some((level as u8, id.map(|s| s.to_string()), String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some((level, id, title)) = heading.take() else {
                    continue;
                };
                let base = id.unwrap_or_else(|| anchor_slug(&title));
                let anchor = unique(&base, &mut used);
                if level <= 3 {
                    out.push(Section {
                        anchor: Some(anchor),
                        title: title.trim().to_string(),
                        level,
                        text: String::new(),
                    });
                } else {
                    push_text(&mut out, &format!(" {title} "));
                }
            }
            Event::Text(t) | Event::Code(t) => match &mut heading {
                Some((_, _, title)) => title.push_str(&t),
                None => push_text(&mut out, &t),
            },
            Event::SoftBreak | Event::HardBreak => push_text(&mut out, " "),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_),
            ) => push_text(&mut out, " "),
            _ => {}
        }
    }
    if out[0].text.trim().is_empty() && out.len() > 1 {
        out.remove(0);
    }
    for s in &mut out {
        s.text = s.text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    out
}

/// Markdown → plain text on one line (for step fields).
pub fn plain(markdown: &str) -> String {
    sections(markdown)
        .into_iter()
        .map(|s| {
            if s.title.is_empty() {
                s.text
            } else {
                format!("{} {}", s.title, s.text)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn push_text(out: &mut [Section], text: &str) {
    if let Some(last) = out.last_mut() {
        last.text.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "Intro *text*.\n\n## Signing in\n\nUse `sso`.\n\n## Signing in\n\nAgain.\n\n### Roll *back* {#custom}\n\n- a\n- b\n\n#### Deep\n\nDeeper.\n";

    #[test]
    fn splits_at_headings_with_the_renderers_anchors() {
        let s = sections(DOC);
        let anchors: Vec<Option<&str>> = s.iter().map(|x| x.anchor.as_deref()).collect();
        assert_eq!(
            anchors,
            [
                None,
                Some("signing-in"),
                Some("signing-in-1"),
                Some("custom")
            ]
        );
        assert_eq!(s[0].text, "Intro text.");
        assert_eq!(s[1].text, "Use sso.");
        assert_eq!(s[3].title, "Roll back");
        assert_eq!(s[3].text, "a b Deep Deeper.");
        // Every anchor is one the rendered page has.
        let toc: Vec<String> = crate::markdown::render(DOC, "")
            .toc
            .into_iter()
            .map(|t| t.id)
            .collect();
        for a in anchors.into_iter().flatten() {
            assert!(toc.iter().any(|t| t == a), "{a} not in {toc:?}");
        }
    }

    #[test]
    fn no_empty_intro_when_the_page_starts_with_a_heading() {
        let s = sections("## Only\n\nText");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].anchor.as_deref(), Some("only"));
    }
}
