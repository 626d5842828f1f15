//! The CSVs of hypercare.yaml: reading rows with the line and column of every cell, the
//! daily figures (`date` and one column per metric) and the incidents (the header mapped by
//! name, case-insensitively, to our columns, with the names ticket tools export).

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::{number, Hypercare, Incident};
use crate::diagnostics::{Diagnostics, Position};
use crate::load::Checker;
use crate::source::yaml::join;
use crate::source::SourceFile;

/// A CSV named in hypercare.yaml at `key`, read whole.
pub(super) fn read_csv(
    root: &Path,
    c: &mut Checker,
    key: &str,
    relative: &str,
) -> Option<SourceFile> {
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
pub(super) fn parse_date(text: &str) -> Option<NaiveDate> {
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

pub(super) const DATE_HINT: &str = "write the date as YYYY-MM-DD, e.g. 2027-03-30";
const TIME_HINT: &str =
    "write YYYY-MM-DD HH:MM in the project's zone, or RFC 3339 with an offset (2027-03-30T08:15:00+01:00)";

/// What every "outside the period" error says (see [`super::load`]).
pub(super) const OUTSIDE_PERIOD: &str = "is outside the hypercare period";

pub(super) fn outside(h: &Hypercare, date: NaiveDate) -> (String, String) {
    (
        format!(
            "{date} {OUTSIDE_PERIOD} ({} to {}, days 1 to {})",
            h.start,
            h.end(),
            h.days
        ),
        "check the date, or the `start` and `days` of hypercare.yaml".to_string(),
    )
}

pub(super) fn daily_csv(diags: &mut Diagnostics, file: &SourceFile, h: &mut Hypercare) {
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

/// Our incident columns and the header names ticket tools use for them (normalized:
/// lowercase, `_` and `-` as spaces), in order of preference.
pub(super) const FIELDS: &[(&str, &[&str])] = &[
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

pub(super) fn incidents_csv(
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
