//! Which deliveries are due at a given instant: the schedule split per recipient, and each
//! delivery classified against the clock, `comms.max_lateness` and the ledger.

use chrono::{DateTime, Duration, Utc};

use super::ledger::{DeliveryKey, Ledger, State};
use crate::plan::comms::ScheduledMessage;
use crate::project::Recipient;

/// One message to one recipient.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub key: DeliveryKey,
    pub message: &'a ScheduledMessage,
    pub recipient: &'a Recipient,
    pub send_at: DateTime<Utc>,
}

/// Every delivery of `messages`, in schedule order.
pub fn deliveries<'a>(
    messages: impl IntoIterator<Item = &'a ScheduledMessage>,
) -> Vec<Delivery<'a>> {
    let mut out = Vec::new();
    for m in messages {
        for r in &m.recipients {
            out.push(Delivery {
                key: DeliveryKey::new(&m.id, m.wave.as_deref(), &r.email),
                message: m,
                recipient: r,
                send_at: m.send_at.with_timezone(&Utc),
            });
        }
    }
    out
}

/// Where a delivery stands at an instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// Its send time has not come yet.
    NotYet,
    /// Due now and never accepted: to send (`retry` when an earlier attempt failed).
    Due { retry: bool },
    /// Accepted by the server.
    Sent,
    /// Handed to the server by a run that stopped before recording the answer.
    InDoubt,
    /// More than `max_lateness` late and never accepted: will not be sent.
    Missed,
}

/// Classifies one delivery. An in-doubt delivery counts as due when `resend_in_doubt`
/// (unless it is too late by then).
pub fn standing(
    d: &Delivery<'_>,
    ledger: &Ledger,
    now: DateTime<Utc>,
    max_lateness: Duration,
    resend_in_doubt: bool,
) -> Standing {
    let state = ledger.state(&d.key);
    match state {
        Some(State::Sent { .. }) => return Standing::Sent,
        Some(State::InDoubt { .. }) if !resend_in_doubt => return Standing::InDoubt,
        _ => {}
    }
    if d.send_at > now {
        // Only possible for an in-doubt or failed delivery when the schedule moved later.
        return match state {
            Some(State::InDoubt { .. }) => Standing::InDoubt,
            _ => Standing::NotYet,
        };
    }
    if now - d.send_at > max_lateness {
        return Standing::Missed;
    }
    Standing::Due {
        retry: matches!(state, Some(State::Failed { .. } | State::InDoubt { .. })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn msg(send_at: DateTime<Utc>) -> ScheduledMessage {
        ScheduledMessage {
            id: "get-ready".into(),
            wave: None,
            locale: "en".into(),
            audience: "all".into(),
            recipients: vec![Recipient {
                email: "Ana@X.example".into(),
                name: None,
                locale: None,
                zone: None,
            }],
            send_at: send_at.with_timezone(&chrono_tz::UTC),
            template: 0,
        }
    }

    #[test]
    fn due_missed_and_not_yet() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::read(dir.path()).unwrap();
        let at = Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap();
        let m = msg(at);
        let d = &deliveries([&m])[0];
        assert_eq!(d.key.to, "ana@x.example");
        let day = Duration::hours(24);
        let s = |now| standing(d, &ledger, now, day, false);
        assert_eq!(s(at - Duration::seconds(1)), Standing::NotYet);
        assert_eq!(s(at), Standing::Due { retry: false });
        assert_eq!(s(at + day), Standing::Due { retry: false });
        assert_eq!(s(at + day + Duration::seconds(1)), Standing::Missed);
    }

    #[test]
    fn the_ledger_decides_sent_in_doubt_and_retry() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path()).unwrap();
        let at = Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap();
        let m = msg(at);
        let d = &deliveries([&m])[0];
        let day = Duration::hours(24);
        ledger.claim(&d.key, "en", "<1@x>", at).unwrap();
        assert_eq!(standing(d, &ledger, at, day, false), Standing::InDoubt);
        assert_eq!(
            standing(d, &ledger, at, day, true),
            Standing::Due { retry: true }
        );
        ledger.fail(&d.key, "<1@x>", "451 later", false).unwrap();
        assert_eq!(
            standing(d, &ledger, at, day, false),
            Standing::Due { retry: true }
        );
        ledger.claim(&d.key, "en", "<1@x>", at).unwrap();
        ledger.commit(&d.key, "<1@x>", "250 OK").unwrap();
        assert_eq!(
            standing(d, &ledger, at + day * 3, day, true),
            Standing::Sent
        );
    }
}
