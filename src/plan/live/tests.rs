//! The state and forecast of a night across the spring-forward change, worked out by hand.
//!
//! The plan (see `load::live::tests::night`), Europe/London, clocks go forward at
//! 2027-03-28 01:00 GMT (= 02:00 BST): freeze 23:00–23:30 GMT, extract 23:30 GMT–02:30 BST
//! (two hours of elapsed time), gng 02:30–02:45, load 02:45–03:45, ponr at 03:45, verify
//! 03:45–04:15 BST. Planned finish 04:15 BST (03:15 UTC); rollback deadline 04:00 BST, so
//! 15 minutes of slack before the point of no return.

use chrono::{TimeZone, Utc};

use super::*;
use crate::load::live::tests::{check, night};
use crate::plan::cutover::schedule;

const LOG: &str = "\
- task: freeze
  started: 2027-03-27 23:02
  by: dba
- task: freeze
  finished: 2027-03-27 23:35
- task: extract
  started: 2027-03-27 23:40
- task: extract
  blocked: 2027-03-28 00:40
  note: Source database locked by the nightly backup
- task: extract
  unblocked: 2027-03-28 02:10
- task: extract
  finished: 2027-03-28 02:50
- task: gng
  started: 2027-03-28 02:50
- decision: gng
  outcome: GO
  at: 2027-03-28 03:00
  by: sponsor
  note: All checks green
- task: gng
  finished: 2027-03-28 03:00
";

fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, d, h, m, 0).unwrap()
}

fn at(log: &str, now: DateTime<Utc>) -> LiveState {
    let mut p = night();
    p.live = check(&p, log).unwrap();
    let s = schedule(&p.cutover, p.go_live);
    state(&p, &s, now)
}

fn u(t: Option<DateTime<Tz>>) -> DateTime<Utc> {
    t.unwrap().with_timezone(&Utc)
}

fn f(s: &LiveState, id: &str) -> (DateTime<Utc>, DateTime<Utc>) {
    let t = s.task(id).unwrap();
    (
        t.forecast_start.with_timezone(&Utc),
        t.forecast_finish.with_timezone(&Utc),
    )
}

fn states(s: &LiveState) -> Vec<&'static str> {
    s.tasks.iter().map(|t| t.state.label()).collect()
}

#[test]
fn before_the_night_the_forecast_is_the_plan() {
    let s = at(LOG, utc(27, 12, 0));
    assert_eq!(
        states(&s),
        ["ready", "waiting", "waiting", "waiting", "waiting", "waiting"]
    );
    assert_eq!(f(&s, "freeze"), (utc(27, 23, 0), utc(27, 23, 30)));
    // extract: 23:30 GMT + 2h elapsed = 01:30 UTC = 02:30 BST.
    assert_eq!(f(&s, "extract"), (utc(27, 23, 30), utc(28, 1, 30)));
    assert_eq!(u(s.forecast_finish), utc(28, 3, 15));
    assert_eq!(s.forecast_finish, s.planned_finish);
    assert_eq!(u(s.forecast_point_of_no_return), utc(28, 2, 45));
    assert_eq!(s.slack_minutes, Some(15));
    assert_eq!(s.status, NightStatus::OnTrack);
    assert_eq!((s.done, s.total), (0, 6));
    assert_eq!(s.next, ["freeze"]);
    assert!(s.decisions.is_empty());
}

