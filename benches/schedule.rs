//! Benchmark: schedule a generated 10,000-task cutover plan with random dependencies
//! (forward and backward pass, slack, critical path). Target: under 50 ms.
//!
//! Run with `cargo bench --bench schedule`; results go in BENCHMARKS.md.

mod common;

use std::time::{Duration, Instant};

use chrono::TimeZone;
use tminus::model::cutover::TaskKind;
use tminus::plan::cutover::schedule;
use tminus::project::{Cutover, Task};

use common::Rng;

fn plan(n: usize) -> (Cutover, chrono::DateTime<chrono_tz::Tz>) {
    let zone = chrono_tz::Europe::London;
    let t0 = zone.with_ymd_and_hms(2027, 3, 27, 18, 0, 0).unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let tasks = (0..n)
        .map(|i| {
            // Up to 3 dependencies on earlier tasks (so the plan is acyclic), mostly recent ones.
            let deps = if i == 0 { 0 } else { rng.below(4) as usize };
            let after: Vec<String> = (0..deps)
                .map(|_| {
                    let back = 1 + rng.below(50.min(i as u64)) as usize;
                    format!("t{}", i - back)
                })
                .collect();
            let anchor = (rng.below(100) == 0)
                .then(|| t0 + chrono::Duration::minutes(rng.below(600) as i64));
            Task {
                id: format!("t{i}"),
                title: format!("Task {i}"),
                anchor,
                after,
                duration: chrono::Duration::minutes(5 + rng.below(120) as i64),
                owner: None,
                kind: TaskKind::Task,
                runbook: None,
                rollback: None,
                wave: None,
                phase: None,
                notes: None,
                zone,
            }
        })
        .collect();
    (
        Cutover {
            tasks,
            rollback_deadline: None,
            rollback_runbook: None,
        },
        t0,
    )
}

fn main() {
    let n = std::env::var("TASKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let (cutover, t0) = plan(n);
    let mut times: Vec<Duration> = Vec::new();
    let mut critical = 0;
    for _ in 0..25 {
        let started = Instant::now();
        let s = schedule(&cutover, t0);
        times.push(started.elapsed());
        critical = s.critical_path.len();
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "schedule {n} tasks: median {:.2} ms, min {:.2} ms, max {:.2} ms over {} runs (critical path {critical} tasks)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}
