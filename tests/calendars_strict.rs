//! Every `.ics` that tminus writes for the example project, the fixtures and a new project,
//! checked two ways: an RFC 5545 lint of our own (line length and folding, CRLF, nesting,
//! required properties, DTEND after DTSTART, VTIMEZONE for every TZID, unique UIDs,
//! SEQUENCE, TEXT escaping), and Python's `ical` (strict) and `icalendar` parsers through
//! `tests/fixtures/ics_check.py`.
//!
//! The Python parsers live in a virtualenv that `.ci/run` makes (`target/ics-venv`;
//! `TMINUS_ICS_PYTHON` points elsewhere). Without them the Python test prints SKIPPED —
//! unless `CI` is set, where it fails.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chrono::{NaiveDateTime, TimeZone, Utc};
use common::*;

// ── The lint ────────────────────────────────────────────────────────────────────────────

/// Properties whose value is TEXT (RFC 5545 §3.3.11, RFC 7986 NAME, the X-WR- names).
const TEXT: &[&str] = &[
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "COMMENT",
    "CONTACT",
    "NAME",
    "X-WR-CALNAME",
    "X-WR-CALDESC",
    "TZNAME",
    "UID",
    "CATEGORIES",
    "RESOURCES",
];
/// TEXT properties that hold a comma-separated list.
const TEXT_LISTS: &[&str] = &["CATEGORIES", "RESOURCES"];

struct Line {
    /// Physical line number of its first piece.
    number: usize,
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl Line {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits an unfolded content line into name, parameters and value (a `:` or `;` inside a
/// quoted parameter value does not count).
fn parse_line(number: usize, text: &str) -> Result<Line, String> {
    let mut quoted = false;
    let mut colon = None;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon.ok_or_else(|| format!("line {number}: no `:` in {text:?}"))?;
    let (head, value) = (&text[..colon], &text[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next().unwrap_or_default().to_ascii_uppercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("line {number}: bad property name {name:?}"));
    }
    let mut params = Vec::new();
    for p in parts {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("line {number}: bad parameter {p:?}"))?;
        params.push((k.to_ascii_uppercase(), v.trim_matches('"').to_string()));
    }
    Ok(Line {
        number,
        name,
        params,
        value: value.to_string(),
    })
}

/// A DTSTART or DTEND as a UTC instant: `…Z`, or local with a TZID resolved by chrono-tz.
fn instant(line: &Line) -> Result<chrono::DateTime<Utc>, String> {
    let bad = || format!("line {}: bad date-time {:?}", line.number, line.value);
    if let Some(utc) = line.value.strip_suffix('Z') {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
        return Ok(Utc.from_utc_datetime(&t));
    }
    let t = NaiveDateTime::parse_from_str(&line.value, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
    let tzid = line
        .param("TZID")
        .ok_or_else(|| format!("line {}: a floating time (no TZID, no Z)", line.number))?;
    let zone: chrono_tz::Tz = tzid
        .parse()
        .map_err(|_| format!("line {}: unknown TZID {tzid}", line.number))?;
    zone.from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(bad)
}

/// Whether a TEXT value is escaped: every `\` starts `\\`, `\;`, `\,`, `\n` or `\N`, no bare
/// `;`, and no bare `,` unless the property is a list.
fn text_escaped(value: &str, list: bool) -> Result<(), String> {
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\' | ';' | ',' | 'n' | 'N') => {}
                other => return Err(format!("`\\` followed by {other:?}")),
            },
            ';' => return Err("an unescaped `;`".into()),
            ',' if !list => return Err("an unescaped `,`".into()),
            _ => {}
        }
    }
    Ok(())
}

#[derive(Default)]
struct Component {
    name: String,
    lines: Vec<Line>,
}

