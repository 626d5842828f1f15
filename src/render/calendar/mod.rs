//! iCalendar (RFC 5545) feeds: `training/sessions.ics`, `cutover/cutover.ics` and one
//! `cutover/<role>.ics` per task owner.
//!
//! Events are built with the `icalendar` crate. Every time is written as local time with
//! `TZID=<zone>`, and each zone used gets a VTIMEZONE generated from chrono-tz
//! ([`vtimezone`]) — spliced in as text, because `icalendar` adds DTSTAMP and UID to every
//! component it writes, which a VTIMEZONE must not have.
//!
//! Two things are done here rather than by the crate: the calendar's NAME (RFC 7986) is
//! escaped as TEXT ([`escape_text`]; the crate writes properties it does not know verbatim), and
//! the finished text is unfolded and folded again ([`refold`]), because the crate's folding
//! can leave a continuation line at 76 octets. An event that takes no time (a milestone)
//! has no DTEND: RFC 5545 §3.8.2.2 wants DTEND later than DTSTART, and §3.6.1 defines an
//! event with a date-time DTSTART and no DTEND as ending when it starts.

pub mod cutover;
pub mod sessions;
pub mod vtimezone;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, CalendarDateTime, Event, EventLike};

pub use cutover::{cutover_feeds, previous_of, sequences, Previous, PreviousTask};
pub use sessions::{session_ics, sessions_ics};

/// A calendar being assembled: its events and the zones their times use.
pub(crate) struct Feed {
    pub calendar: Calendar,
    /// Zones in order of first use.
    zones: Vec<Tz>,
    instants: Vec<DateTime<Tz>>,
}

impl Feed {
    pub fn new(name: &str) -> Self {
        let mut calendar = Calendar::empty();
        for (key, value) in [
            ("VERSION", "2.0"),
            (
                "PRODID",
                concat!("-//tminus//tminus ", env!("CARGO_PKG_VERSION"), "//EN"),
            ),
            ("CALSCALE", "GREGORIAN"),
            ("METHOD", "PUBLISH"),
            ("NAME", &escape_text(name)),
            // X- properties are TEXT to the crate, which escapes them itself.
            ("X-WR-CALNAME", name),
        ] {
            calendar.append_property(icalendar::Property::new(key, value));
        }
        Feed {
            calendar,
            zones: Vec::new(),
            instants: Vec::new(),
        }
    }

    /// `at` as `TZID=<zone>` local time, remembering the zone for its VTIMEZONE. A time in
    /// the repeated hour of a fall-back change is written in UTC instead, since a local time
    /// there would be read as its first occurrence.
    pub fn time(&mut self, at: DateTime<Tz>) -> CalendarDateTime {
        let zone = at.timezone();
        let local = at.naive_local();
        let unambiguous = matches!(
            zone.from_local_datetime(&local),
            chrono::LocalResult::Single(t) if t == at
        ) || matches!(
            zone.from_local_datetime(&local),
            chrono::LocalResult::Ambiguous(first, _) if first == at
        );
        if !unambiguous {
            return CalendarDateTime::Utc(at.with_timezone(&Utc));
        }
        if !self.zones.contains(&zone) {
            self.zones.push(zone);
        }
        self.instants.push(at);
        CalendarDateTime::WithTimezone {
            date_time: local,
            tzid: zone.name().to_string(),
        }
    }

    /// DTSTART and DTEND of `event`; no DTEND when `end` is `start` (a zero-duration event,
    /// which RFC 5545 §3.6.1 reads as ending when it starts).
    pub fn span(&mut self, event: &mut Event, start: DateTime<Tz>, end: DateTime<Tz>) {
        let at = self.time(start);
        event.starts(at);
        if end != start {
            let until = self.time(end);
            event.ends(until);
        }
    }

