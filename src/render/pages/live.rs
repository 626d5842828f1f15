//! Go-live night on the site (SPEC §8): the dashboard's night banner, the state and actual
//! and forecast times of each task on the cutover page, the decisions and the checklists'
//! verdicts on each gate, and the status page (`cutover/status/`) with the bridge update.
//! All from the state computed once per build (`plan::live::LiveState`, as of the build's
//! now).

use chrono::DateTime;
use chrono_tz::Tz;

use super::*;
use crate::plan::live::{LiveState, NightStatus, TaskLive, TaskState};
use crate::time::format_duration;

/// The class of a status or a state, for the theme's badges (`rec-go`, …).
fn status_class(s: NightStatus) -> &'static str {
    match s {
        NightStatus::OnTrack => "go",
        NightStatus::Delayed => "conditional",
        NightStatus::Blocked | NightStatus::NoGo => "nogo",
    }
}

fn state_class(s: TaskState) -> &'static str {
    match s {
        TaskState::Done => "done",
        TaskState::InProgress => "progress",
        TaskState::Blocked => "blocked",
        TaskState::Ready => "ready",
        TaskState::Waiting => "waiting",
    }
}

fn opt(t: &Option<DateTime<Tz>>) -> Value {
    t.as_ref().map(time_view).map_or(Value::Null, |v| json!(v))
}

/// "12m late", "5m early", "on plan".
fn delay_text(minutes: i64) -> String {
    let d = format_duration(chrono::Duration::minutes(minutes.abs()));
    match minutes {
        0 => "on plan".into(),
        m if m > 0 => format!("{d} late"),
        _ => format!("{d} early"),
    }
}

/// One task's live view: state, actual and forecast times.
pub(super) fn task_view(t: &TaskLive) -> Value {
    json!({
        "state": t.state.label(), "state_class": state_class(t.state),
        "actual_start": opt(&t.actual_start), "actual_finish": opt(&t.actual_finish),
        "forecast_start": time_view(&t.forecast_start), "forecast_finish": time_view(&t.forecast_finish),
        "late_minutes": (t.forecast_finish - t.planned_finish).num_minutes(),
        "blocked_since": opt(&t.blocked_since), "note": t.note,
    })
}

/// A task as listed on the status page and the banner.
fn listed(input: &SiteInput, root: &str, live: &LiveState, id: &str) -> Option<Value> {
    let p = input.project;
    let t = p.cutover.tasks.iter().find(|t| t.id == id)?;
    let l = live.task(id)?;
    let mut v = task_view(l);
    v["id"] = json!(t.id);
    v["title"] = json!(t.title);
    v["owner"] = person(p, t.owner.as_deref());
    v["href"] = json!(format!("{root}{}#task-{}", urls::CUTOVER, t.id));
    Some(v)
}

/// The night as the dashboard banner and the status page show it; `None` without a live
/// log.
pub(super) fn night(input: &SiteInput, root: &str) -> Option<Value> {
    let live = input.live?;
    let p = input.project;
    let list = |ids: &[String]| -> Vec<Value> {
        ids.iter()
            .filter_map(|id| listed(input, root, live, id))
            .collect()
    };
    let decisions: Vec<Value> = live.decisions.iter().map(|d| decision_view(p, d)).collect();
    Some(json!({
        "as_of": time_view(&live.as_of),
        "status": live.status.label(), "status_class": status_class(live.status),
        "done": live.done, "total": live.total, "percent": percent(live.done, live.total),
        "forecast_finish": opt(&live.forecast_finish), "planned_finish": opt(&live.planned_finish),
        "delay": live.delay_minutes.map(delay_text), "delay_minutes": live.delay_minutes,
        "forecast_point_of_no_return": opt(&live.forecast_point_of_no_return),
        "planned_point_of_no_return": opt(&live.planned_point_of_no_return),
        "rollback_deadline": opt(&live.rollback_deadline),
        "slack": live.slack_minutes.map(|m| format_duration(chrono::Duration::minutes(m.abs()))),
        "slack_minutes": live.slack_minutes,
        "past_deadline": live.slack_minutes.is_some_and(|m| m < 0),
        "current": list(&live.current), "blocked": list(&live.blocked),
        "next": list(&live.next.iter().take(5).cloned().collect::<Vec<_>>()),
        "decisions": decisions,
        "href": format!("{root}{}", urls::LIVE_STATUS),
        "plan_href": format!("{root}{}", urls::CUTOVER),
    }))
}

fn decision_view(p: &Project, d: &crate::plan::live::DecisionLive) -> Value {
    let class = match d.outcome {
        crate::project::live::Outcome::Go => "go",
        crate::project::live::Outcome::ConditionalGo => "conditional",
        crate::project::live::Outcome::NoGo => "nogo",
    };
    let title = p
        .cutover
        .tasks
        .iter()
        .find(|t| t.id == d.gate)
        .map(|t| t.title.clone());
    json!({
        "gate": d.gate, "gate_title": title, "outcome": d.outcome.label(), "class": class,
        "at": time_view(&d.at), "by": person(p, d.by.as_deref()), "note": d.note,
        "conditions": d.conditions.iter().map(|c| json!({
            "text": c.text, "owner": person(p, c.owner.as_deref()), "due": opt(&c.due),
        })).collect::<Vec<_>>(),
    })
}

/// What a gate shows besides its plan: the latest decision (with the earlier ones) and the
/// verdicts of the checklists that inform it (SPEC §6 `gate:`).
pub(super) fn gate_extras(input: &SiteInput, root: &str, gate: &str) -> Value {
    let p = input.project;
    let decisions: Vec<Value> = input
        .live
        .map(|l| {
            l.decisions
                .iter()
                .filter(|d| d.gate == gate)
                .map(|d| decision_view(p, d))
                .collect()
        })
        .unwrap_or_default();
    let checklists: Vec<Value> = p
        .checklists
        .iter()
        .filter(|c| c.gate.as_deref() == Some(gate))
        .map(|c| checklist_summary(c, root))
        .collect();
    json!({"decision": decisions.last(), "earlier": &decisions[..decisions.len().saturating_sub(1)], "checklists": checklists})
}

/// `cutover/status/`: the bridge update, when the project has a live log.
pub(super) fn status_page(input: &SiteInput) -> Option<PageJob> {
    input.live?;
    let path = urls::LIVE_STATUS;
    let root = input.root(path);
    let mut ctx = input.base_context(path, "cutover", "Go-live night: status");
    ctx.insert("night", &night(input, &root));
    ctx.insert(
        "bridge_text",
        &input
            .live
            .map(|l| crate::live::bridge::text(input.project, l)),
    );
    Some(PageJob::ready(path, "live-status.html", ctx))
}
