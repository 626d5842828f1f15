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
//! First, the ledger alone as a run uses it: 8 threads, each claiming a delivery (and
//! waiting until the claim is on disk) then recording it sent, through the one group-
//! committing writer, against one thread appending and fsyncing record by record.
//!
//! Each send is compared with what the server allows: connections ÷ (round trips × 50 ms)
//! messages a second. The ledger is the real one, fsync'd, in a temporary folder.
//! `TMINUS_BENCH_QUICK=1` skips the slow one-connection run (400 s).
//! `TMINUS_BENCH_BEFORE_BIN=/path/to/tminus` also times that binary (e.g. a build of the
//! commit before parallel sending) on the same project and server, as a command.

mod common;

#[allow(dead_code)]
#[path = "../tests/common/fault_smtp.rs"]
mod fault_smtp;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use fault_smtp::{Fault, FaultServer, Options};

const N: usize = 2_000;
const DELAY_MS: u64 = 50;

/// The minimal fixture with `n` more recipients; `connections: None` leaves the key out
/// (a binary from before it would refuse it).
fn project(n: usize, connections: Option<usize>) -> (tempfile::TempDir, PathBuf) {
    let connections = connections
        .map(|c| format!(", connections: {c}"))
        .unwrap_or_default();
    common::minimal_with_audience(
        &common::people_csv(n, |_| ""),
        &format!("max_lateness: 30d, rate_per_second: 100000{connections}"),
    )
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
            ..Options::default()
        },
        |_| Fault::None,
    );
    let (summary, elapsed) = common::send_due(&root, server.port);
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
            ..Options::default()
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

/// The ledger alone: `threads` threads × `per_thread` deliveries, each a claim waited for
/// and a `sent` recorded, through the group-committing writer; prints messages a second.
fn ledger_alone(threads: usize, per_thread: usize) {
    use tminus::send::ledger::{DeliveryKey, Ledger, Record};
    use tminus::send::writer::Writer;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    let t = Instant::now();
    std::thread::scope(|s| {
        let (writer, handle) = Writer::spawn(s, ledger);
        for i in 0..threads {
            let writer = writer.clone();
            s.spawn(move || {
                for j in 0..per_thread {
                    let key = DeliveryKey::new("get-ready", None, &format!("p{i}-{j}@x.example"));
                    let (tx, rx) = std::sync::mpsc::sync_channel(1);
                    writer.append(Record::claim(&key, "en", "<x@y>", Utc::now()), move |r| {
                        let _ = tx.send(r);
                    });
                    rx.recv().unwrap().unwrap();
                    writer.append(Record::sent(&key, "<x@y>", "250 2.0.0 Ok"), |r| r.unwrap());
                }
            });
        }
        drop(writer);
        handle.join().unwrap();
    });
    let group = t.elapsed().as_secs_f64();
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    let n = threads * per_thread;
    let t = Instant::now();
    for j in 0..n {
        let key = DeliveryKey::new("get-ready", None, &format!("p{j}@x.example"));
        ledger.claim(&key, "en", "<x@y>", Utc::now()).unwrap();
        ledger.commit(&key, "<x@y>", "250 2.0.0 Ok").unwrap();
    }
    let single = t.elapsed().as_secs_f64();
    println!(
        "ledger alone, {n} deliveries (claim + sent): {threads} threads through the group-committing writer {group:.2}s = {:.0} messages/s; one thread, one fsync per record {single:.2}s = {:.0} messages/s",
        n as f64 / group,
        n as f64 / single
    );
}

fn main() {
    ledger_alone(8, 1000);
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
