//! Reading hypercare.yaml and its CSVs: what is read, and where each error points.

use super::*;
use chrono::TimeZone;
use chrono_tz::Europe::London;

/// A project in London with T-0 on Monday 29 March 2027, 18:00, and `files` under content/.
fn load_with(files: &[(&str, &str)]) -> (Option<Hypercare>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join("content").join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let mut project = super::super::tests_support::empty_project();
    project.zone = London;
    project.go_live = London.with_ymd_and_hms(2027, 3, 29, 18, 0, 0).unwrap();
    // A known T-0 (the stand-in project marks it unknown, which hides period errors).
    project.references_unknown = false;
    let mut diags = Diagnostics::new();
    let h = load(dir.path(), &project, &mut diags);
    let errors = diags
        .into_sorted()
        .iter()
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect();
    (h, errors)
}

const YAML: &str = "\
metrics:
  - { id: uptime, label: Uptime, unit: \"%\", target: \">= 99\" }
  - { id: open_p1, label: Open P1, target: \"= 0\" }
daily: hypercare/daily.csv
incidents: hypercare/incidents.csv
severities:
  P1: { respond: 15m, resolve: 4h }
  P2: { respond: 1h, resolve: 8h }
exit:
  - { metric: uptime, over: 7d }
  - { incidents: [P1, P2], over: 1w, max: 1 }
";

#[test]
fn reads_the_period_figures_incidents_and_criteria() {
    let (h, errors) = load_with(&[
        ("hypercare.yaml", YAML),
        // Header in another order and case; an empty cell is no data.
        (
            "hypercare/daily.csv",
            "Open_P1,DATE,uptime\n1,2027-03-30,98.5%\n,2027-03-31,99.2\n",
        ),
        (
            "hypercare/incidents.csv",
            "id,title,severity,opened,responded,resolved\n\
             INC-1,Sign-in loop,p1,2027-03-30 06:42,2027-03-30 06:51,2027-03-30T09:58:00+01:00\n\
             INC-2,Slow board,P2,2027-03-30 07:15,,\n",
        ),
    ]);
    assert_eq!(errors, Vec::<String>::new());
    let h = h.unwrap();
    // Default start T+1d: the day after Monday 29 March; default length 30 days.
    assert_eq!(h.start, NaiveDate::from_ymd_opt(2027, 3, 30).unwrap());
    assert_eq!(h.days, 30);
    assert_eq!(h.end(), NaiveDate::from_ymd_opt(2027, 4, 28).unwrap());
    assert_eq!(h.figures[0], vec![Some(98.5), Some(1.0)]);
    assert_eq!(h.figures[1], vec![Some(99.2), None]);
    assert!(h.figures[2..].iter().all(|d| d == &vec![None, None]));
    assert_eq!(h.incidents.len(), 2);
    // 06:42 BST is 05:42 UTC; the resolution carries its own offset.
    assert_eq!(
        h.incidents[0].opened,
        Utc.with_ymd_and_hms(2027, 3, 30, 5, 42, 0).unwrap()
    );
    assert_eq!(
        h.incidents[0].resolved,
        Some(Utc.with_ymd_and_hms(2027, 3, 30, 8, 58, 0).unwrap())
    );
    assert_eq!(h.incidents[0].severity, 0);
    assert_eq!(h.incidents[1].responded, None);
    assert_eq!(h.exit.len(), 2);
    assert_eq!(h.exit[1].over, 7);
    assert!(matches!(
        &h.exit[1].kind,
        CriterionKind::Incidents { severities, max: 1 } if severities == &vec![0, 1]
    ));
}

#[test]
fn a_ticket_tool_export_is_mapped_by_its_header_names() {
    let (h, errors) = load_with(&[
        (
            "hypercare.yaml",
            &YAML.replace(
                "incidents: hypercare/incidents.csv",
                "incidents: { file: hypercare/incidents.csv, columns: { opened: Logged On } }",
            ),
        ),
        ("hypercare/daily.csv", "date,uptime\n"),
        (
            "hypercare/incidents.csv",
            "Number,Short Description,Priority,Logged On,Created,First Response,Closed At,Assignment group\n\
             INC0010001,Billing run failed,1 - Critical,2027-03-31 02:10,2027-01-01 00:00,2027-03-31 02:31,2027-03-31 07:05,Integration\n",
        ),
    ]);
    assert_eq!(errors, Vec::<String>::new());
    let i = &h.unwrap().incidents[0];
    assert_eq!(i.id, "INC0010001");
    assert_eq!(i.title, "Billing run failed");
    assert_eq!(i.severity, 0);
    // `columns:` picked "Logged On" over the "Created" alias.
    assert_eq!(
        i.opened,
        Utc.with_ymd_and_hms(2027, 3, 31, 1, 10, 0).unwrap()
    );
    assert_eq!(
        i.resolved,
        Some(Utc.with_ymd_and_hms(2027, 3, 31, 6, 5, 0).unwrap())
    );
}

#[test]
fn every_bad_cell_is_reported_at_its_line_and_column() {
    let (_, errors) = load_with(&[
        ("hypercare.yaml", YAML),
        (
            "hypercare/daily.csv",
            "date,uptime,tickets\n\
             2027-03-30,99.1,4\n\
             2027-03-31,n/a,\n\
             2027-05-01,99.9,\n\
             31/03/2027,99,\n\
             2027-03-30,99.5,\n",
        ),
        (
            "hypercare/incidents.csv",
            "id,title,severity,opened,responded,resolved\n\
             INC-1,A,P1,2027-03-30 06:42,yesterday,\n\
             INC-2,B,P7,2027-03-30 07:00,,\n\
             INC-3,C,P2,2027-03-30 08:00,,2027-03-30 07:00\n\
             INC-1,D,P2,2027-03-30 09:00,,\n\
             INC-4,\"Quoted, with comma\",P2,2027-06-01 09:00,,\n",
        ),
    ]);
    let daily = "content/hypercare/daily.csv";
    let inc = "content/hypercare/incidents.csv";
    assert_eq!(
        errors,
        vec![
            format!("{daily}:1:13: `tickets` is not a metric of hypercare.yaml"),
            format!("{daily}:3:12: `n/a` is not a number (uptime)"),
            format!("{daily}:4:1: 2027-05-01 is outside the hypercare period (2027-03-30 to 2027-04-28, days 1 to 30)"),
            format!("{daily}:5:1: `31/03/2027` is not a date"),
            format!("{daily}:6:1: 2027-03-30 has a second row"),
            format!("{inc}:2:29: `yesterday` is not a date and time (responded)"),
            format!("{inc}:3:9: `P7` is not a severity of hypercare.yaml"),
            format!("{inc}:4:30: incident `INC-3` was resolved before it was opened"),
            format!("{inc}:5:1: incident `INC-1` is listed twice"),
            // The column counts the quoted title's characters.
            format!("{inc}:6:31: incident `INC-4`: opened on 2027-06-01 is outside the hypercare period (2027-03-30 to 2027-04-28, days 1 to 30)"),
        ]
    );
}

#[test]
fn a_header_without_the_needed_columns_is_one_error() {
    let (_, errors) = load_with(&[
        ("hypercare.yaml", YAML),
        ("hypercare/daily.csv", "uptime\n99\n"),
        ("hypercare/incidents.csv", "Ticket,Priority\nINC-1,P1\n"),
    ]);
    assert_eq!(
        errors,
        vec![
            "content/hypercare/daily.csv:1:1: the daily figures have no `date` column".to_string(),
            "content/hypercare/incidents.csv:1:1: the incidents header has no title, opened column"
                .to_string(),
        ]
    );
}

#[test]
fn yaml_mistakes_point_into_hypercare_yaml() {
    let yaml = "\
start: T+1d
metrics:
  - { id: uptime, label: Uptime, target: \"at least 99\" }
  - { id: errors, label: Errors, target: \"< 1\" }
severities:
  P1: { respond: 15 minutes, resolve: 4h }
exit:
  - { metric: uptme, over: 7d }
  - { metric: errors, over: 36h }
  - { incidents: P9, over: 7d }
  - { over: 7d }
daily:
  - { date: 2027-03-30, errors: 0.5 }
  - { date: 2027-03-29, errors: 0.2 }
  - { date: 2027-03-31, erors: 0.2 }
";
    let (_, errors) = load_with(&[("hypercare.yaml", yaml)]);
    let f = "content/hypercare.yaml";
    assert_eq!(
        errors,
        vec![
            format!("{f}:3:42: `at least 99` is not a target"),
            format!("{f}:6:18: `15 minutes` has a space inside"),
            format!("{f}:8:15: unknown metric `uptme`"),
            format!("{f}:9:29: `36h` is not a whole number of days"),
            format!("{f}:10:18: unknown severity `P9`"),
            format!("{f}:11:5: an exit criterion names either a `metric` or `incidents`"),
            format!("{f}:14:13: 2027-03-29 is outside the hypercare period (2027-03-30 to 2027-04-28, days 1 to 30)"),
            format!("{f}:15:32: unknown metric `erors`"),
        ]
    );
}

#[test]
fn targets_parse_and_judge() {
    let t = Target::parse(">= 99").unwrap();
    assert!(t.met(99.0) && !t.met(98.99));
    assert!(Target::parse("<1").unwrap().met(0.5));
    assert!(!Target::parse("> 90").unwrap().met(90.0));
    assert!(Target::parse("= 0").unwrap().met(0.0));
    assert_eq!(Target::parse("≤ 800").unwrap().label(), "≤ 800");
    for bad in ["99", ">= ", "> ninety", "=> 5", ""] {
        assert_eq!(Target::parse(bad), None, "{bad}");
    }
}

#[test]
fn a_start_at_the_end_of_the_calendar_is_an_error_not_a_panic() {
    let (h, errors) = load_with(&[(
        "hypercare.yaml",
        "start: +262142-12-01\ndays: 30\nmetrics: []\n",
    )]);
    assert!(h.is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .starts_with("content/hypercare.yaml:1:8: hypercare cannot start on +262142-12-01"),
        "{errors:?}"
    );
}
