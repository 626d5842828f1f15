//! Go-live night as of an instant (SPEC §8): each task's state, the forecast of the rest of
//! the night, the forecast finish and point of no return, the slack left against the
//! rollback deadline and the night's status — computed once per build (`site::run`, from
//! `build --now` when given) and by `tminus live status`, serialised as `plan.json`'s
//! `live`.
//!
//! Only events at or before *now* count, so any earlier moment replays as it stood. The
//! forecast: a done task keeps its actual times; a task in progress or blocked keeps its
//! actual start and finishes at the later of start + duration and now; a task not started
//! starts at the latest of its anchor (a task with neither anchor nor predecessor: the
//! plan's start, as in the plan), its predecessors' forecast finish and now.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

use super::cutover::{topological_order, Schedule};
use crate::model::cutover::TaskKind;
use crate::project::live::{Decision, EventKind, LiveEvent, Outcome};
use crate::project::Project;

/// The latest decision on `gate` at or before `as_of` (by its time; of two at the same
/// time, the one written last), if any.
pub fn decision<'a>(
    project: &'a Project,
    gate: &str,
    as_of: DateTime<Utc>,
) -> Option<&'a Decision> {
    project
        .live
        .iter()
        .filter_map(|e| e.decision())
        .filter(|d| d.gate == gate && d.at <= as_of)
        .fold(None, |best: Option<&Decision>, d| match best {
            Some(b) if b.at > d.at => Some(b),
            _ => Some(d),
        })
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TaskState {
    #[serde(rename = "done")]
    Done,
    #[serde(rename = "in progress")]
    InProgress,
    #[serde(rename = "blocked")]
    Blocked,
    /// Not started, every predecessor done.
    #[serde(rename = "ready")]
    Ready,
    #[serde(rename = "waiting")]
    Waiting,
}

impl TaskState {
    /// As written in plan.json and shown: `done`, `in progress`, `blocked`, `ready`, `waiting`.
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Done => "done",
            TaskState::InProgress => "in progress",
            TaskState::Blocked => "blocked",
            TaskState::Ready => "ready",
            TaskState::Waiting => "waiting",
        }
    }
}

/// The night's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NightStatus {
    #[serde(rename = "no-go")]
    NoGo,
    #[serde(rename = "blocked")]
    Blocked,
    #[serde(rename = "delayed")]
    Delayed,
    #[serde(rename = "on track")]
    OnTrack,
}

impl NightStatus {
    /// `no-go`, `blocked`, `delayed`, `on track`.
    pub fn label(self) -> &'static str {
        match self {
            NightStatus::NoGo => "no-go",
            NightStatus::Blocked => "blocked",
            NightStatus::Delayed => "delayed",
            NightStatus::OnTrack => "on track",
        }
    }
}

/// One task as of now (times in the task's zone).
#[derive(Debug, Clone, Serialize)]
pub struct TaskLive {
    pub id: String,
    pub state: TaskState,
    #[serde(serialize_with = "opt_time")]
    pub actual_start: Option<DateTime<Tz>>,
    #[serde(serialize_with = "opt_time")]
    pub actual_finish: Option<DateTime<Tz>>,
    #[serde(serialize_with = "time")]
    pub forecast_start: DateTime<Tz>,
    #[serde(serialize_with = "time")]
    pub forecast_finish: DateTime<Tz>,
    /// Extension: the plan's times, to compare.
    #[serde(serialize_with = "time")]
    pub planned_start: DateTime<Tz>,
    #[serde(serialize_with = "time")]
    pub planned_finish: DateTime<Tz>,
    /// Extension: when the current block began, and its note.
    #[serde(serialize_with = "opt_time")]
    pub blocked_since: Option<DateTime<Tz>>,
    pub note: Option<String>,
}

/// A decision as of now.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionLive {
    pub gate: String,
    pub outcome: Outcome,
    #[serde(serialize_with = "time")]
    pub at: DateTime<Tz>,
    pub by: Option<String>,
    pub note: Option<String>,
    pub conditions: Vec<ConditionLive>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConditionLive {
    pub text: String,
    pub owner: Option<String>,
    #[serde(serialize_with = "opt_time")]
    pub due: Option<DateTime<Tz>>,
}

