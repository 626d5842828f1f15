//! Where deliveries stand, as plain data: the state of one delivery ([`DeliveryState`]),
//! a row of `comms status` ([`StatusRow`]), and the status the site shows ([`Overview`]):
//! per scheduled message (one entry of the build's comms: a message, wave, locale and send
//! time) its counts ("980 sent · 3 failed · 17 scheduled", with one badge state) and the
//! few rows its page lists ([`Listing`], made by a [`Lister`] as the deliveries stream
//! past, at most [`MAX_ROWS`] per list: its size does not grow with the audience).
//!
//! `send` computes them from its ledger (`crate::send::overview`, read only: no lock,
//! nothing written, so a build while `comms send` runs neither waits for it nor slows it
//! down; a line that send is writing at that instant is skipped like `comms status` skips
//! it); `render` shows them. Neither this module nor `render` reads the ledger.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where one delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DeliveryState {
    /// Not sent yet, no failure recorded.
    #[serde(rename = "scheduled")]
    Scheduled,
    #[serde(rename = "sent")]
    Sent,
    /// Refused (and not yet too late to try again).
    #[serde(rename = "failed")]
    Failed,
    /// Claimed by a run that never recorded the outcome.
    #[serde(rename = "in doubt")]
    InDoubt,
    /// Never accepted, and now too late to send (or superseded by a later occurrence).
    #[serde(rename = "missed")]
    Missed,
    /// Gated, past its send time, and no decision on its gate yet.
    #[serde(rename = "held")]
    Held,
    /// Gated, and the decision does not let it go: never sent.
    #[serde(rename = "cancelled")]
    Cancelled,
}

impl DeliveryState {
    /// As `comms status` and the JSON write it: `scheduled`, `sent`, `failed`, `in doubt`,
    /// `missed`, `held`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Scheduled => "scheduled",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::InDoubt => "in doubt",
            DeliveryState::Missed => "missed",
            DeliveryState::Held => "held",
            DeliveryState::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    pub state: DeliveryState,
    /// Whether a `scheduled` or `failed` delivery would be sent by `comms send --due` now.
    pub due: bool,
    /// For a repeating message: which occurrence (from 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<usize>,
    /// For a gated message: the go-no-go task it waits on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    /// When it was sent, failed or claimed (RFC 3339 in UTC in the JSON).
    #[serde(serialize_with = "utc_opt")]
    pub at: Option<DateTime<Utc>>,
    pub message_id: Option<String>,
    /// The server's reply (to the acceptance or the last failure).
    pub reply: Option<String>,
}

fn utc_opt<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&crate::time::stamp::utc(t)),
        None => s.serialize_none(),
    }
}

/// The delivery status of every scheduled message at one instant: per message, its counts
/// and the few rows its page lists — never a row per delivery (a 100,000-person audience
/// would make 600,000 of them; `comms status` streams those instead).
#[derive(Debug, Clone)]
pub struct Overview {
    /// The instant the states are computed for (the build time).
    pub as_of: DateTime<Utc>,
    /// One per scheduled message of the build (its comms), in the same order.
    pub entries: Vec<EntryStatus>,
    /// Ledger lines that could not be read (a run interrupted, or writing, at that line).
    pub skipped_lines: usize,
}

/// Where the deliveries of one scheduled message stand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryStatus {
    pub counts: Counts,
    /// The rows its page lists: what needs attention first, each list at most
    /// [`MAX_ROWS`] long.
    pub listing: Listing,
}

impl Overview {
    /// The counts of entry `i` of the build's comms.
    pub fn counts(&self, i: usize) -> Counts {
        self.entries[i].counts
    }

    /// The counts of the entries `pick` selects (a wave, a message page); `comms` are the
    /// build's scheduled messages, in the order of [`Overview::entries`].
    pub fn counts_where<T>(&self, comms: &[T], mut pick: impl FnMut(&T) -> bool) -> Counts {
        let mut c = Counts::default();
        for (e, status) in comms.iter().zip(&self.entries) {
            if pick(e) {
                c.merge(&status.counts);
            }
        }
        c
    }

