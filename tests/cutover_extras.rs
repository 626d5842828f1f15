//! End-to-end tests of the cutover extras: calendar feeds (checked with the independent
//! `ical` parser), rehearsals and `tminus import cutover`.

mod common;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, TimeZone, Utc};
use common::*;
use ical::parser::ical::component::{IcalCalendar, IcalTimeZone};
use ical::property::Property;

// ── Calendars ────────────────────────────────────────────────────────────────────────────

fn parse_ics(path: &Path) -> IcalCalendar {
    let text = read(path);
    assert!(
        text.contains("\r\n"),
        "{}: lines end in CRLF",
        path.display()
    );
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let cal = parser
        .next()
        .unwrap_or_else(|| panic!("{}: no calendar", path.display()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(parser.next().is_none(), "one calendar per file");
    cal
}

fn prop<'a>(props: &'a [Property], name: &str) -> Option<&'a Property> {
    props.iter().find(|p| p.name == name)
}

fn value<'a>(props: &'a [Property], name: &str) -> &'a str {
    prop(props, name)
        .and_then(|p| p.value.as_deref())
        .unwrap_or_else(|| panic!("no {name}"))
}

fn param<'a>(p: &'a Property, name: &str) -> Option<&'a str> {
    p.params
        .as_ref()?
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
}

fn offset(text: &str) -> i64 {
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits = &text[1..];
    let h: i64 = digits[0..2].parse().unwrap();
    let m: i64 = digits[2..4].parse().unwrap();
    let s: i64 = digits.get(4..6).map_or(0, |s| s.parse().unwrap());
    sign * (h * 3600 + m * 60 + s)
}

/// Resolves a local time with the observances of a VTIMEZONE (RFC 5545 §3.6.5): the
/// observance in force is the one with the latest onset not after the time.
fn resolve(tz: &IcalTimeZone, local: NaiveDateTime) -> DateTime<Utc> {
    let mut best: Option<(DateTime<Utc>, i64)> = None;
    for t in &tz.transitions {
        let start = NaiveDateTime::parse_from_str(value(&t.properties, "DTSTART"), "%Y%m%dT%H%M%S")
            .expect("observance DTSTART");
        let from = offset(value(&t.properties, "TZOFFSETFROM"));
        let to = offset(value(&t.properties, "TZOFFSETTO"));
        let onset = Utc.from_utc_datetime(&(start - Duration::seconds(from)));
        let candidate = Utc.from_utc_datetime(&(local - Duration::seconds(to)));
        if candidate >= onset && best.is_none_or(|(b, _)| onset > b) {
            best = Some((onset, to));
        }
    }
    let (_, to) = best.expect("an observance covers the time");
    Utc.from_utc_datetime(&(local - Duration::seconds(to)))
}

/// DTSTART or DTEND of an event as an instant, through its TZID's VTIMEZONE.
fn instant(cal: &IcalCalendar, props: &[Property], name: &str) -> DateTime<Utc> {
    let p = prop(props, name).unwrap_or_else(|| panic!("no {name}"));
    let text = p.value.as_deref().unwrap();
    if let Some(utc) = text.strip_suffix('Z') {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").unwrap();
        return Utc.from_utc_datetime(&t);
    }
    let tzid = param(p, "TZID").expect("a TZID on every local time");
    let tz = cal
        .timezones
        .iter()
        .find(|z| value(&z.properties, "TZID") == tzid)
        .unwrap_or_else(|| panic!("no VTIMEZONE for TZID {tzid}"));
    resolve(
        tz,
        NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S").unwrap(),
    )
}

struct PlanTask {
    start: DateTime<Utc>,
    finish: DateTime<Utc>,
    owner: Option<String>,
    sequence: u64,
}

