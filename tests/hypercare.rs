//! Hypercare end to end (SPEC §9): the example's ten days judged with `build --now`, the
//! pages and `plan.json`, the recommendation flipping to EXIT as figures come in, a comms
//! template using `hypercare`, and located errors for bad CSV cells.
//!
//! The example (content/hypercare.yaml): T-0 Monday 29 March 2027 18:00 London, so day 1 is
//! Tuesday 30 March and day 10 Thursday 8 April; figures for days 1–10.

mod common;

use std::io::Write;

use common::*;
use serde_json::Value;

fn plan(root: &std::path::Path) -> Value {
    serde_json::from_str(&read(&root.join("output/v1.2/plan.json"))).unwrap()
}

#[test]
fn the_tenth_day_as_the_daily_report_went_out() {
    let (_g, root) = example();
    ok(&root, &["build", "--now", "2027-04-08T17:30"]);
    let p = plan(&root);
    let h = &p["hypercare"];
    assert_eq!(h["current_day"], 10);
    assert_eq!(h["start"], "2027-03-30");
    assert_eq!(h["end"], "2027-04-28");
    let days = h["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    // Day 1: uptime 97.8 < 99 missed; day 3: 99.4 met; day 11 not reached: no data.
    assert_eq!(days[0]["date"], "2027-03-30");
    assert_eq!(days[0]["metrics"]["uptime"]["value"], 97.8);
    assert_eq!(days[0]["metrics"]["uptime"]["met"], false);
    assert_eq!(days[2]["metrics"]["uptime"]["met"], true);
    assert_eq!(days[10]["metrics"]["uptime"]["value"], Value::Null);
    assert_eq!(days[10]["metrics"]["uptime"]["met"], Value::Null);
    // P1: INC-1006 responded after 21 min (> 15m) and resolved after 4h55 (> 4h);
    // INC-1013 after 35 min and 6h15: both breached, INC-1001 (9 min, 3h16) within.
    assert_eq!(
        h["incidents"]["P1"]["breached"],
        serde_json::json!(["INC-1006", "INC-1013"])
    );
    assert_eq!(h["incidents"]["P1"]["open"], serde_json::json!([]));
    // INC-1026 (P2, opened 15:45, responded 16:20) is open 1h45 later: within 8h so far.
    assert_eq!(
        h["incidents"]["P2"]["open"],
        serde_json::json!(["INC-1026"])
    );
    // Exit over days 4–10: uptime missed on day 4 (98.9), resolution rate on day 4 (86),
    // active users all ≥ 80, INC-1013 is a P1 on day 4, and three P2s (days 5, 8, 10) > 2.
    let met: Vec<bool> = h["exit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["met"].as_bool().unwrap())
        .collect();
    assert_eq!(met, [false, false, true, false, false]);
    assert_eq!(h["recommendation"], "CONTINUE");

    let v = root.join("output/v1.2");
    let index = read(&v.join("hypercare/index.html"));
    assert_eq!(index.matches("<svg class=\"hc-chart\"").count(), 7);
    assert!(index.contains("<title id=\"chart-uptime-title\">System uptime — daily values against the target ≥ 99%</title>"));
    assert!(
        index.contains("10 of 30 days have figures: 7 met the target, 3 missed it (days 1, 2, 4)")
    );
    assert!(index.contains("<caption>System uptime: daily figures (target ≥ 99 %)</caption>"));
    assert!(index.contains("CONTINUE"));
    assert!(
        !index.contains("<script src=\"chart"),
        "charts need no script"
    );
    let day2 = read(&v.join("hypercare/day-2/index.html"));
    assert!(day2.contains("Day 2 of 30"));
    assert!(day2.contains("Scheduler credentials moved to the vault"));
    assert!(day2.contains("Overnight integration to billing did not run"));
    for n in 1..=30 {
        assert!(
            v.join(format!("hypercare/day-{n}/index.html")).is_file(),
            "day {n}"
        );
    }
    assert!(read(&v.join("hypercare/day-11/index.html")).contains("has not come yet"));
    let dashboard = read(&v.join("index.html"));
    assert!(dashboard.contains("Day 10 of 30"), "dashboard");
}

#[test]
fn before_hypercare_every_day_is_not_yet_and_the_dashboard_says_nothing() {
    let (_g, root) = example();
    ok(&root, &["build", "--now", "2027-03-29T20:00"]);
    let h = &plan(&root)["hypercare"];
    assert_eq!(h["current_day"], Value::Null);
    assert!(h["days"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["metrics"]["uptime"]["met"].is_null()));
    assert_eq!(h["incidents"]["P1"]["opened"], serde_json::json!([]));
    let dashboard = read(&root.join("output/v1.2/index.html"));
    assert!(!dashboard.contains("hypercare-title"));
    let index = read(&root.join("output/v1.2/hypercare/index.html"));
    assert!(index.contains("Hypercare has not started yet:"));
}

#[test]
fn the_recommendation_flips_to_exit_as_figures_come_in() {
    let (_g, root) = example();
    let csv = root.join("content/hypercare/daily.csv");
    let mut f = std::fs::OpenOptions::new().append(true).open(&csv).unwrap();
    // Days 11 and 12: every figure within target.
    writeln!(f, "2027-04-09,99.9,550,0.3,0,97,25,90").unwrap();
    writeln!(f, "2027-04-10,99.9,540,0.2,0,97,22,90").unwrap();
    drop(f);
    // Day 11: the last 7 days with figures are 5–11. Uptime, resolution rate and active
    // users all met; no P1 since day 5; but P2s INC-1016 (day 5), INC-1022 (day 8) and
    // INC-1026 (day 10) are three, at most two allowed → CONTINUE.
    ok(&root, &["build", "--now", "2027-04-09T17:30"]);
    let h = &plan(&root)["hypercare"];
    let met: Vec<bool> = h["exit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["met"].as_bool().unwrap())
        .collect();
    assert_eq!(met, [true, true, true, true, false]);
    assert_eq!(h["recommendation"], "CONTINUE");
    // Day 12: days 6–12; INC-1016 drops out, two P2s remain → every criterion met: EXIT.
    ok(&root, &["build", "--now", "2027-04-10T17:30", "--force"]);
    let h = &plan(&root)["hypercare"];
    assert_eq!(h["current_day"], 12);
    assert_eq!(h["recommendation"], "EXIT");
    let dashboard = read(&root.join("output/v1.2/index.html"));
    assert!(dashboard.contains("Day 12 of 30"));
    assert!(dashboard.contains(">EXIT<"));
}

#[test]
fn a_comms_template_can_use_the_latest_figures() {
    let (_g, root) = example();
    // "How's it going?" goes to the main rollout at T+7d 10:00: Monday 5 April, day 7.
    let text = ok(
        &root,
        &[
            "comms",
            "preview",
            "hows-it-going",
            "--wave",
            "main-rollout",
        ],
    );
    assert!(text.contains("Day 7 of hypercare in figures"), "{text}");
    assert!(
        text.contains("System uptime: *99.8 %* (target ≥ 99 %)"),
        "{text}"
    );
    // Open on 5 April at 10:00: INC-1009 (resolved 6 April), INC-1015 (never resolved) and
    // INC-1019 (opened 09:30); INC-1018 was resolved at 09:00, INC-1020 opens at 13:10.
    assert!(text.contains("3 incidents still open"), "{text}");
    // The pilot wave's message (1 March + 7 days) is before hypercare: no figures.
    let pilot = ok(
        &root,
        &["comms", "preview", "hows-it-going", "--wave", "pilot"],
    );
    assert!(!pilot.contains("of hypercare in figures"));
}

#[test]
fn bad_cells_are_errors_at_their_line_and_column_and_nothing_is_written() {
    let (_g, root) = example();
    edit(
        &root.join("content/hypercare/daily.csv"),
        "2027-03-31,98.6,",
        "2027-03-31,ninety,",
    );
    edit(
        &root.join("content/hypercare/incidents.csv"),
        "INC-1003,Parts lookup shows no stock for Leeds van stock,P3",
        "INC-1003,Parts lookup shows no stock for Leeds van stock,P9",
    );
    edit(
        &root.join("content/hypercare.yaml"),
        "{ metric: uptime, over: 7d }",
        "{ metric: uptim, over: 7d }",
    );
    let o = tminus(&root, &["build"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("content/hypercare/daily.csv:3:12: `ninety` is not a number (uptime)"),
        "{err}"
    );
    // "INC-1003," is 9 characters, the title 47 and its comma 1: the severity is at column 58.
    assert!(
        err.contains("content/hypercare/incidents.csv:4:58: `P9` is not a severity"),
        "{err}"
    );
    assert!(err.contains("content/hypercare.yaml:"), "{err}");
    assert!(err.contains("unknown metric `uptim`"), "{err}");
    assert!(!root.join("output").exists());
}

#[test]
fn build_now_must_be_a_time() {
    let (_g, root) = example();
    let o = tminus(&root, &["build", "--now", "next tuesday"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--now `next tuesday` is not a time"));
}

#[test]
fn tminus_new_ships_a_small_hypercare() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"))
        .args(["new", "--go-live", "2027-06-14"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // Day 3 is Thursday 17 June (day 1: the day after the Monday go-live).
    ok(&project, &["build", "--now", "2027-06-17T17:30"]);
    let p: Value = serde_json::from_str(&read(&project.join("output/v0.1/plan.json"))).unwrap();
    let h = &p["hypercare"];
    assert_eq!(h["current_day"], 3);
    // INC-001 (P1): 10 min to respond, 2h53 to resolve: within 15m and 4h.
    assert_eq!(
        h["incidents"]["P1"]["resolved"],
        serde_json::json!(["INC-001"])
    );
    assert_eq!(h["incidents"]["P1"]["breached"], serde_json::json!([]));
    // INC-003 (P3, 16 June 10:00) has no response 31h30 later: past 4h and 24h.
    assert_eq!(
        h["incidents"]["P3"]["breached"],
        serde_json::json!(["INC-003"])
    );
    // Day 3 has no active-users figure.
    assert_eq!(h["days"][2]["metrics"]["active_users"]["met"], Value::Null);
    assert_eq!(h["days"][1]["metrics"]["uptime"]["met"], true);
    assert_eq!(h["recommendation"], "CONTINUE");
}
