//! The send ledger: `.tminus/sent.jsonl`, append-only, one JSON record per line, each
//! line written with a single `write` and fsync'd before the next step.
//!
//! Per delivery (one message to one recipient, see [`DeliveryKey`]) the records are:
//!
//! - `claim` — written (and synced) *before* the message is handed to the server;
//! - `sent` — written after the server accepted it (its reply and the Message-ID);
//! - `failed` — written when the server refused it or it could not be delivered.
//!
//! The state of a delivery is its last record. A `claim` with nothing after it means the
//! run stopped between handing the message over and recording the answer: **in doubt**.
//! A line cut short by a crash (no trailing newline, invalid JSON) is ignored: the claim it
//! would have held was never followed by a send, because the send waits for the sync.
//!
//! [`Lock`] (`.tminus/send.lock`, an advisory lock held for the whole run) keeps two runs
//! from sending at once; readers (`comms status`) do not need it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What identifies one delivery: message id, wave, locale and recipient address (lower case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeliveryKey {
    pub id: String,
    pub wave: Option<String>,
    pub locale: String,
    pub to: String,
}

impl DeliveryKey {
    pub fn new(id: &str, wave: Option<&str>, locale: &str, to: &str) -> Self {
        DeliveryKey {
            id: id.to_string(),
            wave: wave.map(str::to_string),
            locale: locale.to_string(),
            to: to.to_ascii_lowercase(),
        }
    }
}

impl std::fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(w) = &self.wave {
            write!(f, "/{w}")?;
        }
        write!(f, "/{} → {}", self.locale, self.to)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Claim,
    Sent,
    Failed,
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub event: Event,
    /// When this happened (the real clock, not `--now`).
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub key: DeliveryKey,
    pub message_id: String,
    /// The scheduled send time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<DateTime<Utc>>,
    /// The server's reply (for `sent` and `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// For `failed`: whether the server refused the message for good (5xx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent: Option<bool>,
    /// The process that wrote the record.
    #[serde(default)]
    pub pid: u32,
}

/// What the ledger knows of one delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Accepted by the server.
    Sent {
        at: DateTime<Utc>,
        message_id: String,
        reply: String,
    },
    /// The last attempt failed (it is retried by the next run while not too late).
    Failed {
        at: DateTime<Utc>,
        reply: String,
        permanent: bool,
    },
    /// Claimed, never confirmed: may or may not have been delivered.
    InDoubt {
        at: DateTime<Utc>,
        message_id: String,
    },
}

/// The ledger of a project: its state per delivery, and the file to append to.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    states: HashMap<DeliveryKey, State>,
    /// Lines that could not be read (a torn last line after a crash), for the report.
    pub skipped_lines: usize,
    file: Option<File>,
}

pub const DIR: &str = ".tminus";
pub const FILE: &str = "sent.jsonl";
pub const LOCK: &str = "send.lock";

impl Ledger {
    /// The ledger path of the project in `root`.
    pub fn path_in(root: &Path) -> PathBuf {
        root.join(DIR).join(FILE)
    }

    /// Reads the ledger of the project in `root` (empty when there is none); read-only.
    pub fn read(root: &Path) -> io::Result<Ledger> {
        let path = Self::path_in(root);
        let text = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut ledger = Ledger {
            path,
            states: HashMap::new(),
            skipped_lines: 0,
            file: None,
        };
        for line in text.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Record>(line) {
                Ok(r) => ledger.apply(&r),
                Err(_) => ledger.skipped_lines += 1,
            }
        }
        Ok(ledger)
    }

    /// Reads the ledger and opens it for appending (creating `.tminus/` and the file).
    /// Call with the [`Lock`] held.
    pub fn open(root: &Path) -> io::Result<Ledger> {
        let dir = root.join(DIR);
        let created_dir = !dir.exists();
        std::fs::create_dir_all(&dir)?;
        let mut ledger = Self::read(root)?;
        let existed = ledger.path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&ledger.path)?;
        // A crash may have left half a line: start ours on a fresh one.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                file.sync_data()?;
            }
        }
        if !existed || created_dir {
            // Make the new directory entry itself durable.
            sync_dir(&dir);
            if created_dir {
                sync_dir(root);
            }
        }
        ledger.file = Some(file);
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn state(&self, key: &DeliveryKey) -> Option<&State> {
        self.states.get(key)
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    fn apply(&mut self, r: &Record) {
        let state = match r.event {
            Event::Claim => State::InDoubt {
                at: r.at,
                message_id: r.message_id.clone(),
            },
            Event::Sent => State::Sent {
                at: r.at,
                message_id: r.message_id.clone(),
                reply: r.reply.clone().unwrap_or_default(),
            },
            Event::Failed => State::Failed {
                at: r.at,
                reply: r.reply.clone().unwrap_or_default(),
                permanent: r.permanent.unwrap_or(false),
            },
        };
        self.states.insert(r.key.clone(), state);
    }

    /// Appends `record` as one line and syncs it to disk before returning.
    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("the ledger was opened read-only"))?;
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line)?;
        file.sync_data()?;
        self.apply(record);
        Ok(())
    }

    /// Records that `key` is about to be handed to the server.
    pub fn claim(
        &mut self,
        key: &DeliveryKey,
        message_id: &str,
        send_at: DateTime<Utc>,
    ) -> io::Result<()> {
        self.append(&Record {
            event: Event::Claim,
            at: Utc::now(),
            key: key.clone(),
            message_id: message_id.to_string(),
            send_at: Some(send_at),
            reply: None,
            permanent: None,
            pid: std::process::id(),
        })
    }

    /// Records that the server accepted `key`.
    pub fn commit(&mut self, key: &DeliveryKey, message_id: &str, reply: &str) -> io::Result<()> {
        self.append(&Record {
            event: Event::Sent,
            at: Utc::now(),
            key: key.clone(),
            message_id: message_id.to_string(),
            send_at: None,
            reply: Some(reply.to_string()),
            permanent: None,
            pid: std::process::id(),
        })
    }

    /// Records that `key` was not delivered.
    pub fn fail(
        &mut self,
        key: &DeliveryKey,
        message_id: &str,
        reply: &str,
        permanent: bool,
    ) -> io::Result<()> {
        self.append(&Record {
            event: Event::Failed,
            at: Utc::now(),
            key: key.clone(),
            message_id: message_id.to_string(),
            send_at: None,
            reply: Some(reply.to_string()),
            permanent: Some(permanent),
            pid: std::process::id(),
        })
    }
}