fn plan_tasks(version_dir: &Path) -> HashMap<String, PlanTask> {
    let plan: serde_json::Value =
        serde_json::from_str(&read(&version_dir.join("plan.json"))).unwrap();
    let time = |v: &serde_json::Value| {
        DateTime::<FixedOffset>::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                PlanTask {
                    start: time(&t["start"]),
                    finish: time(&t["finish"]),
                    owner: t["owner"].as_str().map(str::to_string),
                    sequence: t["sequence"].as_u64().unwrap(),
                },
            )
        })
        .collect()
}

/// Checks every feed of a built version against plan.json; returns each UID's SEQUENCE.
fn check_feeds(version_dir: &Path, slug: &str) -> HashMap<String, u64> {
    let tasks = plan_tasks(version_dir);
    let mut sequences = HashMap::new();
    let all = parse_ics(&version_dir.join("cutover/cutover.ics"));
    assert_eq!(all.events.len(), tasks.len());
    let mut owners: Vec<&str> = tasks.values().filter_map(|t| t.owner.as_deref()).collect();
    owners.sort();
    owners.dedup();
    let mut files = vec![("cutover/cutover.ics".to_string(), None)];
    files.extend(
        owners
            .iter()
            .map(|o| (format!("cutover/{o}.ics"), Some(*o))),
    );
    for (file, owner) in files {
        let cal = parse_ics(&version_dir.join(&file));
        let expected: Vec<&String> = tasks
            .iter()
            .filter(|(_, t)| owner.is_none() || t.owner.as_deref() == owner)
            .map(|(id, _)| id)
            .collect();
        assert_eq!(cal.events.len(), expected.len(), "{file}");
        for tz in &cal.timezones {
            let id = value(&tz.properties, "TZID");
            assert!(
                cal.events.iter().any(|e| {
                    ["DTSTART", "DTEND"]
                        .iter()
                        .any(|k| prop(&e.properties, k).and_then(|p| param(p, "TZID")) == Some(id))
                }),
                "{file}: VTIMEZONE {id} is not used"
            );
        }
        for e in &cal.events {
            let uid = value(&e.properties, "UID");
            let id = uid
                .strip_suffix(&format!(".{slug}@tminus"))
                .unwrap_or_else(|| panic!("{file}: UID {uid}"));
            let task = &tasks[id];
            assert_eq!(
                instant(&cal, &e.properties, "DTSTART"),
                task.start,
                "{file} {id}"
            );
            // A zero-duration task (a milestone) has no DTEND: RFC 5545 wants DTEND later
            // than DTSTART, and an event without one ends when it starts.
            if task.finish == task.start {
                assert!(prop(&e.properties, "DTEND").is_none(), "{file} {id}: DTEND");
            } else {
                assert_eq!(
                    instant(&cal, &e.properties, "DTEND"),
                    task.finish,
                    "{file} {id}"
                );
            }
            assert!(value(&e.properties, "SUMMARY").len() > 1);
            let description = value(&e.properties, "DESCRIPTION");
            assert!(description.contains("Critical path:"), "{description}");
            let seq: u64 = value(&e.properties, "SEQUENCE").parse().unwrap();
            assert_eq!(
                seq, task.sequence,
                "{file} {id}: SEQUENCE = plan.json sequence"
            );
            sequences.insert(id.to_string(), seq);
        }
    }
    sequences
}

