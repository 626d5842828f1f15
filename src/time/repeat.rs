//! Repeats (`repeat: { every: 15m, until: T+12h }` on a message, SPEC §4): how often, as
//! [`Every`], and the instants of the occurrences, as [`occurrences`].
//!
//! `every` follows §2: days and weeks keep the wall-clock time of the first occurrence in
//! the zone in force (a 17:30 report stays at 17:30 across a daylight-saving change), hours
//! and minutes are elapsed time (a 15-minute status update stays 15 real minutes apart).

use chrono::{DateTime, Duration};
use chrono_tz::Tz;

use super::duration::{describe, split_amounts, total_seconds, Unit};
use super::zone::local_to_instant;
use super::TimeError;

const EVERY_HINT: &str = "write `every` as 15m, 1h, 1h30m, 1d or 1w";

/// The most occurrences one repeating message may have (per wave and zone): beyond it the
/// schedule is almost certainly a mistake (`every: 1m` for a year).
pub const MAX_OCCURRENCES: usize = 10_000;

/// How far apart occurrences are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// Calendar days (a week is seven) at the same wall-clock time.
    Days(i64),
    /// Elapsed time.
    Elapsed(Duration),
}

/// Parses `every`: `15m`, `1h30m`, `1d`, `2w`; not zero, no business days, and days or
/// weeks not mixed with hours or minutes.
pub fn parse_every(text: &str) -> Result<Every, TimeError> {
    let text = text.trim();
    if text.starts_with(['-', '+']) {
        let message = format!("`{text}` has a sign; `every` is a length of time");
        return Err(TimeError::new(message, EVERY_HINT));
    }
    let amounts =
        split_amounts(text).map_err(|p| TimeError::new(describe(&p, text), EVERY_HINT))?;
    if amounts.iter().any(|a| a.unit == Unit::BusinessDay) {
        let message = format!("`{text}` counts business days; repeat every day or week instead");
        return Err(TimeError::new(message, EVERY_HINT));
    }
    let calendar = amounts
        .iter()
        .any(|a| matches!(a.unit, Unit::Week | Unit::Day));
    let elapsed = amounts.iter().any(|a| a.unit >= Unit::Hour);
    let seconds = total_seconds(&amounts);
    if seconds == 0 {
        let message = format!("`{text}` is zero: the message would repeat without end");
        return Err(TimeError::new(message, EVERY_HINT));
    }
    match (calendar, elapsed) {
        (true, true) => Err(TimeError::new(
            format!("`{text}` mixes days or weeks with hours or minutes"),
            "days and weeks keep the time of day, hours and minutes are elapsed time: write 1d or 25h",
        )),
        (true, false) => Ok(Every::Days(seconds / Unit::Day.seconds())),
        (false, _) => Ok(Every::Elapsed(Duration::seconds(seconds))),
    }
}

/// The occurrences from `first` up to and including `until`, at most `limit` of them; the
/// first is always there. `None` when there would be more than `limit`.
pub fn occurrences(
    first: DateTime<Tz>,
    every: Every,
    until: DateTime<Tz>,
    limit: usize,
) -> Option<Vec<DateTime<Tz>>> {
    let zone = first.timezone();
    let local = first.naive_local();
    let mut out = vec![first];
    for k in 1i64.. {
        let next = match every {
            Every::Days(days) => {
                let Some(date) = local
                    .date()
                    .checked_add_signed(Duration::days(days.checked_mul(k)?))
                else {
                    break;
                };
                local_to_instant(date.and_time(local.time()), zone)
            }
            Every::Elapsed(d) => match first.checked_add_signed(d.checked_mul(k as i32)?) {
                Some(t) => t,
                None => break,
            },
        };
        if next > until {
            break;
        }
        if out.len() == limit {
            return None;
        }
        out.push(next);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn london(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Tz> {
        local_to_instant(
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap(),
            chrono_tz::Europe::London,
        )
    }

    #[test]
    fn every_parses_calendar_and_elapsed() {
        assert_eq!(parse_every("1d"), Ok(Every::Days(1)));
        assert_eq!(parse_every("2w"), Ok(Every::Days(14)));
        assert_eq!(
            parse_every("1h30m"),
            Ok(Every::Elapsed(Duration::minutes(90)))
        );
        for bad in ["", "0m", "1d2h", "-15m", "2bd", "15x", "1.5h"] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
    }

    /// Every 15 minutes across the spring-forward night in London (Sunday 28 March 2027,
    /// 01:00 GMT → 02:00 BST): 00:30, 00:45 GMT, then 02:00 BST (= 01:00 UTC), 02:15 BST …
    /// elapsed time, so four occurrences an hour, with no gap in UTC.
    #[test]
    fn fifteen_minutes_across_spring_forward_are_elapsed() {
        let first = london(2027, 3, 28, 0, 30);
        let until = london(2027, 3, 28, 2, 30);
        let got = occurrences(first, Every::Elapsed(Duration::minutes(15)), until, 100).unwrap();
        let local: Vec<String> = got
            .iter()
            .map(|t| t.format("%H:%M %Z").to_string())
            .collect();
        // 00:30 → 02:30 local is only one real hour: 5 occurrences.
        assert_eq!(
            local,
            [
                "00:30 GMT",
                "00:45 GMT",
                "02:00 BST",
                "02:15 BST",
                "02:30 BST"
            ]
        );
        assert_eq!(
            got[2].with_timezone(&Utc),
            Utc.with_ymd_and_hms(2027, 3, 28, 1, 0, 0).unwrap()
        );
    }

    /// Every day at 17:30 across the change keeps 17:30 local: 17:30 GMT (17:30 UTC) on
    /// Saturday, 17:30 BST (16:30 UTC) on Sunday and Monday.
    #[test]
    fn daily_keeps_the_wall_clock_across_the_change() {
        let first = london(2027, 3, 27, 17, 30);
        let until = london(2027, 3, 29, 23, 0);
        let got = occurrences(first, Every::Days(1), until, 100).unwrap();
        let utc: Vec<String> = got
            .iter()
            .map(|t| t.with_timezone(&Utc).format("%d %H:%M").to_string())
            .collect();
        assert_eq!(utc, ["27 17:30", "28 16:30", "29 16:30"]);
        assert!(got.iter().all(|t| t.format("%H:%M").to_string() == "17:30"));
    }

    #[test]
    fn until_before_the_first_gives_one_and_too_many_gives_none() {
        let first = london(2027, 3, 27, 17, 30);
        let once = occurrences(first, Every::Days(1), first - Duration::hours(1), 5).unwrap();
        assert_eq!(once, [first]);
        let exactly = occurrences(first, Every::Days(1), london(2027, 3, 31, 17, 30), 5);
        assert_eq!(exactly.unwrap().len(), 5);
        assert!(occurrences(first, Every::Days(1), london(2027, 4, 1, 17, 30), 5).is_none());
    }
}
