//! End to end, for readers: the search index, the training catalogue and the calendars of
//! the built example site. (The browser side is tested in `tests/browser/`.)

mod common;

use common::*;
use serde_json::Value;

#[test]
fn search_index_is_a_script_and_every_result_links_to_a_real_section() {
    let (_guard, root) = example();
    ok(&root, &["build"]);
    let v = root.join("output/v1.2");
    let js = read(&v.join("searchindex.js"));
    let json = js
        .strip_prefix("window.searchIndex = ")
        .and_then(|s| s.trim_end().strip_suffix(';'))
        .expect("window.searchIndex = {...};");
    let index: Value = serde_json::from_str(json).unwrap();
    assert_eq!(index["elasticlunr"], "0.9.5");
    assert_eq!(index["format"], "tminus-elasticlunr-1");
    let docs = index["docs"].as_array().unwrap();
    assert!(docs.len() > 60, "{} documents", docs.len());
    let mut kinds: Vec<&str> = docs.iter().map(|d| d[1].as_str().unwrap()).collect();
    kinds.sort();
    kinds.dedup();
    for kind in [
        "FAQ",
        "Guide",
        "Runbook",
        "Runbook step",
        "Page",
        "Quick reference",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    for d in docs {
        let url = d[3].as_str().unwrap();
        let (file, anchor) = url.split_once('#').unwrap_or((url, ""));
        let html = read(&v.join(file));
        if !anchor.is_empty() {
            assert!(
                html.contains(&format!("id=\"{anchor}\"")),
                "{url}: no element with that id"
            );
        }
    }
    // Every page offers the search box and the search page exists.
    assert!(read(&v.join("index.html")).contains("data-index=\"searchindex.js\""));
    assert!(
        read(&v.join("runbooks/deploy/index.html")).contains("data-index=\"../../searchindex.js\"")
    );
    assert!(v.join("search/index.html").is_file());
    assert!(v.join("assets/elasticlunr.min.js").is_file());
}

#[test]
fn training_catalogue_has_learning_paths_and_calendar_links() {
    let (_guard, root) = example();
    ok(&root, &["build"]);
    let v = root.join("output/v1.2");
    let html = read(&v.join("training/index.html"));
    for role in ["all-staff", "pilot-users", "service-desk", "app-owner"] {
        assert!(
            html.contains(&format!("id=\"path-{role}\"")),
            "no path for {role}"
        );
    }
    // The end-user path: guide (order 1), quick reference (2), exercise (3), FAQ (4).
    let path = html.split("id=\"path-all-staff\"").nth(1).unwrap();
    let path = path.split("</article>").next().unwrap();
    let order: Vec<usize> = [
        "end-user-guide",
        "quick-reference",
        "exercise-first-job",
        "faq",
    ]
    .iter()
    .map(|g| path.find(&format!("training/{g}/index.html")).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(path.contains("1h40m in total"), "{path}");

    // Each session: a row with its own .ics, which holds one event in the zone of its
    // audience (the project zone, except the Boston pilot's in New York).
    let mut links = 0;
    for part in html.split("href=\"").skip(1) {
        let href = part.split('"').next().unwrap();
        if href.starts_with("../training/sessions/") && href.ends_with(".ics") {
            links += 1;
            let ics = read(&v.join(href.trim_start_matches("../")));
            let zone = if href.contains("pilot-induction") {
                "America/New_York"
            } else {
                "Europe/London"
            };
            assert!(
                ics.contains(&format!("BEGIN:VTIMEZONE\r\nTZID:{zone}\r\n")),
                "{ics}"
            );
            assert!(ics.contains(&format!("DTSTART;TZID={zone}:")), "{ics}");
            assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1);
        }
    }
    assert_eq!(links, 8);
    let all = read(&v.join("training/sessions.ics"));
    assert_eq!(all.matches("BEGIN:VEVENT").count(), 8);
    assert_eq!(all.matches("BEGIN:VTIMEZONE").count(), 2);
    assert!(all.contains("METHOD:PUBLISH"));
    // Wall-clock times in the audience's zone (14:00 London is 09:00 in Boston); the
    // project zone has its GMT and BST observances.
    assert!(all.contains("DTSTART;TZID=America/New_York:20270222T090000"));
    assert!(all.contains("DTSTART;TZID=Europe/London:20270223T100000"));
    assert!(all.contains("TZOFFSETTO:+0100"));
}
