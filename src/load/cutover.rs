//! `content/cutover.yaml` → tasks with resolved anchors and parsed durations; unknown
//! dependencies, duplicate ids and dependency cycles are reported here.

use std::collections::HashMap;
use std::path::Path;

use chrono::Duration;

use super::Checker;
use crate::diagnostics::Diagnostics;
use crate::model::cutover::CutoverFile;
use crate::project::{Cutover, Project, Task};
use crate::source::yaml::{self, index, join, Spans};
use crate::source::SourceFile;

pub fn load(root: &Path, project: &Project, diags: &mut Diagnostics) -> Cutover {
    let rel = Path::new("content/cutover.yaml");
    if !root.join(rel).is_file() {
        return Cutover::default();
    }
    let file = match SourceFile::read(root, rel) {
        Ok(f) => f,
        Err(d) => {
            diags.push(d);
            return Cutover::default();
        }
    };
    let Some(parsed) = yaml::parse::<CutoverFile>(&file, &file.text, 1, diags) else {
        return Cutover::default();
    };
    let mut c = Checker {
        file: &file,
        spans: &parsed.spans,
        diags,
    };
    let plan = parsed.value;
    let mut tasks = Vec::with_capacity(plan.tasks.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, t) in plan.tasks.iter().enumerate() {
        let at = index("tasks", i);
        c.id(&join(&at, "id"), &t.id, "task");
        if let Some(first) = seen.insert(&t.id, i) {
            let first_line = c
                .spans
                .at(&join(&index("tasks", first), "id"))
                .map(|p| p.line);
            c.error(
                &join(&at, "id"),
                format!("duplicate task id `{}`", t.id),
                format!(
                    "first used on line {}; give each task its own id",
                    first_line.unwrap_or(0)
                ),
            );
        }
        if let Some(w) = &t.wave {
            if project.wave(w).is_none() && !project.references_unknown {
                let known: Vec<&str> = project.waves.iter().map(|w| w.id.as_str()).collect();
                c.error(
                    &join(&at, "wave"),
                    format!("task `{}` names unknown wave `{w}`", t.id),
                    suggest(w, &known),
                );
            }
        }
        if let Some(owner) = &t.owner {
            c.owner(&join(&at, "owner"), owner, project);
        }
        if let Some(rb) = &t.runbook {
            let known: Vec<&str> = project.runbooks.iter().map(|r| r.id.as_str()).collect();
            c.reference(&join(&at, "runbook"), "runbook", rb, &known);
        }
        let (t0, zone) = project.t0(t.wave.as_deref());
        let anchor = t
            .start
            .as_ref()
            .and_then(|s| c.time(&join(&at, "start"), s, t0, zone));
        let duration = match &t.duration {
            Some(d) => c.duration(&join(&at, "duration"), d).unwrap_or_default(),
            None => Duration::zero(),
        };
        tasks.push(Task {
            id: t.id.clone(),
            title: t.title.clone(),
            anchor,
            after: t.after.clone(),
            duration,
            owner: t.owner.clone(),
            kind: t.kind,
            runbook: t.runbook.clone(),
            rollback: t.rollback.clone(),
            wave: t.wave.clone(),
            phase: t.phase.clone(),
            notes: t.notes.clone(),
            zone,
        });
    }
    let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    for (i, t) in plan.tasks.iter().enumerate() {
        for (j, dep) in t.after.iter().enumerate() {
            if !seen.contains_key(dep.as_str()) {
                c.error(
                    &index(&join(&index("tasks", i), "after"), j),
                    format!("task `{}` comes after unknown task `{dep}`", t.id),
                    suggest(dep, &ids),
                );
            }
        }
    }
    report_cycles(&tasks, c.spans, &mut c);
    check_plan_length(&mut c, &plan, &tasks, project);
    let rollback_deadline = plan
        .rollback_deadline
        .as_ref()
        .and_then(|text| c.time("rollback_deadline", text, project.go_live, project.zone));
    let rollback_runbook = match &plan.rollback_runbook {
        Some(id) => {
            let known: Vec<&str> = project.runbooks.iter().map(|r| r.id.as_str()).collect();
            c.reference("rollback_runbook", "runbook", id, &known)
                .then(|| id.clone())
        }
        None => project
            .runbooks
            .iter()
            .find(|r| r.id == "rollback")
            .map(|r| r.id.clone()),
    };
    Cutover {
        tasks,
        rollback_deadline,
        rollback_runbook,
    }
}

