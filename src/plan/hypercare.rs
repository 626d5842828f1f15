//! Hypercare judgments (SPEC §9), as of an instant `now`: each day's figure per metric is
//! **met**, **missed** or has **no data**; each incident's response and resolution are
//! within target or **breached** (one not yet responded to or resolved is judged against
//! now); each exit criterion is met or not, and together they recommend **EXIT** or
//! **CONTINUE**. Pure functions of the loaded [`Hypercare`] and `now`, computed once per
//! build; the pages, `plan.json` and the comms templates read the result.
//!
//! Replay (`--now`): figures of days after now's date, incidents opened after now, and
//! responses or resolutions after now are not known yet.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::load::hypercare::{CriterionKind, Hypercare};

pub mod report;

/// Where hypercare stands as of [`Judgment::as_of`].
#[derive(Debug, Clone)]
pub struct Judgment {
    pub as_of: DateTime<Utc>,
    /// The day now falls on (1-based), clamped to the period; `None` before day 1.
    pub current_day: Option<u32>,
    /// Now is past the last day.
    pub ended: bool,
    pub days: Vec<Day>,
    /// Incidents opened by now, in the order of the file.
    pub incidents: Vec<IncidentJudgment>,
    /// Per severity, in the order of hypercare.yaml.
    pub severities: Vec<SeverityStats>,
    /// Per day (day 1 first): the incidents opened and resolved that day (indexes into
    /// `incidents`), and how many were open at its end (or now) per severity.
    pub opened_on: Vec<Vec<usize>>,
    pub resolved_on: Vec<Vec<usize>>,
    pub open_at_end: Vec<Vec<usize>>,
    pub exit: Vec<CriterionJudgment>,
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Recommendation {
    #[serde(rename = "EXIT")]
    Exit,
    #[serde(rename = "CONTINUE")]
    Continue,
}

impl Recommendation {
    pub fn label(self) -> &'static str {
        match self {
            Recommendation::Exit => "EXIT",
            Recommendation::Continue => "CONTINUE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Met,
    Missed,
    NoData,
}

#[derive(Debug, Clone)]
pub struct Day {
    pub day: u32,
    pub date: NaiveDate,
    /// The day has begun by now (its figures count).
    pub reached: bool,
    /// Per metric: the figure known by now and its state.
    pub metrics: Vec<(Option<f64>, State)>,
}

impl Day {
    pub fn has_figures(&self) -> bool {
        self.metrics.iter().any(|(v, _)| v.is_some())
    }
}

/// An SLA (response or resolution) of one incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sla {
    /// Done within its target.
    Within,
    /// Done late, or not done and already past its target.
    Breached,
    /// Not done yet, still within its target.
    Pending,
}

#[derive(Debug, Clone)]
pub struct IncidentJudgment {
    /// Index into [`Hypercare::incidents`].
    pub index: usize,
    /// The response known by now (a resolution counts as one when no response is recorded).
    pub responded: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
    pub response: Sla,
    pub resolution: Sla,
    /// The hypercare day it was opened on (the loader keeps incidents inside the period).
    pub opened_day: u32,
    /// The day it was resolved on, when resolved by now (past the last day: `days + 1`).
    pub resolved_day: Option<u32>,
}

impl IncidentJudgment {
    pub fn breached(&self) -> bool {
        self.response == Sla::Breached || self.resolution == Sla::Breached
    }
    pub fn is_open(&self) -> bool {
        self.resolved.is_none()
    }
}

/// One severity's incidents: indexes into [`Judgment::incidents`].
#[derive(Debug, Clone, Default)]
pub struct SeverityStats {
    pub opened: Vec<usize>,
    pub resolved: Vec<usize>,
    pub open: Vec<usize>,
    pub breached: Vec<usize>,
    pub response_within: usize,
    pub response_breached: usize,
    pub resolution_within: usize,
    pub resolution_breached: usize,
}

#[derive(Debug, Clone)]
pub struct CriterionJudgment {
    /// Index into [`Hypercare::exit`].
    pub index: usize,
    pub met: bool,
    /// The days judged (the last `over` with figures), oldest first.
    pub days: Vec<u32>,
    /// Metric criterion: the judged days that missed; incidents: the ids counted.
    pub missed_days: Vec<u32>,
    pub counted: Vec<usize>,
    /// Why, in a sentence.
    pub reason: String,
}

/// Judges `h` as of `now`.
pub fn judge(h: &Hypercare, now: DateTime<Utc>) -> Judgment {
    let today = now.with_timezone(&h.zone).date_naive();
    let current_day = if today < h.start {
        None
    } else {
        Some(((today - h.start).num_days() + 1).min(i64::from(h.days)) as u32)
    };
    let ended = today > h.end();
    let days: Vec<Day> = (1..=h.days)
        .map(|n| {
            let date = h.date_of(n);
            let reached = date <= today;
            let metrics = h
                .metrics
                .iter()
                .enumerate()
                .map(|(m, metric)| {
                    let value = if reached {
                        h.figures[n as usize - 1][m]
                    } else {
                        None
                    };
                    let state = match value {
                        Some(v) if metric.target.met(v) => State::Met,
                        Some(_) => State::Missed,
                        None => State::NoData,
                    };
                    (value, state)
                })
                .collect();
            Day {
                day: n,
                date,
                reached,
                metrics,
            }
        })
        .collect();
    let known = |t: Option<DateTime<Utc>>| t.filter(|t| *t <= now);
    let sla = |done: Option<DateTime<Utc>>, opened: DateTime<Utc>, target: Duration| match done {
        Some(t) if t - opened <= target => Sla::Within,
        Some(_) => Sla::Breached,
        None if now - opened > target => Sla::Breached,
        None => Sla::Pending,
    };
    let mut severities = vec![SeverityStats::default(); h.severities.len()];
    let mut incidents = Vec::with_capacity(h.incidents.len());
    let n = h.days as usize;
    let (mut opened_on, mut resolved_on) = (vec![Vec::new(); n], vec![Vec::new(); n]);
    // change[d][s]: incidents of severity s opened on day d minus those resolved on day d.
    let mut change = vec![vec![0i64; h.severities.len()]; n + 2];
    for (index, inc) in h.incidents.iter().enumerate() {
        if inc.opened > now {
            continue;
        }
        let sev = &h.severities[inc.severity];
        let resolved = known(inc.resolved);
        let responded = known(inc.responded).or(resolved);
        let j = IncidentJudgment {
            index,
            responded,
            resolved,
            response: sla(responded, inc.opened, sev.respond),
            resolution: sla(resolved, inc.opened, sev.resolve),
            opened_day: day_number(h, inc.opened),
            resolved_day: resolved.map(|t| day_number(h, t)),
        };
        let k = incidents.len();
        let d = j.opened_day as usize;
        opened_on[d - 1].push(k);
        change[d][inc.severity] += 1;
        if let Some(r) = j.resolved_day {
            let r = r as usize;
            if r <= h.days as usize {
                resolved_on[r - 1].push(k);
            }
            change[r.min(h.days as usize + 1)][inc.severity] -= 1;
        }
        let s = &mut severities[inc.severity];
        s.opened.push(k);
        if j.is_open() {
            s.open.push(k);
        } else {
            s.resolved.push(k);
        }
        if j.breached() {
            s.breached.push(k);
        }
        match j.response {
            Sla::Within => s.response_within += 1,
            Sla::Breached => s.response_breached += 1,
            Sla::Pending => {}
        }
        match j.resolution {
            Sla::Within => s.resolution_within += 1,
            Sla::Breached => s.resolution_breached += 1,
            Sla::Pending => {}
        }
        incidents.push(j);
    }
    let mut open_at_end = Vec::with_capacity(n);
    let mut open = vec![0i64; h.severities.len()];
    for day in change.iter().skip(1).take(n) {
        for (o, c) in open.iter_mut().zip(day) {
            *o += c;
        }
        open_at_end.push(open.iter().map(|&o| o.max(0) as usize).collect());
    }
    let exit: Vec<CriterionJudgment> = h
        .exit
        .iter()
        .enumerate()
        .map(|(index, c)| criterion(h, &days, &incidents, index, c))
        .collect();
    let recommendation = if !exit.is_empty() && exit.iter().all(|c| c.met) {
        Recommendation::Exit
    } else {
        Recommendation::Continue
    };
    Judgment {
        as_of: now,
        current_day,
        ended,
        days,
        incidents,
        severities,
        opened_on,
        resolved_on,
        open_at_end,
        exit,
        recommendation,
    }
}

/// The hypercare day of `t`, clamped to 1..=days + 1.
fn day_number(h: &Hypercare, t: DateTime<Utc>) -> u32 {
    let date = t.with_timezone(&h.zone).date_naive();
    ((date - h.start).num_days() + 1).clamp(1, i64::from(h.days) + 1) as u32
}

fn criterion(
    h: &Hypercare,
    days: &[Day],
    incidents: &[IncidentJudgment],
    index: usize,
    c: &crate::load::hypercare::Criterion,
) -> CriterionJudgment {
    let over = c.over as usize;
    let mut out = CriterionJudgment {
        index,
        met: false,
        days: Vec::new(),
        missed_days: Vec::new(),
        counted: Vec::new(),
        reason: String::new(),
    };
    match &c.kind {
        CriterionKind::Metric(m) => {
            let with: Vec<&Day> = days.iter().filter(|d| d.metrics[*m].0.is_some()).collect();
            let judged = &with[with.len().saturating_sub(over)..];
            out.days = judged.iter().map(|d| d.day).collect();
            out.missed_days = judged
                .iter()
                .filter(|d| d.metrics[*m].1 == State::Missed)
                .map(|d| d.day)
                .collect();
            let label = &h.metrics[*m].label;
            if judged.len() < over {
                out.reason = format!(
                    "only {} day{} of figures for {label} so far; {over} needed",
                    judged.len(),
                    plural(judged.len())
                );
            } else if out.missed_days.is_empty() {
                out.met = true;
                out.reason =
                    format!("{label} met its target on each of the last {over} days with figures");
            } else {
                out.reason = format!(
                    "{label} missed its target on {} of the last {over} days with figures",
                    out.missed_days.len()
                );
            }
        }
        CriterionKind::Incidents { severities, max } => {
            let with: Vec<&Day> = days.iter().filter(|d| d.has_figures()).collect();
            let judged = &with[with.len().saturating_sub(over)..];
            out.days = judged.iter().map(|d| d.day).collect();
            let names: Vec<&str> = severities
                .iter()
                .map(|&s| h.severities[s].id.as_str())
                .collect();
            let names = names.join("/");
            // From the first judged day up to now, so an incident opened today counts too
            // (every judged incident was opened by now).
            let from = judged.first().map(|d| d.day);
            out.counted = incidents
                .iter()
                .enumerate()
                .filter(|(_, j)| {
                    severities.contains(&h.incidents[j.index].severity)
                        && from.is_some_and(|f| j.opened_day >= f)
                })
                .map(|(k, _)| k)
                .collect();
            let n = out.counted.len();
            if judged.len() < over {
                out.reason = format!(
                    "only {} day{} of figures so far; {over} needed",
                    judged.len(),
                    plural(judged.len())
                );
            } else if n as u32 <= *max {
                out.met = true;
                out.reason = format!(
                    "{n} {names} incident{} opened in the last {over} days with figures (at most {max})",
                    plural(n)
                );
            } else {
                out.reason = format!(
                    "{n} {names} incident{} opened in the last {over} days with figures; at most {max} allowed",
                    plural(n)
                );
            }
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl Judgment {
    /// The latest day with its figures: now's day, or the last day once hypercare ended;
    /// `None` before it started.
    pub fn latest_day(&self) -> Option<u32> {
        self.current_day
    }

    /// The end of day `n` as far as now knows: the next midnight, or now if earlier.
    pub fn day_end(&self, h: &Hypercare, n: u32) -> DateTime<Utc> {
        let next = h.date_of(n) + Duration::days(1);
        let midnight =
            crate::time::local_to_instant(next.and_hms_opt(0, 0, 0).unwrap_or_default(), h.zone)
                .with_timezone(&Utc);
        midnight.min(self.as_of)
    }
}

#[cfg(test)]
mod tests;
