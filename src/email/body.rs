//! The body of the HTML part: the message's Markdown as HTML (pulldown-cmark, the same
//! options as the plain-text part) with an inline `style` on every element, because email
//! clients drop `<style>` blocks and classes, and mrml's `mj-attributes` do not reach the
//! raw HTML inside an `mj-text`. One pass over the HTML, per recipient.

/// The body's font stack, repeated on headings and table cells: Outlook does not let them
/// inherit it (a macro, so `concat!` can use it).
macro_rules! font {
    () => {
        "font-family:'Segoe UI',Helvetica,Arial,sans-serif;"
    };
}

macro_rules! mono {
    () => {
        "font-family:Consolas,Menlo,monospace;"
    };
}

macro_rules! heading {
    ($margin:literal, $size:literal) => {
        concat!(
            "margin:",
            $margin,
            ";font-size:",
            $size,
            ";line-height:1.3;color:#10233f;",
            font!()
        )
    };
}

/// An element's inline style (and extra attributes, written before it).
struct Styled {
    tag: &'static str,
    attributes: &'static str,
    style: &'static str,
}

macro_rules! styled {
    ($tag:literal, $style:expr) => {
        Styled {
            tag: $tag,
            attributes: "",
            style: $style,
        }
    };
    ($tag:literal, $attributes:literal, $style:expr) => {
        Styled {
            tag: $tag,
            attributes: $attributes,
            style: $style,
        }
    };
}

const STYLES: &[Styled] = &[
    styled!("p", "margin:0 0 16px 0;"),
    styled!("a", "color:#0b5cad;text-decoration:underline;"),
    styled!("li", "margin:0 0 6px 0;"),
    styled!("ul", "margin:0 0 16px 0;padding-left:22px;"),
    styled!("ol", "margin:0 0 16px 0;padding-left:22px;"),
    styled!("strong", "font-weight:600;"),
    styled!("h1", heading!("0 0 16px 0", "24px")),
    styled!("h2", heading!("24px 0 12px 0", "20px")),
    styled!("h3", heading!("20px 0 8px 0", "17px")),
    styled!("h4", heading!("16px 0 8px 0", "16px")),
    styled!("h5", heading!("16px 0 8px 0", "15px")),
    styled!("h6", heading!("16px 0 8px 0", "15px")),
    styled!(
        "table",
        "cellpadding=\"0\" cellspacing=\"0\" border=\"0\" width=\"100%\" ",
        "border-collapse:collapse;margin:0 0 16px 0;width:100%;"
    ),
    styled!(
        "th",
        concat!(
            "text-align:left;border-bottom:2px solid #c5cfdc;padding:6px 8px;font-size:15px;",
            font!()
        )
    ),
    styled!(
        "td",
        concat!(
            "border-bottom:1px solid #e3e8ef;padding:6px 8px;vertical-align:top;font-size:15px;",
            font!()
        )
    ),
    styled!(
        "blockquote",
        "margin:0 0 16px 0;padding:8px 16px;border-left:4px solid #0b5cad;background:#f3f7fc;color:#1f2a37;"
    ),
    styled!(
        "pre",
        concat!(
            "margin:0 0 16px 0;padding:12px;background:#f1f3f6;border-radius:4px;font-size:13px;",
            "line-height:1.45;white-space:pre-wrap;word-wrap:break-word;",
            mono!()
        )
    ),
    styled!(
        "code",
        concat!(
            "font-size:14px;background:#f1f3f6;padding:1px 4px;border-radius:3px;",
            mono!()
        )
    ),
    styled!(
        "hr",
        "border:0;border-top:1px solid #e3e8ef;margin:24px 0;"
    ),
    styled!("img", "max-width:100%;height:auto;border:0;"),
];

/// `<code>` inside `<pre>`: the block already has the background and padding.
const CODE_IN_PRE: &str = concat!("font-size:13px;", mono!());

/// The body's Markdown as HTML with inline styles.
pub fn body_html(markdown: &str) -> String {
    let events: Vec<_> =
        pulldown_cmark::Parser::new_ext(markdown, crate::markdown::options()).collect();
    let raw_html = crate::markdown::raw_html::has_raw_html(events.iter());
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(
        &mut html,
        events.into_iter().map(crate::markdown::defuse_link),
    );
    if raw_html {
        html = crate::markdown::raw_html::clean(&html, None);
    }
    inline_styles(&html)
}

