//! Where deliveries stand, read from the ledger without the lock: `comms status`'s rows
//! ([`status`], one at a time) and the site's [`Overview`] ([`overview`]: counts and the
//! rows the pages list, never a row per delivery).

use chrono::{DateTime, Utc};

use super::due::{deliveries_of, standing_of, Delivery, Standing};
use super::ledger::{Ledger, State};
use crate::delivery::{DeliveryState, EntryStatus, Listed, Lister, Overview, StatusRow, MAX_ROWS};
use crate::plan::comms::{release, ScheduledMessage};
use crate::project::Project;
use crate::time::stamp::rfc3339;

/// One delivery and where it stands at an instant.
struct Stand<'a> {
    delivery: Delivery<'a>,
    /// Its index in `message.recipients`.
    recipient: usize,
    state: DeliveryState,
    /// Whether a `scheduled` or `failed` delivery would be sent by `comms send --due` now.
    due: bool,
    standing: Standing,
    record: Option<&'a State>,
}

/// Where every delivery of `m` stands at `now` (its gate's decision looked up once).
fn stands<'a>(
    project: &'a Project,
    m: &'a ScheduledMessage,
    ledger: &'a Ledger,
    now: DateTime<Utc>,
) -> impl Iterator<Item = Stand<'a>> + 'a {
    let policy = project.comms_policy;
    let release = release(project, m, now);
    deliveries_of(m).enumerate().map(move |(recipient, d)| {
        let record = ledger.state(&d.key);
        let standing = standing_of(&d, record, now, policy.max_lateness, false, release);
        let state = match standing {
            Standing::Sent => DeliveryState::Sent,
            Standing::InDoubt => DeliveryState::InDoubt,
            Standing::Missed | Standing::Superseded => DeliveryState::Missed,
            Standing::Held => DeliveryState::Held,
            Standing::Cancelled => DeliveryState::Cancelled,
            Standing::Due { .. } | Standing::NotYet => {
                if matches!(record, Some(State::Failed { .. })) {
                    DeliveryState::Failed
                } else {
                    DeliveryState::Scheduled
                }
            }
        };
        Stand {
            due: matches!(standing, Standing::Due { .. }),
            delivery: d,
            recipient,
            state,
            standing,
            record,
        }
    })
}

impl Stand<'_> {
    /// When it was sent, failed or claimed, its Message-ID, and the server's reply (or why
    /// it is in doubt, held, cancelled or superseded).
    fn details(&self) -> (Option<DateTime<Utc>>, Option<String>, Option<String>) {
        let (at, message_id, reply) = match self.record {
            Some(State::Sent {
                at,
                message_id,
                reply,
            }) => (Some(*at), Some(message_id.clone()), Some(reply.clone())),
            Some(State::Failed { at, reply, .. }) => (Some(*at), None, Some(reply.clone())),
            Some(State::InDoubt {
                at,
                message_id,
                reason,
            }) => (Some(*at), Some(message_id.clone()), reason.clone()),
            None => (None, None, None),
        };
        let gate = self.delivery.message.gating.gate();
        let reply = match self.standing {
            Standing::Superseded => Some("superseded: a later occurrence was due".to_string()),
            Standing::Held => Some(format!(
                "waiting for the decision on {}",
                gate.unwrap_or_default()
            )),
            Standing::Cancelled => Some(match gate {
                Some(g) => format!("the decision on {g} does not let it go"),
                None => "no gate for this wave, so no NO-GO".to_string(),
            }),
            _ => reply,
        };
        (at, message_id, reply)
    }
}

/// The state of every delivery of `messages` at `now` and whether it is due, in schedule
/// order: what [`status`] says of each, without making its row.
pub fn states<'a>(
    project: &'a Project,
    messages: &'a [&'a ScheduledMessage],
    ledger: &'a Ledger,
    now: DateTime<Utc>,
) -> impl Iterator<Item = (DeliveryState, bool)> + 'a {
    messages
        .iter()
        .flat_map(move |&m| stands(project, m, ledger, now).map(|s| (s.state, s.due)))
}

