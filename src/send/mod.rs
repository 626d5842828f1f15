//! Sending the announcements that are due: `tminus comms send --due` and `comms status`.
//!
//! A *delivery* is one scheduled message to one recipient, rendered for that recipient.
//! A run takes the project's [`ledger::Lock`], classifies every delivery ([`due`]) and, for
//! each one due, in schedule order: waits for its slot (rate limit), writes a `claim` to the
//! ledger (synced), hands the message to the server over the batch's one connection
//! ([`smtp::Session`]), then writes `sent`, `failed` or — when the connection was lost or
//! the reply timed out after the whole message was handed over — `in_doubt`. So a crash
//! can leave at most the delivery in flight "in doubt", a misbehaving server only the
//! deliveries it left unanswered, and a rerun sends exactly what was never accepted and is
//! not in doubt.

pub mod due;
pub mod ledger;
pub mod smtp;
mod transaction;

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use crate::delivery::{DeliveryState, Overview, StatusRow};
use crate::email::{message_id, sender, Mailer};
use crate::plan::comms::ScheduledMessage;
use crate::project::{Project, Recipient};
use crate::time::stamp::rfc3339;
use due::{deliveries, standing, Delivery, Standing};
use ledger::{DeliveryKey, Ledger, Lock, State};
use smtp::{Fatal, Outcome, Pacer, Session, Settings};

/// What `comms send` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub now: DateTime<Utc>,
    /// Print what would be sent; send and record nothing.
    pub dry_run: bool,
    /// Send one copy of each selected message to this address; record nothing.
    pub test_to: Option<String>,
    /// Send again the deliveries a crashed run left in doubt.
    pub resend_in_doubt: bool,
}

/// Reported while a run goes on (the command line shows a progress bar or lines).
#[derive(Debug)]
pub enum Progress<'a> {
    /// About to send `total` messages.
    Start { total: usize },
    /// Would be sent (`--dry-run`).
    WouldSend {
        key: &'a DeliveryKey,
        subject: &'a str,
    },
    Sent {
        key: &'a DeliveryKey,
        message_id: &'a str,
    },
    Failed {
        key: &'a DeliveryKey,
        reply: &'a str,
    },
    /// Handed over, no answer: not retried (see [`smtp::Outcome::InDoubt`]).
    InDoubt {
        key: &'a DeliveryKey,
        reason: &'a str,
    },
}

/// A delivery in doubt: the server may or may not have it.
#[derive(Debug, Clone, Serialize)]
pub struct InDoubt {
    pub key: DeliveryKey,
    /// What happened, when known.
    pub reason: Option<String>,
    /// Whether it became in doubt in this run (else an earlier run left it so).
    pub this_run: bool,
}

/// The outcome of a run.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub sent: usize,
    pub failed: Vec<(DeliveryKey, String)>,
    pub in_doubt: Vec<InDoubt>,
    pub missed: Vec<(DeliveryKey, DateTime<Utc>)>,
    /// Accepted by an earlier run.
    pub already_sent: usize,
    /// Not due yet.
    pub not_yet: usize,
    /// Due but not tried because the batch stopped (see `fatal`).
    pub not_attempted: usize,
    /// Why the batch stopped early.
    pub fatal: Option<String>,
    /// With `--dry-run`: how many would have been sent.
    pub would_send: usize,
    pub connections: usize,
    pub retries: usize,
    #[serde(skip)]
    pub elapsed: StdDuration,
    /// Skipped (torn) ledger lines.
    pub ledger_skipped_lines: usize,
}

impl Summary {
    /// Whether anything failed, or became in doubt in this run (the exit status is then
    /// non-zero). Deliveries left in doubt by earlier runs do not count: they would fail
    /// every run after them.
    pub fn has_failures(&self) -> bool {
        !self.failed.is_empty()
            || self.not_attempted > 0
            || self.fatal.is_some()
            || self.in_doubt.iter().any(|d| d.this_run)
    }
}

/// A delivery rendered and ready to hand over.
struct Ready {
    key: DeliveryKey,
    locale: String,
    send_at: DateTime<Utc>,
    to: lettre::Address,
    message_id: String,
    subject: String,
    eml: Vec<u8>,
}

fn render_one(
    project: &Project,
    mailer: &Mailer<'_>,
    d: &Delivery<'_>,
    recipient: &Recipient,
    date: DateTime<Utc>,
) -> Result<Ready, String> {
    let rendered = mailer
        .render(d.message, recipient)
        .map_err(|e| e.to_string())?;
    let eml = mailer
        .eml(d.message, recipient, &rendered, date)
        .map_err(|e| e.to_string())?;
    let from = sender(project);
    let to = recipient
        .email
        .parse::<lettre::Address>()
        .map_err(|e| format!("cannot address `{}`: {e}", recipient.email))?;
    Ok(Ready {
        // In a test, the key names the test address (it is only displayed).
        key: DeliveryKey {
            to: ledger::address_key(&recipient.email),
            ..d.key.clone()
        },
        locale: d.message.locale.clone(),
        send_at: d.send_at,
        to,
        message_id: message_id(project, d.message, recipient, from.email.domain()),
        subject: rendered.subject,
        eml,
    })
}