/// Every RFC 5545 fault this lint knows of in one `.ics` file's bytes.
fn lint(bytes: &[u8]) -> Vec<String> {
    let mut findings = Vec::new();
    // CRLF line ends, nothing else.
    if !bytes.ends_with(b"\r\n") {
        findings.push("the file does not end with CRLF".to_string());
    }
    for (i, w) in bytes.windows(2).enumerate() {
        if w[1] == b'\n' && w[0] != b'\r' || w[0] == b'\r' && w[1] != b'\n' {
            findings.push(format!("byte {i}: a bare CR or LF"));
        }
    }
    if bytes.first() == Some(&b'\n') {
        findings.push("a bare LF at the start".into());
    }
    // Physical lines: at most 75 octets, each valid UTF-8 on its own (folded at character
    // boundaries).
    let mut physical: Vec<String> = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or(rest.len());
        let line = &rest[..end];
        let number = physical.len() + 1;
        if line.len() > 75 {
            findings.push(format!("line {number}: {} octets (at most 75)", line.len()));
        }
        match std::str::from_utf8(line) {
            Ok(s) => physical.push(s.to_string()),
            Err(_) => {
                findings.push(format!(
                    "line {number}: not UTF-8 on its own (folded inside a character?)"
                ));
                physical.push(String::from_utf8_lossy(line).into_owned());
            }
        }
        rest = rest.get(end + 2..).unwrap_or_default();
    }
    // Unfold.
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (i, l) in physical.iter().enumerate() {
        if let Some(more) = l.strip_prefix([' ', '\t']) {
            match logical.last_mut() {
                Some((_, last)) => last.push_str(more),
                None => findings.push("line 1: a continuation line first".into()),
            }
        } else {
            logical.push((i + 1, l.clone()));
        }
    }
    // Nesting, and the properties of each component.
    let mut stack: Vec<Component> = Vec::new();
    let mut done: Vec<Component> = Vec::new();
    let mut top = 0;
    for (number, text) in logical {
        let line = match parse_line(number, &text) {
            Ok(l) => l,
            Err(e) => {
                findings.push(e);
                continue;
            }
        };
        match line.name.as_str() {
            "BEGIN" => {
                if stack.is_empty() {
                    top += 1;
                    if line.value != "VCALENDAR" {
                        findings.push(format!("line {number}: {} outside VCALENDAR", line.value));
                    }
                }
                stack.push(Component {
                    name: line.value.clone(),
                    lines: Vec::new(),
                });
            }
            "END" => match stack.pop() {
                Some(c) if c.name == line.value => done.push(c),
                Some(c) => findings.push(format!(
                    "line {number}: END:{} closes BEGIN:{}",
                    line.value, c.name
                )),
                None => findings.push(format!("line {number}: END:{} without BEGIN", line.value)),
            },
            _ => match stack.last_mut() {
                Some(c) => c.lines.push(line),
                None => findings.push(format!("line {number}: a property outside VCALENDAR")),
            },
        }
    }
    for c in &stack {
        findings.push(format!("BEGIN:{} is never closed", c.name));
    }
    if top != 1 {
        findings.push(format!("{top} VCALENDARs (one expected)"));
    }
    let has = |c: &Component, name: &str| c.lines.iter().filter(|l| l.name == name).count();
    let zones: BTreeSet<String> = done
        .iter()
        .filter(|c| c.name == "VTIMEZONE")
        .flat_map(|c| c.lines.iter().filter(|l| l.name == "TZID"))
        .map(|l| l.value.clone())
        .collect();
    let mut uids: HashMap<String, usize> = HashMap::new();
    for c in &done {
        if c.name == "VCALENDAR" {
            for p in ["VERSION", "PRODID"] {
                if has(c, p) != 1 {
                    findings.push(format!("VCALENDAR has {} {p} (one expected)", has(c, p)));
                }
            }
        }
        if c.name == "VEVENT" {
            for p in ["UID", "DTSTAMP", "DTSTART"] {
                if has(c, p) != 1 {
                    findings.push(format!("a VEVENT has {} {p} (one expected)", has(c, p)));
                }
            }
            if has(c, "DTEND") > 0 && has(c, "DURATION") > 0 {
                findings.push("a VEVENT has both DTEND and DURATION".into());
            }
            let get = |name: &str| c.lines.iter().find(|l| l.name == name);
            if let (Some(start), Some(end)) = (get("DTSTART"), get("DTEND")) {
                match (instant(start), instant(end)) {
                    (Ok(s), Ok(e)) if e <= s => findings.push(format!(
                        "line {}: DTEND is not later than DTSTART",
                        end.number
                    )),
                    (Ok(_), Ok(_)) => {}
                    (Err(e), _) | (_, Err(e)) => findings.push(e),
                }
            }
            if let Some(uid) = get("UID") {
                *uids.entry(uid.value.clone()).or_default() += 1;
            }
        }
        for l in &c.lines {
            if let Some(tzid) = l.param("TZID") {
                if !zones.contains(tzid) {
                    findings.push(format!("line {}: TZID={tzid} has no VTIMEZONE", l.number));
                }
            }
            if l.name == "SEQUENCE"
                && (l.value.is_empty() || !l.value.chars().all(|c| c.is_ascii_digit()))
            {
                findings.push(format!("line {}: SEQUENCE {:?}", l.number, l.value));
            }
            if TEXT.contains(&l.name.as_str()) {
                if let Err(e) = text_escaped(&l.value, TEXT_LISTS.contains(&l.name.as_str())) {
                    findings.push(format!("line {}: {}: {e}", l.number, l.name));
                }
            }
        }
    }
    for (uid, n) in uids {
        if n > 1 {
            findings.push(format!("UID {uid} is used {n} times"));
        }
    }
    findings
}