    /// The counts over the whole schedule.
    pub fn total(&self) -> Counts {
        let mut c = Counts::default();
        self.entries.iter().for_each(|e| c.merge(&e.counts));
        c
    }
}

/// How many deliveries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub sent: usize,
    pub failed: usize,
    pub in_doubt: usize,
    pub missed: usize,
    pub held: usize,
    pub cancelled: usize,
    /// Not sent yet, no failure recorded (`due` of them are past their send time).
    pub scheduled: usize,
    pub due: usize,
}

impl Counts {
    pub fn of(rows: &[StatusRow]) -> Counts {
        let mut c = Counts::default();
        rows.iter().for_each(|r| c.add(r.state, r.due));
        c
    }

    /// Counts one delivery in `state` (`due`: past its send time and sendable).
    pub fn add(&mut self, state: DeliveryState, due: bool) {
        match state {
            DeliveryState::Sent => self.sent += 1,
            DeliveryState::Failed => self.failed += 1,
            DeliveryState::InDoubt => self.in_doubt += 1,
            DeliveryState::Missed => self.missed += 1,
            DeliveryState::Held => self.held += 1,
            DeliveryState::Cancelled => self.cancelled += 1,
            DeliveryState::Scheduled => {
                self.scheduled += 1;
                if due {
                    self.due += 1;
                }
            }
        }
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: &Counts) {
        self.sent += other.sent;
        self.failed += other.failed;
        self.in_doubt += other.in_doubt;
        self.missed += other.missed;
        self.held += other.held;
        self.cancelled += other.cancelled;
        self.scheduled += other.scheduled;
        self.due += other.due;
    }

    pub fn total(&self) -> usize {
        self.sent
            + self.failed
            + self.in_doubt
            + self.missed
            + self.held
            + self.cancelled
            + self.scheduled
    }

    /// The deliveries someone should look at: failed, in doubt or missed.
    pub fn attention(&self) -> usize {
        self.failed + self.in_doubt + self.missed
    }

    /// `980 sent · 3 failed · 17 scheduled (2 due)`: the non-zero states, in a fixed order.
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        for (n, what) in [
            (self.sent, "sent"),
            (self.failed, "failed"),
            (self.in_doubt, "in doubt"),
            (self.missed, "missed"),
            (self.held, "held"),
            (self.cancelled, "cancelled"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        if self.scheduled > 0 {
            parts.push(if self.due > 0 {
                format!("{} scheduled ({} due)", self.scheduled, self.due)
            } else {
                format!("{} scheduled", self.scheduled)
            });
        }
        if parts.is_empty() {
            "no recipients".to_string()
        } else {
            parts.join(" · ")
        }
    }

    /// One word for the whole: `(label, class)`. What needs attention comes first (failed,
    /// in doubt, missed), then held, all cancelled, then how far sending got (sent, partly sent, due, scheduled).
    pub fn badge(&self) -> (&'static str, &'static str) {
        if self.failed > 0 {
            ("Failed", "failed")
        } else if self.in_doubt > 0 {
            ("In doubt", "in-doubt")
        } else if self.missed > 0 {
            ("Missed", "missed")
        } else if self.held > 0 {
            ("Held", "held")
        } else if self.total() > 0 && self.cancelled == self.total() {
            ("Cancelled", "cancelled")
        } else if self.total() > 0 && self.sent == self.total() {
            ("Sent", "sent")
        } else if self.sent > 0 {
            ("Partly sent", "partial")
        } else if self.due > 0 {
            ("Due", "due")
        } else {
            ("Scheduled", "scheduled")
        }
    }
}

/// A delivery's state as `(label, class)`: a scheduled delivery past its send time is "due".
pub fn row_state(state: DeliveryState, due: bool) -> (&'static str, &'static str) {
    match state {
        DeliveryState::Sent => ("Sent", "sent"),
        DeliveryState::Failed => ("Failed", "failed"),
        DeliveryState::InDoubt => ("In doubt", "in-doubt"),
        DeliveryState::Missed => ("Missed", "missed"),
        DeliveryState::Held => ("Held", "held"),
        DeliveryState::Cancelled => ("Cancelled", "cancelled"),
        DeliveryState::Scheduled if due => ("Due", "due"),
        DeliveryState::Scheduled => ("Scheduled", "scheduled"),
    }
}

/// One delivery a page lists: which recipient of its message (index in
/// `message.recipients`) and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub recipient: usize,
    pub state: DeliveryState,
    pub due: bool,
    /// When it was sent, failed or claimed.
    pub at: Option<DateTime<Utc>>,
    pub message_id: Option<String>,
    /// The server's reply, or why it is in doubt, held, cancelled or superseded.
    pub reply: Option<String>,
}

