//! Markdown to HTML (and to plain text, for emails).
//!
//! CommonMark plus tables, task lists, footnotes and strikethrough. Headings get stable
//! anchors and feed a table of contents; fenced code is highlighted at build time; links
//! written `@/runbooks/deploy` point at another page of the site and become relative links.

mod classed;
pub mod highlight;
mod plain;
pub mod raw_html;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use serde::{Deserialize, Serialize};

pub use plain::to_plain_text;

/// One heading of a page, for its table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<TocEntry>,
}

impl Rendered {
    /// As the render cache keeps it: the HTML, a newline, the table of contents as JSON
    /// (which has no raw newline).
    fn to_cached(&self) -> String {
        let toc = serde_json::to_string(&self.toc).expect("a toc serializes");
        let mut text = String::with_capacity(self.html.len() + 1 + toc.len());
        text.push_str(&self.html);
        text.push('\n');
        text.push_str(&toc);
        text
    }

    fn from_cached(mut text: String) -> Option<Self> {
        let at = text.rfind('\n')?;
        let toc = serde_json::from_str(&text[at + 1..]).ok()?;
        text.truncate(at);
        Some(Self { html: text, toc })
    }
}

pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders `markdown`; `root` is the relative path from the page to the version root
/// (e.g. `../../`), used to resolve `@/` links. The result is a function of the two alone,
/// kept in the render cache while a build has one ([`crate::cache::spill_all`]).
pub fn render(markdown: &str, root: &str) -> Rendered {
    let cache = crate::cache::rendered();
    if !cache.spills() {
        return render_uncached(markdown, root);
    }
    let key = crate::hash::fnv1a_parts(&[markdown.as_bytes(), root.as_bytes()]);
    if let Some(rendered) = cache.get(key).and_then(Rendered::from_cached) {
        return rendered;
    }
    let rendered = render_uncached(markdown, root);
    cache.insert(key, &rendered.to_cached());
    rendered
}

fn render_uncached(markdown: &str, root: &str) -> Rendered {
    let events: Vec<Event> = Parser::new_ext(markdown, options()).collect();
    let raw_html = raw_html::has_raw_html(events.iter());
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut toc = Vec::new();
    let mut used_ids: Vec<String> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                // Gather the heading's inline events to build its text and anchor.
                let end = events[i..]
                    .iter()
                    .position(|e| matches!(e, Event::End(TagEnd::Heading(_))))
                    .map_or(events.len(), |p| i + p);
                let inner = &events[i + 1..end];
                let title: String = inner
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                let base = id
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| anchor_slug(&title));
                let anchor = unique(&base, &mut used_ids);
                let level_num = heading_number(*level);
                toc.push(TocEntry {
                    level: level_num,
                    id: anchor.clone(),
                    title: title.clone(),
                });
                let class_attr = if classes.is_empty() {
                    String::new()
                } else {
                    format!(
                        " class=\"{}\"",
                        crate::util::escape_html(&classes.join(" "))
                    )
                };
                let _ = attrs;
                let mut inner_html = String::new();
                pulldown_cmark::html::push_html(
                    &mut inner_html,
                    inner.iter().cloned().map(|e| rewrite_link(e, root)),
                );
                out.push(Event::Html(CowStr::from(format!(
                    "<h{level_num} id=\"{id}\"{class_attr}>{inner_html}<a class=\"anchor\" href=\"#{id}\" aria-label=\"Link to this section\">#</a></h{level_num}>\n",
                    id = crate::util::escape_html(&anchor),
                ))));
                i = end + 1;
                continue;
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split([' ', ',', '{'])
                        .next()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    CodeBlockKind::Indented => None,
                };
                let mut code = String::new();
                i += 1;
                while i < events.len() && !matches!(events[i], Event::End(TagEnd::CodeBlock)) {
                    if let Event::Text(t) = &events[i] {
                        code.push_str(t);
                    }
                    i += 1;
                }
                out.push(Event::Html(CowStr::from(code_block(
                    &code,
                    lang.as_deref(),
                ))));
            }
            // A task-list box is read-only and needs a name for screen readers.
            Event::TaskListMarker(done) => out.push(Event::InlineHtml(CowStr::from(if *done {
                "<input type=\"checkbox\" disabled checked aria-label=\"Done\"> "
            } else {
                "<input type=\"checkbox\" disabled aria-label=\"Not done\"> "
            }))),
            other => out.push(rewrite_link(other.clone(), root)),
        }
        i += 1;
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, out.into_iter());
    if raw_html {
        html = raw_html::clean(&html, Some(root));
    }
    Rendered { html, toc }
}