#[test]
fn at_half_past_midnight_extract_is_in_progress_and_the_night_ten_minutes_late() {
    let s = at(LOG, utc(28, 0, 30));
    assert_eq!(
        states(&s),
        [
            "done",
            "in progress",
            "waiting",
            "waiting",
            "waiting",
            "waiting"
        ]
    );
    let freeze = s.task("freeze").unwrap();
    assert_eq!(u(freeze.actual_start), utc(27, 23, 2));
    assert_eq!(u(freeze.actual_finish), utc(27, 23, 35));
    // extract started 23:40 GMT: 2h later is 01:40 UTC (02:40 BST).
    assert_eq!(f(&s, "extract"), (utc(27, 23, 40), utc(28, 1, 40)));
    assert_eq!(f(&s, "gng"), (utc(28, 1, 40), utc(28, 1, 55)));
    assert_eq!(f(&s, "load"), (utc(28, 1, 55), utc(28, 2, 55)));
    // Point of no return 03:55 BST, 5 minutes before the 04:00 deadline.
    assert_eq!(u(s.forecast_point_of_no_return), utc(28, 2, 55));
    assert_eq!(s.slack_minutes, Some(5));
    // Finish 04:25 BST against 04:15 planned.
    assert_eq!(u(s.forecast_finish), utc(28, 3, 25));
    assert_eq!(s.delay_minutes, Some(10));
    assert_eq!(s.status, NightStatus::Delayed);
    assert_eq!((s.done, s.total), (1, 6));
    assert_eq!(s.current, ["extract"]);
    assert!(s.next.is_empty());
    // Local times across the change: 00:30 GMT as_of, forecast finish in BST.
    assert_eq!(
        crate::time::stamp::rfc3339(&s.as_of),
        "2027-03-28T00:30:00+00:00"
    );
    assert_eq!(
        crate::time::stamp::rfc3339(&s.forecast_finish.unwrap()),
        "2027-03-28T04:25:00+01:00"
    );
}

#[test]
fn while_blocked_the_status_is_blocked_with_the_note() {
    let s = at(LOG, utc(28, 0, 50));
    assert_eq!(s.status, NightStatus::Blocked);
    assert_eq!(s.blocked, ["extract"]);
    let t = s.task("extract").unwrap();
    assert_eq!(t.state, TaskState::Blocked);
    assert_eq!(u(t.blocked_since), utc(28, 0, 40));
    assert_eq!(
        t.note.as_deref(),
        Some("Source database locked by the nightly backup")
    );
    assert_eq!(f(&s, "extract"), (utc(27, 23, 40), utc(28, 1, 40)));
    // Unblocked at 02:10 BST (01:10 UTC): in progress again, the night delayed.
    let s = at(LOG, utc(28, 1, 20));
    assert_eq!(s.task("extract").unwrap().state, TaskState::InProgress);
    assert_eq!(s.status, NightStatus::Delayed);
    assert!(s.blocked.is_empty());
}

/// Events count from their times, not from where they were written: a block of extract
/// recorded late (00:10–00:30 BST… GMT, written after the 00:40 block and its end) replays
/// as it happened.
#[test]
fn events_written_late_replay_at_their_own_times() {
    let log = format!(
        "{LOG}- task: extract\n  blocked: 2027-03-28 00:10\n  note: Network down\n\
         - task: extract\n  unblocked: 2027-03-28 00:30\n"
    );
    // 00:20: within the late block.
    let s = at(&log, utc(28, 0, 20));
    let t = s.task("extract").unwrap();
    assert_eq!(t.state, TaskState::Blocked);
    assert_eq!(u(t.blocked_since), utc(28, 0, 10));
    assert_eq!(t.note.as_deref(), Some("Network down"));
    // 00:50: within the block written first (read in file order, the late unblock at 00:30
    // would have ended it).
    let s = at(&log, utc(28, 0, 50));
    let t = s.task("extract").unwrap();
    assert_eq!(t.state, TaskState::Blocked);
    assert_eq!(u(t.blocked_since), utc(28, 0, 40));
    // 00:35: between the two.
    assert_eq!(
        at(&log, utc(28, 0, 35)).task("extract").unwrap().state,
        TaskState::InProgress
    );
}

#[test]
fn a_task_running_past_its_duration_finishes_now_at_the_earliest() {
    // 02:45 BST: extract should have ended at 02:40 BST; it is still running.
    let s = at(LOG, utc(28, 1, 45));
    assert_eq!(f(&s, "extract"), (utc(27, 23, 40), utc(28, 1, 45)));
    assert_eq!(f(&s, "gng"), (utc(28, 1, 45), utc(28, 2, 0)));
    assert_eq!(u(s.forecast_point_of_no_return), utc(28, 3, 0));
    assert_eq!(s.slack_minutes, Some(0));
    assert_eq!(u(s.forecast_finish), utc(28, 3, 30));
    assert_eq!(s.delay_minutes, Some(15));
}