#[test]
fn calendar_feeds_parse_and_match_the_plan_and_moves_bump_sequence() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    // One task in the pilot wave's zone, so the feed needs two VTIMEZONEs.
    edit(
        &root.join("content/cutover.yaml"),
        "    duration: 1h\n    owner: cutover-lead",
        "    duration: 1h\n    owner: cutover-lead\n    wave: pilot",
    );
    ok(&root, &["build"]);
    let v = root.join("output/v2.0");
    let all = read(&v.join("cutover/cutover.ics"));
    assert!(all.contains("DTSTART;TZID=America/New_York:"), "{all}");
    assert!(all.contains("DTSTART;TZID=Europe/London:"));
    assert_eq!(all.matches("BEGIN:VTIMEZONE").count(), 2);
    assert!(!read(&v.join("cutover/dba.ics")).contains("America/New_York"));

    let first = check_feeds(&v, "minimal-go-live");
    assert!(first.values().all(|&s| s == 0), "{first:?}");

    // Rebuilding an unchanged plan keeps every SEQUENCE.
    ok(&root, &["build"]);
    assert_eq!(check_feeds(&v, "minimal-go-live"), first);

    // The backup takes an hour longer: it and the go/no-go after it move.
    edit(
        &root.join("content/cutover.yaml"),
        "duration: 2h",
        "duration: 3h",
    );
    // v2.0 is approved, so changing it needs --force (publishing rules).
    ok(&root, &["build", "--force"]);
    let moved = check_feeds(&v, "minimal-go-live");
    assert_eq!(moved["backup"], 1);
    assert_eq!(moved["go-no-go"], 1);
    assert_eq!(moved["freeze"], 0);
    assert_eq!(moved["notes"], 0);

    // A new version keeps the sequences of the version before it.
    edit(
        &root.join("content/project.yaml"),
        "version: \"2.0\"",
        "version: \"2.1\"",
    );
    ok(&root, &["build"]);
    assert_eq!(
        check_feeds(&root.join("output/v2.1"), "minimal-go-live"),
        moved
    );
}

#[test]
fn sessions_feed_uses_tzid_and_a_vtimezone() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    ok(&root, &["build"]);
    let path = root.join("output/v2.0/training/sessions.ics");
    let cal = parse_ics(&path);
    assert_eq!(cal.events.len(), 1);
    assert_eq!(cal.timezones.len(), 1);
    let e = &cal.events[0];
    // The session is for `everyone`, an audience in Europe/Paris: its times are written
    // there (the instant is the same: 10:00 in London is 11:00 in Paris).
    assert_eq!(
        param(prop(&e.properties, "DTSTART").unwrap(), "TZID"),
        Some("Europe/Paris")
    );
    assert!(read(&path).contains("DTSTART;TZID=Europe/Paris:20270310T110000\r\n"));
    // 2027-03-10 10:00 London is GMT.
    assert_eq!(
        instant(&cal, &e.properties, "DTSTART"),
        Utc.with_ymd_and_hms(2027, 3, 10, 10, 0, 0).unwrap()
    );
    assert_eq!(
        instant(&cal, &e.properties, "DTEND"),
        Utc.with_ymd_and_hms(2027, 3, 10, 11, 0, 0).unwrap()
    );
}

const MORE_SESSIONS: &str = "
  - title: Formation en français
    start: 2027-03-11 09:00
    audience: everyone
  - title: Pilot induction (09:00 New York time)
    start: 2027-03-01 14:00
    duration: 2h
    audience: pilot
  - title: Pilot induction (09:00 New York time)
    start: 2027-03-02 14:00
    duration: 2h
    audience: pilot
";

/// Each event of a sessions feed by UID: (DTSTART's TZID, DTSTART instant, SEQUENCE).
fn session_events(path: &Path) -> HashMap<String, (String, DateTime<Utc>, u64)> {
    let cal = parse_ics(path);
    let mut out = HashMap::new();
    for e in &cal.events {
        let tzid = param(prop(&e.properties, "DTSTART").unwrap(), "TZID")
            .unwrap()
            .to_string();
        let start = instant(&cal, &e.properties, "DTSTART");
        let seq = value(&e.properties, "SEQUENCE").parse().unwrap();
        let uid = value(&e.properties, "UID").to_string();
        assert!(
            out.insert(uid, (tzid, start, seq)).is_none(),
            "one event per UID"
        );
    }
    out
}

