//! iCalendar (RFC 5545) feeds: `training/sessions.ics`, `cutover/cutover.ics` and one
//! `cutover/<role>.ics` per task owner.
//!
//! Events are built with the `icalendar` crate. Every time is written as local time with
//! `TZID=<zone>`, and each zone used gets a VTIMEZONE generated from chrono-tz
//! ([`vtimezone`]) — spliced in as text, because `icalendar` adds DTSTAMP and UID to every
//! component it writes, which a VTIMEZONE must not have.

pub mod cutover;
pub mod sessions;
pub mod vtimezone;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, CalendarDateTime};

pub use cutover::{cutover_feeds, previous_tasks, sequences, PreviousTask};
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
        ] {
            calendar.append_property(icalendar::Property::new(key, value));
        }
        calendar.name(name);
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

    /// The calendar text, with a VTIMEZONE for each zone used, covering the years spanned.
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
        out
    }
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
}
