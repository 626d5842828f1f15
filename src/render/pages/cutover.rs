//! The cutover plan page (timeline, gates, rollback window, task table) and one printable
//! run sheet per owner role.

use super::*;

pub(super) fn cutover(input: &SiteInput) -> PageJob {
    let p = input.project;
    let s = input.schedule;
    let path = urls::CUTOVER;
    let root = input.root(path);
    let mut ctx = input.base_context(path, "cutover", "Cutover plan");
    let tasks: Vec<Value> = p
        .cutover
        .tasks
        .iter()
        .zip(&s.tasks)
        .enumerate()
        .map(|(i, (t, st))| {
            json!({
                "id": t.id, "title": t.title, "phase": t.phase, "kind": t.kind, "kind_label": t.kind.label(),
                "owner": person(p, t.owner.as_deref()), "after": t.after,
                "start": time_view(&st.start), "finish": time_view(&st.finish),
                "duration": crate::time::format_duration(t.duration), "duration_minutes": t.duration.num_minutes(),
                "slack_minutes": st.slack.num_minutes(), "slack": crate::time::format_duration(st.slack),
                "critical": st.critical, "wave": t.wave, "rollback": t.rollback, "notes": t.notes,
                "runbook": t.runbook.as_ref().map(|r| json!({"id": r, "href": format!("{root}{}", urls::runbook(r)),
                    "title": p.runbooks.iter().find(|x| &x.id == r).map(|x| x.title.clone())})),
                "live": input.live.and_then(|l| l.tasks.get(i)).map(super::live::task_view),
            })
        })
        .collect();
    ctx.insert("night", &super::live::night(input, &root));
    let critical_path: Vec<&str> = s
        .critical_path
        .iter()
        .map(|&i| p.cutover.tasks[i].id.as_str())
        .collect();
    ctx.insert("tasks", &tasks);
    ctx.insert("critical_path", &critical_path);
    ctx.insert(
        "window",
        &s.window.map(|(a, b)| json!({"start": time_view(&a), "finish": time_view(&b), "duration": crate::time::format_duration(b - a)})),
    );
    ctx.insert(
        "point_of_no_return",
        &s.point_of_no_return.map(|i| p.cutover.tasks[i].id.clone()),
    );
    ctx.insert(
        "rollback_deadline",
        &p.cutover.rollback_deadline.as_ref().map(time_view),
    );
    ctx.insert("timezone", p.zone.name());
    ctx.insert("gantt_svg", &crate::render::gantt::svg(p, s, input.live));
    let gates: Vec<Value> = p
        .cutover
        .tasks
        .iter()
        .zip(&s.tasks)
        .filter(|(t, _)| matches!(t.kind, TaskKind::GoNoGo | TaskKind::PointOfNoReturn))
        .map(|(t, st)| json!({"id": t.id, "title": t.title, "kind": t.kind, "kind_label": t.kind.label(), "start": time_view(&st.start), "owner": person(p, t.owner.as_deref()),
            "live": super::live::gate_extras(input, &root, &t.id)}))
        .collect();
    ctx.insert("gates", &gates);
    ctx.insert(
        "rollback",
        &rollback_window(p, s).map(|w| {
            json!({
                "deadline": time_view(&w.deadline),
                "runbook": {"id": w.runbook, "href": format!("{root}{}", urls::runbook(&w.runbook)),
                    "title": p.runbooks.iter().find(|r| r.id == w.runbook).map(|r| r.title.clone())},
                "duration": crate::time::format_duration(w.rollback_duration),
                "latest_decision": time_view(&w.latest_decision),
                "late_gates": w.late_gates.iter().map(|&i| p.cutover.tasks[i].id.clone()).collect::<Vec<_>>(),
            })
        }),
    );
    let sheets: Vec<Value> = owner_roles(p)
        .into_iter()
        .map(|role| {
            let count = p
                .cutover
                .tasks
                .iter()
                .filter(|t| t.owner.as_deref() == Some(role))
                .count();
            json!({"role": role, "person": person(p, Some(role)), "tasks": count,
                "href": format!("{root}{}", urls::run_sheet(role)),
                "calendar_href": format!("{root}{}", urls::role_calendar(role))})
        })
        .collect();
    ctx.insert("run_sheets", &sheets);
    ctx.insert(
        "calendar_href",
        &format!("{root}{}", urls::CUTOVER_CALENDAR),
    );
    let rehearsals: Vec<Value> = p
        .rehearsals
        .iter()
        .map(|r| json!({"id": r.id, "title": r.title, "date": r.date, "href": format!("{root}{}", urls::rehearsal(&r.id))}))
        .collect();
    ctx.insert("rehearsals", &rehearsals);
    PageJob::ready(path, "cutover.html", ctx)
}

/// Roster roles that own at least one cutover task, in roster order.
pub(super) fn owner_roles(p: &Project) -> Vec<&str> {
    p.roster
        .iter()
        .map(|r| r.role.as_str())
        .filter(|role| {
            p.cutover
                .tasks
                .iter()
                .any(|t| t.owner.as_deref() == Some(role))
        })
        .collect()
}

/// One printable run sheet per owner role: what they do, in order, with times.
pub(super) fn run_sheets(input: &SiteInput) -> Vec<PageJob> {
    let p = input.project;
    let s = input.schedule;
    owner_roles(p)
        .into_iter()
        .map(|role| {
            let path = urls::run_sheet(role);
            let root = input.root(&path);
            let owner = person(p, Some(role));
            let title = format!("Run sheet: {}", p.role_label(role));
            let mut ctx = input.base_context(&path, "cutover", &title);
            let mut mine: Vec<usize> = (0..p.cutover.tasks.len()).filter(|&i| p.cutover.tasks[i].owner.as_deref() == Some(role)).collect();
            mine.sort_by_key(|&i| (s.tasks[i].start, i));
            let tasks: Vec<Value> = mine
                .iter()
                .map(|&i| {
                    let t = &p.cutover.tasks[i];
                    let st = &s.tasks[i];
                    let waits_for: Vec<Value> = t
                        .after
                        .iter()
                        .filter_map(|d| p.cutover.tasks.iter().find(|x| &x.id == d))
                        .map(|d| json!({"id": d.id, "title": d.title, "owner": person(p, d.owner.as_deref())}))
                        .collect();
                    json!({
                        "id": t.id, "title": t.title, "kind": t.kind, "kind_label": t.kind.label(), "phase": t.phase,
                        "start": time_view(&st.start), "finish": time_view(&st.finish),
                        "duration": crate::time::format_duration(t.duration), "critical": st.critical,
                        "slack": crate::time::format_duration(st.slack), "rollback": t.rollback, "notes": t.notes,
                        "waits_for": waits_for,
                        "runbook": t.runbook.as_ref().map(|r| json!({"id": r, "href": format!("{root}{}", urls::runbook(r)),
                            "title": p.runbooks.iter().find(|x| &x.id == r).map(|x| x.title.clone())})),
                    })
                })
                .collect();
            ctx.insert("owner", &owner);
            ctx.insert("tasks", &tasks);
            ctx.insert("timezone", p.zone.name());
            PageJob::ready(path, "run-sheet.html", ctx)
        })
        .collect()
}
