//! Benchmark: go-live night at scale — a 10,000-task plan (100 streams of 100 five-minute
//! tasks) with 20,000 events in `content/live.yaml` (9,500 tasks done, 100 in progress,
//! 400 blocks of which 300 unblocked, 200 decisions). Times, per run: loading and validating the
//! project (the plan and the log), the state and forecast (`plan::live::state`, target
//! ≤ 100 ms), `tminus live status --format json` as a process, one append in process
//! without the kept snapshot (`live::record` loading the whole project), `tminus live
//! decide` as a process and one append in process with the snapshot the previous append
//! kept (target ≤ 50 ms); then `tminus build` of the whole project a few times.
//!
//! Run with `cargo bench --bench live` (`RUNS=n`, default 15); results go in BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeZone, Utc};

const STREAMS: usize = 100;
const PER_STREAM: usize = 100;

fn project(dir: &Path) -> usize {
    let content = dir.join("content");
    std::fs::create_dir_all(&content).unwrap();
    std::fs::write(
        content.join("project.yaml"),
        "project: Night at scale\nversion: \"1.0\"\ntimezone: Europe/London\n\
         go_live: 2027-03-29T18:00\nroster:\n  - { role: dba, name: Dan }\n  \
         - { role: sponsor, name: Sam }\nsupport: { email: help@example.com }\n",
    )
    .unwrap();
    let mut plan = String::from("rollback_deadline: T+12h\ntasks:\n");
    for s in 0..STREAMS {
        for t in 0..PER_STREAM {
            let kind = if t == 50 { ", type: go-no-go" } else { "" };
            let after = if t == 0 {
                ", start: T-0".to_string()
            } else {
                format!(", after: [s{s}-t{}]", t - 1)
            };
            let _ = writeln!(
                plan,
                "  - {{ id: s{s}-t{t}, title: Task {t} of stream {s}, duration: 5m, owner: dba{after}{kind} }}"
            );
        }
    }
    plan.push_str(
        "  - { id: ponr, title: Point of no return, type: point-of-no-return, after: [s0-t99] }\n",
    );
    std::fs::write(content.join("cutover.yaml"), plan).unwrap();
    let t0 = NaiveDateTime::parse_from_str("2027-03-29 18:00", "%Y-%m-%d %H:%M").unwrap();
    let at = |m: usize| (t0 + chrono::Duration::minutes(m as i64)).format("%Y-%m-%d %H:%M");
    let mut log = String::from("# at scale\n");
    let mut n = 0;
    for s in 0..STREAMS {
        for t in 0..95 {
            let _ = write!(
                log,
                "- task: s{s}-t{t}\n  started: {}\n  by: dba\n- task: s{s}-t{t}\n  finished: {}\n",
                at(5 * t),
                at(5 * t + 5)
            );
            n += 2;
        }
        let _ = write!(log, "- task: s{s}-t95\n  started: {}\n", at(475));
        n += 1;
        for t in 96..100 {
            let _ = write!(
                log,
                "- task: s{s}-t{t}\n  blocked: {}\n  note: Waiting for the vendor\n",
                at(476)
            );
            n += 1;
            if t < 99 {
                let _ = write!(log, "- task: s{s}-t{t}\n  unblocked: {}\n", at(477));
                n += 1;
            }
        }
        // The stream's go/no-go: a NO-GO, then a GO (a gate decided twice).
        for (outcome, m) in [("NO-GO", 240), ("GO", 250)] {
            let _ = write!(
                log,
                "- decision: s{s}-t50\n  outcome: {outcome}\n  at: {}\n  by: sponsor\n",
                at(m)
            );
            n += 1;
        }
    }
    std::fs::write(content.join("live.yaml"), log).unwrap();
    n
}