fn sync_dir(dir: &Path) {
    // Directories can be opened and synced on Unix; elsewhere this is a no-op.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Held for a whole sending run: `.tminus/send.lock`, locked with the operating system's
/// advisory lock (released by the OS when the process ends, even after `kill -9`).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock of the project in `root`, or says which process holds it.
    pub fn acquire(root: &Path) -> Result<Lock, String> {
        let dir = root.join(DIR);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(LOCK);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(format!(
                    "another `tminus comms send` is running on this project{} (lock: {})",
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {holder})")
                    },
                    path.display()
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
        // Informational only: the lock is the OS lock, not this content.
        let _ = file.set_len(0);
        let _ = file.write_all(std::process::id().to_string().as_bytes());
        Ok(Lock { _file: file })
    }
}

/// RFC 3339 in UTC with seconds, as in the ledger.
pub use crate::time::stamp::utc;

#[cfg(test)]
mod tests {
    use super::*;

    fn key(to: &str) -> DeliveryKey {
        DeliveryKey::new("get-ready", Some("pilot"), "en", to)
    }

    #[test]
    fn states_follow_the_last_record_and_survive_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut l = Ledger::open(root).unwrap();
        let t = Utc::now();
        l.claim(&key("a@x.example"), "<1@x>", t).unwrap();
        l.commit(&key("a@x.example"), "<1@x>", "250 OK").unwrap();
        l.claim(&key("b@x.example"), "<2@x>", t).unwrap();
        l.claim(&key("c@x.example"), "<3@x>", t).unwrap();
        l.fail(&key("c@x.example"), "<3@x>", "550 no such user", true)
            .unwrap();
        drop(l);
        // A crash in the middle of a line.
        let mut f = OpenOptions::new()
            .append(true)
            .open(Ledger::path_in(root))
            .unwrap();
        f.write_all(b"{\"event\":\"claim\",\"at\":\"20").unwrap();
        drop(f);

        let mut l = Ledger::open(root).unwrap();
        assert_eq!(l.skipped_lines, 1);
        assert!(matches!(
            l.state(&key("A@x.example")),
            Some(State::Sent { .. })
        ));
        assert!(matches!(
            l.state(&key("b@x.example")),
            Some(State::InDoubt { .. })
        ));
        assert!(matches!(
            l.state(&key("c@x.example")),
            Some(State::Failed {
                permanent: true,
                ..
            })
        ));
        l.commit(&key("b@x.example"), "<2@x>", "250 OK").unwrap();
        drop(l);
        let l = Ledger::read(root).unwrap();
        assert_eq!(l.skipped_lines, 1, "the torn line stays alone on its line");
        assert!(matches!(
            l.state(&key("b@x.example")),
            Some(State::Sent { .. })
        ));
    }

    #[test]
    fn the_lock_excludes_a_second_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lock::acquire(dir.path()).unwrap();
        let err = Lock::acquire(dir.path()).unwrap_err();
        assert!(err.contains("another"), "{err}");
        drop(first);
        Lock::acquire(dir.path()).unwrap();
    }
}
