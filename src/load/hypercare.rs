//! `content/hypercare.yaml` and its CSVs → a validated [`Hypercare`] (SPEC §9).
//!
//! Owns reading the daily figures (a CSV with a `date` column and one column per metric,
//! or an inline list) and the incidents CSV (its header mapped by name, case-insensitively,
//! with the usual names ticket tools export), and every located error: a bad cell (CSV line
//! and column), a date outside the hypercare period, an unknown metric or severity, a
//! target or duration that does not parse. Judging the figures is `plan::hypercare`'s job.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::Checker;
use crate::diagnostics::{Diagnostics, Position};
use crate::model::hypercare::{Cell, DailySource, HypercareFile, IncidentsSource};
use crate::project::Project;
use crate::source::yaml::{self, index, join};
use crate::source::SourceFile;
use crate::time::TimeSpec;

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
fn number(text: &str) -> Option<f64> {
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
    let mut c = Checker {
        file: &file,
        spans: &parsed.spans,
        diags,
    };
    from_file(root, &mut c, project, parsed.value)
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

/// A CSV named in hypercare.yaml at `key`, read whole.
fn read_csv(root: &Path, c: &mut Checker, key: &str, relative: &str) -> Option<SourceFile> {
    if relative.contains("..") || Path::new(relative).is_absolute() {
        c.error(
            key,
            format!("`{relative}` points outside content/"),
            "give a path inside content/, e.g. `hypercare/daily.csv`",
        );
        return None;
    }
    match SourceFile::read(root, &Path::new("content").join(relative)) {
        Ok(f) => Some(f),
        Err(_) => {
            c.error(
                key,
                format!("the file content/{relative} does not exist"),
                "export the CSV there, or correct the path (relative to content/)",
            );
            None
        }
    }
}

/// A CSV row: its line and each cell with the column it starts at.
struct Row {
    line: usize,
    cells: Vec<(usize, String)>,
}

/// Every row of `file`, with positions; unreadable rows are reported.
fn csv_rows(file: &SourceFile, diags: &mut Diagnostics) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file.text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let pos = record.position().cloned();
                let line = pos.as_ref().map_or(0, |p| p.line() as usize);
                let byte = pos.as_ref().map_or(0, |p| p.byte() as usize);
                let cols = columns_at(&file.text, byte, record.len());
                if record.iter().all(|s| s.trim().is_empty()) {
                    continue;
                }
                rows.push(Row {
                    line,
                    cells: record
                        .iter()
                        .zip(cols)
                        .map(|(s, col)| (col, s.trim().to_string()))
                        .collect(),
                });
            }
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                diags.push(
                    file.error(
                        line.map(|l| Position::new(l, 1)),
                        format!("this CSV row cannot be read: {e}"),
                    )
                    .with_hint("save the file as UTF-8 CSV with a comma between columns"),
                );
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    rows
}

/// The column (1-based, in characters) where each of the `n` fields of the record starting
/// at byte `start` begins.
fn columns_at(text: &str, start: usize, n: usize) -> Vec<usize> {
    let mut cols = Vec::with_capacity(n);
    let line_start = text[..start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let mut col = text[line_start..start.min(text.len())].chars().count() + 1;
    cols.push(col);
    let mut quoted = false;
    for ch in text[start.min(text.len())..].chars() {
        if cols.len() >= n {
            break;
        }
        col += 1;
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => cols.push(col),
            '\n' if !quoted => break,
            '\n' => col = 1,
            _ => {}
        }
    }
    while cols.len() < n {
        cols.push(col);
    }
    cols
}

/// `2027-03-30`, also `2027-03-30 00:00` from a spreadsheet.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().or_else(|| {
        t.get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    })
}

/// RFC 3339, or a local time in `zone`.
pub fn parse_time(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Some(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(t, format) {
            return Some(crate::time::local_to_instant(local, zone).with_timezone(&Utc));
        }
    }
    None
}

const DATE_HINT: &str = "write the date as YYYY-MM-DD, e.g. 2027-03-30";
const TIME_HINT: &str =
    "write YYYY-MM-DD HH:MM in the project's zone, or RFC 3339 with an offset (2027-03-30T08:15:00+01:00)";

fn outside(h: &Hypercare, date: NaiveDate) -> (String, String) {
    (
        format!(
            "{date} is outside the hypercare period ({} to {}, days 1 to {})",
            h.start,
            h.end(),
            h.days
        ),
        "check the date, or the `start` and `days` of hypercare.yaml".to_string(),
    )
}

