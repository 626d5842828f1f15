//! Tests of T-minus offsets: parsing, writing back, and resolving across zones and
//! daylight-saving changes (worked by hand for 2027), plus property tests.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::{America, Asia, Australia, Europe, Tz};
use proptest::prelude::*;

use super::*;

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
}

fn naive(text: &str) -> NaiveDateTime {
    let format = if text.len() > 16 {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M"
    };
    NaiveDateTime::parse_from_str(text, format).expect("valid test datetime")
}

/// T-0 given as a local time in `zone`.
fn t0(text: &str, zone: Tz) -> DateTime<Utc> {
    local_to_instant(naive(text), zone).with_timezone(&Utc)
}

/// Resolves each spec against `t0` in `zone` and compares the RFC 3339 result.
fn check(t0: DateTime<Utc>, zone: Tz, cases: &[(&str, &str)]) {
    for (spec, expected) in cases {
        let resolved = parse_time_spec(spec).expect(spec).resolve(t0, zone);
        assert_eq!(
            resolved.to_rfc3339(),
            *expected,
            "{spec} from {t0} in {zone}"
        );
    }
}

#[test]
fn parses_every_written_form() {
    use TimeSpec::*;
    let days = |days, at| Days { days, at };
    let business = |days, at| BusinessDays { days, at };
    let nine = Some(time(9, 0));
    let cases = [
        ("T-0", Exact(Duration::zero())),
        ("T+0", Exact(Duration::zero())),
        ("T-14d", days(-14, None)),
        ("T-2w", days(-14, None)),
        ("T+1w", days(7, None)),
        ("T+30d", days(30, None)),
        ("T-1w2d", days(-9, None)),
        ("T+0d", days(0, None)),
        ("T-2d 09:00", days(-2, nine)),
        ("T+1w 08:30", days(7, Some(time(8, 30)))),
        ("T-0 18:00", days(0, Some(time(18, 0)))),
        (
            "T-2d   09:00:30",
            days(-2, nine.map(|t| t + Duration::seconds(30))),
        ),
        ("T-90m", Exact(Duration::minutes(-90))),
        ("T-1h30m", Exact(Duration::minutes(-90))),
        ("T+4h", Exact(Duration::hours(4))),
        ("T+45s", Exact(Duration::seconds(45))),
        ("T-0h", Exact(Duration::zero())),
        ("T-5bd 09:00", business(-5, nine)),
        ("T+2bd", business(2, None)),
        ("T-0bd", business(0, None)),
        ("2027-03-15T18:00", Absolute(naive("2027-03-15 18:00"))),
        ("2027-03-15 18:00", Absolute(naive("2027-03-15 18:00"))),
        (" 2027-03-15 18:00:00 ", Absolute(naive("2027-03-15 18:00"))),
        (
            "2027-03-15T18:00:05",
            Absolute(naive("2027-03-15 18:00:05")),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_time_spec(text), Ok(expected), "{text}");
    }
}

