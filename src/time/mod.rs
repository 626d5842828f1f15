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