fn daily_csv(diags: &mut Diagnostics, file: &SourceFile, h: &mut Hypercare) {
    let rows = csv_rows(file, diags);
    let Some((header, body)) = rows.split_first() else {
        return;
    };
    // Column → metric index; the first column is the date.
    let mut map: Vec<Option<usize>> = Vec::new();
    let mut date_col = None;
    for (i, (col, name)) in header.cells.iter().enumerate() {
        if name.eq_ignore_ascii_case("date") {
            date_col = Some(i);
            map.push(None);
            continue;
        }
        match h
            .metrics
            .iter()
            .position(|m| m.id.eq_ignore_ascii_case(name) || m.label.eq_ignore_ascii_case(name))
        {
            Some(m) => map.push(Some(m)),
            None => {
                let known: Vec<&str> = h.metrics.iter().map(|m| m.id.as_str()).collect();
                diags.push(
                    file.error(
                        Some(Position::new(header.line, *col)),
                        format!("`{name}` is not a metric of hypercare.yaml"),
                    )
                    .with_hint(format!(
                        "the header is `date` and metric ids: {}",
                        known.join(", ")
                    )),
                );
                map.push(None);
            }
        }
    }
    let Some(date_col) = date_col else {
        diags.push(
            file.error(
                Some(Position::new(header.line, 1)),
                "the daily figures have no `date` column",
            )
            .with_hint("the first row is the header: `date,` then one column per metric id"),
        );
        return;
    };
    let mut seen: HashMap<NaiveDate, usize> = HashMap::new();
    for row in body {
        let Some((dcol, dtext)) = row.cells.get(date_col) else {
            continue;
        };
        let at = |col: usize| Some(Position::new(row.line, col));
        let Some(date) = parse_date(dtext) else {
            diags.push(
                file.error(at(*dcol), format!("`{dtext}` is not a date"))
                    .with_hint(DATE_HINT),
            );
            continue;
        };
        let Some(day) = h.day_of(date) else {
            let (m, hint) = outside(h, date);
            diags.push(file.error(at(*dcol), m).with_hint(hint));
            continue;
        };
        if let Some(first) = seen.insert(date, row.line) {
            diags.push(
                file.error(at(*dcol), format!("{date} has a second row"))
                    .with_hint(format!(
                        "the first is on line {first}; keep one row per day"
                    )),
            );
            continue;
        }
        for (i, (col, text)) in row.cells.iter().enumerate() {
            let Some(Some(m)) = map.get(i) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            match number(text) {
                Some(v) => h.figures[day as usize - 1][*m] = Some(v),
                None => diags.push(
                    file.error(
                        at(*col),
                        format!("`{text}` is not a number ({})", h.metrics[*m].id),
                    )
                    .with_hint("write a number such as 99.2 (a trailing % is fine); leave the cell empty for no data"),
                ),
            }
        }
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

/// Our incident columns and the header names ticket tools use for them (normalized:
/// lowercase, `_` and `-` as spaces), in order of preference.
const FIELDS: &[(&str, &[&str])] = &[
    (
        "id",
        &[
            "id",
            "incident",
            "incident id",
            "number",
            "ticket",
            "ticket id",
            "key",
            "reference",
        ],
    ),
    (
        "title",
        &["title", "summary", "short description", "subject", "name"],
    ),
    ("severity", &["severity", "priority", "sev"]),
    (
        "opened",
        &[
            "opened",
            "opened at",
            "opened on",
            "created",
            "created at",
            "created on",
            "reported",
            "reported at",
        ],
    ),
    (
        "responded",
        &[
            "responded",
            "responded at",
            "first response",
            "first response at",
            "acknowledged",
            "acknowledged at",
            "response",
        ],
    ),
    (
        "resolved",
        &[
            "resolved",
            "resolved at",
            "resolved on",
            "closed",
            "closed at",
            "closed on",
            "resolution date",
        ],
    ),
    ("impact", &["impact", "user impact"]),
    (
        "resolution",
        &["resolution", "resolution notes", "close notes", "fix"],
    ),
];
const REQUIRED: &[&str] = &["id", "title", "severity", "opened"];

fn normalize(header: &str) -> String {
    header
        .trim()
        .to_lowercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn incidents_csv(
    c: &mut Checker,
    file: &SourceFile,
    columns: &std::collections::BTreeMap<String, String>,
    h: &Hypercare,
) -> Vec<Incident> {
    let rows = csv_rows(file, c.diags);
    let Some((header, body)) = rows.split_first() else {
        return Vec::new();
    };
    let names: Vec<String> = header.cells.iter().map(|(_, n)| normalize(n)).collect();
    // Field → column index.
    let mut col: HashMap<&str, usize> = HashMap::new();
    for (field, aliases) in FIELDS {
        if let Some(own) = columns.get(*field) {
            match names.iter().position(|n| *n == normalize(own)) {
                Some(i) => {
                    col.insert(field, i);
                }
                None => c.error(
                    &join("incidents.columns", field),
                    format!("the incidents file has no column `{own}`"),
                    format!(
                        "its header is: {}",
                        header
                            .cells
                            .iter()
                            .map(|(_, n)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
            continue;
        }
        if let Some(i) = aliases
            .iter()
            .find_map(|a| names.iter().position(|n| n == a))
        {
            col.insert(field, i);
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|f| !col.contains_key(f))
        .collect();
    if !missing.is_empty() {
        c.diags.push(
            file.error(
                Some(Position::new(header.line, 1)),
                format!("the incidents header has no {} column", missing.join(", ")),
            )
            .with_hint("the header names the columns: id, title, severity, opened, responded, resolved (any order; `columns:` in hypercare.yaml maps other names)"),
        );
        return Vec::new();
    }
    let mut out = Vec::with_capacity(body.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in body {
        let cell = |f: &str| -> Option<(usize, &str)> {
            let i = *col.get(f)?;
            row.cells.get(i).map(|(c, s)| (*c, s.as_str()))
        };
        let at = |column: usize| Some(Position::new(row.line, column));
        let row_col = row.cells.first().map_or(1, |c| c.0);
        let mut ok = true;
        let text = |f: &str| cell(f).map(|(_, s)| s).filter(|s| !s.is_empty());
        let Some(id) = text("id") else {
            c.diags.push(
                file.error(
                    at(cell("id").map_or(row_col, |x| x.0)),
                    "this incident has no id",
                )
                .with_hint("every row needs the ticket's id"),
            );
            continue;
        };
        if let Some(first) = seen.insert(id.to_string(), row.line) {
            c.diags.push(
                file.error(
                    at(cell("id").map_or(row_col, |x| x.0)),
                    format!("incident `{id}` is listed twice"),
                )
                .with_hint(format!("the first is on line {first}")),
            );
            continue;
        }
        let sev_text = text("severity").unwrap_or("");
        let severity = severity_of(sev_text, h);
        if severity.is_none() {
            ok = false;
            let known: Vec<&str> = h.severities.iter().map(|s| s.id.as_str()).collect();
            c.diags.push(
                file.error(
                    at(cell("severity").map_or(row_col, |x| x.0)),
                    format!("`{sev_text}` is not a severity of hypercare.yaml"),
                )
                .with_hint(if known.is_empty() {
                    "add `severities:` to hypercare.yaml with response and resolution targets"
                        .to_string()
                } else {
                    format!("the severities are {}", known.join(", "))
                }),
            );
        }
        let mut time = |f: &str, required: bool| -> Option<DateTime<Utc>> {
            let (column, t) = cell(f).unwrap_or((row_col, ""));
            if t.is_empty() {
                if required {
                    ok = false;
                    c.diags.push(
                        file.error(at(column), format!("incident `{id}` has no `{f}` time"))
                            .with_hint(TIME_HINT),
                    );
                }
                return None;
            }
            match parse_time(t, h.zone) {
                Some(at) => Some(at),
                None => {
                    ok = false;
                    c.diags.push(
                        file.error(at(column), format!("`{t}` is not a date and time ({f})"))
                            .with_hint(TIME_HINT),
                    );
                    None
                }
            }
        };
        let opened = time("opened", true);
        let responded = time("responded", false);
        let resolved = time("resolved", false);
        let Some(opened) = opened else { continue };
        let local = opened.with_timezone(&h.zone).date_naive();
        if h.day_of(local).is_none() {
            let (m, hint) = outside(h, local);
            c.diags.push(
                file.error(
                    at(cell("opened").map_or(row_col, |x| x.0)),
                    format!("incident `{id}`: opened on {m}"),
                )
                .with_hint(hint),
            );
            ok = false;
        }
        for (f, t) in [("responded", responded), ("resolved", resolved)] {
            if t.is_some_and(|t| t < opened) {
                ok = false;
                c.diags.push(
                    file.error(
                        at(cell(f).map_or(row_col, |x| x.0)),
                        format!("incident `{id}` was {f} before it was opened"),
                    )
                    .with_hint("check the two times (and their zone)"),
                );
            }
        }
        if !ok {
            continue;
        }
        out.push(Incident {
            id: id.to_string(),
            title: text("title").unwrap_or("").to_string(),
            severity: severity.unwrap_or(0),
            opened,
            responded,
            resolved,
            impact: text("impact").map(str::to_string),
            resolution: text("resolution").map(str::to_string),
        });
    }
    out
}

/// `P1`, `p1`, `1`, `1 - Critical`, `P1 - Critical` → the severity `P1`.
fn severity_of(text: &str, h: &Hypercare) -> Option<usize> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Some(i) = h
        .severities
        .iter()
        .position(|s| s.id.eq_ignore_ascii_case(t))
    {
        return Some(i);
    }
    let first = t.split([' ', '-', ':']).next().unwrap_or("");
    let digits = first.trim_start_matches(['P', 'p']);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        let candidates = [format!("P{digits}"), digits.to_string()];
        return h
            .severities
            .iter()
            .position(|s| candidates.iter().any(|c| s.id.eq_ignore_ascii_case(c)));
    }
    None
}

#[cfg(test)]
#[path = "hypercare_tests.rs"]
mod tests;
