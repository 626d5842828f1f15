//! T-minus offsets: the [`TimeSpec`] written as `T-14d 09:00`, `T-90m`, `T+2bd` or
//! `2027-03-15 18:00` — how it is parsed, written back, and resolved to an instant.

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

use super::duration::{describe, split_amounts, total_seconds, write_units, Unit, MAX_DAYS};
use super::zone::local_to_instant;
use super::TimeError;

const OFFSET_HINT: &str =
    "write T-14d, T-2w, T-5bd, T-90m, T-1h30m, T-2d 09:00 or 2027-03-15 18:00";
const CLOCK_HINT: &str =
    "write the time of day as HH:MM or HH:MM:SS on the 24-hour clock, e.g. 09:00 or 18:30";
const DATE_HINT: &str = "write an absolute time as YYYY-MM-DD HH:MM, e.g. 2027-03-15 18:00";

/// When something happens: an absolute local time, or an offset from T-0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// A local date and time in the zone in force: `2027-03-15 18:00`.
    Absolute(NaiveDateTime),
    /// Calendar days (weeks count as seven) from T-0's local date, at `at` or at T-0's
    /// wall-clock time: `T-14d`, `T-2w 09:00`.
    Days { days: i64, at: Option<NaiveTime> },
    /// Business days (Monday to Friday) from T-0's local date: `T-5bd 09:00`.
    BusinessDays { days: i64, at: Option<NaiveTime> },
    /// Elapsed time from T-0: `T-0`, `T-90m`, `T+4h`.
    Exact(Duration),
}

/// Parses a written time: a T-minus offset or an absolute local time.
pub fn parse_time_spec(text: &str) -> Result<TimeSpec, TimeError> {
    let text = text.trim();
    let mut words = text.split_whitespace();
    let Some(first) = words.next() else {
        return Err(TimeError::new("the time is empty", OFFSET_HINT));
    };
    let clock = words.next();
    if let Some(extra) = words.next() {
        let message = format!("`{text}` has unexpected text `{extra}` after the time of day");
        return Err(TimeError::new(message, OFFSET_HINT));
    }
    if first.starts_with(|c: char| c.is_ascii_digit()) {
        return parse_absolute(text, first, clock);
    }
    match first.strip_prefix('T') {
        Some(rest) => parse_offset(text, rest, clock),
        None => Err(not_a_time(text)),
    }
}

fn error(message: String) -> TimeError {
    TimeError::new(message, OFFSET_HINT)
}

fn not_a_time(text: &str) -> TimeError {
    error(format!(
        "`{text}` is not a T-minus offset or a date and time"
    ))
}

fn parse_absolute(text: &str, first: &str, clock: Option<&str>) -> Result<TimeSpec, TimeError> {
    let (date, time) = match (first.split_once('T'), clock) {
        (Some((date, time)), None) if !time.is_empty() => (date, time),
        (None, Some(time)) => (first, time),
        (Some(_), Some(extra)) => {
            let message = format!("`{text}` has unexpected text `{extra}` after the time of day");
            return Err(TimeError::new(message, DATE_HINT));
        }
        _ => {
            let message = format!("`{text}` has no time of day");
            return Err(TimeError::new(message, DATE_HINT));
        }
    };
    let date = parse_date(date)?;
    Ok(TimeSpec::Absolute(date.and_time(parse_clock(time)?)))
}

/// Parses `YYYY-MM-DD`, digits exactly so.
fn parse_date(text: &str) -> Result<NaiveDate, TimeError> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let field = |range| {
        text.get(range)
            .and_then(|digits: &str| digits.parse::<u32>().ok())
    };
    let date = match (field(0..4), field(5..7), field(8..10)) {
        (Some(year), Some(month), Some(day)) if shaped => {
            NaiveDate::from_ymd_opt(year as i32, month, day)
        }
        _ => None,
    };
    date.ok_or_else(|| TimeError::new(format!("{text} is not a date"), DATE_HINT))
}

/// Parses `HH:MM` or `HH:MM:SS` on the 24-hour clock, two digits each.
fn parse_clock(text: &str) -> Result<NaiveTime, TimeError> {
    let parts: Vec<&str> = text.split(':').collect();
    let two_digits = |part: &&str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    let time = if (2..=3).contains(&parts.len()) && parts.iter().all(two_digits) {
        let number = |i: usize| {
            parts
                .get(i)
                .map_or(Some(0), |part| part.parse::<u32>().ok())
        };
        match (number(0), number(1), number(2)) {
            (Some(h), Some(m), Some(s)) => NaiveTime::from_hms_opt(h, m, s),
            _ => None,
        }
    } else {
        None
    };
    time.ok_or_else(|| TimeError::new(format!("{text} is not a time of day"), CLOCK_HINT))
}