// ── The calendars ───────────────────────────────────────────────────────────────────────

/// Sessions that stress folding and escaping, added to a copy of the minimal fixture.
const TRICKY_SESSIONS: &str = r#"
  - title: "Formation en français : adoptants précoces, niveau 1; « pratique » — Lyon, Genève, Zürich, Kraków"
    start: 2027-03-11 09:00
    duration: 90m
    location: 'Dépôt de Lyon, salle 2; accès C:\Formation\Salle — 東京 会議室 😀😀😀😀😀😀😀😀😀😀😀😀😀'
    link: https://meet.example.com/a-very-long-link-that-goes-on-and-on/and-on-and-on?with=query&and=more&and=even-more
    capacity: 12
    audience: pilot
  - title: Drop-in clinic
    start: T-5d 12:00
    audience: [everyone, pilot]
  - title: Drop-in clinic
    start: T-4d 12:00
    audience: cutover-lead
"#;

/// Builds every project once per test run; returns each `.ics` file written.
fn calendars() -> &'static [PathBuf] {
    static FILES: OnceLock<Vec<PathBuf>> = OnceLock::new();
    FILES.get_or_init(|| {
        let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("calendars-strict");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let mut roots = Vec::new();
        let example = work.join("example");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
            &example.join("content"),
        );
        roots.push(example);
        for name in ["minimal", "changes/v1", "changes/v2"] {
            let root = work.join(name.replace('/', "-"));
            copy_dir(&fixture(name), &root);
            roots.push(root);
        }
        let tricky = work.join("tricky");
        copy_dir(&fixture("minimal"), &tricky);
        let yaml = tricky.join("content/training/sessions.yaml");
        std::fs::write(&yaml, read(&yaml) + TRICKY_SESSIONS).unwrap();
        roots.push(tricky);
        let fresh = work.join("new");
        let o = Command::new(env!("CARGO_BIN_EXE_tminus"))
            .arg("new")
            .arg(&fresh)
            .args(["--go-live", "2027-10-25"])
            .output()
            .unwrap();
        assert!(o.status.success(), "tminus new: {}", stderr(&o));
        roots.push(fresh);
        let mut files = Vec::new();
        for root in &roots {
            ok(root, &["build"]);
            for e in walkdir::WalkDir::new(root.join("output")) {
                let e = e.unwrap();
                let p = e.path();
                let hidden = p
                    .strip_prefix(root)
                    .unwrap()
                    .components()
                    .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
                if !hidden
                    && p.extension().is_some_and(|x| x == "ics")
                    && !p.starts_with(root.join("output/latest"))
                {
                    files.push(p.to_path_buf());
                }
            }
        }
        files.sort();
        files
    })
}

