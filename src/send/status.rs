//! Where deliveries stand, read from the ledger without the lock: `comms status`'s rows
//! ([`status`]) and the site's [`Overview`] ([`overview`]).

use chrono::{DateTime, Utc};

use super::due::{deliveries, standing, Standing};
use super::ledger::{Ledger, State};
use crate::delivery::{DeliveryState, Overview, StatusRow};
use crate::plan::comms::{release, ScheduledMessage};
use crate::project::Project;
use crate::time::stamp::rfc3339;

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
            let standing = standing(
                d,
                ledger,
                now,
                policy.max_lateness,
                false,
                release(project, d.message, now),
            );
            let mut row = StatusRow {
                id: d.key.id.clone(),
                wave: d.key.wave.clone(),
                locale: d.message.locale.clone(),
                audience: d.message.audience.clone(),
                to: d.recipient.email.clone(),
                send_at: rfc3339(&d.message.send_at),
                state: DeliveryState::Scheduled,
                due: matches!(standing, Standing::Due { .. }),
                occurrence: d.message.occurrence.map(|(i, _)| i),
                gate: d.message.gating.gate().map(str::to_string),
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
            match standing {
                Standing::Superseded => {
                    row.reply = Some("superseded: a later occurrence was due".to_string())
                }
                Standing::Held => {
                    row.reply = Some(format!(
                        "waiting for the decision on {}",
                        row.gate.as_deref().unwrap_or_default()
                    ))
                }
                Standing::Cancelled => {
                    row.reply = Some(match &row.gate {
                        Some(g) => format!("the decision on {g} does not let it go"),
                        None => "no gate for this wave, so no NO-GO".to_string(),
                    })
                }
                _ => {}
            }
            row.state = match standing {
                Standing::Sent => DeliveryState::Sent,
                Standing::InDoubt => DeliveryState::InDoubt,
                Standing::Missed | Standing::Superseded => DeliveryState::Missed,
                Standing::Held => DeliveryState::Held,
                Standing::Cancelled => DeliveryState::Cancelled,
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
