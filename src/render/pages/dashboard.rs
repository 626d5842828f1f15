//! The dashboard: project, waves with their T-0, countdown, readiness, go-live night,
//! next messages and contacts.

use super::*;

pub(super) fn dashboard(input: &SiteInput) -> PageJob {
    let p = input.project;
    let path = crate::urls::DASHBOARD;
    let mut ctx = input.base_context(path, "dashboard", "Dashboard");
    let root = input.root(path);
    let now = input.built_at;
    let waves: Vec<Value> = p
        .waves
        .iter()
        .map(|w| {
            json!({
                "id": w.id, "name": w.name, "go_live": time_view(&w.go_live), "audience": w.audience,
                "description": w.description, "timezone": w.zone.name(), "past": w.go_live.with_timezone(&Utc) < now,
            })
        })
        .collect();
    let upcoming: Vec<Value> = input
        .comms
        .iter()
        .filter(|e| e.message.send_at.with_timezone(&Utc) >= now)
        .take(6)
        .map(|e| message_summary(e, p, &root))
        .collect();
    let readiness: Vec<Value> = p
        .checklists
        .iter()
        .map(|c| checklist_summary(c, &root))
        .collect();
    let overall = overall_recommendation(p);
    let contacts: Vec<Value> = p.roster.iter().map(|r| person(p, Some(&r.role))).collect();
    let s = input.schedule;
    let pnr = s.point_of_no_return.map(|i| {
        let t = &p.cutover.tasks[i];
        json!({"id": t.id, "title": t.title, "start": time_view(&s.tasks[i].start)})
    });
    ctx.insert(
        "project",
        &json!({
            "name": p.name, "system": p.system, "strategy": p.strategy.map(|s| s.label()),
            "description_html": p.description.as_deref().map(|d| markdown::render(d, &root).html),
            "go_live": time_view(&p.go_live), "timezone": p.zone.name(),
        }),
    );
    ctx.insert("waves", &waves);
    ctx.insert("next_messages", &upcoming);
    ctx.insert("readiness", &readiness);
    ctx.insert(
        "overall_recommendation",
        &overall.map(|r| json!({"label": r.label(), "class": recommendation_class(r)})),
    );
    ctx.insert("contacts", &contacts);
    ctx.insert(
        "cutover",
        &json!({
            "tasks": p.cutover.tasks.len(),
            "critical": s.critical_path.len(),
            "window_start": s.window.map(|w| time_view(&w.0)),
            "window_end": s.window.map(|w| time_view(&w.1)),
            "point_of_no_return": pnr,
        }),
    );
    ctx.insert(
        "countdown",
        &json!({"target": time_view(&p.go_live), "label": format!("{} goes live", p.system)}),
    );
    ctx.insert(
        "counts",
        &json!({"runbooks": p.runbooks.len(), "guides": p.guides.len(), "sessions": p.sessions.len(), "messages": input.comms.len()}),
    );
    ctx.insert("hypercare", &super::hypercare::dashboard_card(input, &root));
    ctx.insert("night", &super::live::night(input, &root));
    PageJob::ready(path, "dashboard.html", ctx)
}

/// Go-live readiness (SPEC §6): the worst recommendation of the checklists that name a
/// `gate`, or of every checklist when none does.
pub(super) fn overall_recommendation(p: &Project) -> Option<Recommendation> {
    let rank = |r: &Recommendation| match r {
        Recommendation::Go => 0,
        Recommendation::ConditionalGo => 1,
        Recommendation::NoGo => 2,
    };
    let gated = p.checklists.iter().any(|c| c.gate.is_some());
    p.checklists
        .iter()
        .filter(|c| !gated || c.gate.is_some())
        .map(|c| c.recommendation)
        .max_by_key(rank)
}
