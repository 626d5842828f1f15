//! Rehearsals: planned against actual duration of each recorded task, and a re-forecast of
//! go-live night — the plan scheduled again with the rehearsal's actual durations in place
//! of the planned ones (tasks not recorded keep their plan).

use chrono::Duration;

use super::cutover::{schedule, Schedule};
use crate::project::{Project, Rehearsal, RehearsalTask};

/// One recorded task, planned against actual.
#[derive(Debug, Clone)]
pub struct TaskVariance {
    /// Index in the cutover plan.
    pub index: usize,
    pub record: RehearsalTask,
    pub planned: Duration,
    pub actual: Duration,
}

impl TaskVariance {
    /// Actual minus planned, in minutes (positive: it ran long).
    pub fn variance_minutes(&self) -> i64 {
        (self.actual - self.planned).num_minutes()
    }

    /// The variance as a percentage of the planned duration; `None` for a zero-length task.
    pub fn variance_percent(&self) -> Option<f64> {
        let planned = self.planned.num_seconds();
        (planned > 0).then(|| {
            let pct = (self.actual - self.planned).num_seconds() as f64 * 100.0 / planned as f64;
            (pct * 10.0).round() / 10.0
        })
    }
}

/// A rehearsal measured against the plan, with its re-forecast of go-live night (a plan
/// product: made once per build, with the schedule; see `site::prepare`).
#[derive(Debug, Clone)]
pub struct RehearsalReport {
    pub rehearsal: Rehearsal,
    /// The recorded tasks, in the order of the plan.
    pub tasks: Vec<TaskVariance>,
    /// The plan scheduled with the actual durations.
    pub forecast: Schedule,
}

impl RehearsalReport {
    /// How much later (positive) or earlier the forecast finishes than the plan.
    pub fn finish_delta(&self, plan: &Schedule) -> Option<Duration> {
        match (plan.window, self.forecast.window) {
            (Some((_, planned)), Some((_, forecast))) => Some(forecast - planned),
            _ => None,
        }
    }

    /// Sum of actual and of planned durations over the recorded tasks.
    pub fn totals(&self) -> (Duration, Duration) {
        self.tasks
            .iter()
            .fold((Duration::zero(), Duration::zero()), |(p, a), t| {
                (p + t.planned, a + t.actual)
            })
    }
}

/// Every rehearsal of `project`, measured and re-forecast.
pub fn analyse(project: &Project) -> Vec<RehearsalReport> {
    project
        .rehearsals
        .iter()
        .map(|r| analyse_one(project, r))
        .collect()
}

pub fn analyse_one(project: &Project, rehearsal: &Rehearsal) -> RehearsalReport {
    let plan = &project.cutover;
    let mut tasks: Vec<TaskVariance> = rehearsal
        .tasks
        .iter()
        .filter_map(|record| {
            let index = plan.tasks.iter().position(|t| t.id == record.id)?;
            Some(TaskVariance {
                index,
                record: record.clone(),
                planned: plan.tasks[index].duration,
                actual: record.actual_finish - record.actual_start,
            })
        })
        .collect();
    tasks.sort_by_key(|t| t.index);
    let mut actual = plan.clone();
    for t in &tasks {
        actual.tasks[t.index].duration = t.actual;
    }
    RehearsalReport {
        rehearsal: rehearsal.clone(),
        tasks,
        forecast: schedule(&actual, project.go_live),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{Cutover, Task};
    use chrono::{DateTime, TimeZone};
    use chrono_tz::Tz;

    fn at(h: u32, m: u32) -> DateTime<Tz> {
        chrono_tz::Europe::London
            .with_ymd_and_hms(2027, 3, 13, h, m, 0)
            .unwrap()
    }

    fn task(id: &str, after: &[&str], minutes: i64) -> Task {
        crate::plan::cutover::tests::task(id, after, minutes, None)
    }

    fn record(id: &str, start: DateTime<Tz>, finish: DateTime<Tz>) -> RehearsalTask {
        RehearsalTask {
            id: id.into(),
            actual_start: start,
            actual_finish: finish,
            notes: None,
        }
    }

    #[test]
    fn variance_and_reforecast_by_hand() {
        // a(60) → b(100) → d(20); a → c(30) → d. Plan: d ends at a+60+100+20 = 3h00.
        let mut project = crate::load::tests_support::empty_project();
        project.go_live = at(18, 0);
        project.cutover = Cutover {
            tasks: vec![
                task("a", &[], 60),
                task("b", &["a"], 100),
                task("c", &["a"], 30),
                task("d", &["b", "c"], 20),
            ],
            rollback_deadline: None,
            rollback_runbook: None,
        };
        // Rehearsal: b ran 35% long (135m), c took 150m (now critical), d was quicker (10m).
        project.rehearsals = vec![Rehearsal {
            id: "dry".into(),
            title: "Dry run".into(),
            date: None,
            t0: None,
            tasks: vec![
                record("d", at(21, 0), at(21, 10)),
                record("b", at(10, 0), at(12, 15)),
                record("c", at(10, 0), at(12, 30)),
            ],
        }];
        let plan = schedule(&project.cutover, project.go_live);
        assert_eq!(plan.window.unwrap().1, at(21, 0));
        let reports = analyse(&project);
        let r = &reports[0];
        let ids: Vec<&str> = r.tasks.iter().map(|t| t.record.id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "d"], "in plan order");
        assert_eq!(r.tasks[0].variance_minutes(), 35);
        assert_eq!(r.tasks[0].variance_percent(), Some(35.0));
        assert_eq!(r.tasks[2].variance_minutes(), -10);
        assert_eq!(r.tasks[2].variance_percent(), Some(-50.0));
        // Forecast: a 60 + c 150 + d 10 = 3h40 → 21:40; the critical path now runs through c.
        assert_eq!(r.forecast.window.unwrap().1, at(21, 40));
        assert_eq!(r.finish_delta(&plan), Some(Duration::minutes(40)));
        assert_eq!(r.forecast.critical_path, vec![0, 2, 3]);
        assert_eq!(plan.critical_path, vec![0, 1, 3]);
        assert_eq!(r.totals(), (Duration::minutes(150), Duration::minutes(295)));
    }

    #[test]
    fn a_zero_length_task_has_no_percentage() {
        let r = RehearsalTask {
            id: "m".into(),
            actual_start: at(10, 0),
            actual_finish: at(10, 5),
            notes: None,
        };
        let v = TaskVariance {
            index: 0,
            record: r,
            planned: Duration::zero(),
            actual: Duration::minutes(5),
        };
        assert_eq!(v.variance_percent(), None);
        assert_eq!(v.variance_minutes(), 5);
    }
}
