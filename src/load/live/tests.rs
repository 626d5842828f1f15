//! The live log's rules, each on a small night worked out by hand.

use chrono::{TimeZone, Utc};
use chrono_tz::Europe::London;

use super::*;
use crate::model::project::RosterEntry;
use crate::project::Task;

fn task(id: &str, after: &[&str], minutes: i64, kind: TaskKind, anchor: Option<&str>) -> Task {
    Task {
        id: id.into(),
        title: id.to_uppercase(),
        anchor: anchor.map(|a| {
            crate::time::local_to_instant(
                chrono::NaiveDateTime::parse_from_str(a, "%Y-%m-%d %H:%M").unwrap(),
                London,
            )
        }),
        after: after.iter().map(|s| s.to_string()).collect(),
        duration: chrono::Duration::minutes(minutes),
        owner: Some("dba".into()),
        kind,
        runbook: None,
        rollback: None,
        wave: None,
        phase: None,
        notes: None,
        zone: London,
    }
}

/// A night in Europe/London across the spring-forward change (2027-03-28 01:00 GMT → 02:00
/// BST): T-0 is 2027-03-27 23:00 GMT; freeze 23:00–23:30, extract 23:30–02:30 BST (2h of
/// elapsed time across the gap), gng (go-no-go) 02:30–02:45, load 02:45–03:45, ponr
/// (point of no return) at 03:45, verify 03:45–04:15. Rollback deadline 04:00 BST.
pub(crate) fn night() -> Project {
    let mut p = crate::load::tests_support::empty_project();
    p.zone = London;
    p.go_live = London.with_ymd_and_hms(2027, 3, 27, 23, 0, 0).unwrap();
    p.references_unknown = false;
    for role in ["dba", "cutover-lead", "sponsor"] {
        p.roster.push(RosterEntry {
            role: role.into(),
            title: None,
            name: role.to_uppercase(),
            email: None,
            phone: None,
        });
    }
    p.cutover.tasks = vec![
        task("freeze", &[], 30, TaskKind::Task, Some("2027-03-27 23:00")),
        task("extract", &["freeze"], 120, TaskKind::Task, None),
        task("gng", &["extract"], 15, TaskKind::GoNoGo, None),
        task("load", &["gng"], 60, TaskKind::Task, None),
        task("ponr", &["load"], 0, TaskKind::PointOfNoReturn, None),
        task("verify", &["ponr"], 30, TaskKind::Task, None),
    ];
    p.cutover.rollback_deadline = Some(London.with_ymd_and_hms(2027, 3, 28, 4, 0, 0).unwrap());
    p
}

/// Checks `text` as a live log of [`night`]: the events, or the errors as
/// `line:col message`.
pub(crate) fn check(p: &Project, text: &str) -> Result<Vec<LiveEvent>, Vec<String>> {
    let file = SourceFile::new(PATH, text);
    let mut diags = Diagnostics::new();
    let events = events(&file, p, &mut diags);
    if diags.is_empty() {
        Ok(events)
    } else {
        Err(diags
            .into_sorted()
            .iter()
            .map(|d| format!("{}: {}", d.location(), d.message))
            .collect())
    }
}

fn errors(text: &str) -> Vec<String> {
    check(&night(), text).expect_err("errors expected")
}

