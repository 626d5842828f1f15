//! `content/checklists/*.yaml`: readiness checklists and their GO / NO-GO recommendation.

use serde::{Deserialize, Serialize};

use super::opt_scalar;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistFile {
    pub title: String,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub due: Option<String>,
    #[serde(default)]
    pub sections: Vec<SectionFile>,
    /// The go-no-go task this checklist informs (SPEC §6).
    #[serde(default)]
    pub gate: Option<String>,
    /// Extension: one sentence shown in lists.
    #[serde(default)]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SectionFile {
    pub title: String,
    #[serde(default)]
    pub items: Vec<ItemFile>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ItemFile {
    pub text: String,
    #[serde(default)]
    pub owner: Option<String>,
    pub status: ItemStatus,
    #[serde(default)]
    pub critical: bool,
    #[serde(default)]
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum ItemStatus {
    #[serde(rename = "done")]
    Done,
    #[serde(rename = "in-progress")]
    InProgress,
    #[serde(rename = "open")]
    Open,
    #[serde(rename = "blocked")]
    Blocked,
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl ItemStatus {
    /// Done or not applicable: nothing left to do.
    pub fn is_closed(self) -> bool {
        matches!(self, ItemStatus::Done | ItemStatus::NotApplicable)
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Done => "Done",
            ItemStatus::InProgress => "In progress",
            ItemStatus::Open => "Open",
            ItemStatus::Blocked => "Blocked",
            ItemStatus::NotApplicable => "N/A",
        }
    }
}

/// The computed go-live recommendation of a checklist (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Recommendation {
    #[serde(rename = "GO")]
    Go,
    #[serde(rename = "CONDITIONAL GO")]
    ConditionalGo,
    #[serde(rename = "NO-GO")]
    NoGo,
}

impl Recommendation {
    /// GO when every item is closed; CONDITIONAL GO when every critical one is; else NO-GO.
    pub fn of<'a>(items: impl IntoIterator<Item = &'a ItemFile>) -> Recommendation {
        let mut all_closed = true;
        for item in items {
            if !item.status.is_closed() {
                if item.critical {
                    return Recommendation::NoGo;
                }
                all_closed = false;
            }
        }
        if all_closed {
            Recommendation::Go
        } else {
            Recommendation::ConditionalGo
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Recommendation::Go => "GO",
            Recommendation::ConditionalGo => "CONDITIONAL GO",
            Recommendation::NoGo => "NO-GO",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(status: ItemStatus, critical: bool) -> ItemFile {
        ItemFile {
            text: "x".into(),
            owner: None,
            status,
            critical,
            evidence: None,
        }
    }

    #[test]
    fn recommendation_follows_the_spec() {
        use ItemStatus::*;
        assert_eq!(Recommendation::of(&[]), Recommendation::Go);
        assert_eq!(
            Recommendation::of(&[item(Done, true), item(NotApplicable, false)]),
            Recommendation::Go
        );
        assert_eq!(
            Recommendation::of(&[item(Done, true), item(Open, false)]),
            Recommendation::ConditionalGo
        );
        for s in [InProgress, Open, Blocked] {
            assert_eq!(
                Recommendation::of(&[item(s, true), item(Done, false)]),
                Recommendation::NoGo
            );
        }
    }
}
