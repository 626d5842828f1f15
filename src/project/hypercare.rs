//! The validated hypercare plan and its figures (`content/hypercare.yaml` and its CSVs,
//! read and checked by `load::hypercare`, which re-exports these types; judged by
//! `plan::hypercare`). Here, with the rest of the validated project, so that `project`
//! does not depend on `load`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// The validated hypercare plan and its figures.
#[derive(Debug, Clone)]
pub struct Hypercare {
    /// Day 1.
    pub start: NaiveDate,
    pub days: u32,
    /// The project zone: dates and times of the CSVs are local to it.
    pub zone: Tz,
    /// Roster role leading hypercare.
    pub lead: Option<String>,
    pub metrics: Vec<Metric>,
    /// `figures[day - 1][metric]`: the value recorded, if any.
    pub figures: Vec<Vec<Option<f64>>>,
    pub incidents: Vec<Incident>,
    pub severities: Vec<Severity>,
    pub exit: Vec<Criterion>,
    pub notes: Vec<DayNotes>,
}

impl Hypercare {
    /// The date of day `n` (1-based).
    pub fn date_of(&self, day: u32) -> NaiveDate {
        self.start + Duration::days(i64::from(day) - 1)
    }

    /// The day number of `date`, when it is inside the period.
    pub fn day_of(&self, date: NaiveDate) -> Option<u32> {
        let n = (date - self.start).num_days() + 1;
        (1..=i64::from(self.days)).contains(&n).then_some(n as u32)
    }

    pub fn end(&self) -> NaiveDate {
        self.date_of(self.days)
    }
}

#[derive(Debug, Clone)]
pub struct Metric {
    pub id: String,
    pub label: String,
    pub unit: Option<String>,
    pub target: Target,
    /// The daily report's section.
    pub group: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
}

/// `>= 99`: a comparison and a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub op: Op,
    pub value: f64,
}

impl Target {
    pub fn parse(text: &str) -> Option<Target> {
        let t = text.trim();
        let (op, rest) = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("≥", Op::Ge),
            ("≤", Op::Le),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("==", Op::Eq),
            ("=", Op::Eq),
        ]
        .iter()
        .find_map(|(s, op)| t.strip_prefix(s).map(|r| (*op, r)))?;
        let value = number(rest)?;
        Some(Target { op, value })
    }

    pub fn met(&self, v: f64) -> bool {
        match self.op {
            Op::Ge => v >= self.value,
            Op::Le => v <= self.value,
            Op::Gt => v > self.value,
            Op::Lt => v < self.value,
            Op::Eq => (v - self.value).abs() < 1e-9,
        }
    }

    /// `≥ 99`.
    pub fn label(&self) -> String {
        let op = match self.op {
            Op::Ge => "≥",
            Op::Le => "≤",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Eq => "=",
        };
        format!("{op} {}", format_number(self.value))
    }
}

/// `99.5`, `0`, `1250`: no trailing zeros.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A figure as written: `99.2`, `99.2%`, `1,250`.
pub(crate) fn number(text: &str) -> Option<f64> {
    let t = text.trim().trim_end_matches('%').trim().replace(',', "");
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[derive(Debug, Clone)]
pub struct Incident {
    pub id: String,
    pub title: String,
    /// Index into [`Hypercare::severities`].
    pub severity: usize,
    pub opened: DateTime<Utc>,
    pub responded: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
    pub impact: Option<String>,
    pub resolution: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Severity {
    pub id: String,
    pub label: Option<String>,
    pub respond: Duration,
    pub resolve: Duration,
}

#[derive(Debug, Clone)]
pub struct Criterion {
    pub kind: CriterionKind,
    /// Judged on the last `over` days with figures.
    pub over: u32,
}

#[derive(Debug, Clone)]
pub enum CriterionKind {
    /// Every day meets the metric's target (index into metrics).
    Metric(usize),
    /// At most `max` incidents of these severities opened in the period.
    Incidents { severities: Vec<usize>, max: u32 },
}

#[derive(Debug, Clone, Default)]
pub struct DayNotes {
    pub day: u32,
    pub summary: Option<String>,
    pub actions: Vec<String>,
    pub priorities: Vec<String>,
    pub risks: Vec<String>,
    pub prepared_by: Option<String>,
}
