//! `cutover/cutover.ics` (every task) and `cutover/<role>.ics` (the tasks of one owner role):
//! go-live night in the calendar of each person on the rota.
//!
//! UIDs are `<task-id>.<project-slug>@tminus`, so re-importing a feed updates events. A task
//! that moves gets a higher SEQUENCE, so calendar apps take the update: the sequence of each
//! task is derived from the newest `plan.json` already in the output folder (which records
//! each task's start, finish and sequence) — +1 when the task's start or finish changed,
//! unchanged otherwise, 0 for a new task (training sessions follow the same rule, from the
//! `sessions` of `plan.json`). Nothing besides the site is written.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset, Utc};
use icalendar::{Component, Event};

use super::Feed;
use crate::plan::cutover::Schedule;
use crate::project::{Project, Task};
use crate::render::format::duration;

/// The UID of a task's event.
pub fn uid(project: &Project, task: &Task) -> String {
    format!("{}.{}@tminus", task.id, crate::load::project_slug(project))
}

/// Every cutover feed as (path under the version folder, text); none without tasks.
pub fn cutover_feeds(
    project: &Project,
    schedule: &Schedule,
    sequences: &BTreeMap<String, u32>,
    stamp: DateTime<Utc>,
) -> Vec<(String, String)> {
    let tasks = &project.cutover.tasks;
    if tasks.is_empty() {
        return Vec::new();
    }
    let title = project.site_title();
    let all: Vec<usize> = (0..tasks.len()).collect();
    let mut feeds = vec![(
        "cutover/cutover.ics".to_string(),
        feed(
            project,
            schedule,
            sequences,
            stamp,
            &format!("{title} — cutover"),
            &all,
        ),
    )];
    let roles: BTreeSet<&str> = tasks.iter().filter_map(|t| t.owner.as_deref()).collect();
    for role in roles {
        let mine: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| tasks[i].owner.as_deref() == Some(role))
            .collect();
        let name = match project.person(role) {
            Some(p) => format!("{title} — cutover tasks of {role} ({})", p.name),
            None => format!("{title} — cutover tasks of {role}"),
        };
        feeds.push((
            crate::urls::role_calendar(role),
            feed(project, schedule, sequences, stamp, &name, &mine),
        ));
    }
    feeds
}

fn feed(
    project: &Project,
    schedule: &Schedule,
    sequences: &BTreeMap<String, u32>,
    stamp: DateTime<Utc>,
    name: &str,
    tasks: &[usize],
) -> String {
    let mut feed = Feed::new(name);
    for &i in tasks {
        let task = &project.cutover.tasks[i];
        let st = &schedule.tasks[i];
        let mut event = Event::new();
        feed.span(&mut event, st.start, st.finish);
        event
            .uid(&uid(project, task))
            .timestamp(stamp)
            .sequence(sequences.get(&task.id).copied().unwrap_or(0))
            .summary(&task.title)
            .description(&description(project, task, st.critical, st.slack));
        if st.critical {
            event.add_property("CATEGORIES", "Critical path");
        }
        feed.calendar.push(event.done());
    }
    feed.finish()
}

fn description(project: &Project, task: &Task, critical: bool, slack: chrono::Duration) -> String {
    let mut lines = Vec::new();
    if let Some(role) = &task.owner {
        match project.person(role) {
            Some(p) => lines.push(format!("Owner: {} ({})", p.name, project.role_label(role))),
            None => lines.push(format!("Owner: {}", project.role_label(role))),
        }
    }
    lines.push(format!("Type: {}", task.kind.label()));
    if let Some(rb) = &task.runbook {
        let title = project
            .runbooks
            .iter()
            .find(|r| &r.id == rb)
            .map_or(rb.as_str(), |r| r.title.as_str());
        lines.push(format!("Runbook: {title} ({rb})"));
    }
    if let Some(rollback) = &task.rollback {
        lines.push(format!("Rollback: {rollback}"));
    }
    if critical {
        lines.push("Critical path: yes (no slack)".to_string());
    } else {
        lines.push(format!(
            "Critical path: no ({} slack)",
            duration(Some(slack))
        ));
    }
    if let Some(notes) = &task.notes {
        lines.push(format!("Notes: {notes}"));
    }
    lines.join("\n")
}

/// A task (or session) as the previous build recorded it in `plan.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousTask {
    pub start: DateTime<FixedOffset>,
    pub finish: DateTime<FixedOffset>,
    pub sequence: u32,
}

/// What a previous build's `plan.json` recorded for the calendars.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Previous {
    /// By task id.
    pub tasks: HashMap<String, PreviousTask>,
    /// By session id (`sessions` of `plan.json`).
    pub sessions: HashMap<String, PreviousTask>,
}

/// The tasks and sessions a previous build's `plan.json` recorded (the build reads the
/// newest one in the output folder: `site::published`).
pub fn previous_of(json: &serde_json::Value) -> Previous {
    Previous {
        tasks: recorded(&json["tasks"]),
        sessions: recorded(&json["sessions"]),
    }
}

/// The `id`, `start`, `finish` and `sequence` of each element of a `plan.json` list;
/// elements it does not describe fully are left out.
fn recorded(list: &serde_json::Value) -> HashMap<String, PreviousTask> {
    let mut out = HashMap::new();
    for t in list.as_array().into_iter().flatten() {
        let time = |key: &str| {
            t[key]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        };
        if let (Some(id), Some(start), Some(finish)) =
            (t["id"].as_str(), time("start"), time("finish"))
        {
            let sequence = t["sequence"].as_u64().unwrap_or(0) as u32;
            out.insert(
                id.to_string(),
                PreviousTask {
                    start,
                    finish,
                    sequence,
                },
            );
        }
    }
    out
}

/// Each task's SEQUENCE: the previous one, +1 when the task moved; 0 for a new task.
pub fn sequences(
    previous: &HashMap<String, PreviousTask>,
    project: &Project,
    schedule: &Schedule,
) -> BTreeMap<String, u32> {
    project
        .cutover
        .tasks
        .iter()
        .zip(&schedule.tasks)
        .map(|(t, st)| {
            let seq = match previous.get(&t.id) {
                Some(p) if p.start == st.start && p.finish == st.finish => p.sequence,
                Some(p) => p.sequence.saturating_add(1),
                None => 0,
            };
            (t.id.clone(), seq)
        })
        .collect()
}