/// How many deliveries are rendered at a time (in parallel) ahead of sending.
const CHUNK: usize = 256;

/// Sends every delivery of `messages` (the project's scheduled messages) due at
/// `opts.now`. `env` supplies the `TMINUS_SMTP_*` variables. Errs (before sending
/// anything) when the lock, the ledger or the SMTP settings fail.
pub fn send(
    project: &Project,
    messages: &[&ScheduledMessage],
    opts: &Options,
    env: &dyn Fn(&str) -> Option<String>,
    on: &mut dyn FnMut(Progress<'_>),
) -> Result<Summary, String> {
    let started = Instant::now();
    let root = &project.root;
    let records = !opts.dry_run && opts.test_to.is_none();
    let settings = if opts.dry_run {
        None
    } else {
        Some(Settings::from_project(project, env)?)
    };
    let test_to = match &opts.test_to {
        Some(a) => Some(
            a.parse::<lettre::Address>()
                .map_err(|e| format!("--test-to `{a}` is not an address: {e}"))?,
        ),
        None => None,
    };
    let _lock = if records {
        Some(Lock::acquire(root)?)
    } else {
        None
    };
    let ledger_err = |e: std::io::Error| {
        format!(
            "cannot use the send ledger {}: {e}",
            Ledger::path_in(root).display()
        )
    };
    let mut ledger = if records {
        Ledger::open(root).map_err(ledger_err)?
    } else {
        Ledger::read(root).map_err(ledger_err)?
    };
    let mailer = Mailer::new(project).map_err(|d| d.to_string())?;

    let mut summary = Summary {
        ledger_skipped_lines: ledger.skipped_lines,
        ..Summary::default()
    };
    let all = deliveries(messages.iter().copied());
    let mut todo: Vec<&Delivery<'_>> = Vec::new();
    for d in &all {
        match standing(
            d,
            &ledger,
            opts.now,
            project.comms_policy.max_lateness,
            opts.resend_in_doubt,
        ) {
            Standing::NotYet => summary.not_yet += 1,
            Standing::Sent => summary.already_sent += 1,
            Standing::InDoubt => summary.in_doubt.push(InDoubt {
                key: d.key.clone(),
                reason: match ledger.state(&d.key) {
                    Some(State::InDoubt { reason, .. }) => reason.clone(),
                    _ => None,
                },
                this_run: false,
            }),
            Standing::Missed => summary.missed.push((d.key.clone(), d.send_at)),
            Standing::Due { .. } => todo.push(d),
        }
    }

    // A test goes to one address: one copy per message, locale and wave, personalised for
    // the first recipient due.
    let test_recipients: Vec<Recipient>;
    if let Some(addr) = &test_to {
        let mut seen = std::collections::HashSet::new();
        todo.retain(|d| seen.insert((&d.key.id, &d.key.wave, &d.message.locale)));
        test_recipients = todo
            .iter()
            .map(|d| Recipient {
                email: addr.to_string(),
                ..d.recipient.clone()
            })
            .collect();
    } else {
        test_recipients = Vec::new();
    }

    on(Progress::Start { total: todo.len() });
    let mut session = settings.map(Session::new);
    let mut pacer = Pacer::new(project.comms_policy.rate_per_second);
    let mut done = 0;
    'chunks: for (c, chunk) in todo.chunks(CHUNK).enumerate() {
        // The `Date:` of what goes out now: the run's clock (`--now` or the real one) as it
        // stands, so a message sent late says when it was sent, not when it was due.
        let date = opts.now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
        let rendered: Vec<Result<Ready, String>> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, d)| {
                let r = test_recipients.get(c * CHUNK + i).unwrap_or(d.recipient);
                render_one(project, &mailer, d, r, date)
            })
            .collect();
        for (d, ready) in chunk.iter().zip(rendered) {
            let ready = match ready {
                Ok(r) => r,
                Err(e) => {
                    on(Progress::Failed {
                        key: &d.key,
                        reply: &e,
                    });
                    summary.failed.push((d.key.clone(), e));
                    done += 1;
                    continue;
                }
            };
            if opts.dry_run {
                on(Progress::WouldSend {
                    key: &ready.key,
                    subject: &ready.subject,
                });
                summary.would_send += 1;
                done += 1;
                continue;
            }
            let session = session.as_mut().expect("not a dry run");
            if let Err(Fatal(e)) = session.ready() {
                summary.fatal = Some(e);
                break 'chunks;
            }
            pacer.wait();
            if records {
                if let Err(e) =
                    ledger.claim(&ready.key, &ready.locale, &ready.message_id, ready.send_at)
                {
                    summary.fatal = Some(ledger_err(e));
                    break 'chunks;
                }
            }
            let outcome = session.send(&ready.to, &ready.eml);
            done += 1;
            let (reply, permanent, fatal) = match outcome {
                Ok(Outcome::Accepted(reply)) => {
                    if records {
                        if let Err(e) = ledger.commit(&ready.key, &ready.message_id, &reply) {
                            // Accepted but not recorded: in doubt, and we must stop.
                            summary.in_doubt.push(InDoubt {
                                key: ready.key.clone(),
                                reason: Some(format!("accepted ({reply}) but not recorded")),
                                this_run: true,
                            });
                            summary.fatal = Some(ledger_err(e));
                            break 'chunks;
                        }
                    }
                    summary.sent += 1;
                    on(Progress::Sent {
                        key: &ready.key,
                        message_id: &ready.message_id,
                    });
                    continue;
                }
                Ok(Outcome::Refused { reply, permanent }) => (reply, permanent, None),
                Ok(Outcome::InDoubt(reason)) => {
                    summary.in_doubt.push(InDoubt {
                        key: ready.key.clone(),
                        reason: Some(reason.clone()),
                        this_run: true,
                    });
                    on(Progress::InDoubt {
                        key: &ready.key,
                        reason: &reason,
                    });
                    // Without a record the claim alone says "in doubt" too; with one, the
                    // reason is kept.
                    if records {
                        if let Err(e) = ledger.in_doubt(&ready.key, &ready.message_id, &reason) {
                            summary.fatal = Some(ledger_err(e));
                            break 'chunks;
                        }
                    }
                    continue;
                }
                Err(Fatal(e)) => (e.clone(), false, Some(e)),
            };
            if records {
                if let Err(e) = ledger.fail(&ready.key, &ready.message_id, &reply, permanent) {
                    summary.fatal = Some(ledger_err(e));
                    summary.failed.push((ready.key.clone(), reply));
                    break 'chunks;
                }
            }
            on(Progress::Failed {
                key: &ready.key,
                reply: &reply,
            });
            summary.failed.push((ready.key.clone(), reply));
            if fatal.is_some() {
                summary.fatal = fatal;
                break 'chunks;
            }
        }
    }
    summary.not_attempted = todo.len() - done;
    if let Some(s) = session.as_mut() {
        s.close();
        summary.connections = s.connections;
        summary.retries = s.retries;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Where every delivery of `messages` stands at `now`, in schedule order.
pub fn status(
    project: &Project,
    messages: &[&ScheduledMessage],
    ledger: &Ledger,
    now: DateTime<Utc>,
) -> Vec<StatusRow> {
    let policy = project.comms_policy;
    deliveries(messages.iter().copied())
        .iter()
        .map(|d| {
            let standing = standing(d, ledger, now, policy.max_lateness, false);
            let mut row = StatusRow {
                id: d.key.id.clone(),
                wave: d.key.wave.clone(),
                locale: d.message.locale.clone(),
                audience: d.message.audience.clone(),
                to: d.recipient.email.clone(),
                send_at: rfc3339(&d.message.send_at),
                state: DeliveryState::Scheduled,
                due: matches!(standing, Standing::Due { .. }),
                at: None,
                message_id: None,
                reply: None,
            };
            match ledger.state(&d.key) {
                Some(State::Sent {
                    at,
                    message_id,
                    reply,
                }) => {
                    row.at = Some(*at);
                    row.message_id = Some(message_id.clone());
                    row.reply = Some(reply.clone());
                }
                Some(State::Failed { at, reply, .. }) => {
                    row.at = Some(*at);
                    row.reply = Some(reply.clone());
                }
                Some(State::InDoubt {
                    at,
                    message_id,
                    reason,
                }) => {
                    row.at = Some(*at);
                    row.message_id = Some(message_id.clone());
                    row.reply = reason.clone();
                }
                None => {}
            }
            row.state = match standing {
                Standing::Sent => DeliveryState::Sent,
                Standing::InDoubt => DeliveryState::InDoubt,
                Standing::Missed => DeliveryState::Missed,
                Standing::Due { .. } | Standing::NotYet => {
                    if matches!(ledger.state(&d.key), Some(State::Failed { .. })) {
                        DeliveryState::Failed
                    } else {
                        DeliveryState::Scheduled
                    }
                }
            };
            row
        })
        .collect()
}

/// The delivery status of `messages` at `now` from the ledger of `project` (read only: no
/// lock, nothing written), one list of rows per message; `None` when the project has no
/// ledger (nothing was ever sent from it). The site shows it.
pub fn overview(
    project: &Project,
    messages: &[&ScheduledMessage],
    now: DateTime<Utc>,
) -> std::io::Result<Option<Overview>> {
    let root = &project.root;
    if !Ledger::path_in(root).is_file() {
        return Ok(None);
    }
    let ledger = Ledger::read(root)?;
    Ok(Some(overview_of(project, messages, &ledger, now)))
}

/// The delivery status of `messages` at `now` according to `ledger`.
pub fn overview_of(
    project: &Project,
    messages: &[&ScheduledMessage],
    ledger: &Ledger,
    now: DateTime<Utc>,
) -> Overview {
    let mut rows = status(project, messages, ledger, now).into_iter();
    // `status` lists the deliveries message by message, recipient by recipient.
    let entries = messages
        .iter()
        .map(|m| rows.by_ref().take(m.recipients.len()).collect())
        .collect();
    Overview {
        as_of: now,
        entries,
        skipped_lines: ledger.skipped_lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> crate::site::Prepared {
        crate::site::prepare(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/minimal"
        )))
        .expect("fixture loads")
    }

    #[test]
    fn rows_line_up_with_the_scheduled_messages_and_their_recipients() {
        use crate::send::due::deliveries;
        use chrono::Duration;
        let dir = tempfile::tempdir().unwrap();
        let mut prepared = minimal();
        prepared.project.root = dir.path().to_path_buf();
        let messages: Vec<&ScheduledMessage> = prepared.comms.iter().map(|e| &e.message).collect();
        let first = prepared
            .comms
            .iter()
            .map(|e| e.message.send_at.with_timezone(&Utc))
            .min()
            .unwrap();
        assert!(
            overview(&prepared.project, &messages, first)
                .unwrap()
                .is_none(),
            "no ledger, no status"
        );

        let mut ledger = Ledger::open(dir.path()).unwrap();
        let all = deliveries(prepared.comms.iter().map(|e| &e.message));
        assert!(all.len() >= 4, "the fixture has a few deliveries");
        ledger
            .claim(&all[0].key, "en", "<0@x>", all[0].send_at)
            .unwrap();
        ledger.commit(&all[0].key, "<0@x>", "250 OK").unwrap();
        ledger
            .claim(&all[1].key, "en", "<1@x>", all[1].send_at)
            .unwrap();
        ledger.fail(&all[1].key, "<1@x>", "550 no", true).unwrap();
        ledger
            .claim(&all[2].key, "en", "<2@x>", all[2].send_at)
            .unwrap();
        drop(ledger);
        // A run writing (or killed while writing) its next line.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(Ledger::path_in(dir.path()))
            .unwrap();
        std::io::Write::write_all(&mut f, b"{\"event\":\"cla").unwrap();
        drop(f);
        let before = std::fs::read(Ledger::path_in(dir.path())).unwrap();

        let early = first - Duration::days(1);
        let o = overview(&prepared.project, &messages, early)
            .unwrap()
            .expect("a ledger");
        assert_eq!(o.skipped_lines, 1);
        assert_eq!(o.as_of, early);
        assert_eq!(o.entries.len(), prepared.comms.len());
        for (rows, e) in o.entries.iter().zip(&prepared.comms) {
            let to: Vec<&str> = rows.iter().map(|r| r.to.as_str()).collect();
            let expected: Vec<&str> = e
                .message
                .recipients
                .iter()
                .map(|r| r.email.as_str())
                .collect();
            assert_eq!(to, expected);
            assert!(rows
                .iter()
                .all(|r| r.id == e.message.id && r.wave == e.message.wave));
        }
        let total = o.total();
        assert_eq!((total.sent, total.failed, total.in_doubt), (1, 1, 1));
        assert_eq!(total.scheduled, all.len() - 3);
        assert_eq!(
            (total.due, total.missed),
            (0, 0),
            "nothing is due a day early"
        );
        let sum = (0..o.entries.len()).fold(0, |n, i| n + o.counts(i).total());
        assert_eq!(sum, all.len());
        assert_eq!(
            o.counts_where(&prepared.comms, |e| e.message.wave.is_none())
                .total()
                + o.counts_where(&prepared.comms, |e| e.message.wave.is_some())
                    .total(),
            all.len()
        );

        // Long after every send time, what was never accepted is missed.
        let late = overview(&prepared.project, &messages, first + Duration::days(400))
            .unwrap()
            .unwrap();
        let c = late.total();
        assert_eq!((c.sent, c.in_doubt, c.scheduled), (1, 1, 0));
        assert_eq!(
            c.missed,
            all.len() - 2,
            "failed and never-sent deliveries are missed"
        );
        assert_eq!(
            std::fs::read(Ledger::path_in(dir.path())).unwrap(),
            before,
            "read only"
        );
        assert!(!dir
            .path()
            .join(".tminus")
            .join(crate::send::ledger::LOCK)
            .exists());
    }
}
