//! A real SMTP server for the end-to-end tests: `tests/fixtures/smtp_server.py` (Python's
//! aiosmtpd) on 127.0.0.1, started per test with its misbehaviour switched on by arguments.
//!
//! Needs Debian's python3-aiosmtpd (`/usr/bin/python3`; `TMINUS_TEST_PYTHON` overrides).
//! Without it [`python`] says so, and a test that needs a well-behaved server only gets
//! [`Server::embedded`] (mailin-embedded, in this process) instead, so `cargo test` sends
//! real mail on any machine; a test that needs a misbehaving server is SKIPPED — unless
//! `CI` is set, where a missing aiosmtpd fails.

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
    eprintln!("note: python3-aiosmtpd is missing (apt-get install python3-aiosmtpd): a test that needs a misbehaving or TLS SMTP server is SKIPPED; the others use the embedded server");
    None
}

pub struct Server {
    /// aiosmtpd's process; `None` for the embedded server (its thread ends with the test).
    child: Option<Child>,
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
            child: Some(child),
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// A well-behaved SMTP server in this process (mailin-embedded on 127.0.0.1, no TLS)
    /// that stores what it accepts in `dir` the way `smtp_server.py` does.
    pub fn embedded(dir: &Path) -> Server {
        std::fs::create_dir_all(dir).expect("the server's folder");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("its address").port();
        let mut server = mailin_embedded::Server::new(Store {
            dir: dir.to_path_buf(),
            to: Vec::new(),
            data: Vec::new(),
        });
        server
            .with_name("localhost")
            .with_ssl(mailin_embedded::SslConfig::None)
            .expect("no TLS")
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Server {
            child: None,
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
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The embedded server's handler: each message into `<n>.eml` and a `stored` line in
/// `received.jsonl`, as `smtp_server.py` writes them.
#[derive(Clone)]
struct Store {
    dir: PathBuf,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Store {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        use std::io::Write;
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let file = format!("embedded-{}-{n}.eml", std::process::id());
        std::fs::write(self.dir.join(&file), &self.data).expect("store the message");
        let line = serde_json::json!({"event": "stored", "rcpt_tos": self.to, "file": file});
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("received.jsonl"))
            .expect("the log");
        writeln!(log, "{line}").expect("log the message");
        mailin_embedded::response::OK
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

/// Starts aiosmtpd with `args`; without aiosmtpd (and CI not set), the embedded server when
/// `args` asks for no misbehaviour, else `None`.
pub fn start(dir: &Path, args: &[&str]) -> Option<Server> {
    match python() {
        Some(py) => Some(Server::start(&py, dir, args)),
        None if args.is_empty() => Some(Server::embedded(dir)),
        None => None,
    }
}