#[test]
fn a_good_night_reads_in_file_order_with_times_in_the_zone_in_force() {
    let text = "# the night\n\
- task: freeze\n  started: 2027-03-27 23:02\n  by: dba\n\
- task: freeze\n  finished: T+31m\n\
- task: extract\n  started: 2027-03-27 23:35\n\
- task: extract\n  blocked: 2027-03-28 00:40\n  note: Source locked\n\
- task: extract\n  unblocked: 2027-03-28 02:10\n\
- decision: gng\n  outcome: conditional-go\n  at: 2027-03-28T03:00:00+01:00\n  by: sponsor\n  conditions:\n    - { text: Fix DEF-1, owner: dba, due: T+2d }\n";
    let events = check(&night(), text).unwrap();
    assert_eq!(events.len(), 6);
    assert_eq!(events[0].line, 2);
    assert_eq!(events[0].by.as_deref(), Some("dba"));
    // 23:02 GMT.
    assert_eq!(
        events[0].at_utc(),
        Utc.with_ymd_and_hms(2027, 3, 27, 23, 2, 0).unwrap()
    );
    // T+31m from 23:00 GMT.
    assert_eq!(
        events[1].at_utc(),
        Utc.with_ymd_and_hms(2027, 3, 27, 23, 31, 0).unwrap()
    );
    // 02:10 local is after the change: BST, 01:10 UTC.
    assert_eq!(
        events[4].at_utc(),
        Utc.with_ymd_and_hms(2027, 3, 28, 1, 10, 0).unwrap()
    );
    assert_eq!(events[3].note.as_deref(), Some("Source locked"));
    let d = events[5].decision().unwrap();
    assert_eq!(d.outcome, Outcome::ConditionalGo);
    assert_eq!(
        events[5].at_utc(),
        Utc.with_ymd_and_hms(2027, 3, 28, 2, 0, 0).unwrap()
    );
    // T+2d keeps T-0's wall-clock time (23:00) on local dates: 2027-03-29 23:00 BST.
    assert_eq!(
        d.conditions[0].due.unwrap().with_timezone(&Utc),
        Utc.with_ymd_and_hms(2027, 3, 29, 22, 0, 0).unwrap()
    );
}

#[test]
fn an_empty_or_comment_only_log_has_no_events() {
    assert!(check(&night(), "").unwrap().is_empty());
    assert!(check(&night(), "# go-live night\n\n").unwrap().is_empty());
}

#[test]
fn a_time_in_the_spring_forward_gap_moves_forward_by_the_gap() {
    let events = check(&night(), "- task: freeze\n  started: 2027-03-28 01:30\n").unwrap();
    // 01:30 does not exist in London that night: it is 02:30 BST, 01:30 UTC.
    assert_eq!(
        events[0].at_utc(),
        Utc.with_ymd_and_hms(2027, 3, 28, 1, 30, 0).unwrap()
    );
}

#[test]
fn unknown_tasks_gates_and_roles_are_located() {
    let e = errors("- task: frezee\n  started: T-0\n- decision: gng\n  outcome: GO\n  at: T+3h\n  by: nobody\n");
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("content/live.yaml:1:9: unknown task `frezee`"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with("content/live.yaml:6:7: unknown owner (roster role) `nobody`"),
        "{e:?}"
    );
    let e = errors("- decision: gnx\n  outcome: GO\n  at: T+3h\n");
    assert!(
        e[0].contains("1:13: unknown gate (go-no-go task) `gnx`"),
        "{e:?}"
    );
}

#[test]
fn a_decision_on_a_task_that_is_not_go_no_go() {
    let e = errors("- decision: load\n  outcome: GO\n  at: T+3h\n");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].contains("1:13: `load` is a task task, not a go/no-go"),
        "{e:?}"
    );
}

#[test]
fn a_conditional_go_needs_conditions_and_a_go_has_none() {
    let e = errors("- decision: gng\n  outcome: CONDITIONAL GO\n  at: T+3h\n");
    assert!(
        e[0].contains("2:12: the CONDITIONAL GO on `gng` names no conditions"),
        "{e:?}"
    );
    let e = errors("- decision: gng\n  outcome: NO-GO\n  at: T+3h\n  conditions: [{ text: x }]\n");
    assert!(e[0].contains("a NO-GO has no conditions"), "{e:?}");
    let e = errors("- decision: gng\n  outcome: MAYBE\n  at: T+3h\n");
    assert!(e[0].contains("2:12: `MAYBE` is not an outcome"), "{e:?}");
    let e = errors("- decision: gng\n  outcome: GO\n");
    assert!(
        e[0].contains("1:13: the decision on `gng` has no time"),
        "{e:?}"
    );
    let e = errors("- decision: gng\n  outcome: CONDITIONAL GO\n  at: T+3h\n  conditions:\n    - { text: x, owner: ghost, due: soon }\n");
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].contains("5:25: unknown owner (roster role) `ghost`"),
        "{e:?}"
    );
    assert!(e[1].contains("5:37: `soon` is not"), "{e:?}");
}

