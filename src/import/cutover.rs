//! `tminus import cutover FILE.csv`: a spreadsheet export of the cutover plan → a
//! well-formatted `content/cutover.yaml`.
//!
//! The CSV has a header row. Columns (case-insensitive; spaces become `_`): `id` and
//! `title` are required; `owner`, `duration`, `predecessors` (also `after`), `start`,
//! `type`, `phase`, `runbook`, `rollback`, `wave` and `notes` are optional. Predecessors are
//! separated by `;`, `,` or spaces inside their cell. A bare number of minutes is accepted
//! as a duration (`90` → `90m`). Every bad row is reported — CSV line, column and what was
//! expected — and nothing is produced while any remains.

use std::collections::HashMap;
use std::path::Path;

use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Position};
use crate::model::{is_valid_id, ID_HINT};
use crate::time::{parse_duration, parse_time_spec};

/// The columns understood, in the order their keys are written in the YAML.
const COLUMNS: &[&str] = &[
    "id",
    "title",
    "start",
    "predecessors",
    "duration",
    "owner",
    "type",
    "runbook",
    "rollback",
    "wave",
    "phase",
    "notes",
];
const REQUIRED: &[&str] = &["id", "title"];
const TYPES: &[&str] = &["task", "milestone", "go-no-go", "point-of-no-return"];

/// One imported task, with where it came from and where it went.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedTask {
    pub id: String,
    /// Line of the CSV file holding the row.
    pub csv_line: usize,
    /// First and last line of the task in the YAML.
    pub yaml_lines: (usize, usize),
}

#[derive(Debug, Clone)]
pub struct Imported {
    pub yaml: String,
    pub tasks: Vec<ImportedTask>,
}

impl Imported {
    /// The CSV line of the task written at `yaml_line`, if any.
    pub fn csv_line_of(&self, yaml_line: usize) -> Option<usize> {
        self.tasks
            .iter()
            .find(|t| (t.yaml_lines.0..=t.yaml_lines.1).contains(&yaml_line))
            .map(|t| t.csv_line)
    }
}

/// Normalises a header cell: `Task ID ` → `task_id`.
fn header_name(cell: &str) -> String {
    let name = cell
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_");
    match name.as_str() {
        "after" => "predecessors".to_string(),
        _ => name,
    }
}

/// `A`, `B`, … `Z`, `AA`: the spreadsheet name of column `index` (0-based).
fn column_letter(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The 1-based character column at which field `field` starts on `line` (quotes aware).
fn field_column(line: &str, field: usize) -> usize {
    let mut current = 0;
    let mut quoted = false;
    for (i, c) in line.chars().enumerate() {
        if current == field {
            return i + 1;
        }
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => current += 1,
            _ => {}
        }
    }
    if current == field {
        line.chars().count() + 1
    } else {
        1
    }
}

struct Reporter<'a> {
    file: &'a Path,
    lines: Vec<&'a str>,
    diags: Diagnostics,
}

impl Reporter<'_> {
    fn error(&mut self, line: usize, field: Option<(usize, &str)>, message: String, hint: &str) {
        let text = self.lines.get(line.wrapping_sub(1)).copied();
        let (column, message) = match field {
            Some((i, name)) => (
                text.map_or(1, |t| field_column(t, i)),
                format!("column `{name}` ({}): {message}", column_letter(i)),
            ),
            None => (1, message),
        };
        let mut d = Diagnostic::new(message)
            .in_file(self.file)
            .at(Some(Position::new(line, column)))
            .with_source_line(text.map(|t| t.trim_end_matches('\r').to_string()));
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.diags.push(d);
    }
}

/// One row, its cells by column name.
struct Row {
    line: usize,
    cells: HashMap<&'static str, (usize, String)>,
}

impl Row {
    fn get(&self, column: &str) -> Option<(usize, &str)> {
        self.cells
            .get(column)
            .map(|(i, v)| (*i, v.as_str()))
            .filter(|(_, v)| !v.is_empty())
    }
}

