//! Benchmark: `tminus serve` on a generated 1,000-page project — the time from saving one
//! page to the reload signal a browser receives. Target: under 100 ms.
//!
//! The project is the minimal test fixture plus 1,000 generated training guides (headings,
//! a table, a highlighted code block, `@/` links), so the site has about 1,020 pages. The
//! server runs in this process on 127.0.0.1; the "browser" is a long poll on
//! `/__tminus/poll` opened before each save, exactly what the injected script does. The
//! time runs from just before the file is written until the poll's answer is read:
//! file-system event, debounce, rebuild, signal and HTTP response included.
//!
//! Measured: 25 body edits of one guide (the incremental path: one page re-rendered) and
//! 5 edits of project.yaml (a full rebuild in memory), each reported as median/min/max.
//!
//! Run with `cargo bench --bench serve_reload`; results go in BENCHMARKS.md. Set
//! `TMINUS_BENCH_THEME=DIR` to measure with another theme folder.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::copy_dir;

const GUIDES: usize = 1000;

fn guide(i: usize, edit: usize) -> String {
    format!(
        "---\ntitle: Guide {i}\naudience: [everyone]\nduration: 20m\nkind: guide\norder: {i}\n---\n\
# Guide {i}\n\nRevision {edit}. This guide walks through task {i} in the new system.\n\n\
## Before you start\n\nCheck the [readiness checklist](@/checklists/readiness) and the \
[deploy runbook](@/runbooks/deploy).\n\n| Old key | New key |\n|---|---|\n| F5 | Ctrl+R |\n| F9 | Ctrl+S |\n\n\
## Steps\n\n1. Open the app.\n2. Find job {i}.\n3. Post it.\n\n```sql\nSELECT * FROM jobs WHERE id = {i};\n```\n\n\
## If something goes wrong\n\nCall the service desk.\n"
    )
}

fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    copy_dir(&common::fixture("minimal"), &root);
    for i in 0..GUIDES {
        std::fs::write(
            root.join(format!("content/training/g{i:04}.md")),
            guide(i, 0),
        )
        .unwrap();
    }
    // TMINUS_BENCH_THEME=DIR: measure with another theme (a folder with templates/ and
    // static/), e.g. a theme under development, as the project's override.
    if let Some(theme) = std::env::var_os("TMINUS_BENCH_THEME") {
        copy_dir(Path::new(&theme), &root.join("themes/bench"));
        let project = root.join("content/project.yaml");
        let text = std::fs::read_to_string(&project).unwrap();
        std::fs::write(&project, format!("{text}site: {{ theme: bench }}\n")).unwrap();
    }
    (dir, root)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn generation(base: &str) -> u64 {
    let mut r = agent()
        .get(&format!("{base}/__tminus/status"))
        .call()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    v["generation"].as_u64().unwrap()
}

/// Opens a long poll, saves with `change`, returns the time until the poll answers.
fn save_to_signal(base: &str, change: impl FnOnce()) -> Duration {
    let since = generation(base);
    let url = format!("{base}/__tminus/poll?since={since}");
    let poll = std::thread::spawn(move || {
        let mut r = agent().get(&url).call().unwrap();
        let _ = r.body_mut().read_to_string();
        Instant::now()
    });
    // Let the poll reach the server and the previous events settle.
    std::thread::sleep(Duration::from_millis(150));
    let saved = Instant::now();
    change();
    let signalled = poll.join().unwrap();
    signalled - saved
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<42} median {:7.1} ms   min {:7.1} ms   max {:7.1} ms   (n = {})",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(*times.last().unwrap()),
        times.len()
    );
}

fn main() {
    let (_dir, root) = project();
    let started = Instant::now();
    let server = tminus::site::serve::start(&root, &root.join("output"), 0, false, None).unwrap();
    let first = started.elapsed();
    let base = server.url().trim_end_matches('/').to_string();
    let status = generation(&base);
    assert_eq!(status, 1);
    let pages = {
        let mut r = agent().get(&format!("{base}/versions.js")).call().unwrap();
        let js = r.body_mut().read_to_string().unwrap();
        js.matches("index.html").count()
    };
    println!(
        "project: {GUIDES} generated guides + fixture = ~{pages} pages; first build in memory {:.0} ms",
        first.as_secs_f64() * 1000.0
    );

    let file = root.join("content/training/g0500.md");
    let mut body = Vec::new();
    for n in 1..=25 {
        body.push(save_to_signal(&base, || {
            std::fs::write(&file, guide(500, n)).unwrap()
        }));
    }
    // Check the edit really is served.
    let mut r = agent()
        .get(&format!("{base}/v2.0/training/g0500/index.html"))
        .call()
        .unwrap();
    assert!(r.body_mut().read_to_string().unwrap().contains("Guide 500"));
    summary("save one guide body → reload signal", body);

    let project = root.join("content/project.yaml");
    let text = std::fs::read_to_string(&project).unwrap();
    let mut full = Vec::new();
    for n in 1..=5 {
        full.push(save_to_signal(&base, || {
            std::fs::write(&project, format!("{text}# edit {n}\n")).unwrap()
        }));
    }
    summary("save project.yaml → reload signal (full)", full);
    server.stop();
}
