//! The delivery status the site shows: [`super::status`] at the build time, kept per
//! scheduled message (one [`CommsEntry`] of `Prepared::comms`: a message, wave, locale and
//! send time) and summarised as counts ("980 sent · 3 failed · 17 scheduled") with one
//! badge state.
//!
//! The ledger is only read ([`Ledger::read`]: no lock, nothing written), so a build while
//! `comms send` runs neither waits for it nor slows it down; a line that send is writing at
//! that instant (or a crash cut short) is skipped like `comms status` skips it, and the
//! delivery shows its state before that line.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ledger::Ledger;
use super::{status, StatusRow};
use crate::render::CommsEntry;
use crate::site::Prepared;

/// The delivery status of every scheduled message at one instant.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The instant the states are computed for (the build time).
    pub as_of: DateTime<Utc>,
    /// One list per entry of `Prepared::comms`, in the same order: one row per recipient,
    /// in the order of `message.recipients`.
    pub entries: Vec<Vec<StatusRow>>,
    /// Ledger lines that could not be read (a run interrupted, or writing, at that line).
    pub skipped_lines: usize,
}

impl Overview {
    /// The status of `prepared`'s schedule at `now` from the ledger of its project, or
    /// `None` when the project has no ledger (nothing was ever sent from it).
    pub fn read(prepared: &Prepared, now: DateTime<Utc>) -> std::io::Result<Option<Overview>> {
        let root: &Path = &prepared.project.root;
        if !Ledger::path_in(root).is_file() {
            return Ok(None);
        }
        let ledger = Ledger::read(root)?;
        Ok(Some(Self::of(prepared, &ledger, now)))
    }

    /// The status of `prepared`'s schedule at `now` according to `ledger`.
    pub fn of(prepared: &Prepared, ledger: &Ledger, now: DateTime<Utc>) -> Overview {
        let mut rows = status(prepared, ledger, now).into_iter();
        // `status` lists the deliveries entry by entry, recipient by recipient.
        let entries = prepared
            .comms
            .iter()
            .map(|e| rows.by_ref().take(e.message.recipients.len()).collect())
            .collect();
        Overview {
            as_of: now,
            entries,
            skipped_lines: ledger.skipped_lines,
        }
    }

    /// The counts of entry `i` of `Prepared::comms`.
    pub fn counts(&self, i: usize) -> Counts {
        Counts::of(&self.entries[i])
    }

    /// The counts of the entries `pick` selects (a wave, a message page).
    pub fn counts_where(
        &self,
        comms: &[CommsEntry],
        mut pick: impl FnMut(&CommsEntry) -> bool,
    ) -> Counts {
        let mut c = Counts::default();
        for (e, rows) in comms.iter().zip(&self.entries) {
            if pick(e) {
                rows.iter().for_each(|r| c.add(r));
            }
        }
        c
    }

    /// The counts over the whole schedule.
    pub fn total(&self) -> Counts {
        let mut c = Counts::default();
        self.entries.iter().flatten().for_each(|r| c.add(r));
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
    /// Not sent yet, no failure recorded (`due` of them are past their send time).
    pub scheduled: usize,
    pub due: usize,
}

impl Counts {
    pub fn of(rows: &[StatusRow]) -> Counts {
        let mut c = Counts::default();
        rows.iter().for_each(|r| c.add(r));
        c
    }

    pub fn add(&mut self, row: &StatusRow) {
        match row.state {
            "sent" => self.sent += 1,
            "failed" => self.failed += 1,
            "in doubt" => self.in_doubt += 1,
            "missed" => self.missed += 1,
            _ => {
                self.scheduled += 1;
                if row.due {
                    self.due += 1;
                }
            }
        }
    }