/// A highlighted `<pre>` block, with the language shown for screen readers and copy buttons.
/// It is focusable (`tabindex="0"`) so a block wider than the screen scrolls from the keyboard.
pub fn code_block(code: &str, lang: Option<&str>) -> String {
    let lang_attr = lang
        .map(|l| format!(" data-lang=\"{}\"", crate::util::escape_html(l)))
        .unwrap_or_default();
    format!(
        "<pre class=\"code\"{lang_attr} tabindex=\"0\"><code>{}</code></pre>\n",
        highlight::highlight(code, lang)
    )
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// `@/runbooks/deploy#step-2` → `<root>runbooks/deploy/index.html#step-2`.
fn rewrite_link<'a>(event: Event<'a>, root: &str) -> Event<'a> {
    match event {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if dest_url.starts_with("@/") => Event::Start(Tag::Link {
            link_type: if link_type == LinkType::Autolink {
                LinkType::Inline
            } else {
                link_type
            },
            dest_url: CowStr::from(internal_link(&dest_url[2..], root)),
            title,
            id,
        }),
        other => defuse_link(other),
    }
}

/// A link whose scheme the URL rule refuses (`javascript:`, `data:`, …) keeps its text
/// but loses its destination: `<a>` without `href` is not a live link.
pub fn defuse_link(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Start(Tag::Link { dest_url, .. })
            if !crate::url_rule::is_allowed(&dest_url, true) =>
        {
            Event::InlineHtml(CowStr::Borrowed("<a>"))
        }
        other => other,
    }
}

/// The relative URL of a site path such as `runbooks/deploy` or `training/faq#printing`.
pub fn internal_link(path: &str, root: &str) -> String {
    let (path, fragment) = match path.split_once('#') {
        Some((p, f)) => (p, format!("#{f}")),
        None => (path, String::new()),
    };
    let path = path.trim_matches('/');
    if path.is_empty() {
        format!("{root}index.html{fragment}")
    } else if path
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
    {
        // A file (`plan.json`, `assets/map.png`): ids have no dots, pages are folders.
        format!("{root}{path}{fragment}")
    } else {
        format!("{root}{path}/index.html{fragment}")
    }
}

/// GitHub-style heading anchor: lowercase, spaces to `-`, punctuation dropped.
pub fn anchor_slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if (c == ' ' || c == '-' || c == '_') && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "section".to_string()
    } else {
        out
    }
}

/// The ids the theme's page templates give their own elements (`base.html` and the document
/// pages a Markdown body is shown on): a heading never takes one, so "## Steps" in a runbook
/// cannot duplicate the template's `id="steps"`. Run-sheet steps are `step-<n>`.
const TEMPLATE_IDS: &[&str] = &[
    "main",
    "search-input",
    "search-hint",
    "search-popup",
    "search-listbox",
    "search-status",
    "theme-toggle",
    "version-select",
    "footer-about",
    "footer-support",
    "tminus-build-errors",
    "toc-title",
    "steps",
    "used-by",
];

