//! What an event of the live log is checked against, and the log so far — both small and
//! serialisable, so `tminus live` can keep them between runs instead of loading a
//! 10,000-task plan and a 20,000-event log again for every event it appends.
//!
//! [`LogContext`] is the part of the project an event refers to: the plan's tasks (id,
//! type, and the T-0 and zone their times are read in) and the roster's roles.
//! [`LogState`] is, per task, its start, finish and open block and the time of its latest
//! event, with the events taken in the order of their times: all the order rules of the log
//! need to know about the events before a new one at or after them. (One earlier than its
//! task's latest needs the task's events themselves, which are not kept between runs.)

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
    /// Per task, its events in the order of their times (the file's for equal times): what
    /// an event earlier than its task's latest is checked against. Not kept between runs:
    /// `None` in a state read back from the snapshot (see `needs_full_check`).
    #[serde(skip)]
    history: Option<HashMap<usize, Vec<Step>>>,
    /// Set when an event earlier than its task's latest came and `history` was not at hand:
    /// the event is not taken, and the caller checks it against the whole log instead.
    #[serde(skip)]
    pub needs_full_check: bool,
    /// Per task, the last event written earlier than the task's latest since the last
    /// [`LogState::recheck`].
    #[serde(skip)]
    late: HashMap<usize, Late>,
}

/// The events of one task so far, taken in the order of their times: the time and line of
/// its start, finish and open block, and the time of its latest event.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Track {
    pub started: Option<(DateTime<Utc>, usize)>,
    pub finished: Option<(DateTime<Utc>, usize)>,
    pub blocked: Option<(DateTime<Utc>, usize)>,
    pub last: Option<DateTime<Utc>>,
}

/// What an event does to its task (a decision does nothing to one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Started,
    Finished,
    Blocked,
    Unblocked,
}

impl Change {
    pub fn of(kind: &EventKind) -> Option<Change> {
        match kind {
            EventKind::Started => Some(Change::Started),
            EventKind::Finished => Some(Change::Finished),
            EventKind::Blocked => Some(Change::Blocked),
            EventKind::Unblocked => Some(Change::Unblocked),
            EventKind::Decided(_) => None,
        }
    }
}

/// One event of a task: when, on which line, what.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub at: DateTime<Utc>,
    pub line: usize,
    pub change: Change,
}

impl Step {
    fn of(event: &LiveEvent) -> Option<Step> {
        Some(Step {
            at: event.at.to_utc(),
            line: event.line,
            change: Change::of(&event.kind)?,
        })
    }
}

impl Track {
    /// Takes `step`, the task's latest so far, into account.
    fn record(&mut self, step: Step) {
        let now = Some((step.at, step.line));
        match step.change {
            Change::Started => self.started = now,
            Change::Finished => self.finished = now,
            Change::Blocked => self.blocked = now,
            Change::Unblocked => self.blocked = None,
        }
        self.last = Some(self.last.map_or(step.at, |l| l.max(step.at)));
    }
}

/// An event written after a later event of its task, to be checked with the task's other
/// events once the text is read (see [`LogState::recheck`]).
#[derive(Debug, Clone)]
pub struct Late {
    /// Where it is in the YAML (for the error), its key there (`blocked`, …), and what it is.
    pub key: String,
    pub what: &'static str,
    pub step: Step,
    /// The time of the task's latest event when it was written.
    pub latest: DateTime<Utc>,
}

impl LogState {
    /// An empty log, its events to be checked one by one.
    pub fn new() -> LogState {
        LogState {
            history: Some(HashMap::new()),
            ..LogState::default()
        }
    }

    /// The state after `events` (already checked, in file order).
    pub fn after(events: &[LiveEvent]) -> LogState {
        let mut history: HashMap<usize, Vec<Step>> = HashMap::new();
        for e in events {
            if let Some(step) = Step::of(e) {
                history.entry(e.task_index).or_default().push(step);
            }
        }
        let mut tracks = HashMap::with_capacity(history.len());
        for (&task, steps) in history.iter_mut() {
            steps.sort_by_key(|s| (s.at, s.line));
            let track: &mut Track = tracks.entry(task).or_default();
            for &step in steps.iter() {
                track.record(step);
            }
        }
        LogState {
            tracks,
            history: Some(history),
            ..LogState::default()
        }
    }

    /// Takes `event` (checked against this state, and at or after its task's latest event)
    /// into account.
    pub fn record(&mut self, event: &LiveEvent) {
        let Some(step) = Step::of(event) else {
            return;
        };
        self.tracks
            .entry(event.task_index)
            .or_default()
            .record(step);
        if let Some(history) = &mut self.history {
            history.entry(event.task_index).or_default().push(step);
        }
    }

    /// Takes `event`, earlier than its task's latest event, into the task's events in the
    /// order of their times (its track follows them as the night does), to be checked with
    /// them by [`LogState::recheck`] once the whole text is read: a block recorded late is
    /// written with its end after it, and the two add up only together. False (and
    /// `needs_full_check` set) when the task's events are not at hand.
    pub fn insert_late(&mut self, event: &LiveEvent, key: String) -> bool {
        let Some(step) = Step::of(event) else {
            return true;
        };
        let Some(history) = &mut self.history else {
            self.needs_full_check = true;
            return false;
        };
        let steps = history.entry(event.task_index).or_default();
        let at = steps.partition_point(|s| (s.at, s.line) <= (step.at, step.line));
        steps.insert(at, step);
        let mut track = Track::default();
        for s in steps.iter() {
            track.record(*s);
        }
        let latest = self
            .tracks
            .insert(event.task_index, track)
            .and_then(|t| t.last);
        self.late.insert(
            event.task_index,
            Late {
                key,
                what: event.kind.key(),
                step,
                latest: latest.unwrap_or(step.at),
            },
        );
        true
    }

    /// Checks the events of each task with an event written late (see
    /// [`LogState::insert_late`]) in the order of their times against `rule` (given the
    /// task, its track so far and the next step, it says what is wrong, if anything); for
    /// each that does not add up: the task, its late event and the first step that breaks a
    /// rule.
    pub fn recheck<P>(
        &mut self,
        rule: impl Fn(usize, &Track, Step) -> Option<P>,
    ) -> Vec<(usize, Late, Step, P)> {
        let mut late: Vec<(usize, Late)> = std::mem::take(&mut self.late).into_iter().collect();
        late.sort_by_key(|(_, l)| l.step.line);
        let Some(history) = &self.history else {
            return Vec::new();
        };
        let mut broken = Vec::new();
        for (task, l) in late {
            let mut track = Track::default();
            for &step in history.get(&task).into_iter().flatten() {
                if let Some(problem) = rule(task, &track, step) {
                    broken.push((task, l, step, problem));
                    break;
                }
                track.record(step);
            }
        }
        broken
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