#[test]
fn every_calendar_passes_the_rfc5545_lint() {
    let files = calendars();
    // The example alone: sessions.ics, one per session, cutover.ics and one per role.
    assert!(files.len() > 30, "{} calendars", files.len());
    let mut findings = Vec::new();
    for f in files {
        for finding in lint(&std::fs::read(f).unwrap()) {
            findings.push(format!("{}: {finding}", f.display()));
        }
    }
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

#[test]
fn the_lint_finds_each_fault() {
    let good = std::fs::read_to_string(
        calendars()
            .iter()
            .find(|p| p.ends_with("example/output/v1.2/cutover/cutover.ics"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(lint(good.as_bytes()), Vec::<String>::new());
    let first_event = good.find("BEGIN:VEVENT").unwrap();
    let faults: Vec<(String, &str)> = vec![
        (good.replace("\r\n", "\n"), "bare CR or LF"),
        (
            good.replacen("SUMMARY:", &format!("SUMMARY:{}", "x".repeat(80)), 1),
            "octets (at most 75)",
        ),
        (good.replacen("PRODID:", "X-PRODID:", 1), "PRODID"),
        (good.replacen("END:VEVENT\r\n", "", 1), "closes BEGIN"),
        (good.replacen("DTSTAMP:", "X-DTSTAMP:", 1), "DTSTAMP"),
        (
            good.replacen(
                "BEGIN:VEVENT\r\n",
                "BEGIN:VEVENT\r\nDURATION:PT1H\r\nDTEND:20270101T000000Z\r\n",
                1,
            ),
            "both DTEND and DURATION",
        ),
        (
            {
                let mut t = good.clone();
                t.insert_str(first_event, "BEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270101T100000Z\r\nDTEND:20270101T100000Z\r\nEND:VEVENT\r\n");
                t
            },
            "DTEND is not later than DTSTART",
        ),
        (
            good.replacen("TZID=Europe/London", "TZID=America/Chicago", 1),
            "has no VTIMEZONE",
        ),
        (
            {
                let mut t = good.clone();
                t.insert_str(first_event, "BEGIN:VEVENT\r\nUID:cab-approval.contoso-field-service-modernisation@tminus\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\n");
                t
            },
            "is used 2 times",
        ),
        (good.replacen("SEQUENCE:0", "SEQUENCE:-1", 1), "SEQUENCE"),
        (
            good.replacen("SUMMARY:", "SUMMARY:a, b", 1),
            "unescaped `,`",
        ),
        (
            good.replacen("SUMMARY:", "SUMMARY:a; b", 1),
            "unescaped `;`",
        ),
        (
            good.replacen("SUMMARY:", "SUMMARY:C:\\x", 1),
            "`\\` followed by",
        ),
    ];
    for (text, expected) in faults {
        let found = lint(text.as_bytes());
        assert!(
            found.iter().any(|f| f.contains(expected)),
            "expected a finding with {expected:?}, got {found:?}"
        );
    }
    // A character split across a fold: each piece is not UTF-8 on its own.
    let split = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-A:\u{e9}\r\nEND:VCALENDAR\r\n"
        .as_bytes()
        .to_vec();
    let at = split.iter().position(|&b| b == 0xC3).unwrap();
    let mut bad = split[..at + 1].to_vec();
    bad.extend_from_slice(b"\r\n ");
    bad.extend_from_slice(&split[at + 1..]);
    assert!(
        lint(&bad)
            .iter()
            .any(|f| f.contains("not UTF-8 on its own")),
        "{:?}",
        lint(&bad)
    );
}

// ── Python's parsers ────────────────────────────────────────────────────────────────────

/// The Python with `ical` and `icalendar`, or `None` (SKIPPED) when there is none — a
/// failure when `CI` is set.
fn python() -> Option<PathBuf> {
    let py = std::env::var_os("TMINUS_ICS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ics-venv/bin/python")
        });
    let found = Command::new(&py)
        .args(["-c", "import ical, icalendar"])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(py);
    }
    let how = "python3 -m venv target/ics-venv && target/ics-venv/bin/pip install ical icalendar (what .ci/run does)";
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but {} has no `ical` and `icalendar`: {how}",
            py.display()
        );
    }
    eprintln!("SKIPPED: Python's ical and icalendar are missing ({how})");
    None
}

#[test]
fn every_calendar_parses_with_pythons_strict_parsers() {
    let Some(py) = python() else {
        return;
    };
    let files = calendars();
    let o = Command::new(py)
        .arg(fixture("ics_check.py"))
        .args(files)
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.contains(&format!("{} files, 0 with errors", files.len())),
        "{out}"
    );
    eprintln!("{}", out.lines().last().unwrap_or_default());
}
