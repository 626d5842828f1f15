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
use std::io::Write;
use std::sync::Arc;

use elasticlunr::lang::English;
use elasticlunr::Language;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;

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

/// The serialized form of the index (see [`index_json`]); written straight to text, never
/// as a JSON tree, which for 50,000 sections would cost gigabytes.
#[derive(serde::Serialize)]
pub struct SearchIndex<'a> {
    format: &'static str,
    elasticlunr: &'static str,
    fields: [&'static str; 3],
    pipeline: elasticlunr::Pipeline,
    index: BTreeMap<&'static str, Postings>,
    lengths: Vec<[usize; 3]>,
    docs: Vec<(&'a str, &'a str, &'a str, &'a str, String)>,
}

/// One field's postings, `token → [ref, count, ref, count, …]`, serialized as a JSON
/// object with its tokens in order (so the same project always gives the same file).
pub struct Postings(HashMap<Term, Vec<u32>>);

impl serde::Serialize for Postings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut sorted: Vec<(&Term, &Vec<u32>)> = self.0.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_map(sorted.into_iter().map(|(k, v)| (&**k, v)))
    }
}

/// A token after the pipeline (trimmed, not a stop word, stemmed).
type Term = Arc<str>;

/// A field's number of terms and count per term.
type FieldCounts = (usize, Vec<(Term, u32)>);

/// The tokens of a text as elasticlunr's English tokenizer and pipeline make them, with
/// the pipeline's result remembered per distinct word: a large site has millions of words
/// but only tens of thousands of distinct ones, and the stemmer is the costly part.
struct Analyzer {
    pipeline: elasticlunr::Pipeline,
    terms: HashMap<Box<str>, Option<Term>>,
}

impl Analyzer {
    fn new() -> Self {
        Self {
            pipeline: English::new().make_pipeline(),
            terms: HashMap::default(),
        }
    }

    /// `(number of terms, count per term)` of `text`.
    fn count(&mut self, text: &str) -> FieldCounts {
        let mut counts: HashMap<Term, u32> = HashMap::default();
        let mut len = 0;
        // elasticlunr::lang::tokenize_whitespace: split on whitespace and '-', lowercase.
        for word in text.split(|c: char| c.is_whitespace() || c == '-') {
            if word.is_empty() {
                continue;
            }
            // `str::to_lowercase`, as elasticlunr does (a final Σ becomes ς, not σ); most
            // words are lowercase ASCII already and are not copied.
            let lowered;
            let word = if word
                .bytes()
                .any(|b| !b.is_ascii() || b.is_ascii_uppercase())
            {
                lowered = word.to_lowercase();
                lowered.as_str()
            } else {
                word
            };
            let term = match self.terms.get(word) {
                Some(t) => t.clone(),
                None => {
                    let t = self
                        .pipeline
                        .run(vec![word.to_string()])
                        .pop()
                        .map(Term::from);
                    self.terms.insert(word.into(), t.clone());
                    t
                }
            };
            if let Some(t) = term {
                len += 1;
                *counts.entry(t).or_insert(0) += 1;
            }
        }
        (len, counts.into_iter().collect())
    }
}

/// Builds the index of `docs`: one posting list per token and field.
pub fn build_index(docs: &[SearchDoc]) -> SearchIndex<'_> {
    // Tokenised in parallel a chunk at a time and folded into the postings at once, so
    // only one chunk's per-document token counts are ever in memory (all of them at once
    // cost ~0.5 GB at 10,000 pages). Documents are folded in order: postings stay sorted.
    const CHUNK: usize = 1024;
    let mut lengths: Vec<[usize; 3]> = Vec::with_capacity(docs.len());
    let mut postings: [HashMap<Term, Vec<u32>>; 3] = Default::default();
    for (c, chunk) in docs.chunks(CHUNK).enumerate() {
        let per_doc: Vec<[FieldCounts; 3]> = chunk
            .par_iter()
            .map_init(Analyzer::new, |analyzer, d| {
                [&d.title, &d.breadcrumbs, &d.body].map(|text| analyzer.count(text))
            })
            .collect();
        for (k, fields) in per_doc.into_iter().enumerate() {
            let r = u32::try_from(c * CHUNK + k).unwrap_or(u32::MAX);
            lengths.push(fields.each_ref().map(|f| f.0));
            for (f, (_, counts)) in fields.into_iter().enumerate() {
                for (term, count) in counts {
                    let p = postings[f].entry(term).or_default();
                    p.push(r);
                    p.push(count);
                }
            }
        }
    }
    let index: BTreeMap<&'static str, Postings> =
        FIELDS.into_iter().zip(postings.map(Postings)).collect();
    let rows = docs
        .iter()
        .map(|d| {
            let t = teaser(&d.body);
            (
                d.title.as_str(),
                d.kind,
                d.breadcrumbs.as_str(),
                d.url.as_str(),
                t,
            )
        })
        .collect();
    SearchIndex {
        format: "tminus-elasticlunr-1",
        elasticlunr: "0.9.5",
        fields: FIELDS,
        pipeline: English::new().make_pipeline(),
        index,
        lengths,
        docs: rows,
    }
}

/// `searchindex.js`: the index as a script that sets `window.searchIndex`.
pub fn index_js(p: &Project) -> Vec<u8> {
    let mut js = Vec::new();
    write_index_js(p, &mut js).expect("writing to memory");
    js
}

/// Writes `searchindex.js` to `out` as it is serialized (at 10,000 pages it is ~40 MB,
/// which a build need not hold in memory).
pub fn write_index_js(p: &Project, mut out: impl Write) -> std::io::Result<()> {
    let docs = documents(p);
    let index = build_index(&docs);
    out.write_all(b"window.searchIndex = ")?;
    serde_json::to_writer(&mut out, &index)?;
    out.write_all(b";\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