#[test]
fn after_the_go_the_next_task_starts_now() {
    // 03:05 BST: extract done 23:40–02:50 BST, gng done 02:50–03:00 with a GO at 03:00.
    let s = at(LOG, utc(28, 2, 5));
    assert_eq!(
        states(&s),
        ["done", "done", "done", "ready", "waiting", "waiting"]
    );
    assert_eq!(f(&s, "gng"), (utc(28, 1, 50), utc(28, 2, 0)));
    assert_eq!(f(&s, "load"), (utc(28, 2, 5), utc(28, 3, 5)));
    assert_eq!(s.slack_minutes, Some(-5));
    assert_eq!(u(s.forecast_finish), utc(28, 3, 35));
    assert_eq!(s.status, NightStatus::Delayed);
    assert_eq!(s.next, ["load"]);
    assert_eq!(s.decisions.len(), 1);
    let d = s.decision("gng").unwrap();
    assert_eq!((d.outcome, d.by.as_deref()), (Outcome::Go, Some("sponsor")));
    assert_eq!(
        crate::time::stamp::rfc3339(&d.at),
        "2027-03-28T03:00:00+01:00"
    );
}

#[test]
fn the_latest_decision_at_or_before_an_instant() {
    let mut p = night();
    let log = "\
- decision: gng
  outcome: NO-GO
  at: 2027-03-28 02:40
- decision: gng
  outcome: GO
  at: 2027-03-28 03:00
";
    p.live = check(&p, log).unwrap();
    assert!(decision(&p, "gng", utc(28, 1, 39)).is_none());
    assert_eq!(
        decision(&p, "gng", utc(28, 1, 40)).unwrap().outcome,
        Outcome::NoGo
    );
    assert_eq!(
        decision(&p, "gng", utc(28, 2, 0)).unwrap().outcome,
        Outcome::Go
    );
    assert!(decision(&p, "other", utc(28, 2, 0)).is_none());
    let s = schedule(&p.cutover, p.go_live);
    assert_eq!(state(&p, &s, utc(28, 1, 45)).status, NightStatus::NoGo);
    // Decided again: GO. The NO-GO no longer stands.
    let later = state(&p, &s, utc(28, 2, 0));
    assert_ne!(later.status, NightStatus::NoGo);
    assert_eq!(later.decisions.len(), 2);
    assert_eq!(later.decision("gng").unwrap().outcome, Outcome::Go);
}

#[test]
fn a_no_go_outranks_a_block() {
    let log = "\
- task: freeze
  blocked: 2027-03-27 23:10
- decision: gng
  outcome: no-go
  at: 2027-03-27 23:20
";
    let s = at(log, utc(27, 23, 30));
    assert_eq!(s.status, NightStatus::NoGo);
    assert_eq!(s.blocked, ["freeze"]);
}

#[test]
fn plan_json_live_has_the_spec_fields() {
    let s = at(LOG, utc(28, 0, 30));
    let v = serde_json::to_value(&s).unwrap();
    for key in [
        "as_of",
        "done",
        "total",
        "status",
        "forecast_finish",
        "forecast_point_of_no_return",
        "tasks",
        "decisions",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(v["status"], "delayed");
    assert_eq!(v["tasks"][1]["state"], "in progress");
    assert_eq!(v["tasks"][1]["actual_start"], "2027-03-27T23:40:00+00:00");
    assert_eq!(v["tasks"][1]["actual_finish"], serde_json::Value::Null);
    assert_eq!(
        v["tasks"][1]["forecast_finish"],
        "2027-03-28T02:40:00+01:00"
    );
    let s = at(LOG, utc(28, 3, 0));
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["decisions"][0]["gate"], "gng");
    assert_eq!(v["decisions"][0]["outcome"], "GO");
    assert_eq!(v["decisions"][0]["at"], "2027-03-28T03:00:00+01:00");
    assert_eq!(v["decisions"][0]["by"], "sponsor");
}
