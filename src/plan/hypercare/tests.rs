//! Judgments worked out by hand. The period: ten days from Tuesday 30 March 2027 in
//! London (BST, UTC+1); P1 targets 15m / 4h, P2 1h / 8h.
//!
//! | day | date   | uptime (>= 99) | errors (< 1) |
//! |-----|--------|----------------|--------------|
//! | 1   | 30 Mar | 98   missed    | 2   missed   |
//! | 2   | 31 Mar | 99.5 met       | —  no data   |
//! | 3   | 1 Apr  | 99   met (=)   | 0.5 met      |
//! | 4   | 2 Apr  | —    no data   | —  no data   |
//! | 5   | 3 Apr  | 99.9 met       | 1   missed (< is strict) |
//! | 6   | 4 Apr  | 99.9 (after now: not known yet) |
//!
//! Now: day 5, Saturday 3 April 17:30 BST unless a test says otherwise.

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;

use super::report::{day_report, template_value};
use super::*;
use crate::load::hypercare::{Criterion, Incident, Metric, Severity, Target};

/// `hh:mm` London time on hypercare day `day` (day 0: go-live day, Monday 29 March).
fn at(day: u32, hh: u32, mm: u32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(2027, 3, 29).unwrap() + Duration::days(i64::from(day));
    London
        .from_local_datetime(&date.and_hms_opt(hh, mm, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn incident(
    id: &str,
    severity: usize,
    opened: DateTime<Utc>,
    responded: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
) -> Incident {
    Incident {
        id: id.into(),
        title: format!("Incident {id}"),
        severity,
        opened,
        responded,
        resolved,
        impact: None,
        resolution: None,
    }
}

fn metric(id: &str, target: &str) -> Metric {
    Metric {
        id: id.into(),
        label: id.into(),
        unit: None,
        target: Target::parse(target).unwrap(),
        group: "System health".into(),
    }
}

fn metric_criterion(m: usize, over: u32) -> Criterion {
    Criterion {
        kind: CriterionKind::Metric(m),
        over,
    }
}

fn p1_criterion(over: u32, max: u32) -> Criterion {
    Criterion {
        kind: CriterionKind::Incidents {
            severities: vec![0],
            max,
        },
        over,
    }
}

fn hypercare(exit: Vec<Criterion>) -> Hypercare {
    let mut figures = vec![vec![None, None]; 10];
    figures[0] = vec![Some(98.0), Some(2.0)];
    figures[1] = vec![Some(99.5), None];
    figures[2] = vec![Some(99.0), Some(0.5)];
    figures[4] = vec![Some(99.9), Some(1.0)];
    figures[5] = vec![Some(99.9), Some(0.1)];
    Hypercare {
        start: NaiveDate::from_ymd_opt(2027, 3, 30).unwrap(),
        days: 10,
        zone: London,
        lead: None,
        metrics: vec![metric("uptime", ">= 99"), metric("errors", "< 1")],
        figures,
        incidents: vec![
            // A: responded in 10m, resolved in 3h: both within.
            incident("A", 0, at(1, 8, 0), Some(at(1, 8, 10)), Some(at(1, 11, 0))),
            // B: responded in 20m (> 15m): response breached; resolved in 3h: within.
            incident("B", 0, at(2, 9, 0), Some(at(2, 9, 20)), Some(at(2, 12, 0))),
            // C: no response 7h30 after opening (> 1h): breached; unresolved, 7h30 < 8h: pending.
            incident("C", 1, at(5, 10, 0), None, None),
            // D: 45m old at now: both pending.
            incident("D", 1, at(5, 16, 45), None, None),
            // E: resolved after 1h30 with no response recorded: the resolution is the
            // response (1h30 > 1h: breached); resolution 1h30 < 8h: within.
            incident("E", 1, at(3, 10, 0), None, Some(at(3, 11, 30))),
            // F: opened on day 6, after now: not known yet.
            incident("F", 0, at(6, 9, 0), None, None),
            // G: resolved on day 6 (after now), so open at now, 31h30 old (> 8h): breached.
            incident(
                "G",
                1,
                at(4, 10, 0),
                Some(at(4, 10, 30)),
                Some(at(6, 12, 0)),
            ),
        ],
        severities: vec![
            Severity {
                id: "P1".into(),
                label: None,
                respond: Duration::minutes(15),
                resolve: Duration::hours(4),
            },
            Severity {
                id: "P2".into(),
                label: None,
                respond: Duration::hours(1),
                resolve: Duration::hours(8),
            },
        ],
        exit,
        notes: Vec::new(),
    }
}

fn now() -> DateTime<Utc> {
    at(5, 17, 30)
}

#[test]
fn each_day_and_metric_is_met_missed_or_no_data() {
    let h = hypercare(Vec::new());
    let j = judge(&h, now());
    assert_eq!(j.current_day, Some(5));
    assert!(!j.ended);
    let states: Vec<Vec<State>> = j.days[..6]
        .iter()
        .map(|d| d.metrics.iter().map(|m| m.1).collect())
        .collect();
    use State::*;
    assert_eq!(
        states,
        vec![
            vec![Missed, Missed],
            vec![Met, NoData],
            vec![Met, Met],
            vec![NoData, NoData],
            vec![Met, Missed],
            // Day 6 has figures in the data, but they are after now.
            vec![NoData, NoData],
        ]
    );
    assert!(j.days[4].reached && !j.days[5].reached);
    assert_eq!(j.days[5].metrics[0].0, None);
}

#[test]
fn response_and_resolution_are_judged_against_now_when_not_done() {
    let h = hypercare(Vec::new());
    let j = judge(&h, now());
    let got: Vec<(&str, Sla, Sla)> = j
        .incidents
        .iter()
        .map(|i| (h.incidents[i.index].id.as_str(), i.response, i.resolution))
        .collect();
    use Sla::*;
    assert_eq!(
        got,
        vec![
            ("A", Within, Within),
            ("B", Breached, Within),
            ("C", Breached, Pending),
            ("D", Pending, Pending),
            ("E", Breached, Within),
            // F is after now.
            ("G", Within, Breached),
        ]
    );
    let ids = |v: &[usize]| -> Vec<&str> {
        v.iter()
            .map(|&k| h.incidents[j.incidents[k].index].id.as_str())
            .collect()
    };
    let (p1, p2) = (&j.severities[0], &j.severities[1]);
    assert_eq!(ids(&p1.opened), ["A", "B"]);
    assert_eq!(ids(&p1.resolved), ["A", "B"]);
    assert!(p1.open.is_empty());
    assert_eq!(ids(&p1.breached), ["B"]);
    assert_eq!(ids(&p2.opened), ["C", "D", "E", "G"]);
    assert_eq!(ids(&p2.resolved), ["E"]);
    assert_eq!(ids(&p2.open), ["C", "D", "G"]);
    assert_eq!(ids(&p2.breached), ["C", "E", "G"]);
    // Responses judged: P2 C breached, E breached, G within (D pending) → 1 within, 2 breached.
    assert_eq!((p2.response_within, p2.response_breached), (1, 2));
    // Resolutions judged: E within, G breached (C, D pending).
    assert_eq!((p2.resolution_within, p2.resolution_breached), (1, 1));
    // A day later G is resolved (at 12:00 on day 6, 50h after opening: still breached) and
    // F (P1, 09:00) is open with neither response nor resolution: 9h later, both breached.
    let later = judge(&h, at(6, 18, 0));
    let f = later
        .incidents
        .iter()
        .find(|i| h.incidents[i.index].id == "F")
        .unwrap();
    assert_eq!((f.response, f.resolution), (Sla::Breached, Sla::Breached));
}

#[test]
fn each_exit_criterion_on_the_last_days_with_figures() {
    let h = hypercare(vec![
        // Uptime figures on days 1, 2, 3, 5; the last 3 are 2, 3, 5: all met.
        metric_criterion(0, 3),
        // Error figures on days 1, 3, 5: days 1 and 5 missed.
        metric_criterion(1, 3),
        // Days with any figure: 1, 2, 3, 5; the last 3 start on day 2, when B (P1) opened.
        p1_criterion(3, 0),
        // The last 2 start on day 3: no P1 since (F is after now).
        p1_criterion(2, 0),
        // Only 4 days of uptime figures: 5 cannot be judged yet.
        metric_criterion(0, 5),
    ]);
    let j = judge(&h, now());
    let got: Vec<(bool, Vec<u32>)> = j.exit.iter().map(|c| (c.met, c.days.clone())).collect();
    assert_eq!(
        got,
        vec![
            (true, vec![2, 3, 5]),
            (false, vec![1, 3, 5]),
            (false, vec![2, 3, 5]),
            (true, vec![3, 5]),
            (false, vec![1, 2, 3, 5]),
        ]
    );
    assert_eq!(j.exit[1].missed_days, vec![1, 5]);
    assert_eq!(j.exit[2].counted.len(), 1);
    assert_eq!(
        j.exit[4].reason,
        "only 4 days of figures for uptime so far; 5 needed"
    );
    assert_eq!(j.recommendation, Recommendation::Continue);
}

#[test]
fn the_recommendation_flips_to_exit_when_the_data_allows_and_back() {
    let h = hypercare(vec![metric_criterion(0, 3), p1_criterion(2, 0)]);
    // Day 3 evening: uptime days 1–3, day 1 missed → CONTINUE.
    let day3 = judge(&h, at(3, 18, 0));
    assert_eq!(
        day3.exit.iter().map(|c| c.met).collect::<Vec<_>>(),
        [false, false]
    );
    assert_eq!(day3.recommendation, Recommendation::Continue);
    // Day 5: uptime days 2, 3, 5 met; no P1 since day 3 → EXIT.
    assert_eq!(judge(&h, now()).recommendation, Recommendation::Exit);
    // Day 6: its figures count, so the last two days are 5 and 6, and F (P1) opened on
    // day 6 → CONTINUE again.
    let day6 = judge(&h, at(6, 18, 0));
    assert!(day6.exit[0].met && !day6.exit[1].met);
    assert_eq!(day6.recommendation, Recommendation::Continue);
    // No criteria at all: nothing allows an exit.
    assert_eq!(
        judge(&hypercare(Vec::new()), now()).recommendation,
        Recommendation::Continue
    );
}

#[test]
fn before_the_start_and_after_the_end() {
    let h = hypercare(Vec::new());
    let before = judge(&h, at(0, 23, 0));
    assert_eq!(before.current_day, None);
    assert!(before.days.iter().all(|d| !d.reached));
    assert!(before.incidents.is_empty());
    assert!(!template_value(&h, &before).started);
    let after = judge(&h, at(15, 9, 0));
    assert_eq!(after.current_day, Some(10));
    assert!(after.ended);
}

#[test]
fn the_daily_report_counts_new_resolved_and_open_by_severity() {
    let h = hypercare(Vec::new());
    let j = judge(&h, now());
    // Day 3: E opened and resolved (1h30); A and B were resolved before.
    let d3 = day_report(&h, &j, 3);
    assert_eq!(
        (d3.incidents.new, d3.incidents.resolved, d3.incidents.open),
        (1, 1, 0)
    );
    assert_eq!(d3.incidents.average_resolution.as_deref(), Some("1h30m"));
    assert_eq!((d3.met, d3.missed, d3.no_data), (2, 0, 0));
    // Day 4: G opened and still open at midnight; it is a P2, so notable.
    let d4 = day_report(&h, &j, 4);
    assert_eq!(
        (d4.incidents.new, d4.incidents.resolved, d4.incidents.open),
        (1, 0, 1)
    );
    assert_eq!(d4.notable.len(), 1);
    assert_eq!(d4.notable[0].id, "G");
    // Day 5 (today, up to now): C and D new; C, D and G open → P1 0, P2 3.
    let d5 = day_report(&h, &j, 5);
    assert!(d5.current);
    assert_eq!((d5.incidents.new, d5.incidents.open), (2, 3));
    let open: Vec<(String, usize)> = d5
        .incidents
        .open_by_severity
        .iter()
        .map(|s| (s.severity.clone(), s.count))
        .collect();
    assert_eq!(open, [("P1".to_string(), 0), ("P2".to_string(), 3)]);
    assert_eq!((d5.met, d5.missed, d5.no_data), (1, 1, 0));
    // The template value: the latest day is day 5; open incidents most severe, then oldest first.
    let v = template_value(&h, &j);
    assert_eq!(v.day, Some(5));
    let ids: Vec<&str> = v.open_incidents.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["G", "C", "D"]);
}
