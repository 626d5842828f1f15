//! The search index: elasticlunr's postings, counted in parallel and written as JSON.
//!
//! Documents are analyzed (counted and cut to a teaser) in parallel and then added in
//! order, a batch at a time, so a document's text is dropped as soon as it is counted and
//! a 10,000-page site never holds all its text twice.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use elasticlunr::lang::English;
use elasticlunr::Language;
use rustc_hash::FxHashMap as HashMap;

use super::analyzer::{Analyzer, FieldCounts, Term};
use super::SearchDoc;

/// The fields of the index, in the order of [`SearchDoc`]'s values given to `add_doc`.
pub const FIELDS: [&str; 3] = ["title", "breadcrumbs", "body"];

/// Characters of body text kept for the result teaser.
const TEASER_CHARS: usize = 160;

/// The serialized form of the index (see [`super::index_json`]); written straight to text,
/// never as a JSON tree, which for 50,000 sections would cost gigabytes.
#[derive(serde::Serialize)]
pub struct SearchIndex {
    format: &'static str,
    elasticlunr: &'static str,
    fields: [&'static str; 3],
    pipeline: elasticlunr::Pipeline,
    index: BTreeMap<&'static str, Postings>,
    lengths: Vec<[usize; 3]>,
    docs: Vec<Row>,
}

/// A result as the page shows it: title, kind, breadcrumbs, url, teaser.
type Row = (String, String, String, String, String);

/// One field's postings, `token → [ref, count, ref, count, …]`, serialized as a JSON
/// object with its tokens in order (so the same project always gives the same file).
pub struct Postings(Vec<(Term, Vec<u32>)>);

impl Postings {
    /// The non-empty `postings` (indexed like `terms`), in the order of their terms.
    fn sorted(terms: &[Term], postings: Vec<Vec<u32>>) -> Self {
        let mut list: Vec<(Term, Vec<u32>)> = postings
            .into_iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(n, p)| (terms[n].clone(), p))
            .collect();
        list.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Self(list)
    }
}

impl serde::Serialize for Postings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (&**k, v)))
    }
}

/// A document counted by [`Indexer::analyze`], ready for [`Indexer::add`].
pub struct Analyzed {
    row: Row,
    /// The analyzer that numbered the terms of `counts`.
    slot: usize,
    counts: [FieldCounts; 3],
}

/// Builds a [`SearchIndex`]: [`Indexer::analyze`] from any thread of the pool, then
/// [`Indexer::add`] in document order (a document's `ref` is its position).
pub struct Indexer {
    /// One analyzer per worker thread, so each word is stemmed once per thread (the locks
    /// are never contended).
    analyzers: Vec<Mutex<Analyzer>>,
    /// `numbers[slot][id]`: the number in `terms` of analyzer `slot`'s term `id`.
    numbers: Vec<Vec<u32>>,
    known: HashMap<Term, u32>,
    terms: Vec<Term>,
    /// Per field, per term (numbered as in `terms`): `[ref, count, ref, count, …]`.
    postings: [Vec<Vec<u32>>; 3],
    lengths: Vec<[usize; 3]>,
    rows: Vec<Row>,
}

impl Default for Indexer {
    fn default() -> Self {
        let threads = rayon::current_num_threads().max(1);
        Self {
            analyzers: (0..threads).map(|_| Mutex::default()).collect(),
            numbers: vec![Vec::new(); threads],
            known: HashMap::default(),
            terms: Vec::new(),
            postings: Default::default(),
            lengths: Vec::new(),
            rows: Vec::new(),
        }
    }
}

