//! `content/cutover.yaml`: the cutover task plan (SPEC §5).

use serde::{Deserialize, Serialize};

use super::{one_or_many, opt_scalar};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutoverFile {
    #[serde(default)]
    pub tasks: Vec<TaskFile>,
    /// Extension: the time by which a rollback must have completed.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub rollback_deadline: Option<String>,
    /// Extension: the runbook that rolls the cutover back (default: a runbook with id
    /// `rollback`, if any). Its total duration decides the latest go/no-go.
    #[serde(default)]
    pub rollback_runbook: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    pub id: String,
    pub title: String,
    /// Anchor: the task starts no earlier than this.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub start: Option<String>,
    /// Finish-to-start dependencies.
    #[serde(default, deserialize_with = "one_or_many")]
    pub after: Vec<String>,
    #[serde(default, deserialize_with = "opt_scalar")]
    pub duration: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: TaskKind,
    #[serde(default)]
    pub runbook: Option<String>,
    #[serde(default)]
    pub rollback: Option<String>,
    #[serde(default)]
    pub wave: Option<String>,
    /// Extension: a phase label used to group tasks (preparation, migration, …).
    #[serde(default)]
    pub phase: Option<String>,
    /// Extension: free notes shown in the task table.
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    #[default]
    Task,
    Milestone,
    GoNoGo,
    PointOfNoReturn,
}

impl TaskKind {
    pub fn label(self) -> &'static str {
        match self {
            TaskKind::Task => "Task",
            TaskKind::Milestone => "Milestone",
            TaskKind::GoNoGo => "Go/no-go",
            TaskKind::PointOfNoReturn => "Point of no return",
        }
    }
}
