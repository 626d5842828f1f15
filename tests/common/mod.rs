//! Helpers for the end-to-end tests: copy a fixture project into a temporary folder, run the
//! real `tminus` binary on it, and look at what it wrote.

#![allow(dead_code)]

pub mod fault_smtp;
pub mod smtp;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of `src` in a fresh temporary folder (kept alive by the returned guard).
pub fn copy_project(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("project");
    copy_dir(src, &dest);
    (dir, dest)
}

pub fn copy_dir(src: &Path, dest: &Path) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(src).expect("inside");
        if rel.starts_with("output") || rel.starts_with(".tminus") {
            continue;
        }
        let target = dest.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The example project of the repository (content/ only).
pub fn example() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("example");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
        &dest.join("content"),
    );
    (dir, dest)
}

pub fn tminus(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tminus"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .expect("run tminus")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must succeed and returns its stdout.
pub fn ok(root: &Path, args: &[&str]) -> String {
    let o = tminus(root, args);
    assert!(
        o.status.success(),
        "tminus {args:?} failed:\n{}",
        stderr(&o)
    );
    stdout(&o)
}

pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// Every file under `dir` with its content: compares folders byte for byte.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The minimal fixture with `csv` as its `everyone` audience (the main wave's) and
/// `comms: { max_lateness: 24h, COMMS }` in project.yaml.
pub fn with_audience(csv: &str, comms: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = copy_project(&fixture("minimal"));
    std::fs::write(root.join("content/audiences/everyone.csv"), csv).unwrap();
    let yaml = root.join("content/project.yaml");
    let mut text = read(&yaml);
    text.push_str(&format!("comms: {{ max_lateness: 24h, {comms} }}\n"));
    std::fs::write(yaml, text).unwrap();
    (dir, root)
}

/// An audience CSV of `user1@example.com` … `user<n>@example.com`, every 4th in French.
pub fn users_csv(n: usize) -> String {
    let mut csv = String::from("email,name,locale,timezone\n");
    for i in 1..=n {
        let locale = if i.is_multiple_of(4) { "fr" } else { "" };
        csv.push_str(&format!("user{i}@example.com,User {i},{locale},\n"));
    }
    csv
}

/// The addresses of [`users_csv`], sorted.
pub fn users(n: usize) -> Vec<String> {
    let mut v: Vec<String> = (1..=n).map(|i| format!("user{i}@example.com")).collect();
    v.sort();
    v
}

/// Recipient → state in `comms status --now NOW`, for the main wave.
pub fn main_wave_states(root: &Path, now: &str) -> BTreeMap<String, String> {
    let out = ok(root, &["comms", "status", "--format", "json", "--now", now]);
    serde_json::from_str::<Vec<serde_json::Value>>(&out)
        .unwrap()
        .into_iter()
        .filter(|r| r["wave"] == "main")
        .map(|r| {
            (
                r["to"].as_str().unwrap().to_string(),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `tminus --root ROOT comms send --due ARGS`, to the test server on 127.0.0.1:`port`:
/// no credentials, the first retry after 10 ms, a 10 s socket timeout (a test that needs
/// other values sets them with `.env`).
pub fn comms_send(root: &Path, port: u16, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tminus"));
    c.arg("--root")
        .arg(root)
        .args(["comms", "send", "--due"])
        .args(args)
        .env("TMINUS_SMTP_HOST", "127.0.0.1")
        .env("TMINUS_SMTP_PORT", port.to_string())
        .env("TMINUS_SMTP_RETRY_DELAY_MS", "10")
        .env("TMINUS_SMTP_TIMEOUT_SECS", "10")
        .env_remove("TMINUS_SMTP_USERNAME")
        .env_remove("TMINUS_SMTP_PASSWORD");
    c
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every `href`/`src` of every HTML file under `dir` that is not external, with the file it
/// is relative to (the page itself, or its `<base href>`).
pub fn internal_links(dir: &Path) -> Vec<(PathBuf, String)> {
    let re = regex::Regex::new(r#"(?:href|src)="([^"]*)""#).unwrap();
    let srcdoc = regex::Regex::new(r#"srcdoc="[^"]*""#).unwrap();
    let base_href = regex::Regex::new(r#"<base href="([^"]*)""#).unwrap();
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.path().extension().is_some_and(|e| e == "html") {
            let html = read(entry.path());
            // Links inside an email preview's srcdoc belong to the email, not the site.
            let html = srcdoc.replace_all(&html, "");
            // A `<base href>` changes what relative links are relative to.
            let base = base_href.captures(&html).map(|c| c[1].to_string());
            let page = match &base {
                Some(b) => entry.path().parent().unwrap().join(b).join("index.html"),
                None => entry.path().to_path_buf(),
            };
            for cap in re.captures_iter(&html) {
                if cap[0].starts_with("href") && Some(&cap[1]) == base.as_deref() {
                    continue;
                }
                let link = cap[1].replace("&amp;", "&");
                if link.is_empty()
                    || link.starts_with('#')
                    || link.contains("://")
                    || link.starts_with("mailto:")
                    || link.starts_with("tel:")
                    || link.starts_with("data:")
                {
                    continue;
                }
                out.push((page.clone(), link));
            }
        }
    }
    out
}

/// The output as readers see it: without the hidden entries (`.tmp-*` of a build in
/// progress, `.prev-*` generations kept for the next build).
pub fn visible(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(out)
        .into_iter()
        .filter(|(p, _)| !p.to_string_lossy().starts_with('.'))
        .collect()
}

/// Starts `tminus build` in `root` with the test hook that stalls it for 30 s after it
/// wrote its pages into the staging folder, so a test can kill it there.
pub fn spawn_stalled_build(root: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tminus"))
        .arg("--root")
        .arg(root)
        .arg("build")
        .env("TMINUS_TEST_STALL_MS", "30000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn tminus build")
}
