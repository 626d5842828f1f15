//! The page of each kind, each as a [`PageJob`] with its template variables: the list of
//! every page ([`jobs`], [`document_job`]) and the small views several pages share. One module
//! per kind of page: `dashboard`, `cutover` (plan and run sheets), `documents` (runbooks,
//! checklists, guides, extra pages) and `comms`; training lives in `super::training`.

mod comms;
mod cutover;
mod dashboard;
mod delivery;
mod documents;
mod hypercare;
mod live;

use comms::{comms_index, message_pages};
use cutover::{cutover, run_sheets};
use dashboard::dashboard;
use documents::{checklist, checklist_index, guide, page, runbook, runbook_index};

use chrono::Utc;
use serde_json::{json, Value};

use super::format::{duration, time_view};
use super::{CommsEntry, PageJob, SiteInput};
use crate::markdown;
use crate::model::checklist::{ItemStatus, Recommendation};
use crate::model::cutover::TaskKind;
use crate::plan::cutover::rollback_window;
use crate::project::{Checklist, Project};
use crate::urls;

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
    jobs.extend((0..p.runbooks.len()).map(|i| document_job(input, Document::Runbook(i))));
    jobs.extend(p.checklists.iter().map(|c| checklist(input, c)));
    jobs.extend((0..p.guides.len()).map(|i| document_job(input, Document::Guide(i))));
    jobs.extend((0..p.pages.len()).map(|i| document_job(input, Document::Page(i))));
    jobs.extend(message_pages(input));
    jobs.extend(run_sheets(input));
    jobs.extend(super::rehearsal::jobs(input));
    jobs.extend(hypercare::jobs(input));
    jobs.extend(live::status_page(input));
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
        "href": format!("{root}{}", urls::checklist(&c.id)),
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
        "href": format!("{root}{}", urls::message(&m.id, m.wave.as_deref())),
    })
}

/// A Markdown document of the project, by its index in the project's list: the pages
/// `tminus serve` re-renders alone when only a document's body changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Runbook(usize),
    Guide(usize),
    Page(usize),
}

/// The job of a document's page (its context is built when the page is written).
pub fn document_job(input: &SiteInput, document: Document) -> PageJob {
    let p = input.project;
    match document {
        Document::Runbook(i) => {
            PageJob::deferred(urls::runbook(&p.runbooks[i].id), "runbook.html", runbook, i)
        }
        Document::Guide(i) => {
            PageJob::deferred(urls::guide(&p.guides[i].id), "guide.html", guide, i)
        }
        Document::Page(i) => PageJob::deferred(urls::page(&p.pages[i].id), "page.html", page, i),
    }
}
