//! `tminus comms send` over many SMTP sessions at once (`comms.connections`), with
//! PIPELINING, against the Rust test server (`common/fault_smtp.rs`, on 127.0.0.1) with a
//! per-reply delay so the sessions really overlap: each delivery goes out exactly once,
//! claims are written in schedule order, a fault on one session (a drop after the data, a
//! `421`, a refused recipient) touches only that session's delivery, and `kill -9` in the
//! middle leaves at most one delivery in doubt per connection.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::fault_smtp::{Fault, FaultServer, Options, Stage, Txn};
use common::*;

const NOW: &str = "2027-03-15T12:00:00Z"; // the main wave's T-14d 09:00 Paris was 4h ago

/// The minimal fixture with `n` recipients in the main wave and `comms` settings.
fn project(n: usize, comms: &str) -> (tempfile::TempDir, PathBuf) {
    with_audience(&users_csv(n), comms)
}

fn command(root: &Path, port: u16, args: &[&str]) -> Command {
    let mut c = comms_send(root, port, &[&["--now", NOW], args].concat());
    c.env("TMINUS_SMTP_TIMEOUT_SECS", "2");
    c
}

fn send(root: &Path, port: u16, args: &[&str]) -> Output {
    command(root, port, args).output().expect("run tminus")
}

fn delayed(ms: u64) -> Options {
    Options {
        delay: Duration::from_millis(ms),
        ..Options::default()
    }
}

