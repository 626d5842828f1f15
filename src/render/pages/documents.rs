//! Runbooks, checklists, training guides and extra pages. Markdown-heavy pages build their
//! context when written (`PageJob::deferred`).

use super::*;

pub(super) fn runbook_index(input: &SiteInput) -> PageJob {
    let p = input.project;
    let path = urls::RUNBOOKS;
    let root = input.root(path);
    let mut ctx = input.base_context(path, "runbooks", "Runbooks");
    let list: Vec<Value> = p
        .runbooks
        .iter()
        .map(|r| {
            json!({"id": r.id, "title": r.title, "summary": r.summary, "owner": person(p, r.owner.as_deref()),
                "steps": r.steps.len(), "total": crate::time::format_duration(r.total),
                "href": format!("{root}{}", urls::runbook(&r.id))})
        })
        .collect();
    ctx.insert("runbooks", &list);
    PageJob::ready(path, "runbooks.html", ctx)
}

pub(super) fn runbook(input: &SiteInput, index: usize) -> tera::Context {
    let p = input.project;
    let r = &p.runbooks[index];
    let path = urls::runbook(&r.id);
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

pub(super) fn checklist_index(input: &SiteInput) -> PageJob {
    let path = urls::CHECKLISTS;
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

pub(super) fn status_class(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Done => "done",
        ItemStatus::InProgress => "in-progress",
        ItemStatus::Open => "open",
        ItemStatus::Blocked => "blocked",
        ItemStatus::NotApplicable => "na",
    }
}

pub(super) fn checklist(input: &SiteInput, c: &Checklist) -> PageJob {
    let p = input.project;
    let path = urls::checklist(&c.id);
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

pub(super) fn guide(input: &SiteInput, index: usize) -> tera::Context {
    let g = &input.project.guides[index];
    let path = urls::guide(&g.id);
    let root = input.root(&path);
    let mut ctx = input.base_context(&path, "training", &g.title);
    let body = markdown::render(&g.body.markdown, &root);
    let mut view = crate::render::training::guide_summary(g, &root);
    view["body_html"] = json!(body.html);
    view["toc"] = json!(body.toc);
    ctx.insert("guide", &view);
    ctx
}

pub(super) fn page(input: &SiteInput, index: usize) -> tera::Context {
    let pg = &input.project.pages[index];
    let path = urls::page(&pg.id);
    let root = input.root(&path);
    let mut ctx = input.base_context(&path, "pages", &pg.title);
    let body = markdown::render(&pg.body.markdown, &root);
    ctx.insert("content", &json!({"id": pg.id, "title": pg.title, "summary": pg.summary, "body_html": body.html, "toc": body.toc}));
    ctx
}
