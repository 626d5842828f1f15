//! The page of each kind, each as a [`PageJob`] with its template variables: the list of
//! every page ([`jobs`], [`page_job`]) and the small views several pages share. One module
//! per kind of page: `dashboard`, `cutover` (plan and run sheets), `documents` (runbooks,
//! checklists, guides, extra pages) and `comms`; training lives in `super::training`.

mod comms;
mod cutover;
mod dashboard;
mod delivery;
mod documents;
mod hypercare;

use comms::{comms_index, message_pages};
use cutover::{cutover, run_sheets};
use dashboard::dashboard;
pub(super) use documents::guide_summary;
use documents::{
    checklist, checklist_index, guide, guide_path, page, page_path, runbook, runbook_index,
    runbook_path,
};

use chrono::Utc;
use serde_json::{json, Value};

use super::format::{duration, time_view};
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
    jobs.extend(hypercare::jobs(input));
    jobs
}

fn person(p: &Project, role: Option<&str>) -> Value {
    match role {
        Some(role) => match p.person(role) {
            Some(r) => {
                json!({"role": role, "role_label": p.role_label(role), "name": r.name, "email": r.email, "phone": r.phone})
            }
            None => json!({"role": role, "role_label": p.role_label(role)}),
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
