//! A sending run with `comms.connections` SMTP sessions in parallel: a renderer thread
//! renders the deliveries in schedule order into a bounded queue; each session (a thread
//! with its own [`Session`]) waits for a slot of the one shared [`Pacer`], takes the next
//! delivery and gives its `claim` to the ledger [`Writer`] — both under the queue's lock, so
//! claims are written in schedule order — and hands the message over only once the claim
//! is on disk. Its outcome (`sent`, `failed`, `in_doubt`) goes to the writer too, and is
//! reported (to the caller's thread, which alone prints) once it is on disk.
//!
//! So every delivery is claimed exactly once and by one session; a session has at most
//! one delivery between its claim and its outcome, and a `kill -9` leaves at most one in
//! doubt per session. A session that loses its connection or gets `421` reconnects with
//! backoff on its own, the others go on; one that cannot reconnect at all retires while
//! others still work (the last one stops the run). A TLS, authentication or configuration
//! failure stops the run: no session takes another delivery, each records the outcome of
//! the one it holds, and the rest is left for the next run.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use super::ledger::{DeliveryKey, Record};
use super::smtp::{Fatal, Outcome, Pacer, Session, Settings};
use super::writer::Writer;
use super::{InDoubt, Progress, Ready, Summary};
use crate::send::ledger::Ledger;

/// What a run tells the caller's thread.
enum Report {
    Sent {
        key: DeliveryKey,
        message_id: String,
    },
    Failed {
        key: DeliveryKey,
        reply: String,
    },
    InDoubt {
        key: DeliveryKey,
        reason: String,
    },
    /// The run must stop (no session takes another delivery).
    Fatal(String),
    /// A session gave up reconnecting; the others go on.
    Retired(String),
}

/// How deliveries are rendered: chunk `c` (in order) of the deliveries to send.
pub(super) type Render<'a> =
    dyn Fn(usize) -> Option<Vec<Result<Ready, (DeliveryKey, String)>>> + Sync + 'a;

/// Shared by the sessions of a run.
struct Shared<'a> {
    settings: &'a Settings,
    pacer: Pacer,
    stop: &'a AtomicBool,
    /// Sessions still working (not retired, not finished).
    alive: AtomicUsize,
    ledger_err: &'a (dyn Fn(std::io::Error) -> String + Sync),
}

/// Sends the deliveries `render` produces over `connections` sessions, recording them in
/// `ledger` (none: `--test-to`, nothing recorded). Fills `summary` (`on` is called on this
/// thread); returns how many deliveries were attempted (reported one way or another).
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    settings: &Settings,
    connections: usize,
    rate_per_second: f64,
    ledger: Option<Ledger>,
    render: &Render<'_>,
    ledger_err: &(dyn Fn(std::io::Error) -> String + Sync),
    summary: &mut Summary,
    on: &mut dyn FnMut(Progress<'_>),
) -> usize {
    let stop = AtomicBool::new(false);
    let shared = Shared {
        settings,
        pacer: Pacer::new(rate_per_second),
        stop: &stop,
        alive: AtomicUsize::new(connections),
        ledger_err,
    };
    let mut done = 0;
    std::thread::scope(|s| {
        let (reports, incoming) = mpsc::channel::<Report>();
        let (work, queue) = mpsc::sync_channel::<Ready>(super::CHUNK);
        let (writer, writer_thread) = match ledger {
            Some(l) => {
                let (w, h) = Writer::spawn(s, l);
                (Some(w), Some(h))
            }
            None => (None, None),
        };
        // Owned by the sessions only: once they have all stopped, the renderer's next
        // `send` fails and it stops too.
        let queue = Arc::new(Mutex::new(queue));
        // The renderer: chunk after chunk, in order, until the sessions stop taking them.
        let renderer_reports = reports.clone();
        let stop_ref = &stop;
        s.spawn(move || {
            let mut c = 0;
            while !stop_ref.load(Ordering::SeqCst) {
                let Some(chunk) = render(c) else { break };
                c += 1;
                for ready in chunk {
                    match ready {
                        Ok(r) => {
                            if work.send(r).is_err() {
                                return; // every session has stopped
                            }
                        }
                        Err((key, reply)) => {
                            let _ = renderer_reports.send(Report::Failed { key, reply });
                        }
                    }
                }
            }
        });
        let shared = &shared;
        let sessions: Vec<_> = (0..connections)
            .map(|_| {
                let (writer, reports, queue) = (writer.clone(), reports.clone(), queue.clone());
                s.spawn(move || session(shared, &queue, writer, reports))
            })
            .collect();
        drop(queue);
        // From here the reports end when the renderer, every session and every record's
        // continuation are done.
        drop((reports, writer));
        for report in incoming.iter() {
            match report {
                Report::Sent { key, message_id } => {
                    done += 1;
                    summary.sent += 1;
                    on(Progress::Sent {
                        key: &key,
                        message_id: &message_id,
                    });
                }
                Report::Failed { key, reply } => {
                    done += 1;
                    on(Progress::Failed {
                        key: &key,
                        reply: &reply,
                    });
                    summary.failed.push((key, reply));
                }
                Report::InDoubt { key, reason } => {
                    done += 1;
                    on(Progress::InDoubt {
                        key: &key,
                        reason: &reason,
                    });
                    summary.in_doubt.push(InDoubt {
                        key,
                        reason: Some(reason),
                        this_run: true,
                    });
                }
                Report::Fatal(e) => {
                    stop.store(true, Ordering::SeqCst);
                    summary.fatal.get_or_insert(e);
                }
                Report::Retired(e) => summary.retired.push(e),
            }
        }
        for h in sessions {
            let (c, r) = h.join().unwrap_or_default();
            summary.connections += c;
            summary.retries += r;
        }
        if let Some(h) = writer_thread {
            let _ = h.join();
        }
    });
    done
}