#[test]
fn sessions_keep_their_uid_and_file_when_rescheduled_and_are_written_in_their_audiences_zone() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    let yaml = root.join("content/training/sessions.yaml");
    std::fs::write(&yaml, read(&yaml) + MORE_SESSIONS).unwrap();
    ok(&root, &["build"]);
    let v = root.join("output/v2.0");
    let uid = |id: &str| format!("minimal-go-live.session.{id}@tminus");
    let first = session_events(&v.join("training/sessions.ics"));
    assert_eq!(first.len(), 4, "{first:?}");
    // Ids from the title alone, transliterated; a repeated title is numbered.
    for id in [
        "intro-session",
        "formation-en-francais",
        "pilot-induction-09-00-new-york-time",
        "pilot-induction-09-00-new-york-time-2",
    ] {
        assert!(first.contains_key(&uid(id)), "{id}: {first:?}");
        assert!(
            v.join(format!("training/sessions/{id}.ics")).is_file(),
            "{id}"
        );
    }
    assert!(first.values().all(|(_, _, seq)| *seq == 0));
    // The pilot audience is in New York: 14:00 London on 1 March is 09:00 there.
    let (tzid, start, _) = &first[&uid("pilot-induction-09-00-new-york-time")];
    assert_eq!(tzid, "America/New_York");
    assert_eq!(*start, Utc.with_ymd_and_hms(2027, 3, 1, 14, 0, 0).unwrap());
    let one = read(&v.join("training/sessions/pilot-induction-09-00-new-york-time.ics"));
    assert!(
        one.contains("DTSTART;TZID=America/New_York:20270301T090000\r\n"),
        "{one}"
    );
    assert!(one.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"));
    assert!(!one.contains("Europe/London"), "{one}");

    // The French session moves a day: same UID and file, SEQUENCE 1; the others stay at 0.
    edit(&yaml, "start: 2027-03-11 09:00", "start: 2027-03-12 09:00");
    ok(&root, &["build", "--force"]);
    let moved = session_events(&v.join("training/sessions.ics"));
    assert_eq!(moved.len(), 4);
    let (_, start, seq) = &moved[&uid("formation-en-francais")];
    assert_eq!(*start, Utc.with_ymd_and_hms(2027, 3, 12, 9, 0, 0).unwrap());
    assert_eq!(*seq, 1);
    for id in ["intro-session", "pilot-induction-09-00-new-york-time"] {
        assert_eq!(moved[&uid(id)].2, 0, "{id}");
    }
    let one = session_events(&v.join("training/sessions/formation-en-francais.ics"));
    assert_eq!(one[&uid("formation-en-francais")].2, 1);
    let plan: serde_json::Value = serde_json::from_str(&read(&v.join("plan.json"))).unwrap();
    let recorded = plan["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "formation-en-francais")
        .unwrap();
    assert_eq!(recorded["sequence"], 1);
    assert_eq!(recorded["timezone"], "Europe/Paris");

    // Rebuilding unchanged keeps the sequences.
    ok(&root, &["build", "--force"]);
    assert_eq!(session_events(&v.join("training/sessions.ics")), moved);
}

#[test]
fn example_project_feeds_all_parse_and_match_the_plan() {
    let (_guard, root) = example();
    ok(&root, &["build"]);
    let v = root.join("output/v1.2");
    // Its milestones take no time: check_feeds sees that they have no DTEND.
    assert!(plan_tasks(&v).values().any(|t| t.start == t.finish));
    check_feeds(&v, "contoso-field-service-modernisation");
    // The overnight jobs cross the spring-forward change: the VTIMEZONE must carry it.
    let all = read(&v.join("cutover/cutover.ics"));
    assert!(all.contains("DTSTART:20270328T010000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100"));
    let sessions = parse_ics(&v.join("training/sessions.ics"));
    assert!(!sessions.events.is_empty());
    for e in &sessions.events {
        instant(&sessions, &e.properties, "DTSTART");
    }
}

#[test]
fn check_writes_no_calendar_state() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    ok(&root, &["check"]);
    assert!(!root.join("output").exists());
    assert!(!root.join(".tminus").exists());
}

// ── Rehearsals ───────────────────────────────────────────────────────────────────────────