/// Where every delivery of `messages` stands at `now`, in schedule order, one row at a
/// time (`comms status` prints each as it comes: 600,000 rows are never in memory at once).
pub fn status<'a>(
    project: &'a Project,
    messages: &'a [&'a ScheduledMessage],
    ledger: &'a Ledger,
    now: DateTime<Utc>,
) -> impl Iterator<Item = StatusRow> + 'a {
    messages.iter().flat_map(move |&m| {
        let send_at = rfc3339(&m.send_at);
        let gate = m.gating.gate().map(str::to_string);
        stands(project, m, ledger, now).map(move |s| {
            let (at, message_id, reply) = s.details();
            StatusRow {
                id: m.id.clone(),
                wave: m.wave.clone(),
                locale: m.locale.clone(),
                audience: m.audience.clone(),
                to: s.delivery.recipient.email.clone(),
                send_at: send_at.clone(),
                state: s.state,
                due: s.due,
                occurrence: m.occurrence.map(|(i, _)| i),
                gate: gate.clone(),
                at,
                message_id,
                reply,
            }
        })
    })
}

/// The delivery status of `messages` at `now` from the ledger of `project` (read only: no
/// lock, nothing written): per message its counts and the rows its page lists; `None` when
/// the project has no ledger (nothing was ever sent from it). The site shows it.
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
    use rayon::prelude::*;
    let entries = messages
        .par_iter()
        .map(|&m| {
            let mut status = EntryStatus::default();
            let mut lister = Lister::new(MAX_ROWS);
            for s in stands(project, m, ledger, now) {
                status.counts.add(s.state, s.due);
                lister.push(s.state, || {
                    let (at, message_id, reply) = s.details();
                    Listed {
                        recipient: s.recipient,
                        state: s.state,
                        due: s.due,
                        at,
                        message_id,
                        reply,
                    }
                });
            }
            status.listing = lister.finish();
            status
        })
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
        for (status, e) in o.entries.iter().zip(&prepared.comms) {
            // Few recipients per message: every one is listed, each exactly once.
            let l = &status.listing;
            let mut listed: Vec<usize> = l
                .attention
                .iter()
                .chain(&l.rest)
                .map(|r| r.recipient)
                .collect();
            listed.sort();
            assert_eq!(listed, (0..e.message.recipients.len()).collect::<Vec<_>>());
            assert_eq!(status.counts.total(), e.message.recipients.len());
        }
        // The rows of `comms status` are the same deliveries in the same states.
        let rows: Vec<StatusRow> = status(
            &prepared.project,
            &messages,
            &Ledger::read(dir.path()).unwrap(),
            early,
        )
        .collect();
        assert_eq!(rows.len(), all.len());
        for (r, d) in rows.iter().zip(&all) {
            assert_eq!(
                (r.id.as_str(), r.wave.as_deref()),
                (d.key.id.as_str(), d.key.wave.as_deref())
            );
            assert_eq!(r.to, d.recipient.email);
        }
        assert_eq!(rows[0].state, DeliveryState::Sent);
        assert_eq!(rows[1].state, DeliveryState::Failed);
        assert_eq!(rows[1].reply.as_deref(), Some("550 no"));
        assert_eq!(rows[2].state, DeliveryState::InDoubt);
        let entry = prepared
            .comms
            .iter()
            .position(|e| {
                e.message
                    .recipients
                    .first()
                    .is_some_and(|r| r.email == all[1].recipient.email)
                    && e.message.id == all[1].key.id
                    && e.message.wave == all[1].key.wave
            })
            .unwrap();
        let failed = &o.entries[entry].listing.attention;
        assert!(
            failed
                .iter()
                .any(|r| r.state == DeliveryState::Failed && r.reply.as_deref() == Some("550 no")),
            "{failed:?}"
        );
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