#[test]
fn rejects_bad_forms_with_specific_messages() {
    let cases = [
        ("T-14x", "`T-14x` has an unknown unit `x`"),
        ("T-d", "`T-d` has no number before the unit `d`"),
        ("T-5", "`T-5` has no unit after 5"),
        ("T-2w 25:00", "25:00 is not a time of day"),
        ("T-2d 9:5", "9:5 is not a time of day"),
        ("T-2d 24:00", "24:00 is not a time of day"),
        ("T-2d 9:00", "9:00 is not a time of day"),
        ("T-2d 09:60", "09:60 is not a time of day"),
        ("T-2d 09:00 UTC", "has unexpected text `UTC`"),
        ("hello", "`hello` is not a T-minus offset"),
        ("", "the time is empty"),
        ("   ", "the time is empty"),
        ("T14d", "`T14d` needs a sign: T-14d for"),
        ("T", "`T` needs a sign and an amount"),
        ("T-", "`T-` has no amount after the sign"),
        ("T*3d", "`T*3d` is not a T-minus offset"),
        ("T-1.5d", "`T-1.5d` has a fraction"),
        ("T-30m1h", "lists units out of order"),
        ("T-1d2h", "mixes calendar days with hours"),
        ("T-1bd2h", "mixes business days with other"),
        ("T-90m 09:00", "cannot take a time of day"),
        ("T-40000d", "is more than 100 years from T-0"),
        ("T-99999999999999999999h", "is longer than 100 years"),
        ("2027-03-15", "`2027-03-15` has no time of day"),
        ("2027-02-30 18:00", "2027-02-30 is not a date"),
        ("2027-3-15 18:00", "2027-3-15 is not a date"),
        ("2027-03-15 18", "18 is not a time of day"),
        ("2027-03-15T", "`2027-03-15T` has no time of day"),
        ("2027-03-15T18:00 19:00", "has unexpected text `19:00`"),
        ("2é 18:00", "2é is not a date"),
        ("T-1é", "has an unexpected `é`"),
        ("T-１d", "has an unexpected `１`"),
    ];
    for (text, expected) in cases {
        let error = parse_time_spec(text).expect_err(text);
        assert!(error.message.contains(expected), "{text}: {error}");
        assert!(!error.hint.is_empty(), "{text} has a hint");
    }
    let error = parse_time_spec("T-14x").expect_err("unknown unit");
    assert_eq!(error.message, "`T-14x` has an unknown unit `x`");
    let hint = "write T-14d, T-2w, T-5bd, T-90m, T-1h30m, T-2d 09:00 or 2027-03-15 18:00";
    assert_eq!(error.hint, hint);
    assert_eq!(error.to_string(), format!("{}; {hint}", error.message));
    let error = parse_time_spec("T-2w 25:00").expect_err("bad clock");
    assert_eq!(error.message, "25:00 is not a time of day");
}

#[test]
fn displays_the_canonical_form() {
    let cases = [
        ("T-14d 09:00", "T-14d 09:00"),
        ("T-2w", "T-14d"),
        ("T-90m", "T-1h30m"),
        ("T-48h", "T-48h"),
        ("T-0", "T+0"),
        ("T-0d", "T+0d"),
        ("T-0 18:00", "T+0 18:00"),
        ("T-5bd 09:00", "T-5bd 09:00"),
        ("T+0bd", "T+0bd"),
        ("T-2d 09:00:30", "T-2d 09:00:30"),
        ("2027-03-15T18:00", "2027-03-15 18:00"),
    ];
    for (text, written) in cases {
        let spec = parse_time_spec(text).expect(text);
        assert_eq!(spec.to_string(), written, "{text}");
    }
    assert!(parse_time_spec("T-0").is_ok_and(|spec| spec.is_relative()));
    assert!(parse_time_spec("2027-03-15 18:00").is_ok_and(|spec| !spec.is_relative()));
}

#[test]
fn resolves_in_london_across_the_spring_change() {
    let london = Europe::London;
    let t0 = t0("2027-03-29 18:00", london); // Monday, BST
    assert_eq!(t0.to_rfc3339(), "2027-03-29T17:00:00+00:00");
    let cases = [
        ("T-0", "2027-03-29T18:00:00+01:00"),
        ("T-14d 09:00", "2027-03-15T09:00:00+00:00"),
        ("T-14d", "2027-03-15T18:00:00+00:00"),
        ("T-2w", "2027-03-15T18:00:00+00:00"),
        ("T-48h", "2027-03-27T17:00:00+00:00"),
        ("T-1d 01:30", "2027-03-28T02:30:00+01:00"),
        ("T+1w 08:30", "2027-04-05T08:30:00+01:00"),
    ];
    check(t0, london, &cases);
    // Twelve elapsed hours before midday on the change day is 23:00 GMT, not midnight.
    let cases = [
        ("T-12h", "2027-03-27T23:00:00+00:00"),
        ("T-1d", "2027-03-27T12:00:00+00:00"),
    ];
    check(self::t0("2027-03-28 12:00", london), london, &cases);
}

#[test]
fn resolves_in_london_across_the_autumn_change() {
    let london = Europe::London;
    let cases = [
        ("T-1d 01:30", "2027-10-31T01:30:00+01:00"),
        ("T-1d 02:00", "2027-10-31T02:00:00+00:00"),
        ("T-7d", "2027-10-25T18:00:00+01:00"),
        ("T-24h", "2027-10-31T18:00:00+00:00"),
        ("T-48h", "2027-10-30T19:00:00+01:00"),
    ];
    check(t0("2027-11-01 18:00", london), london, &cases);
}

