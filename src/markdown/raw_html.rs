//! Raw HTML written in Markdown, cleaned before it reaches a page or an email.
//!
//! CommonMark passes HTML through as written, so without this a pasted
//! `<a href="javascript:…">`, `<img onerror=…>` or `<script>` would run in every reader's
//! browser. A document that has raw HTML is rendered as usual and then cleaned as a whole
//! (so a `<details>` opened in one HTML block and closed in another keeps its Markdown
//! inside) by ammonia, to an allowlist: the formatting tags people write in Markdown
//! (`<details>`, `<kbd>`, `<sup>`, `<br>`, tables, …) and the markup the renderer adds
//! itself (heading anchors, highlighted code, task-list boxes, footnotes); no scripts, no
//! styles, no event handlers, no frames or forms. Every `href` and `src` follows the URL
//! rule ([`crate::url_rule`]) — an `@/` link becomes the relative link to that page, as in
//! Markdown links. A document without raw HTML is not touched.

use std::borrow::Cow;
use std::collections::HashSet;

use pulldown_cmark::Event;

/// Whether the parser's `events` hold HTML written by the author.
pub fn has_raw_html<'a>(mut events: impl Iterator<Item = &'a Event<'a>>) -> bool {
    events.any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_)))
}

/// `html` (a rendered document) cleaned to the allowlist; `root` is the relative path from
/// the page to the version root, for `@/` links (`None` in emails, whose `@/` links are
/// made absolute elsewhere and never reach here as `@/`).
pub fn clean(html: &str, root: Option<&str>) -> String {
    let root = root.map(str::to_string);
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["input"])
        .add_generic_attributes(["class", "id", "aria-label", "aria-hidden", "role"])
        .add_tag_attributes("pre", ["tabindex", "data-lang"])
        .add_tag_attributes("input", ["type", "disabled", "checked"])
        // pulldown-cmark's column alignment (`text-align`), the only style it writes.
        .add_tag_attributes("td", ["style"])
        .add_tag_attributes("th", ["style"])
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(None)
        .attribute_filter(move |element, attribute, value| {
            filter(element, attribute, value, root.as_deref())
        });
    builder.clean(html).to_string()
}

fn filter<'u>(
    element: &str,
    attribute: &str,
    value: &'u str,
    root: Option<&str>,
) -> Option<Cow<'u, str>> {
    match attribute {
        "href" | "src" | "cite" => {
            if let (Some(path), Some(root)) = (value.strip_prefix("@/"), root) {
                return Some(Cow::Owned(super::internal_link(path, root)));
            }
            crate::url_rule::is_allowed(value, true).then_some(Cow::Borrowed(value))
        }
        "style" if matches!(element, "td" | "th") => {
            let v = value.trim().trim_end_matches(';').trim();
            matches!(
                v,
                "text-align: left" | "text-align: center" | "text-align: right"
            )
            .then_some(Cow::Borrowed(value))
        }
        _ => Some(Cow::Borrowed(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::render;

    fn page(md: &str) -> String {
        render(md, "../../").html
    }

    #[test]
    fn scripts_handlers_and_script_links_are_removed() {
        for (md, gone) in [
            ("<script>alert(1)</script>\n\nText", "alert"),
            ("<img src=x onerror=alert(1)>", "onerror"),
            ("<a href=\"javascript:alert(1)\">x</a>", "javascript"),
            ("<a href=\"JaVaScRiPt:alert(1)\">x</a>", "alert"),
            ("<a href=\"java&#x09;script:alert(1)\">x</a>", "alert"),
            ("<a href=\" data:text/html,x\">x</a>", "data:"),
            ("<iframe src=\"https://example.com\"></iframe>", "iframe"),
            (
                "<form action=\"https://x.example\"><button>Go</button></form>",
                "form",
            ),
            ("<div style=\"background:url(x)\">x</div>", "style"),
            ("<svg><script>alert(1)</script></svg>", "alert"),
            ("Inline <span onclick=\"alert(1)\">x</span> text", "onclick"),
            ("<style>body{display:none}</style>", "display"),
            ("<object data=\"x.swf\"></object>", "object"),
            ("| a |\n|:-:|\n| <b style=\"color:red\">x</b> |", "color"),
        ] {
            let html = page(md);
            assert!(!html.contains(gone), "{md} → {html}");
        }
    }

    #[test]
    fn formatting_tags_and_the_renderers_markup_stay() {
        let html = page(
            "<details><summary>More</summary>\n\n**Bold** inside\n\n</details>\n\nPress <kbd>Ctrl</kbd>+<kbd>S</kbd>, H<sub>2</sub>O<sup>1</sup><br>\n\n## A heading\n\n- [x] done\n\n| a |\n|:-:|\n| b |\n\n```sql\nselect 1;\n```\n",
        );
        for kept in [
            "<details><summary>More</summary>",
            "<strong>Bold</strong>",
            "</details>",
            "<kbd>Ctrl</kbd>",
            "<sub>2</sub>",
            "<br>",
            "<h2 id=\"a-heading\">",
            "class=\"anchor\" href=\"#a-heading\"",
            "<input type=\"checkbox\" disabled=\"\" checked=\"\" aria-label=\"Done\">",
            "<td style=\"text-align: center\">b</td>",
            "<pre class=\"code\" data-lang=\"sql\" tabindex=\"0\">",
        ] {
            assert!(html.contains(kept), "{kept} missing from {html}");
        }
    }

    #[test]
    fn links_follow_the_url_rule_and_site_links_are_resolved() {
        let html = page(
            "<a href=\"@/runbooks/deploy#step-2\">deploy</a> <a href=\"https://example.com/a?b=1&amp;c=2\">ext</a> <a href=\"mailto:help@example.com\">mail</a> <a href=\"tel:+441234\">call</a> <a href=\"../faq/index.html\">rel</a> <img src=\"@/assets/map.png\" alt=\"Map\">",
        );
        for kept in [
            "href=\"../../runbooks/deploy/index.html#step-2\"",
            "href=\"https://example.com/a?b=1&amp;c=2\"",
            "href=\"mailto:help@example.com\"",
            "href=\"tel:+441234\"",
            "href=\"../faq/index.html\"",
            "src=\"../../assets/map.png\" alt=\"Map\"",
        ] {
            assert!(html.contains(kept), "{kept} missing from {html}");
        }
        assert!(!html.contains("rel=\""), "no rel added: {html}");
    }

    #[test]
    fn a_document_without_raw_html_is_not_touched() {
        // pulldown-cmark's own spelling (`<input … disabled …>`, not `disabled=""`) stays.
        let html = page("Say \"hi\" & <3\n\n- [ ] todo\n");
        assert!(html.contains("Say \"hi\" &amp; &lt;3"), "{html}");
        assert!(html.contains("<input type=\"checkbox\" disabled aria-label=\"Not done\">"));
    }
}
