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
    // The text of the last section, as it is collected: words joined by single spaces.
    let mut text = Collapsed::default();
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
                    finish(&mut out, std::mem::take(&mut text));
                    out.push(Section {
                        anchor: Some(anchor),
                        title: title.trim().to_string(),
                        level,
                        text: String::new(),
                    });
                } else {
                    text.gap();
                    text.push(&title);
                    text.gap();
                }
            }
            Event::Text(t) | Event::Code(t) => match &mut heading {
                Some((_, _, title)) => title.push_str(&t),
                None => text.push(&t),
            },
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_),
            ) => text.gap(),
            _ => {}
        }
    }
    finish(&mut out, text);
    if out[0].text.is_empty() && out.len() > 1 {
        out.remove(0);
    }
    out
}

fn finish(out: &mut [Section], text: Collapsed) {
    if let Some(last) = out.last_mut() {
        last.text = text.into_string();
    }
}

/// Text with its whitespace collapsed as it is appended: the words (runs of non-whitespace
/// across everything pushed) joined by single spaces, without leading or trailing space —
/// what `split_whitespace().join(" ")` of the concatenation gives, without a second copy.
#[derive(Debug, Default)]
pub struct Collapsed {
    text: String,
    /// Whitespace was seen since the last word.
    gap: bool,
}

impl Collapsed {
    /// Appends `s`; a word it starts continues the last one unless whitespace came between.
    pub fn push(&mut self, s: &str) {
        for (i, word) in words(s, false).enumerate() {
            if i > 0 {
                self.gap = true;
            }
            if word.is_empty() {
                continue;
            }
            if self.gap && !self.text.is_empty() {
                self.text.push(' ');
            }
            self.gap = false;
            self.text.push_str(word);
        }
    }

    /// Separates what comes next from the last word.
    pub fn gap(&mut self) {
        self.gap = true;
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

/// The words of `s` as `s.split(|c| c.is_whitespace() || c == '-')` gives them (empty ones
/// included; `-` only when `split_on_dash`), with ASCII bytes looked up in a table instead
/// of decoding and classifying every character.
pub fn words(s: &str, split_on_dash: bool) -> impl Iterator<Item = &str> {
    /// 1: ASCII whitespace; 2: `-`; 4: not ASCII (decoded and tested in full).
    const CLASS: [u8; 256] = {
        let mut class = [0u8; 256];
        let mut b = 0;
        while b < 256 {
            class[b] = match b as u8 {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => 1,
                b'-' => 2,
                0x80..=0xff => 4,
                _ => 0,
            };
            b += 1;
        }
        class
    };
    let stop = if split_on_dash { 1 | 2 | 4 } else { 1 | 4 };
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut i = start;
        loop {
            while i < bytes.len() && CLASS[bytes[i] as usize] & stop == 0 {
                i += 1;
            }
            if i == bytes.len() {
                done = true;
                return Some(&s[start..]);
            }
            let width = if bytes[i] < 0x80 {
                1
            } else {
                // `i` is on a character boundary: other characters are skipped whole.
                let c = s[i..].chars().next().unwrap_or('\0');
                if !c.is_whitespace() {
                    i += c.len_utf8();
                    continue;
                }
                c.len_utf8()
            };
            let word = &s[start..i];
            start = i + width;
            return Some(word);
        }
    })
}

/// `s` with its whitespace collapsed (see [`Collapsed`]).
pub fn collapse(s: &str) -> String {
    let mut c = Collapsed::default();
    c.push(s);
    c.into_string()
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
    fn words_are_split_as_str_split_does() {
        let texts = [
            "",
            " ",
            "go-live  now\t\n",
            "a\u{a0}b\u{2003}c\u{3000}d\u{85}e\u{200b}f",
            "--x-",
            "Straße ΣΟΦΟΣ\r\nİstanbul\x0bvt\x0cff\x1cfs",
            "é",
            "trailing ",
        ];
        for t in texts {
            for dash in [false, true] {
                let ours: Vec<&str> = words(t, dash).collect();
                let std: Vec<&str> = t
                    .split(|c: char| c.is_whitespace() || (dash && c == '-'))
                    .collect();
                assert_eq!(ours, std, "{t:?} dash={dash}");
            }
        }
    }

    #[test]
    fn collapsing_as_it_goes_equals_collapsing_the_whole() {
        let pieces = [
            "  Go",
            "-live\n\tnow ",
            "",
            "é  ",
            " ",
            "x",
            "y\u{2003}z",
            " ",
        ];
        let mut c = Collapsed::default();
        for p in pieces {
            c.push(p);
        }
        let whole = pieces.concat();
        assert_eq!(
            c.into_string(),
            whole.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        let mut c = Collapsed::default();
        c.push("a");
        c.gap();
        c.gap();
        c.push("b");
        c.gap();
        assert_eq!(c.into_string(), "a b");
        assert_eq!(collapse("\n a  b \n"), "a b");
    }

    #[test]
    fn no_empty_intro_when_the_page_starts_with_a_heading() {
        let s = sections("## Only\n\nText");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].anchor.as_deref(), Some("only"));
    }
}
