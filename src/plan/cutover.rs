//! Cutover scheduling: planned start and finish of every task, slack, the critical path,
//! the cutover window and the point of no return.
//!
//! A task starts at the latest of its anchor and the finish of everything it comes after;
//! a task with neither starts when the plan starts (its earliest anchor, else T-0). Finish
//! is start plus duration as elapsed time. Slack comes from a backward pass from the plan's
//! last finish. The loader has already rejected unknown ids and cycles.

use std::collections::HashMap;

use chrono::{DateTime, Duration};
use chrono_tz::Tz;

use crate::model::cutover::TaskKind;
use crate::project::{Cutover, Task};

#[derive(Debug, Clone)]
pub struct ScheduledTask {
    pub start: DateTime<Tz>,
    pub finish: DateTime<Tz>,
    pub latest_start: DateTime<Tz>,
    pub slack: Duration,
    pub critical: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Schedule {
    /// One per task, in the order of `cutover.tasks`.
    pub tasks: Vec<ScheduledTask>,
    /// Indices of the tasks on the critical path, in order.
    pub critical_path: Vec<usize>,
    /// First start and last finish.
    pub window: Option<(DateTime<Tz>, DateTime<Tz>)>,
    /// Index of the first point-of-no-return task.
    pub point_of_no_return: Option<usize>,
}

/// Schedules `cutover`; `t0` is the project's T-0 (the start of a plan with no anchors).
pub fn schedule(cutover: &Cutover, t0: DateTime<Tz>) -> Schedule {
    let tasks = &cutover.tasks;
    if tasks.is_empty() {
        return Schedule::default();
    }
    let index: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let order = topological_order(tasks, &index);
    let plan_start = tasks
        .iter()
        .filter_map(|t| t.anchor)
        .min()
        .unwrap_or(t0)
        .with_timezone(&t0.timezone());

    // Forward pass.
    let mut start: Vec<DateTime<Tz>> = vec![plan_start; tasks.len()];
    let mut finish: Vec<DateTime<Tz>> = vec![plan_start; tasks.len()];
    for &i in &order {
        let t = &tasks[i];
        let after = t
            .after
            .iter()
            .filter_map(|d| index.get(d.as_str()))
            .map(|&d| finish[d])
            .max();
        let s = match (t.anchor, after) {
            (Some(a), Some(f)) => a.max(f.with_timezone(&a.timezone())),
            (Some(a), None) => a,
            (None, Some(f)) => f,
            (None, None) => plan_start,
        }
        .with_timezone(&t.zone);
        start[i] = s;
        finish[i] = s + t.duration;
    }

    // Backward pass.
    let end = finish.iter().copied().max().unwrap_or(plan_start);
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for (i, t) in tasks.iter().enumerate() {
        for d in &t.after {
            if let Some(&d) = index.get(d.as_str()) {
                successors[d].push(i);
            }
        }
    }
    let mut latest_start: Vec<DateTime<Tz>> = finish.clone();
    for &i in order.iter().rev() {
        let latest_finish = successors[i]
            .iter()
            .map(|&s| latest_start[s])
            .min()
            .unwrap_or(end)
            .with_timezone(&tasks[i].zone);
        latest_start[i] = latest_finish - tasks[i].duration;
    }

    let scheduled: Vec<ScheduledTask> = (0..tasks.len())
        .map(|i| {
            let slack = latest_start[i] - start[i];
            ScheduledTask {
                start: start[i],
                finish: finish[i],
                latest_start: latest_start[i],
                slack,
                critical: slack <= Duration::zero(),
            }
        })
        .collect();

    let critical_path = critical_path(tasks, &index, &scheduled);
    let point_of_no_return = tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == TaskKind::PointOfNoReturn)
        .min_by_key(|(i, _)| scheduled[*i].start)
        .map(|(i, _)| i);
    Schedule {
        window: Some((plan_start, end.with_timezone(&t0.timezone()))),
        tasks: scheduled,
        critical_path,
        point_of_no_return,
    }
}

