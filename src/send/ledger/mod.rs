//! The send ledger: `.tminus/sent.jsonl`, append-only, one JSON record per line. Records
//! are appended in groups ([`Ledger::append_all`]: the lines in one `write`, then one
//! fsync), and nothing that depends on a record happens before its group is synced: during
//! a run the records of all its connections go through one writer ([`super::writer`]).
//!
//! Per delivery (one message to one recipient, see [`DeliveryKey`]) the records are:
//!
//! - `claim` — written (and synced) *before* the message is handed to the server;
//! - `sent` — written after the server accepted it (its reply and the Message-ID);
//! - `failed` — written when the server refused it or it could not be delivered;
//! - `in_doubt` — written when the whole message was handed over (its final `.` written)
//!   but no answer came: the connection dropped or the reply timed out. The server may or
//!   may not have it, so it is never sent again without `--resend-in-doubt`.
//!
//! The state of a delivery is its last record, except that `sent` is final: once a
//! delivery was accepted, no later record makes it sendable again. A `claim` with nothing
//! after it means the run stopped between handing the message over and recording the
//! answer: **in doubt** too.
//!
//! A delivery is identified by message id, wave and recipient address, compared with
//! [`address_key`]; not by locale (a changed locale or a new translation must not send
//! it again). Records still carry the locale they were rendered in, and ledgers written
//! when the locale was part of the identity read the same way: their `locale` is
//! informational, and a delivery `sent` under any locale is sent.
//! A line cut short by a crash (no trailing newline, invalid JSON) is ignored: the claim it
//! would have held was never followed by a send, because the send waits for the sync.
//!
//! [`Lock`] (`.tminus/send.lock`, an advisory lock held for the whole run) keeps two runs
//! from sending at once; readers (`comms status`) do not need it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

mod line;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

/// What identifies one delivery: message id, wave and recipient address (as
/// [`address_key`] normalises it), and for an occurrence of a repeating message its
/// scheduled instant. Not the locale, nor the send time of a message that does not repeat:
/// they change what the message looks like or when it goes, not whether it went. A message
/// without `repeat` has no `occurrence`, so ledgers written before repeats read the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeliveryKey {
    pub id: String,
    pub wave: Option<String>,
    pub to: String,
    /// The occurrence's scheduled instant (RFC 3339, UTC), e.g. `2027-03-28T01:15:00Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<String>,
}

impl DeliveryKey {
    pub fn new(id: &str, wave: Option<&str>, to: &str) -> Self {
        DeliveryKey {
            id: id.to_string(),
            wave: wave.map(str::to_string),
            to: address_key(to),
            occurrence: None,
        }
    }

    /// This key for the occurrence scheduled at `at` of a repeating message.
    pub fn with_occurrence(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.occurrence = at.map(|t| crate::time::stamp::utc(&t));
        self
    }
}

impl std::fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(w) = &self.wave {
            write!(f, "/{w}")?;
        }
        if let Some(o) = &self.occurrence {
            write!(f, " @ {o}")?;
        }
        write!(f, " → {}", self.to)
    }
}

/// One address as recipients are told apart: trimmed, and lower case in the local part as
/// well as the domain (domains are case-insensitive; mail systems in practice treat local
/// parts so too, and two copies of one email are worse than none of a case-twin).
pub use crate::load::address_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Claim,
    Sent,
    Failed,
    /// Handed over completely, no answer: may or may not have been delivered.
    InDoubt,
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub event: Event,
    /// When this happened (the real clock, not `--now`).
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub key: DeliveryKey,
    /// The locale the message was rendered in (informational: not part of the identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    pub message_id: String,
    /// The scheduled send time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<DateTime<Utc>>,
    /// The server's reply (for `sent` and `failed`), or why the outcome is unknown
    /// (`in_doubt`).
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
    /// Claimed, never confirmed: may or may not have been delivered. `reason` says what
    /// happened (none when the run stopped before it could say).
    InDoubt {
        at: DateTime<Utc>,
        message_id: String,
        reason: Option<String>,
    },
}

