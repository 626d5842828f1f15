//! `content/rehearsals/*.yaml`: dry runs of the cutover. Each recorded task must be a task
//! of the plan (once per rehearsal), and its actual finish must not be before its start.
//! Actual times are absolute local times in the project zone, or T-offsets from the
//! rehearsal's own `t0:`.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::documents::yaml_collection;
use super::Checker;
use crate::diagnostics::Diagnostics;
use crate::model::rehearsal::RehearsalFile;
use crate::project::{Project, Rehearsal, RehearsalTask};
use crate::source::yaml::{index, join};
use crate::time::TimeSpec;

pub fn load_all(root: &Path, project: &Project, diags: &mut Diagnostics) -> Vec<Rehearsal> {
    yaml_collection(root, "rehearsals", "rehearsal", diags, |c, id, file| {
        rehearsal(c, project, file).map(|r| Rehearsal { id, ..r })
    })
}

fn rehearsal(c: &mut Checker, project: &Project, file: RehearsalFile) -> Option<Rehearsal> {
    let zone = project.zone;
    let t0 = match &file.t0 {
        Some(text) => match c.time_spec("t0", text)? {
            TimeSpec::Absolute(_) => Some(c.time("t0", text, project.go_live, zone)?),
            _ => {
                c.error(
                    "t0",
                    format!(
                        "the rehearsal's `t0` must be a date and time, not the offset `{text}`"
                    ),
                    "write it as YYYY-MM-DD HH:MM in the project's zone, e.g. 2027-03-13 18:00",
                );
                None
            }
        },
        None => None,
    };
    let known: Vec<&str> = project
        .cutover
        .tasks
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut tasks = Vec::new();
    for (i, t) in file.tasks.iter().enumerate() {
        let at = index("tasks", i);
        let id_ok = c.id(&join(&at, "id"), &t.id, "task")
            && c.reference(&join(&at, "id"), "cutover task", &t.id, &known);
        if let Some(first) = seen.insert(&t.id, i) {
            let line = c
                .spans
                .at(&join(&index("tasks", first), "id"))
                .map_or(0, |p| p.line);
            c.error(
                &join(&at, "id"),
                format!("task `{}` is recorded twice in this rehearsal", t.id),
                format!("first recorded on line {line}; keep one entry per task"),
            );
        }
        let start = actual(c, &join(&at, "actual_start"), &t.actual_start, t0, zone);
        let finish = actual(c, &join(&at, "actual_finish"), &t.actual_finish, t0, zone);
        let (Some(start), Some(finish)) = (start, finish) else {
            continue;
        };
        if finish < start {
            c.error(
                &join(&at, "actual_finish"),
                format!(
                    "task `{}` finished ({}) before it started ({})",
                    t.id,
                    finish.format("%Y-%m-%d %H:%M"),
                    start.format("%Y-%m-%d %H:%M")
                ),
                "check the two times; a task that ran past midnight needs the next day's date",
            );
            continue;
        }
        if id_ok {
            tasks.push(RehearsalTask {
                id: t.id.clone(),
                actual_start: start,
                actual_finish: finish,
                notes: t.notes.clone(),
            });
        }
    }
    Some(Rehearsal {
        id: String::new(),
        title: file.title,
        date: file.date,
        t0,
        tasks,
    })
}

/// An actual time: absolute, or a T-offset from the rehearsal's `t0`.
fn actual(
    c: &mut Checker,
    path: &str,
    text: &str,
    t0: Option<DateTime<Tz>>,
    zone: Tz,
) -> Option<DateTime<Tz>> {
    let spec = c.time_spec(path, text)?;
    match (spec, t0) {
        (TimeSpec::Absolute(_), _) => c.in_range(path, text, spec.resolve(Utc::now(), zone)),
        (_, Some(t0)) => c.in_range(path, text, spec.resolve(t0.with_timezone(&Utc), zone)),
        (_, None) => {
            c.error(
                path,
                format!("`{text}` is a T-offset, but this rehearsal has no `t0:`"),
                "add `t0: 2027-03-13 18:00` (the rehearsal's own T-0) at the top of the file, or write an absolute time",
            );
            None
        }
    }
}
