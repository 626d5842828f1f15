//! `tminus live` end to end (SPEC §7, §8): recording from inside the project folder, the
//! state as of a pinned clock over a night that crosses the spring-forward change (worked
//! out by hand in `tests/fixtures/night/content/project.yaml`), every bad call refused with
//! the file left as it was, concurrent writers, and the build's `plan.json` `live`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{copy_project, fixture, stderr, stdout};

fn night() -> (tempfile::TempDir, std::path::PathBuf) {
    copy_project(&fixture("night"))
}

/// Runs tminus from inside `dir` (no --root: relative paths, as a user types it).
fn inside(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tminus"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run tminus")
}

fn json(dir: &Path, now: &str) -> serde_json::Value {
    let o = inside(dir, &["live", "status", "--format", "json", "--now", now]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("json")
}

#[test]
fn recording_a_night_appends_events_and_keeps_the_file_as_written() {
    let (_t, dir) = night();
    std::fs::remove_file(dir.join("content/live.yaml")).unwrap();
    let steps: &[&[&str]] = &[
        &[
            "live",
            "start",
            "freeze",
            "--at",
            "2027-03-27 23:02",
            "--by",
            "dba",
        ],
        &["live", "done", "freeze", "--at", "2027-03-27 23:35"],
        &["live", "start", "extract", "--at", "2027-03-27 23:40"],
        &[
            "live",
            "block",
            "extract",
            "--at",
            "2027-03-28 00:40",
            "--note",
            "Source locked: nightly backup",
        ],
    ];
    for args in steps {
        let o = inside(&dir, args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    let text = std::fs::read_to_string(dir.join("content/live.yaml")).unwrap();
    assert!(
        text.starts_with("# Go-live night"),
        "a new log starts with its header:\n{text}"
    );
    assert!(
        text.contains("  note: \"Source locked: nightly backup\"\n"),
        "{text}"
    );
    // Hand edit: a comment, then more events appended after it.
    std::fs::write(
        dir.join("content/live.yaml"),
        format!("{text}# bridge call at 00:45\n"),
    )
    .unwrap();
    let o = inside(
        &dir,
        &["live", "unblock", "extract", "--at", "2027-03-28 02:10"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read_to_string(dir.join("content/live.yaml")).unwrap();
    assert!(
        after.starts_with(&format!(
            "{text}# bridge call at 00:45\n- task: extract\n  unblocked: 2027-03-28 02:10\n"
        )),
        "{after}"
    );

    // 00:50 GMT: blocked; the forecast worked out by hand (extract 23:40 + 2h = 01:40 UTC).
    let v = json(&dir, "2027-03-28T00:50");
    assert_eq!(v["status"], "blocked");
    assert_eq!(v["done"], 1);
    assert_eq!(v["total"], 6);
    assert_eq!(v["tasks"][1]["state"], "blocked");
    assert_eq!(
        v["tasks"][1]["forecast_finish"],
        "2027-03-28T02:40:00+01:00"
    );
    assert_eq!(
        v["forecast_point_of_no_return"],
        "2027-03-28T03:55:00+01:00"
    );
    assert_eq!(v["forecast_finish"], "2027-03-28T04:25:00+01:00");
    // 02:20 BST: unblocked, in progress, 10 minutes late.
    let v = json(&dir, "2027-03-28T02:20");
    assert_eq!(v["status"], "delayed");
    assert_eq!(v["tasks"][1]["state"], "in progress");

    let o = inside(
        &dir,
        &[
            "live",
            "decide",
            "gng",
            "conditional-go",
            "--by",
            "sponsor",
            "--at",
            "2027-03-28 03:00",
            "--condition",
            "Fix DEF-2291 @dba by T+2d",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&dir, "2027-03-28T03:05");
    assert_eq!(v["decisions"][0]["outcome"], "CONDITIONAL GO");
    assert_eq!(v["decisions"][0]["by"], "sponsor");
    assert_eq!(v["decisions"][0]["conditions"][0]["owner"], "dba");
    assert_eq!(
        v["decisions"][0]["conditions"][0]["due"],
        "2027-03-29T23:00:00+01:00"
    );

    // The bridge update as a table.
    let o = inside(&dir, &["live", "status", "--now", "2027-03-28T00:50"]);
    let table = stdout(&o);
    assert!(table.contains("Status:    BLOCKED"), "{table}");
    assert!(table.contains("Progress:  1 of 6 tasks done"), "{table}");
    assert!(
        table.contains("Extract data (extract) — since 00:40 GMT: Source locked: nightly backup"),
        "{table}"
    );
    assert!(
        table.contains("ETA:       04:25 BST (planned 04:15 BST, 10 min late)"),
        "{table}"
    );
}

#[test]
fn without_at_an_event_is_recorded_now() {
    let (_t, dir) = night();
    std::fs::remove_file(dir.join("content/live.yaml")).unwrap();
    let o = inside(&dir, &["live", "start", "freeze"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&dir, &chrono::Utc::now().to_rfc3339());
    assert_eq!(v["tasks"][0]["state"], "in progress");
}

/// Every bad call: exit 1, the argument named, the file byte for byte as it was.
#[test]
fn bad_calls_write_nothing() {
    let (_t, dir) = night();
    let path = dir.join("content/live.yaml");
    let before = std::fs::read(&path).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["live", "start", "frezee"], "TASK: unknown task `frezee`"),
        (
            &["live", "start", "load", "--at", "yesterday"],
            "--at: `yesterday`",
        ),
        (
            &["live", "start", "load", "--at", "2027-02-30 10:00"],
            "--at:",
        ),
        (
            &["live", "start", "load", "--by", "nobody"],
            "--by: unknown owner (roster role) `nobody`",
        ),
        (
            &["live", "start", "freeze", "--at", "2027-03-28 03:00"],
            "--at: task `freeze` is started a second time (it started on line 2)",
        ),
        (
            &["live", "done", "gng", "--at", "2027-03-28 03:10"],
            "finished a second time",
        ),
        (
            &["live", "unblock", "load"],
            "task `load` is unblocked but was not blocked",
        ),
        (
            &["live", "decide", "load", "go", "--by", "sponsor"],
            "GATE: `load` is a task task, not a go/no-go",
        ),
        (
            &["live", "decide", "gng", "conditional-go", "--by", "sponsor"],
            "names no conditions",
        ),
        (
            &["live", "decide", "gng", "maybe", "--by", "sponsor"],
            "OUTCOME: `maybe` is not an outcome",
        ),
        (
            &[
                "live",
                "decide",
                "gng",
                "go",
                "--by",
                "sponsor",
                "--condition",
                "x",
            ],
            "a GO has no conditions",
        ),
        (
            &[
                "live",
                "decide",
                "gng",
                "conditional-go",
                "--by",
                "sponsor",
                "--condition",
                "x @ghost",
            ],
            "--condition (@owner): unknown owner",
        ),
        (&["live", "decide", "gng", "go"], "--by"),
        (
            &["live", "status", "--now", "soon"],
            "--now `soon` is not a time",
        ),
    ];
    for (args, expected) in cases {
        let o = inside(&dir, args);
        assert_eq!(
            o.status.code(),
            Some(if args.len() == 4 && args[3] == "go" {
                2
            } else {
                1
            }),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(expected),
            "{args:?}: expected {expected:?} in\n{}",
            stderr(&o)
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "{args:?} changed the log"
        );
    }
}

#[test]
fn a_broken_log_is_reported_at_its_line_and_nothing_is_appended() {
    let (_t, dir) = night();
    let path = dir.join("content/live.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "- task: load\n  finished: 2027-03-28 03:10\n- task: load\n  finished: 2027-03-28 03:20\n",
    );
    std::fs::write(&path, &text).unwrap();
    let o = inside(&dir, &["live", "start", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("content/live.yaml:30:13: task `load` is finished a second time (it finished on line 27)"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let o = inside(&dir, &["build"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.join("output").exists());
}

/// 8 writers × 25 decisions at once: 200 well-formed events, none lost or interleaved.
#[test]
fn concurrent_writers_lose_nothing() {
    let (_t, dir) = night();
    let path = dir.join("content/live.yaml");
    let before = std::fs::read_to_string(&path).unwrap();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let note = format!("writer {w} event {i}");
                    let o = inside(
                        &dir,
                        &[
                            "live",
                            "decide",
                            "gng",
                            "go",
                            "--by",
                            "sponsor",
                            "--at",
                            "2027-03-28 03:30",
                            "--note",
                            &note,
                        ],
                    );
                    assert!(o.status.success(), "{note}: {}", stderr(&o));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(after.starts_with(&before));
    for w in 0..8 {
        for i in 0..25 {
            let line = format!("  note: writer {w} event {i}\n");
            assert_eq!(after.matches(&line).count(), 1, "{line}");
        }
    }
    // Every event reads back whole.
    let v = json(&dir, "2027-03-28T04:00");
    assert_eq!(v["decisions"].as_array().unwrap().len(), 201);
}

/// `tminus live` keeps the checked plan and log between runs (`.tminus/live-check.json`) so
/// an append does not load the whole project again. Whatever happens to the files, it must
/// decide exactly as a full check does: the same calls, valid and not, and the same hand
/// edits (to the log, the plan, the roster) in two copies of a night — one keeping its
/// snapshot, one without it before every call — give the same answers and the same log.
#[test]
fn the_kept_snapshot_decides_exactly_as_a_full_check() {
    let (_a, kept) = night();
    let (_b, fresh) = night();
    let snapshot = |dir: &Path| dir.join(".tminus/live-check.json");
    let tasks = [
        "freeze", "extract", "gng", "load", "ponr", "verify", "smoke", "verfy",
    ];
    let times = [
        "2027-03-28 03:05",
        "2027-03-28 03:20",
        "T+4h",
        "2027-03-28 03:40",
        "2027-03-28 04:10",
        "2027-03-28 02:30",
        "2027-03-28 05:00",
        "2027-03-28 05:30",
    ];
    let people = ["dba", "cutover-lead", "sponsor", "comms-lead", "nobody"];
    // A fixed linear congruential sequence: the same run every time, many kinds of call.
    let mut seed: u64 = 42;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n
    };
    let append = |dir: &Path, file: &str, text: &str| {
        let path = dir.join(file);
        let mut all = std::fs::read_to_string(&path).unwrap();
        all.push_str(text);
        std::fs::write(&path, all).unwrap();
    };
    let (mut hits, mut recorded) = (0, 0);
    for step in 0..150 {
        for dir in [&kept, &fresh] {
            match step {
                // A comment and a decision added to the log by hand.
                30 => append(
                    dir,
                    "content/live.yaml",
                    "# by hand\n- decision: gng\n  outcome: GO\n  at: 2027-03-28 03:12\n",
                ),
                // Two tasks added to the plan; later, one's start is added to the log by hand.
                60 => append(
                    dir,
                    "content/cutover.yaml",
                    "  - { id: smoke, title: Smoke test, after: [verify], duration: 10m, owner: dba }\n  - { id: handover, title: Handover, after: [smoke], duration: 10m, owner: dba }\n",
                ),
                75 => append(
                    dir,
                    "content/live.yaml",
                    "- task: handover\n  started: 2027-03-28 05:40\n",
                ),
                // A role added to the roster.
                90 => {
                    let path = dir.join("content/project.yaml");
                    let text = std::fs::read_to_string(&path).unwrap().replacen(
                        "support:",
                        "  - role: comms-lead\n    name: Sam Lee\nsupport:",
                        1,
                    );
                    std::fs::write(&path, text).unwrap();
                }
                _ => {}
            }
        }
        let task = tasks[next(tasks.len())];
        let at = times[next(times.len())];
        let by = people[next(people.len())];
        let until = times[next(times.len())];
        let args: Vec<&str> = match next(7) {
            0 => vec!["live", "start", task],
            1 => vec!["live", "done", task],
            2 => vec!["live", "block", task, "--note", "waiting: on the DBA"],
            6 => vec!["live", "block", task, "--until", until],
            3 => vec!["live", "unblock", task],
            4 => vec!["live", "decide", task, ["go", "no-go"][next(2)]],
            _ => vec![
                "live",
                "decide",
                task,
                "conditional-go",
                "--condition",
                "Fix DEF-1 @dba by T+2d",
            ],
        };
        // Right after each edit, a call whose answer depends on it.
        let (mut args, at, by) = match step {
            61 => (vec!["live", "start", "smoke"], "2027-03-28 05:05", "dba"),
            76 => (vec!["live", "start", "handover"], "2027-03-28 05:45", "dba"),
            91 => (
                vec!["live", "done", "handover"],
                "2027-03-28 05:50",
                "comms-lead",
            ),
            _ => (args, at, by),
        };
        args.extend(["--at", at, "--by", by]);
        if snapshot(&kept).exists() {
            hits += 1;
        }
        let _ = std::fs::remove_file(snapshot(&fresh));
        let (a, b) = (inside(&kept, &args), inside(&fresh, &args));
        recorded += usize::from(a.status.success());
        assert_eq!(
            (a.status.code(), stdout(&a), stderr(&a)),
            (b.status.code(), stdout(&b), stderr(&b)),
            "step {step}: {args:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(kept.join("content/live.yaml")).unwrap(),
        std::fs::read_to_string(fresh.join("content/live.yaml")).unwrap()
    );
    // Most calls found a snapshot to use (or to refuse as stale), and many were recorded.
    assert!(
        hits > 100 && recorded > 10,
        "{hits} snapshots, {recorded} recorded"
    );
}

/// A block recorded after the fact: on its own it would leave the task blocked through its
/// later events, so it is refused (nothing written); with `--until` its end goes in with
/// it, and the night replays the block at its own times.
#[test]
fn a_block_recorded_after_the_fact_goes_in_with_its_end() {
    let (_tmp, root) = night();
    let log = root.join("content/live.yaml");
    let before = std::fs::read_to_string(&log).unwrap();
    // The fixture's extract: started 23:40, blocked 00:40–02:10, finished 02:50.
    let o = inside(
        &root,
        &["live", "block", "extract", "--at", "2027-03-28 00:10"],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("--at: task `extract` blocked at 2027-03-28 00:10 is earlier than its latest event (2027-03-28 02:50)")
            && e.contains("is blocked again while still blocked")
            && e.contains("--until END"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), before);

    let o = inside(
        &root,
        &[
            "live",
            "block",
            "extract",
            "--at",
            "2027-03-28 00:10",
            "--until",
            "2027-03-28 00:30",
            "--note",
            "Network down",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        &after[before.len()..],
        "- task: extract\n  blocked: 2027-03-28 00:10\n  note: Network down\n\
         - task: extract\n  unblocked: 2027-03-28 00:30\n"
    );
    let extract = |now: &str| {
        let live = json(&root, now);
        live["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "extract")
            .unwrap()
            .clone()
    };
    assert_eq!(extract("2027-03-28 00:20")["state"], "blocked");
    assert_eq!(extract("2027-03-28 00:20")["note"], "Network down");
    assert_eq!(extract("2027-03-28 00:35")["state"], "in progress");
    assert_eq!(extract("2027-03-28 00:50")["state"], "blocked");
    assert_eq!(extract("2027-03-28 03:00")["state"], "done");
    // A second one overlapping the block written first: refused, at the argument that
    // makes the overlap.
    let o = inside(
        &root,
        &[
            "live",
            "block",
            "extract",
            "--at",
            "2027-03-28 00:35",
            "--until",
            "2027-03-28 00:45",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--until: task `extract` unblocked at 2027-03-28 00:45"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), after);
    // The whole log, as the build reads it, agrees.
    let o = inside(&root, &["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn the_build_shows_the_night_as_of_build_now() {
    let (_t, dir) = night();
    let o = inside(&dir, &["build", "--now", "2027-03-28T00:50"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("output/v1.0/plan.json")).unwrap())
            .unwrap();
    let live = &plan["live"];
    assert_eq!(live["as_of"], "2027-03-28T00:50:00+00:00");
    assert_eq!(live["status"], "blocked");
    assert_eq!(live["done"], 1);
    assert_eq!(live["forecast_finish"], "2027-03-28T04:25:00+01:00");
    let page = |rel: &str| std::fs::read_to_string(dir.join("output/v1.0").join(rel)).unwrap();
    // The dashboard's banner and the status page: status, X of Y, forecasts, the block.
    let dashboard = page("index.html");
    assert!(
        dashboard.contains(r#"data-night-status="blocked""#),
        "banner"
    );
    assert!(dashboard.contains("1 of 6</strong>"));
    assert!(dashboard.contains(
        r#"<time datetime="2027-03-28T04:25:00+01:00"><strong>Sun 28 Mar 04:25</strong></time>"#
    ));
    assert!(dashboard.contains("5m before the rollback deadline 04:00"));
    let status = page("cutover/status/index.html");
    assert!(status.contains("since <time datetime=\"2027-03-28T00:40:00+00:00\">00:40</time>: Source database locked by the nightly backup"), "{status}");
    assert!(status.contains("Status:    BLOCKED"));
    // The cutover page: each task's state; no decision yet on the gate, its checklist's verdict.
    let cutover = page("cutover/index.html");
    assert!(cutover.contains(r#"<span class="state state-blocked">blocked</span>"#));
    assert!(cutover.contains("No decision yet"));
    assert!(cutover.contains(r#"<span class="rec rec-sm rec-conditional">CONDITIONAL GO</span>"#));
    // Replay a later moment: the same version rebuilt as of 03:05 BST.
    let o = inside(&dir, &["build", "--now", "2027-03-28T03:05"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("output/v1.0/plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["live"]["status"], "delayed");
    assert_eq!(plan["live"]["done"], 3);
    assert_eq!(plan["live"]["decisions"][0]["outcome"], "CONDITIONAL GO");
    let cutover = std::fs::read_to_string(dir.join("output/v1.0/cutover/index.html")).unwrap();
    assert!(cutover.contains("One open defect accepted by the business owner"));
    assert!(cutover.contains("Fix DEF-2291 in the first hot-fix — owner DBA, due <time datetime=\"2027-03-29T23:00:00+01:00\">"), "condition with owner and due");
    assert!(cutover.contains("by Executive sponsor (Sam Okafor)"));
}

/// The live log is not a source of a version: recording an event on an approved plan's
/// night does not make its rebuild a refused change.
#[test]
fn an_approved_version_is_not_changed_by_the_log() {
    let (_t, dir) = night();
    let yaml = dir.join("content/project.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(
        &yaml,
        text.replace("version: \"1.0\"", "version: \"1.0\"\nstatus: approved"),
    )
    .unwrap();
    let o = inside(&dir, &["build"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = inside(&dir, &["live", "start", "load", "--at", "2027-03-28 03:05"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = inside(&dir, &["build"]);
    assert!(
        o.status.success(),
        "an event refused the approved version's rebuild: {}",
        stderr(&o)
    );
}

/// `tminus serve` is the war-room board: an event recorded with `tminus live` shows on the
/// open status page (the reload signal, then the page) within a second.
#[test]
fn serve_shows_a_recorded_event_within_a_second() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let (_t, dir) = night();
    std::fs::remove_file(dir.join("content/live.yaml")).unwrap();
    let o = inside(
        &dir,
        &["live", "start", "freeze", "--at", "2026-01-05 09:00"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut child = Command::new(env!("CARGO_BIN_EXE_tminus"))
        .current_dir(&dir)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _child = Kill(child);
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let get = |path: &str| -> String {
        agent
            .get(&format!("{base}{path}"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    };
    let page = "/v1.0/cutover/status/index.html";
    assert!(get(page).contains(r#"data-night-status="on track""#));
    let status: serde_json::Value = serde_json::from_str(&get("/__tminus/status")).unwrap();
    let since = status["generation"].as_u64().unwrap();
    // The page's long poll, as the browser holds it.
    let poll_url = format!("{base}/__tminus/poll?since={since}");
    let poll_agent = agent.clone();
    let poll = std::thread::spawn(move || {
        let body = poll_agent
            .get(&poll_url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        (Instant::now(), body)
    });
    std::thread::sleep(Duration::from_millis(100));
    let o = inside(
        &dir,
        &[
            "live",
            "block",
            "freeze",
            "--at",
            "2026-01-05 09:10",
            "--note",
            "Legacy still taking writes",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let recorded = Instant::now();
    let (signalled, _) = poll.join().unwrap();
    let body = get(page);
    let shown = Instant::now();
    assert!(body.contains(r#"data-night-status="blocked""#), "{body}");
    assert!(body.contains("Legacy still taking writes"));
    let elapsed = shown.saturating_duration_since(recorded);
    eprintln!(
        "recorded → reload signal {:?}, → page {:?}",
        signalled.saturating_duration_since(recorded),
        elapsed
    );
    assert!(
        elapsed < Duration::from_secs(1),
        "the board took {elapsed:?}"
    );
}

/// `live status` reads the log between appends: while a writer holds the lock it waits, and
/// it answers as soon as the lock is released.
#[test]
fn live_status_waits_for_an_append_in_progress() {
    let (_t, dir) = night();
    std::fs::create_dir_all(dir.join(".tminus")).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".tminus/live.lock"))
        .unwrap();
    lock.lock().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tminus"))
        .current_dir(&dir)
        .args(["live", "status", "--now", "2027-03-28T04:00"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "status read the log while it was locked"
    );
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(!stdout(&out).is_empty());
}