/// The deliveries of one message a page lists: what needs attention first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Failed, then in doubt, then missed, each in schedule order.
    pub attention: Vec<Listed>,
    /// The others, in schedule order.
    pub rest: Vec<Listed>,
    /// How many rows of each list were left out to keep the page small.
    pub attention_more: usize,
    pub rest_more: usize,
}

/// At most this many rows per list on a page (about 0.4 kB of HTML each): a message to
/// 100,000 people still gives a page a browser opens; `comms status` lists everyone.
pub const MAX_ROWS: usize = 2_000;

/// Makes a [`Listing`] from the deliveries of one message given one at a time in schedule
/// order, keeping at most `limit` rows per list (and per state of what needs attention):
/// the memory of a listing does not grow with the audience.
#[derive(Debug)]
pub struct Lister {
    limit: usize,
    /// Failed, in doubt, missed.
    attention: [Vec<Listed>; 3],
    attention_count: usize,
    rest: Vec<Listed>,
    rest_count: usize,
}

impl Lister {
    pub fn new(limit: usize) -> Self {
        Lister {
            limit,
            attention: Default::default(),
            attention_count: 0,
            rest: Vec::new(),
            rest_count: 0,
        }
    }

    /// Takes the next delivery, or only counts it when its list is full (`row` is made
    /// only when it is kept).
    pub fn push(&mut self, state: DeliveryState, row: impl FnOnce() -> Listed) {
        let (list, count) = match state {
            DeliveryState::Failed => (&mut self.attention[0], &mut self.attention_count),
            DeliveryState::InDoubt => (&mut self.attention[1], &mut self.attention_count),
            DeliveryState::Missed => (&mut self.attention[2], &mut self.attention_count),
            _ => (&mut self.rest, &mut self.rest_count),
        };
        *count += 1;
        if list.len() < self.limit {
            list.push(row());
        }
    }