/// Converts the CSV `text` (named `file` in messages) into the YAML of a cutover plan.
pub fn csv_to_yaml(file: &Path, text: &str) -> Result<Imported, Diagnostics> {
    let mut r = Reporter {
        file,
        lines: text.lines().collect(),
        diags: Diagnostics::new(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            r.error(1, None, format!("cannot read the header row: {e}"), "");
            return Err(r.diags);
        }
        None => {
            r.error(
                1,
                None,
                "the file is empty".into(),
                "export the plan with a header row: id,title,owner,duration,predecessors,start",
            );
            return Err(r.diags);
        }
    };
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    for (i, cell) in header.iter().enumerate() {
        let name = header_name(cell);
        if name.is_empty() {
            columns.push(None);
            continue;
        }
        match COLUMNS.iter().find(|c| **c == name) {
            Some(&c) => {
                if seen.insert(c, i).is_some() {
                    r.error(
                        1,
                        Some((i, c)),
                        format!("the column `{c}` appears twice"),
                        "keep one",
                    );
                }
                columns.push(Some(c));
            }
            None => {
                let hint = match did_you_mean(&name, COLUMNS.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!(
                        "the columns understood are: {}; delete the others",
                        COLUMNS.join(", ")
                    ),
                };
                r.error(
                    1,
                    Some((i, cell)),
                    format!("unknown column `{cell}`"),
                    &hint,
                );
                columns.push(None);
            }
        }
    }
    for required in REQUIRED {
        if !seen.contains_key(required) {
            r.error(
                1,
                None,
                format!("missing required column `{required}`"),
                "the header row needs at least `id` and `title` (and usually owner, duration, predecessors, start)",
            );
        }
    }
    if !r.diags.is_empty() {
        return Err(r.diags);
    }

    let mut rows = Vec::new();
    for record in records {
        let record = match record {
            Ok(rec) => rec,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                r.error(line, None, format!("cannot read this row: {e}"), "");
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        let mut cells = HashMap::new();
        for (i, cell) in record.iter().enumerate() {
            if let Some(Some(c)) = columns.get(i) {
                cells.insert(*c, (i, cell.trim().to_string()));
            }
        }
        rows.push(Row { line, cells });
    }

    // Ids first, so predecessors can refer to any row.
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        match row.get("id") {
            None => r.error(
                row.line,
                Some((seen["id"], "id")),
                "the task has no id".into(),
                ID_HINT,
            ),
            Some((i, id)) if !is_valid_id(id) => r.error(
                row.line,
                Some((i, "id")),
                format!("`{id}` is not a valid task id"),
                ID_HINT,
            ),
            Some((i, id)) => {
                if let Some(first) = first_line.get(id) {
                    r.error(
                        row.line,
                        Some((i, "id")),
                        format!("duplicate task id `{id}`"),
                        &format!("first used on line {first}; give each task its own id"),
                    );
                } else {
                    first_line.insert(id.to_string(), row.line);
                }
            }
        }
    }
    let ids: Vec<&str> = first_line.keys().map(String::as_str).collect();

    let mut yaml = String::new();
    // Appends a line; returns its (1-based) line number.
    let push = |yaml: &mut String, text: String| {
        yaml.push_str(&text);
        yaml.push('\n');
        yaml.matches('\n').count()
    };
    push(
        &mut yaml,
        format!(
            "# Cutover plan imported from {} by `tminus import cutover`.",
            file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        ),
    );
    push(
        &mut yaml,
        "# Edit it here, or edit the spreadsheet and import again with --force.".into(),
    );
    push(&mut yaml, String::new());
    push(&mut yaml, "tasks:".into());
    let mut tasks = Vec::new();
    for row in &rows {
        let mut fields: Vec<(&str, String)> = Vec::new();
        let id = row
            .get("id")
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        fields.push(("id", scalar(&id)));
        match row.get("title") {
            Some((_, t)) => fields.push(("title", scalar(t))),
            None => r.error(
                row.line,
                Some((seen["title"], "title")),
                format!("task `{id}` has no title"),
                "give every task a short title",
            ),
        }
        if let Some((i, start)) = row.get("start") {
            match parse_time_spec(start) {
                Ok(_) => fields.push(("start", scalar(start))),
                Err(e) => r.error(row.line, Some((i, "start")), e.message, &e.hint),
            }
        }
        if let Some((i, cell)) = row.get("predecessors") {
            let deps: Vec<&str> = cell
                .split([';', ',', ' ', '\t', '\n'])
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .collect();
            for dep in &deps {
                if !first_line.contains_key(*dep) {
                    let hint = match did_you_mean(dep, ids.iter().copied()) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => "a predecessor must be the id of another row".to_string(),
                    };
                    r.error(
                        row.line,
                        Some((i, "predecessors")),
                        format!("task `{id}` comes after unknown task `{dep}`"),
                        &hint,
                    );
                }
            }
            if !deps.is_empty() {
                let deps: Vec<String> = deps.iter().map(|d| scalar(d)).collect();
                fields.push(("after", format!("[{}]", deps.join(", "))));
            }
        }
        if let Some((i, d)) = row.get("duration") {
            let text = if d.bytes().all(|b| b.is_ascii_digit()) {
                format!("{d}m")
            } else {
                d.to_string()
            };
            match parse_duration(&text) {
                Ok(_) => fields.push(("duration", text)),
                Err(e) => r.error(row.line, Some((i, "duration")), e.message, &e.hint),
            }
        }
        for key in ["owner", "runbook", "wave"] {
            if let Some((i, v)) = row.get(key) {
                if is_valid_id(v) {
                    fields.push((key, scalar(v)));
                } else {
                    r.error(
                        row.line,
                        Some((i, key)),
                        format!("`{v}` is not a valid {key} id"),
                        ID_HINT,
                    );
                }
            }
        }
        if let Some((i, v)) = row.get("type") {
            let kind = v
                .to_lowercase()
                .split(|c: char| c.is_whitespace() || c == '/' || c == '_' || c == '-')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            if TYPES.contains(&kind.as_str()) {
                fields.push(("type", kind));
            } else {
                r.error(
                    row.line,
                    Some((i, "type")),
                    format!("`{v}` is not a task type"),
                    &format!("allowed: {}", TYPES.join(", ")),
                );
            }
        }
        for key in ["rollback", "phase", "notes"] {
            if let Some((_, v)) = row.get(key) {
                fields.push((key, scalar(v)));
            }
        }
        // Keys in the order of COLUMNS (after = predecessors).
        let rank = |k: &str| {
            let k = if k == "after" { "predecessors" } else { k };
            COLUMNS.iter().position(|c| *c == k).unwrap_or(usize::MAX)
        };
        fields.sort_by_key(|(k, _)| rank(k));
        let first = yaml.matches('\n').count() + 1;
        for (n, (key, value)) in fields.iter().enumerate() {
            let lead = if n == 0 { "  - " } else { "    " };
            push(&mut yaml, format!("{lead}{key}: {value}"));
        }
        let last = push(&mut yaml, String::new());
        tasks.push(ImportedTask {
            id,
            csv_line: row.line,
            yaml_lines: (first, last),
        });
    }
    if rows.is_empty() {
        r.error(
            2,
            None,
            "the file has no task rows".into(),
            "add one row per task below the header",
        );
    }
    if !r.diags.is_empty() {
        return Err(r.diags);
    }
    // No blank line at the very end.
    while yaml.ends_with("\n\n") {
        yaml.pop();
    }
    Ok(Imported { yaml, tasks })
}

