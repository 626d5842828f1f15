//! Comms benchmarks (`cargo bench --bench comms`; results in BENCHMARKS.md, `## Comms`):
//!
//! 1. expand and render 10,000 personalised messages (HTML + text + .eml per recipient);
//! 2. send 1,000 messages to a local SMTP server (tests/fixtures/smtp_server.py, aiosmtpd)
//!    with the ledger fsync'd per claim and per commit, once with the server fsyncing each
//!    message (as in the tests) and once without — skipped without python3-aiosmtpd;
//! 3. the ledger alone: 1,000 claim + commit pairs, each fsync'd.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::Utc;
use rayon::prelude::*;
use tminus::email::Mailer;
use tminus::send::due::deliveries;
use tminus::send::ledger::{DeliveryKey, Ledger};

fn project(n: usize) -> (tempfile::TempDir, PathBuf) {
    let csv = common::people_csv(n, |i| ["", "Asia/Tokyo", "America/Chicago"][i % 3]);
    common::minimal_with_audience(&csv, "max_lateness: 30d, rate_per_second: 100000")
}

fn render_all(root: &Path) -> (usize, usize) {
    let prepared = tminus::site::prepare(root).expect("project loads");
    let mailer = Mailer::new(&prepared.project).unwrap();
    let all = deliveries(prepared.comms.iter().map(|e| &e.message));
    let bytes: usize = all
        .par_iter()
        .map(|d| {
            let r = mailer.render(d.message, d.recipient).unwrap();
            mailer
                .eml(d.message, d.recipient, &r, d.message.send_at.to_utc())
                .unwrap()
                .len()
        })
        .sum();
    (all.len(), bytes)
}

fn main() {
    // 1. Expand and render.
    let (_tmp, root) = project(10_000);
    render_all(&root); // warm-up
    let mut times = Vec::new();
    let mut count = (0, 0);
    for _ in 0..5 {
        let t = Instant::now();
        count = render_all(&root);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "render: {} deliveries ({} MB of .eml), load+expand+render, best {:.3}s, median {:.3}s over 5 runs, {} threads",
        count.0,
        count.1 / 1_000_000,
        times[0],
        times[2],
        rayon::current_num_threads()
    );

    // 3. The ledger alone.
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path()).unwrap();
    let t = Instant::now();
    for i in 0..1000 {
        let key = DeliveryKey::new("get-ready", Some("main"), &format!("p{i}@x.example"));
        ledger.claim(&key, "en", "<x@y>", Utc::now()).unwrap();
        ledger
            .commit(&key, "<x@y>", "250 2.0.0 Ok: queued")
            .unwrap();
    }
    let ledger_time = t.elapsed().as_secs_f64();
    println!(
        "ledger: 1000 claim+commit pairs (2000 fsync'd appends) in {:.3}s, {:.2} ms per message",
        ledger_time, ledger_time
    );

    // 2. Send 1,000: to the test server as the tests run it (it fsyncs every message and
    // log line), then to the same server with its fsync off, to see the client's own cost.
    let python = std::env::var("TMINUS_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let has_aiosmtpd = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_aiosmtpd {
        println!("send: SKIPPED (python3-aiosmtpd is missing)");
        return;
    }
    send_1000(&python, &[]);
    send_1000(&python, &["--no-fsync"]);
}

fn send_1000(python: &str, server_args: &[&str]) {
    let (_tmp2, root) = project(1_000);
    let inbox = _tmp2.path().join("smtp");
    let mut server = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp_server.py"))
        .arg("--dir")
        .arg(&inbox)
        .args(server_args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().trim_start_matches("PORT ").to_string();
    let (summary, elapsed) = common::send_due(&root, port.parse().unwrap());
    let _ = server.kill();
    let _ = server.wait();
    let stored = std::fs::read_to_string(inbox.join("received.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"stored\""))
        .count();
    println!(
        "send ({}): {} sent ({} stored by the server, {} failed) over {} connection(s) in {:.2}s = {:.0} messages/s, {:.2} ms per message",
        if server_args.contains(&"--no-fsync") { "server without fsync" } else { "server fsyncs each message" },
        summary.sent,
        stored,
        summary.failed.len(),
        summary.connections,
        elapsed,
        summary.sent as f64 / elapsed,
        elapsed * 1000.0 / summary.sent.max(1) as f64
    );
}
