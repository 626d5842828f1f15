//! `content/live.yaml` → the validated events of go-live night (SPEC §8).
//!
//! Owns every rule of the live log, each reported at the event's line and column: the keys
//! that go together (a task event has exactly one of `started`, `finished`, `blocked`,
//! `unblocked`; a decision has `outcome` and `at`), unknown tasks and gates, a decision on a
//! task that is not `go-no-go`, unknown roles, a CONDITIONAL GO without conditions, times
//! that do not parse, and the order of a task's events (a second start, a finish before the
//! start, an unblock without a block…). Times are T-offsets or absolute local times in the
//! zone in force — the task's wave zone, else the project's — or RFC 3339 with an offset.
//! The state of the night as of an instant is `plan::live`'s job.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::cutover::suggest;
use super::Checker;
use crate::diagnostics::Diagnostics;
use crate::model::cutover::TaskKind;
use crate::model::live::EventFile;
use crate::project::live::{Condition, Decision, EventKind, LiveEvent, Outcome};
use crate::project::Project;
use crate::source::yaml::{self, index, join};
use crate::source::SourceFile;

mod context;
use context::{Change, Step, Track};
pub use context::{LogContext, LogState};

/// Where the live log lives, relative to the project folder.
pub const PATH: &str = "content/live.yaml";

const TIME_HINT: &str =
    "write a local time such as `2027-03-29 18:02`, a T-offset such as `T+45m`, or RFC 3339";

/// Reads `content/live.yaml` when it exists: the events and whether the file exists.
pub fn load(root: &Path, project: &Project, diags: &mut Diagnostics) -> (Vec<LiveEvent>, bool) {
    let rel = Path::new(PATH);
    if !root.join(rel).is_file() {
        return (Vec::new(), false);
    }
    let file = match SourceFile::read(root, rel) {
        Ok(f) => f,
        Err(d) => {
            diags.push(d);
            return (Vec::new(), true);
        }
    };
    (events(&file, project, diags), true)
}

/// Is `text` empty but for blank lines and comments (a new log)?
fn is_blank(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l == "---")
}

/// Checks the text of a live log against `project`; every problem goes to `diags`.
pub fn events(file: &SourceFile, project: &Project, diags: &mut Diagnostics) -> Vec<LiveEvent> {
    let context = LogContext::of(project);
    events_after(file, &file.text, 1, &context, &mut LogState::new(), diags)
}

/// Checks `text`, the events written from line `first_line` of `file` on after a log whose
/// state is `state` (already checked) — what `tminus live` appends, checked without reading
/// the whole log again — and takes the valid ones into `state`.
pub fn events_after(
    file: &SourceFile,
    text: &str,
    first_line: usize,
    context: &LogContext,
    state: &mut LogState,
    diags: &mut Diagnostics,
) -> Vec<LiveEvent> {
    if is_blank(text) {
        return Vec::new();
    }
    // The log is a list: say so in words rather than as a type error at the root.
    let first = text.lines().enumerate().find(|(_, l)| {
        !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---"
    });
    if let Some((i, line)) = first {
        let t = line.trim_start();
        if !t.starts_with('-') && !t.starts_with('[') {
            let at = crate::diagnostics::Position::new(first_line + i, line.len() - t.len() + 1);
            diags.push(
                file.error(Some(at), "the live log is a list of events, each starting with `- `")
                    .with_hint("write `- task: extract` then `  started: 2027-03-29 23:40` indented under it, or `- decision: <gate>`"),
            );
            return Vec::new();
        }
    }
    let Some(parsed) = yaml::parse::<Vec<EventFile>>(file, text, first_line, diags) else {
        return Vec::new();
    };
    let mut c = Checker {
        file,
        spans: &parsed.spans,
        diags,
    };
    let index_of: HashMap<&str, usize> = context.ids().enumerate().map(|(i, id)| (id, i)).collect();
    let ids: Vec<&str> = context.ids().collect();
    let mut out = Vec::with_capacity(parsed.value.len());
    for (i, e) in parsed.value.into_iter().enumerate() {
        let at = index("", i);
        let line = c.spans.nearest(&at).map_or(0, |p| p.line);
        if let Some(event) = event(&mut c, context, &index_of, &ids, &at, line, e) {
            if order(&mut c, context, state, &at, &event) {
                out.push(event);
            }
        }
    }
    recheck(&mut c, context, state);
    out
}