/// The ledger's records as (event, recipient), in file order.
fn ledger(root: &Path) -> Vec<(String, String)> {
    read(&root.join(".tminus/sent.jsonl"))
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|r| {
            (
                r["event"].as_str().unwrap().to_string(),
                r["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every recipient received at most one copy; returns the counts.
fn at_most_once(what: &str, servers: &[&FaultServer]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for s in servers {
        for (to, c) in s.counts() {
            *counts.entry(to).or_insert(0) += c;
        }
    }
    for (to, c) in &counts {
        assert!(*c <= 1, "{what}: {to} received {c} copies");
    }
    counts
}

#[test]
fn eight_connections_send_each_delivery_once_pipelined_and_claim_in_schedule_order() {
    let n = 240;
    let (_tmp, root) = project(n, "rate_per_second: 100000, connections: 8");
    let server = FaultServer::start_with(delayed(5), |_| Fault::None);
    // The order deliveries are due in, as the dry run lists them.
    let dry = send(&root, server.port, &["--dry-run"]);
    let order: Vec<String> = stdout(&dry)
        .lines()
        .filter_map(|l| l.strip_prefix("would send  "))
        .filter_map(|l| l.split(" → ").nth(1))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert_eq!(order.len(), n, "{}", stdout(&dry));

    let o = send(&root, server.port, &[]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(
        out.contains(&format!("sent {n}, failed 0, in doubt 0")),
        "{out}"
    );
    assert!(out.contains("(8 connections, 0 retries"), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("sent        "))
            .count(),
        n,
        "{out}"
    );
    let counts = at_most_once("8 connections", &[&server]);
    assert_eq!(counts.keys().cloned().collect::<Vec<_>>(), users(n));
    assert_eq!(server.peak_connections(), 8, "the sessions overlapped");
    assert_eq!(server.pipelined(), n, "every transaction was pipelined");
    // One claim per delivery, in schedule order, each before its `sent`.
    let records = ledger(&root);
    let claims: Vec<&String> = records
        .iter()
        .filter(|(e, _)| e == "claim")
        .map(|(_, to)| to)
        .collect();
    assert_eq!(claims, order.iter().collect::<Vec<_>>());
    let mut claimed = BTreeSet::new();
    for (event, to) in &records {
        match event.as_str() {
            "claim" => assert!(claimed.insert(to.clone()), "{to} claimed twice"),
            "sent" => assert!(claimed.contains(to), "{to} sent before its claim"),
            other => panic!("unexpected {other} for {to}"),
        }
    }
    assert!(main_wave_states(&root, NOW).values().all(|s| s == "sent"));
    // A rerun sends nothing, and does not even connect.
    let o = send(&root, server.port, &[]);
    assert!(
        stdout(&o).contains("(0 connections, 0 retries"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains(&format!(
            "sent 0, failed 0, in doubt 0, missed 1, already sent {n}"
        )),
        "{}",
        stdout(&o)
    );
    assert_eq!(server.stored().len(), n);
}

#[test]
fn drops_after_the_data_on_some_sessions_are_in_doubt_there_only() {
    let n = 160;
    let (_tmp, root) = project(n, "rate_per_second: 100000, connections: 8");
    // Sessions 2 and 5 hang up after their 3rd message arrived (the server keeps it).
    let server = FaultServer::start_with(delayed(2), |t: Txn| {
        if [2, 5].contains(&t.connection) && t.on_connection == 3 {
            Fault::DropAfterStore
        } else {
            Fault::None
        }
    });
    let o = send(&root, server.port, &[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert!(
        out.contains(&format!("sent {}, failed 0, in doubt 2", n - 2)),
        "{out}"
    );
    assert!(out.contains("(10 connections, 0 retries"), "{out}");
    at_most_once("drops on two sessions", &[&server]);
    let states = main_wave_states(&root, NOW);
    let doubt: BTreeSet<String> = states
        .iter()
        .filter(|(_, s)| *s == "in doubt")
        .map(|(to, _)| to.clone())
        .collect();
    assert_eq!(
        doubt,
        server.unanswered(),
        "in doubt exactly where unanswered"
    );
    assert_eq!(server.stored().len(), n, "the other sessions went on");
    assert!(states.values().filter(|s| *s == "sent").count() == n - 2);
}

#[test]
fn a_421_on_one_session_backs_off_that_session_while_the_others_go_on() {
    let n = 200;
    let (_tmp, root) = project(n, "rate_per_second: 100000, connections: 8");
    // Session 1 is told `421` (and hung up on) at its 2nd MAIL.
    let server = FaultServer::start_with(delayed(2), |t: Txn| {
        if t.connection == 1 && t.on_connection == 2 {
            Fault::Reply(Stage::Mail, 421)
        } else {
            Fault::None
        }
    });
    let o = command(&root, server.port, &[])
        .env("TMINUS_SMTP_RETRY_DELAY_MS", "800")
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(
        out.contains(&format!("sent {n}, failed 0, in doubt 0")),
        "{out}"
    );
    assert!(out.contains("(9 connections, 1 retry"), "{out}");
    let counts = at_most_once("421 on one session", &[&server]);
    assert_eq!(counts.len(), n);
    // The retried delivery came on the 9th connection, after the 800 ms backoff, by which
    // time the other seven sessions had sent nearly everything.
    let stored = server.stored();
    let retried = stored.iter().position(|m| m.connection == 9).unwrap();
    assert!(retried > n / 2, "retried as #{retried} of {n}");
}

#[test]
fn a_pipelined_rcpt_refusal_fails_that_recipient_and_the_session_keeps_its_connection() {
    let n = 80;
    let (_tmp, root) = project(n, "rate_per_second: 100000, connections: 8");
    let server = FaultServer::start_with(delayed(2), |t: Txn| {
        if t.connection == 3 && t.on_connection == 2 {
            Fault::Reply(Stage::Rcpt, 550)
        } else {
            Fault::None
        }
    });
    let o = send(&root, server.port, &[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert!(
        out.contains(&format!("sent {}, failed 1, in doubt 0", n - 1)),
        "{out}"
    );
    assert!(out.contains("(550): 5.1.1"), "{out}");
    // No reconnection: RSET, and the same connection took its next message.
    assert!(out.contains("(8 connections, 0 retries"), "{out}");
    assert_eq!(server.connections(), 8);
    assert_eq!(server.pipelined(), n);
    let counts = at_most_once("550 on RCPT", &[&server]);
    assert_eq!(counts.len(), n - 1);
    assert_eq!(
        server.stored().len(),
        n - 1,
        "nothing stored for the refused one"
    );
    let states = main_wave_states(&root, NOW);
    let failed: Vec<_> = states.iter().filter(|(_, s)| *s == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert!(!counts.contains_key(failed[0].0));
    assert!(server.stored().iter().filter(|m| m.connection == 3).count() >= 2);
}

#[test]
fn kill_9_in_the_middle_with_8_connections_then_rerun_sends_each_once() {
    let n = 600;
    let (_tmp, root) = project(n, "rate_per_second: 100000, connections: 8");
    let server = FaultServer::start_with(delayed(20), |_| Fault::None);
    let mut run = command(&root, server.port, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while server.stored().len() < 100 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the run did not get going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();
    let first = server.stored().len();
    assert!(first < n, "killed in the middle ({first} of {n})");
    // Claimed, outcome unknown: at most one per connection.
    let records = ledger(&root);
    let mut open = BTreeSet::new();
    for (event, to) in &records {
        if event == "claim" {
            open.insert(to.clone());
        } else {
            open.remove(to);
        }
    }
    assert!(
        open.len() <= 8,
        "{} claims without an outcome: {open:?}",
        open.len()
    );

    // The rerun sends the rest, to a server without delay, and reports the in-doubt ones.
    let clean = FaultServer::start(|_| Fault::None);
    let o = send(&root, clean.port, &[]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    let counts = at_most_once("after kill -9 and a rerun", &[&server, &clean]);
    let after = main_wave_states(&root, NOW);
    let doubt: BTreeSet<String> = after
        .iter()
        .filter(|(_, s)| *s == "in doubt")
        .map(|(to, _)| to.clone())
        .collect();
    assert_eq!(doubt, open, "in doubt: exactly the open claims");
    assert!(out.contains(&format!("in doubt {}", doubt.len())), "{out}");
    for to in users(n) {
        if !doubt.contains(&to) {
            assert_eq!(after[&to], "sent", "{to}");
            assert_eq!(counts.get(&to), Some(&1), "{to}");
        }
    }

    // --resend-in-doubt completes it: everyone has it, twice at most where in doubt.
    let last = FaultServer::start(|_| Fault::None);
    let o = send(&root, last.port, &["--resend-in-doubt"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(main_wave_states(&root, NOW).values().all(|s| s == "sent"));
    let mut total = BTreeMap::new();
    for s in [&server, &clean, &last] {
        for (to, c) in s.counts() {
            *total.entry(to).or_insert(0) += c;
        }
    }
    for to in users(n) {
        let got = total.get(&to).copied().unwrap_or(0);
        let allowed = if doubt.contains(&to) { 2 } else { 1 };
        assert!((1..=allowed).contains(&got), "{to}: {got} copies");
    }
}

#[test]
fn connections_out_of_range_is_a_located_error_with_a_hint() {
    for bad in ["0", "65", "-3"] {
        let (_tmp, root) = project(3, &format!("connections: {bad}"));
        let o = tminus(
            &root,
            &["comms", "send", "--due", "--dry-run", "--now", NOW],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{bad}: {err}");
        assert!(err.contains("project.yaml:"), "{bad}: {err}");
        assert!(
            err.contains(&format!("`connections: {bad}` is out of range")),
            "{err}"
        );
        assert!(err.contains("connections: 4"), "the hint: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let (_tmp, root) = project(3, "connections: 64");
    let o = tminus(
        &root,
        &["comms", "send", "--due", "--dry-run", "--now", NOW],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn on_a_terminal_a_progress_bar_counts_sent_failed_and_in_doubt_with_rate_and_eta() {
    // `script` (util-linux) runs the command on a pseudo-terminal and copies what it wrote.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: `script` (util-linux) is not installed");
        return;
    }
    let n = 60;
    let (_tmp, root) = project(n, "rate_per_second: 100000, connections: 4");
    let server = FaultServer::start_with(delayed(25), |t: Txn| match t.n {
        7 => Fault::Reply(Stage::Rcpt, 550),
        9 => Fault::DropAfterStore,
        _ => Fault::None,
    });
    let line = format!(
        "'{}' --root '{}' comms send --due --now {NOW}",
        env!("CARGO_BIN_EXE_tminus"),
        root.display()
    );
    let o = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TMINUS_SMTP_HOST", "127.0.0.1")
        .env("TMINUS_SMTP_PORT", server.port.to_string())
        .env("TMINUS_SMTP_RETRY_DELAY_MS", "10")
        .env("TMINUS_SMTP_TIMEOUT_SECS", "2")
        .env_remove("TMINUS_SMTP_USERNAME")
        .env_remove("TMINUS_SMTP_PASSWORD")
        .output()
        .unwrap();
    let screen = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{screen}");
    // The bar (redrawn in place) and the lines printed above it.
    assert!(screen.contains("· failed "), "{screen}");
    assert!(screen.contains("· in doubt "), "{screen}");
    assert!(screen.contains("/s"), "the rate: {screen}");
    assert!(screen.contains("ETA "), "{screen}");
    assert!(screen.contains(&format!("/{n} ")), "{screen}");
    assert!(screen.contains("FAILED  get-ready/main"), "{screen}");
    assert!(screen.contains("IN DOUBT  get-ready/main"), "{screen}");
    // No per-message `sent` lines on a terminal; the summary at the end.
    assert!(!screen.contains("sent        get-ready"), "{screen}");
    assert!(
        screen.contains(&format!("sent {}, failed 1, in doubt 1", n - 2)),
        "{screen}"
    );
    // Without a terminal: the lines, and no bar.
    let (_tmp2, root2) = project(n, "rate_per_second: 100000, connections: 4");
    let clean = FaultServer::start(|_| Fault::None);
    let o = send(&root2, clean.port, &[]);
    assert!(!stderr(&o).contains("ETA"), "{}", stderr(&o));
    assert_eq!(stdout(&o).matches("sent        get-ready").count(), n);
}

#[test]
fn a_refused_reconnection_stops_every_session_and_leaves_no_claim_unrecorded() {
    let n = 200;
    let (_tmp, root) = project(n, "rate_per_second: 100000, connections: 8");
    // Session 3 loses its connection before its 5th DATA; the server then greets every new
    // connection with 554: the reconnection fails for good, and the run must stop.
    let server = FaultServer::start_with(
        Options {
            refuse_from: Some(9),
            ..delayed(5)
        },
        |t: Txn| {
            if t.connection == 3 && t.on_connection == 5 {
                Fault::DropBeforeData
            } else {
                Fault::None
            }
        },
    );
    let o = send(&root, server.port, &[]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("no service for you"), "{err}");
    assert!(err.contains("were not attempted"), "{err}");
    assert!(
        out.contains("failed 1, in doubt 0"),
        "the held delivery failed: {out}"
    );
    // Every claim got its outcome: the sessions finished what they held, took nothing more.
    let mut open = BTreeSet::new();
    for (event, to) in ledger(&root) {
        if event == "claim" {
            assert!(open.insert(to.clone()), "{to} claimed twice");
        } else {
            open.remove(&to);
        }
    }
    assert!(open.is_empty(), "claims without an outcome: {open:?}");
    let sent_first = server.stored().len();
    assert!(
        sent_first < n - 8,
        "the run stopped early ({sent_first} sent)"
    );
    at_most_once("a refused reconnection", &[&server]);
    // The next run sends the rest, once each.
    let clean = FaultServer::start(|_| Fault::None);
    let o = send(&root, clean.port, &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let counts = at_most_once("a refused reconnection, then a rerun", &[&server, &clean]);
    assert_eq!(counts.keys().cloned().collect::<Vec<_>>(), users(n));
    assert!(main_wave_states(&root, NOW).values().all(|s| s == "sent"));
}

#[test]
fn a_session_that_cannot_reconnect_gives_up_and_the_others_finish_the_run() {
    // Enough that the others still work when it gives up (after ~0.3 s of backoff).
    let n = 300;
    let (_tmp, root) = project(n, "rate_per_second: 100000, connections: 8");
    // As above, but the server is busy (421) for new connections: worth retrying, so the
    // session tries six times with backoff, then gives up while the others go on.
    let server = FaultServer::start_with(
        Options {
            refuse_from: Some(9),
            refuse_code: 421,
            ..delayed(10)
        },
        |t: Txn| {
            if t.connection == 3 && t.on_connection == 5 {
                Fault::DropBeforeData
            } else {
                Fault::None
            }
        },
    );
    let o = send(&root, server.port, &[]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        err.contains("note: one connection gave up (the others went on)"),
        "{err}"
    );
    assert!(!err.contains("not attempted"), "{err}");
    // The delivery it held never left: failed (retried by the next run); the rest sent.
    assert!(
        out.contains(&format!("sent {}, failed 1, in doubt 0", n - 1)),
        "{out}"
    );
    at_most_once("one session gave up", &[&server]);
    let clean = FaultServer::start(|_| Fault::None);
    let o = send(&root, clean.port, &[]);
    assert!(stdout(&o).contains("sent 1, failed 0"), "{}", stdout(&o));
    let counts = at_most_once("one session gave up, then a rerun", &[&server, &clean]);
    assert_eq!(counts.len(), n);
}