/// The ledger of a project: its state per delivery, and the file to append to.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    /// By [`compact`] key, boxed: a table slot is 24 bytes, not the 170 of an inline
    /// `DeliveryKey` and `State` (a ledger of 300,000 deliveries: 13 MB of table instead of
    /// 89 MB, and as much again while it grows).
    states: HashMap<Box<str>, Box<State>>,
    /// Lines that could not be read (a torn last line after a crash), for the report.
    pub skipped_lines: usize,
    file: Option<File>,
}

/// The fields of a [`DeliveryKey`], borrowed: from a key, or from a ledger line as read.
#[derive(Clone, Copy)]
struct KeyFields<'a> {
    id: &'a str,
    wave: Option<&'a str>,
    to: &'a str,
    occurrence: Option<&'a str>,
}

impl<'a> From<&'a DeliveryKey> for KeyFields<'a> {
    fn from(key: &'a DeliveryKey) -> Self {
        KeyFields {
            id: &key.id,
            wave: key.wave.as_deref(),
            to: &key.to,
            occurrence: key.occurrence.as_deref(),
        }
    }
}

/// `key` as one string, told apart exactly as the key's fields are: each field written with
/// its length (`-` for none), so no two keys give the same string whatever they hold.
fn compact(key: KeyFields<'_>) -> String {
    let fields = [Some(key.id), key.wave, Some(key.to), key.occurrence];
    // Exactly as long as needed: the string is kept for every delivery in the ledger, and
    // an allocator may keep the larger block of a string shrunk later.
    let digits_of = |n: usize| n.checked_ilog10().map_or(1, |d| d as usize + 1);
    let mut out = String::with_capacity(
        fields
            .iter()
            .map(|f| f.map_or(1, |v| digits_of(v.len()) + 1 + v.len()))
            .sum::<usize>(),
    );
    let mut digits = itoa::Buffer::new();
    for field in fields {
        match field {
            Some(v) => {
                out.push_str(digits.format(v.len()));
                out.push(':');
                out.push_str(v);
            }
            None => out.push('-'),
        }
    }
    out
}

/// What [`Ledger::apply`] needs of a record, borrowed from a [`Record`] or from a line as
/// [`line::read`] reads it.
struct Entry<'a> {
    event: Event,
    at: DateTime<Utc>,
    key: KeyFields<'a>,
    message_id: &'a str,
    reply: Option<&'a str>,
    permanent: Option<bool>,
}