/// The night as of `as_of` (`plan.json`'s `live`: the SPEC's fields first, then extensions).
#[derive(Debug, Clone, Serialize)]
pub struct LiveState {
    #[serde(serialize_with = "time")]
    pub as_of: DateTime<Tz>,
    pub done: usize,
    pub total: usize,
    pub status: NightStatus,
    #[serde(serialize_with = "opt_time")]
    pub forecast_finish: Option<DateTime<Tz>>,
    /// The forecast start of the (first) point-of-no-return task.
    #[serde(serialize_with = "opt_time")]
    pub forecast_point_of_no_return: Option<DateTime<Tz>>,
    /// In the plan's order.
    pub tasks: Vec<TaskLive>,
    /// Every decision at or before now, in time order.
    pub decisions: Vec<DecisionLive>,
    /// Extension: the plan's window finish and point of no return.
    #[serde(serialize_with = "opt_time")]
    pub planned_finish: Option<DateTime<Tz>>,
    #[serde(serialize_with = "opt_time")]
    pub planned_point_of_no_return: Option<DateTime<Tz>>,
    /// Extension: forecast finish minus planned finish, in minutes (positive: late).
    pub delay_minutes: Option<i64>,
    #[serde(serialize_with = "opt_time")]
    pub rollback_deadline: Option<DateTime<Tz>>,
    /// Extension: the rollback deadline minus the forecast point of no return, in minutes
    /// (negative: the point of no return is forecast past the deadline).
    pub slack_minutes: Option<i64>,
    /// Extension: tasks in progress, ready (by forecast start) and blocked (ids).
    pub current: Vec<String>,
    pub next: Vec<String>,
    pub blocked: Vec<String>,
}

impl LiveState {
    pub fn task(&self, id: &str) -> Option<&TaskLive> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The latest decision on `gate` as of this state.
    pub fn decision(&self, gate: &str) -> Option<&DecisionLive> {
        self.decisions.iter().rev().find(|d| d.gate == gate)
    }
}

/// What the events at or before now say about one task.
#[derive(Default, Clone)]
struct Actual {
    start: Option<DateTime<Utc>>,
    finish: Option<DateTime<Utc>>,
    blocked: Option<(DateTime<Utc>, Option<String>)>,
}

