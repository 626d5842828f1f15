//! `content/rehearsals/<name>.yaml`: what happened in a dry run of the cutover (extension).

use serde::Deserialize;

use super::{opt_scalar, scalar};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RehearsalFile {
    pub title: String,
    /// Free text: when the rehearsal took place ("Saturday 13 March 2027").
    #[serde(default, deserialize_with = "opt_scalar")]
    pub date: Option<String>,
    /// The rehearsal's own T-0 (an absolute local time); actual times may then be
    /// T-offsets from it.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub t0: Option<String>,
    #[serde(default)]
    pub tasks: Vec<RehearsalTaskFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RehearsalTaskFile {
    /// A task id of `cutover.yaml`.
    pub id: String,
    #[serde(deserialize_with = "scalar")]
    pub actual_start: String,
    #[serde(deserialize_with = "scalar")]
    pub actual_finish: String,
    #[serde(default)]
    pub notes: Option<String>,
}
