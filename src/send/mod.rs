//! Sending the announcements that are due: `tminus comms send --due` and `comms status`.
//!
//! A *delivery* is one scheduled message to one recipient, rendered for that recipient.
//! A run takes the project's [`ledger::Lock`], classifies every delivery ([`due`]) and
//! sends those due over `comms.connections` sessions in parallel ([`run`]): for each one,
//! in schedule order, a session waits for its slot (one rate limit for all), writes a
//! `claim` to the ledger (synced), hands the message to the server ([`smtp::Session`]),
//! then writes `sent`, `failed` or — when the connection was lost or the reply timed out
//! after the whole message was handed over — `in_doubt`; the records of all sessions go
//! through one writer that commits them in groups ([`writer`]). So a crash can leave at
//! most the delivery in flight on each session "in doubt", a misbehaving server only the
//! deliveries it left unanswered, and a rerun sends exactly what was never accepted and is
//! not in doubt.

pub mod due;
pub mod ledger;
mod run;
mod settings;
pub mod smtp;
mod status;
mod transaction;
pub mod writer;

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use crate::email::{message_id, sender, Mailer};
use crate::plan::comms::{release, ScheduledMessage};
use crate::project::{Project, Recipient};
use due::{standing, Delivery, Standing};
pub use status::{overview, overview_of, states, status};

use ledger::{DeliveryKey, Ledger, Lock, State};
use settings::Settings;

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
    /// Occurrences of a repeating message not sent because a later one was due too
    /// (reported as missed).
    pub superseded: Vec<(DeliveryKey, DateTime<Utc>)>,
    /// Gated and waiting for a decision (the gate's task id): not sent, not an error.
    pub held: Vec<(DeliveryKey, String)>,
    /// Gated, and the decision does not let them go: never sent, not an error.
    pub cancelled: Vec<(DeliveryKey, String)>,
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
    /// Sessions that gave up reconnecting while others went on (why, for each).
    pub retired: Vec<String>,
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
    let ledger = if records {
        Ledger::open(root).map_err(ledger_err)?
    } else {
        Ledger::read(root).map_err(ledger_err)?
    };
    // Rendered when sent: `live` and `hypercare` as of this run's now.
    let mailer = Mailer::new(project)
        .map_err(|d| d.to_string())?
        .as_of(opts.now);

    let mut summary = Summary {
        ledger_skipped_lines: ledger.skipped_lines,
        ..Summary::default()
    };
    // One delivery at a time: only the due ones are kept (not 600,000 for a large audience).
    let all = messages.iter().flat_map(|m| due::deliveries_of(m));
    let mut todo: Vec<Delivery<'_>> = Vec::new();
    for d in all {
        match standing(
            &d,
            &ledger,
            opts.now,
            project.comms_policy.max_lateness,
            opts.resend_in_doubt,
            release(project, d.message, opts.now),
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
            Standing::Superseded => summary.superseded.push((d.key.clone(), d.send_at)),
            Standing::Held => summary.held.push(gated(&d)),
            Standing::Cancelled => summary.cancelled.push(gated(&d)),
            Standing::Due { .. } => todo.push(d),
        }
    }

    // A test goes to one address: one copy per message, locale and wave, personalised for
    // the first recipient due.
    let test_recipients: Vec<Recipient>;
    if let Some(addr) = &test_to {
        let mut seen = std::collections::HashSet::new();
        todo.retain(|d| seen.insert((d.key.id.clone(), d.key.wave.clone(), &d.message.locale)));
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
    // Chunk `c` of the deliveries to send, rendered in parallel; `None` past the end.
    let render = |c: usize| -> Option<Vec<Result<Ready, (DeliveryKey, String)>>> {
        let chunk = todo.chunks(CHUNK).nth(c)?;
        // The `Date:` of what goes out now: the run's clock (`--now` or the real one) as it
        // stands, so a message sent late says when it was sent, not when it was due.
        let date = opts.now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
        Some(
            chunk
                .par_iter()
                .enumerate()
                .map(|(i, d)| {
                    let r = test_recipients.get(c * CHUNK + i).unwrap_or(d.recipient);
                    render_one(project, &mailer, d, r, date).map_err(|e| (d.key.clone(), e))
                })
                .collect(),
        )
    };
    let done = match settings {
        None => {
            // A dry run: what would be sent, in order.
            let mut done = 0;
            for c in 0.. {
                let Some(chunk) = render(c) else { break };
                for ready in chunk {
                    done += 1;
                    match ready {
                        Ok(r) => {
                            on(Progress::WouldSend {
                                key: &r.key,
                                subject: &r.subject,
                            });
                            summary.would_send += 1;
                        }
                        Err((key, reply)) => {
                            on(Progress::Failed {
                                key: &key,
                                reply: &reply,
                            });
                            summary.failed.push((key, reply));
                        }
                    }
                }
            }
            done
        }
        Some(settings) => run::run(
            &settings,
            // No session (and no connection) when nothing is due.
            project.comms_policy.connections.min(todo.len()),
            project.comms_policy.rate_per_second,
            records.then_some(ledger),
            &render,
            &ledger_err,
            &mut summary,
            on,
        ),
    };
    summary.not_attempted = todo.len() - done;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A held or cancelled delivery with the gate it waits on (empty when it has none).
fn gated(d: &Delivery<'_>) -> (DeliveryKey, String) {
    let gate = d.message.gating.gate().unwrap_or_default().to_string();
    (d.key.clone(), gate)
}
