//! `tminus comms send` and `comms status` end to end: the real binary against a real SMTP
//! server (tests/fixtures/smtp_server.py, aiosmtpd) on 127.0.0.1, with misbehaviour
//! switched on per test. What the server received is parsed back with `mail-parser`.
//!
//! Needs Debian's python3-aiosmtpd (see `common/smtp.rs`); without it the tests skip with a
//! message — unless `CI` is set, where they fail.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::smtp::{counts, python, received, Server};
use common::*;

const NOW: &str = "2027-03-15T12:00:00Z"; // the main wave's T-14d 09:00 Paris was 4h ago
const MAIN_SEND_AT: i64 = 1_805_097_600; // 2027-03-15T08:00:00Z
const NOW_TIMESTAMP: i64 = MAIN_SEND_AT + 4 * 3600; // NOW

/// aiosmtpd with the misbehaviour `args`; without aiosmtpd (and CI not set), the embedded
/// server when the test needs a well-behaved one, else returns from the test (SKIPPED).
macro_rules! server_or_skip {
    ($dir:expr $(, $arg:expr)* $(,)?) => {{
        let args: &[&str] = &[$($arg),*];
        match python() {
            Some(py) => Server::start(&py, $dir, args),
            None if args.is_empty() => Server::embedded($dir),
            None => return,
        }
    }};
}

/// The minimal fixture with `n` recipients in the main wave (every 4th in French), a
/// fast rate limit and one connection (these tests follow one session message by message;
/// `comms_parallel.rs` sends over many).
fn project(n: usize) -> (tempfile::TempDir, PathBuf) {
    with_audience(&users_csv(n), "rate_per_second: 500, connections: 1")
}

fn command(root: &Path, port: u16, args: &[&str]) -> Command {
    let mut c = comms_send(root, port, args);
    c.env("TMINUS_SMTP_RETRY_DELAY_MS", "20");
    c
}

fn send(root: &Path, port: u16, args: &[&str]) -> Output {
    command(root, port, args).output().expect("run tminus")
}

fn status_json(root: &Path, now: &str) -> Vec<serde_json::Value> {
    let out = ok(root, &["comms", "status", "--format", "json", "--now", now]);
    serde_json::from_str::<Vec<serde_json::Value>>(&out).expect("json")
}

fn ledger(root: &Path) -> String {
    std::fs::read_to_string(root.join(".tminus/sent.jsonl")).unwrap_or_default()
}

fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sends_each_due_message_exactly_once_across_reruns_and_the_mail_parses_back() {
    let (tmp, root) = project(8);
    let server = server_or_skip!(&tmp.path().join("smtp"));

    // A dry run sends and records nothing.
    let o = send(&root, server.port, &["--now", NOW, "--dry-run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).matches("would send  ").count(),
        8,
        "{}",
        stdout(&o)
    );
    assert!(server.received().is_empty());
    assert!(!root.join(".tminus/sent.jsonl").exists());

    let o = send(&root, server.port, &["--now", NOW]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("sent 8, failed 0"), "{out}");
    assert!(
        out.contains("(1 connection,"),
        "one connection per batch: {out}"
    );
    // The pilot wave's message was due on 1 March: missed, never sent late.
    assert!(
        out.contains("missed") && out.contains("ana@example.com"),
        "{out}"
    );

    let again = send(&root, server.port, &["--now", NOW]);
    assert!(again.status.success());
    assert!(stdout(&again).contains("sent 0,"), "{}", stdout(&again));
    assert!(stdout(&again).contains("already sent 8"));
    let later = send(&root, server.port, &["--now", "2027-03-15T20:00:00Z"]);
    assert!(later.status.success());

    let msgs = server.received();
    let c = counts(&msgs);
    assert_eq!(c.keys().cloned().collect::<Vec<_>>(), users(8));
    assert!(c.values().all(|n| *n == 1), "{c:?}");

    // Status: every delivery sent, with time and the Message-ID that was sent.
    let rows = status_json(&root, NOW);
    let mut ids = BTreeMap::new();
    for r in &rows {
        if r["to"] == "ana@example.com" {
            assert_eq!(r["state"], "missed");
            continue;
        }
        assert_eq!(r["state"], "sent", "{r}");
        assert!(r["at"].as_str().unwrap().ends_with('Z'));
        ids.insert(
            r["to"].as_str().unwrap().to_string(),
            r["message_id"].as_str().unwrap().to_string(),
        );
    }
    let table = ok(&root, &["comms", "status", "--now", NOW]);
    assert!(
        table.contains("8 sent") && table.contains("1 missed"),
        "{table}"
    );

    let parser = mail_parser::MessageParser::default();
    for (to, bytes) in &msgs {
        let m = parser.parse(bytes).expect("parses");
        let addr = &to[0];
        let n: usize = addr
            .trim_start_matches("user")
            .split('@')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            m.to().and_then(|a| a.first()).and_then(|a| a.address()),
            Some(addr.as_str())
        );
        assert_eq!(
            m.from().and_then(|a| a.first()).and_then(|a| a.address()),
            Some("golive@example.com")
        );
        assert_eq!(
            format!("<{}>", m.message_id().unwrap()),
            ids[addr],
            "the ledger holds the Message-ID that was sent"
        );
        // Dated when it was sent (the run's pinned clock, NOW), not when it was due.
        let sent = m.date().unwrap().to_timestamp();
        assert!(
            (NOW_TIMESTAMP..NOW_TIMESTAMP + 60).contains(&sent),
            "Date: {sent}, scheduled {MAIN_SEND_AT}"
        );
        assert_eq!(
            m.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
        assert!(m
            .header_raw("Content-Type")
            .unwrap()
            .contains("multipart/alternative"));
        assert_eq!((m.text_body_count(), m.html_body_count()), (1, 1));
        let text = m.body_text(0).unwrap();
        let html = m.body_html(0).unwrap();
        let (lang, greeting, footer) = if n.is_multiple_of(4) {
            assert_eq!(m.subject(), Some("Ledger Online arrive le 29/03"));
            ("fr", "Bonjour", "Ce message a été envoyé à")
        } else {
            assert_eq!(
                m.subject(),
                Some("Ledger Online goes live on Monday 29 March")
            );
            ("en", "Dear", "This message was sent to")
        };
        assert!(text.contains(&format!("{greeting} User {n},")), "{text}");
        // The HTML part is the theme's MJML layout rendered by mrml around the body.
        assert!(
            html.starts_with(&format!("<!doctype html><html lang=\"{lang}\"")),
            "{html}"
        );
        let title = format!("<title>{}</title>", m.subject().unwrap());
        assert!(html.contains(&title), "the subject is the title");
        assert!(html.contains("<!--[if mso | IE]><table"), "Outlook tables");
        assert!(html.contains("role=\"presentation\""));
        assert!(html.contains(">Ledger Online</div>"), "header: the system");
        assert!(html.contains("display:none;"), "hidden preheader");
        assert!(
            html.contains(&format!(
                "<p style=\"margin:0 0 16px 0;\">{greeting} User {n},"
            )),
            "the body with inline styles: {html}"
        );
        assert!(
            html.contains(&format!("{footer} {addr} ")),
            "footer: {html}"
        );
        assert!(html.contains("href=\"mailto:help@example.com\""), "support");
        assert!(!html.contains("TMINUSSLOT"), "every placeholder filled in");
    }
}

#[test]
fn test_to_sends_one_copy_per_variant_to_one_address_and_records_nothing() {
    let (tmp, root) = project(8);
    let server = server_or_skip!(&tmp.path().join("smtp"));
    let o = send(
        &root,
        server.port,
        &["--now", NOW, "--test-to", "me@example.org"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing was recorded"));
    let msgs = server.received();
    assert_eq!(msgs.len(), 2, "one English, one French");
    assert!(msgs.iter().all(|(to, _)| to == &["me@example.org"]));
    let parser = mail_parser::MessageParser::default();
    let subjects: Vec<String> = msgs
        .iter()
        .map(|(_, b)| parser.parse(b).unwrap().subject().unwrap().to_string())
        .collect();
    assert!(subjects.iter().any(|s| s.contains("arrive le")));
    assert!(!root.join(".tminus/sent.jsonl").exists() || ledger(&root).is_empty());
    // The real run afterwards still sends everything.
    let o = send(&root, server.port, &["--now", NOW]);
    assert!(stdout(&o).contains("sent 8,"), "{}", stdout(&o));
}

#[test]
fn retries_421_and_450_with_backoff_on_the_same_batch() {
    for code in ["421", "450"] {
        let (tmp, root) = project(4);
        let server = server_or_skip!(
            &tmp.path().join("smtp"),
            "--fail-first",
            "3",
            "--fail-code",
            code
        );
        let o = send(&root, server.port, &["--now", NOW]);
        assert!(o.status.success(), "{code}: {}\n{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("sent 4, failed 0"), "{}", stdout(&o));
        assert!(stdout(&o).contains("3 retries"), "{}", stdout(&o));
        let c = counts(&server.received());
        assert_eq!(c.keys().cloned().collect::<Vec<_>>(), users(4));
        assert!(c.values().all(|n| *n == 1), "{code}: {c:?}");
        assert_eq!(server.log().matches("transient").count(), 3);
    }
}

#[test]
fn a_550_fails_that_recipient_only_and_is_reported_in_status() {
    let (tmp, root) = project(5);
    let server = server_or_skip!(&tmp.path().join("smtp"), "--reject", "user2@example.com");
    let o = send(&root, server.port, &["--now", NOW]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("sent 4, failed 1"), "{}", stdout(&o));
    assert!(stdout(&o).contains("550"));
    let rows = status_json(&root, NOW);
    let failed: Vec<_> = rows.iter().filter(|r| r["state"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["to"], "user2@example.com");
    assert!(
        failed[0]["reply"].as_str().unwrap().contains("550 5.1.1")
            || failed[0]["reply"].as_str().unwrap().contains("(550)")
    );
    // A rerun tries the failed one again and nothing else.
    let o = send(&root, server.port, &["--now", NOW]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("sent 0, failed 1"), "{}", stdout(&o));
    let c = counts(&server.received());
    assert_eq!(c.len(), 4);
    assert!(c.values().all(|n| *n == 1));
}

#[test]
fn a_connection_dropped_after_the_data_is_in_doubt_and_the_batch_goes_on() {
    // The server hangs up after the whole message arrived, before answering: it may have
    // queued it. Retrying could deliver it twice, so it is in doubt until asked.
    let (tmp, root) = project(5);
    let server = server_or_skip!(&tmp.path().join("smtp"), "--drop-data", "3");
    let o = send(&root, server.port, &["--now", NOW]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("sent 4, failed 0, in doubt 1"), "{out}");
    assert!(out.contains("(2 connections, 0 retries"), "{out}");
    assert!(out.contains("--resend-in-doubt"), "{out}");
    assert!(server.log().contains("dropped"));
    let c = counts(&server.received());
    assert_eq!(c.len(), 4, "{c:?}");
    assert!(c.values().all(|n| *n == 1), "{c:?}");
    let doubt: Vec<_> = status_json(&root, NOW)
        .into_iter()
        .filter(|r| r["state"] == "in doubt")
        .collect();
    assert_eq!(doubt.len(), 1);
    let to = doubt[0]["to"].as_str().unwrap().to_string();
    assert!(!c.contains_key(&to));
    let o = send(&root, server.port, &["--now", NOW, "--resend-in-doubt"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("sent 1, failed 0, in doubt 0"),
        "{}",
        stdout(&o)
    );
    let c = counts(&server.received());
    assert_eq!(c.keys().cloned().collect::<Vec<_>>(), users(5));
    assert!(c.values().all(|n| *n == 1), "{c:?}");
}

#[test]
fn kill_9_in_the_middle_of_a_batch_then_rerun_sends_the_rest_and_reports_in_doubt() {
    let (tmp, root) = project(10);
    let first = tmp.path().join("smtp1");
    // The 4th message is stored, then the server sits on its reply.
    let server = server_or_skip!(&first, "--hold", "4", "--hold-seconds", "60");
    let mut run = command(&root, server.port, &["--now", NOW])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the 4th message", Duration::from_secs(20), || {
        first.join("holding").exists()
    });
    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();
    drop(server);
    let last = ledger(&root).lines().last().unwrap().to_string();
    assert!(last.contains("\"event\":\"claim\""), "{last}");

    let second = tmp.path().join("smtp2");
    let server2 = server_or_skip!(&second);
    let o = send(&root, server2.port, &["--now", NOW]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("sent 6, failed 0, in doubt 1"), "{out}");
    assert!(out.contains("in doubt (") && out.contains("--resend-in-doubt"));
    let mut all = received(&first);
    all.extend(server2.received());
    let c = counts(&all);
    assert_eq!(c.keys().cloned().collect::<Vec<_>>(), users(10));
    assert!(c.values().all(|n| *n == 1), "exactly once: {c:?}");
    let rows = status_json(&root, NOW);
    let doubt: Vec<_> = rows.iter().filter(|r| r["state"] == "in doubt").collect();
    assert_eq!(doubt.len(), 1);
    let held = std::fs::read_to_string(first.join("holding")).unwrap();
    assert_eq!(doubt[0]["to"], held.as_str());

    // Only on request is it sent again.
    let o = send(&root, server2.port, &["--now", NOW, "--resend-in-doubt"]);
    assert!(
        stdout(&o).contains("sent 1, failed 0, in doubt 0"),
        "{}",
        stdout(&o)
    );
    assert_eq!(counts(&server2.received())[&held], 1);
    assert!(status_json(&root, NOW)
        .iter()
        .all(|r| r["state"] == "sent" || r["state"] == "missed"));
}

#[test]
fn two_runs_at_once_the_second_is_refused_by_the_lock() {
    let (tmp, root) = project(6);
    let server = server_or_skip!(&tmp.path().join("smtp"), "--delay", "0.3");
    let first = command(&root, server.port, &["--now", NOW])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the first run to claim", Duration::from_secs(20), || {
        ledger(&root).contains("claim")
    });
    let second = send(&root, server.port, &["--now", NOW]);
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("another `tminus comms send` is running"),
        "{}",
        stderr(&second)
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let c = counts(&server.received());
    assert_eq!(c.len(), 6);
    assert!(c.values().all(|n| *n == 1));
}

#[test]
fn a_stale_schedule_is_missed_and_a_moved_schedule_is_not_resent() {
    let (tmp, root) = project(3);
    let server = server_or_skip!(&tmp.path().join("smtp"));
    // Two days after the main wave's send time: everything is missed, nothing is sent.
    let o = send(&root, server.port, &["--now", "2027-03-17T09:00:00Z"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("sent 0, failed 0, in doubt 0, missed 4"),
        "{}",
        stdout(&o)
    );
    assert!(server.received().is_empty());
    assert!(status_json(&root, "2027-03-17T09:00:00Z")
        .iter()
        .all(|r| r["state"] == "missed"));

    // Sent on time; then T-0 moves a day later: the same messages are not sent again.
    let o = send(&root, server.port, &["--now", NOW]);
    assert!(stdout(&o).contains("sent 3,"), "{}", stdout(&o));
    let yaml = root.join("content/project.yaml");
    edit(
        &yaml,
        "go_live: 2027-03-29T18:00\n    audience: everyone",
        "go_live: 2027-03-30T18:00\n    audience: everyone",
    );
    let o = send(&root, server.port, &["--now", "2027-03-16T12:00:00Z"]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("sent 0,") && stdout(&o).contains("already sent 3"),
        "{}",
        stdout(&o)
    );
    assert_eq!(server.received().len(), 3);
}

#[test]
fn credentials_come_from_the_environment_and_never_reach_output_or_ledger() {
    const SECRET: &str = "pw-Sup3r-S3cret!";
    let (tmp, root) = project(2);
    let server = server_or_skip!(
        &tmp.path().join("smtp"),
        "--user",
        "robot",
        "--password",
        SECRET
    );
    let o = command(&root, server.port, &["--now", NOW])
        .env("TMINUS_SMTP_USERNAME", "robot")
        .env("TMINUS_SMTP_PASSWORD", SECRET)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(server.log().contains("\"auth\": true"));
    // A wrong password: the run stops, and still no secret anywhere.
    let (_tmp2, root2) = project(2);
    let bad = command(&root2, server.port, &["--now", NOW])
        .env("TMINUS_SMTP_USERNAME", "robot")
        .env("TMINUS_SMTP_PASSWORD", "wrong-Secret-42")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("535") || stderr(&bad).contains("authentication"),
        "{}",
        stderr(&bad)
    );
    for (text, secret) in [
        (stdout(&o) + &stderr(&o), SECRET),
        (ledger(&root), SECRET),
        (stdout(&bad) + &stderr(&bad), "wrong-Secret-42"),
        (ledger(&root2), "wrong-Secret-42"),
    ] {
        assert!(!text.contains(secret), "the password leaked: {text}");
    }
    for entry in walkdir::WalkDir::new(root.join(".tminus"))
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_file() {
            assert!(!read(entry.path()).contains(SECRET));
        }
    }
}

#[test]
fn send_needs_due_and_a_valid_now() {
    let root = fixture("minimal");
    let o = tminus(&root, &["comms", "send"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs --due"));
    let o = tminus(
        &root,
        &[
            "comms",
            "send",
            "--due",
            "--dry-run",
            "--now",
            "next tuesday",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--now"));
    // A local time in the project zone (Europe/London): 2027-03-15 08:00 UTC is 08:00 there.
    let (_tmp, root) = project(1);
    let a = tminus(
        &root,
        &[
            "comms",
            "status",
            "--format",
            "json",
            "--now",
            "2027-03-15T08:00",
        ],
    );
    let b = tminus(
        &root,
        &[
            "comms",
            "status",
            "--format",
            "json",
            "--now",
            "2027-03-15T08:00:00Z",
        ],
    );
    assert_eq!(stdout(&a), stdout(&b));
}
