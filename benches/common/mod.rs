//! What the benchmarks share: a copy of a test fixture, the minimal fixture with an audience
//! of its own, and a small deterministic generator. (Included by each bench with
//! `mod common;`; not every bench uses all of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A fixture under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies the folder `src` to `dest` (created), files and folders.
pub fn copy_dir(src: &Path, dest: &Path) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        let target = dest.join(entry.path().strip_prefix(src).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The minimal fixture in a temporary folder (`<tmp>/project`) with `csv` as its
/// `everyone` audience and `comms: { COMMS }` in its project.yaml.
pub fn minimal_with_audience(csv: &str, comms: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    copy_dir(&fixture("minimal"), &root);
    std::fs::write(root.join("content/audiences/everyone.csv"), csv).unwrap();
    let yaml = root.join("content/project.yaml");
    let mut text = std::fs::read_to_string(&yaml).unwrap();
    text.push_str(&format!("comms: {{ {comms} }}\n"));
    std::fs::write(yaml, text).unwrap();
    (dir, root)
}

/// An audience of `person0@example.com` … `person<n-1>@example.com`, every fifth in
/// French, with the time zone `zone(i)` (blank for the project's).
pub fn people_csv(n: usize, zone: impl Fn(usize) -> &'static str) -> String {
    let mut csv = String::from("email,name,locale,timezone\n");
    for i in 0..n {
        let locale = if i % 5 == 0 { "fr" } else { "" };
        let zone = zone(i);
        csv.push_str(&format!(
            "person{i}@example.com,Person Number {i},{locale},{zone}\n"
        ));
    }
    csv
}

/// Sends, in process, every message of the project in `root` due at 2027-03-16 12:00 UTC
/// (with `max_lateness: 30d`, every delivery of the minimal fixture: the main wave's and the
/// pilot's, 15 days earlier) to the SMTP server on 127.0.0.1:`port`; the summary and the
/// seconds it took.
pub fn send_due(root: &Path, port: u16) -> (tminus::send::Summary, f64) {
    use chrono::TimeZone;
    let prepared = tminus::site::prepare(root).expect("project loads");
    let opts = tminus::send::Options {
        now: chrono::Utc.with_ymd_and_hms(2027, 3, 16, 12, 0, 0).unwrap(),
        dry_run: false,
        test_to: None,
        resend_in_doubt: false,
    };
    let port = port.to_string();
    let env = |k: &str| match k {
        "TMINUS_SMTP_PORT" => Some(port.clone()),
        "TMINUS_SMTP_HOST" => Some("127.0.0.1".to_string()),
        _ => None,
    };
    let t = std::time::Instant::now();
    let summary = tminus::send::send(
        &prepared.project,
        &prepared.messages(),
        &opts,
        &env,
        &mut |_| {},
    )
    .unwrap();
    (summary, t.elapsed().as_secs_f64())
}

/// A small deterministic generator (xorshift), so every run works on the same data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