/// One event: its keys, references and times.
fn event(
    c: &mut Checker,
    context: &LogContext,
    index_of: &HashMap<&str, usize>,
    ids: &[&str],
    at: &str,
    line: usize,
    e: EventFile,
) -> Option<LiveEvent> {
    let task_keys = [
        ("started", &e.started, EventKind::Started),
        ("finished", &e.finished, EventKind::Finished),
        ("blocked", &e.blocked, EventKind::Blocked),
        ("unblocked", &e.unblocked, EventKind::Unblocked),
    ];
    let given: Vec<&(&str, &Option<String>, EventKind)> =
        task_keys.iter().filter(|(_, v, _)| v.is_some()).collect();
    let (id, id_key) = match (&e.task, &e.decision) {
        (Some(_), Some(_)) => {
            c.error(
                &join(at, "decision"),
                "an event is either a task event (`task:`) or a decision (`decision:`), not both",
                "write the decision as an event of its own",
            );
            return None;
        }
        (None, None) => {
            c.error(
                at,
                "this event names no task and no decision",
                "start it with `task: <task id>` (and `started:`, `finished:`, `blocked:` or `unblocked:`) or `decision: <go-no-go task id>`",
            );
            return None;
        }
        (Some(t), None) => (t.clone(), "task"),
        (None, Some(g)) => (g.clone(), "decision"),
    };
    let id_path = join(at, id_key);
    let Some(&task_index) = index_of.get(id.as_str()) else {
        let what = if id_key == "task" {
            "task"
        } else {
            "gate (go-no-go task)"
        };
        c.error(
            &id_path,
            format!("unknown {what} `{id}`"),
            suggest(&id, ids),
        );
        return None;
    };
    let task = context.task(task_index);
    let (t0, zone) = (task.t0, task.zone);
    let mut ok = true;
    if let Some(by) = &e.by {
        ok &= known_role(c, &join(at, "by"), by, context);
    }
    let (kind, at_time) = if id_key == "task" {
        for (key, value) in [("outcome", e.outcome.is_some()), ("at", e.at.is_some())] {
            if value {
                c.error(
                    &join(at, key),
                    format!("`{key}` belongs to a decision, not to a task event"),
                    "a task event gives its time with `started:`, `finished:`, `blocked:` or `unblocked:`",
                );
                ok = false;
            }
        }
        if !e.conditions.is_empty() {
            c.error(
                &join(at, "conditions"),
                "`conditions` belong to a CONDITIONAL GO decision, not to a task event",
                "record the decision with `decision: <gate>` and `outcome: CONDITIONAL GO`",
            );
            ok = false;
        }
        match given.as_slice() {
            [(key, Some(text), kind)] => {
                let time = parse_time(c, &join(at, key), text, t0, zone);
                (kind.clone(), time)
            }
            [] => {
                c.error(
                    &id_path,
                    format!("the event of task `{id}` says nothing happened"),
                    "give one of `started: TIME`, `finished: TIME`, `blocked: TIME` or `unblocked: TIME`",
                );
                return None;
            }
            [_, (second, _, _), ..] => {
                c.error(
                    &join(at, second),
                    format!(
                        "an event records one thing; this one also has `{}`",
                        given[0].0
                    ),
                    "write each of them as an event of its own, in the order they happened",
                );
                return None;
            }
            _ => return None,
        }
    } else {
        if let Some((key, _, _)) = given.first() {
            c.error(
                &join(at, key),
                format!("`{key}` belongs to a task event, not to a decision"),
                "a decision gives its time with `at:`",
            );
            ok = false;
        }
        if task.kind != TaskKind::GoNoGo {
            c.error(
                &id_path,
                format!(
                    "`{id}` is a {} task, not a go/no-go: only a `type: go-no-go` task takes a decision",
                    task.kind.label().to_lowercase()
                ),
                "name the go-no-go task this decision belongs to",
            );
            ok = false;
        }
        let outcome = match &e.outcome {
            None => {
                c.error(
                    &id_path,
                    format!("the decision on `{id}` has no `outcome`"),
                    "add `outcome: GO`, `outcome: CONDITIONAL GO` or `outcome: NO-GO`",
                );
                None
            }
            Some(text) => {
                let o = Outcome::parse(text);
                if o.is_none() {
                    c.error(
                        &join(at, "outcome"),
                        format!("`{text}` is not an outcome"),
                        "write GO, CONDITIONAL GO or NO-GO",
                    );
                }
                o
            }
        };
        let time = match &e.at {
            None => {
                c.error(
                    &id_path,
                    format!("the decision on `{id}` has no time"),
                    "add `at: TIME`, e.g. `at: 2027-03-29 21:50`",
                );
                None
            }
            Some(text) => parse_time(c, &join(at, "at"), text, t0, zone),
        };
        let mut conditions = Vec::with_capacity(e.conditions.len());
        for (j, cond) in e.conditions.iter().enumerate() {
            let cp = index(&join(at, "conditions"), j);
            if cond.text.trim().is_empty() {
                c.error(
                    &join(&cp, "text"),
                    "a condition needs its text",
                    "say what must follow",
                );
                ok = false;
            }
            if let Some(owner) = &cond.owner {
                ok &= known_role(c, &join(&cp, "owner"), owner, context);
            }
            let due = match &cond.due {
                Some(text) => {
                    let d = parse_time(c, &join(&cp, "due"), text, t0, zone);
                    ok &= d.is_some();
                    d
                }
                None => None,
            };
            conditions.push(Condition {
                text: cond.text.trim().to_string(),
                owner: cond.owner.clone(),
                due,
            });
        }
        match outcome {
            Some(Outcome::ConditionalGo) if conditions.is_empty() => {
                c.error(
                    &join(at, "outcome"),
                    format!("the CONDITIONAL GO on `{id}` names no conditions"),
                    "list what must follow under `conditions:` (each with `text`, and `owner` and `due` when known), or record a GO",
                );
                ok = false;
            }
            Some(o @ (Outcome::Go | Outcome::NoGo)) if !conditions.is_empty() => {
                c.error(
                    &join(at, "conditions"),
                    format!("a {o} has no conditions"),
                    "conditions belong to a CONDITIONAL GO",
                );
                ok = false;
            }
            _ => {}
        }
        match (outcome, time) {
            (Some(outcome), Some(at_time)) => (
                EventKind::Decided(Decision {
                    gate: id.clone(),
                    outcome,
                    at: at_time.with_timezone(&task.zone),
                    by: e.by.clone(),
                    note: note(&e.note),
                    conditions,
                    line,
                }),
                time,
            ),
            _ => return None,
        }
    };
    let at_time = at_time?;
    ok.then(|| LiveEvent {
        task: id,
        task_index,
        kind,
        at: at_time.with_timezone(&task.zone),
        by: e.by,
        note: note(&e.note),
        line,
    })
}

