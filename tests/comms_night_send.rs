//! Gated and repeating messages sent for real (SPEC §4): the `night-comms` fixture (T-0
//! Saturday 27 March 2027, 22:00 GMT; the clocks go forward at 01:00 GMT) against the real
//! SMTP test server (aiosmtpd, see `common/smtp.rs`), every run with a pinned `--now`.
//!
//! - `status`: every 15 minutes from T-0 to T+6h to the team (lead@, dba@), its body
//!   rendered when sent with the `live` variable;
//! - `live` ("We're live"): gated on `go-no-go`, at T+5h (03:00 UTC = 04:00 BST), to
//!   everyone (ana@, bo@);
//! - `rollback`: the same gate, `on: no-go`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::smtp::{counts, python, Server};
use common::*;

macro_rules! server_or_skip {
    ($dir:expr) => {
        match python() {
            Some(py) => Server::start(&py, $dir, &[]),
            None => return,
        }
    };
}

fn send(root: &Path, port: u16, now: &str) -> Output {
    comms_send(root, port, &["--now", now])
        .env("TMINUS_SMTP_RETRY_DELAY_MS", "20")
        .output()
        .expect("run tminus")
}

/// `comms send` at `now` must succeed; returns its stdout.
fn send_ok(root: &Path, port: u16, now: &str) -> String {
    let o = send(root, port, now);
    assert!(
        o.status.success(),
        "send at {now} failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn project() -> (tempfile::TempDir, PathBuf) {
    copy_project(&fixture("night-comms"))
}

/// Appends events to `content/live.yaml` (as `tminus live` or a person would).
fn log(root: &Path, yaml: &str) {
    let path = root.join("content/live.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(yaml);
    std::fs::write(path, text).unwrap();
}

fn decide(root: &Path, outcome: &str, at_local: &str) {
    log(
        root,
        &format!("- decision: go-no-go\n  outcome: {outcome}\n  at: {at_local}\n  by: sponsor\n"),
    );
}

/// The messages received by ana@ and bo@ (the `everyone` audience): their subjects.
fn announcements(server: &Server) -> Vec<String> {
    let parser = mail_parser::MessageParser::default();
    server
        .received()
        .iter()
        .filter(|(to, _)| {
            to.iter()
                .any(|a| a == "ana@example.com" || a == "bo@example.com")
        })
        .map(|(_, bytes)| parser.parse(bytes).unwrap().subject().unwrap().to_string())
        .collect()
}

fn status_rows(root: &Path, now: &str) -> Vec<serde_json::Value> {
    let out = ok(root, &["comms", "status", "--format", "json", "--now", now]);
    serde_json::from_str(&out).expect("json")
}

fn state_of(rows: &[serde_json::Value], id: &str) -> Vec<String> {
    rows.iter()
        .filter(|r| r["id"] == id)
        .map(|r| r["state"].as_str().unwrap().to_string())
        .collect()
}

/// GO recorded at 03:50 BST, before the send time (04:00 BST): "We're live" goes at its
/// send time, not before; the rollback notice is cancelled, reported and never sent.
#[test]
fn go_before_the_send_time_sends_at_the_send_time_and_cancels_the_rollback() {
    let (tmp, root) = project();
    let server = server_or_skip!(&tmp.path().join("smtp"));
    decide(&root, "GO", "2027-03-28 03:50");
    let out = send_ok(&root, server.port, "2027-03-28T02:55:00Z");
    assert!(announcements(&server).is_empty(), "not before its time");
    assert!(
        out.contains("cancelled (the decision does not let them go"),
        "{out}"
    );
    assert!(
        out.contains("rollback → ana@example.com  (decision on go-no-go)"),
        "{out}"
    );

    let out = send_ok(&root, server.port, "2027-03-28T03:00:00Z");
    assert!(out.contains("held 0, cancelled 2"), "{out}");
    let got = announcements(&server);
    assert_eq!(got, ["Ledger Online is live", "Ledger Online is live"]);
    let rows = status_rows(&root, "2027-03-28T03:00:00Z");
    assert_eq!(state_of(&rows, "live"), ["sent", "sent"]);
    assert_eq!(state_of(&rows, "rollback"), ["cancelled", "cancelled"]);
    assert!(rows
        .iter()
        .any(|r| r["id"] == "rollback" && r["gate"] == "go-no-go"));
    // Rerun: nothing more.
    send_ok(&root, server.port, "2027-03-28T03:30:00Z");
    assert_eq!(announcements(&server).len(), 2);
    // A message that does not repeat keeps the ledger identity it always had.
    let ledger = std::fs::read_to_string(root.join(".tminus/sent.jsonl")).unwrap();
    let live: Vec<&str> = ledger
        .lines()
        .filter(|l| l.contains(r#""id":"live""#))
        .collect();
    assert_eq!(live.len(), 4, "{ledger}");
    assert!(live.iter().all(|l| !l.contains("occurrence")), "{ledger}");
}

/// No decision at the send time: both gated messages are held (reported, exit 0, nothing
/// sent). GO recorded at 04:20 BST: "We're live" goes by the next run; the rollback notice
/// is cancelled. `max_lateness` (24h) counts from the decision, so a decision a day and a
/// half after the send time would still release it (unit-tested in `send::due`).
#[test]
fn no_decision_holds_then_a_go_after_the_send_time_releases() {
    let (tmp, root) = project();
    let server = server_or_skip!(&tmp.path().join("smtp"));
    let out = send_ok(&root, server.port, "2027-03-28T03:10:00Z");
    assert!(out.contains("held (past their send time"), "{out}");
    assert!(
        out.contains("live → ana@example.com  (waits on go-no-go)"),
        "{out}"
    );
    assert!(out.contains("held 4, cancelled 0"), "{out}");
    assert!(announcements(&server).is_empty());
    let rows = status_rows(&root, "2027-03-28T03:10:00Z");
    assert_eq!(state_of(&rows, "live"), ["held", "held"]);
    let table = ok(&root, &["comms", "status", "--now", "2027-03-28T03:10:00Z"]);
    assert!(
        table.contains("waiting for the decision on go-no-go"),
        "{table}"
    );
    assert!(table.contains("4 held, 0 cancelled"), "{table}");

    decide(&root, "CONDITIONAL GO", "2027-03-28 04:20");
    log(
        &root,
        "  conditions:\n    - { text: Fix DEF-1 in the first hot-fix, owner: dba, due: T+2d }\n",
    );
    // Before the decision's time it is still held (replaying the moment).
    send_ok(&root, server.port, "2027-03-28T03:15:00Z");
    assert!(announcements(&server).is_empty());
    let out = send_ok(&root, server.port, "2027-03-28T03:25:00Z");
    assert!(out.contains("cancelled 2"), "{out}");
    assert_eq!(
        announcements(&server),
        ["Ledger Online is live", "Ledger Online is live"]
    );
    let rows = status_rows(&root, "2027-03-28T03:25:00Z");
    assert_eq!(state_of(&rows, "rollback"), ["cancelled", "cancelled"]);
}

/// NO-GO: the rollback notice goes, "We're live" never does.
#[test]
fn no_go_sends_the_rollback_notice_and_cancels_we_are_live() {
    let (tmp, root) = project();
    let server = server_or_skip!(&tmp.path().join("smtp"));
    decide(&root, "NO-GO", "2027-03-28 04:20");
    let out = send_ok(&root, server.port, "2027-03-28T03:25:00Z");
    assert!(
        out.contains("live → bo@example.com  (decision on go-no-go)"),
        "{out}"
    );
    assert_eq!(
        announcements(&server),
        [
            "Ledger Online: the go-live is rolled back",
            "Ledger Online: the go-live is rolled back"
        ]
    );
    let list = ok(
        &root,
        &[
            "comms",
            "list",
            "--format",
            "json",
            "--now",
            "2027-03-28T03:25:00Z",
        ],
    );
    let items: Vec<serde_json::Value> = serde_json::from_str(&list).unwrap();
    let live = items.iter().find(|i| i["id"] == "live").unwrap();
    assert_eq!(live["state"], "cancelled");
    send_ok(&root, server.port, "2027-03-28T06:00:00Z");
    assert_eq!(
        announcements(&server).len(),
        2,
        "never again, never the other"
    );
}

/// The status update: only the latest due occurrence is sent (the earlier ones reported
/// missed), exactly once per occurrence and recipient across reruns, across the
/// spring-forward change, each rendered when sent with the night's state as of then.
#[test]
fn repeating_status_updates_send_only_the_latest_due_once_each_rendered_when_sent() {
    let (tmp, root) = project();
    let server = server_or_skip!(&tmp.path().join("smtp"));
    log(
        &root,
        "- task: freeze\n  started: 2027-03-27 22:00\n- task: freeze\n  finished: 2027-03-27 22:35\n- task: migrate\n  started: 2027-03-27 22:40\n",
    );
    // 22:40 GMT: #1 (22:00), #2 (22:15) and #3 (22:30) are due: only #3 goes.
    let out = send_ok(&root, server.port, "2027-03-27T22:40:00Z");
    assert!(
        out.contains("sent 2, failed 0, in doubt 0, missed 4"),
        "{out}"
    );
    assert!(out.contains("only the latest is sent"), "{out}");
    assert!(
        out.contains("status @ 2027-03-27T22:00:00Z → dba@example.com"),
        "{out}"
    );
    let again = send_ok(&root, server.port, "2027-03-27T22:40:00Z");
    assert!(
        again.contains("sent 0,") && again.contains("already sent 2"),
        "{again}"
    );
    // 22:50: #4 (22:45).
    send_ok(&root, server.port, "2027-03-27T22:50:00Z");
    // 02:05 BST (01:05 UTC): #5 … #12 (23:00 … 00:45 GMT) and #13 (02:00 BST) are due.
    let out = send_ok(&root, server.port, "2027-03-28T01:05:00Z");
    assert!(out.contains("sent 2,"), "{out}");
    let got = server.received();
    let c = counts(&got);
    assert_eq!(c["lead@example.com"], 3);
    assert_eq!(c["dba@example.com"], 3);

    // Rendered when sent: the 22:40 run saw freeze done (1 of 5) five minutes late and
    // migrate started at 22:40 (planned 22:30). By hand: migrate 22:40 + 3h = 01:40 UTC,
    // verify to 02:40, go/no-go to 02:55, open to 03:25 UTC = 04:25 BST, ten minutes after
    // the plan's 04:15 BST: delayed.
    let parser = mail_parser::MessageParser::default();
    let first = parser.parse(&got[0].1).unwrap();
    assert_eq!(
        first.subject(),
        Some("Cutover status: 1 of 5 done, delayed")
    );
    let text = first.body_text(0).unwrap();
    assert!(
        text.contains("Status as of Sat 27 Mar, 22:40 GMT"),
        "{text}"
    );
    assert!(
        text.contains("Forecast finish: Sun 28 Mar, 04:25 BST"),
        "{text}"
    );
    // Migrate started 22:40 for 3h: forecast 01:40 UTC = 02:40 BST.
    assert!(
        text.contains("Now: Migrate the data (dba), forecast to finish Sun 28 Mar, 02:40 BST"),
        "{text}"
    );
    // Each occurrence is a message of its own: its own Message-ID (mail systems drop a
    // message whose Message-ID they have seen).
    let mut ids: Vec<String> = got
        .iter()
        .map(|(_, b)| parser.parse(b).unwrap().message_id().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    let last = parser.parse(&got[5].1).unwrap();
    let text = last.body_text(0).unwrap();
    assert!(
        text.contains("Status as of Sun 28 Mar, 02:05 BST"),
        "{text}"
    );

    // comms status: 25 occurrences × 2; #3, #4, #13 sent; #1, #2, #5…#12 missed.
    let rows = status_rows(&root, "2027-03-28T01:05:00Z");
    let status: Vec<&serde_json::Value> = rows.iter().filter(|r| r["id"] == "status").collect();
    assert_eq!(status.len(), 50);
    let sent: Vec<u64> = status
        .iter()
        .filter(|r| r["state"] == "sent" && r["to"] == "lead@example.com")
        .map(|r| r["occurrence"].as_u64().unwrap())
        .collect();
    assert_eq!(sent, [3, 4, 13]);
    let missed = status.iter().filter(|r| r["state"] == "missed").count();
    assert_eq!(missed, 2 * 10);
    // The ledger names each occurrence by its instant (UTC).
    let ledger = std::fs::read_to_string(root.join(".tminus/sent.jsonl")).unwrap();
    assert!(
        ledger.contains(r#""occurrence":"2027-03-28T01:00:00Z""#),
        "{ledger}"
    );
    assert!(ledger
        .lines()
        .filter(|l| l.contains(r#""id":"status""#))
        .all(|l| l.contains("occurrence")));
}
