//! Benchmark: a year of hypercare — 365 days of daily figures for 50 metrics and 20,000
//! incidents — read from its CSVs, judged, and rendered (the hypercare page with its 50
//! charts, 365 daily reports, and plan.json). Target: 300 ms in all.
//!
//! Run with `cargo bench --bench hypercare`; results go in BENCHMARKS.md.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use rayon::prelude::*;
use tminus::render::{SiteInput, VersionInfo};
use tminus::templates::Theme;

use common::Rng;

const METRICS: usize = 50;
const DAYS: i64 = 365;
const INCIDENTS: usize = 20_000;

/// The minimal fixture with a year of hypercare (T-0 29 March 2027; day 1 is 30 March).
fn project(dir: &Path) {
    common::copy_dir(&common::fixture("minimal"), dir);
    let content = dir.join("content");
    std::fs::create_dir_all(content.join("hypercare")).unwrap();
    let mut yaml = format!("days: {DAYS}\nmetrics:\n");
    for m in 0..METRICS {
        let _ = writeln!(
            yaml,
            "  - {{ id: m{m}, label: Metric {m}, unit: \"%\", target: \">= 90\", group: Group {} }}",
            m % 5
        );
    }
    yaml.push_str(
        "daily: hypercare/daily.csv\nincidents: hypercare/incidents.csv\nseverities:\n  \
         P1: { respond: 15m, resolve: 4h }\n  P2: { respond: 1h, resolve: 8h }\n  \
         P3: { respond: 4h, resolve: 24h }\n  P4: { respond: 8h, resolve: 5d }\nexit:\n  \
         - { metric: m0, over: 7d }\n  - { metric: m1, over: 14d }\n  \
         - { incidents: P1, over: 7d, max: 0 }\n  - { incidents: [P1, P2], over: 14d, max: 3 }\n",
    );
    std::fs::write(content.join("hypercare.yaml"), yaml).unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let start = NaiveDate::from_ymd_opt(2027, 3, 30).unwrap();
    let mut daily = String::from("date");
    for m in 0..METRICS {
        let _ = write!(daily, ",m{m}");
    }
    daily.push('\n');
    for d in 0..DAYS {
        let _ = write!(daily, "{}", start + chrono::Duration::days(d));
        for _ in 0..METRICS {
            // 85.0–99.9: about a third of the figures miss the target; a few are missing.
            if rng.below(50) == 0 {
                daily.push(',');
            } else {
                let _ = write!(daily, ",{:.1}", 85.0 + rng.below(150) as f64 / 10.0);
            }
        }
        daily.push('\n');
    }
    std::fs::write(content.join("hypercare/daily.csv"), daily).unwrap();
    let mut inc = String::from("id,title,severity,opened,responded,resolved\n");
    for i in 0..INCIDENTS {
        let day = start + chrono::Duration::days(rng.below(DAYS as u64) as i64);
        // From 02:00: 01:xx does not exist on the spring-forward night.
        let opened = day
            .and_hms_opt(2 + rng.below(22) as u32, rng.below(60) as u32, 0)
            .unwrap();
        let respond = opened + chrono::Duration::minutes(1 + rng.below(120) as i64);
        let resolve = respond + chrono::Duration::minutes(rng.below(3000) as i64);
        let open = rng.below(20) == 0;
        let _ = writeln!(
            inc,
            "INC-{i:05},Incident number {i},P{},{},{},{}",
            1 + rng.below(4),
            opened.format("%Y-%m-%d %H:%M"),
            respond.format("%Y-%m-%d %H:%M"),
            if open {
                String::new()
            } else {
                resolve.format("%Y-%m-%d %H:%M").to_string()
            }
        );
    }
    std::fs::write(content.join("hypercare/incidents.csv"), inc).unwrap();
}

/// CPU time of the whole process (every thread), user and system.
fn cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into `ts`, which lives for the call.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    project(root);
    let mut prepared = tminus::site::prepare(root).unwrap_or_else(|d| panic!("{d}"));
    let project = prepared.project.clone();
    let theme = Theme::load(None).unwrap();
    let versions = vec![VersionInfo {
        version: project.version.clone(),
        status: "approved".into(),
        ..Default::default()
    }];
    // The last evening of the year of hypercare.
    let now = chrono_tz::Europe::London
        .with_ymd_and_hms(2028, 3, 28, 17, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut runs: Vec<[Duration; 8]> = Vec::new();
    let mut bytes = 0;
    let n_runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    for _ in 0..n_runs {
        let cpu0 = cpu();
        let t = Instant::now();
        let mut diags = tminus::diagnostics::Diagnostics::new();
        let h = tminus::load::hypercare::load(root, &project, &mut diags).expect("loads");
        assert!(diags.is_empty(), "{diags}");
        let read = t.elapsed();
        let t = Instant::now();
        let j = tminus::plan::hypercare::judge(&h, now);
        let judged = t.elapsed();
        prepared.project.hypercare = Some(h);
        prepared.hypercare = Some(j);
        let t = Instant::now();
        let input = SiteInput {
            base_url: prepared.project.site.base_url.trim().trim_end_matches('/'),
            project: &prepared.project,
            schedule: &prepared.schedule,
            comms: &prepared.comms,
            delivery: None,
            hypercare: prepared.hypercare.as_ref(),
            live: None,
            as_of: None,
            rehearsals: &prepared.rehearsals,
            calendar_sequences: &prepared.calendar_sequences,
            session_sequences: &prepared.session_sequences,
            versions: &versions,
            built_at: now,
        };
        let jobs: Vec<_> = tminus::render::jobs(&input)
            .into_iter()
            .filter(|j| j.path.starts_with("hypercare/"))
            .collect();
        assert_eq!(jobs.len(), DAYS as usize + 1);
        let contexts = t.elapsed();
        let t2 = Instant::now();
        let pages: Vec<String> = jobs
            .par_iter()
            .map(|job| tminus::site::output::render_page(&theme, &input, job).unwrap())
            .collect();
        let templates = t2.elapsed();
        let t3 = Instant::now();
        let plan = tminus::render::plan_json::to_json(&input);
        let plan_json = t3.elapsed();
        let rendered = t.elapsed();
        bytes = pages.iter().map(String::len).sum::<usize>() + plan.len();
        runs.push([
            read,
            judged,
            rendered,
            read + judged + rendered,
            contexts,
            templates,
            plan_json,
            cpu() - cpu0,
        ]);
    }
    let median = |i: usize| {
        let mut v: Vec<Duration> = runs.iter().map(|r| r[i]).collect();
        v.sort();
        v[v.len() / 2]
    };
    let min = |i: usize| runs.iter().map(|r| r[i]).min().unwrap_or_default();
    let j = prepared.hypercare.as_ref().unwrap();
    println!(
        "hypercare: {DAYS} days x {METRICS} metrics, {INCIDENTS} incidents ({} open, recommendation {}); \
         median of {} runs: read CSVs {:.1} ms, judge {:.1} ms, render {} pages + plan.json {:.1} ms ({:.1} MB: page variables {:.1} ms, templates {:.1} ms, plan.json {:.1} ms); total {:.1} ms (fastest run {:.1} ms); CPU time of a run (all threads) {:.1} ms median",
        j.severities.iter().map(|s| s.open.len()).sum::<usize>(),
        j.recommendation.label(),
        runs.len(),
        ms(median(0)),
        ms(median(1)),
        DAYS + 1,
        ms(median(2)),
        bytes as f64 / 1e6,
        ms(median(4)),
        ms(median(5)),
        ms(median(6)),
        ms(median(3)),
        ms(min(3)),
        ms(median(7)),
    );
}
