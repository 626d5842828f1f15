//! Time: parsing T-minus offsets and durations, and resolving them to instants in a zone.
//!
//! Every date in a project may be written relative to a T-0 (go-live) instant, as in
//! `T-14d 09:00`, `T-90m` or `T+2bd`, or as an absolute local time such as
//! `2027-03-15 18:00`. This module turns that writing into [`TimeSpec`]s and resolves them
//! to instants in the zone in force.

pub mod duration;
pub mod offset;
pub mod repeat;
pub mod stamp;
pub mod zone;

#[cfg(test)]
mod tests;

use std::fmt;

pub use duration::{format_duration, parse_duration};
pub use offset::{parse_time_spec, TimeSpec};
pub use zone::{local_to_instant, parse_zone};

/// An error in written time syntax, meant for people: `message` says what was wrong,
/// `hint` shows what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError {
    pub message: String,
    pub hint: String,
}

impl TimeError {
    pub(crate) fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        TimeError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.hint.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}; {}", self.message, self.hint)
        }
    }
}

impl std::error::Error for TimeError {}

/// The first instant tminus schedules: 1970-01-02 00:00 UTC. Email `Date:` headers and
/// iCalendar stamps cannot be written before 1970, and a day of margin keeps the local
/// date in every zone in 1970 or later.
pub const EARLIEST: chrono::DateTime<chrono::Utc> =
    match chrono::NaiveDate::from_ymd_opt(1970, 1, 2) {
        Some(d) => match d.and_hms_opt(0, 0, 0) {
            Some(at) => at.and_utc(),
            None => chrono::DateTime::<chrono::Utc>::MIN_UTC,
        },
        None => chrono::DateTime::<chrono::Utc>::MIN_UTC,
    };

/// The last instant tminus schedules: 9999-12-30 23:59:59 UTC (years are written with four
/// digits everywhere; a day of margin keeps every zone's local date in 9999).
pub const LATEST: chrono::DateTime<chrono::Utc> =
    match chrono::NaiveDate::from_ymd_opt(9999, 12, 30) {
        Some(d) => match d.and_hms_opt(23, 59, 59) {
            Some(at) => at.and_utc(),
            None => chrono::DateTime::<chrono::Utc>::MAX_UTC,
        },
        None => chrono::DateTime::<chrono::Utc>::MAX_UTC,
    };

/// Checks that `at` (the instant `written` resolved to) is between [`EARLIEST`] and
/// [`LATEST`]: outside them a date is a typo (`0207` for `2027`), and the emails, calendar
/// feeds and pages could not write it.
pub fn check_range<Z: chrono::TimeZone>(
    written: &str,
    at: &chrono::DateTime<Z>,
) -> Result<(), TimeError> {
    let utc = at.with_timezone(&chrono::Utc);
    if (EARLIEST..=LATEST).contains(&utc) {
        return Ok(());
    }
    let side = if utc < EARLIEST {
        "before 1970"
    } else {
        "after the year 9999"
    };
    Err(TimeError::new(
        format!(
            "`{}` falls on {}, {side}: tminus schedules between 1970 and 9999",
            written.trim(),
            utc.format("%Y-%m-%d")
        ),
        "check the year (a digit missing or extra?) and, for an offset, the number of days",
    ))
}