/// When a go/no-go must be taken at the latest so the rollback still completes in time.
#[derive(Debug, Clone)]
pub struct RollbackWindow {
    pub deadline: DateTime<Tz>,
    pub runbook: String,
    pub rollback_duration: Duration,
    /// `deadline - rollback_duration`.
    pub latest_decision: DateTime<Tz>,
    /// Go/no-go gates (task indices) planned after the latest decision time.
    pub late_gates: Vec<usize>,
}

/// The rollback window of a plan that has a `rollback_deadline` and a rollback runbook.
pub fn rollback_window(project: &crate::project::Project, s: &Schedule) -> Option<RollbackWindow> {
    let cutover = &project.cutover;
    let deadline = cutover.rollback_deadline?;
    let runbook = project
        .runbooks
        .iter()
        .find(|r| Some(&r.id) == cutover.rollback_runbook.as_ref())?;
    let latest_decision = deadline - runbook.total;
    let late_gates = cutover
        .tasks
        .iter()
        .enumerate()
        .filter(|(i, t)| t.kind == TaskKind::GoNoGo && s.tasks[*i].finish > latest_decision)
        .map(|(i, _)| i)
        .collect();
    Some(RollbackWindow {
        deadline,
        runbook: runbook.id.clone(),
        rollback_duration: runbook.total,
        latest_decision,
        late_gates,
    })
}

