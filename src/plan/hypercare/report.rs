//! The daily report of one hypercare day (the shape of the usual hypercare daily report:
//! system health against targets, incidents new / resolved / open by severity, notable
//! incidents, the other figures by group, actions and decisions, tomorrow's priorities,
//! risks), and the `hypercare` variable of comms templates. Plain serialisable values
//! made from a [`Judgment`].

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{IncidentJudgment, Judgment, Sla, State};
use crate::load::hypercare::{format_number, Hypercare};
use crate::time::format_duration;
use crate::time::stamp::rfc3339;

/// At most this many notable incidents are listed on a day's report.
const NOTABLE: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct DayReport {
    pub day: u32,
    pub days: u32,
    pub date: String,
    /// "Tue 30 Mar 2027"
    pub date_display: String,
    /// The day has begun as of the build.
    pub reached: bool,
    /// The day is the current one (its figures may still come in).
    pub current: bool,
    pub metrics: Vec<MetricFigure>,
    /// The metrics by group, in order of first appearance ("System health" first by default).
    pub groups: Vec<Group>,
    pub met: usize,
    pub missed: usize,
    pub no_data: usize,
    pub incidents: DayIncidents,
    pub notable: Vec<IncidentView>,
    /// Notable incidents left out of `notable`.
    pub notable_more: usize,
    pub summary: Option<String>,
    pub actions: Vec<String>,
    pub priorities: Vec<String>,
    pub risks: Vec<String>,
    /// Roster roles.
    pub prepared_by: Option<String>,
    pub lead: Option<String>,
    pub recommendation: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricFigure {
    pub id: String,
    pub label: String,
    pub unit: Option<String>,
    pub value: Option<f64>,
    /// "99.2 %", "—"
    pub display: String,
    /// "≥ 99 %"
    pub target: String,
    pub state: State,
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub metrics: Vec<MetricFigure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayIncidents {
    pub new: usize,
    pub resolved: usize,
    pub open: usize,
    /// Open at the end of the day (or now), per severity.
    pub open_by_severity: Vec<SeverityCount>,
    pub new_by_severity: Vec<SeverityCount>,
    /// Of the incidents resolved that day.
    pub average_resolution: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeverityCount {
    pub severity: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub opened: String,
    pub resolved: Option<String>,
    pub status: &'static str,
    /// Open: time since opened; resolved: time to resolve.
    pub age: String,
    pub age_minutes: i64,
    pub response: Sla,
    pub resolution: Sla,
    pub breached: bool,
    pub impact: Option<String>,
    pub resolution_notes: Option<String>,
}

/// `value` with its unit: `99.2 %`, `420 ms`, `3`.
pub fn with_unit(value: f64, unit: Option<&str>) -> String {
    match unit {
        Some("%") => format!("{} %", format_number(value)),
        Some(u) => format!("{} {u}", format_number(value)),
        None => format_number(value),
    }
}

/// `j` as it stood at `at` (open if resolved later); its SLAs as judged now.
pub fn incident_view(h: &Hypercare, j: &IncidentJudgment, at: DateTime<Utc>) -> IncidentView {
    let inc = &h.incidents[j.index];
    let resolved = j.resolved.filter(|r| *r <= at);
    let age = resolved.unwrap_or(at) - inc.opened;
    IncidentView {
        id: inc.id.clone(),
        title: inc.title.clone(),
        severity: h.severities[inc.severity].id.clone(),
        opened: rfc3339(&inc.opened.with_timezone(&h.zone)),
        resolved: resolved.map(|t| rfc3339(&t.with_timezone(&h.zone))),
        status: if resolved.is_none() {
            "Open"
        } else {
            "Resolved"
        },
        age: format_duration(Duration::minutes(age.num_minutes())),
        age_minutes: age.num_minutes(),
        response: j.response,
        resolution: j.resolution,
        breached: j.breached(),
        impact: inc.impact.clone(),
        resolution_notes: inc.resolution.clone(),
    }
}

/// The figures of day `n` (1-based) as judged in `j`.
pub fn metric_figures(h: &Hypercare, j: &Judgment, n: u32) -> Vec<MetricFigure> {
    let d = &j.days[n as usize - 1];
    h.metrics
        .iter()
        .zip(&d.metrics)
        .map(|(m, (value, state))| MetricFigure {
            id: m.id.clone(),
            label: m.label.clone(),
            unit: m.unit.clone(),
            value: *value,
            display: value.map_or_else(|| "—".to_string(), |v| with_unit(v, m.unit.as_deref())),
            target: match m.unit.as_deref() {
                Some(u) => format!("{} {u}", m.target.label()),
                None => m.target.label(),
            },
            state: *state,
            met: match state {
                State::Met => Some(true),
                State::Missed => Some(false),
                State::NoData => None,
            },
        })
        .collect()
}

/// The report of day `n`.
pub fn day_report(h: &Hypercare, j: &Judgment, n: u32) -> DayReport {
    let d = &j.days[n as usize - 1];
    let metrics = metric_figures(h, j, n);
    let mut groups: Vec<Group> = Vec::new();
    for (m, f) in h.metrics.iter().zip(&metrics) {
        match groups.iter_mut().find(|g| g.name == m.group) {
            Some(g) => g.metrics.push(f.clone()),
            None => groups.push(Group {
                name: m.group.clone(),
                metrics: vec![f.clone()],
            }),
        }
    }
    let count = |s: State| metrics.iter().filter(|f| f.state == s).count();
    let (met, missed, no_data) = (
        count(State::Met),
        count(State::Missed),
        count(State::NoData),
    );
    let end = j.day_end(h, n);
    let i = n as usize - 1;
    let mut new_by = vec![0usize; h.severities.len()];
    let mut resolution_total = Duration::zero();
    let mut notable: Vec<&IncidentJudgment> = Vec::new();
    for &k in &j.opened_on[i] {
        let ij = &j.incidents[k];
        let inc = &h.incidents[ij.index];
        new_by[inc.severity] += 1;
        if inc.severity < 2 || ij.breached() {
            notable.push(ij);
        }
    }
    for &k in &j.resolved_on[i] {
        let ij = &j.incidents[k];
        let inc = &h.incidents[ij.index];
        resolution_total += ij.resolved.unwrap_or(inc.opened) - inc.opened;
        if (inc.severity < 2 || ij.breached()) && ij.opened_day != n {
            notable.push(ij);
        }
    }
    let (new, resolved) = (j.opened_on[i].len(), j.resolved_on[i].len());
    let open_by = if d.reached {
        j.open_at_end[i].clone()
    } else {
        vec![0; h.severities.len()]
    };
    let open = open_by.iter().sum::<usize>();
    notable.sort_by_key(|ij| (h.incidents[ij.index].severity, h.incidents[ij.index].opened));
    let notable_more = notable.len().saturating_sub(NOTABLE);
    let notes = h.notes.iter().find(|x| x.day == n);
    let counts = |v: Vec<usize>| {
        h.severities
            .iter()
            .zip(v)
            .map(|(s, count)| SeverityCount {
                severity: s.id.clone(),
                count,
            })
            .collect()
    };
    DayReport {
        day: n,
        days: h.days,
        date: d.date.format("%Y-%m-%d").to_string(),
        date_display: d.date.format("%a %-d %b %Y").to_string(),
        reached: d.reached,
        current: j.current_day == Some(n) && !j.ended,
        metrics,
        groups,
        met,
        missed,
        no_data,
        incidents: DayIncidents {
            new,
            resolved,
            open,
            open_by_severity: counts(open_by),
            new_by_severity: counts(new_by),
            average_resolution: (resolved > 0).then(|| {
                format_duration(Duration::minutes(
                    resolution_total.num_minutes() / resolved as i64,
                ))
            }),
        },
        notable: notable
            .iter()
            .take(NOTABLE)
            .map(|ij| incident_view(h, ij, end))
            .collect(),
        notable_more,
        summary: notes.and_then(|x| x.summary.clone()),
        actions: notes.map(|x| x.actions.clone()).unwrap_or_default(),
        priorities: notes.map(|x| x.priorities.clone()).unwrap_or_default(),
        risks: notes.map(|x| x.risks.clone()).unwrap_or_default(),
        prepared_by: notes.and_then(|x| x.prepared_by.clone()),
        lead: h.lead.clone(),
        recommendation: j.recommendation.label(),
    }
}

/// The open incidents as of now, most severe first, then oldest first.
pub fn open_incidents(h: &Hypercare, j: &Judgment) -> Vec<IncidentView> {
    let mut open: Vec<&IncidentJudgment> = j.incidents.iter().filter(|i| i.is_open()).collect();
    open.sort_by_key(|ij| (h.incidents[ij.index].severity, h.incidents[ij.index].opened));
    open.iter()
        .map(|ij| incident_view(h, ij, j.as_of))
        .collect()
}

/// The `hypercare` variable of comms templates: the latest day's report (figures, their
/// status, incidents), the open incidents, the exit criteria and the recommendation.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateValue {
    pub as_of: String,
    pub started: bool,
    pub ended: bool,
    /// The latest day with figures (else now's day); null before hypercare starts.
    pub day: Option<u32>,
    pub days: u32,
    pub latest: Option<DayReport>,
    pub open_incidents: Vec<IncidentView>,
    pub recommendation: &'static str,
    pub exit: Vec<ExitView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExitView {
    pub label: String,
    pub met: bool,
    pub reason: String,
}

/// "Uptime ≥ 99 % on each of the last 7 days with figures", "At most 0 P1 incidents…".
pub fn criterion_label(h: &Hypercare, c: &crate::load::hypercare::Criterion) -> String {
    use crate::load::hypercare::CriterionKind;
    match &c.kind {
        CriterionKind::Metric(m) => {
            let m = &h.metrics[*m];
            let target = match m.unit.as_deref() {
                Some(u) => format!("{} {u}", m.target.label()),
                None => m.target.label(),
            };
            format!(
                "{} {target} on each of the last {} days with figures",
                m.label, c.over
            )
        }
        CriterionKind::Incidents { severities, max } => {
            let names: Vec<&str> = severities
                .iter()
                .map(|&s| h.severities[s].id.as_str())
                .collect();
            let what = if *max == 0 {
                format!("No {} incidents", names.join("/"))
            } else {
                format!(
                    "At most {max} {} incident{}",
                    names.join("/"),
                    if *max == 1 { "" } else { "s" }
                )
            };
            format!("{what} opened in the last {} days with figures", c.over)
        }
    }
}

pub fn exit_views(h: &Hypercare, j: &Judgment) -> Vec<ExitView> {
    j.exit
        .iter()
        .map(|c| ExitView {
            label: criterion_label(h, &h.exit[c.index]),
            met: c.met,
            reason: c.reason.clone(),
        })
        .collect()
}

pub fn template_value(h: &Hypercare, j: &Judgment) -> TemplateValue {
    // The latest day with figures; now's day when none has any yet.
    let day = j
        .days
        .iter()
        .rev()
        .find(|d| d.reached && d.has_figures())
        .map(|d| d.day)
        .or(j.latest_day());
    TemplateValue {
        as_of: rfc3339(&j.as_of.with_timezone(&h.zone)),
        started: day.is_some(),
        ended: j.ended,
        day,
        days: h.days,
        latest: day.map(|n| day_report(h, j, n)),
        open_incidents: open_incidents(h, j),
        recommendation: j.recommendation.label(),
        exit: exit_views(h, j),
    }
}

/// `plan.json`'s `hypercare` (SPEC §9).
#[derive(Debug, Serialize)]
pub struct PlanItem<'a> {
    pub as_of: String,
    pub start: String,
    pub end: String,
    pub length: u32,
    /// The day now falls on; null before hypercare starts.
    pub current_day: Option<u32>,
    pub ended: bool,
    pub days: Vec<PlanDay<'a>>,
    /// Per severity: incident ids.
    pub incidents: std::collections::BTreeMap<&'a str, PlanSeverity<'a>>,
    pub exit: Vec<PlanCriterion<'a>>,
    pub recommendation: &'static str,
}

#[derive(Debug, Serialize)]
pub struct PlanDay<'a> {
    pub day: u32,
    pub date: String,
    pub metrics: std::collections::BTreeMap<&'a str, PlanFigure>,
}

#[derive(Debug, Serialize)]
pub struct PlanFigure {
    pub value: Option<f64>,
    /// null: no data.
    pub met: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct PlanSeverity<'a> {
    pub respond_minutes: i64,
    pub resolve_minutes: i64,
    pub opened: Vec<&'a str>,
    pub resolved: Vec<&'a str>,
    pub open: Vec<&'a str>,
    pub breached: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct PlanCriterion<'a> {
    pub criterion: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incidents: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    pub over_days: u32,
    /// The days judged.
    pub days: Vec<u32>,
    pub met: bool,
    pub reason: String,
}

pub fn plan_item<'a>(h: &'a Hypercare, j: &Judgment) -> PlanItem<'a> {
    use crate::load::hypercare::CriterionKind;
    let ids = |v: &[usize]| -> Vec<&'a str> {
        v.iter()
            .map(|&k| h.incidents[j.incidents[k].index].id.as_str())
            .collect()
    };
    PlanItem {
        as_of: rfc3339(&j.as_of.with_timezone(&h.zone)),
        start: h.start.to_string(),
        end: h.end().to_string(),
        length: h.days,
        current_day: j.current_day,
        ended: j.ended,
        days: j
            .days
            .iter()
            .map(|d| PlanDay {
                day: d.day,
                date: d.date.to_string(),
                metrics: h
                    .metrics
                    .iter()
                    .zip(&d.metrics)
                    .map(|(m, (value, state))| {
                        let met = match state {
                            State::Met => Some(true),
                            State::Missed => Some(false),
                            State::NoData => None,
                        };
                        (m.id.as_str(), PlanFigure { value: *value, met })
                    })
                    .collect(),
            })
            .collect(),
        incidents: h
            .severities
            .iter()
            .zip(&j.severities)
            .map(|(s, st)| {
                (
                    s.id.as_str(),
                    PlanSeverity {
                        respond_minutes: s.respond.num_minutes(),
                        resolve_minutes: s.resolve.num_minutes(),
                        opened: ids(&st.opened),
                        resolved: ids(&st.resolved),
                        open: ids(&st.open),
                        breached: ids(&st.breached),
                    },
                )
            })
            .collect(),
        exit: j
            .exit
            .iter()
            .map(|c| {
                let crit = &h.exit[c.index];
                let (metric, incidents, max) = match &crit.kind {
                    CriterionKind::Metric(m) => (Some(h.metrics[*m].id.as_str()), None, None),
                    CriterionKind::Incidents { severities, max } => (
                        None,
                        Some(
                            severities
                                .iter()
                                .map(|&s| h.severities[s].id.as_str())
                                .collect(),
                        ),
                        Some(*max),
                    ),
                };
                PlanCriterion {
                    criterion: criterion_label(h, crit),
                    metric,
                    incidents,
                    max,
                    over_days: crit.over,
                    days: c.days.clone(),
                    met: c.met,
                    reason: c.reason.clone(),
                }
            })
            .collect(),
        recommendation: j.recommendation.label(),
    }
}
