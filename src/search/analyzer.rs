//! Text → search terms, exactly as elasticlunr's English tokenizer and pipeline make them
//! (split on whitespace and `-`, lowercase, trim, drop stop words, stem), fast.
//!
//! A large site has millions of words but only tens of thousands of distinct ones, and the
//! pipeline (a regex trimmer and a Snowball stemmer) is the costly part: each analyzer
//! remembers the term of every word it has seen and numbers its terms, so counting a text
//! hashes each word once and each term is a `u32`.

use std::sync::Arc;

use elasticlunr::lang::English;
use elasticlunr::Language;
use rustc_hash::FxHashMap as HashMap;

use super::text::words;

/// A token after the pipeline (trimmed, not a stop word, stemmed).
pub type Term = Arc<str>;

/// A term's number in the [`Analyzer`] that made it (see [`Analyzer::term`]).
pub type TermId = u32;

/// A field's number of terms and count per term.
pub type FieldCounts = (usize, Vec<(TermId, u32)>);

thread_local! {
    /// elasticlunr's English pipeline (it holds functions that are not `Send`).
    static PIPELINE: elasticlunr::Pipeline = English::new().make_pipeline();
}

/// Counts the terms of texts; one per thread (the pipeline is not `Send`, the analyzer is).
#[derive(Default)]
pub struct Analyzer {
    /// Lowercased word → its term, or `None` for a stop word or one trimmed away.
    words: HashMap<Box<str>, Option<TermId>>,
    ids: HashMap<Term, TermId>,
    terms: Vec<Term>,
    /// Scratch space for [`Analyzer::count`]: the count of each term (indexed by id, all
    /// zero between calls) and the ids counted, in the order first seen.
    counts: Vec<u32>,
    counted: Vec<TermId>,
}

impl Analyzer {
    /// `(number of terms, count per term)` of `text`.
    pub fn count(&mut self, text: &str) -> FieldCounts {
        let mut len = 0;
        for word in words(text, true) {
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
            let id = match self.words.get(word) {
                Some(id) => *id,
                None => {
                    let id = self.analyze(word);
                    self.words.insert(word.into(), id);
                    id
                }
            };
            if let Some(id) = id {
                len += 1;
                let count = &mut self.counts[id as usize];
                if *count == 0 {
                    self.counted.push(id);
                }
                *count += 1;
            }
        }
        let counts = &mut self.counts;
        let field = self
            .counted
            .drain(..)
            .map(|id| (id, std::mem::take(&mut counts[id as usize])))
            .collect();
        (len, field)
    }

    /// The term numbered `id` by this analyzer.
    pub fn term(&self, id: TermId) -> &Term {
        &self.terms[id as usize]
    }

    fn analyze(&mut self, word: &str) -> Option<TermId> {
        let term = PIPELINE.with(|p| p.run(vec![word.to_string()])).pop()?;
        if let Some(id) = self.ids.get(term.as_str()) {
            return Some(*id);
        }
        let id = TermId::try_from(self.terms.len()).expect("fewer than 4 billion terms");
        let term = Term::from(term);
        self.ids.insert(term.clone(), id);
        self.terms.push(term);
        self.counts.push(0);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_with_the_same_stem_are_one_term() {
        let mut a = Analyzer::default();
        let (len, mut counts) = a.count("Signing sign the SIGN-in");
        counts.sort_unstable();
        // "the" is a stop word; "signing", "sign", "sign" and "in"… "in" is a stop word too.
        assert_eq!(len, 3);
        assert_eq!(counts.len(), 1);
        assert_eq!(&**a.term(counts[0].0), "sign");
        assert_eq!(counts[0].1, 3);
        // The scratch counts start from zero again.
        assert_eq!(a.count("sign"), (1, vec![(counts[0].0, 1)]));
    }
}
