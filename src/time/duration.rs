//! Durations such as `90m`, `1h30m` or `1d` (task `duration:` fields and policies like
//! `max_lateness: 24h`), and the number-and-unit syntax they share with T-minus offsets.

use std::fmt::Write;

use chrono::Duration;

use super::TimeError;

const DURATION_HINT: &str = "write a duration such as 45m, 90m, 1h30m, 2h or 1d";

/// The largest amount accepted in any duration or offset: one hundred years, in days.
pub(crate) const MAX_DAYS: i64 = 36_525;

const SECONDS_PER_DAY: i64 = 86_400;

/// A unit of an amount, ordered from the largest to the smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Unit {
    Week,
    Day,
    BusinessDay,
    Hour,
    Minute,
    Second,
}

impl Unit {
    fn from_suffix(suffix: &str) -> Option<Unit> {
        match suffix {
            "w" => Some(Unit::Week),
            "d" => Some(Unit::Day),
            "bd" => Some(Unit::BusinessDay),
            "h" => Some(Unit::Hour),
            "m" => Some(Unit::Minute),
            "s" => Some(Unit::Second),
            _ => None,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Unit::Week => "w",
            Unit::Day => "d",
            Unit::BusinessDay => "bd",
            Unit::Hour => "h",
            Unit::Minute => "m",
            Unit::Second => "s",
        }
    }

    /// Length in seconds; a business day counts as a day.
    pub(crate) fn seconds(self) -> i64 {
        match self {
            Unit::Week => 7 * SECONDS_PER_DAY,
            Unit::Day | Unit::BusinessDay => SECONDS_PER_DAY,
            Unit::Hour => 3_600,
            Unit::Minute => 60,
            Unit::Second => 1,
        }
    }
}

/// One number-and-unit pair, such as the `30m` of `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Amount {
    pub(crate) value: i64,
    pub(crate) unit: Unit,
}

/// What is wrong with a run of amounts; turned into a message by [`describe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UnitProblem {
    Empty,
    MissingNumber(String),
    MissingUnit(String),
    Fraction,
    UnknownUnit(String),
    OutOfOrder,
    Unexpected(char),
    TooLarge,
}

/// Splits text such as `1h30m` into amounts, largest unit first, each unit at most once.
pub(crate) fn split_amounts(text: &str) -> Result<Vec<Amount>, UnitProblem> {
    if text.is_empty() {
        return Err(UnitProblem::Empty);
    }
    let mut amounts: Vec<Amount> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let digits = leading(rest, |c| c.is_ascii_digit());
        rest = &rest[digits.len()..];
        let letters = leading(rest, |c| c.is_ascii_alphabetic());
        rest = &rest[letters.len()..];
        if digits.is_empty() && letters.is_empty() {
            let next = rest.chars().next();
            return Err(next.map_or(UnitProblem::Empty, UnitProblem::Unexpected));
        }
        if digits.is_empty() {
            return Err(UnitProblem::MissingNumber(letters.to_string()));
        }
        if letters.is_empty() {
            return Err(match rest.chars().next() {
                Some('.' | ',') => UnitProblem::Fraction,
                Some(c) => UnitProblem::Unexpected(c),
                None => UnitProblem::MissingUnit(digits.to_string()),
            });
        }
        let unit = Unit::from_suffix(letters)
            .ok_or_else(|| UnitProblem::UnknownUnit(letters.to_string()))?;
        let value = digits
            .parse::<i64>()
            .ok()
            .filter(|value| *value <= MAX_DAYS * SECONDS_PER_DAY)
            .ok_or(UnitProblem::TooLarge)?;
        if amounts.last().is_some_and(|last| last.unit >= unit) {
            return Err(UnitProblem::OutOfOrder);
        }
        amounts.push(Amount { value, unit });
    }
    Ok(amounts)
}

fn leading(text: &str, accept: impl Fn(char) -> bool) -> &str {
    let end = text.find(|c: char| !accept(c)).unwrap_or(text.len());
    &text[..end]
}

/// The sentence for a [`UnitProblem`] found in `text`.
pub(crate) fn describe(problem: &UnitProblem, text: &str) -> String {
    match problem {
        UnitProblem::Empty => format!("`{text}` has no amount"),
        UnitProblem::MissingNumber(unit) => {
            format!("`{text}` has no number before the unit `{unit}`")
        }
        UnitProblem::MissingUnit(number) => format!("`{text}` has no unit after {number}"),
        UnitProblem::Fraction => format!("`{text}` has a fraction; amounts are whole numbers"),
        UnitProblem::UnknownUnit(unit) => format!("`{text}` has an unknown unit `{unit}`"),
        UnitProblem::OutOfOrder => format!(
            "`{text}` repeats a unit or lists units out of order; write the largest first, as in 1h30m"
        ),
        UnitProblem::Unexpected(' ') => format!("`{text}` has a space inside"),
        UnitProblem::Unexpected(c) => format!("`{text}` has an unexpected `{c}`"),
        UnitProblem::TooLarge => format!("`{text}` is longer than 100 years"),
    }
}

