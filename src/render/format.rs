//! How times and durations are shown to people.

use chrono::{DateTime, Duration, Offset, TimeZone};
use serde::Serialize;

use crate::time::stamp::rfc3339;

/// A time for templates: shown in its zone with the UTC offset, plus machine forms.
#[derive(Debug, Clone, Serialize)]
pub struct TimeView {
    /// "Mon 29 Mar 2027, 18:00 BST"
    pub display: String,
    /// "18:00"
    pub time: String,
    /// "Mon 29 Mar"
    pub day: String,
    /// "UTC+01:00"
    pub offset: String,
    /// RFC 3339 with offset.
    pub iso: String,
    /// Milliseconds since the epoch (for countdowns).
    pub epoch_ms: i64,
}

pub fn time_view<Tz: TimeZone>(t: &DateTime<Tz>) -> TimeView
where
    Tz::Offset: std::fmt::Display,
{
    TimeView {
        display: t.format("%a %-d %b %Y, %H:%M %Z").to_string(),
        time: t.format("%H:%M").to_string(),
        day: t.format("%a %-d %b").to_string(),
        offset: utc_offset(t),
        iso: rfc3339(t),
        epoch_ms: t.timestamp_millis(),
    }
}

pub fn utc_offset<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    let secs = t.offset().fix().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    format!("UTC{sign}{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

/// "1h30m" for display in tables; "—" for none.
pub fn duration(d: Option<Duration>) -> String {
    match d {
        Some(d) => crate::time::format_duration(d),
        None => "—".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    #[test]
    fn times_show_zone_and_offset() {
        let t = London.with_ymd_and_hms(2027, 3, 29, 18, 0, 0).unwrap();
        let v = time_view(&t);
        assert_eq!(v.display, "Mon 29 Mar 2027, 18:00 BST");
        assert_eq!(v.offset, "UTC+01:00");
        assert_eq!(v.iso, "2027-03-29T18:00:00+01:00");
    }
}