/// `by:` and a condition's owner name a roster role (unchecked when the roster is unknown).
fn known_role(c: &mut Checker, path: &str, role: &str, context: &LogContext) -> bool {
    match context.roles() {
        None => true,
        Some(roles) => {
            let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
            c.reference(path, "owner (roster role)", role, &roles)
        }
    }
}

/// A note as kept: trimmed, `None` when empty.
fn note(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

/// A time of the log: RFC 3339 (with its offset), else a T-offset or a local time in `zone`.
fn parse_time(
    c: &mut Checker,
    path: &str,
    text: &str,
    t0: DateTime<Tz>,
    zone: Tz,
) -> Option<DateTime<Tz>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Some(t.with_timezone(&zone));
    }
    let spec = match crate::time::parse_time_spec(text) {
        Ok(s) => s,
        Err(e) => {
            c.error(path, e.message, format!("{}; {TIME_HINT}", e.hint));
            return None;
        }
    };
    Some(spec.resolve(t0.with_timezone(&chrono::Utc), zone))
}

/// Checks `event` against the task's earlier events and records it; false on an error.
///
/// The rules read a task's events in the order of their times (the file's for equal
/// times), as the state of the night does: an event at or after the task's latest is
/// checked against where the task stands; one earlier than that (a start recorded after
/// the finish, a block recorded late) must also leave every later event of the task right.
fn order(
    c: &mut Checker,
    context: &LogContext,
    state: &mut LogState,
    at: &str,
    event: &LiveEvent,
) -> bool {
    let Some(change) = Change::of(&event.kind) else {
        return true;
    };
    let key = join(at, event.kind.key());
    let zone = context.task(event.task_index).zone;
    let show = |t: &DateTime<Utc>| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let id = &event.task;
    let track = state.track(event.task_index);
    let step = Step {
        at: event.at.to_utc(),
        line: event.line,
        change,
    };
    let late = track.last.is_some_and(|last| step.at < last);
    // A task starts once and finishes once, after its start, whenever each was written; a
    // late block or unblock is checked with the task's other events once the text is read.
    if !late || matches!(change, Change::Started | Change::Finished) {
        if let Some((message, hint)) = rule(id, &show, &track, step) {
            c.error(&key, message, hint);
            return false;
        }
    }
    if late {
        return state.insert_late(event, key);
    }
    state.record(event);
    true
}

