//! The page of each kind: dashboard, cutover, runbooks, checklists, training, comms and
//! extra pages, each as a [`PageJob`] with its template variables.

use chrono::Utc;
use serde_json::{json, Value};

use super::format::{duration, role_label, time_view};
use super::{CommsEntry, PageJob, SiteInput};
use crate::markdown;
use crate::model::checklist::{ItemStatus, Recommendation};
use crate::model::cutover::TaskKind;
use crate::plan::cutover::rollback_window;
use crate::project::{Checklist, Guide, Page, Project, Runbook};

/// Every page of the site.
pub fn jobs(input: &SiteInput) -> Vec<PageJob> {
    let p = input.project;
    let mut jobs = vec![
        dashboard(input),
        cutover(input),
        runbook_index(input),
        checklist_index(input),
        super::training::training_index(input),
        comms_index(input),
        super::training::search_page(input),
    ];
    // Pages whose Markdown is large are built when written (see `PageContext`).
    jobs.extend(
        (0..p.runbooks.len())
            .map(|i| PageJob::deferred(runbook_path(&p.runbooks[i]), "runbook.html", runbook, i)),
    );
    jobs.extend(p.checklists.iter().map(|c| checklist(input, c)));
    jobs.extend(
        (0..p.guides.len())
            .map(|i| PageJob::deferred(guide_path(&p.guides[i]), "guide.html", guide, i)),
    );
    jobs.extend(
        (0..p.pages.len()).map(|i| PageJob::deferred(page_path(&p.pages[i]), "page.html", page, i)),
    );
    jobs.extend(message_pages(input));
    jobs.extend(run_sheets(input));
    jobs.extend(super::rehearsal::jobs(input));
    jobs
}

fn person(p: &Project, role: Option<&str>) -> Value {
    match role {
        Some(role) => match p.person(role) {
            Some(r) => {
                json!({"role": role, "role_label": role_label(role), "name": r.name, "email": r.email, "phone": r.phone})
            }
            None => json!({"role": role, "role_label": role_label(role)}),
        },
        None => Value::Null,
    }
}

fn checklist_summary(c: &Checklist, root: &str) -> Value {
    let items: Vec<_> = c.sections.iter().flat_map(|s| &s.items).collect();
    let closed = items.iter().filter(|i| i.status.is_closed()).count();
    let critical_open = items
        .iter()
        .filter(|i| i.critical && !i.status.is_closed())
        .count();
    json!({
        "id": c.id, "title": c.title, "summary": c.summary,
        "href": format!("{root}checklists/{}/index.html", c.id),
        "recommendation": c.recommendation.label(), "recommendation_class": recommendation_class(c.recommendation),
        "done": closed, "total": items.len(), "percent": percent(closed, items.len()),
        "critical_open": critical_open, "open": items.len() - closed,
        "due": c.due.as_ref().map(time_view),
    })
}

fn recommendation_class(r: Recommendation) -> &'static str {
    match r {
        Recommendation::Go => "go",
        Recommendation::ConditionalGo => "conditional",
        Recommendation::NoGo => "nogo",
    }
}

fn percent(n: usize, total: usize) -> usize {
    (n * 100).checked_div(total).unwrap_or(100)
}

fn message_summary(e: &CommsEntry, p: &Project, root: &str) -> Value {
    let m = &e.message;
    json!({
        "id": m.id, "wave": m.wave, "wave_name": m.wave.as_deref().and_then(|w| p.wave(w)).map(|w| w.name.clone()),
        "locale": m.locale, "audience": m.audience, "subject": e.subject,
        "recipients": m.recipients.len(), "send_at": time_view(&m.send_at),
        "href": format!("{root}{}/index.html", e.page_dir()),
    })
}

fn dashboard(input: &SiteInput) -> PageJob {
    let p = input.project;
    let path = "index.html";
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
    PageJob::ready(path, "dashboard.html", ctx)
}

/// The worst recommendation over all checklists.
fn overall_recommendation(p: &Project) -> Option<Recommendation> {
    let rank = |r: &Recommendation| match r {
        Recommendation::Go => 0,
        Recommendation::ConditionalGo => 1,
        Recommendation::NoGo => 2,
    };
    p.checklists
        .iter()
        .map(|c| c.recommendation)
        .max_by_key(rank)
}

