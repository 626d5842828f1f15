//! The validated project: what every stage after loading reads.
//!
//! Built by [`crate::load`]; every id here is valid, every reference resolves, every time is
//! resolved to an instant and every duration parsed.

pub mod hypercare;
pub mod live;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Duration};
use chrono_tz::Tz;

use crate::diagnostics::{Diagnostic, Position};
use crate::model::checklist::{Recommendation, SectionFile};
use crate::model::cutover::TaskKind;
use crate::model::project::{RosterEntry, SiteFile, SmtpFile, Status, Strategy, Support};
use crate::model::runbook::StepFile;
use crate::model::training::GuideKind;
use crate::time::TimeSpec;

#[derive(Debug, Clone)]
pub struct Project {
    /// The project folder (holding `content/`).
    pub root: PathBuf,
    pub name: String,
    /// The system going live; defaults to the project name.
    pub system: String,
    pub version: String,
    pub status: Status,
    pub zone: Tz,
    /// T-0 of the whole project, in the project zone.
    pub go_live: DateTime<Tz>,
    pub strategy: Option<Strategy>,
    pub description: Option<String>,
    /// Locale of the base comms templates.
    pub locale: String,
    pub waves: Vec<Wave>,
    pub audiences: BTreeMap<String, Audience>,
    pub roster: Vec<RosterEntry>,
    pub support: Support,
    pub site: SiteFile,
    pub comms_policy: CommsPolicy,
    pub smtp: Option<SmtpFile>,
    pub cutover: Cutover,
    pub runbooks: Vec<Runbook>,
    pub checklists: Vec<Checklist>,
    pub guides: Vec<Guide>,
    pub sessions: Vec<Session>,
    pub messages: Vec<MessageTemplate>,
    pub pages: Vec<Page>,
    /// Dry runs of the cutover (`content/rehearsals/*.yaml`), by file name.
    pub rehearsals: Vec<Rehearsal>,
    /// Hypercare after go-live (`content/hypercare.yaml`), when the project has it.
    pub hypercare: Option<hypercare::Hypercare>,
    /// The events of go-live night (`content/live.yaml`), validated, in file order.
    pub live: Vec<live::LiveEvent>,
    /// Whether `content/live.yaml` exists (then `plan.json` has `live`).
    pub live_log: bool,
    /// The folder under `themes/` overriding the built-in theme, when present.
    pub theme_dir: Option<PathBuf>,
    /// Set while loading when project.yaml could not be parsed: roster, audiences and waves
    /// are unknown, so references to them are not checked (that would only add noise).
    pub references_unknown: bool,
}

impl Project {
    pub fn site_title(&self) -> &str {
        self.site.title.as_deref().unwrap_or(&self.name)
    }