/// Adds the inline style of each known element to its opening tags, before any `style`
/// the tag already has (pulldown-cmark's `text-align` on table cells), which so wins.
pub fn inline_styles(html: &str) -> String {
    let mut out = String::with_capacity(html.len() * 2);
    let mut rest = html;
    let mut in_pre = false;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let after = &rest[1..];
        let closing = after.starts_with('/');
        let name_at = usize::from(closing);
        let name_len = after[name_at..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len() - name_at);
        let name = &after[name_at..name_at + name_len];
        let ends_name = after[name_at + name_len..]
            .chars()
            .next()
            .is_some_and(|c| c == '>' || c == ' ' || c == '/');
        if name.eq_ignore_ascii_case("pre") {
            in_pre = !closing;
        }
        let styled = STYLES
            .iter()
            .find(|s| s.tag.eq_ignore_ascii_case(name))
            .filter(|_| !closing && ends_name);
        let Some(styled) = styled else {
            out.push('<');
            rest = after;
            continue;
        };
        let style = if styled.tag == "code" && in_pre {
            CODE_IN_PRE
        } else {
            styled.style
        };
        let tag_end = after.find('>').map_or(after.len(), |i| i + 1);
        let attrs = &after[name_at + name_len..tag_end];
        out.push('<');
        out.push_str(name);
        match attrs.find("style=\"") {
            Some(i) => {
                out.push_str(&attrs[..i]);
                out.push_str("style=\"");
                out.push_str(style);
                out.push_str(&attrs[i + 7..]);
            }
            None => {
                out.push(' ');
                out.push_str(styled.attributes);
                out.push_str("style=\"");
                out.push_str(style);
                out.push('"');
                out.push_str(attrs);
            }
        }
        rest = &after[tag_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKDOWN: &str = "# Title\n\nHello **you** and [link](https://x.example \"t\").\n\n\
        ## Sub\n\n### Three\n\n- a\n- b\n\n1. one\n\n> quoted\n\n`inline <p>`\n\n\
        ```sql\nselect '<p>' from t;\n```\n\n| left | centred |\n|---|:-:|\n| 1 | 2 |\n\n\
        ---\n\n![logo](logo.png)\n";

    fn opening_tags(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .filter(|t| !t.starts_with('/'))
            .map(|t| &t[..t.find('>').map_or(t.len(), |i| i + 1)])
            .collect()
    }

    #[test]
    fn every_body_element_carries_an_inline_style() {
        let html = body_html(MARKDOWN);
        for tag in opening_tags(&html) {
            let name: String = tag
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if ["thead", "tbody", "tr", "em"].contains(&name.as_str()) {
                continue;
            }
            assert!(tag.contains(" style=\""), "<{tag} has no style in {html}");
            assert_eq!(
                tag.matches("style=").count(),
                1,
                "one style attribute: <{tag}"
            );
        }
        assert!(html.contains(
            "<a style=\"color:#0b5cad;text-decoration:underline;\" href=\"https://x.example\" title=\"t\">"
        ));
        assert!(html.contains("<h1 style=\"margin:0 0 16px 0;font-size:24px;"));
        assert!(html.contains("font-family:'Segoe UI',Helvetica,Arial,sans-serif;\">Title</h1>"));
        assert!(html.contains("<table cellpadding=\"0\" cellspacing=\"0\" border=\"0\" width=\"100%\" style=\"border-collapse:collapse;"));
        assert!(html.contains("<hr style=\"border:0;"));
        assert!(
            html.contains("<img style=\"max-width:100%;height:auto;border:0;\" src=\"logo.png\"")
        );
    }

    #[test]
    fn existing_styles_are_kept_after_ours_and_code_blocks_are_not_padded_twice() {
        let html = body_html(MARKDOWN);
        // pulldown-cmark's alignment wins over the default `text-align:left`.
        assert!(html.contains("font-family:'Segoe UI',Helvetica,Arial,sans-serif;text-align: center\">centred</th>"), "{html}");
        let inline = html
            .find("<code style=\"font-size:14px;background")
            .expect("inline code");
        assert!(html[inline..]
            .starts_with("<code style=\"font-size:14px;background:#f1f3f6;padding:1px 4px;"));
        assert!(html.contains("<pre style=\"margin:0 0 16px 0;padding:12px;"));
        assert!(html.contains("<code style=\"font-size:13px;font-family:Consolas,Menlo,monospace;\" class=\"language-sql\">"), "{html}");
    }

    #[test]
    fn text_and_code_that_look_like_tags_stay_escaped() {
        let html = body_html("a &lt;p&gt; b `<p>` and\n\n```\n<td>\n```\n");
        assert!(html.contains("a &lt;p&gt; b"));
        assert!(html.contains(">&lt;p&gt;</code>"));
        assert!(html.contains(">&lt;td&gt;\n</code></pre>"));
        assert_eq!(opening_tags(&html).len(), 4, "p, code, pre, code: {html}");
    }

    #[test]
    fn unknown_and_closing_tags_pass_through() {
        assert_eq!(
            inline_styles("<div><span>x</span><pre></pre><pref>y</pref><br /></div>"),
            "<div><span>x</span><pre style=\"margin:0 0 16px 0;padding:12px;background:#f1f3f6;border-radius:4px;font-size:13px;line-height:1.45;white-space:pre-wrap;word-wrap:break-word;font-family:Consolas,Menlo,monospace;\"></pre><pref>y</pref><br /></div>"
        );
        assert_eq!(inline_styles("a < b <"), "a < b <");
    }
}