fn taken_by_template(id: &str) -> bool {
    TEMPLATE_IDS.contains(&id)
        || id
            .strip_prefix("step-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `base`, or `base-1`, `base-2`… when already used on the page or by the page's template
/// (heading anchors; the search index uses the same rule so its results land on the same
/// anchors).
pub(crate) fn unique(base: &str, used: &mut Vec<String>) -> String {
    let mut candidate = base.to_string();
    let mut n = 1;
    while used.contains(&candidate) || taken_by_template(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    used.push(candidate.clone());
    candidate
}

/// A link or image as written in Markdown, for the link checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenLink {
    /// The destination as written (`@/runbooks/deploy#step-2`, `../x/`, `https://…`).
    pub dest: String,
    /// The link text (an image's alt text).
    pub text: String,
    /// Byte offset of the link in the Markdown text.
    pub offset: usize,
}

/// Every link and image of `markdown`, in order.
pub fn links(markdown: &str) -> Vec<WrittenLink> {
    let mut out: Vec<WrittenLink> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                open.push(out.len());
                out.push(WrittenLink {
                    dest: dest_url.to_string(),
                    text: String::new(),
                    offset: range.start,
                });
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                open.pop();
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(&i) = open.last() {
                    out[i].text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    out
}

/// The URL a written destination becomes on a page whose version root is `root`.
pub fn rendered_href(dest: &str, root: &str) -> String {
    match dest.strip_prefix("@/") {
        Some(path) => internal_link(path, root),
        None => dest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_links_keep_their_text_but_lose_their_destination() {
        let html = render("[x](javascript:alert(1)) [y]( JAVASCRIPT:alert(1)) <data:text/html,x> [ok](https://a.example)", "").html;
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(!html.contains("href=\"data:"), "{html}");
        assert!(html.contains("<a>x</a>"), "{html}");
        assert!(html.contains("href=\"https://a.example\""), "{html}");
    }

    #[test]
    fn a_rendered_document_round_trips_through_its_cached_form() {
        let r = render_uncached(
            "# Go \"live\"\n\nText with a\nnewline.\n\n## Roll back {#rb}\n\n```sql\nSELECT 1;\n```\n",
            "../",
        );
        assert_eq!(r.toc.len(), 2);
        assert_eq!(Rendered::from_cached(r.to_cached()), Some(r));
        assert_eq!(Rendered::from_cached("no toc".into()), None);
    }

    #[test]
    fn headings_get_unique_anchors_and_a_toc() {
        let r = render(
            "# Deploy\n\n## Rollout\n\n## Rollout\n\n### Roll *back*\n",
            "../",
        );
        assert!(
            r.html
                .contains("<h2 id=\"rollout\">Rollout<a class=\"anchor\" href=\"#rollout\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("id=\"rollout-1\""));
        assert!(
            r.html.contains("<h3 id=\"roll-back\">Roll <em>back</em>"),
            "{}",
            r.html
        );
        let ids: Vec<&str> = r.toc.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["deploy", "rollout", "rollout-1", "roll-back"]);
    }

    #[test]
    fn headings_never_take_an_id_of_the_page_template() {
        // A runbook page has `id="steps"`, `id="main"` and run-sheet steps `step-<n>`.
        let r = render("## Steps\n\n## Main\n\n## Step 2\n\n## Step 2b\n", "");
        let ids: Vec<&str> = r.toc.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["steps-1", "main-1", "step-2-1", "step-2b"]);
    }

    #[test]
    fn tables_task_lists_and_footnotes() {
        let r = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] open\n\nText[^1]\n\n[^1]: Note.\n", "");
        assert!(r.html.contains("<table>"));
        assert!(r
            .html
            .contains("type=\"checkbox\" disabled checked aria-label=\"Done\""));
        assert!(r.html.contains("aria-label=\"Not done\""));
        assert!(r.html.contains("footnote"));
    }

    #[test]
    fn code_is_highlighted_and_raw_html_in_code_is_escaped() {
        let r = render("```sql\nSELECT '<x>';\n```\n", "");
        assert!(
            r.html
                .contains("<pre class=\"code\" data-lang=\"sql\" tabindex=\"0\">"),
            "{}",
            r.html
        );
        assert!(r.html.contains("&lt;x&gt;"));
        assert!(!r.html.contains("<x>"));
    }

    #[test]
    fn internal_links_become_relative() {
        let r = render(
            "See [rollback](@/runbooks/rollback#step-2) and [home](@/).",
            "../../",
        );
        assert!(
            r.html
                .contains("href=\"../../runbooks/rollback/index.html#step-2\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("href=\"../../index.html\""));
    }
}
