//! The ledger's one writer during a run: every record of every connection goes through it,
//! and it commits them in groups — all the records waiting are written at once and synced
//! with one fsync ([`Ledger::append_all`]) — so the ledger keeps up with many connections.
//!
//! What depends on a record runs only after the group holding it is on disk: each record
//! comes with a continuation, called with the outcome of its group's write. A session
//! waits on the continuation of its `claim` before it hands the message over; the `sent`
//! of a message is reported (output, summary) by its continuation, so nothing is reported
//! `sent` before its record is durable. Records from one thread are written in the order
//! they were given, so a session's `sent` is on disk before its next `claim`.
//!
//! After a failed write every later record fails too (what reached the file is unknown).

use std::io;
use std::sync::mpsc;
use std::thread::{Scope, ScopedJoinHandle};

use super::ledger::{Ledger, Record};

/// Called once the record's group was written and synced (`Ok`), or could not be.
type Then<'a> = Box<dyn FnOnce(io::Result<()>) + Send + 'a>;

/// At most this many records in one group (bounds the write; a full group is rare).
const MAX_GROUP: usize = 4096;

/// A handle to the writer thread; the thread ends, handing the ledger back, once every
/// handle is dropped and every record given is written.
#[derive(Clone)]
pub struct Writer<'a> {
    tx: mpsc::Sender<(Record, Then<'a>)>,
}

impl<'a> Writer<'a> {
    /// Starts the writer of `ledger` in `scope`.
    pub fn spawn<'scope>(
        scope: &'scope Scope<'scope, 'a>,
        mut ledger: Ledger,
    ) -> (Writer<'a>, ScopedJoinHandle<'scope, Ledger>) {
        let (tx, rx) = mpsc::channel::<(Record, Then<'a>)>();
        let handle = scope.spawn(move || {
            let mut broken: Option<(io::ErrorKind, String)> = None;
            while let Ok(first) = rx.recv() {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                if broken.is_none() {
                    let records: Vec<Record> = group.iter().map(|(r, _)| r.clone()).collect();
                    if let Err(e) = ledger.append_all(&records) {
                        broken = Some((e.kind(), e.to_string()));
                    }
                }
                for (_, then) in group {
                    then(match &broken {
                        None => Ok(()),
                        Some((kind, text)) => Err(io::Error::new(*kind, text.clone())),
                    });
                }
            }
            ledger
        });
        (Writer { tx }, handle)
    }

    /// Appends `record`; `then` runs on the writer's thread once it is on disk (or the
    /// write failed).
    pub fn append(&self, record: Record, then: impl FnOnce(io::Result<()>) + Send + 'a) {
        if let Err(mpsc::SendError((_, then))) = self.tx.send((record, Box::new(then))) {
            then(Err(io::Error::other("the ledger writer has stopped")));
        }
    }

    /// Appends `record` and waits until it is on disk.
    #[cfg(test)]
    pub fn append_and_wait(&self, record: Record) -> io::Result<()> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.append(record, move |result| {
            let _ = tx.send(result);
        });
        rx.recv()
            .unwrap_or_else(|_| Err(io::Error::other("the ledger writer has stopped")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::ledger::{DeliveryKey, State};
    use chrono::Utc;
    use std::sync::{Arc, Mutex};

    #[test]
    fn records_from_many_threads_are_committed_in_groups_and_reported_after_the_sync() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let durable = Arc::new(Mutex::new(Vec::new()));
        let path = Ledger::path_in(dir.path());
        let ledger = std::thread::scope(|s| {
            let (writer, handle) = Writer::spawn(s, ledger);
            for t in 0..8 {
                let writer = writer.clone();
                let durable = durable.clone();
                let path = path.clone();
                s.spawn(move || {
                    for i in 0..50 {
                        let key = DeliveryKey::new("m", None, &format!("u{t}-{i}@x.example"));
                        writer
                            .append_and_wait(Record::claim(&key, "en", "<id>", Utc::now()))
                            .unwrap();
                        let durable = durable.clone();
                        let path = path.clone();
                        writer.append(Record::sent(&key, "<id>", "250 OK"), move |r| {
                            r.unwrap();
                            // Reported only once the line is in the file.
                            let text = std::fs::read_to_string(&path).unwrap();
                            let to = format!("\"to\":\"{}\"", key.to);
                            assert!(text
                                .lines()
                                .any(|l| l.contains("\"event\":\"sent\"") && l.contains(&to)));
                            durable.lock().unwrap().push(key);
                        });
                    }
                });
            }
            drop(writer);
            handle.join().unwrap()
        });
        assert_eq!(durable.lock().unwrap().len(), 400);
        let read = Ledger::read(dir.path()).unwrap();
        assert_eq!(read.len(), 400);
        for key in durable.lock().unwrap().iter() {
            assert!(matches!(ledger.state(key), Some(State::Sent { .. })));
            assert!(matches!(read.state(key), Some(State::Sent { .. })));
        }
    }

    #[test]
    fn after_a_failed_write_every_record_fails() {
        let dir = tempfile::tempdir().unwrap();
        // Read-only: every write fails.
        let ledger = Ledger::read(dir.path()).unwrap();
        std::thread::scope(|s| {
            let (writer, handle) = Writer::spawn(s, ledger);
            let key = DeliveryKey::new("m", None, "a@x.example");
            assert!(writer
                .append_and_wait(Record::claim(&key, "en", "<id>", Utc::now()))
                .is_err());
            assert!(writer
                .append_and_wait(Record::sent(&key, "<id>", "250"))
                .is_err());
            drop(writer);
            handle.join().unwrap();
        });
    }
}
