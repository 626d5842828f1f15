//! Markdown to readable plain text, for the text part of emails: headings underlined, lists
//! bulleted or numbered, links as `text <url>`, tables as aligned rows.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

pub fn to_plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    let mut heading: Option<HeadingLevel> = None;
    let mut in_code = false;
    let mut quote_depth = 0usize;
    let mut table_row: Vec<String> = Vec::new();
    // The column where each open list item's text starts: its later paragraphs, lines
    // after a hard break and code blocks line up there, not at column 0.
    let mut item_columns: Vec<usize> = Vec::new();
    let flush = |out: &mut String, line: &mut String, quote_depth: usize| {
        let text = line.trim_end();
        if !text.is_empty() {
            out.push_str(&"> ".repeat(quote_depth));
            out.push_str(text);
            out.push('\n');
        }
        line.clear();
    };
    for event in Parser::new_ext(markdown, super::options()) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => heading = Some(level),
            Event::End(TagEnd::Heading(_)) => {
                let title = line.trim().to_string();
                line.clear();
                if !out.is_empty() && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                let under = if heading == Some(HeadingLevel::H1) {
                    '='
                } else {
                    '-'
                };
                out.push_str(&title);
                out.push('\n');
                out.push_str(&under.to_string().repeat(title.chars().count().max(3)));
                out.push_str("\n\n");
                heading = None;
            }
            Event::Start(Tag::Paragraph) => {
                if let (true, Some(&column)) = (line.is_empty(), item_columns.last()) {
                    line.push_str(&" ".repeat(column));
                }
            }
            Event::End(TagEnd::Paragraph) => {
                flush(&mut out, &mut line, quote_depth);
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Start(Tag::BlockQuote(_)) => quote_depth += 1,
            Event::End(TagEnd::BlockQuote(_)) => quote_depth = quote_depth.saturating_sub(1),
            Event::Start(Tag::List(start)) => {
                flush(&mut out, &mut line, quote_depth);
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                flush(&mut out, &mut line, quote_depth);
                let indent = "   ".repeat(lists.len().saturating_sub(1));
                let marker = match lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "- ".to_string(),
                };
                line.push_str(&indent);
                line.push_str(&marker);
                item_columns.push(indent.len() + marker.len());
            }
            Event::End(TagEnd::Item) => {
                flush(&mut out, &mut line, quote_depth);
                item_columns.pop();
            }
            Event::TaskListMarker(done) => line.push_str(if done { "[x] " } else { "[ ] " }),
            Event::Start(Tag::CodeBlock(_)) => {
                flush(&mut out, &mut line, quote_depth);
                in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                out.push('\n');
            }
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                // A link the URL rule refuses (`javascript:` …) keeps only its text.
                if let Some(url) = links.pop().filter(|u| crate::url_rule::is_allowed(u, true)) {
                    let bare = url.trim_start_matches("mailto:");
                    if !line.ends_with(bare) {
                        line.push_str(&format!(" <{url}>"));
                    }
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                line.push_str(&format!("[image: {dest_url}] "))
            }
            Event::Start(Tag::Emphasis) | Event::End(TagEnd::Emphasis) => line.push('_'),
            Event::Start(Tag::Strong) | Event::End(TagEnd::Strong) => line.push('*'),
            Event::End(TagEnd::TableCell) => {
                table_row.push(std::mem::take(&mut line).trim().to_string());
            }
            Event::End(TagEnd::TableHead) | Event::End(TagEnd::TableRow) => {
                out.push_str(&table_row.join(" | "));
                out.push('\n');
                table_row.clear();
            }
            Event::End(TagEnd::Table) => out.push('\n'),
            Event::Text(t) if in_code => {
                let column = item_columns.last().copied().unwrap_or(0);
                for l in t.lines() {
                    out.push_str(&" ".repeat(column));
                    out.push_str("    ");
                    out.push_str(l);
                    out.push('\n');
                }
            }
            Event::Text(t) | Event::Code(t) => line.push_str(&t),
            Event::SoftBreak => line.push(' '),
            Event::HardBreak => {
                flush(&mut out, &mut line, quote_depth);
                if let Some(&column) = item_columns.last() {
                    line.push_str(&" ".repeat(column));
                }
            }
            Event::Rule => {
                flush(&mut out, &mut line, quote_depth);
                out.push_str("----------\n\n");
            }
            Event::Html(h) | Event::InlineHtml(h) if h.trim_start().starts_with("<br") => {
                flush(&mut out, &mut line, quote_depth);
            }
            Event::FootnoteReference(name) => line.push_str(&format!("[{name}]")),
            _ => {}
        }
    }
    flush(&mut out, &mut line, quote_depth);
    let trimmed = out.trim_end();
    format!("{trimmed}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_readable() {
        let text = to_plain_text(
            "# We're live\n\nHello **Ana**, see [the guide](https://x.example/guide).\n\n- one\n- two\n\n1. first\n2. second\n",
        );
        assert!(
            text.starts_with(
                "We're live\n==========\n\nHello *Ana*, see the guide <https://x.example/guide>.\n"
            ),
            "{text}"
        );
        assert!(text.contains("- one\n- two\n"), "{text}");
        assert!(text.contains("1. first\n2. second\n"), "{text}");
        assert!(!text.contains('<') || text.contains("<https://"));
    }

    #[test]
    fn later_paragraphs_of_a_list_item_line_up_with_its_text() {
        let md = "1. Sign in.\n\n   *Use* your Contoso account.\n\n2. Open *Jobs*.\n   - a nested point\n\n     with its own paragraph\\\n     and a break\n";
        assert_eq!(
            to_plain_text(md),
            "1. Sign in.\n   _Use_ your Contoso account.\n2. Open _Jobs_.\n   - a nested point\n     with its own paragraph\n     and a break\n"
        );
    }

    #[test]
    fn bare_links_are_not_repeated() {
        let text = to_plain_text("Mail <help@contoso.example> or <https://help.example>.\n");
        assert_eq!(text, "Mail help@contoso.example or https://help.example.\n");
    }
}
