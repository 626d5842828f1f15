//! Time zones: reading IANA zone names (with "did you mean" help), and turning a local
//! date and time into an instant, including the daylight-saving gap and overlap rules.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::{Tz, TZ_VARIANTS};

use super::TimeError;

const ZONE_EXAMPLES: &str = "time zones are IANA names such as Europe/London or America/New_York";

/// Parses an IANA time zone name such as `Europe/London`. Names must be spelt exactly; on
/// failure the hint suggests up to three close zone names.
pub fn parse_zone(name: &str) -> Result<Tz, TimeError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TimeError::new("the time zone is empty", ZONE_EXAMPLES));
    }
    if let Ok(zone) = name.parse::<Tz>() {
        return Ok(zone);
    }
    let message = format!("`{name}` is not a known time zone");
    let hint = match suggestions(name)[..] {
        [] => format!("write an IANA name; {ZONE_EXAMPLES}"),
        [only] => format!("did you mean {only}? {ZONE_EXAMPLES}"),
        [ref first @ .., last] => format!(
            "did you mean {} or {last}? {ZONE_EXAMPLES}",
            first.join(", ")
        ),
    };
    Err(TimeError::new(message, hint))
}

/// Up to three zone names close to `name`, closest first, comparing case-insensitively
/// against both the whole name and its last part (`London` finds `Europe/London`); names
/// much further than the closest one are left out.
fn suggestions(name: &str) -> Vec<&'static str> {
    // No zone name is this long; comparing a long text with 600 names would take seconds.
    if name.len() > 64 {
        return Vec::new();
    }
    let wanted = name.to_lowercase().replace(' ', "_");
    let limit = (wanted.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &'static str)> = TZ_VARIANTS
        .iter()
        .map(|zone| {
            let candidate = zone.name().to_lowercase();
            let city = candidate.rsplit('/').next().unwrap_or(&candidate);
            let score = levenshtein(&wanted, &candidate).min(levenshtein(&wanted, city));
            (score, zone.name())
        })
        .filter(|(score, _)| *score <= limit)
        .collect();
    scored.sort_unstable();
    let best = scored.first().map_or(0, |(score, _)| *score);
    scored
        .into_iter()
        .take_while(|(score, _)| *score <= best + 1)
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

/// The number of single-character edits that turn `a` into `b`.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The instant at which `zone` shows the wall-clock time `local`.
///
/// A time that does not exist (the spring-forward gap) moves forward by the gap: it is read
/// with the UTC offset in force just before the gap, so Europe/London 2027-03-28 01:30 is
/// 02:30 BST. An ambiguous time (the fall-back overlap) is the first (earlier) of the two.
pub fn local_to_instant(local: NaiveDateTime, zone: Tz) -> DateTime<Tz> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at,
        LocalResult::Ambiguous(first, second) => first.min(second),
        LocalResult::None => {
            let utc = local
                .checked_sub_signed(offset_before_gap(local, zone))
                .unwrap_or(local);
            zone.from_utc_datetime(&utc)
        }
    }
}

/// The UTC offset in force just before the gap that holds `local`: the offset of the
/// nearest earlier valid wall-clock time, probing back in quarter hours for up to a day
/// and a half (the longest gap on record is a whole day).
fn offset_before_gap(local: NaiveDateTime, zone: Tz) -> Duration {
    let offset_of =
        |at: DateTime<Tz>| Duration::seconds(at.offset().fix().local_minus_utc().into());
    for quarters in 1..=36 * 4 {
        let Some(probe) = local.checked_sub_signed(Duration::minutes(15 * quarters)) else {
            break;
        };
        match zone.from_local_datetime(&probe) {
            LocalResult::Single(at) | LocalResult::Ambiguous(_, at) => return offset_of(at),
            LocalResult::None => continue,
        }
    }
    offset_of(zone.from_utc_datetime(&local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use chrono_tz::{America, Europe, Pacific};

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, 0))
            .expect("valid test date")
    }

    fn rfc3339(at: DateTime<Tz>) -> String {
        at.to_rfc3339()
    }

    #[test]
    fn parses_iana_names() {
        assert_eq!(parse_zone("Europe/London"), Ok(Europe::London));
        assert_eq!(parse_zone(" America/New_York "), Ok(America::New_York));
        assert_eq!(parse_zone("UTC"), Ok(Tz::UTC));
    }

    #[test]
    fn suggests_close_names() {
        let error = parse_zone("Europe/Londn").expect_err("misspelt");
        assert_eq!(error.message, "`Europe/Londn` is not a known time zone");
        assert!(
            error.hint.starts_with("did you mean Europe/London"),
            "{}",
            error.hint
        );
        let hint = parse_zone("europe/london").expect_err("wrong case").hint;
        assert!(hint.starts_with("did you mean Europe/London?"), "{hint}");
        let hint = parse_zone("New York").expect_err("city only").hint;
        assert!(hint.starts_with("did you mean America/New_York"), "{hint}");
        let hint = parse_zone("Europe/Pari").expect_err("misspelt").hint;
        assert!(hint.contains("Europe/Paris"), "{hint}");
        assert!(
            hint.matches('/').count() <= 3 + 2,
            "at most three suggestions: {hint}"
        );
    }

    #[test]
    fn without_close_names_the_hint_gives_examples() {
        let error = parse_zone("Pacific Standard Time Zone").expect_err("not IANA");
        assert!(
            error.hint.starts_with("write an IANA name"),
            "{}",
            error.hint
        );
        assert_eq!(
            parse_zone("  ").expect_err("empty").message,
            "the time zone is empty"
        );
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn ordinary_times_are_unchanged() {
        let at = local_to_instant(local(2027, 1, 15, 9, 0), Europe::London);
        assert_eq!(rfc3339(at), "2027-01-15T09:00:00+00:00");
    }

    #[test]
    fn gap_times_move_forward_by_the_gap() {
        let london = local_to_instant(local(2027, 3, 28, 1, 30), Europe::London);
        assert_eq!(rfc3339(london), "2027-03-28T02:30:00+01:00");
        let new_york = local_to_instant(local(2027, 3, 14, 2, 0), America::New_York);
        assert_eq!(rfc3339(new_york), "2027-03-14T03:00:00-04:00");
        let new_york = local_to_instant(local(2027, 3, 14, 2, 59), America::New_York);
        assert_eq!(rfc3339(new_york), "2027-03-14T03:59:00-04:00");
    }

    #[test]
    fn a_skipped_whole_day_moves_forward_by_a_day() {
        // Samoa skipped 30 December 2011, moving from UTC-10 to UTC+14.
        let at = local_to_instant(local(2011, 12, 30, 12, 0), Pacific::Apia);
        assert_eq!(rfc3339(at), "2011-12-31T12:00:00+14:00");
    }

    #[test]
    fn ambiguous_times_take_the_first() {
        let london = local_to_instant(local(2027, 10, 31, 1, 30), Europe::London);
        assert_eq!(rfc3339(london), "2027-10-31T01:30:00+01:00");
        let new_york = local_to_instant(local(2027, 11, 7, 1, 30), America::New_York);
        assert_eq!(rfc3339(new_york), "2027-11-07T01:30:00-04:00");
    }
}
