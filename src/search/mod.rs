//! Site search: a full-text index built at build time and shipped as a script.
//!
//! The index is made with `elasticlunr-rs` (the Rust port of elasticlunr.js that mdBook
//! uses) and written to `searchindex.js` as `window.searchIndex = {...}`. The page loads it
//! with a `<script src>` — not `fetch()` — so search works on any web server *and* from disk
//! (`file://`), where fetch and WebAssembly loading are blocked. The elasticlunr.js runtime
//! (`assets/elasticlunr.min.js`, vendored from npm) queries it in the browser.
//!
//! One search document per section: each guide, FAQ entry, runbook section, runbook step,
//! page section and checklist section is its own result, linked to its heading anchor.

mod text;

use std::collections::BTreeMap;

use elasticlunr::IndexBuilder;
use serde_json::{json, Value};

use crate::model::training::GuideKind;
use crate::project::Project;
pub use text::{sections, Section};

/// One search result candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    /// The result's title: the heading, or the page title for a page's introduction.
    pub title: String,
    /// What it is: "Guide", "FAQ", "Runbook step", … (shown as a badge).
    pub kind: &'static str,
    /// Where it is: "Training › Field Service Hub FAQ".
    pub breadcrumbs: String,
    /// Link relative to the version folder, ending in `index.html` (with `#anchor`).
    pub url: String,
    /// The searchable text.
    pub body: String,
}

/// Characters of body text kept for the result teaser.
const TEASER_CHARS: usize = 160;

/// Every searchable section of the project, in site order.
pub fn documents(p: &Project) -> Vec<SearchDoc> {
    let mut docs = Vec::new();
    let mut guides: Vec<_> = p.guides.iter().collect();
    guides.sort_by_key(|g| (g.order.unwrap_or(i64::MAX), g.kind, g.title.clone()));
    for g in guides {
        let url = format!("training/{}/index.html", g.id);
        let entry_kind = match g.kind {
            GuideKind::Faq => "FAQ",
            other => other.label(),
        };
        let crumbs = format!("Training › {}", g.title);
        let lead = [g.summary.as_deref().unwrap_or(""), &g.audience.join(" ")].join(" ");
        push_sections(
            &mut docs,
            &g.body.markdown,
            &g.title,
            g.kind.label(),
            entry_kind,
            "Training",
            &crumbs,
            &url,
            &lead,
        );
    }
    for r in &p.runbooks {
        let url = format!("runbooks/{}/index.html", r.id);
        let crumbs = format!("Runbooks › {}", r.title);
        push_sections(
            &mut docs,
            &r.body.markdown,
            &r.title,
            "Runbook",
            "Runbook",
            "Runbooks",
            &crumbs,
            &url,
            r.summary.as_deref().unwrap_or(""),
        );
        for (i, s) in r.steps.iter().enumerate() {
            let spec = &s.spec;
            let mut body = String::new();
            for part in [&spec.command, &spec.validation, &spec.rollback, &spec.owner]
                .into_iter()
                .flatten()
            {
                body.push_str(&text::plain(part));
                body.push(' ');
            }
            docs.push(SearchDoc {
                title: format!("Step {}: {}", i + 1, spec.title),
                kind: "Runbook step",
                breadcrumbs: crumbs.clone(),
                url: format!("{url}#step-{}", i + 1),
                body: collapse(&body),
            });
        }
    }
    let mut pages: Vec<_> = p.pages.iter().collect();
    pages.sort_by_key(|pg| (pg.order.unwrap_or(i64::MAX), pg.title.clone()));
    for pg in pages {
        let url = format!("pages/{}/index.html", pg.id);
        push_sections(
            &mut docs,
            &pg.body.markdown,
            &pg.title,
            "Page",
            "Page",
            "Pages",
            &format!("Pages › {}", pg.title),
            &url,
            pg.summary.as_deref().unwrap_or(""),
        );
    }
    for c in &p.checklists {
        let url = format!("checklists/{}/index.html", c.id);
        let crumbs = format!("Checklists › {}", c.title);
        docs.push(SearchDoc {
            title: c.title.clone(),
            kind: "Checklist",
            breadcrumbs: "Checklists".into(),
            url: url.clone(),
            body: collapse(c.summary.as_deref().unwrap_or("")),
        });
        for s in &c.sections {
            let body: Vec<String> = s
                .items
                .iter()
                .map(|i| format!("{} {}", i.text, i.evidence.as_deref().unwrap_or("")))
                .collect();
            docs.push(SearchDoc {
                title: s.title.clone(),
                kind: "Checklist",
                breadcrumbs: crumbs.clone(),
                url: format!("{url}#{}", crate::markdown::anchor_slug(&s.title)),
                body: collapse(&body.join(" ")),
            });
        }
    }
    docs
}