/// A YAML scalar: plain when that reads back as the same text, else double-quoted.
pub fn scalar(text: &str) -> String {
    let special_start = text.starts_with([
        '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
        '`', ' ',
    ]);
    let reserved = matches!(
        text.to_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    );
    let needs_quotes = text.is_empty()
        || special_start
        || reserved
        || text.ends_with([' ', ':'])
        || text.contains(": ")
        || text.contains(" #")
        || text.chars().any(char::is_control)
        || text.parse::<f64>().is_ok();
    if needs_quotes {
        serde_json::to_string(text).unwrap_or_default()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(csv: &str) -> Result<Imported, Diagnostics> {
        csv_to_yaml(Path::new("plan.csv"), csv)
    }

    fn errors(csv: &str) -> String {
        import(csv).unwrap_err().to_string()
    }

    #[test]
    fn a_plan_becomes_yaml_that_reads_back() {
        let out = import(
            "ID,Title,Owner,Duration,Predecessors,Start,Type,Phase\n\
             freeze,Freeze legacy,dba,30m,,T-0 18:00,,freeze\n\
             backup,\"Backup: full, verified\",dba,90,freeze,,task,backup\n\
             go,Go/no-go,cutover-lead,15m,freeze; backup,,Go/No-Go,\n",
        )
        .unwrap();
        let plan: crate::model::cutover::CutoverFile = serde_yaml::from_str(&out.yaml).unwrap();
        assert_eq!(plan.tasks.len(), 3);
        assert_eq!(plan.tasks[0].start.as_deref(), Some("T-0 18:00"));
        assert_eq!(plan.tasks[1].title, "Backup: full, verified");
        assert_eq!(plan.tasks[1].duration.as_deref(), Some("90m"));
        assert_eq!(plan.tasks[2].after, ["freeze", "backup"]);
        assert_eq!(plan.tasks[2].kind, crate::model::cutover::TaskKind::GoNoGo);
        assert!(out
            .yaml
            .starts_with("# Cutover plan imported from plan.csv"));
        assert!(out
            .yaml
            .contains("  - id: go\n    title: Go/no-go\n    after: [freeze, backup]\n"));
        assert_eq!(out.tasks[1].csv_line, 3);
        assert_eq!(out.csv_line_of(out.tasks[1].yaml_lines.0 + 1), Some(3));
    }

    #[test]
    fn every_bad_row_is_reported_with_line_and_column() {
        let err = errors(
            "id,title,owner,duration,predecessors,start\n\
             a,A,dba,30m,,T-0 18:00\n\
             Bad Id,B,dba,30m,a,\n\
             c,C,dba,3x,a,\n\
             d,D,dba,30m,nope,\n\
             e,E,dba,30m,a,yesterday\n\
             a,Again,dba,30m,,\n",
        );
        for needle in [
            "plan.csv:3:1: column `id` (A): `Bad Id` is not a valid task id",
            "plan.csv:4:9: column `duration` (D): `3x` has an unknown unit `x`",
            "plan.csv:5:13: column `predecessors` (E): task `d` comes after unknown task `nope`",
            "plan.csv:6:15: column `start` (F): `yesterday` is not a T-minus offset",
            "plan.csv:7:1: column `id` (A): duplicate task id `a`",
            "first used on line 2",
        ] {
            assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
        }
    }

    #[test]
    fn header_problems_are_reported() {
        let err = errors("Task,Title,Durration\nx,X,1h\n");
        assert!(err.contains("unknown column `Task`"), "{err}");
        assert!(err.contains("did you mean `duration`?"), "{err}");
        assert!(err.contains("missing required column `id`"), "{err}");
        assert!(errors("").contains("the file is empty"));
        assert!(errors("id,title\n").contains("no task rows"));
    }

    #[test]
    fn header_names_are_normalised() {
        assert_eq!(header_name("\u{feff} Rollback "), "rollback");
        assert_eq!(header_name("After"), "predecessors");
        assert_eq!(header_name("Task  Notes"), "task_notes");
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        assert_eq!(scalar("Freeze legacy"), "Freeze legacy");
        assert_eq!(scalar("T-0 18:00"), "T-0 18:00");
        assert_eq!(scalar("Backup: full"), "\"Backup: full\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("1.2"), "\"1.2\"");
        assert_eq!(scalar("- item"), "\"- item\"");
        assert_eq!(scalar("say \"hi\" #1"), "\"say \\\"hi\\\" #1\"");
    }
}
