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

mod analyzer;
mod index;
mod text;

use std::io::Write;

use rayon::prelude::*;
use serde_json::Value;

use crate::model::training::GuideKind;
use crate::project::{Checklist, Guide, Page, Project, Runbook};
use index::Indexer;
pub use index::SearchIndex;
#[cfg(test)]
use index::FIELDS;
use text::{collapse, Collapsed};
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

/// A part of the project that has search documents.
#[derive(Clone, Copy)]
enum Source<'a> {
    Guide(&'a Guide),
    Runbook(&'a Runbook),
    Page(&'a Page),
    Checklist(&'a Checklist),
}

impl Source<'_> {
    fn documents(self) -> Vec<SearchDoc> {
        match self {
            Source::Guide(g) => guide_documents(g),
            Source::Runbook(r) => runbook_documents(r),
            Source::Page(pg) => page_documents(pg),
            Source::Checklist(c) => checklist_documents(c),
        }
    }

    /// A stable hash of everything [`Source::documents`] reads, for the search cache
    /// (`None` for checklists: their few short documents are quick to make). A field added
    /// to what `*_documents` read must be added here.
    fn cache_key(self) -> Option<u64> {
        fn text(s: &Option<String>) -> &[u8] {
            s.as_deref().unwrap_or("").as_bytes()
        }
        let audience;
        let mut parts: Vec<&[u8]> = Vec::new();
        match self {
            Source::Guide(g) => {
                audience = g.audience.join("\u{1f}");
                parts.extend([
                    b"guide".as_slice(),
                    g.id.as_bytes(),
                    g.kind.label().as_bytes(),
                    g.title.as_bytes(),
                    text(&g.summary),
                    audience.as_bytes(),
                    g.body.markdown.as_bytes(),
                ]);
            }
            Source::Runbook(r) => {
                parts.extend([
                    b"runbook".as_slice(),
                    r.id.as_bytes(),
                    r.title.as_bytes(),
                    text(&r.summary),
                    r.body.markdown.as_bytes(),
                ]);
                for step in &r.steps {
                    let s = &step.spec;
                    parts.push(s.title.as_bytes());
                    for field in [&s.command, &s.validation, &s.rollback, &s.owner] {
                        parts.push(text(field));
                    }
                }
            }
            Source::Page(pg) => parts.extend([
                b"page".as_slice(),
                pg.id.as_bytes(),
                pg.title.as_bytes(),
                text(&pg.summary),
                pg.body.markdown.as_bytes(),
            ]),
            Source::Checklist(_) => return None,
        }
        Some(crate::hash::fnv1a_parts(&parts))
    }
}

/// The searchable parts of the project, in site order: guides, runbooks, pages, checklists.
fn sources(p: &Project) -> Vec<Source<'_>> {
    let mut guides: Vec<_> = p.guides.iter().collect();
    guides.sort_by_key(|g| (g.order.unwrap_or(i64::MAX), g.kind, g.title.clone()));
    let mut pages: Vec<_> = p.pages.iter().collect();
    pages.sort_by_key(|pg| (pg.order.unwrap_or(i64::MAX), pg.title.clone()));
    guides
        .into_iter()
        .map(Source::Guide)
        .chain(p.runbooks.iter().map(Source::Runbook))
        .chain(pages.into_iter().map(Source::Page))
        .chain(p.checklists.iter().map(Source::Checklist))
        .collect()
}

/// Every searchable section of the project, in site order.
pub fn documents(p: &Project) -> Vec<SearchDoc> {
    sources(p)
        .into_par_iter()
        .flat_map_iter(Source::documents)
        .collect()
}

fn guide_documents(g: &Guide) -> Vec<SearchDoc> {
    let mut docs = Vec::new();
    let url = crate::urls::guide(&g.id);
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
    docs
}

fn runbook_documents(r: &Runbook) -> Vec<SearchDoc> {
    let mut docs = Vec::new();
    let url = crate::urls::runbook(&r.id);
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
        let mut body = Collapsed::default();
        for part in [&spec.command, &spec.validation, &spec.rollback, &spec.owner]
            .into_iter()
            .flatten()
        {
            body.push(&text::plain(part));
            body.gap();
        }
        docs.push(SearchDoc {
            title: format!("Step {}: {}", i + 1, spec.title),
            kind: "Runbook step",
            breadcrumbs: crumbs.clone(),
            url: format!("{url}#step-{}", i + 1),
            body: body.into_string(),
        });
    }
    docs
}

fn page_documents(pg: &Page) -> Vec<SearchDoc> {
    let mut docs = Vec::new();
    let url = crate::urls::page(&pg.id);
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
    docs
}

