//! Sending over many connections (`cargo bench --bench send_parallel`; results in
//! BENCHMARKS.md, `## Comms`, "Parallel sending"): 2,000 messages to the test SMTP server
//! of the end-to-end tests (tests/common/fault_smtp.rs, on 127.0.0.1) answering every
//! command 50 ms after it arrived — a relay 50 ms away, or a slow one.
//!
//! - `connections: 1` and a server without PIPELINING: how tminus sent before (four round
//!   trips a message: MAIL, RCPT, DATA, the message);
//! - `connections: 8` without PIPELINING, then `connections: 4` and `8` with it (two round
//!   trips a message: the commands, then the message).
//!
//! Each is compared with what the server allows: connections ÷ (round trips × 50 ms)
//! messages a second. The ledger is the real one, fsync'd, in a temporary folder.
//! `TMINUS_BENCH_QUICK=1` skips the slow one-connection run (400 s).
//! `TMINUS_BENCH_BEFORE_BIN=/path/to/tminus` also times that binary (e.g. a build of the
//! commit before parallel sending) on the same project and server, as a command.

#[allow(dead_code)]
#[path = "../tests/common/fault_smtp.rs"]
mod fault_smtp;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use fault_smtp::{Fault, FaultServer, Options};

const N: usize = 2_000;
const DELAY_MS: u64 = 50;

/// The minimal fixture with `n` more recipients; `connections: None` leaves the key out
/// (a binary from before it would refuse it).
fn project(n: usize, connections: Option<usize>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minimal");
    for e in walkdir::WalkDir::new(&src) {
        let e = e.unwrap();
        let to = root.join(e.path().strip_prefix(&src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    let mut csv = String::from("email,name,locale,timezone\n");
    for i in 0..n {
        let locale = if i % 5 == 0 { "fr" } else { "" };
        csv.push_str(&format!(
            "person{i}@example.com,Person Number {i},{locale},\n"
        ));
    }
    std::fs::write(root.join("content/audiences/everyone.csv"), csv).unwrap();
    let yaml = root.join("content/project.yaml");
    let mut text = std::fs::read_to_string(&yaml).unwrap();
    let connections = connections
        .map(|c| format!(", connections: {c}"))
        .unwrap_or_default();
    text.push_str(&format!(
        "comms: {{ max_lateness: 30d, rate_per_second: 100000{connections} }}\n"
    ));
    std::fs::write(yaml, text).unwrap();
    (dir, root)
}

/// Sends `N` messages over `connections` to a server with or without PIPELINING; prints
/// and returns the seconds it took.
fn run(connections: usize, pipelining: bool) -> f64 {
    // The fixture's pilot wave has one recipient of its own.
    let (_tmp, root) = project(N - 1, Some(connections));
    let server = FaultServer::start_with(
        Options {
            delay: Duration::from_millis(DELAY_MS),
            pipelining,
        },
        |_| Fault::None,
    );
    let prepared = tminus::site::prepare(&root).expect("project loads");
    let opts = tminus::send::Options {
        // Every delivery is due (the pilot's 15 days ago: within `max_lateness`).
        now: Utc.with_ymd_and_hms(2027, 3, 16, 12, 0, 0).unwrap(),
        dry_run: false,
        test_to: None,
        resend_in_doubt: false,
    };
    let port = server.port.to_string();
    let env = |k: &str| match k {
        "TMINUS_SMTP_PORT" => Some(port.clone()),
        "TMINUS_SMTP_HOST" => Some("127.0.0.1".to_string()),
        _ => None,
    };
    let t = Instant::now();
    let summary = tminus::send::send(
        &prepared.project,
        &prepared.messages(),
        &opts,
        &env,
        &mut |_| {},
    )
    .unwrap();
    let elapsed = t.elapsed().as_secs_f64();
    assert_eq!(summary.sent, N, "{:?}", summary.fatal);
    assert_eq!(server.stored().len(), N);
    let round_trips = if pipelining { 2.0 } else { 4.0 };
    let allowed = connections as f64 / (round_trips * DELAY_MS as f64 / 1000.0);
    let rate = N as f64 / elapsed;
    println!(
        "send {N} ({} connection{}, {}): {elapsed:.1}s = {rate:.1} messages/s; the server allows {allowed:.1}/s ({round_trips} round trips of {DELAY_MS} ms), so {:.2}× its limit's time; {} transactions pipelined, {} connections",
        connections,
        if connections == 1 { "" } else { "s" },
        if pipelining { "PIPELINING" } else { "no PIPELINING" },
        allowed / rate,
        server.pipelined(),
        summary.connections,
    );
    elapsed
}

/// Times `bin` (`comms send --due`) sending `N` messages to the server without
/// PIPELINING; prints and returns the seconds.
fn run_binary(bin: &str) -> f64 {
    let (_tmp, root) = project(N - 1, None);
    let server = FaultServer::start_with(
        Options {
            delay: Duration::from_millis(DELAY_MS),
            pipelining: false,
        },
        |_| Fault::None,
    );
    let t = Instant::now();
    let o = std::process::Command::new(bin)
        .arg("--root")
        .arg(&root)
        .args(["comms", "send", "--due", "--now", "2027-03-16T12:00:00Z"])
        .env("TMINUS_SMTP_HOST", "127.0.0.1")
        .env("TMINUS_SMTP_PORT", server.port.to_string())
        .output()
        .unwrap();
    let elapsed = t.elapsed().as_secs_f64();
    let tail = String::from_utf8_lossy(&o.stdout);
    let summary = tail.lines().last().unwrap_or_default();
    assert_eq!(server.stored().len(), N, "{summary}");
    println!(
        "send {N} with {bin} (the whole command): {elapsed:.1}s = {:.1} messages/s; {summary}",
        N as f64 / elapsed
    );
    elapsed
}

fn main() {
    let quick = std::env::var("TMINUS_BENCH_QUICK").is_ok_and(|v| v == "1");
    let fast = run(8, true);
    run(4, true);
    run(8, false);
    if let Ok(bin) = std::env::var("TMINUS_BENCH_BEFORE_BIN") {
        let before = run_binary(&bin);
        println!(
            "8 connections with PIPELINING vs {bin}: {:.1}× faster",
            before / fast
        );
    }
    if quick {
        println!("(TMINUS_BENCH_QUICK=1: the one-connection run is skipped)");
        return;
    }
    let before = run(1, false);
    println!(
        "8 connections with PIPELINING vs one connection without: {:.1}× faster",
        before / fast
    );
}