fn cutover(input: &SiteInput) -> PageJob {
    let p = input.project;
    let s = input.schedule;
    let path = "cutover/index.html";
    let root = input.root(path);
    let mut ctx = input.base_context(path, "cutover", "Cutover plan");
    let tasks: Vec<Value> = p
        .cutover
        .tasks
        .iter()
        .zip(&s.tasks)
        .map(|(t, st)| {
            json!({
                "id": t.id, "title": t.title, "phase": t.phase, "kind": t.kind, "kind_label": t.kind.label(),
                "owner": person(p, t.owner.as_deref()), "after": t.after,
                "start": time_view(&st.start), "finish": time_view(&st.finish),
                "duration": crate::time::format_duration(t.duration), "duration_minutes": t.duration.num_minutes(),
                "slack_minutes": st.slack.num_minutes(), "slack": crate::time::format_duration(st.slack),
                "critical": st.critical, "wave": t.wave, "rollback": t.rollback, "notes": t.notes,
                "runbook": t.runbook.as_ref().map(|r| json!({"id": r, "href": format!("{root}runbooks/{r}/index.html"),
                    "title": p.runbooks.iter().find(|x| &x.id == r).map(|x| x.title.clone())})),
            })
        })
        .collect();
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
    ctx.insert("gantt_svg", &super::gantt::svg(p, s));
    let gates: Vec<Value> = p
        .cutover
        .tasks
        .iter()
        .zip(&s.tasks)
        .filter(|(t, _)| matches!(t.kind, TaskKind::GoNoGo | TaskKind::PointOfNoReturn))
        .map(|(t, st)| json!({"id": t.id, "title": t.title, "kind": t.kind, "kind_label": t.kind.label(), "start": time_view(&st.start), "owner": person(p, t.owner.as_deref())}))
        .collect();
    ctx.insert("gates", &gates);
    ctx.insert(
        "rollback",
        &rollback_window(p, s).map(|w| {
            json!({
                "deadline": time_view(&w.deadline),
                "runbook": {"id": w.runbook, "href": format!("{root}runbooks/{}/index.html", w.runbook),
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
                "href": format!("{root}cutover/run-sheets/{role}/index.html"),
                "calendar_href": format!("{root}{}", super::role_calendar_path(role))})
        })
        .collect();
    ctx.insert("run_sheets", &sheets);
    ctx.insert("calendar_href", &format!("{root}cutover/cutover.ics"));
    let rehearsals: Vec<Value> = p
        .rehearsals
        .iter()
        .map(|r| json!({"id": r.id, "title": r.title, "date": r.date, "href": format!("{root}cutover/rehearsals/{}/index.html", r.id)}))
        .collect();
    ctx.insert("rehearsals", &rehearsals);
    PageJob::ready(path, "cutover.html", ctx)
}

/// Roster roles that own at least one cutover task, in roster order.
fn owner_roles(p: &Project) -> Vec<&str> {
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
fn run_sheets(input: &SiteInput) -> Vec<PageJob> {
    let p = input.project;
    let s = input.schedule;
    owner_roles(p)
        .into_iter()
        .map(|role| {
            let path = format!("cutover/run-sheets/{role}/index.html");
            let root = input.root(&path);
            let owner = person(p, Some(role));
            let title = format!("Run sheet: {}", role_label(role));
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
                        "runbook": t.runbook.as_ref().map(|r| json!({"id": r, "href": format!("{root}runbooks/{r}/index.html"),
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

fn runbook_index(input: &SiteInput) -> PageJob {
    let p = input.project;
    let path = "runbooks/index.html";
    let root = input.root(path);
    let mut ctx = input.base_context(path, "runbooks", "Runbooks");
    let list: Vec<Value> = p
        .runbooks
        .iter()
        .map(|r| {
            json!({"id": r.id, "title": r.title, "summary": r.summary, "owner": person(p, r.owner.as_deref()),
                "steps": r.steps.len(), "total": crate::time::format_duration(r.total),
                "href": format!("{root}runbooks/{}/index.html", r.id)})
        })
        .collect();
    ctx.insert("runbooks", &list);
    PageJob::ready(path, "runbooks.html", ctx)
}

fn runbook_path(r: &Runbook) -> String {
    format!("runbooks/{}/index.html", r.id)
}

fn runbook(input: &SiteInput, index: usize) -> tera::Context {
    let p = input.project;
    let r = &p.runbooks[index];
    let path = runbook_path(r);
    let root = input.root(&path);
    let mut ctx = input.base_context(&path, "runbooks", &r.title);
    let body = markdown::render(&r.body.markdown, &root);
    let steps: Vec<Value> = r
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let spec = &s.spec;
            json!({
                "number": i + 1, "anchor": format!("step-{}", i + 1), "title": spec.title,
                "command_html": spec.command.as_deref().map(|c| markdown::code_block(c, spec.lang.as_deref())),
                "lang": spec.lang, "duration": duration(s.duration), "owner": person(p, spec.owner.as_deref()),
                "validation_html": spec.validation.as_deref().map(|v| markdown::render(v, &root).html),
                "rollback_html": spec.rollback.as_deref().map(|v| markdown::render(v, &root).html),
            })
        })
        .collect();
    let used_by: Vec<Value> = p
        .cutover
        .tasks
        .iter()
        .filter(|t| t.runbook.as_deref() == Some(r.id.as_str()))
        .map(|t| json!({"id": t.id, "title": t.title}))
        .collect();
    ctx.insert(
        "runbook",
        &json!({
            "id": r.id, "title": r.title, "summary": r.summary, "owner": person(p, r.owner.as_deref()),
            "total": crate::time::format_duration(r.total), "steps": steps, "body_html": body.html, "toc": body.toc,
            "used_by": used_by,
        }),
    );
    ctx
}

fn checklist_index(input: &SiteInput) -> PageJob {
    let path = "checklists/index.html";
    let root = input.root(path);
    let mut ctx = input.base_context(path, "checklists", "Checklists");
    let list: Vec<Value> = input
        .project
        .checklists
        .iter()
        .map(|c| checklist_summary(c, &root))
        .collect();
    ctx.insert("checklists", &list);
    PageJob::ready(path, "checklists.html", ctx)
}

fn status_class(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Done => "done",
        ItemStatus::InProgress => "in-progress",
        ItemStatus::Open => "open",
        ItemStatus::Blocked => "blocked",
        ItemStatus::NotApplicable => "na",
    }
}

fn checklist(input: &SiteInput, c: &Checklist) -> PageJob {
    let p = input.project;
    let path = format!("checklists/{}/index.html", c.id);
    let root = input.root(&path);
    let mut ctx = input.base_context(&path, "checklists", &c.title);
    let sections: Vec<Value> = c
        .sections
        .iter()
        .map(|s| {
            let closed = s.items.iter().filter(|i| i.status.is_closed()).count();
            let items: Vec<Value> = s
                .items
                .iter()
                .map(|i| {
                    json!({"text": i.text, "owner": person(p, i.owner.as_deref()), "status": status_class(i.status),
                        "status_label": i.status.label(), "critical": i.critical, "evidence": i.evidence,
                        "closed": i.status.is_closed()})
                })
                .collect();
            json!({"title": s.title, "anchor": markdown::anchor_slug(&s.title), "done": closed, "total": s.items.len(),
                "percent": percent(closed, s.items.len()), "items": items})
        })
        .collect();
    let mut summary = checklist_summary(c, &root);
    summary["sections"] = Value::Array(sections);
    ctx.insert("checklist", &summary);
    PageJob::ready(path, "checklist.html", ctx)
}

pub(super) fn guide_summary(g: &Guide, root: &str) -> Value {
    json!({"id": g.id, "title": g.title, "summary": g.summary, "kind": g.kind, "kind_label": g.kind.label(),
        "audience": g.audience, "duration": g.duration.map(crate::time::format_duration), "order": g.order,
        "href": format!("{root}training/{}/index.html", g.id)})
}

fn guide_path(g: &Guide) -> String {
    format!("training/{}/index.html", g.id)
}

fn guide(input: &SiteInput, index: usize) -> tera::Context {
    let g = &input.project.guides[index];
    let path = guide_path(g);
    let root = input.root(&path);
    let mut ctx = input.base_context(&path, "training", &g.title);
    let body = markdown::render(&g.body.markdown, &root);
    let mut view = guide_summary(g, &root);
    view["body_html"] = json!(body.html);
    view["toc"] = json!(body.toc);
    ctx.insert("guide", &view);
    ctx
}

fn page_path(pg: &Page) -> String {
    format!("pages/{}/index.html", pg.id)
}

fn page(input: &SiteInput, index: usize) -> tera::Context {
    let pg = &input.project.pages[index];
    let path = page_path(pg);
    let root = input.root(&path);
    let mut ctx = input.base_context(&path, "pages", &pg.title);
    let body = markdown::render(&pg.body.markdown, &root);
    ctx.insert("content", &json!({"id": pg.id, "title": pg.title, "summary": pg.summary, "body_html": body.html, "toc": body.toc}));
    ctx
}

fn comms_index(input: &SiteInput) -> PageJob {
    let p = input.project;
    let path = "comms/index.html";
    let root = input.root(path);
    let mut ctx = input.base_context(path, "comms", "Communications");
    let mut groups: Vec<Value> = p
        .waves
        .iter()
        .map(|w| json!({"id": w.id, "name": w.name, "go_live": time_view(&w.go_live), "messages": []}))
        .collect();
    groups.push(json!({"id": null, "name": "Project-wide", "go_live": time_view(&p.go_live), "messages": []}));
    for e in input.comms {
        let i = e
            .message
            .wave
            .as_deref()
            .and_then(|w| p.waves.iter().position(|x| x.id == w))
            .unwrap_or(p.waves.len());
        groups[i]["messages"]
            .as_array_mut()
            .expect("array")
            .push(message_summary(e, p, &root));
    }
    groups.retain(|g| !g["messages"].as_array().is_some_and(Vec::is_empty));
    let all: Vec<Value> = input
        .comms
        .iter()
        .map(|e| message_summary(e, p, &root))
        .collect();
    ctx.insert("groups", &groups);
    ctx.insert("messages", &all);
    PageJob::ready(path, "comms.html", ctx)
}

/// One page per message and wave, showing every delivery (locale, zone) of it.
fn message_pages(input: &SiteInput) -> Vec<PageJob> {
    let p = input.project;
    let mut dirs: Vec<String> = input.comms.iter().map(CommsEntry::page_dir).collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .map(|dir| {
            let mut entries: Vec<&CommsEntry> = input.comms.iter().filter(|e| e.page_dir() == dir).collect();
            // The project's own locale first: it gives the page its title.
            entries.sort_by_key(|e| (e.message.locale != p.locale, e.message.send_at.with_timezone(&Utc)));
            let first = &entries[0].message;
            let path = format!("{dir}/index.html");
            let root = input.root(&path);
            let title = entries[0].subject.clone();
            let mut ctx = input.base_context(&path, "comms", &title);
            let deliveries: Vec<Value> = entries
                .iter()
                .map(|e| {
                    let m = &e.message;
                    json!({
                        "locale": m.locale, "subject": e.subject, "send_at": time_view(&m.send_at),
                        "timezone": m.send_at.timezone().name(),
                        "recipients": m.recipients.iter().map(|r| json!({"email": r.email, "name": r.name})).collect::<Vec<_>>(),
                        "html": e.preview.html, "text": e.preview.text,
                        "eml_href": format!("{}.eml", m.delivery_key()),
                        "anchor": m.delivery_key(),
                    })
                })
                .collect();
            let wave = first.wave.as_deref().and_then(|w| p.wave(w));
            ctx.insert(
                "message",
                &json!({
                    "id": first.id, "subject": title, "audience": first.audience,
                    "wave": wave.map(|w| json!({"id": w.id, "name": w.name, "go_live": time_view(&w.go_live)})),
                    "send": p.messages[first.template].send.to_string(),
                    "deliveries": deliveries,
                    "comms_href": format!("{root}comms/index.html"),
                }),
            );
            PageJob::ready(path, "message.html", ctx)
        })
        .collect()
}

/// The job of one page, found by its path: a runbook, guide or extra page, or one of the
/// section indexes. Used by `tminus serve` to re-render only what a change touches.
pub fn page_job(input: &SiteInput, path: &str) -> Option<PageJob> {
    let p = input.project;
    let id = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("/index.html"))
            .filter(|id| !id.contains('/'))
            .map(str::to_string)
    };
    match path {
        "index.html" => return Some(dashboard(input)),
        "runbooks/index.html" => return Some(runbook_index(input)),
        "training/index.html" => return Some(super::training::training_index(input)),
        _ => {}
    }
    if let Some(id) = id("runbooks/") {
        let i = p.runbooks.iter().position(|r| r.id == id)?;
        return Some(PageJob::deferred(
            runbook_path(&p.runbooks[i]),
            "runbook.html",
            runbook,
            i,
        ));
    }
    if let Some(id) = id("training/") {
        let i = p.guides.iter().position(|g| g.id == id)?;
        return Some(PageJob::deferred(
            guide_path(&p.guides[i]),
            "guide.html",
            guide,
            i,
        ));
    }
    if let Some(id) = id("pages/") {
        let i = p.pages.iter().position(|pg| pg.id == id)?;
        return Some(PageJob::deferred(
            page_path(&p.pages[i]),
            "page.html",
            page,
            i,
        ));
    }
    None
}