/// Adds one document for the introduction of a Markdown page (titled with the page title)
/// and one per `##`/`###` section (titled with the heading, linked to its anchor).
#[allow(clippy::too_many_arguments)]
fn push_sections(
    docs: &mut Vec<SearchDoc>,
    markdown: &str,
    page_title: &str,
    page_kind: &'static str,
    entry_kind: &'static str,
    section_crumbs: &str,
    crumbs: &str,
    url: &str,
    lead: &str,
) {
    let parts = sections(markdown);
    let intro = parts
        .iter()
        .take_while(|s| s.anchor.is_none())
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    docs.push(SearchDoc {
        title: page_title.to_string(),
        kind: page_kind,
        breadcrumbs: section_crumbs.to_string(),
        url: url.to_string(),
        body: collapse(&format!("{lead} {intro}")),
    });
    for s in parts.iter().filter(|s| s.anchor.is_some()) {
        let anchor = s.anchor.as_deref().unwrap_or_default();
        docs.push(SearchDoc {
            title: s.title.clone(),
            kind: entry_kind,
            breadcrumbs: crumbs.to_string(),
            url: format!("{url}#{anchor}"),
            body: collapse(&s.text),
        });
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn teaser(body: &str) -> String {
    if body.chars().count() <= TEASER_CHARS {
        return body.to_string();
    }
    let cut: String = body.chars().take(TEASER_CHARS).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > TEASER_CHARS / 2 => &cut[..i],
        _ => &cut,
    };
    format!("{cut}…")
}

/// The fields of the index, in the order of [`SearchDoc`]'s values given to `add_doc`.
const FIELDS: [&str; 3] = ["title", "breadcrumbs", "body"];

/// The index as JSON. It is an elasticlunr index built by `elasticlunr-rs` — the English
/// pipeline (trimmer, stop words, stemmer) that elasticlunr.js runs on the query — written
/// compactly, which `site.js` turns back into an `elasticlunr.Index` with the library's own
/// `addToken`:
///
/// ```text
/// {"format": "tminus-elasticlunr-1", "elasticlunr": "0.9.5", "fields": [..], "pipeline": [..],
///  "index": {field: {token: [ref, count, ref, count, …]}},
///  "lengths": [[title, breadcrumbs, body token counts] per ref],
///  "docs": [[title, kind, breadcrumbs, url, teaser] per ref]}
/// ```
///
/// elasticlunr's own JSON nests a trie node per character with `docs`/`df` at each level
/// and a `{"tf": …}` object per posting: four times the size of this for the same index
/// (see BENCHMARKS.md). A result's `ref` is its position in `docs`; the term frequency
/// elasticlunr scores with is `sqrt(count)`, as when it indexes a document itself.
pub fn index_json(docs: &[SearchDoc]) -> Value {
    let mut index = IndexBuilder::new()
        .save_docs(false)
        .add_fields(FIELDS)
        .build();
    for (i, d) in docs.iter().enumerate() {
        index.add_doc(&i.to_string(), [&d.title, &d.breadcrumbs, &d.body]);
    }
    let full = serde_json::to_value(&index).expect("an elasticlunr index serializes");
    let mut fields = serde_json::Map::new();
    for f in FIELDS {
        let mut tokens = BTreeMap::new();
        walk_trie(&full["index"][f]["root"], &mut String::new(), &mut tokens);
        fields.insert(f.to_string(), json!(tokens));
    }
    let info = &full["documentStore"]["docInfo"];
    let lengths: Vec<Value> = (0..docs.len())
        .map(|i| {
            let d = &info[i.to_string()];
            json!(FIELDS.map(|f| d[f].as_u64().unwrap_or(0)))
        })
        .collect();
    let rows: Vec<Value> = docs
        .iter()
        .map(|d| json!([d.title, d.kind, d.breadcrumbs, d.url, teaser(&d.body)]))
        .collect();
    json!({
        "format": "tminus-elasticlunr-1", "elasticlunr": full["version"], "fields": FIELDS,
        "pipeline": full["pipeline"], "index": fields, "lengths": lengths, "docs": rows,
    })
}

/// Collects `token → [ref, count, …]` from an elasticlunr trie (`{"a": {"docs": {"3":
/// {"tf": 1.41}}, "df": 1, "b": {…}}}`).
fn walk_trie(node: &Value, prefix: &mut String, out: &mut BTreeMap<String, Vec<u64>>) {
    let Some(map) = node.as_object() else {
        return;
    };
    if let Some(postings) = map.get("docs").and_then(Value::as_object) {
        if !postings.is_empty() {
            let mut flat: Vec<(u64, u64)> = postings
                .iter()
                .filter_map(|(r, v)| {
                    let tf = v["tf"].as_f64()?;
                    Some((r.parse().ok()?, (tf * tf).round() as u64))
                })
                .collect();
            flat.sort_unstable();
            out.insert(
                prefix.clone(),
                flat.into_iter().flat_map(|(r, c)| [r, c]).collect(),
            );
        }
    }
    for (k, child) in map {
        if k == "docs" || k == "df" {
            continue;
        }
        prefix.push_str(k);
        walk_trie(child, prefix, out);
        prefix.truncate(prefix.len() - k.len());
    }
}

/// `searchindex.js`: the index as a script that sets `window.searchIndex`.
pub fn index_js(p: &Project) -> String {
    let json = index_json(&documents(p)).to_string();
    format!("window.searchIndex = {json};\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teasers_are_cut_on_a_word() {
        let long = "word ".repeat(100);
        let t = teaser(long.trim());
        assert!(t.ends_with("word…"), "{t}");
        assert!(t.chars().count() <= TEASER_CHARS + 1);
        assert_eq!(teaser("short"), "short");
    }

    #[test]
    fn index_has_rows_and_compact_stemmed_postings() {
        let docs = vec![
            SearchDoc {
                title: "Signing in".into(),
                kind: "Guide",
                breadcrumbs: "Training › Guide".into(),
                url: "training/guide/index.html#signing-in".into(),
                body: "Use your account and multi-factor authentication. Authentication again."
                    .into(),
            },
            SearchDoc {
                title: "Sign out".into(),
                kind: "FAQ",
                breadcrumbs: "Training › FAQ".into(),
                url: "training/faq/index.html#sign-out".into(),
                body: "Tap your name.".into(),
            },
        ];
        let v = index_json(&docs);
        assert_eq!(v["docs"][0][3], "training/guide/index.html#signing-in");
        assert_eq!(v["fields"], json!(["title", "breadcrumbs", "body"]));
        assert_eq!(
            v["pipeline"],
            json!(["trimmer", "stopWordFilter", "stemmer"])
        );
        // Stemmed tokens as elasticlunr.js makes them: "signing" and "sign" are one term.
        assert_eq!(v["index"]["title"]["sign"], json!([0, 1, 1, 1]));
        // Counted per field: "authentication" twice in doc 0's body; stop words left out.
        assert_eq!(v["index"]["body"]["authent"], json!([0, 2]));
        assert!(v["index"]["body"].get("your").is_none());
        assert_eq!(v["lengths"][1], json!([2, 2, 2]));
    }
}