const REHEARSAL: &str = "\
title: Dry run one
date: Saturday 13 March
t0: 2027-03-13 18:00
tasks:
  - id: freeze
    actual_start: T+0m
    actual_finish: T+25m
  - id: backup
    actual_start: T+25m
    actual_finish: T+3h7m
    notes: Slow disks
  - id: go-no-go
    actual_start: 2027-03-13 21:07
    actual_finish: 2027-03-13 21:17
";

#[test]
fn a_rehearsal_gets_a_page_and_a_reforecast_in_plan_json() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    std::fs::create_dir_all(root.join("content/rehearsals")).unwrap();
    std::fs::write(root.join("content/rehearsals/dry-run.yaml"), REHEARSAL).unwrap();
    ok(&root, &["build"]);
    let v = root.join("output/v2.0");
    let plan: serde_json::Value = serde_json::from_str(&read(&v.join("plan.json"))).unwrap();
    let r = &plan["rehearsals"][0];
    assert_eq!(r["name"], "dry-run");
    assert_eq!(r["title"], "Dry run one");
    let tasks = r["tasks"].as_array().unwrap();
    let ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["freeze", "backup", "go-no-go"]);
    // backup: planned 120m, actual 162m → +42m, +35%.
    assert_eq!(tasks[1]["planned_minutes"], 120);
    assert_eq!(tasks[1]["actual_minutes"], 162);
    assert_eq!(tasks[1]["variance_minutes"], 42);
    assert_eq!(tasks[1]["variance_percent"], 35.0);
    assert_eq!(tasks[1]["actual_start"], "2027-03-13T18:25:00+00:00");
    assert_eq!(tasks[0]["variance_minutes"], -5);
    // Forecast: 18:00 + 25m + 162m + 10m = 21:17 BST on go-live night, 32 minutes late.
    assert_eq!(
        r["forecast"]["window"]["finish"],
        "2027-03-29T21:17:00+01:00"
    );
    assert_eq!(r["forecast"]["finish_delta_minutes"], 32);
    assert_eq!(
        r["forecast"]["critical_path"],
        serde_json::json!(["freeze", "backup", "go-no-go"])
    );
    let page = read(&v.join("cutover/rehearsals/dry-run/index.html"));
    for needle in [
        "Dry run one",
        "Slow disks",
        "+42m",
        "+35%",
        "+32m",
        "<table",
    ] {
        assert!(page.contains(needle), "{needle:?} in the rehearsal page");
    }
    let links = internal_links(&v);
    for (file, link) in links
        .iter()
        .filter(|(f, _)| f.to_string_lossy().contains("rehearsals"))
    {
        let link = link.replace("&#x2F;", "/");
        let target = file.parent().unwrap().join(link.split('#').next().unwrap());
        assert!(target.exists(), "{}: broken link {link}", file.display());
    }
}

