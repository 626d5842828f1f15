//! Which deliveries are due at a given instant: the schedule split per recipient, and each
//! delivery classified against the clock, `comms.max_lateness` and the ledger.

use chrono::{DateTime, Duration, Utc};

use super::ledger::{DeliveryKey, Ledger, State};
use crate::plan::comms::{Release, ScheduledMessage};
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
    messages.into_iter().flat_map(deliveries_of).collect()
}

/// The deliveries of one message, one at a time (each made when it is reached: the
/// deliveries of a large audience are never all in memory at once).
pub fn deliveries_of(m: &ScheduledMessage) -> impl ExactSizeIterator<Item = Delivery<'_>> + '_ {
    let occurrence = m.occurrence_at();
    let send_at = m.send_at.with_timezone(&Utc);
    m.recipients.iter().map(move |r| Delivery {
        key: DeliveryKey::new(&m.id, m.wave.as_deref(), &r.email).with_occurrence(occurrence),
        message: m,
        recipient: r,
        send_at,
    })
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
    /// An occurrence of a repeating message whose next occurrence is due too: only the
    /// latest is sent; this one counts as missed.
    Superseded,
    /// Gated, past its send time, and its gate has no decision yet.
    Held,
    /// Gated, and the decision does not match `on`: will never be sent.
    Cancelled,
}

/// Classifies one delivery whose message stands at `release` against its gate. An
/// in-doubt delivery counts as due when `resend_in_doubt` (unless it is too late by then).
///
/// A gated message goes at the later of its send time and the decision's time, and
/// `max_lateness` counts from that instant; an occurrence is superseded (missed) once the
/// next occurrence may go too.
pub fn standing(
    d: &Delivery<'_>,
    ledger: &Ledger,
    now: DateTime<Utc>,
    max_lateness: Duration,
    resend_in_doubt: bool,
    release: Release,
) -> Standing {
    let state = ledger.state(&d.key);
    standing_of(d, state, now, max_lateness, resend_in_doubt, release)
}

/// [`standing`] given what the ledger knows of `d` (`state`), looked up once by the caller.
pub fn standing_of(
    d: &Delivery<'_>,
    state: Option<&State>,
    now: DateTime<Utc>,
    max_lateness: Duration,
    resend_in_doubt: bool,
    release: Release,
) -> Standing {
    match state {
        Some(State::Sent { .. }) => return Standing::Sent,
        Some(State::InDoubt { .. }) if !resend_in_doubt => return Standing::InDoubt,
        _ => {}
    }
    let send_at = match release {
        Release::Cancelled => return Standing::Cancelled,
        Release::Waiting if d.send_at <= now => return Standing::Held,
        Release::Waiting => d.send_at,
        _ => release.goes_at(d.send_at).unwrap_or(d.send_at),
    };
    if send_at > now {
        // Not yet (an in-doubt delivery whose schedule moved later stays in doubt).
        return match state {
            Some(State::InDoubt { .. }) => Standing::InDoubt,
            _ => Standing::NotYet,
        };
    }
    let superseded = d
        .message
        .next_at
        .and_then(|next| release.goes_at(next))
        .is_some_and(|next| next <= now);
    if superseded {
        return Standing::Superseded;
    }
    if now - send_at > max_lateness {
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
            }]
            .into(),
            send_at: send_at.with_timezone(&chrono_tz::UTC),
            template: 0,
            occurrence: None,
            next_at: None,
            gating: crate::plan::comms::Gating::Free,
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
        let s = |now| standing(d, &ledger, now, day, false, Release::Free);
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
        assert_eq!(
            standing(d, &ledger, at, day, false, Release::Free),
            Standing::InDoubt
        );
        assert_eq!(
            standing(d, &ledger, at, day, true, Release::Free),
            Standing::Due { retry: true }
        );
        ledger.fail(&d.key, "<1@x>", "451 later", false).unwrap();
        assert_eq!(
            standing(d, &ledger, at, day, false, Release::Free),
            Standing::Due { retry: true }
        );
        ledger.claim(&d.key, "en", "<1@x>", at).unwrap();
        ledger.commit(&d.key, "<1@x>", "250 OK").unwrap();
        assert_eq!(
            standing(d, &ledger, at + day * 3, day, true, Release::Free),
            Standing::Sent
        );
    }

    /// Occurrences at 09:00 and 09:15: at 09:20 both are due, so only the latest goes and
    /// the earlier one is superseded (missed); at 09:10 the first is simply due.
    #[test]
    fn only_the_latest_due_occurrence_goes() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::read(dir.path()).unwrap();
        let at = Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap();
        let mut first = msg(at);
        first.occurrence = Some((1, 2));
        first.next_at = Some(at + Duration::minutes(15));
        let mut second = msg(at + Duration::minutes(15));
        second.occurrence = Some((2, 2));
        let all = deliveries([&first, &second]);
        assert_ne!(
            all[0].key, all[1].key,
            "each occurrence has its own identity"
        );
        assert_eq!(
            all[0].key.occurrence.as_deref(),
            Some("2027-03-01T09:00:00Z")
        );
        let day = Duration::hours(24);
        let s = |d: &Delivery<'_>, now, r| standing(d, &ledger, now, day, false, r);
        let now = at + Duration::minutes(20);
        assert_eq!(s(&all[0], now, Release::Free), Standing::Superseded);
        assert_eq!(
            s(&all[1], now, Release::Free),
            Standing::Due { retry: false }
        );
        let early = at + Duration::minutes(10);
        assert_eq!(
            s(&all[0], early, Release::Free),
            Standing::Due { retry: false }
        );
        // Gated and released at 09:30: both go at 09:30, so only the second.
        let released = Release::After(at + Duration::minutes(30));
        assert_eq!(s(&all[0], now, released), Standing::NotYet);
        let later = at + Duration::minutes(31);
        assert_eq!(s(&all[0], later, released), Standing::Superseded);
        assert_eq!(s(&all[1], later, released), Standing::Due { retry: false });
    }

    /// A gated message: held past its time without a decision, cancelled by the wrong
    /// one, due from the later of its time and the decision's, `max_lateness` counted
    /// from there.
    #[test]
    fn gated_messages_are_held_cancelled_or_due_from_the_decision() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::read(dir.path()).unwrap();
        let at = Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap();
        let m = msg(at);
        let d = &deliveries([&m])[0];
        let day = Duration::hours(24);
        let s = |now, r| standing(d, &ledger, now, day, false, r);
        assert_eq!(
            s(at - Duration::seconds(1), Release::Waiting),
            Standing::NotYet
        );
        assert_eq!(s(at, Release::Waiting), Standing::Held);
        assert_eq!(s(at, Release::Cancelled), Standing::Cancelled);
        let decided = at + Duration::hours(30);
        let r = Release::After(decided);
        assert_eq!(s(decided - Duration::seconds(1), r), Standing::NotYet);
        // 30 hours after its send time, but only just decided: due, not missed.
        assert_eq!(s(decided, r), Standing::Due { retry: false });
        assert_eq!(s(decided + day + Duration::seconds(1), r), Standing::Missed);
        // A decision before the send time: it goes at its own time.
        let r = Release::After(at - Duration::hours(2));
        assert_eq!(s(at, r), Standing::Due { retry: false });
    }
}
