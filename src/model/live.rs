//! `content/live.yaml` (SPEC §8): the go-live night as it happens — a list of events, kept
//! in the order they were written. A task event names a `task` and one of `started`,
//! `finished`, `blocked`, `unblocked`; a decision names a go-no-go task as `decision` with
//! an `outcome`, `at` and optional `conditions`. Which keys go together is checked by
//! `load::live`, with positions.

use serde::Deserialize;

use super::opt_scalar;

/// One event as written. Every key is optional here so that a wrong combination is reported
/// by the loader in words ("an event has exactly one of …"), not by serde.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an event (`task:` with `started:`, `finished:`, `blocked:` or `unblocked:`, or `decision:` with `outcome:` and `at:`)"
)]
pub struct EventFile {
    /// A cutover task id (task events).
    #[serde(default)]
    pub task: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub started: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub finished: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub blocked: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub unblocked: Option<String>,
    /// A go-no-go task id (decisions).
    #[serde(default)]
    pub decision: Option<String>,
    /// `GO`, `CONDITIONAL GO` or `NO-GO` (also `go`, `conditional-go`, `no-go`).
    #[serde(default, deserialize_with = "opt_scalar")]
    pub outcome: Option<String>,
    /// When the decision was taken.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub at: Option<String>,
    /// A roster role.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub note: Option<String>,
    /// For a CONDITIONAL GO: what must follow.
    #[serde(default)]
    pub conditions: Vec<ConditionFile>,
}

/// A condition of a CONDITIONAL GO: `{ text, owner, due }` (owner and due optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a condition (`{ text: …, owner: role, due: T+2d }`)"
)]
pub struct ConditionFile {
    pub text: String,
    /// A roster role.
    #[serde(default)]
    pub owner: Option<String>,
    /// A T-offset or a local time.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub due: Option<String>,
}