/// Kahn's algorithm, stable: ready tasks are taken in file order.
pub(crate) fn topological_order(tasks: &[Task], index: &HashMap<&str, usize>) -> Vec<usize> {
    let mut pending: Vec<usize> = tasks
        .iter()
        .map(|t| {
            t.after
                .iter()
                .filter(|d| index.contains_key(d.as_str()))
                .count()
        })
        .collect();
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for (i, t) in tasks.iter().enumerate() {
        for d in &t.after {
            if let Some(&d) = index.get(d.as_str()) {
                successors[d].push(i);
            }
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..tasks.len()).filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::with_capacity(tasks.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &s in &successors[i] {
            pending[s] -= 1;
            if pending[s] == 0 {
                ready.insert(s);
            }
        }
    }
    order
}

/// From the last critical task back through the critical predecessors that drive it.
///
/// The path ends at a critical task that drives no other critical task: a zero-duration
/// milestone after the last task finishes at the same instant as it, and belongs on the path.
fn critical_path(tasks: &[Task], index: &HashMap<&str, usize>, s: &[ScheduledTask]) -> Vec<usize> {
    let drives = |d: usize, t: usize| s[d].critical && s[t].critical && s[d].finish == s[t].start;
    let mut drives_a_critical_task = vec![false; tasks.len()];
    for (t, task) in tasks.iter().enumerate() {
        for d in task
            .after
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
        {
            if drives(d, t) {
                drives_a_critical_task[d] = true;
            }
        }
    }
    let Some(mut current) = (0..tasks.len())
        .filter(|&i| s[i].critical && !drives_a_critical_task[i])
        .max_by(|&a, &b| s[a].finish.cmp(&s[b].finish).then(b.cmp(&a)))
    else {
        return Vec::new();
    };
    let mut path = vec![current];
    let mut on_path = vec![false; tasks.len()];
    on_path[current] = true;
    loop {
        let driver = tasks[current]
            .after
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .filter(|&d| drives(d, current))
            .min();
        match driver {
            Some(d) if !on_path[d] => {
                on_path[d] = true;
                path.push(d);
                current = d;
            }
            _ => break,
        }
    }
    path.reverse();
    path
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A plain task in London for hand-worked plans (also used by the rehearsal tests).
    pub(crate) fn task(
        id: &str,
        after: &[&str],
        minutes: i64,
        anchor: Option<DateTime<Tz>>,
    ) -> Task {
        Task {
            id: id.into(),
            title: id.into(),
            anchor,
            after: after.iter().map(|s| s.to_string()).collect(),
            duration: Duration::minutes(minutes),
            owner: None,
            kind: TaskKind::Task,
            runbook: None,
            rollback: None,
            wave: None,
            phase: None,
            notes: None,
            zone: chrono_tz::Europe::London,
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Tz> {
        chrono_tz::Europe::London
            .with_ymd_and_hms(2027, 3, 29, h, m, 0)
            .unwrap()
    }

    #[test]
    fn forward_and_backward_pass_by_hand() {
        // a(60) → b(30) → d(15); a → c(10) → d
        let plan = Cutover {
            tasks: vec![
                task("a", &[], 60, Some(at(18, 0))),
                task("b", &["a"], 30, None),
                task("c", &["a"], 10, None),
                task("d", &["b", "c"], 15, None),
            ],
            rollback_deadline: None,
            rollback_runbook: None,
        };
        let s = schedule(&plan, at(18, 0));
        assert_eq!(s.tasks[1].start, at(19, 0));
        assert_eq!(s.tasks[3].start, at(19, 30));
        assert_eq!(s.tasks[3].finish, at(19, 45));
        assert_eq!(s.tasks[2].slack, Duration::minutes(20));
        assert!(
            s.tasks[0].critical
                && s.tasks[1].critical
                && s.tasks[3].critical
                && !s.tasks[2].critical
        );
        assert_eq!(s.critical_path, vec![0, 1, 3]);
        assert_eq!(s.window, Some((at(18, 0), at(19, 45))));
    }

    #[test]
    fn durations_across_the_spring_change_are_elapsed_time() {
        // London, Sun 28 Mar 2027: 01:00 GMT becomes 02:00 BST.
        let london = chrono_tz::Europe::London;
        let start = london.with_ymd_and_hms(2027, 3, 28, 0, 30, 0).unwrap();
        // load(2h) → verify(30m); a parallel report(1h) has slack.
        let plan = Cutover {
            tasks: vec![
                task("load", &[], 120, Some(start)),
                task("verify", &["load"], 30, None),
                task("report", &["load"], 60, None),
                task("close", &["verify"], 0, None),
            ],
            rollback_deadline: None,
            rollback_runbook: None,
        };
        let s = schedule(&plan, start);
        let wall = |t: DateTime<Tz>| t.format("%H:%M %Z").to_string();
        // Two real hours after 00:30 GMT is 02:30 GMT = 03:30 BST.
        assert_eq!(wall(s.tasks[0].finish), "03:30 BST");
        assert_eq!(s.tasks[0].finish - s.tasks[0].start, Duration::hours(2));
        assert_eq!(wall(s.tasks[1].finish), "04:00 BST");
        assert_eq!(wall(s.tasks[2].finish), "04:30 BST");
        // The plan ends with report at 04:30; close (after verify) has 30 minutes of slack.
        assert_eq!(s.tasks[3].slack, Duration::minutes(30));
        assert_eq!(s.tasks[1].slack, Duration::minutes(30));
        assert_eq!(s.critical_path, vec![0, 2]);
        assert_eq!(s.window.map(|w| w.1 - w.0), Some(Duration::hours(3)));
    }

    #[test]
    fn a_trailing_zero_duration_milestone_ends_the_critical_path() {
        // announce(30) → hypercare-start(0): both finish at 18:30; the milestone is critical
        // and must end the path rather than be cut off by the tie on finish time.
        let mut milestone = task("hypercare-start", &["announce"], 0, None);
        milestone.kind = TaskKind::Milestone;
        let plan = Cutover {
            tasks: vec![task("announce", &[], 30, Some(at(18, 0))), milestone],
            rollback_deadline: None,
            rollback_runbook: None,
        };
        let s = schedule(&plan, at(18, 0));
        assert!(s.tasks[0].critical && s.tasks[1].critical);
        assert_eq!(s.critical_path, vec![0, 1]);
    }

    #[test]
    fn an_anchor_later_than_dependencies_wins() {
        let plan = Cutover {
            tasks: vec![
                task("a", &[], 30, Some(at(18, 0))),
                task("b", &["a"], 30, Some(at(20, 0))),
            ],
            rollback_deadline: None,
            rollback_runbook: None,
        };
        let s = schedule(&plan, at(18, 0));
        assert_eq!(s.tasks[1].start, at(20, 0));
        // b is anchored, so a has slack up to b's start.
        assert_eq!(s.tasks[0].slack, Duration::minutes(90));
        assert_eq!(s.critical_path, vec![1]);
    }
}
