//! `content/hypercare.yaml` and its CSVs → a validated [`Hypercare`] (SPEC §9).
//!
//! Owns reading the daily figures (a CSV with a `date` column and one column per metric,
//! or an inline list) and the incidents CSV (its header mapped by name, case-insensitively,
//! with the usual names ticket tools export), and every located error: a bad cell (CSV line
//! and column), a date outside the hypercare period, an unknown metric or severity, a
//! target or duration that does not parse. Judging the figures is `plan::hypercare`'s job.

use std::collections::HashMap;
use std::path::Path;

use chrono::{Duration, NaiveDate, Utc};

use super::Checker;
use crate::diagnostics::Diagnostics;
use crate::model::hypercare::{Cell, DailySource, HypercareFile, IncidentsSource};
pub use crate::project::hypercare::*;
use crate::project::Project;
use crate::source::yaml::{self, index, join};
use crate::source::SourceFile;
use crate::time::TimeSpec;
pub use csv::parse_time;
use csv::{
    daily_csv, incidents_csv, outside, parse_date, read_csv, DATE_HINT, FIELDS, OUTSIDE_PERIOD,
};

/// Reads `content/hypercare.yaml` when it exists.
pub fn load(root: &Path, project: &Project, diags: &mut Diagnostics) -> Option<Hypercare> {
    let rel = Path::new("content/hypercare.yaml");
    if !root.join(rel).is_file() {
        return None;
    }
    let file = SourceFile::read(root, rel)
        .map_err(|d| diags.push(d))
        .ok()?;
    let parsed = yaml::parse::<HypercareFile>(&file, &file.text, 1, diags)?;
    let mut own = Diagnostics::new();
    let mut c = Checker {
        file: &file,
        spans: &parsed.spans,
        diags: &mut own,
    };
    let hypercare = from_file(root, &mut c, project, parsed.value);
    for d in own.into_sorted() {
        // project.yaml did not parse: T-0, and so the period, are stand-ins, and every
        // figure would be "outside" it (its own errors say what is wrong).
        if project.references_unknown && d.message.contains(OUTSIDE_PERIOD) {
            continue;
        }
        diags.push(d);
    }
    hypercare
}