    /// The calendar text, with a VTIMEZONE for each zone used, covering the years spanned,
    /// folded at 75 octets.
    pub fn finish(mut self) -> String {
        let text = self.calendar.done().to_string();
        let mut zones = String::new();
        for zone in &self.zones {
            let mine = self.instants.iter().filter(|t| t.timezone() == *zone);
            if let Some((first, last)) = vtimezone::years_spanned(mine) {
                zones.push_str(&vtimezone::vtimezone(*zone, first, last));
            }
        }
        let at = text
            .find("BEGIN:VEVENT")
            .or_else(|| text.find("END:VCALENDAR"))
            .unwrap_or(text.len());
        let mut out = String::with_capacity(text.len() + zones.len());
        out.push_str(&text[..at]);
        out.push_str(&zones);
        out.push_str(&text[at..]);
        refold(&out)
    }
}

/// `text` as an RFC 5545 TEXT value (§3.3.11): backslash, `;`, `,` and newlines escaped.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Content lines at most this long, in octets, including the leading space of a
/// continuation line (RFC 5545 §3.1).
const LINE_OCTETS: usize = 75;

/// `text` (CRLF content lines, possibly folded) unfolded, then folded again so that no line
/// is longer than [`LINE_OCTETS`] and no UTF-8 character is split across lines.
pub(crate) fn refold(text: &str) -> String {
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    let mut out = String::with_capacity(unfolded.len() + unfolded.len() / 24);
    for line in unfolded.split_terminator("\r\n") {
        let mut rest = line;
        let mut room = LINE_OCTETS;
        while rest.len() > room {
            let mut cut = room;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            // Never next to a space: some parsers (the `ical` crate among them) trim each
            // physical line before unfolding, which would eat the space ("Critical path"
            // read back as "Criticalpath"). Back off to the previous non-space boundary.
            let fallback = cut;
            while cut > room / 2
                && (rest[..cut].ends_with([' ', '\t']) || rest[cut..].starts_with([' ', '\t']))
            {
                cut -= 1;
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
            }
            if cut <= room / 2 {
                cut = fallback;
            }
            out.push_str(&rest[..cut]);
            out.push_str("\r\n ");
            rest = &rest[cut..];
            room = LINE_OCTETS - 1;
        }
        out.push_str(rest);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use icalendar::{Component, Event, EventLike};

    #[test]
    fn vtimezones_come_before_the_events_and_only_for_zones_used() {
        let mut feed = Feed::new("Test");
        let london = chrono_tz::Europe::London
            .with_ymd_and_hms(2027, 3, 29, 18, 0, 0)
            .unwrap();
        let start = feed.time(london);
        let mut e = Event::new();
        e.uid("a@tminus").summary("A").starts(start);
        feed.calendar.push(e.done());
        let text = feed.finish();
        assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
        assert!(text.find("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT"));
        assert!(text.contains("DTSTART;TZID=Europe/London:20270329T180000"));
    }

    #[test]
    fn the_second_occurrence_of_a_repeated_hour_is_written_in_utc() {
        let mut feed = Feed::new("Test");
        // 2027-10-31 01:30 happens twice in London; the second is 01:30 GMT = 01:30Z.
        let second = Utc
            .with_ymd_and_hms(2027, 10, 31, 1, 30, 0)
            .unwrap()
            .with_timezone(&chrono_tz::Europe::London);
        assert!(matches!(feed.time(second), CalendarDateTime::Utc(_)));
        let first = Utc
            .with_ymd_and_hms(2027, 10, 31, 0, 30, 0)
            .unwrap()
            .with_timezone(&chrono_tz::Europe::London);
        assert!(matches!(
            feed.time(first),
            CalendarDateTime::WithTimezone { .. }
        ));
    }

    fn lines(text: &str) -> Vec<&str> {
        assert!(text.ends_with("\r\n"));
        assert!(
            !text.replace("\r\n", "").contains(['\r', '\n']),
            "bare CR or LF"
        );
        text.split_terminator("\r\n").collect()
    }

    #[test]
    fn folded_lines_are_at_most_75_octets_counting_the_leading_space() {
        // The crate's own folding leaves the last continuation at 76 octets here.
        let summary = "x".repeat(150 - "SUMMARY:".len());
        let mut e = Event::new();
        e.uid("a@tminus").summary(&summary);
        let mut cal = Calendar::empty();
        cal.push(e.done());
        let crate_text = cal.done().to_string();
        assert!(
            crate_text.split("\r\n").any(|l| l.len() > LINE_OCTETS),
            "the crate folds right now: this test no longer reproduces the bug"
        );
        let text = refold(&crate_text);
        for line in lines(&text) {
            assert!(line.len() <= LINE_OCTETS, "{} octets: {line}", line.len());
        }
        assert_eq!(
            text.replace("\r\n ", ""),
            crate_text.replace("\r\n ", ""),
            "unfolding gives the same lines"
        );
    }

    #[test]
    fn folding_never_leaves_a_space_at_either_side_of_a_fold() {
        // "…\nCritical path" cut after "Critical " was read back as "Criticalpath".
        for pad in 0..20 {
            let line = format!(
                "DESCRIPTION:{}Critical path: no (30m slack) and more words here",
                "x".repeat(50 + pad)
            );
            let text = refold(&format!("{line}\r\n"));
            for physical in text.split("\r\n").filter(|l| !l.is_empty()) {
                assert!(physical.len() <= LINE_OCTETS);
                assert!(!physical.ends_with(' '), "{physical:?}");
                assert!(!physical.starts_with("  "), "{physical:?}");
            }
            assert_eq!(text.replace("\r\n ", ""), format!("{line}\r\n"));
        }
    }

    #[test]
    fn folding_never_splits_a_character() {
        for pad in 0..4 {
            let line = format!("SUMMARY:{}{}", "a".repeat(pad), "é€😀".repeat(40));
            let text = refold(&format!("{line}\r\n"));
            for l in lines(&text) {
                assert!(l.len() <= LINE_OCTETS);
            }
            // Every piece is valid UTF-8 on its own (they are &str), and none is cut short
            // by more than a character's width.
            let pieces = lines(&text);
            for l in &pieces[..pieces.len() - 1] {
                assert!(l.len() > LINE_OCTETS - 4, "{l}");
            }
            assert_eq!(text.replace("\r\n ", ""), format!("{line}\r\n"));
        }
        // Exactly 75 octets stays on one line; 76 is folded.
        let exact = "X".repeat(75);
        assert_eq!(refold(&format!("{exact}\r\n")), format!("{exact}\r\n"));
        let over = "X".repeat(76);
        assert_eq!(
            refold(&format!("{over}\r\n")),
            format!("{}\r\n X\r\n", "X".repeat(75))
        );
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(escape_text("a,b;c\\d\ne\r"), "a\\,b\\;c\\\\d\\ne");
        let text = Feed::new("Go-live, phase 1; \"night\"").finish();
        assert!(
            text.contains("\r\nNAME:Go-live\\, phase 1\\; \"night\"\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nX-WR-CALNAME:Go-live\\, phase 1\\; \"night\"\r\n"));
    }

    #[test]
    fn a_zero_duration_event_has_no_dtend() {
        let mut feed = Feed::new("Test");
        let at = chrono_tz::Europe::London
            .with_ymd_and_hms(2027, 3, 29, 18, 0, 0)
            .unwrap();
        let mut milestone = Event::new();
        milestone.uid("m@tminus");
        feed.span(&mut milestone, at, at);
        feed.calendar.push(milestone.done());
        let mut task = Event::new();
        task.uid("t@tminus");
        feed.span(&mut task, at, at + chrono::Duration::minutes(30));
        feed.calendar.push(task.done());
        let text = feed.finish();
        assert_eq!(text.matches("DTSTART;").count(), 2);
        assert_eq!(text.matches("DTEND;").count(), 1, "{text}");
        assert!(text.contains("DTEND;TZID=Europe/London:20270329T183000"));
        assert!(!text.contains("DURATION"));
    }
}