/// The plan cannot finish after the last instant tminus schedules: each task starts at
/// the latest of its anchor and its dependencies, so the latest anchor (or T-0) plus every
/// duration bounds the finish. Reported at the duration that crosses it.
fn check_plan_length(c: &mut Checker, plan: &CutoverFile, tasks: &[Task], project: &Project) {
    let latest_anchor = tasks
        .iter()
        .filter_map(|t| t.anchor)
        .map(|a| a.with_timezone(&chrono::Utc))
        .max()
        .unwrap_or(project.go_live.with_timezone(&chrono::Utc))
        .max(project.go_live.with_timezone(&chrono::Utc));
    let mut finish = latest_anchor;
    for (i, t) in tasks.iter().enumerate() {
        let next = finish
            .checked_add_signed(t.duration)
            .filter(|f| *f <= crate::time::LATEST);
        match next {
            Some(f) => finish = f,
            None => {
                let written = plan.tasks[i].duration.as_deref().unwrap_or("");
                c.error(
                    &join(&index("tasks", i), "duration"),
                    format!("with `{written}` the plan can run past the year 9999"),
                    "check the durations: together they must stay within the years tminus schedules",
                );
                return;
            }
        }
    }
}

/// "did you mean" for an unknown id, or the list of known ones.
pub(crate) fn suggest(word: &str, known: &[&str]) -> String {
    match crate::diagnostics::did_you_mean(word, known.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None if known.is_empty() => "none are defined".to_string(),
        None if known.len() <= 12 => format!("known: {}", known.join(", ")),
        None => format!("{} are defined; check the spelling", known.len()),
    }
}

/// Finds dependency cycles by depth-first search and reports each as `a → b → c → a`.
fn report_cycles(tasks: &[Task], spans: &Spans, c: &mut Checker) {
    let by_id: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark = vec![Mark::New; tasks.len()];
    let mut reported = Vec::new();
    for start in 0..tasks.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (task, next dependency to visit); `stack` is the current path.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::Active;
        while let Some((node, next)) = stack.last_mut() {
            let deps = &tasks[*node].after;
            if *next >= deps.len() {
                mark[*node] = Mark::Done;
                stack.pop();
                continue;
            }
            let dep = &deps[*next];
            *next += 1;
            let Some(&d) = by_id.get(dep.as_str()) else {
                continue;
            };
            match mark[d] {
                Mark::New => {
                    mark[d] = Mark::Active;
                    stack.push((d, 0));
                }
                Mark::Active => {
                    let from = stack.iter().position(|(n, _)| *n == d).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[from..]
                        .iter()
                        .map(|(n, _)| tasks[*n].id.as_str())
                        .collect();
                    // Print it in execution order: each task runs after the previous one.
                    cycle.reverse();
                    cycle.push(cycle[0]);
                    let mut key: Vec<&str> = cycle[..cycle.len() - 1].to_vec();
                    key.sort();
                    if !reported.contains(&key) {
                        let first = by_id[cycle[0]];
                        let pos = spans.at(&join(&index("tasks", first), "after"));
                        c.diags.push(
                            c.file
                                .error(pos, format!("dependency cycle: {}", cycle.join(" → ")))
                                .with_hint("a task cannot (even indirectly) come after itself; remove one of these `after` links"),
                        );
                        reported.push(key);
                    }
                }
                Mark::Done => {}
            }
        }
    }
}