#[test]
fn keys_that_do_not_go_together() {
    let e = errors("- task: freeze\n  started: T-0\n  finished: T+30m\n");
    assert!(
        e[0].contains("3:13: an event records one thing; this one also has `started`"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  note: nothing\n");
    assert!(
        e[0].contains("1:9: the event of task `freeze` says nothing happened"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  decision: gng\n");
    assert!(
        e[0].contains("2:13: an event is either a task event"),
        "{e:?}"
    );
    let e = errors("- note: hello\n");
    assert!(
        e[0].contains("this event names no task and no decision"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  at: T-0\n");
    assert!(e[1].contains("2:7: `at` belongs to a decision"), "{e:?}");
    let e = errors("- decision: gng\n  outcome: GO\n  at: T+3h\n  started: T+3h\n");
    assert!(
        e[0].contains("4:12: `started` belongs to a task event"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  begun: T-0\n");
    assert!(
        e.iter().any(|e| e.contains("2:3: unknown key `begun`")),
        "{e:?}"
    );
}

#[test]
fn a_bad_time_is_located() {
    let e = errors("- task: freeze\n  started: 2027-02-30 18:00\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("content/live.yaml:2:12:"), "{e:?}");
    let e = errors("- task: freeze\n  started: yesterday\n");
    assert!(e[0].starts_with("content/live.yaml:2:12:"), "{e:?}");
}

#[test]
fn the_order_of_a_tasks_events() {
    let e = errors("- task: freeze\n  started: T-0\n- task: freeze\n  started: T+5m\n");
    assert!(
        e[0].contains("4:12: task `freeze` is started a second time (it started on line 1)"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  started: 2027-03-27 23:10\n- task: freeze\n  finished: 2027-03-27 23:05\n");
    assert!(e[0].contains("4:13: task `freeze` finishes at 2027-03-27 23:05 before it started at 2027-03-27 23:10 (line 1)"), "{e:?}");
    let e = errors("- task: freeze\n  finished: T+30m\n- task: freeze\n  finished: T+31m\n");
    assert!(e[0].contains("finished a second time"), "{e:?}");
    let e = errors("- task: freeze\n  unblocked: T+30m\n");
    assert!(
        e[0].contains("2:14: task `freeze` is unblocked but was not blocked"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  blocked: T+10m\n- task: freeze\n  blocked: T+20m\n");
    assert!(
        e[0].contains("blocked again while still blocked (since line 1)"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  blocked: T+10m\n- task: freeze\n  unblocked: T+5m\n");
    assert!(
        e[0].contains("4:14: task `freeze` unblocked at 2027-03-27 23:05 is earlier than its latest event (2027-03-27 23:10)")
            && e[0].contains("line 3: task `freeze` is unblocked but was not blocked"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  started: T-0\n- task: freeze\n  blocked: T+10m\n- task: freeze\n  finished: T+30m\n");
    assert!(
        e[0].contains("finishes while it is blocked (since line 3)"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  finished: T+30m\n- task: freeze\n  blocked: T+40m\n");
    assert!(
        e[0].contains("blocked at 2027-03-27 23:40 after it finished"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  finished: T+30m\n- task: freeze\n  started: T+40m\n");
    assert!(
        e[0].contains("starts at 2027-03-27 23:40 after it finished"),
        "{e:?}"
    );
    // Written out of order but consistent: fine (a forgotten start added later).
    check(
        &night(),
        "- task: freeze\n  finished: T+30m\n- task: freeze\n  started: T-0\n",
    )
    .unwrap();
    // Blocked, unblocked, blocked again: fine.
    check(&night(), "- task: freeze\n  blocked: T+1m\n- task: freeze\n  unblocked: T+2m\n- task: freeze\n  blocked: T+3m\n").unwrap();
}

/// A task's events are read in the order of their times, whatever order they were written
/// in: one written after a later event must leave every later event of the task right.
#[test]
fn a_tasks_events_add_up_in_the_order_of_their_times() {
    // Blocked at 23:05 (before its start), never unblocked before the block written first
    // at 23:40: in time order the task is blocked again while still blocked.
    let log = "- task: freeze\n  started: T-0\n- task: freeze\n  blocked: T+40m\n\
               - task: freeze\n  unblocked: T+50m\n- task: freeze\n  blocked: T+5m\n";
    let e = errors(log);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("8:12: task `freeze` blocked at 2027-03-27 23:05 is earlier than its latest event (2027-03-27 23:50)"),
        "{e:?}"
    );
    assert!(
        e[0].contains("line 3: task `freeze` is blocked again while still blocked (since line 7)"),
        "{e:?}"
    );
    // A start recorded late, after a block written earlier but at a later time: fine.
    check(
        &night(),
        "- task: freeze\n  blocked: T+10m\n- task: freeze\n  started: T-0\n",
    )
    .unwrap();
    // Finished while blocked, in order: an error. A block and its end recorded after the
    // finish, in the order they happened: fine.
    check(&night(), "- task: freeze\n  started: T-0\n- task: freeze\n  blocked: T+5m\n- task: freeze\n  finished: T+30m\n")
        .unwrap_err();
    check(&night(), "- task: freeze\n  started: T-0\n- task: freeze\n  blocked: T+5m\n- task: freeze\n  unblocked: T+10m\n- task: freeze\n  finished: T+30m\n- task: freeze\n  blocked: T+12m\n- task: freeze\n  unblocked: T+14m\n")
        .unwrap();
    // A block recorded late into a finished task, never unblocked: the finish comes while
    // it is blocked.
    let e = errors("- task: freeze\n  started: T-0\n- task: freeze\n  finished: T+30m\n- task: freeze\n  blocked: T+10m\n");
    assert!(
        e[0].contains("line 3: task `freeze` finishes while it is blocked (since line 5)"),
        "{e:?}"
    );
    // A start recorded late that comes after the finish in time: the rule at once.
    let e = errors("- task: freeze\n  finished: T+30m\n- task: freeze\n  started: T+31m\n");
    assert!(
        e[0].contains("starts at 2027-03-27 23:31 after it finished"),
        "{e:?}"
    );
}

#[test]
fn every_error_of_a_log_at_once() {
    let e = errors("- task: nope\n  started: T-0\n- task: freeze\n  started: never\n- decision: load\n  outcome: GO\n  at: T+1h\n");
    assert_eq!(e.len(), 3, "{e:?}");
}

#[test]
fn outcomes_read_in_any_spelling() {
    assert_eq!(Outcome::parse("go"), Some(Outcome::Go));
    assert_eq!(
        Outcome::parse("Conditional-Go"),
        Some(Outcome::ConditionalGo)
    );
    assert_eq!(
        Outcome::parse("CONDITIONAL GO"),
        Some(Outcome::ConditionalGo)
    );
    assert_eq!(Outcome::parse("no-go"), Some(Outcome::NoGo));
    assert_eq!(Outcome::parse("NO-GO"), Some(Outcome::NoGo));
    assert_eq!(Outcome::parse("nogo"), Some(Outcome::NoGo));
    assert_eq!(Outcome::parse("yes"), None);
}

#[test]
fn a_log_that_is_not_a_list_or_holds_something_else() {
    let e = errors("# night\ntask: freeze\nstarted: T-0\n");
    assert_eq!(
        e,
        ["content/live.yaml:2:1: the live log is a list of events, each starting with `- `"]
    );
    let e = errors("- task: freeze\n  started: T-0\n- 42\n");
    assert!(
        e[0].starts_with("content/live.yaml:3:3:") && e[0].contains("should be an event"),
        "{e:?}"
    );
    let e = errors("- task: freeze\n  started: [T-0\n");
    assert!(e[0].contains("this is not valid YAML"), "{e:?}");
}
