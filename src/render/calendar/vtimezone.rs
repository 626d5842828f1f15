//! VTIMEZONE components (RFC 5545 §3.6.5) generated from the IANA rules compiled into
//! chrono-tz, so a calendar app shows `DTSTART;TZID=Europe/London:…` at the right instant
//! even when it does not know the zone itself (or knows an older rule).
//!
//! No maintained crate turns chrono-tz zones into VTIMEZONE text, and chrono-tz does not
//! expose its transition table, so the transitions are found by probing: the offset is read
//! once a day over the years spanned, and every change is narrowed down to the second by
//! bisection. Each component starts with an observance at the start of the range (the rule
//! in force then) followed by one STANDARD or DAYLIGHT observance per transition.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// The rule in force at one instant: total UTC offset (seconds), whether it is daylight
/// time, and its abbreviation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    offset: i32,
    daylight: bool,
    name: Option<String>,
}

fn rule_at(zone: Tz, at: DateTime<Utc>) -> Rule {
    let o = zone.offset_from_utc_datetime(&at.naive_utc());
    Rule {
        offset: o.fix().local_minus_utc(),
        daylight: o.dst_offset() != Duration::zero(),
        name: o.abbreviation().map(str::to_string),
    }
}

/// One observance: from `onset` (a UTC instant) the zone follows `to`, having followed
/// `from` until then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub onset: DateTime<Utc>,
    pub from: i32,
    pub to: i32,
    pub daylight: bool,
    pub name: Option<String>,
}

/// Every change of rule of `zone` from the start of `first_year` to the end of `last_year`
/// (in UTC), preceded by the rule in force at the start.
pub fn transitions(zone: Tz, first_year: i32, last_year: i32) -> Vec<Transition> {
    let year_start =
        |y: i32| Utc.from_utc_datetime(&NaiveDate::from_ymd_opt(y, 1, 1).unwrap().into());
    let start = year_start(first_year);
    let end = year_start(last_year + 1);
    let initial = rule_at(zone, start);
    let mut out = vec![Transition {
        onset: start,
        from: initial.offset,
        to: initial.offset,
        daylight: initial.daylight,
        name: initial.name.clone(),
    }];
    let mut at = start;
    let mut rule = initial;
    while at < end {
        let next = (at + Duration::days(1)).min(end);
        let next_rule = rule_at(zone, next);
        if next_rule != rule {
            // Bisect: `lo` follows `rule`, `hi` follows the new one.
            // Whole seconds: transitions are on whole seconds (in practice, minutes).
            let (mut lo, mut hi) = (at.timestamp(), next.timestamp());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let probe = DateTime::from_timestamp(mid, 0).unwrap_or(at);
                if rule_at(zone, probe) == rule {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let hi = DateTime::from_timestamp(hi, 0).unwrap_or(next);
            let after = rule_at(zone, hi);
            out.push(Transition {
                onset: hi,
                from: rule.offset,
                to: after.offset,
                daylight: after.daylight,
                name: after.name.clone(),
            });
            rule = after;
            // A second change within the same day is picked up by the next probe.
            at = hi;
            continue;
        }
        at = next;
        rule = next_rule;
    }
    out
}

/// `+0100`, `-0500`, `+0530` (seconds only when there are any).
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// The VTIMEZONE component of `zone` covering `first_year..=last_year`, with CRLF line ends.
pub fn vtimezone(zone: Tz, first_year: i32, last_year: i32) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(text);
        out.push_str("\r\n");
    };
    line("BEGIN:VTIMEZONE");
    line(&format!("TZID:{}", zone.name()));
    line(&format!("X-LIC-LOCATION:{}", zone.name()));
    for t in transitions(zone, first_year, last_year) {
        let kind = if t.daylight { "DAYLIGHT" } else { "STANDARD" };
        // DTSTART of an observance is the local time of its onset in the offset before it.
        let local = (t.onset + Duration::seconds(t.from.into())).naive_utc();
        line(&format!("BEGIN:{kind}"));
        line(&format!("DTSTART:{}", local.format("%Y%m%dT%H%M%S")));
        line(&format!("TZOFFSETFROM:{}", utc_offset(t.from)));
        line(&format!("TZOFFSETTO:{}", utc_offset(t.to)));
        if let Some(name) = &t.name {
            line(&format!("TZNAME:{name}"));
        }
        line(&format!("END:{kind}"));
    }
    line("END:VTIMEZONE");
    out
}

/// The years (in each instant's own zone) that `instants` span; `None` when empty.
pub fn years_spanned<'a>(
    instants: impl IntoIterator<Item = &'a DateTime<Tz>>,
) -> Option<(i32, i32)> {
    instants.into_iter().fold(None, |acc, t| {
        let y = t.year();
        Some(match acc {
            None => (y, y),
            Some((a, b)) => (a.min(y), b.max(y)),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn london_2027_has_both_changes_at_01_00_utc() {
        let t = transitions(chrono_tz::Europe::London, 2027, 2027);
        assert_eq!(t.len(), 3, "{t:?}");
        assert_eq!((t[0].from, t[0].to, t[0].daylight), (0, 0, false));
        assert_eq!(t[1].onset, utc(2027, 3, 28, 1, 0));
        assert_eq!((t[1].from, t[1].to, t[1].daylight), (0, 3600, true));
        assert_eq!(t[1].name.as_deref(), Some("BST"));
        assert_eq!(t[2].onset, utc(2027, 10, 31, 1, 0));
        assert_eq!((t[2].from, t[2].to, t[2].daylight), (3600, 0, false));
    }

    #[test]
    fn component_text_uses_local_onsets_in_the_previous_offset() {
        let text = vtimezone(chrono_tz::America::New_York, 2027, 2027);
        assert!(text.starts_with("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"));
        // 2027-03-14 02:00 EST → 03:00 EDT; 2027-11-07 02:00 EDT → 01:00 EST.
        assert!(text.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nEND:DAYLIGHT"
        ), "{text}");
        assert!(text.contains(
            "BEGIN:STANDARD\r\nDTSTART:20271107T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nEND:STANDARD"
        ), "{text}");
        assert!(text.ends_with("END:VTIMEZONE\r\n"));
    }

    #[test]
    fn a_zone_without_changes_has_one_observance() {
        let t = transitions(chrono_tz::Asia::Tokyo, 2026, 2028);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].to, 9 * 3600);
        let southern = transitions(chrono_tz::Australia::Sydney, 2027, 2027);
        // Sydney starts the year on daylight time and changes twice.
        assert!(southern[0].daylight);
        assert_eq!(southern.len(), 3);
    }

    #[test]
    fn offsets_are_written_as_rfc5545_utc_offsets() {
        assert_eq!(utc_offset(3600), "+0100");
        assert_eq!(utc_offset(-5 * 3600), "-0500");
        assert_eq!(utc_offset(5 * 3600 + 1800), "+0530");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(-(3600 + 15 * 60 + 14)), "-011514");
    }
}