fn median(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[0]))
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    // LIVE_BENCH_DIR=path keeps the generated project there (to profile it).
    let kept = std::env::var_os("LIVE_BENCH_DIR").map(std::path::PathBuf::from);
    let root = kept.as_deref().unwrap_or(dir.path());
    let events = project(root);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let bin = env!("CARGO_BIN_EXE_tminus");
    let now = chrono_tz::Europe::London
        .with_ymd_and_hms(2027, 3, 30, 2, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let (mut load, mut state, mut status, mut append_cold, mut append, mut append_cli) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let snapshot = root.join(tminus::live::snapshot::PATH);
    let mut summary = String::new();
    for i in 0..runs {
        let t = Instant::now();
        let project = tminus::load::load(root).unwrap_or_else(|d| panic!("{d}"));
        load.push(t.elapsed());
        let schedule = tminus::plan::cutover::schedule(&project.cutover, project.go_live);
        let t = Instant::now();
        let s = tminus::plan::live::state(&project, &schedule, now);
        state.push(t.elapsed());
        summary = format!(
            "{} of {} done, status {}",
            s.done,
            s.total,
            s.status.label()
        );
        let t = Instant::now();
        let o = Command::new(bin)
            .args([
                "--root",
                root.to_str().unwrap(),
                "live",
                "status",
                "--format",
                "json",
                "--now",
                "2027-03-30T02:00",
            ])
            .output()
            .unwrap();
        status.push(t.elapsed());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // Decisions can repeat: three per run. In process without the kept snapshot (the
        // first append after an edit: the whole project is loaded), as a process and in
        // process again (both with the snapshot the previous append left).
        let decision = |task: String, note: String| tminus::live::NewEvent {
            task,
            what: tminus::live::What::Decide(tminus::project::live::Outcome::Go),
            at: Some("2027-03-29 22:10".into()),
            by: Some("sponsor".into()),
            note: Some(note),
            conditions: Vec::new(),
        };
        let _ = std::fs::remove_file(&snapshot);
        let event = decision(format!("s{}-t50", i % STREAMS), format!("run {i}"));
        let t = Instant::now();
        tminus::live::record(root, &event, Utc::now()).unwrap_or_else(|e| panic!("{e:?}"));
        append_cold.push(t.elapsed());
        assert!(snapshot.is_file(), "the append keeps its snapshot");
        let t = Instant::now();
        let o = Command::new(bin)
            .args([
                "--root",
                root.to_str().unwrap(),
                "live",
                "decide",
                &format!("s{}-t50", (i + 1) % STREAMS),
                "go",
                "--by",
                "sponsor",
                "--at",
                "2027-03-29 22:15",
            ])
            .output()
            .unwrap();
        append_cli.push(t.elapsed());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let event = decision(
            format!("s{}-t50", (i + 2) % STREAMS),
            format!("run {i}, again"),
        );
        let t = Instant::now();
        tminus::live::record(root, &event, Utc::now()).unwrap_or_else(|e| panic!("{e:?}"));
        append.push(t.elapsed());
    }
    let mut builds = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let o = Command::new(bin)
            .args([
                "--root",
                root.to_str().unwrap(),
                "build",
                "--now",
                "2027-03-30T02:00",
            ])
            .output()
            .unwrap();
        builds.push(t.elapsed());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let load_avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "live: {} tasks, {events} events; {summary}; load average {}",
        STREAMS * PER_STREAM + 1,
        load_avg.trim()
    );
    for (name, v) in [
        ("load and validate the project (plan + log)", load),
        ("state and forecast (target <= 100 ms)", state),
        ("`tminus live status --format json` (process)", status),
        (
            "one append after an edit (no snapshot), in process",
            append_cold,
        ),
        ("`tminus live decide` (process, snapshot kept)", append_cli),
        (
            "one append, in process (snapshot kept; target <= 50 ms)",
            append,
        ),
        ("`tminus build --now` (process)", builds),
    ] {
        let (m, f) = median(v);
        println!("  {name}: median {m:.1} ms, fastest {f:.1} ms");
    }
}