/// The night of `project` (planned as `schedule`) as of `now`.
pub fn state(project: &Project, schedule: &Schedule, now: DateTime<Utc>) -> LiveState {
    let tasks = &project.cutover.tasks;
    let mut actual: Vec<Actual> = vec![Actual::default(); tasks.len()];
    let mut decisions: Vec<&Decision> = Vec::new();
    // The events up to now in the order of their times (the file's for equal times): a
    // start or a block recorded late counts from when it happened.
    let mut events: Vec<&LiveEvent> = project.live.iter().filter(|e| e.at_utc() <= now).collect();
    events.sort_by_key(|e| e.at_utc());
    for e in events {
        let at = e.at_utc();
        let a = &mut actual[e.task_index];
        match &e.kind {
            EventKind::Started => a.start = Some(at),
            EventKind::Finished => {
                a.finish = Some(at);
                a.start.get_or_insert(at);
            }
            EventKind::Blocked => a.blocked = Some((at, e.note.clone())),
            EventKind::Unblocked => a.blocked = None,
            EventKind::Decided(d) => decisions.push(d),
        }
    }
    decisions.sort_by_key(|d| d.at);

    let index: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let order = topological_order(tasks, &index);
    let plan_start = schedule.window.map(|(s, _)| s.with_timezone(&Utc));
    let mut f_start: Vec<DateTime<Utc>> = vec![now; tasks.len()];
    let mut f_finish: Vec<DateTime<Utc>> = vec![now; tasks.len()];
    let mut states: Vec<TaskState> = vec![TaskState::Waiting; tasks.len()];
    for &i in &order {
        let t = &tasks[i];
        let a = &actual[i];
        let preds = || {
            t.after
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
        };
        let (s, f, st) = match (a.start, a.finish) {
            (Some(s), Some(f)) => (s, f, TaskState::Done),
            (Some(s), None) => {
                let st = if a.blocked.is_some() {
                    TaskState::Blocked
                } else {
                    TaskState::InProgress
                };
                (s, (s + t.duration).max(now), st)
            }
            (None, _) => {
                let floor = match t.anchor {
                    Some(anchor) => Some(anchor.with_timezone(&Utc)),
                    None if t.after.is_empty() => plan_start,
                    None => None,
                };
                let s = preds()
                    .map(|p| f_finish[p])
                    .chain(floor)
                    .chain(std::iter::once(now))
                    .max()
                    .unwrap_or(now);
                let st = if a.blocked.is_some() {
                    TaskState::Blocked
                } else if preds().all(|p| states[p] == TaskState::Done) {
                    TaskState::Ready
                } else {
                    TaskState::Waiting
                };
                (s, (s + t.duration).max(now), st)
            }
        };
        f_start[i] = s;
        f_finish[i] = f;
        states[i] = st;
    }

    let zone = project.zone;
    let local = |t: DateTime<Utc>, z: Tz| t.with_timezone(&z);
    let live_tasks: Vec<TaskLive> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| TaskLive {
            id: t.id.clone(),
            state: states[i],
            actual_start: actual[i].start.map(|s| local(s, t.zone)),
            actual_finish: actual[i].finish.map(|s| local(s, t.zone)),
            forecast_start: local(f_start[i], t.zone),
            forecast_finish: local(f_finish[i], t.zone),
            planned_start: schedule.tasks[i].start,
            planned_finish: schedule.tasks[i].finish,
            blocked_since: actual[i].blocked.as_ref().map(|(b, _)| local(*b, t.zone)),
            note: actual[i].blocked.as_ref().and_then(|(_, n)| n.clone()),
        })
        .collect();
    let forecast_finish = f_finish.iter().max().map(|f| local(*f, zone));
    let planned_finish = schedule.window.map(|(_, f)| f.with_timezone(&zone));
    let ponr = schedule.point_of_no_return.or_else(|| {
        tasks
            .iter()
            .position(|t| t.kind == TaskKind::PointOfNoReturn)
    });
    let forecast_ponr = ponr.map(|i| local(f_start[i], zone));
    let rollback_deadline = project
        .cutover
        .rollback_deadline
        .map(|d| d.with_timezone(&zone));
    let slack_minutes = match (rollback_deadline, forecast_ponr) {
        (Some(d), Some(p)) => Some(minutes(d.with_timezone(&Utc) - p.with_timezone(&Utc))),
        _ => None,
    };
    let delay = match (forecast_finish, planned_finish) {
        (Some(f), Some(p)) => Some(f.with_timezone(&Utc) - p.with_timezone(&Utc)),
        _ => None,
    };
    let no_go = {
        let mut latest: HashMap<&str, Outcome> = HashMap::new();
        for d in &decisions {
            latest.insert(d.gate.as_str(), d.outcome);
        }
        latest.values().any(|o| *o == Outcome::NoGo)
    };
    let pick =
        |s: TaskState| -> Vec<usize> { (0..tasks.len()).filter(|&i| states[i] == s).collect() };
    let mut next = pick(TaskState::Ready);
    next.sort_by_key(|&i| (f_start[i], i));
    let ids = |v: Vec<usize>| {
        v.into_iter()
            .map(|i| tasks[i].id.clone())
            .collect::<Vec<_>>()
    };
    let blocked = pick(TaskState::Blocked);
    let status = if no_go {
        NightStatus::NoGo
    } else if !blocked.is_empty() {
        NightStatus::Blocked
    } else if delay.is_some_and(|d| d > Duration::zero()) {
        NightStatus::Delayed
    } else {
        NightStatus::OnTrack
    };
    LiveState {
        as_of: local(now, zone),
        done: states.iter().filter(|s| **s == TaskState::Done).count(),
        total: tasks.len(),
        status,
        forecast_finish,
        forecast_point_of_no_return: forecast_ponr,
        tasks: live_tasks,
        decisions: decisions
            .into_iter()
            .map(|d| DecisionLive {
                gate: d.gate.clone(),
                outcome: d.outcome,
                at: d.at,
                by: d.by.clone(),
                note: d.note.clone(),
                conditions: d
                    .conditions
                    .iter()
                    .map(|c| ConditionLive {
                        text: c.text.clone(),
                        owner: c.owner.clone(),
                        due: c.due,
                    })
                    .collect(),
            })
            .collect(),
        planned_finish,
        planned_point_of_no_return: ponr.map(|i| schedule.tasks[i].start.with_timezone(&zone)),
        delay_minutes: delay.map(minutes),
        rollback_deadline,
        slack_minutes,
        current: ids(pick(TaskState::InProgress)),
        next: ids(next),
        blocked: ids(blocked),
    }
}

/// Whole minutes, rounded toward zero.
fn minutes(d: Duration) -> i64 {
    d.num_minutes()
}

fn time<S: Serializer>(t: &DateTime<Tz>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::stamp::rfc3339(t))
}

fn opt_time<S: Serializer>(t: &Option<DateTime<Tz>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests;