impl<'a> From<&'a Record> for Entry<'a> {
    fn from(r: &'a Record) -> Self {
        Entry {
            event: r.event,
            at: r.at,
            key: KeyFields::from(&r.key),
            message_id: &r.message_id,
            reply: r.reply.as_deref(),
            permanent: r.permanent,
        }
    }
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
        // A line at a time: a ledger of 500,000 records is 100 MB or more, never in memory.
        let mut reader = match File::open(&path) {
            Ok(f) => Some(io::BufReader::with_capacity(1 << 16, f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let mut ledger = Ledger {
            path,
            states: HashMap::default(),
            skipped_lines: 0,
            file: None,
        };
        let mut buf = Vec::new();
        while let Some(r) = reader.as_mut() {
            buf.clear();
            if io::BufRead::read_until(r, b'\n', &mut buf)? == 0 {
                break;
            }
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if !line::read(line, |entry| ledger.apply(entry)) {
                ledger.skipped_lines += 1;
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
        self.states.get(compact(key.into()).as_str()).map(|s| &**s)
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    fn apply(&mut self, r: Entry<'_>) {
        let key = compact(r.key);
        if matches!(
            self.states.get(key.as_str()).map(|s| &**s),
            Some(State::Sent { .. })
        ) {
            // Accepted once is sent (an old ledger may hold a later claim in another locale).
            return;
        }
        let state = match r.event {
            Event::Claim => State::InDoubt {
                at: r.at,
                message_id: r.message_id.to_string(),
                reason: None,
            },
            Event::InDoubt => State::InDoubt {
                at: r.at,
                message_id: r.message_id.to_string(),
                reason: r.reply.map(str::to_string),
            },
            Event::Sent => State::Sent {
                at: r.at,
                message_id: r.message_id.to_string(),
                reply: r.reply.unwrap_or_default().to_string(),
            },
            Event::Failed => State::Failed {
                at: r.at,
                reply: r.reply.unwrap_or_default().to_string(),
                permanent: r.permanent.unwrap_or(false),
            },
        };
        self.states.insert(key.into_boxed_str(), Box::new(state));
    }

    /// Appends `record` as one line and syncs it to disk before returning.
    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        self.append_all(std::slice::from_ref(record))
    }

    /// Appends `records`, one line each, in one write, and syncs them to disk (once)
    /// before returning: a group commit. Their states apply only once they are on disk.
    pub fn append_all(&mut self, records: &[Record]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("the ledger was opened read-only"))?;
        let mut lines = Vec::with_capacity(records.len() * 256);
        for record in records {
            serde_json::to_writer(&mut lines, record).map_err(io::Error::other)?;
            lines.push(b'\n');
        }
        file.write_all(&lines)?;
        file.sync_data()?;
        for record in records {
            self.apply(record.into());
        }
        Ok(())
    }

    /// Records that `key` (rendered in `locale`) is about to be handed to the server.
    pub fn claim(
        &mut self,
        key: &DeliveryKey,
        locale: &str,
        message_id: &str,
        send_at: DateTime<Utc>,
    ) -> io::Result<()> {
        self.append(&Record::claim(key, locale, message_id, send_at))
    }

    /// Records that the server accepted `key`.
    pub fn commit(&mut self, key: &DeliveryKey, message_id: &str, reply: &str) -> io::Result<()> {
        self.append(&Record::sent(key, message_id, reply))
    }

    /// Records that `key` was not delivered.
    pub fn fail(
        &mut self,
        key: &DeliveryKey,
        message_id: &str,
        reply: &str,
        permanent: bool,
    ) -> io::Result<()> {
        self.append(&Record::failed(key, message_id, reply, permanent))
    }

    /// Records that `key` was handed over completely but its outcome is unknown (`reason`).
    pub fn in_doubt(
        &mut self,
        key: &DeliveryKey,
        message_id: &str,
        reason: &str,
    ) -> io::Result<()> {
        self.append(&Record::in_doubt(key, message_id, reason))
    }
}

impl Record {
    fn new(event: Event, key: &DeliveryKey, message_id: &str) -> Record {
        Record {
            event,
            at: Utc::now(),
            key: key.clone(),
            locale: None,
            message_id: message_id.to_string(),
            send_at: None,
            reply: None,
            permanent: None,
            pid: std::process::id(),
        }
    }

    /// `key` (rendered in `locale`) is about to be handed to the server.
    pub fn claim(
        key: &DeliveryKey,
        locale: &str,
        message_id: &str,
        send_at: DateTime<Utc>,
    ) -> Record {
        Record {
            locale: Some(locale.to_string()),
            send_at: Some(send_at),
            ..Record::new(Event::Claim, key, message_id)
        }
    }

    /// The server accepted `key` with `reply`.
    pub fn sent(key: &DeliveryKey, message_id: &str, reply: &str) -> Record {
        Record {
            reply: Some(reply.to_string()),
            ..Record::new(Event::Sent, key, message_id)
        }
    }

    /// `key` was not delivered: the server's `reply`, final or not.
    pub fn failed(key: &DeliveryKey, message_id: &str, reply: &str, permanent: bool) -> Record {
        Record {
            reply: Some(reply.to_string()),
            permanent: Some(permanent),
            ..Record::new(Event::Failed, key, message_id)
        }
    }

    /// `key` was handed over completely but its outcome is unknown (`reason`).
    pub fn in_doubt(key: &DeliveryKey, message_id: &str, reason: &str) -> Record {
        Record {
            reply: Some(reason.to_string()),
            ..Record::new(Event::InDoubt, key, message_id)
        }
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
        DeliveryKey::new("get-ready", Some("pilot"), to)
    }

    #[test]
    fn compact_keys_tell_apart_what_the_keys_tell_apart() {
        let key = |id: &str, wave: Option<&str>, to: &str, occ: Option<&str>| {
            let mut k = DeliveryKey::new(id, wave, to);
            k.occurrence = occ.map(str::to_string);
            compact((&k).into())
        };
        let keys = [
            key("a", None, "x@y", None),
            key("a", Some(""), "x@y", None),
            key("a", None, "x@y", Some("")),
            key("a:1", None, "x@y", None),
            key("a", Some("1:x@y"), "", None),
            key("a", Some("w"), "x@y", None),
            key("a", Some("w"), "x@y", Some("2027-03-28T01:15:00Z")),
        ];
        assert_eq!(keys[5], "1:a1:w3:x@y-");
        assert_eq!(
            compact((&DeliveryKey::new(&"i".repeat(12), None, "b")).into()),
            format!("12:{}-1:b-", "i".repeat(12))
        );
        for k in &keys {
            assert_eq!(k.capacity(), k.len(), "{k}: allocated as long as it is");
        }
        let distinct: std::collections::HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        assert_eq!(
            keys[5],
            key("a", Some("w"), "X@Y", None),
            "the address as keyed"
        );
    }

    #[test]
    fn states_follow_the_last_record_and_survive_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut l = Ledger::open(root).unwrap();
        let t = Utc::now();
        l.claim(&key("a@x.example"), "en", "<1@x>", t).unwrap();
        l.commit(&key("a@x.example"), "<1@x>", "250 OK").unwrap();
        l.claim(&key("b@x.example"), "en", "<2@x>", t).unwrap();
        l.claim(&key("c@x.example"), "en", "<3@x>", t).unwrap();
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
    fn ledgers_keyed_by_locale_still_count_and_sent_is_final() {
        // Lines as tminus wrote them when the locale was part of a delivery's identity.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(DIR)).unwrap();
        let line = |event: &str, locale: &str, to: &str| {
            format!(
                "{{\"event\":\"{event}\",\"at\":\"2027-03-15T08:00:01Z\",\"id\":\"get-ready\",\"wave\":\"pilot\",\"locale\":\"{locale}\",\"to\":\"{to}\",\"message_id\":\"<1@x>\",\"pid\":1}}\n"
            )
        };
        let old = [
            line("claim", "en", "ana@x.example"),
            line("sent", "en", "ana@x.example"),
            // The same delivery again in French (a locale changed between runs).
            line("claim", "fr", "ana@x.example"),
            line("claim", "en", "ben@x.example"),
            line("failed", "en", "cy@x.example"),
        ]
        .concat();
        std::fs::write(Ledger::path_in(root), old).unwrap();
        let mut l = Ledger::open(root).unwrap();
        assert_eq!(l.skipped_lines, 0);
        assert!(matches!(
            l.state(&key("Ana@X.example")),
            Some(State::Sent { .. })
        ));
        assert!(matches!(
            l.state(&key("ben@x.example")),
            Some(State::InDoubt { reason: None, .. })
        ));
        assert!(matches!(
            l.state(&key("cy@x.example")),
            Some(State::Failed { .. })
        ));
        // A delivery that lost its answer after the message: in doubt, with why.
        l.claim(&key("dee@x.example"), "fr", "<4@x>", Utc::now())
            .unwrap();
        l.in_doubt(&key("dee@x.example"), "<4@x>", "no reply within 60s")
            .unwrap();
        drop(l);
        let text = std::fs::read_to_string(Ledger::path_in(root)).unwrap();
        assert!(text.contains("\"event\":\"in_doubt\""), "{text}");
        assert!(
            text.contains("\"locale\":\"fr\""),
            "the locale is still recorded: {text}"
        );
        let l = Ledger::read(root).unwrap();
        assert_eq!(
            l.state(&key("dee@x.example"))
                .map(|s| matches!(s, State::InDoubt { reason: Some(r), .. } if r.contains("60s"))),
            Some(true)
        );
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
