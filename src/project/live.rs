//! The validated live log of go-live night (`content/live.yaml`, SPEC §8), read and checked
//! by `load::live`; the state and forecast as of an instant are `plan::live`'s.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// One event of the night, in file order, every reference resolved.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// The task (task events) or the go-no-go task (decisions).
    pub task: String,
    /// Index of that task in `project.cutover.tasks`.
    pub task_index: usize,
    pub kind: EventKind,
    /// When it happened, in the task's zone.
    pub at: DateTime<Tz>,
    /// Roster role.
    pub by: Option<String>,
    pub note: Option<String>,
    /// The event's line in `content/live.yaml` (1-based).
    pub line: usize,
}

impl LiveEvent {
    pub fn at_utc(&self) -> DateTime<Utc> {
        self.at.with_timezone(&Utc)
    }

    /// The decision this event records, if it is one.
    pub fn decision(&self) -> Option<&Decision> {
        match &self.kind {
            EventKind::Decided(d) => Some(d),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum EventKind {
    Started,
    Finished,
    Blocked,
    Unblocked,
    Decided(Decision),
}

impl EventKind {
    /// The key as written in `live.yaml` (`started`, …; `decision` for a decision).
    pub fn key(&self) -> &'static str {
        match self {
            EventKind::Started => "started",
            EventKind::Finished => "finished",
            EventKind::Blocked => "blocked",
            EventKind::Unblocked => "unblocked",
            EventKind::Decided(_) => "decision",
        }
    }
}

/// A go/no-go decision (the same gate, time, role and note as its event, for callers that
/// only hold the decision).
#[derive(Debug, Clone)]
pub struct Decision {
    /// The go-no-go task.
    pub gate: String,
    pub outcome: Outcome,
    /// When it was taken, in the gate's zone.
    pub at: DateTime<Tz>,
    /// Roster role.
    pub by: Option<String>,
    pub note: Option<String>,
    pub conditions: Vec<Condition>,
    /// The event's line in `content/live.yaml`.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    #[serde(rename = "GO")]
    Go,
    #[serde(rename = "CONDITIONAL GO")]
    ConditionalGo,
    #[serde(rename = "NO-GO")]
    NoGo,
}

impl Outcome {
    /// `GO`, `CONDITIONAL GO`, `NO-GO` (as written in live.yaml and plan.json).
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Go => "GO",
            Outcome::ConditionalGo => "CONDITIONAL GO",
            Outcome::NoGo => "NO-GO",
        }
    }

    /// Reads `GO`, `CONDITIONAL GO`, `NO-GO` in any case, with `-`, `_` or a space between
    /// the words (`conditional-go`, `no go`).
    pub fn parse(text: &str) -> Option<Outcome> {
        let norm: String = text
            .trim()
            .chars()
            .map(|c| match c {
                '-' | '_' | ' ' => ' ',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        match norm
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str()
        {
            "GO" => Some(Outcome::Go),
            "CONDITIONAL GO" => Some(Outcome::ConditionalGo),
            "NO GO" | "NOGO" => Some(Outcome::NoGo),
            _ => None,
        }
    }

    /// GO or CONDITIONAL GO.
    pub fn is_go(self) -> bool {
        !matches!(self, Outcome::NoGo)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub text: String,
    pub owner: Option<String>,
    pub due: Option<DateTime<Tz>>,
}