/// Reports each task whose events, with one written late among them, do not add up in the
/// order of their times (see [`LogState::insert_late`]).
fn recheck(c: &mut Checker, context: &LogContext, state: &mut LogState) {
    let show_in = |task: usize| {
        let zone = context.task(task).zone;
        move |t: &DateTime<Utc>| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
    };
    let broken = state.recheck(|task, track, step| {
        let view = context.task(task);
        rule(view.id, &show_in(task), track, step)
    });
    for (task, late, step, (message, _)) in broken {
        let show = show_in(task);
        c.error(
            &late.key,
            format!(
                "task `{}` {} at {} is earlier than its latest event ({}), and with it the task's events do not add up in the order of their times: line {}: {message}",
                context.task(task).id,
                late.what,
                show(&late.step.at),
                show(&late.latest),
                step.line,
            ),
            "the night is read from each task's events in the order of their times; a block recorded after the fact needs its end with it (`tminus live block TASK --at START --until END`, or both lines by hand)".to_string(),
        );
    }
}

/// What is wrong with `step` after the task's events so far (`track`), if anything.
fn rule(
    id: &str,
    show: &dyn Fn(&DateTime<Utc>) -> String,
    track: &Track,
    step: Step,
) -> Option<(String, String)> {
    let at_utc = step.at;
    match step.change {
        Change::Started => match (track.started, track.finished) {
            (Some((_, line)), _) => Some((
                format!("task `{id}` is started a second time (it started on line {line})"),
                "a task starts once; to record a pause use `blocked:` and `unblocked:`".into(),
            )),
            (None, Some((f, line))) if at_utc > f => Some((
                format!(
                    "task `{id}` starts at {} after it finished at {} (line {line})",
                    show(&at_utc),
                    show(&f)
                ),
                "check the times: a task starts before it finishes".into(),
            )),
            _ => None,
        },
        Change::Finished => match (track.finished, track.started, track.blocked) {
            (Some((_, line)), _, _) => Some((
                format!("task `{id}` is finished a second time (it finished on line {line})"),
                "a task finishes once; correct the first `finished:` if its time was wrong".into(),
            )),
            (None, Some((s, line)), _) if at_utc < s => Some((
                format!(
                    "task `{id}` finishes at {} before it started at {} (line {line})",
                    show(&at_utc),
                    show(&s)
                ),
                "check the times: a task finishes at or after its start".into(),
            )),
            (None, _, Some((_, line))) => Some((
                format!("task `{id}` finishes while it is blocked (since line {line})"),
                "record `unblocked:` before `finished:`".into(),
            )),
            _ => None,
        },
        Change::Blocked => match (track.blocked, track.finished) {
            (Some((_, line)), _) => Some((
                format!("task `{id}` is blocked again while still blocked (since line {line})"),
                "record `unblocked:` when a block ends, before the next `blocked:`".into(),
            )),
            (None, Some((f, line))) if at_utc >= f => Some((
                format!(
                    "task `{id}` is blocked at {} after it finished at {} (line {line})",
                    show(&at_utc),
                    show(&f)
                ),
                "a finished task cannot be blocked; check the task id and the time".into(),
            )),
            _ => None,
        },
        // (In the order of the times, an unblock comes after its block.)
        Change::Unblocked => track.blocked.is_none().then(|| {
            (
                format!("task `{id}` is unblocked but was not blocked"),
                "record `blocked:` (with a `note:` saying why) before `unblocked:`".into(),
            )
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests;