fn checklist_documents(c: &Checklist) -> Vec<SearchDoc> {
    let url = crate::urls::checklist(&c.id);
    let crumbs = format!("Checklists › {}", c.title);
    let mut docs = vec![SearchDoc {
        title: c.title.clone(),
        kind: "Checklist",
        breadcrumbs: "Checklists".into(),
        url: url.clone(),
        body: collapse(c.summary.as_deref().unwrap_or("")),
    }];
    for s in &c.sections {
        let mut body = Collapsed::default();
        for i in &s.items {
            body.gap();
            body.push(&i.text);
            body.gap();
            body.push(i.evidence.as_deref().unwrap_or(""));
        }
        docs.push(SearchDoc {
            title: s.title.clone(),
            kind: "Checklist",
            breadcrumbs: crumbs.clone(),
            url: format!("{url}#{}", crate::markdown::anchor_slug(&s.title)),
            body: body.into_string(),
        });
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
    let mut parts = sections(markdown).into_iter().peekable();
    // The introduction: the text before the first heading (at most one part).
    let mut intro = Collapsed::default();
    intro.push(lead);
    while let Some(part) = parts.next_if(|s| s.anchor.is_none()) {
        intro.gap();
        intro.push(&part.text);
    }
    docs.push(SearchDoc {
        title: page_title.to_string(),
        kind: page_kind,
        breadcrumbs: section_crumbs.to_string(),
        url: url.to_string(),
        body: intro.into_string(),
    });
    for s in parts {
        let anchor = s.anchor.as_deref().unwrap_or_default();
        docs.push(SearchDoc {
            url: format!("{url}#{anchor}"),
            title: s.title,
            kind: entry_kind,
            breadcrumbs: crumbs.to_string(),
            // Already collapsed.
            body: s.text,
        });
    }
}

/// The index as JSON: elasticlunr's index — tokens made by `elasticlunr-rs`'s English
/// tokenizer and pipeline (trimmer, stop words, stemmer), the very ones elasticlunr.js runs
/// on the query — written compactly, which `site.js` turns back into an `elasticlunr.Index`
/// with the library's own `addToken`:
///
/// ```text
/// {"format": "tminus-elasticlunr-1", "elasticlunr": "0.9.5", "fields": [..], "pipeline": [..],
///  "index": {field: {token: [ref, count, ref, count, …]}},
///  "lengths": [[title, breadcrumbs, body token counts] per ref],
///  "docs": [[title, kind, breadcrumbs, url, teaser] per ref]}
/// ```
///
/// The postings are exactly those `elasticlunr::Index::add_doc` makes (a test checks it),
/// but counted here without its per-character trie: elasticlunr's own JSON nests an object
/// per character and per posting — twice the size — and building it as a JSON tree took
/// 20 s and 4 GB for a 10,000-page site (see BENCHMARKS.md). A result's `ref` is its
/// position in `docs`; elasticlunr scores with the term frequency `sqrt(count)`.
pub fn index_json(docs: &[SearchDoc]) -> Value {
    serde_json::to_value(build_index(docs)).expect("the index serializes")
}

/// Builds the index of `docs`: one posting list per token and field.
pub fn build_index(docs: &[SearchDoc]) -> SearchIndex {
    let mut indexer = Indexer::default();
    for chunk in docs.chunks(BATCH) {
        let analyzed: Vec<_> = chunk
            .par_iter()
            .map(|d| indexer.analyze(d.clone()))
            .collect();
        analyzed.into_iter().for_each(|a| indexer.add(a));
    }
    indexer.finish()
}

/// A source's documents, analyzed now or read from the search cache.
enum Analyzed {
    Made(Vec<index::Analyzed>),
    Encoded(Vec<u8>),
}

/// Documents (or sources of documents) analyzed at a time: only a batch's texts and counts
/// are in memory at once, and the batch is large enough to keep every thread busy.
const BATCH: usize = 256;

/// `searchindex.js`: the index as a script that sets `window.searchIndex`.
pub fn index_js(p: &Project) -> Vec<u8> {
    let mut js = Vec::new();
    write_index_js(p, &mut js).expect("writing to memory");
    js
}

/// Writes `searchindex.js` to `out` as it is serialized (at 10,000 pages it is ~40 MB,
/// which a build need not hold in memory).
pub fn write_index_js(p: &Project, out: impl Write) -> std::io::Result<()> {
    write_batched(p, out, BATCH)
}

fn write_batched(p: &Project, mut out: impl Write, batch: usize) -> std::io::Result<()> {
    // A source whose documents are in the search cache is not split or counted again
    // (the cache is used while a build has one: see `crate::cache::spill_all`).
    let cache = crate::cache::search();
    let cached = cache.spills();
    let mut indexer = Indexer::default();
    for chunk in sources(p).chunks(batch) {
        // Split into sections and counted in parallel; each text is dropped once counted.
        let analyzed: Vec<Analyzed> = chunk
            .par_iter()
            .map(|source| {
                let key = source.cache_key().filter(|_| cached);
                if let Some(bytes) = key.and_then(|k| cache.get_bytes(k)) {
                    return Analyzed::Encoded(bytes);
                }
                let docs: Vec<_> = source
                    .documents()
                    .into_iter()
                    .map(|d| indexer.analyze(d))
                    .collect();
                if let Some(key) = key {
                    cache.insert_bytes(key, &indexer.encode(&docs));
                }
                Analyzed::Made(docs)
            })
            .collect();
        for (source, a) in chunk.iter().zip(analyzed) {
            match a {
                Analyzed::Encoded(bytes) if indexer.add_encoded(&bytes) => {}
                // A cache entry that does not decode: made again.
                Analyzed::Encoded(_) => {
                    for d in source.documents() {
                        let a = indexer.analyze(d);
                        indexer.add(a);
                    }
                }
                Analyzed::Made(docs) => docs.into_iter().for_each(|a| indexer.add(a)),
            }
        }
    }
    out.write_all(b"window.searchIndex = ")?;
    serde_json::to_writer(&mut out, &indexer.finish())?;
    out.write_all(b";\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// The index elasticlunr-rs itself builds, in the compact form (for comparison).
    fn via_elasticlunr_index(docs: &[SearchDoc]) -> Value {
        let mut index = elasticlunr::IndexBuilder::new()
            .save_docs(false)
            .add_fields(FIELDS)
            .build();
        for (i, d) in docs.iter().enumerate() {
            index.add_doc(&i.to_string(), [&d.title, &d.breadcrumbs, &d.body]);
        }
        let full = serde_json::to_value(&index).unwrap();
        let mut fields = serde_json::Map::new();
        for f in FIELDS {
            let mut tokens = BTreeMap::new();
            walk_trie(&full["index"][f]["root"], &mut String::new(), &mut tokens);
            fields.insert(f.to_string(), json!(tokens));
        }
        let lengths: Vec<Value> = (0..docs.len())
            .map(|i| {
                json!(FIELDS.map(|f| full["documentStore"]["docInfo"][i.to_string()][f].clone()))
            })
            .collect();
        json!({"index": fields, "lengths": lengths, "pipeline": full["pipeline"], "elasticlunr": full["version"]})
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

    #[test]
    fn same_postings_as_elasticlunrs_own_index() {
        let project = crate::load::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let docs = documents(&project);
        let ours = index_json(&docs);
        let theirs = via_elasticlunr_index(&docs);
        for key in ["index", "lengths", "pipeline", "elasticlunr"] {
            assert_eq!(ours[key], theirs[key], "{key}");
        }
    }

    #[test]
    fn the_index_streamed_in_batches_is_the_index_of_all_documents() {
        let project = crate::load::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let mut whole = b"window.searchIndex = ".to_vec();
        serde_json::to_writer(&mut whole, &build_index(&documents(&project))).unwrap();
        whole.extend(b";\n");
        for batch in [1, 3, BATCH] {
            let mut streamed = Vec::new();
            write_batched(&project, &mut streamed, batch).unwrap();
            assert!(streamed == whole, "batches of {batch}");
        }
    }

    #[test]
    fn documents_read_back_from_the_search_cache_index_the_same() {
        let project = crate::load::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let docs = documents(&project);
        let direct = serde_json::to_string(&build_index(&docs)).unwrap();
        let made = Indexer::default();
        let encoded: Vec<Vec<u8>> = docs
            .chunks(7)
            .map(|c| {
                let analyzed: Vec<_> = c.iter().map(|d| made.analyze(d.clone())).collect();
                made.encode(&analyzed)
            })
            .collect();
        let mut read_back = Indexer::default();
        for e in &encoded {
            assert!(read_back.add_encoded(e));
        }
        assert_eq!(serde_json::to_string(&read_back.finish()).unwrap(), direct);
        // A cut or padded entry is refused whole.
        let mut other = Indexer::default();
        assert!(!other.add_encoded(&encoded[0][..encoded[0].len() - 1]));
        assert!(!other.add_encoded(&[encoded[0].as_slice(), b"x"].concat()));
        assert_eq!(
            serde_json::to_value(other.finish()).unwrap()["docs"],
            json!([])
        );
    }

    #[test]
    fn capitals_and_non_ascii_words_are_lowercased_as_elasticlunr_does() {
        let docs = vec![SearchDoc {
            title: "ΟΔΟΣ Straße".into(),
            kind: "Guide",
            breadcrumbs: "ÉCOLE › Mixed-Case".into(),
            url: "x/index.html".into(),
            body: "Go-Live on ΣΟΦΟΣ day; İstanbul and DEPOT-7 are ready".into(),
        }];
        let ours = index_json(&docs);
        let theirs = via_elasticlunr_index(&docs);
        assert_eq!(ours["index"], theirs["index"]);
        assert_eq!(ours["lengths"], theirs["lengths"]);
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
