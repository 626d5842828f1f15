//! `VTIMEZONE` components (RFC 5545 §3.6.5) made from the IANA database in `chrono-tz`.
//!
//! Events are written with `DTSTART;TZID=Europe/London:…`, so calendar apps show them at
//! the planned wall-clock time even if their own zone rules differ; RFC 5545 requires a
//! `VTIMEZONE` for every TZID used. Outlook in particular ignores an unknown TZID without one.
//!
//! Rather than recurrence rules (which cannot express every zone's history), each
//! component lists the transitions that actually happen in the years covered, one
//! `STANDARD`/`DAYLIGHT` sub-component per transition, plus the offset in force at the
//! start. Transitions are found by scanning the range a day at a time and bisecting to the
//! second; zones change offset at most a few times a year, so this is cheap.
//!
//! Self-contained on purpose (no dependency on the rest of `site::calendar`), so it can be
//! merged with another VTIMEZONE generator.

use chrono::{DateTime, Datelike, Duration, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// The `VTIMEZONE` block for `tz`, covering the calendar years from `from` to `to`
/// (inclusive), lines ending in CRLF.
pub fn vtimezone(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let start = Utc
        .with_ymd_and_hms(from.year(), 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let end = Utc
        .with_ymd_and_hms(to.year() + 1, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push_str("\r\n");
    };
    line("BEGIN:VTIMEZONE");
    line(&format!("TZID:{}", tz.name()));
    // The offset in force at the start of the range, as a first observance.
    let first = tz.offset_from_utc_datetime(&start.naive_utc());
    let first_secs = first.fix().local_minus_utc();
    let mut prev_secs = first_secs;
    let mut components = vec![observance(
        &first,
        (start + Duration::seconds(i64::from(first_secs))).naive_utc(),
        first_secs,
        first_secs,
    )];
    for at in transitions(tz, start, end) {
        let offset = tz.offset_from_utc_datetime(&at.naive_utc());
        let secs = offset.fix().local_minus_utc();
        // DTSTART is the local time of the onset, in the offset in force before it.
        let local = (at + Duration::seconds(i64::from(prev_secs))).naive_utc();
        components.push(observance(&offset, local, prev_secs, secs));
        prev_secs = secs;
    }
    for c in components {
        for l in c {
            line(&l);
        }
    }
    line("END:VTIMEZONE");
    out
}

fn observance(
    offset: &<Tz as TimeZone>::Offset,
    local_start: chrono::NaiveDateTime,
    from_secs: i32,
    to_secs: i32,
) -> Vec<String> {
    let kind = if offset.dst_offset().is_zero() {
        "STANDARD"
    } else {
        "DAYLIGHT"
    };
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        format!("DTSTART:{}", local_start.format("%Y%m%dT%H%M%S")),
        format!("TZOFFSETFROM:{}", ical_offset(from_secs)),
        format!("TZOFFSETTO:{}", ical_offset(to_secs)),
    ];
    if let Some(name) = offset.abbreviation() {
        // Zones without a letter abbreviation use the offset itself ("+04"); skip those.
        if name.chars().all(|c| c.is_ascii_alphabetic()) {
            lines.push(format!("TZNAME:{name}"));
        }
    }
    lines.push(format!("END:{kind}"));
    lines
}

/// `+0100`, `-0430`, `+054500` (seconds only when not zero).
fn ical_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    let (h, m, s) = (a / 3600, (a % 3600) / 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

/// The UTC instants in `[start, end)` at which `tz` changes its offset or abbreviation.
fn transitions(tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let key = |t: DateTime<Utc>| {
        let o = tz.offset_from_utc_datetime(&t.naive_utc());
        (o.fix().local_minus_utc(), o.dst_offset().num_seconds())
    };
    let mut out = Vec::new();
    let mut t = start;
    let mut k = key(t);
    while t < end {
        let next = (t + Duration::days(1)).min(end);
        let nk = key(next);
        if nk != k {
            // Bisect to the first second with the new offset.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if key(mid) == k {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(hi);
            k = nk;
        }
        t = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn london_2027_has_both_changes() {
        let v = vtimezone(chrono_tz::Europe::London, utc(2027, 2, 1), utc(2027, 3, 30));
        assert!(
            v.starts_with("BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n"),
            "{v}"
        );
        // Clocks go forward at 01:00 GMT on 28 March 2027 and back at 02:00 BST on 31 October.
        assert!(
            v.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270328T010000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nTZNAME:BST\r\nEND:DAYLIGHT"),
            "{v}"
        );
        assert!(
            v.contains("BEGIN:STANDARD\r\nDTSTART:20271031T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nTZNAME:GMT\r\nEND:STANDARD"),
            "{v}"
        );
        assert!(v.ends_with("END:VTIMEZONE\r\n"));
    }

    #[test]
    fn a_zone_without_dst_has_one_standard_observance() {
        let v = vtimezone(chrono_tz::Asia::Tokyo, utc(2027, 1, 1), utc(2027, 12, 1));
        assert_eq!(v.matches("BEGIN:STANDARD").count(), 1, "{v}");
        assert!(!v.contains("DAYLIGHT"));
        assert!(v.contains("TZOFFSETTO:+0900"));
    }

    #[test]
    fn southern_hemisphere_and_half_hours() {
        let v = vtimezone(
            chrono_tz::Australia::Adelaide,
            utc(2027, 1, 1),
            utc(2027, 6, 1),
        );
        assert!(v.contains("TZOFFSETFROM:+1030\r\nTZOFFSETTO:+0930"), "{v}");
        assert!(v.contains("TZOFFSETFROM:+0930\r\nTZOFFSETTO:+1030"), "{v}");
    }
}
