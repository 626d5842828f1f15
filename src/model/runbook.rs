//! `content/runbooks/*.md` front matter: a runbook and its steps.

use serde::{Deserialize, Serialize};

use super::opt_scalar;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookFrontMatter {
    /// Defaults to the file name.
    #[serde(default)]
    pub id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub steps: Vec<StepFile>,
    /// Extension: one sentence shown in lists.
    #[serde(default)]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    pub title: String,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub duration: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub validation: Option<String>,
    #[serde(default)]
    pub rollback: Option<String>,
}