    /// `draft` or `approved`, as written in `versions.json`.
    pub fn status_label(&self) -> &'static str {
        match self.status {
            Status::Draft => "draft",
            Status::Approved => "approved",
        }
    }

    pub fn wave(&self, id: &str) -> Option<&Wave> {
        self.waves.iter().find(|w| w.id == id)
    }

    pub fn person(&self, role: &str) -> Option<&RosterEntry> {
        self.roster.iter().find(|p| p.role == role)
    }

    /// The roster as template variables, by role: `roster["dba"].phone` in comms templates
    /// and in runbook, guide and page bodies.
    pub fn roster_variables(&self) -> serde_json::Map<String, serde_json::Value> {
        self.roster
            .iter()
            .map(|r| {
                (
                    r.role.clone(),
                    serde_json::json!({"role": r.role, "title": self.role_label(&r.role), "name": r.name, "email": r.email, "phone": r.phone}),
                )
            })
            .collect()
    }

    /// A role as people read it: the roster's `title` for it, else the id as written
    /// (never re-cased: "dba" must not become "Dba").
    pub fn role_label(&self, role: &str) -> String {
        self.person(role)
            .and_then(|p| p.title.clone())
            .unwrap_or_else(|| role.to_string())
    }

    /// T-0 and zone that an offset of `wave` (or of the project, for `None`) resolves against.
    pub fn t0(&self, wave: Option<&str>) -> (DateTime<Tz>, Tz) {
        match wave.and_then(|id| self.wave(id)) {
            Some(w) => (w.go_live, w.zone),
            None => (self.go_live, self.zone),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Wave {
    pub id: String,
    pub name: String,
    /// This wave's T-0, in its zone.
    pub go_live: DateTime<Tz>,
    /// The wave's own zone, else the project's.
    pub zone: Tz,
    /// Whether the zone was set on the wave itself (it then outranks the project's).
    pub own_zone: bool,
    pub audience: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Audience {
    pub id: String,
    pub zone: Option<Tz>,
    pub description: Option<String>,
    /// One per address (see `load::address_key`). Shared: each scheduled message holds
    /// this list and the indexes of its own recipients in it, never copies of them.
    pub recipients: std::sync::Arc<[Recipient]>,
    /// Warnings about addresses given more than once (left out after the first).
    pub duplicates: Vec<Diagnostic>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub zone: Option<Tz>,
}

#[derive(Debug, Clone, Copy)]
pub struct CommsPolicy {
    pub max_lateness: Duration,
    pub rate_per_second: f64,
    /// SMTP sessions `comms send` opens in parallel (under the one `rate_per_second`).
    pub connections: usize,
}

/// Markdown text with where it came from, so render errors point into the file.
#[derive(Debug, Clone)]
pub struct Body {
    pub markdown: String,
    pub file: PathBuf,
    /// Line of the file on which the body starts.
    pub first_line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Cutover {
    pub tasks: Vec<Task>,
    pub rollback_deadline: Option<DateTime<Tz>>,
    /// The runbook that rolls the cutover back, if any.
    pub rollback_runbook: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub title: String,
    /// The resolved `start:` anchor.
    pub anchor: Option<DateTime<Tz>>,
    pub after: Vec<String>,
    pub duration: Duration,
    pub owner: Option<String>,
    pub kind: TaskKind,
    pub runbook: Option<String>,
    pub rollback: Option<String>,
    pub wave: Option<String>,
    pub phase: Option<String>,
    pub notes: Option<String>,
    /// The zone the task's times are shown in (its wave's, else the project's).
    pub zone: Tz,
}

#[derive(Debug, Clone)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    pub owner: Option<String>,
    pub summary: Option<String>,
    pub steps: Vec<Step>,
    pub total: Duration,
    /// Where `id:` is written, when it is.
    pub id_at: Option<Position>,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub spec: StepFile,
    pub duration: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct Checklist {
    pub id: String,
    pub title: String,
    pub due: Option<DateTime<Tz>>,
    pub summary: Option<String>,
    pub sections: Vec<SectionFile>,
    pub recommendation: Recommendation,
    /// The go-no-go task this checklist informs (SPEC §6), checked against the plan.
    pub gate: Option<String>,
    /// The file and where `gate:` is written, for errors found once the plan is read.
    pub file: PathBuf,
    pub gate_at: Option<Position>,
}

#[derive(Debug, Clone)]
pub struct Guide {
    pub id: String,
    pub title: String,
    pub audience: Vec<String>,
    pub duration: Option<Duration>,
    pub kind: GuideKind,
    pub order: Option<i64>,
    pub summary: Option<String>,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub start: DateTime<Tz>,
    pub duration: Duration,
    pub location: Option<String>,
    pub link: Option<String>,
    pub capacity: Option<u32>,
    pub audience: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceRef {
    /// Each wave's own audience.
    Wave,
    Named(String),
}

#[derive(Debug, Clone)]
pub struct MessageTemplate {
    pub id: String,
    /// `None` for the base template, `Some("fr")` for `get-ready.fr.md`.
    pub locale: Option<String>,
    pub subject: String,
    pub send: TimeSpec,
    pub audience: AudienceRef,
    pub per_wave: bool,
    /// The decision the message waits for (SPEC §4), if any.
    pub gate: Option<GateRef>,
    /// Which outcome lets it go.
    pub on: GateOn,
    /// Later occurrences after `send`, if any.
    pub repeat: Option<Repeat>,
    /// Where `id:` is written, when it is.
    pub id_at: Option<Position>,
    /// Where the subject is written.
    pub subject_at: Option<Position>,
    pub body: Body,
}

/// `gate:` of a message: one go-no-go task, or one per wave (waves not named are not gated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateRef {
    One(Named),
    PerWave(Vec<(String, Named)>),
}

/// A task id as written, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub at: Option<Position>,
}

/// `on:` of a gated message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GateOn {
    /// GO or CONDITIONAL GO.
    #[default]
    Go,
    NoGo,
}

impl GateOn {
    pub fn as_str(self) -> &'static str {
        match self {
            GateOn::Go => "go",
            GateOn::NoGo => "no-go",
        }
    }
}

/// `repeat: { every, until }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    pub every: crate::time::repeat::Every,
    pub until: TimeSpec,
}

impl MessageTemplate {
    /// The gate of this message for `wave`: `None` when the message is not gated there.
    pub fn gate_for(&self, wave: Option<&str>) -> Option<&str> {
        match (&self.gate, wave) {
            (Some(GateRef::One(g)), _) => Some(&g.id),
            (Some(GateRef::PerWave(map)), Some(w)) => {
                map.iter().find(|(k, _)| k == w).map(|(_, g)| g.id.as_str())
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub id: String,
    pub title: String,
    pub order: Option<i64>,
    pub summary: Option<String>,
    pub body: Body,
}

/// A dry run of the cutover: the actual times recorded for some of its tasks.
#[derive(Debug, Clone)]
pub struct Rehearsal {
    /// The file name without extension.
    pub id: String,
    pub title: String,
    pub date: Option<String>,
    /// The rehearsal's own T-0, when given.
    pub t0: Option<DateTime<Tz>>,
    pub tasks: Vec<RehearsalTask>,
}

#[derive(Debug, Clone)]
pub struct RehearsalTask {
    /// A task id of the cutover plan.
    pub id: String,
    pub actual_start: DateTime<Tz>,
    pub actual_finish: DateTime<Tz>,
    pub notes: Option<String>,
}
