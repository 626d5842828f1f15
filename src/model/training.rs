//! `content/training/*.md` front matter and `content/training/sessions.yaml`.

use serde::{Deserialize, Serialize};

use super::{one_or_many, opt_scalar, scalar};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideFrontMatter {
    pub title: String,
    /// Roster roles or audience ids this guide is for.
    #[serde(default, deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub duration: Option<String>,
    #[serde(default)]
    pub kind: GuideKind,
    /// Extension: position in a learning path (lower first).
    #[serde(default)]
    pub order: Option<i64>,
    /// Extension: one sentence shown in the catalogue.
    #[serde(default)]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuideKind {
    #[default]
    Guide,
    QuickReference,
    Faq,
    Exercise,
}

impl GuideKind {
    pub fn label(self) -> &'static str {
        match self {
            GuideKind::Guide => "Guide",
            GuideKind::QuickReference => "Quick reference",
            GuideKind::Faq => "FAQ",
            GuideKind::Exercise => "Exercise",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsFile {
    #[serde(default)]
    pub sessions: Vec<SessionFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFile {
    /// Extension: a stable id (for calendar UIDs); defaults to a slug of title and start.
    #[serde(default)]
    pub id: Option<String>,
    pub title: String,
    #[serde(deserialize_with = "scalar")]
    pub start: String,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub duration: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub capacity: Option<u32>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
}
