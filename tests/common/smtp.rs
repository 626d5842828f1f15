//! A real SMTP server for the end-to-end tests: `tests/fixtures/smtp_server.py` (Python's
//! aiosmtpd) on 127.0.0.1, started per test with its misbehaviour switched on by arguments.
//!
//! Needs Debian's python3-aiosmtpd (`/usr/bin/python3`; `TMINUS_TEST_PYTHON` overrides).
//! Without it [`python`] says SKIPPED and the test returns — unless `CI` is set, where it
//! fails.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::fixture;

/// The Python that has aiosmtpd, or `None` (with a SKIPPED message) when there is none.
pub fn python() -> Option<PathBuf> {
    let py = std::env::var_os("TMINUS_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/python3"));
    let ok = Command::new(&py)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but python3-aiosmtpd is missing: apt-get install -y python3-aiosmtpd");
    }
    eprintln!("SKIPPED: python3-aiosmtpd is missing (apt-get install python3-aiosmtpd); these tests need a real SMTP server");
    None
}

pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Server {
    pub fn start(python: &Path, dir: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(python)
            .arg(fixture("smtp_server.py"))
            .arg("--dir")
            .arg(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("the SMTP server said {line:?}"))
            .parse()
            .expect("a port");
        Server {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// Every message stored, in order: the envelope recipients and the raw bytes.
    pub fn received(&self) -> Vec<(Vec<String>, Vec<u8>)> {
        received(&self.dir)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("received.jsonl")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn received(dir: &Path) -> Vec<(Vec<String>, Vec<u8>)> {
    let log = std::fs::read_to_string(dir.join("received.jsonl")).unwrap_or_default();
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "stored")
        .map(|v| {
            let to = v["rcpt_tos"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            let bytes = std::fs::read(dir.join(v["file"].as_str().unwrap())).unwrap();
            (to, bytes)
        })
        .collect()
}

/// Envelope recipient → how many messages it received.
pub fn counts(msgs: &[(Vec<String>, Vec<u8>)]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (to, _) in msgs {
        for a in to {
            *out.entry(a.clone()).or_insert(0) += 1;
        }
    }
    out
}

/// Starts the server with `args`, or `None` when there is no aiosmtpd (and CI is not set).
pub fn start(dir: &Path, args: &[&str]) -> Option<Server> {
    python().map(|py| Server::start(&py, dir, args))
}
