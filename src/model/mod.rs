//! The file formats of a project, exactly as written (SPEC §3–§6).
//!
//! These types mirror the YAML and front matter one to one; unknown keys are errors. Times
//! and durations stay text here: `load` parses and resolves them, with positions.

pub mod checklist;
pub mod comms;
pub mod cutover;
pub mod hypercare;
pub mod live;
pub mod page;
pub mod project;
pub mod rehearsal;
pub mod runbook;
pub mod training;

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Is `id` a valid id (lowercase ASCII letters, digits, `-`, `_`)? Ids become folder names,
/// so this is also what keeps every page inside the output folder.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The hint shown with an invalid id.
pub const ID_HINT: &str =
    "ids use lowercase ASCII letters, digits, `-` and `_` only, e.g. `go-live-readiness`";

/// Deserializes a scalar (string, number or boolean) as text: `version: 1.2`, `duration: 30m`.
pub fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

/// Like [`scalar`], for optional keys.
pub fn opt_scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    scalar(d).map(Some)
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value (text or number)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// Deserializes `key: one` or `key: [one, two]` as a list.
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a name or a list of names")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                out.push(item);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_reach_outside_the_output_folder() {
        assert!(is_valid_id("go-live_2"));
        for bad in ["", "../x", "a/b", "A", "é", "a b", ".", ".."] {
            assert!(!is_valid_id(bad), "{bad:?}");
        }
    }
}