/// Total length in seconds of amounts that hold no business days.
pub(crate) fn total_seconds(amounts: &[Amount]) -> i64 {
    amounts
        .iter()
        .map(|amount| amount.value * amount.unit.seconds())
        .sum()
}

/// Parses a duration such as `90m`, `1h30m`, `2h`, `1d`, `1w` or `1d2h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, TimeError> {
    if text.is_empty() {
        return Err(TimeError::new("the duration is empty", DURATION_HINT));
    }
    if text.starts_with(['-', '+']) {
        let message = format!("`{text}` has a sign; a duration is a length of time");
        return Err(TimeError::new(message, DURATION_HINT));
    }
    let amounts = split_amounts(text)
        .map_err(|problem| TimeError::new(describe(&problem, text), DURATION_HINT))?;
    if amounts
        .iter()
        .any(|amount| amount.unit == Unit::BusinessDay)
    {
        let message = format!("`{text}` counts business days, which have no fixed length");
        return Err(TimeError::new(message, DURATION_HINT));
    }
    let seconds = total_seconds(&amounts);
    if seconds > MAX_DAYS * SECONDS_PER_DAY {
        let message = describe(&UnitProblem::TooLarge, text);
        return Err(TimeError::new(message, DURATION_HINT));
    }
    Ok(Duration::seconds(seconds))
}

/// Writes a duration for display: `1h30m`, `2h`, `1d`, `45m`, `0m`; negative as `-1h`.
/// Parts smaller than a second are left out.
pub fn format_duration(d: Duration) -> String {
    let seconds = d.num_seconds();
    let sign = if seconds < 0 { "-" } else { "" };
    format!("{sign}{}", write_units(seconds.unsigned_abs(), Unit::Day))
}

/// Writes a length in seconds with units from `largest` down to seconds; zero is `0m`.
pub(crate) fn write_units(mut seconds: u64, largest: Unit) -> String {
    if seconds == 0 {
        return "0m".to_string();
    }
    let mut out = String::new();
    for unit in [Unit::Day, Unit::Hour, Unit::Minute, Unit::Second] {
        let size = unit.seconds().unsigned_abs();
        if unit < largest || seconds < size {
            continue;
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{}{}", seconds / size, unit.suffix());
        seconds %= size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_written_form() {
        let cases = [
            ("90m", 90 * 60),
            ("1h30m", 90 * 60),
            ("2h", 7_200),
            ("1d", 86_400),
            ("1w", 604_800),
            ("45s", 45),
            ("1d2h30m", 86_400 + 9_000),
            ("1w1d1h1m1s", 694_861),
            ("0m", 0),
            ("24h", 86_400),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::seconds(seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_bad_durations_with_specific_messages() {
        let cases = [
            ("", "the duration is empty"),
            ("-1h", "`-1h` has a sign"),
            ("+1h", "`+1h` has a sign"),
            ("1h 30m", "`1h 30m` has a space inside"),
            ("90", "`90` has no unit after 90"),
            ("h", "`h` has no number before the unit `h`"),
            ("1.5h", "`1.5h` has a fraction"),
            ("3x", "`3x` has an unknown unit `x`"),
            (
                "30m1h",
                "`30m1h` repeats a unit or lists units out of order",
            ),
            ("1h1h", "`1h1h` repeats a unit"),
            ("2bd", "`2bd` counts business days"),
            ("99999999999999999999d", "is longer than 100 years"),
            ("36526d", "`36526d` is longer than 100 years"),
            ("1h!", "`1h!` has an unexpected `!`"),
        ];
        for (text, expected) in cases {
            let error = parse_duration(text).expect_err(text);
            assert!(
                error.message.contains(expected),
                "{text}: {}",
                error.message
            );
            assert_eq!(error.hint, DURATION_HINT);
        }
    }

    #[test]
    fn formats_for_display() {
        let cases = [
            (90 * 60, "1h30m"),
            (7_200, "2h"),
            (86_400, "1d"),
            (45 * 60, "45m"),
            (0, "0m"),
            (-3_600, "-1h"),
            (604_800, "7d"),
            (86_400 + 9_045, "1d2h30m45s"),
        ];
        for (seconds, text) in cases {
            assert_eq!(format_duration(Duration::seconds(seconds)), text);
        }
        assert_eq!(format_duration(Duration::milliseconds(61_500)), "1m1s");
    }

    #[test]
    fn hours_only_writing_for_exact_offsets() {
        assert_eq!(write_units(2 * 86_400 + 60, Unit::Hour), "48h1m");
    }
}