/// One session: takes deliveries until there are none or the run stops; returns the
/// connections it opened and the retries it made.
fn session<'a>(
    shared: &Shared<'a>,
    queue: &Mutex<mpsc::Receiver<Ready>>,
    writer: Option<Writer<'a>>,
    reports: mpsc::Sender<Report>,
) -> (usize, usize) {
    let mut session = Session::new(shared.settings.clone());
    let stopped = || shared.stop.load(Ordering::SeqCst);
    // A session that cannot connect stops the run only when it is the last one working.
    let give_up = |fatal: Fatal| {
        let last = shared.alive.fetch_sub(1, Ordering::SeqCst) == 1;
        if last || !fatal.unreachable {
            shared.stop.store(true, Ordering::SeqCst);
            let _ = reports.send(Report::Fatal(fatal.text));
        } else {
            let _ = reports.send(Report::Retired(fatal.text));
        }
    };
    loop {
        if stopped() {
            break;
        }
        if let Err(fatal) = session.ready() {
            give_up(fatal);
            return (session.connections, session.retries);
        }
        shared.pacer.wait();
        // Take the next delivery and claim it, under the queue's lock: claims go to the
        // ledger in schedule order.
        let (ready, claimed) = {
            let queue = queue.lock().unwrap_or_else(|p| p.into_inner());
            let Ok(ready) = queue.recv() else { break };
            if stopped() {
                break; // taken, not claimed: not attempted
            }
            let claimed = writer.as_ref().map(|w| {
                let (tx, rx) = mpsc::sync_channel(1);
                let claim =
                    Record::claim(&ready.key, &ready.locale, &ready.message_id, ready.send_at);
                w.append(claim, move |r| {
                    let _ = tx.send(r);
                });
                rx
            });
            (ready, claimed)
        };
        if let Some(rx) = claimed {
            let written = rx
                .recv()
                .unwrap_or_else(|_| Err(std::io::Error::other("the ledger writer has stopped")));
            if let Err(e) = written {
                // Not handed over: not attempted.
                shared.stop.store(true, Ordering::SeqCst);
                let _ = reports.send(Report::Fatal((shared.ledger_err)(e)));
                break;
            }
        }
        let outcome = session.send(&ready.to, &ready.eml);
        let Ready {
            key, message_id, ..
        } = ready;
        // The record, its report, and what to report instead if it cannot be recorded.
        let (record, report, unrecorded, fatal) = match outcome {
            Ok(Outcome::Accepted(reply)) => (
                Record::sent(&key, &message_id, &reply),
                Report::Sent {
                    key: key.clone(),
                    message_id,
                },
                Some(Report::InDoubt {
                    key,
                    reason: format!("accepted ({reply}) but not recorded"),
                }),
                None,
            ),
            Ok(Outcome::Refused { reply, permanent }) => (
                Record::failed(&key, &message_id, &reply, permanent),
                Report::Failed { key, reply },
                None,
                None,
            ),
            Ok(Outcome::InDoubt(reason)) => (
                Record::in_doubt(&key, &message_id, &reason),
                Report::InDoubt { key, reason },
                None,
                None,
            ),
            Err(fatal) => (
                Record::failed(&key, &message_id, &fatal.text, false),
                Report::Failed {
                    key,
                    reply: fatal.text.clone(),
                },
                None,
                Some(fatal),
            ),
        };
        match &writer {
            // Reported once on disk.
            Some(w) => {
                let reports = reports.clone();
                let (ledger_err, stop) = (shared.ledger_err, shared.stop);
                w.append(record, move |written| {
                    if let Err(e) = written {
                        stop.store(true, Ordering::SeqCst);
                        let _ = reports.send(unrecorded.unwrap_or(report));
                        let _ = reports.send(Report::Fatal(ledger_err(e)));
                    } else {
                        let _ = reports.send(report);
                    }
                });
            }
            None => {
                let _ = reports.send(report);
            }
        }
        if let Some(fatal) = fatal {
            give_up(fatal);
            return (session.connections, session.retries);
        }
    }
    shared.alive.fetch_sub(1, Ordering::SeqCst);
    session.close();
    (session.connections, session.retries)
}