/// Parses what follows the `T` of an offset: a sign, amounts, and an optional time of day.
fn parse_offset(text: &str, rest: &str, clock: Option<&str>) -> Result<TimeSpec, TimeError> {
    let (sign, body) = match rest.chars().next() {
        Some('-') => (-1, &rest[1..]),
        Some('+') => (1, &rest[1..]),
        Some(c) if c.is_ascii_digit() => {
            let before_or_after = format!("T-{rest} for before T-0, T+{rest} for after");
            return Err(error(format!("`{text}` needs a sign: {before_or_after}")));
        }
        None => {
            return Err(error(format!(
                "`{text}` needs a sign and an amount, as in T-14d"
            )))
        }
        Some(_) => return Err(not_a_time(text)),
    };
    if body.is_empty() {
        return Err(error(format!("`{text}` has no amount after the sign")));
    }
    let at = clock.map(parse_clock).transpose()?;
    if body.bytes().all(|b| b == b'0') {
        return Ok(match at {
            None => TimeSpec::Exact(Duration::zero()),
            Some(_) => TimeSpec::Days { days: 0, at },
        });
    }
    let amounts = split_amounts(body).map_err(|problem| error(describe(&problem, text)))?;
    let seconds = total_seconds(&amounts);
    if seconds > MAX_DAYS * Unit::Day.seconds() {
        return Err(error(format!("`{text}` is more than 100 years from T-0")));
    }
    let days = sign * seconds / Unit::Day.seconds();
    let has = |wanted: fn(Unit) -> bool| amounts.iter().any(|amount| wanted(amount.unit));
    let business = has(|unit| unit == Unit::BusinessDay);
    let calendar = has(|unit| matches!(unit, Unit::Week | Unit::Day));
    let elapsed = has(|unit| unit >= Unit::Hour);
    match (business, calendar, elapsed) {
        (true, false, false) => Ok(TimeSpec::BusinessDays { days, at }),
        (true, _, _) => Err(error(format!(
            "`{text}` mixes business days with other units"
        ))),
        (false, true, false) => Ok(TimeSpec::Days { days, at }),
        (false, true, true) => Err(TimeError::new(
            format!("`{text}` mixes calendar days with hours, minutes or seconds"),
            "write whole days with a time of day, as in T-1d 16:00, or hours, as in T-26h",
        )),
        (false, false, _) if at.is_some() => Err(TimeError::new(
            format!("`{text}` is an exact duration and cannot take a time of day"),
            "give a time of day only to days, weeks or business days, as in T-2d 09:00",
        )),
        (false, false, _) => Ok(TimeSpec::Exact(Duration::seconds(sign * seconds))),
    }
}

impl TimeSpec {
    /// Resolve against T-0 in the zone in force. Returns the instant expressed in `zone`.
    ///
    /// Day arithmetic works on local dates of `zone` (T-0 converted into it first); exact
    /// durations are elapsed time. Local times in a gap or an overlap follow
    /// [`local_to_instant`]. Results beyond chrono's range are clamped to its ends.
    pub fn resolve(&self, t0: DateTime<Utc>, zone: Tz) -> DateTime<Tz> {
        let local_t0 = t0.with_timezone(&zone).naive_local();
        let on = |date: NaiveDate, at: Option<NaiveTime>| {
            local_to_instant(date.and_time(at.unwrap_or(local_t0.time())), zone)
        };
        match *self {
            TimeSpec::Absolute(local) => local_to_instant(local, zone),
            TimeSpec::Days { days, at } => on(add_days(local_t0.date(), days), at),
            TimeSpec::BusinessDays { days, at } => on(add_business_days(local_t0.date(), days), at),
            TimeSpec::Exact(d) => {
                let end = if d < Duration::zero() {
                    DateTime::<Utc>::MIN_UTC
                } else {
                    DateTime::<Utc>::MAX_UTC
                };
                t0.checked_add_signed(d).unwrap_or(end).with_timezone(&zone)
            }
        }
    }

    /// true when this is an offset from T-0 (false for Absolute).
    pub fn is_relative(&self) -> bool {
        !matches!(self, TimeSpec::Absolute(_))
    }
}

fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    let end = if days < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    };
    date.checked_add_signed(Duration::days(days)).unwrap_or(end)
}

/// Steps one calendar day at a time in the direction of `days`, counting only Monday to
/// Friday, until that many weekdays are counted; the starting date is not counted.
fn add_business_days(mut date: NaiveDate, days: i64) -> NaiveDate {
    let mut left = days.unsigned_abs();
    while left > 0 {
        let next = if days < 0 {
            date.pred_opt()
        } else {
            date.succ_opt()
        };
        let Some(next) = next else { break };
        date = next;
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    date
}

/// A time of day as written: `HH:MM`, or `HH:MM:SS` when the seconds are not zero.
struct Clock(NaiveTime);

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = if self.0.second() == 0 {
            "%H:%M"
        } else {
            "%H:%M:%S"
        };
        write!(f, "{}", self.0.format(format))
    }
}

fn sign(n: i64) -> char {
    if n < 0 {
        '-'
    } else {
        '+'
    }
}

/// The canonical written form: `T-14d 09:00`, `T-1h30m`, `T+0`, `2027-03-15 18:00`.
/// Zero offsets are written with `+`; parts smaller than a second are left out.
impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, unit, at) = match *self {
            TimeSpec::Absolute(local) => {
                let date = local.date().format("%Y-%m-%d");
                return write!(f, "{date} {}", Clock(local.time()));
            }
            TimeSpec::Exact(d) if d.num_seconds() == 0 => return f.write_str("T+0"),
            TimeSpec::Exact(d) => {
                let seconds = d.num_seconds();
                let amount = write_units(seconds.unsigned_abs(), Unit::Hour);
                return write!(f, "T{}{amount}", sign(seconds));
            }
            TimeSpec::Days { days: 0, at } if at.is_some() => (0, "", at),
            TimeSpec::Days { days, at } => (days, "d", at),
            TimeSpec::BusinessDays { days, at } => (days, "bd", at),
        };
        write!(f, "T{}{}{unit}", sign(days), days.unsigned_abs())?;
        match at {
            Some(at) => write!(f, " {}", Clock(at)),
            None => Ok(()),
        }
    }
}