impl Indexer {
    fn analyzer(&self, slot: usize) -> MutexGuard<'_, Analyzer> {
        self.analyzers[slot]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Counts the terms of `d` (with the calling thread's analyzer) and makes its row.
    pub fn analyze(&self, d: SearchDoc) -> Analyzed {
        let slot = rayon::current_thread_index().unwrap_or(0) % self.analyzers.len();
        let counts = {
            let mut analyzer = self.analyzer(slot);
            [&d.title, &d.breadcrumbs, &d.body].map(|text| analyzer.count(text))
        };
        let teaser = teaser(&d.body);
        Analyzed {
            row: (d.title, d.kind.to_string(), d.breadcrumbs, d.url, teaser),
            slot,
            counts,
        }
    }

    /// Adds the next document.
    pub fn add(&mut self, a: Analyzed) {
        let r = u32::try_from(self.rows.len()).expect("fewer than 4 billion documents");
        self.lengths.push(a.counts.each_ref().map(|f| f.0));
        self.rows.push(a.row);
        for (field, (_, counts)) in a.counts.into_iter().enumerate() {
            for (id, count) in counts {
                let n = self.number(a.slot, id) as usize;
                let postings = &mut self.postings[field];
                if postings.len() <= n {
                    postings.resize_with(n + 1, Vec::new);
                }
                postings[n].extend([r, count]);
            }
        }
    }

    /// `docs` as the search cache keeps them: rows, lengths and counts by term (see
    /// [`decode`]). Call from the thread that analyzed them.
    pub fn encode(&self, docs: &[Analyzed]) -> Vec<u8> {
        let mut out = Vec::new();
        put_len(&mut out, docs.len());
        for a in docs {
            let analyzer = self.analyzer(a.slot);
            let (title, kind, crumbs, url, teaser) = &a.row;
            for text in [title, kind, crumbs, url, teaser] {
                put_str(&mut out, text);
            }
            for (len, _) in &a.counts {
                put_len(&mut out, *len);
            }
            for (_, counts) in &a.counts {
                put_len(&mut out, counts.len());
                for (id, count) in counts {
                    put_str(&mut out, analyzer.term(*id));
                    put_len(&mut out, *count as usize);
                }
            }
        }
        out
    }

    /// Adds the documents of a search cache entry, in order ([`decode`]d already: `false`
    /// when it does not decode, and nothing is added).
    pub fn add_encoded(&mut self, bytes: &[u8]) -> bool {
        let Some(docs) = decode(bytes) else {
            return false;
        };
        for d in docs {
            let r = u32::try_from(self.rows.len()).expect("fewer than 4 billion documents");
            self.lengths.push(d.lengths);
            let [title, kind, crumbs, url, teaser] = d.row.map(str::to_string);
            self.rows.push((title, kind, crumbs, url, teaser));
            for (field, counts) in d.counts.into_iter().enumerate() {
                for (term, count) in counts {
                    let n = self.number_of(term) as usize;
                    let postings = &mut self.postings[field];
                    if postings.len() <= n {
                        postings.resize_with(n + 1, Vec::new);
                    }
                    postings[n].extend([r, count]);
                }
            }
        }
        true
    }

    /// The index's number for `term`.
    fn number_of(&mut self, term: &str) -> u32 {
        if let Some(n) = self.known.get(term) {
            return *n;
        }
        let n = u32::try_from(self.terms.len()).expect("fewer than 4 billion terms");
        let term = Term::from(term);
        self.known.insert(term.clone(), n);
        self.terms.push(term);
        n
    }

    /// The index's number for analyzer `slot`'s term `id`.
    fn number(&mut self, slot: usize, id: u32) -> u32 {
        let i = id as usize;
        if self.numbers[slot].len() <= i {
            self.numbers[slot].resize(i + 1, u32::MAX);
        }
        if self.numbers[slot][i] == u32::MAX {
            let term = self.analyzer(slot).term(id).clone();
            self.numbers[slot][i] = self.number_of(&term);
        }
        self.numbers[slot][i]
    }

    pub fn finish(self) -> SearchIndex {
        let terms = self.terms;
        SearchIndex {
            format: "tminus-elasticlunr-1",
            elasticlunr: "0.9.5",
            fields: FIELDS,
            pipeline: English::new().make_pipeline(),
            index: FIELDS
                .into_iter()
                .zip(self.postings.map(|field| Postings::sorted(&terms, field)))
                .collect(),
            lengths: self.lengths,
            docs: self.rows,
        }
    }
}

/// A document of a search cache entry, borrowed from its bytes.
struct Decoded<'a> {
    row: [&'a str; 5],
    lengths: [usize; 3],
    counts: [Vec<(&'a str, u32)>; 3],
}

/// The documents [`Indexer::encode`] wrote; `None` unless `bytes` are exactly that.
fn decode(bytes: &[u8]) -> Option<Vec<Decoded<'_>>> {
    let mut r = Reader { bytes, at: 0 };
    let n = r.len()?;
    let mut docs = Vec::with_capacity(n.min(bytes.len()));
    for _ in 0..n {
        let row = [r.str()?, r.str()?, r.str()?, r.str()?, r.str()?];
        let lengths = [r.len()?, r.len()?, r.len()?];
        let mut counts: [Vec<(&str, u32)>; 3] = Default::default();
        for field in &mut counts {
            let terms = r.len()?;
            field.reserve(terms.min(bytes.len()));
            for _ in 0..terms {
                field.push((r.str()?, u32::try_from(r.len()?).ok()?));
            }
        }
        docs.push(Decoded {
            row,
            lengths,
            counts,
        });
    }
    (r.at == bytes.len()).then_some(docs)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn len(&mut self) -> Option<usize> {
        let b = self.bytes.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = self.len()?;
        let b = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        std::str::from_utf8(b).ok()
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend(u32::try_from(n).expect("under 4 GB").to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn teaser(body: &str) -> String {
    let Some((cut_at, _)) = body.char_indices().nth(TEASER_CHARS) else {
        return body.to_string();
    };
    let cut = &body[..cut_at];
    let cut = match cut.rfind(' ') {
        Some(i) if i > TEASER_CHARS / 2 => &cut[..i],
        _ => cut,
    };
    format!("{cut}…")
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
        let exact = "é".repeat(TEASER_CHARS);
        assert_eq!(teaser(&exact), exact);
        let over = "é".repeat(TEASER_CHARS + 1);
        assert_eq!(teaser(&over), format!("{}…", "é".repeat(TEASER_CHARS)));
    }
}
