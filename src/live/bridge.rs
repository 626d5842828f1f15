//! The bridge update: go-live night as of now in a few lines a cutover lead reads out on a
//! bridge call — progress X of Y, status, current activity, blocked tasks with notes, next
//! steps, the forecast finish (ETA) and point of no return against the rollback deadline,
//! and the decisions. `tminus live status` prints it; the status page shows the same.

use std::fmt::Write;

use chrono::DateTime;
use chrono_tz::Tz;

use crate::plan::live::LiveState;
use crate::project::Project;

fn hm(t: &DateTime<Tz>, now: &DateTime<Tz>) -> String {
    let t = t.with_timezone(&now.timezone());
    if t.date_naive() == now.date_naive() {
        t.format("%H:%M %Z").to_string()
    } else {
        t.format("%a %e %b %H:%M %Z").to_string()
    }
}

fn minutes(m: i64) -> String {
    let (h, m) = (m.abs() / 60, m.abs() % 60);
    match (h, m) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The bridge update as text.
pub fn text(project: &Project, s: &LiveState) -> String {
    let now = &s.as_of;
    let title = |id: &str| {
        project
            .cutover
            .tasks
            .iter()
            .find(|t| t.id == id)
            .map_or(id.to_string(), |t| format!("{} ({id})", t.title))
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — go-live night as of {}",
        project.name,
        now.format("%a %e %b %Y %H:%M %Z")
    );
    let _ = writeln!(out, "Status:    {}", s.status.label().to_uppercase());
    let _ = writeln!(out, "Progress:  {} of {} tasks done", s.done, s.total);
    if let Some(f) = &s.forecast_finish {
        let delay = match s.delay_minutes {
            Some(d) if d > 0 => format!(", {} late", minutes(d)),
            Some(d) if d < 0 => format!(", {} early", minutes(d)),
            Some(_) => ", on plan".to_string(),
            None => String::new(),
        };
        let planned = s
            .planned_finish
            .as_ref()
            .map(|p| format!(" (planned {}{delay})", hm(p, now)))
            .unwrap_or_default();
        let _ = writeln!(out, "ETA:       {}{planned}", hm(f, now));
    }
    if let Some(p) = &s.forecast_point_of_no_return {
        let against = match (&s.rollback_deadline, s.slack_minutes) {
            (Some(d), Some(m)) if m >= 0 => {
                format!(
                    " — {} before the rollback deadline {}",
                    minutes(m),
                    hm(d, now)
                )
            }
            (Some(d), Some(m)) => {
                format!(
                    " — {} PAST the rollback deadline {}",
                    minutes(m),
                    hm(d, now)
                )
            }
            _ => String::new(),
        };
        let _ = writeln!(out, "Point of no return: {}{against}", hm(p, now));
    }
    let _ = writeln!(out, "\nNow:");
    if s.current.is_empty() {
        let _ = writeln!(out, "  nothing in progress");
    }
    for id in &s.current {
        if let Some(t) = s.task(id) {
            let since = t
                .actual_start
                .as_ref()
                .map(|a| hm(a, now))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} — since {since}, due {}",
                title(id),
                hm(&t.forecast_finish, now)
            );
        }
    }
    if !s.blocked.is_empty() {
        let _ = writeln!(out, "\nBlocked:");
        for id in &s.blocked {
            if let Some(t) = s.task(id) {
                let since = t
                    .blocked_since
                    .as_ref()
                    .map(|a| hm(a, now))
                    .unwrap_or_default();
                let note = t
                    .note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default();
                let _ = writeln!(out, "  {} — since {since}{note}", title(id));
            }
        }
    }
    let _ = writeln!(out, "\nNext:");
    if s.next.is_empty() {
        let _ = writeln!(out, "  nothing ready");
    }
    for id in s.next.iter().take(5) {
        if let Some(t) = s.task(id) {
            let _ = writeln!(
                out,
                "  {} — forecast {}",
                title(id),
                hm(&t.forecast_start, now)
            );
        }
    }
    if !s.decisions.is_empty() {
        let _ = writeln!(out, "\nDecisions:");
        for d in &s.decisions {
            let by =
                d.by.as_deref()
                    .map(|b| format!(" by {}", project.role_label(b)))
                    .unwrap_or_default();
            let note = d
                .note
                .as_deref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}: {} at {}{by}{note}",
                title(&d.gate),
                d.outcome,
                hm(&d.at, now)
            );
            for c in &d.conditions {
                let owner = c
                    .owner
                    .as_deref()
                    .map(|o| format!(", owner {}", project.role_label(o)))
                    .unwrap_or_default();
                let due = c
                    .due
                    .as_ref()
                    .map(|t| format!(", due {}", hm(t, now)))
                    .unwrap_or_default();
                let _ = writeln!(out, "    condition: {}{owner}{due}", c.text);
            }
        }
    }
    out
}