#[test]
fn resolves_in_new_york_across_both_changes() {
    let new_york = America::New_York;
    let t0 = t0("2027-03-15 18:00", new_york); // EDT
    assert_eq!(t0.to_rfc3339(), "2027-03-15T22:00:00+00:00");
    let cases = [
        ("T-7d 09:00", "2027-03-08T09:00:00-05:00"),
        ("T-1d", "2027-03-14T18:00:00-04:00"),
        ("T-1d 02:30", "2027-03-14T03:30:00-04:00"),
        ("T-48h", "2027-03-13T17:00:00-05:00"),
        ("T-1h30m", "2027-03-15T16:30:00-04:00"),
    ];
    check(t0, new_york, &cases);
    let cases = [
        ("T-1d 01:30", "2027-11-07T01:30:00-04:00"),
        ("T-1w", "2027-11-01T09:00:00-04:00"),
        ("T-24h", "2027-11-07T09:00:00-05:00"),
        ("T-48h", "2027-11-06T10:00:00-04:00"),
    ];
    check(self::t0("2027-11-08 09:00", new_york), new_york, &cases);
}

#[test]
fn resolves_in_a_recipient_zone_other_than_t0s() {
    let new_york = America::New_York;
    // T-0 at 18:00 BST is 13:00 in New York.
    let cases = [
        ("T-1d 09:00", "2027-03-28T09:00:00-04:00"),
        ("T-14d", "2027-03-15T13:00:00-04:00"),
        ("T-0", "2027-03-29T13:00:00-04:00"),
    ];
    check(t0("2027-03-29 18:00", Europe::London), new_york, &cases);
    // 02:00 BST on 30 March is still 29 March in New York: days count from New York's date.
    let late = t0("2027-03-30 02:00", Europe::London);
    let cases = [("T-1d 09:00", "2027-03-28T09:00:00-04:00")];
    check(late, new_york, &cases);
    let cases = [("T-1d 09:00", "2027-03-29T09:00:00+01:00")];
    check(late, Europe::London, &cases);
}

#[test]
fn resolves_business_days_across_weekends() {
    let london = Europe::London;
    let cases = [
        ("T-1bd", "2027-03-26T18:00:00+00:00"),
        ("T-5bd 09:00", "2027-03-22T09:00:00+00:00"),
        ("T+5bd", "2027-04-05T18:00:00+01:00"),
        ("T-0bd 09:00", "2027-03-29T09:00:00+01:00"),
    ];
    check(t0("2027-03-29 18:00", london), london, &cases); // a Monday
    let cases = [("T+1bd", "2027-03-29T17:00:00+01:00")];
    check(t0("2027-03-26 17:00", london), london, &cases); // a Friday
    let cases = [
        ("T+1bd", "2027-03-29T10:00:00+01:00"),
        ("T-1bd", "2027-03-26T10:00:00+00:00"),
        ("T+0bd", "2027-03-27T10:00:00+00:00"),
    ];
    check(t0("2027-03-27 10:00", london), london, &cases); // a Saturday
}

#[test]
fn resolves_absolute_times_in_the_zone_in_force() {
    let t0 = t0("2027-03-29 18:00", Europe::London);
    let cases = [
        ("2027-03-15 18:00", "2027-03-15T18:00:00+00:00"),
        ("2027-03-28 01:30", "2027-03-28T02:30:00+01:00"),
        ("2027-10-31 01:30", "2027-10-31T01:30:00+01:00"),
    ];
    check(t0, Europe::London, &cases);
    let cases = [
        ("2027-03-15 18:00", "2027-03-15T18:00:00-04:00"),
        ("2027-03-14T02:15", "2027-03-14T03:15:00-04:00"),
    ];
    check(t0, America::New_York, &cases);
}

fn zones() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        Europe::London,
        America::New_York,
        Australia::Sydney,
        Australia::Lord_Howe,
        Asia::Kolkata,
        Tz::UTC,
    ])
}

fn instants() -> impl Strategy<Value = DateTime<Utc>> {
    // 2000-01-01 to 2100-01-01, to the second.
    (946_684_800i64..4_102_444_800)
        .prop_filter_map("in range", |s| Utc.timestamp_opt(s, 0).single())
}