    pub fn total(&self) -> usize {
        self.sent + self.failed + self.in_doubt + self.missed + self.scheduled
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
    /// in doubt, missed), then how far sending got (sent, partly sent, due, scheduled).
    pub fn badge(&self) -> (&'static str, &'static str) {
        if self.failed > 0 {
            ("Failed", "failed")
        } else if self.in_doubt > 0 {
            ("In doubt", "in-doubt")
        } else if self.missed > 0 {
            ("Missed", "missed")
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

/// A row's state as `(label, class)`: a scheduled delivery past its send time is "due".
pub fn row_state(row: &StatusRow) -> (&'static str, &'static str) {
    match row.state {
        "sent" => ("Sent", "sent"),
        "failed" => ("Failed", "failed"),
        "in doubt" => ("In doubt", "in-doubt"),
        "missed" => ("Missed", "missed"),
        _ if row.due => ("Due", "due"),
        _ => ("Scheduled", "scheduled"),
    }
}

/// Whether a row needs someone to look at it (failed, in doubt, missed).
pub fn needs_attention(row: &StatusRow) -> bool {
    matches!(row.state, "failed" | "in doubt" | "missed")
}

/// The rows of one delivery to list on a page, by index: what needs attention first.
#[derive(Debug, Default, PartialEq)]
pub struct Listing {
    /// Failed, then in doubt, then missed, each in schedule order.
    pub attention: Vec<usize>,
    /// The others, in schedule order.
    pub rest: Vec<usize>,
    /// How many rows of each list were left out to keep the page small.
    pub attention_more: usize,
    pub rest_more: usize,
}

/// At most this many rows per list on a page (about 0.4 kB of HTML each): a message to
/// 100,000 people still gives a page a browser opens; `comms status` lists everyone.
pub const MAX_ROWS: usize = 2_000;

/// `rows` split into what needs attention and the rest, each cut at `limit` rows.
pub fn listing(rows: &[StatusRow], limit: usize) -> Listing {
    let rank = |r: &StatusRow| match r.state {
        "failed" => 0,
        "in doubt" => 1,
        _ => 2,
    };
    let (mut attention, mut rest): (Vec<usize>, Vec<usize>) =
        (0..rows.len()).partition(|&i| needs_attention(&rows[i]));
    attention.sort_by_key(|&i| rank(&rows[i]));
    let attention_more = attention.len().saturating_sub(limit);
    let rest_more = rest.len().saturating_sub(limit);
    attention.truncate(limit);
    rest.truncate(limit);
    Listing {
        attention,
        rest,
        attention_more,
        rest_more,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(to: &str, state: &'static str, due: bool) -> StatusRow {
        StatusRow {
            id: "get-ready".into(),
            wave: Some("main".into()),
            locale: "en".into(),
            audience: "everyone".into(),
            to: to.into(),
            send_at: "2027-03-15T09:00:00+01:00".into(),
            state,
            due,
            at: None,
            message_id: None,
            reply: None,
        }
    }

    fn many(n: usize, state: &'static str, due: bool) -> Vec<StatusRow> {
        (0..n)
            .map(|i| row(&format!("u{i}@x"), state, due))
            .collect()
    }

    fn minimal() -> Prepared {
        crate::site::prepare(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/minimal"
        )))
        .expect("fixture loads")
    }

    #[test]
    fn rows_line_up_with_the_scheduled_messages_and_their_recipients() {
        use super::super::due::deliveries;
        use chrono::Duration;
        let dir = tempfile::tempdir().unwrap();
        let mut prepared = minimal();
        prepared.project.root = dir.path().to_path_buf();
        let first = prepared
            .comms
            .iter()
            .map(|e| e.message.send_at.with_timezone(&Utc))
            .min()
            .unwrap();
        assert!(
            Overview::read(&prepared, first).unwrap().is_none(),
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
        let o = Overview::read(&prepared, early).unwrap().expect("a ledger");
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
        let late = Overview::read(&prepared, first + Duration::days(400))
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
            .join(super::super::ledger::LOCK)
            .exists());
    }

    #[test]
    fn counts_read_like_a_sentence_in_a_fixed_order() {
        let mut rows = many(17, "scheduled", false);
        rows.extend(many(3, "failed", true));
        rows.extend(many(980, "sent", false));
        let c = Counts::of(&rows);
        assert_eq!(c.total(), 1000);
        assert_eq!(c.attention(), 3);
        assert_eq!(c.text(), "980 sent · 3 failed · 17 scheduled");
        assert_eq!(c.badge(), ("Failed", "failed"));

        let mut rows = many(2, "scheduled", true);
        rows.extend(many(1, "scheduled", false));
        rows.extend(many(1, "in doubt", false));
        rows.extend(many(1, "missed", false));
        let c = Counts::of(&rows);
        assert_eq!(c.text(), "1 in doubt · 1 missed · 3 scheduled (2 due)");
        assert_eq!(c.badge(), ("In doubt", "in-doubt"));
        assert_eq!(Counts::default().text(), "no recipients");
    }

    #[test]
    fn the_badge_says_how_far_sending_got_when_nothing_needs_attention() {
        let badge = |rows: Vec<Vec<StatusRow>>| Counts::of(&rows.concat()).badge().0;
        assert_eq!(badge(vec![many(5, "sent", false)]), "Sent");
        assert_eq!(
            badge(vec![many(5, "sent", false), many(1, "scheduled", true)]),
            "Partly sent"
        );
        assert_eq!(badge(vec![many(5, "scheduled", true)]), "Due");
        assert_eq!(
            badge(vec![
                many(5, "scheduled", false),
                many(1, "scheduled", true)
            ]),
            "Due"
        );
        assert_eq!(badge(vec![many(5, "scheduled", false)]), "Scheduled");
        assert_eq!(
            badge(vec![many(5, "sent", false), many(1, "missed", false)]),
            "Missed"
        );
    }

    #[test]
    fn failures_come_first_then_in_doubt_then_missed_and_the_rest_keeps_its_order() {
        let rows = vec![
            row("a@x", "sent", false),
            row("b@x", "missed", false),
            row("c@x", "scheduled", true),
            row("d@x", "in doubt", false),
            row("e@x", "failed", true),
            row("f@x", "sent", false),
            row("g@x", "failed", false),
        ];
        let l = listing(&rows, MAX_ROWS);
        let names = |ix: &[usize]| ix.iter().map(|&i| rows[i].to.as_str()).collect::<Vec<_>>();
        assert_eq!(names(&l.attention), ["e@x", "g@x", "d@x", "b@x"]);
        assert_eq!(names(&l.rest), ["a@x", "c@x", "f@x"]);
        assert_eq!((l.attention_more, l.rest_more), (0, 0));
        // A long list is cut, keeping the worst first.
        let l = listing(&rows, 2);
        assert_eq!(names(&l.attention), ["e@x", "g@x"]);
        assert_eq!(names(&l.rest), ["a@x", "c@x"]);
        assert_eq!((l.attention_more, l.rest_more), (2, 1));
        assert_eq!(row_state(&rows[2]), ("Due", "due"));
        assert_eq!(row_state(&row("h@x", "scheduled", false)).0, "Scheduled");
    }
}
