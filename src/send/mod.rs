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
pub mod overview;
pub mod smtp;
mod transaction;

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use crate::project::{Project, Recipient};
use crate::render::email::{message_id, sender, Mailer};
use crate::render::format::rfc3339;
use crate::site::Prepared;
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
) -> Result<Ready, String> {
    let rendered = mailer
        .render(d.message, recipient)
        .map_err(|e| e.to_string())?;
    let eml = mailer
        .eml(d.message, recipient, &rendered)
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

/// Sends every delivery due at `opts.now`. `env` supplies the `TMINUS_SMTP_*` variables.
/// Errs (before sending anything) when the lock, the ledger or the SMTP settings fail.
pub fn send(
    prepared: &Prepared,
    opts: &Options,
    env: &dyn Fn(&str) -> Option<String>,
    on: &mut dyn FnMut(Progress<'_>),
) -> Result<Summary, String> {
    let started = Instant::now();
    let project = &prepared.project;
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
    let all = deliveries(prepared.comms.iter().map(|e| &e.message));
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
        let rendered: Vec<Result<Ready, String>> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, d)| {
                let r = test_recipients.get(c * CHUNK + i).unwrap_or(d.recipient);
                render_one(project, &mailer, d, r)
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

/// One row of `comms status`: a delivery and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub id: String,
    pub wave: Option<String>,
    pub locale: String,
    pub audience: String,
    pub to: String,
    /// RFC 3339 in the zone in force.
    pub send_at: String,
    /// `scheduled`, `sent`, `failed`, `in doubt` or `missed`.
    pub state: &'static str,
    /// Whether a `scheduled` or `failed` delivery would be sent by `comms send --due` now.
    pub due: bool,
    /// When it was sent, failed or claimed (RFC 3339 in UTC in the JSON).
    #[serde(serialize_with = "utc_opt")]
    pub at: Option<DateTime<Utc>>,
    pub message_id: Option<String>,
    /// The server's reply (to the acceptance or the last failure).
    pub reply: Option<String>,
}

fn utc_opt<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&ledger::utc(t)),
        None => s.serialize_none(),
    }
}

/// Where every delivery of the schedule stands at `now`, in schedule order.
pub fn status(prepared: &Prepared, ledger: &Ledger, now: DateTime<Utc>) -> Vec<StatusRow> {
    let policy = prepared.project.comms_policy;
    deliveries(prepared.comms.iter().map(|e| &e.message))
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
                state: "scheduled",
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
                Standing::Sent => "sent",
                Standing::InDoubt => "in doubt",
                Standing::Missed => "missed",
                Standing::Due { .. } | Standing::NotYet => {
                    if matches!(ledger.state(&d.key), Some(State::Failed { .. })) {
                        "failed"
                    } else {
                        "scheduled"
                    }
                }
            };
            row
        })
        .collect()
}
