//! The hypercare pages (SPEC §9): `hypercare/` — a chart per metric against its target,
//! incidents by severity with their SLA compliance, open incidents by age, the exit
//! criteria and the recommendation — and `hypercare/day-<n>/`, each day's report. All from
//! the judgment computed once per build ([`crate::plan::hypercare`]).

use chrono::NaiveDate;
use rayon::prelude::*;
use serde_json::{json, Value};

use super::{person, PageJob, SiteInput};
use crate::load::hypercare::Hypercare;
use crate::plan::hypercare::report::{day_report, exit_views, open_incidents};
use crate::plan::hypercare::{Judgment, Recommendation, State};
use crate::render::chart::metric_svg;
use crate::render::format::time_view;
use crate::time::format_duration;

pub const INDEX: &str = "hypercare/index.html";

pub fn day_path(n: u32) -> String {
    format!("hypercare/day-{n}/index.html")
}

/// Every hypercare page, when the project has hypercare.
pub(super) fn jobs(input: &SiteInput) -> Vec<PageJob> {
    let (Some(h), Some(j)) = (input.project.hypercare.as_ref(), input.hypercare) else {
        return Vec::new();
    };
    // A year of hypercare is hundreds of reports: their variables are built in parallel.
    let (first, days) = rayon::join(
        || index(input, h, j),
        || {
            (1..=h.days)
                .into_par_iter()
                .map(|n| day(input, h, j, n))
                .collect::<Vec<_>>()
        },
    );
    let mut jobs = Vec::with_capacity(days.len() + 1);
    jobs.push(first);
    jobs.extend(days);
    jobs
}

fn date(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

fn rec_class(r: Recommendation) -> &'static str {
    match r {
        Recommendation::Exit => "go",
        Recommendation::Continue => "conditional",
    }
}

/// What the dashboard and both pages say about where hypercare stands.
pub(super) fn status(h: &Hypercare, j: &Judgment) -> Value {
    json!({
        "start": date(h.start), "end": date(h.end()), "days": h.days,
        "current_day": j.current_day, "started": j.current_day.is_some(), "ended": j.ended,
        "as_of": time_view(&j.as_of.with_timezone(&h.zone)),
        "recommendation": j.recommendation.label(), "recommendation_class": rec_class(j.recommendation),
        "exit_met": j.exit.iter().filter(|c| c.met).count(), "exit_total": j.exit.len(),
    })
}

fn percent(n: usize, total: usize) -> Option<usize> {
    (total > 0).then(|| (n * 100 + total / 2) / total)
}

fn index(input: &SiteInput, h: &Hypercare, j: &Judgment) -> PageJob {
    let path = INDEX;
    let root = input.root(path);
    let mut ctx = input.base_context(path, "hypercare", "Hypercare");
    let metrics: Vec<Value> = h
        .metrics
        .iter()
        .enumerate()
        .map(|(m, metric)| {
            let values: Vec<(Option<f64>, State)> = j.days.iter().map(|d| d.metrics[m]).collect();
            let count = |s: State| values.iter().filter(|(_, st)| *st == s).count();
            let rows: Vec<Value> = j
                .days
                .iter()
                .filter(|d| d.metrics[m].0.is_some())
                .map(|d| {
                    let (v, st) = d.metrics[m];
                    json!({
                        "day": d.day, "date": date(d.date),
                        "display": crate::plan::hypercare::report::with_unit(v.unwrap_or_default(), metric.unit.as_deref()),
                        "met": st == State::Met,
                    })
                })
                .collect();
            json!({
                "id": metric.id, "label": metric.label, "unit": metric.unit,
                "target": match metric.unit.as_deref() {
                    Some(u) => format!("{} {u}", metric.target.label()),
                    None => metric.target.label(),
                },
                "svg": metric_svg(&format!("chart-{}", metric.id), metric, &values),
                "met": count(State::Met), "missed": count(State::Missed), "rows": rows,
            })
        })
        .collect();
    let severities: Vec<Value> = h
        .severities
        .iter()
        .zip(&j.severities)
        .map(|(s, st)| {
            let responded = st.response_within + st.response_breached;
            let resolved = st.resolution_within + st.resolution_breached;
            json!({
                "id": s.id, "label": s.label,
                "respond": format_duration(s.respond), "resolve": format_duration(s.resolve),
                "opened": st.opened.len(), "resolved": st.resolved.len(), "open": st.open.len(),
                "breached": st.breached.len(),
                "response_within": st.response_within, "response_judged": responded,
                "response_percent": percent(st.response_within, responded),
                "resolution_within": st.resolution_within, "resolution_judged": resolved,
                "resolution_percent": percent(st.resolution_within, resolved),
            })
        })
        .collect();
    let mut open = open_incidents(h, j);
    // By age: the oldest first.
    open.sort_by_key(|i| std::cmp::Reverse(i.age_minutes));
    let days: Vec<Value> = j
        .days
        .iter()
        .map(|d| {
            let count = |s: State| d.metrics.iter().filter(|(_, st)| *st == s).count();
            json!({
                "day": d.day, "date": date(d.date), "reached": d.reached,
                "current": j.current_day == Some(d.day) && !j.ended,
                "met": count(State::Met), "missed": count(State::Missed),
                "has_figures": d.has_figures(),
                "href": format!("{root}hypercare/day-{}/index.html", d.day),
            })
        })
        .collect();
    ctx.insert("hypercare", &status(h, j));
    ctx.insert("metrics", &metrics);
    ctx.insert("severities", &severities);
    ctx.insert("open_incidents", &open);
    ctx.insert("exit", &exit_views(h, j));
    ctx.insert("days", &days);
    ctx.insert("lead", &person(input.project, h.lead.as_deref()));
    ctx.insert("plan_href", &format!("{root}plan.json"));
    PageJob::ready(path, "hypercare.html", ctx)
}

fn day(input: &SiteInput, h: &Hypercare, j: &Judgment, n: u32) -> PageJob {
    let path = day_path(n);
    let root = input.root(&path);
    let title = format!("Hypercare day {n}");
    let mut ctx = input.base_context(&path, "hypercare", &title);
    let mut report = day_report(h, j, n);
    // The page shows the figures by group; the flat list is for comms templates.
    report.metrics = Vec::new();
    ctx.insert("hypercare", &status(h, j));
    ctx.insert("lead", &person(input.project, h.lead.as_deref()));
    ctx.insert(
        "prepared_by",
        &person(input.project, report.prepared_by.as_deref()),
    );
    ctx.insert("report", &report);
    ctx.insert("index_href", &format!("{root}{INDEX}"));
    ctx.insert(
        "previous_href",
        &(n > 1).then(|| format!("{root}{}", day_path(n - 1))),
    );
    ctx.insert(
        "next_href",
        &(n < h.days).then(|| format!("{root}{}", day_path(n + 1))),
    );
    PageJob::ready(path, "hypercare-day.html", ctx)
}

/// The dashboard's hypercare card: day N of M and the recommendation, once it started.
pub(super) fn dashboard_card(input: &SiteInput, root: &str) -> Value {
    match (input.project.hypercare.as_ref(), input.hypercare) {
        (Some(h), Some(j)) if j.current_day.is_some() => {
            let mut v = status(h, j);
            v["href"] = json!(format!("{root}{INDEX}"));
            if let Some(n) = j.current_day {
                v["day_href"] = json!(format!("{root}{}", day_path(n)));
            }
            v
        }
        _ => Value::Null,
    }
}
