//! What an event of the live log is checked against, and the log so far — both small and
//! serialisable, so `tminus live` can keep them between runs instead of loading a
//! 10,000-task plan and a 20,000-event log again for every event it appends.
//!
//! [`LogContext`] is the part of the project an event refers to: the plan's tasks (id,
//! type, and the T-0 and zone their times are read in) and the roster's roles.
//! [`LogState`] is, per task, its last start, finish and open block: all the order rules
//! of the log need to know about the events before a new one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::cutover::TaskKind;
use crate::project::live::{EventKind, LiveEvent};
use crate::project::Project;

/// The plan and roster as the live log's rules see them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogContext {
    tasks: Vec<ContextTask>,
    /// T-0 and zone of the project (index 0) and of each wave.
    frames: Vec<Frame>,
    /// The roster's roles; `None` when project.yaml could not be read (roles unknown, so
    /// `by:` and owners are not checked).
    roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ContextTask {
    id: String,
    kind: TaskKind,
    /// Index into `frames`.
    frame: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Frame {
    t0: DateTime<Utc>,
    #[serde(with = "zone_name")]
    zone: Tz,
}

/// A task as the rules see it.
pub struct TaskView<'a> {
    pub id: &'a str,
    pub kind: TaskKind,
    /// T-0 of the task's wave (else the project's), in the task's zone.
    pub t0: DateTime<Tz>,
    /// The zone the task's times are read and shown in.
    pub zone: Tz,
}

impl LogContext {
    pub fn of(project: &Project) -> LogContext {
        let mut frames = vec![Frame {
            t0: project.go_live.to_utc(),
            zone: project.zone,
        }];
        let mut frame_of: HashMap<&str, usize> = HashMap::new();
        for w in &project.waves {
            frame_of.insert(w.id.as_str(), frames.len());
            frames.push(Frame {
                t0: w.go_live.to_utc(),
                zone: w.zone,
            });
        }
        let tasks = project
            .cutover
            .tasks
            .iter()
            .map(|t| {
                // As `Project::t0`: the wave's T-0 and zone, else the project's (the
                // task's zone is the same by construction).
                let frame = t
                    .wave
                    .as_deref()
                    .and_then(|w| frame_of.get(w).copied())
                    .unwrap_or(0);
                ContextTask {
                    id: t.id.clone(),
                    kind: t.kind,
                    frame,
                }
            })
            .collect();
        LogContext {
            tasks,
            frames,
            roles: (!project.references_unknown)
                .then(|| project.roster.iter().map(|r| r.role.clone()).collect()),
        }
    }

    pub fn task(&self, index: usize) -> TaskView<'_> {
        let t = &self.tasks[index];
        let f = &self.frames[t.frame];
        TaskView {
            id: &t.id,
            kind: t.kind,
            t0: f.t0.with_timezone(&f.zone),
            zone: f.zone,
        }
    }

    /// The task ids, in plan order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.tasks.iter().map(|t| t.id.as_str())
    }

    /// The zone of the task `id`, else the project's: the zone of a time given as a local
    /// time.
    pub fn zone_of(&self, id: &str) -> Tz {
        let frame = self
            .tasks
            .iter()
            .find(|t| t.id == id)
            .map_or(0, |t| t.frame);
        self.frames[frame].zone
    }

    /// The roster's roles, when known.
    pub fn roles(&self) -> Option<&[String]> {
        self.roles.as_deref()
    }
}

/// Per task, what the order rules need of its earlier events.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogState {
    tracks: HashMap<usize, Track>,
}

/// The events of one task so far (file order): the time and line of its start, finish and
/// open block.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Track {
    pub started: Option<(DateTime<Utc>, usize)>,
    pub finished: Option<(DateTime<Utc>, usize)>,
    pub blocked: Option<(DateTime<Utc>, usize)>,
}

impl LogState {
    /// The state after `events` (already checked, in file order).
    pub fn after(events: &[LiveEvent]) -> LogState {
        let mut state = LogState::default();
        for e in events {
            state.record(e);
        }
        state
    }

    /// Takes `event` (checked against this state) into account.
    pub fn record(&mut self, event: &LiveEvent) {
        let t = self.tracks.entry(event.task_index).or_default();
        let now = Some((event.at.to_utc(), event.line));
        match event.kind {
            EventKind::Started => t.started = now,
            EventKind::Finished => t.finished = now,
            EventKind::Blocked => t.blocked = now,
            EventKind::Unblocked => t.blocked = None,
            EventKind::Decided(_) => {}
        }
    }

    /// The track of the task at `index`.
    pub fn track(&self, index: usize) -> Track {
        self.tracks.get(&index).copied().unwrap_or_default()
    }
}

/// A zone as its IANA name.
mod zone_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(zone: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(zone.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom(format!("unknown zone {name}")))
    }
}