#[test]
fn bad_rehearsals_are_reported_with_file_line_and_column() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    std::fs::create_dir_all(root.join("content/rehearsals")).unwrap();
    std::fs::write(
        root.join("content/rehearsals/bad.yaml"),
        "\
title: Bad
tasks:
  - id: frieze
    actual_start: 2027-03-13 18:00
    actual_finish: 2027-03-13 18:30
  - id: backup
    actual_start: 2027-03-13 20:00
    actual_finish: 2027-03-13 19:00
  - id: notes
    actual_start: T+1h
    actual_finish: 2027-03-13 25:00
  - id: go-no-go
    actual_start: 2027-03-13 18:00
    actual_finsh: 2027-03-13 18:10
",
    )
    .unwrap();
    let o = tminus(&root, &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for needle in [
        "content/rehearsals/bad.yaml:3:9: unknown cutover task `frieze`",
        "did you mean `freeze`?",
        "content/rehearsals/bad.yaml:8:20: task `backup` finished (2027-03-13 19:00) before it started (2027-03-13 20:00)",
        "content/rehearsals/bad.yaml:10:19: `T+1h` is a T-offset, but this rehearsal has no `t0:`",
        "content/rehearsals/bad.yaml:11:20:",
        "content/rehearsals/bad.yaml:14:5: unknown key `actual_finsh`",
    ] {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
    assert!(!root.join("output").exists());
}

// ── Import ───────────────────────────────────────────────────────────────────────────────

fn import_fixture(name: &str) -> std::path::PathBuf {
    fixture("import").join(name)
}

#[test]
fn import_writes_a_plan_that_builds() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    let csv = import_fixture("good.csv");
    let csv = csv.to_str().unwrap();
    // The fixture already has a cutover.yaml: refused without --force, untouched.
    let before = read(&root.join("content/cutover.yaml"));
    let o = tminus(&root, &["import", "cutover", csv]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"));
    assert_eq!(read(&root.join("content/cutover.yaml")), before);

    let out = ok(&root, &["import", "cutover", csv, "--force"]);
    assert!(out.contains("imported 4 tasks"), "{out}");
    assert!(out.contains("checked against the project"), "{out}");
    let yaml = read(&root.join("content/cutover.yaml"));
    assert!(
        yaml.starts_with("# Cutover plan imported from good.csv"),
        "{yaml}"
    );
    assert!(
        yaml.contains("    title: \"Final backup: full, verified\"\n"),
        "{yaml}"
    );
    assert!(yaml.contains("    after: [backup, notes]\n"), "{yaml}");
    assert!(yaml.contains("    duration: 60m\n"), "{yaml}");
    assert!(yaml.contains("    type: go-no-go\n"), "{yaml}");
    ok(&root, &["build"]);
    let plan: serde_json::Value =
        serde_json::from_str(&read(&root.join("output/v2.0/plan.json"))).unwrap();
    assert_eq!(
        plan["critical_path"],
        serde_json::json!(["freeze", "backup", "go-no-go"])
    );

    // --out elsewhere, without a project at --root: written, not checked.
    let elsewhere = root.join("exported/plan.yaml");
    let empty = tempfile::tempdir().unwrap();
    let out = ok(
        empty.path(),
        &[
            "import",
            "cutover",
            csv,
            "--out",
            elsewhere.to_str().unwrap(),
        ],
    );
    assert!(out.contains("not checked"), "{out}");
    assert_eq!(read(&elsewhere), yaml);
}

#[test]
fn import_reports_every_bad_row_and_writes_nothing() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    std::fs::remove_file(root.join("content/cutover.yaml")).unwrap();
    let csv = import_fixture("bad.csv");
    let o = tminus(&root, &["import", "cutover", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for needle in [
        "bad.csv:3:1: column `id` (A): `Backup Now` is not a valid task id",
        "bad.csv:4:",
        "column `duration` (D)",
        "bad.csv:5:",
        "column `predecessors` (E): task `go-no-go` comes after unknown task `backup`",
        "task `go-no-go` comes after unknown task `nots`",
        "did you mean `notes`?",
        "bad.csv:6:",
        "column `start` (F)",
        "bad.csv:7:1: column `id` (A): duplicate task id `freeze`",
        "first used on line 2",
    ] {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
    assert!(
        !root.join("content/cutover.yaml").exists(),
        "nothing written"
    );

    let o = tminus(
        &root,
        &[
            "import",
            "cutover",
            import_fixture("missing-column.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("missing required column `title`"), "{err}");
    assert!(err.contains("unknown column `name`"), "{err}");
    assert!(!root.join("content/cutover.yaml").exists());
}

#[test]
fn import_is_validated_with_the_project_and_points_at_the_csv_row() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    std::fs::remove_file(root.join("content/cutover.yaml")).unwrap();
    let csv = import_fixture("unknown-owner.csv");
    let o = tminus(&root, &["import", "cutover", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("unknown-owner.csv:3:"), "{err}");
    assert!(err.contains("unknown owner (roster role) `dbaa`"), "{err}");
    assert!(err.contains("did you mean `dba`?"), "{err}");
    assert!(
        !root.join("content/cutover.yaml").exists(),
        "nothing written"
    );
}
