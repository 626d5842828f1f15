//! `cutover/rehearsals/<id>/`: one page per rehearsal — planned against actual duration of
//! each recorded task, and the re-forecast of go-live night with the actual durations.

use serde_json::{json, Value};

use super::format::time_view;
use super::{PageJob, SiteInput};
use crate::plan::cutover::Schedule;
use crate::plan::rehearsal::RehearsalReport;
use crate::project::Project;
use crate::time::format_duration;

/// The rehearsal pages.
pub fn jobs(input: &SiteInput) -> Vec<PageJob> {
    input.rehearsals.iter().map(|r| page(input, r)).collect()
}

/// `+35m`, `-10m`, `0m`.
pub fn signed(d: chrono::Duration) -> String {
    if d < chrono::Duration::zero() {
        format!("-{}", format_duration(-d))
    } else if d > chrono::Duration::zero() {
        format!("+{}", format_duration(d))
    } else {
        "0m".to_string()
    }
}

fn window(s: &Schedule) -> Value {
    match s.window {
        Some((a, b)) => json!({
            "start": time_view(&a), "finish": time_view(&b), "duration": format_duration(b - a),
        }),
        None => Value::Null,
    }
}

fn path_of(p: &Project, s: &Schedule) -> Vec<Value> {
    s.critical_path
        .iter()
        .map(|&i| json!({"id": p.cutover.tasks[i].id, "title": p.cutover.tasks[i].title}))
        .collect()
}

fn page(input: &SiteInput, r: &RehearsalReport) -> PageJob {
    let p = input.project;
    let plan = input.schedule;
    let path = crate::urls::rehearsal(&r.rehearsal.id);
    let root = input.root(&path);
    let title = format!("Rehearsal: {}", r.rehearsal.title);
    let mut ctx = input.base_context(&path, "cutover", &title);
    let tasks: Vec<Value> = r
        .tasks
        .iter()
        .map(|t| {
            let task = &p.cutover.tasks[t.index];
            let minutes = t.variance_minutes();
            json!({
                "id": task.id, "title": task.title,
                "owner": task.owner.as_deref().map(|o| p.role_label(o)),
                "planned": format_duration(t.planned), "planned_minutes": t.planned.num_minutes(),
                "actual": format_duration(t.actual), "actual_minutes": t.actual.num_minutes(),
                "actual_start": time_view(&t.record.actual_start),
                "actual_finish": time_view(&t.record.actual_finish),
                "variance": signed(t.actual - t.planned), "variance_minutes": minutes,
                "variance_percent": t.variance_percent(),
                "status": if minutes > 0 { "over" } else if minutes < 0 { "under" } else { "on-plan" },
                "critical": plan.tasks[t.index].critical,
                "notes": t.record.notes,
            })
        })
        .collect();
    let (planned, actual) = r.totals();
    let timeline: Vec<Value> = p
        .cutover
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (was, now) = (&plan.tasks[i], &r.forecast.tasks[i]);
            json!({
                "id": t.id, "title": t.title,
                "planned_start": time_view(&was.start), "planned_finish": time_view(&was.finish),
                "forecast_start": time_view(&now.start), "forecast_finish": time_view(&now.finish),
                "shift": signed(now.finish - was.finish), "moved": now.finish != was.finish,
                "critical": now.critical, "was_critical": was.critical,
            })
        })
        .collect();
    let crit = |s: &Schedule, i: usize| s.tasks[i].critical;
    let names = |f: &dyn Fn(usize) -> bool| -> Vec<Value> {
        (0..p.cutover.tasks.len())
            .filter(|&i| f(i))
            .map(|i| json!({"id": p.cutover.tasks[i].id, "title": p.cutover.tasks[i].title}))
            .collect()
    };
    let newly_critical = names(&|i| crit(&r.forecast, i) && !crit(plan, i));
    let no_longer_critical = names(&|i| !crit(&r.forecast, i) && crit(plan, i));
    let pnr = |s: &Schedule| s.point_of_no_return.map(|i| time_view(&s.tasks[i].start));
    let beyond_deadline = match (p.cutover.rollback_deadline, r.forecast.point_of_no_return) {
        (Some(deadline), Some(i)) => r.forecast.tasks[i].start > deadline,
        _ => false,
    };
    ctx.insert(
        "rehearsal",
        &json!({
            "id": r.rehearsal.id, "title": r.rehearsal.title, "date": r.rehearsal.date,
            "t0": r.rehearsal.t0.as_ref().map(time_view),
        }),
    );
    ctx.insert("tasks", &tasks);
    ctx.insert(
        "totals",
        &json!({"planned": format_duration(planned), "actual": format_duration(actual), "variance": signed(actual - planned)}),
    );
    ctx.insert(
        "plan",
        &json!({"window": window(plan), "critical_path": path_of(p, plan), "point_of_no_return": pnr(plan)}),
    );
    ctx.insert(
        "forecast",
        &json!({
            "window": window(&r.forecast), "critical_path": path_of(p, &r.forecast),
            "point_of_no_return": pnr(&r.forecast),
            "finish_delta": r.finish_delta(plan).map(signed),
            "finish_delta_minutes": r.finish_delta(plan).map(|d| d.num_minutes()),
            "newly_critical": newly_critical, "no_longer_critical": no_longer_critical,
            "beyond_rollback_deadline": beyond_deadline,
        }),
    );
    ctx.insert("timeline", &timeline);
    ctx.insert(
        "rollback_deadline",
        &p.cutover.rollback_deadline.as_ref().map(time_view),
    );
    ctx.insert("cutover_href", &format!("{root}{}", crate::urls::CUTOVER));
    ctx.insert(
        "calendar_href",
        &format!("{root}{}", crate::urls::CUTOVER_CALENDAR),
    );
    PageJob::ready(path, "rehearsal.html", ctx)
}