    pub fn finish(self) -> Listing {
        let [failed, in_doubt, missed] = self.attention;
        let mut attention = failed;
        attention.extend(in_doubt);
        attention.extend(missed);
        attention.truncate(self.limit);
        Listing {
            attention,
            rest: self.rest,
            attention_more: self.attention_count.saturating_sub(self.limit),
            rest_more: self.rest_count.saturating_sub(self.limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryState::*;

    fn row(to: &str, state: DeliveryState, due: bool) -> StatusRow {
        StatusRow {
            id: "get-ready".into(),
            wave: Some("main".into()),
            locale: "en".into(),
            audience: "everyone".into(),
            to: to.into(),
            send_at: "2027-03-15T09:00:00+01:00".into(),
            state,
            due,
            occurrence: None,
            gate: None,
            at: None,
            message_id: None,
            reply: None,
        }
    }

    fn many(n: usize, state: DeliveryState, due: bool) -> Vec<StatusRow> {
        (0..n)
            .map(|i| row(&format!("u{i}@x"), state, due))
            .collect()
    }

    #[test]
    fn counts_read_like_a_sentence_in_a_fixed_order() {
        let mut rows = many(17, Scheduled, false);
        rows.extend(many(3, Failed, true));
        rows.extend(many(980, Sent, false));
        let c = Counts::of(&rows);
        assert_eq!(c.total(), 1000);
        assert_eq!(c.attention(), 3);
        assert_eq!(c.text(), "980 sent · 3 failed · 17 scheduled");
        assert_eq!(c.badge(), ("Failed", "failed"));

        let mut rows = many(2, Scheduled, true);
        rows.extend(many(1, Scheduled, false));
        rows.extend(many(1, InDoubt, false));
        rows.extend(many(1, Missed, false));
        let c = Counts::of(&rows);
        assert_eq!(c.text(), "1 in doubt · 1 missed · 3 scheduled (2 due)");
        assert_eq!(c.badge(), ("In doubt", "in-doubt"));
        assert_eq!(Counts::default().text(), "no recipients");
    }

    #[test]
    fn the_badge_says_how_far_sending_got_when_nothing_needs_attention() {
        let badge = |rows: Vec<Vec<StatusRow>>| Counts::of(&rows.concat()).badge().0;
        assert_eq!(badge(vec![many(5, Sent, false)]), "Sent");
        assert_eq!(
            badge(vec![many(5, Sent, false), many(1, Scheduled, true)]),
            "Partly sent"
        );
        assert_eq!(badge(vec![many(5, Scheduled, true)]), "Due");
        assert_eq!(
            badge(vec![many(5, Scheduled, false), many(1, Scheduled, true)]),
            "Due"
        );
        assert_eq!(badge(vec![many(5, Scheduled, false)]), "Scheduled");
        assert_eq!(
            badge(vec![many(5, Sent, false), many(1, Missed, false)]),
            "Missed"
        );
    }

    #[test]
    fn failures_come_first_then_in_doubt_then_missed_and_the_rest_keeps_its_order() {
        let rows = vec![
            row("a@x", Sent, false),
            row("b@x", Missed, false),
            row("c@x", Scheduled, true),
            row("d@x", InDoubt, false),
            row("e@x", Failed, true),
            row("f@x", Sent, false),
            row("g@x", Failed, false),
        ];
        let listing = |rows: &[StatusRow], limit| {
            let mut l = Lister::new(limit);
            for (i, r) in rows.iter().enumerate() {
                l.push(r.state, || Listed {
                    recipient: i,
                    state: r.state,
                    due: r.due,
                    at: None,
                    message_id: None,
                    reply: None,
                });
            }
            l.finish()
        };
        let l = listing(&rows, MAX_ROWS);
        let names = |ix: &[Listed]| {
            ix.iter()
                .map(|l| rows[l.recipient].to.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&l.attention), ["e@x", "g@x", "d@x", "b@x"]);
        assert_eq!(names(&l.rest), ["a@x", "c@x", "f@x"]);
        assert_eq!((l.attention_more, l.rest_more), (0, 0));
        // A long list is cut, keeping the worst first.
        let l = listing(&rows, 2);
        assert_eq!(names(&l.attention), ["e@x", "g@x"]);
        assert_eq!(names(&l.rest), ["a@x", "c@x"]);
        assert_eq!((l.attention_more, l.rest_more), (2, 1));
        assert_eq!(row_state(rows[2].state, rows[2].due), ("Due", "due"));
        assert_eq!(row_state(Scheduled, false).0, "Scheduled");
        // Three failures and two in doubt cut at 4: the failures first.
        let mut more = many(3, Failed, false);
        more.extend(many(2, InDoubt, false));
        more.insert(0, row("z@x", InDoubt, false));
        let l = listing(&more, 4);
        let to: Vec<&str> = l
            .attention
            .iter()
            .map(|r| more[r.recipient].to.as_str())
            .collect();
        assert_eq!(to, ["u0@x", "u1@x", "u2@x", "z@x"]);
        assert_eq!(l.attention_more, 2);
    }
}