fn clocks() -> impl Strategy<Value = NaiveTime> {
    (0u32..24, 0u32..60, prop_oneof![Just(0u32), 0u32..60])
        .prop_filter_map("valid time", |(h, m, s)| NaiveTime::from_hms_opt(h, m, s))
}

fn specs() -> impl Strategy<Value = TimeSpec> {
    let days = -36_525i64..=36_525;
    let seconds = -(36_525i64 * 86_400)..=36_525 * 86_400;
    let dates = (1000i32..=9999, 1u32..=366)
        .prop_filter_map("valid date", |(y, d)| NaiveDate::from_yo_opt(y, d));
    prop_oneof![
        (dates, clocks()).prop_map(|(date, at)| TimeSpec::Absolute(date.and_time(at))),
        (days.clone(), prop::option::of(clocks()))
            .prop_map(|(days, at)| TimeSpec::Days { days, at }),
        (days, prop::option::of(clocks()))
            .prop_map(|(days, at)| TimeSpec::BusinessDays { days, at }),
        seconds.prop_map(|s| TimeSpec::Exact(Duration::seconds(s))),
    ]
}

proptest! {
    #[test]
    fn display_then_parse_round_trips(spec in specs()) {
        prop_assert_eq!(parse_time_spec(&spec.to_string()), Ok(spec));
    }

    #[test]
    fn days_land_on_the_requested_time_unless_in_a_gap(
        t0 in instants(), zone in zones(), days in -400i64..400, at in clocks()
    ) {
        let resolved = TimeSpec::Days { days, at: Some(at) }.resolve(t0, zone);
        let wanted = (t0.with_timezone(&zone).date_naive() + Duration::days(days)).and_time(at);
        if zone.from_local_datetime(&wanted).earliest().is_some() {
            prop_assert_eq!(resolved.naive_local(), wanted);
        } else {
            prop_assert!(resolved.naive_local() > wanted);
        }
    }

    #[test]
    fn days_move_the_local_date_by_exactly_n(
        t0 in instants(), zone in zones(), days in -400i64..400, at in prop::option::of(clocks())
    ) {
        // None of these zones has a gap that crosses midnight.
        let resolved = TimeSpec::Days { days, at }.resolve(t0, zone);
        let from = t0.with_timezone(&zone).date_naive();
        prop_assert_eq!((resolved.date_naive() - from).num_days(), days);
    }

    #[test]
    fn exact_offsets_are_elapsed_time(t0 in instants(), zone in zones(), s in -10_000_000i64..10_000_000) {
        let d = Duration::seconds(s);
        prop_assert_eq!(TimeSpec::Exact(d).resolve(t0, zone), t0 + d);
    }

    #[test]
    fn business_days_never_land_on_a_weekend(
        t0 in instants(), zone in zones(), days in -300i64..300, at in prop::option::of(clocks())
    ) {
        prop_assume!(days != 0);
        let resolved = TimeSpec::BusinessDays { days, at }.resolve(t0, zone);
        prop_assert!(!matches!(resolved.weekday(), Weekday::Sat | Weekday::Sun));
    }

    #[test]
    fn parsing_never_panics(text in prop_oneof!["\\PC{0,24}", "[T0-9+\\-dwbhms:. ]{0,16}"]) {
        let _ = parse_time_spec(&text);
        let _ = parse_duration(&text);
        let _ = parse_zone(&text);
    }

    #[test]
    fn durations_round_trip(s in 0i64..=36_525 * 86_400) {
        let d = Duration::seconds(s);
        prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
    }
}

#[test]
fn instants_outside_1970_to_9999_are_refused_with_the_date() {
    let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap();
    assert!(super::check_range("2027-03-29 18:00", &at(2027, 3, 29)).is_ok());
    assert!(super::check_range("x", &at(1970, 1, 2)).is_ok());
    let early = super::check_range(" 0207-02-15T18:00", &at(207, 2, 15)).unwrap_err();
    assert_eq!(
        early.message,
        "`0207-02-15T18:00` falls on 0207-02-15, before 1970: tminus schedules between 1970 and 9999"
    );
    let late = super::check_range("T+36000d", &at(9999, 12, 31)).unwrap_err();
    assert!(
        late.message.contains("after the year 9999"),
        "{}",
        late.message
    );
}