fn from_file(
    root: &Path,
    c: &mut Checker,
    project: &Project,
    f: HypercareFile,
) -> Option<Hypercare> {
    let zone = project.zone;
    let start = match f.start.as_deref() {
        None => (project.go_live + Duration::days(1)).date_naive(),
        Some(text) => match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                let spec = c.time_spec("start", text)?;
                match spec {
                    TimeSpec::Absolute(_) => spec.resolve(Utc::now(), zone).date_naive(),
                    _ => spec
                        .resolve(project.go_live.with_timezone(&Utc), zone)
                        .date_naive(),
                }
            }
        },
    };
    let days = f.days.unwrap_or(30);
    if days == 0 || days > 3660 {
        c.error(
            "days",
            format!("hypercare cannot last {days} days"),
            "give the length in days, from 1 (30 is usual)",
        );
        return None;
    }
    if start
        .checked_add_signed(Duration::days(i64::from(days) + 1))
        .is_none()
    {
        c.error(
            "start",
            format!("hypercare cannot start on {start}: its days would run past the calendar"),
            "give the first day of hypercare, e.g. `T+1d` or `2027-03-30`",
        );
        return None;
    }
    if let Some(lead) = &f.lead {
        c.owner("lead", lead, project);
    }
    let mut metrics = Vec::with_capacity(f.metrics.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, m) in f.metrics.iter().enumerate() {
        let at = index("metrics", i);
        c.id(&join(&at, "id"), &m.id, "metric");
        if m.id.eq_ignore_ascii_case("date") {
            c.error(
                &join(&at, "id"),
                "`date` cannot be a metric id: it is the daily figures' date column",
                "call the metric something else",
            );
        }
        if seen.insert(&m.id, i).is_some() {
            c.error(
                &join(&at, "id"),
                format!("metric `{}` is defined twice", m.id),
                "give each metric its own id",
            );
        }
        let Some(target) = Target::parse(&m.target) else {
            c.error(
                &join(&at, "target"),
                format!("`{}` is not a target", m.target),
                "write a comparison and a number: `>= 99`, `<= 1`, `> 90`, `< 500` or `= 0`",
            );
            continue;
        };
        metrics.push(super::hypercare::Metric {
            id: m.id.clone(),
            label: m.label.clone(),
            unit: m.unit.clone(),
            target,
            group: m.group.clone().unwrap_or_else(|| "System health".into()),
        });
    }
    let mut severities = Vec::with_capacity(f.severities.len());
    for (id, s) in &f.severities {
        let at = join("severities", id);
        let respond = c.duration(&join(&at, "respond"), &s.respond);
        let resolve = c.duration(&join(&at, "resolve"), &s.resolve);
        if let (Some(respond), Some(resolve)) = (respond, resolve) {
            severities.push(Severity {
                id: id.clone(),
                label: s.label.clone(),
                respond,
                resolve,
            });
        }
    }
    let mut h = Hypercare {
        start,
        days,
        zone,
        lead: f.lead.clone(),
        metrics,
        figures: vec![Vec::new(); days as usize],
        incidents: Vec::new(),
        severities,
        exit: Vec::new(),
        notes: Vec::new(),
    };
    let n_metrics = h.metrics.len();
    for row in &mut h.figures {
        *row = vec![None; n_metrics];
    }
    match &f.daily {
        Some(DailySource::File(path)) => {
            if let Some(csv) = read_csv(root, c, "daily", path) {
                daily_csv(c.diags, &csv, &mut h);
            }
        }
        Some(DailySource::Inline(rows)) => daily_inline(c, rows, &mut h),
        None => {}
    }
    if let Some(src) = &f.incidents {
        if let Some(csv) = read_csv(root, c, "incidents", src.file()) {
            let columns = match src {
                IncidentsSource::Mapped(m) => m.columns.clone(),
                IncidentsSource::File(_) => Default::default(),
            };
            for field in columns.keys() {
                if !FIELDS.iter().any(|(f, _)| f == field) {
                    c.error(
                        &join("incidents.columns", field),
                        format!("`{field}` is not an incident column"),
                        format!(
                            "the columns are {}",
                            FIELDS
                                .iter()
                                .map(|(f, _)| *f)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
            h.incidents = incidents_csv(c, &csv, &columns, &h);
        }
    }
    criteria(c, &f, &mut h);
    for (i, n) in f.notes.iter().enumerate() {
        let at = index("notes", i);
        if n.day == 0 || n.day > days {
            c.error(
                &join(&at, "day"),
                format!("day {} is outside hypercare (days 1 to {days})", n.day),
                "number the days from 1, the first day of hypercare",
            );
            continue;
        }
        if let Some(role) = &n.prepared_by {
            c.owner(&join(&at, "prepared_by"), role, project);
        }
        h.notes.push(DayNotes {
            day: n.day,
            summary: n.summary.clone(),
            actions: n.actions.clone(),
            priorities: n.priorities.clone(),
            risks: n.risks.clone(),
            prepared_by: n.prepared_by.clone(),
        });
    }
    Some(h)
}

fn criteria(c: &mut Checker, f: &HypercareFile, h: &mut Hypercare) {
    for (i, e) in f.exit.iter().enumerate() {
        let at = index("exit", i);
        let over = match c.duration(&join(&at, "over"), &e.over) {
            Some(d) if d.num_seconds() > 0 && d.num_seconds() % 86_400 == 0 => {
                (d.num_days() as u32).min(h.days)
            }
            Some(_) => {
                c.error(
                    &join(&at, "over"),
                    format!("`{}` is not a whole number of days", e.over),
                    "criteria are judged on whole days: write `7d` or `1w`",
                );
                continue;
            }
            None => continue,
        };
        let kind = match (&e.metric, &e.incidents) {
            (Some(m), None) => {
                if e.max.is_some() {
                    c.error(
                        &join(&at, "max"),
                        "`max` counts incidents; a metric criterion has none",
                        "a metric criterion is met when every day meets the metric's target",
                    );
                }
                let known: Vec<&str> = h.metrics.iter().map(|m| m.id.as_str()).collect();
                if !c.reference(&join(&at, "metric"), "metric", m, &known) {
                    continue;
                }
                CriterionKind::Metric(known.iter().position(|k| k == m).unwrap_or(0))
            }
            (None, Some(sevs)) => {
                let known: Vec<&str> = h.severities.iter().map(|s| s.id.as_str()).collect();
                let mut idx = Vec::new();
                for s in sevs {
                    if c.reference(&join(&at, "incidents"), "severity", s, &known) {
                        idx.extend(known.iter().position(|k| k == s));
                    }
                }
                if idx.len() != sevs.len() {
                    continue;
                }
                CriterionKind::Incidents {
                    severities: idx,
                    max: e.max.unwrap_or(0),
                }
            }
            _ => {
                c.error(
                    &at,
                    "an exit criterion names either a `metric` or `incidents`",
                    "write `{ metric: uptime, over: 7d }` or `{ incidents: P1, over: 7d, max: 0 }`",
                );
                continue;
            }
        };
        h.exit.push(Criterion { kind, over });
    }
}

fn daily_inline(
    c: &mut Checker,
    rows: &[std::collections::BTreeMap<String, Cell>],
    h: &mut Hypercare,
) {
    let mut seen: HashMap<NaiveDate, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let at = index("daily", i);
        let Some(Cell(Some(dtext))) = row.get("date") else {
            c.error(&at, "this day has no `date`", DATE_HINT);
            continue;
        };
        let Some(date) = parse_date(dtext) else {
            c.error(
                &join(&at, "date"),
                format!("`{dtext}` is not a date"),
                DATE_HINT,
            );
            continue;
        };
        let Some(day) = h.day_of(date) else {
            let (m, hint) = outside(h, date);
            c.error(&join(&at, "date"), m, hint);
            continue;
        };
        if seen.insert(date, i).is_some() {
            c.error(
                &join(&at, "date"),
                format!("{date} is listed twice"),
                "keep one entry per day",
            );
            continue;
        }
        for (key, Cell(value)) in row {
            if key == "date" {
                continue;
            }
            let known: Vec<&str> = h.metrics.iter().map(|m| m.id.as_str()).collect();
            let Some(m) = known.iter().position(|k| k == key) else {
                c.reference(&join(&at, key), "metric", key, &known);
                continue;
            };
            let Some(text) = value else { continue };
            match number(text) {
                Some(v) => h.figures[day as usize - 1][m] = Some(v),
                None => c.error(
                    &join(&at, key),
                    format!("`{text}` is not a number"),
                    "write a number such as 99.2; leave it out for no data",
                ),
            }
        }
    }
}

mod csv;
#[cfg(test)]
mod tests;
