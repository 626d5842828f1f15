//! The delivery status on the site: `comms send` against the real SMTP test server
//! (`common/smtp.rs`, one recipient rejected with 550), then `tminus build`, and the comms
//! pages, message pages and `plan.json` read back.
//!
//! The fixture's dates are moved to 2097 so that what was not sent is "scheduled" whatever
//! the real clock says (the build computes the states at its own time).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use scraper::{Html, Selector};

const NOW: &str = "2097-03-15T12:00:00Z"; // the main wave's get-ready went out 4h ago

/// The minimal fixture as a draft in 2097: 8 recipients in the main wave (every 4th in
/// French) and a second message, `almost-here`, at T-2d.
fn project() -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = copy_project(&fixture("minimal"));
    let mut csv = String::from("email,name,locale,timezone\n");
    for i in 1..=8 {
        let locale = if i % 4 == 0 { "fr" } else { "" };
        csv.push_str(&format!("user{i}@example.com,User {i},{locale},\n"));
    }
    std::fs::write(root.join("content/audiences/everyone.csv"), csv).unwrap();
    let yaml = root.join("content/project.yaml");
    let text = read(&yaml)
        .replace("2027-", "2097-")
        .replace("status: approved", "status: draft");
    std::fs::write(
        &yaml,
        text + "comms: { max_lateness: 24h, rate_per_second: 500 }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("content/comms/almost-here.md"),
        "---\nid: almost-here\nsubject: \"{{ system }} is almost here\"\nsend: T-2d 09:00\naudience: wave\nper_wave: true\n---\nTwo days to go, {{ recipient.name | default(value=\"colleague\") }}.\n",
    )
    .unwrap();
    (dir, root)
}

fn send(root: &Path, port: u16, now: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tminus"))
        .arg("--root")
        .arg(root)
        .args(["comms", "send", "--due", "--now", now])
        .env("TMINUS_SMTP_HOST", "127.0.0.1")
        .env("TMINUS_SMTP_PORT", port.to_string())
        .env("TMINUS_SMTP_RETRY_DELAY_MS", "20")
        .env_remove("TMINUS_SMTP_USERNAME")
        .env_remove("TMINUS_SMTP_PASSWORD")
        .output()
        .expect("run tminus")
}

fn page(root: &Path, path: &str) -> Html {
    Html::parse_document(&read(&root.join("output/v2.0").join(path)))
}

fn text(e: scraper::ElementRef) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).unwrap()).collect()
}

/// The schedule's row of a message (by its page link and language): its delivery cell.
fn schedule_cell(html: &Html, href: &str, locale: &str) -> String {
    select(html, "table.schedule tbody tr")
        .into_iter()
        .find(|tr| {
            let t = text(*tr);
            tr.html().contains(&format!("{href}\"")) && t.contains(&locale.to_uppercase())
        })
        .and_then(|tr| select_in(tr, "td").last().map(|td| text(*td)))
        .unwrap_or_else(|| panic!("no row for {href} {locale}"))
}

fn select_in<'a>(e: scraper::ElementRef<'a>, css: &str) -> Vec<scraper::ElementRef<'a>> {
    e.select(&Selector::parse(css).unwrap()).collect()
}

/// Every per-recipient row of a message page: `(recipient, state, time, message-id, reply)`,
/// and which table it is in (`attention` or `others`).
fn recipient_rows(html: &Html) -> Vec<(String, [String; 5])> {
    let mut out = Vec::new();
    for section in select(html, ".delivery-status") {
        for (i, table) in select_in(section, "table.delivery-table")
            .into_iter()
            .enumerate()
        {
            let within_details = table.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|e| e.name() == "details")
            });
            let which = if within_details || i > 0 {
                "others"
            } else {
                "attention"
            };
            for tr in select_in(table, "tbody tr") {
                let cells: Vec<String> = select_in(tr, "td").into_iter().map(text).collect();
                out.push((which.to_string(), cells.try_into().expect("5 cells")));
            }
        }
    }
    out
}

#[test]
fn the_site_shows_who_got_what_after_a_send_and_nothing_without_a_ledger() {
    let (tmp, root) = project();
    let Some(server) =
        common::smtp::start(&tmp.path().join("smtp"), &["--reject", "user2@example.com"])
    else {
        return;
    };

    // No ledger: no status anywhere.
    ok(&root, &["build"]);
    let comms = read(&root.join("output/v2.0/comms/index.html"));
    assert!(!comms.contains("Delivery status") && !comms.contains("send-state"));
    let msg = read(&root.join("output/v2.0/comms/get-ready/main/index.html"));
    assert!(!msg.contains("send-state") && !msg.contains("delivery-status"));
    let plan: serde_json::Value =
        serde_json::from_str(&read(&root.join("output/v2.0/plan.json"))).unwrap();
    assert!(plan.get("delivery").is_none());

    let o = send(&root, server.port, NOW);
    assert_eq!(o.status.code(), Some(1), "user2 fails: {}", stdout(&o));
    assert!(stdout(&o).contains("sent 7, failed 1"), "{}", stdout(&o));

    // A build while a send run holds the lock, with that run's next line half written.
    let ledger_path = root.join(".tminus/sent.jsonl");
    let lock = tminus::send::ledger::Lock::acquire(&root).expect("the lock");
    let mut torn = std::fs::read(&ledger_path).unwrap();
    torn.extend_from_slice(b"{\"event\":\"claim\",\"at\":\"2097-03-15T12:0");
    std::fs::write(&ledger_path, &torn).unwrap();
    let before = chrono::Utc::now();
    ok(&root, &["build"]);
    let after = chrono::Utc::now();
    assert_eq!(
        std::fs::read(&ledger_path).unwrap(),
        torn,
        "the build wrote to the ledger"
    );
    drop(lock);

    // The schedule: counts and a badge per message and wave, "as of" the build.
    let html = page(&root, "comms/index.html");
    let summary = text(select(&html, ".delivery-summary")[0]);
    assert!(
        summary.contains("Failed 7 sent · 1 failed · 10 scheduled"),
        "{summary}"
    );
    assert!(
        summary.contains("1 unreadable line of the ledger was ignored"),
        "{summary}"
    );
    let as_of = select(&html, ".delivery-summary time")[0]
        .value()
        .attr("datetime")
        .unwrap();
    let as_of = chrono::DateTime::parse_from_rfc3339(as_of).unwrap();
    let second = |t: chrono::DateTime<chrono::Utc>| t.timestamp();
    assert!(
        second(before) <= as_of.timestamp() && as_of.timestamp() <= second(after),
        "as of {as_of}, built between {before} and {after}"
    );
    assert_eq!(
        schedule_cell(&html, "get-ready/main/index.html", "en"),
        "Failed 5 sent · 1 failed"
    );
    assert_eq!(
        schedule_cell(&html, "get-ready/main/index.html", "fr"),
        "Sent 2 sent"
    );
    assert_eq!(
        schedule_cell(&html, "almost-here/main/index.html", "en"),
        "Scheduled 8 scheduled"
    );
    // The pilot's message was missed at NOW (never sent); in the real present it is ahead.
    assert_eq!(
        schedule_cell(&html, "get-ready/pilot/index.html", "en"),
        "Scheduled 1 scheduled"
    );
    let waves: Vec<String> = select(&html, ".delivery-line")
        .into_iter()
        .map(text)
        .collect();
    assert_eq!(
        waves,
        [
            "Scheduled 2 scheduled",
            "Failed 7 sent · 1 failed · 8 scheduled"
        ]
    );

    // The message page: one row per recipient, failures first, with the server's reply;
    // sent rows carry the Message-ID the server received.
    let html = page(&root, "comms/get-ready/main/index.html");
    let rows = recipient_rows(&html);
    assert_eq!(rows.len(), 8, "{rows:?}");
    let (which, failed) = &rows[0];
    assert_eq!(which, "attention");
    assert!(
        failed[0].contains("user2@example.com") && failed[1] == "Failed",
        "{failed:?}"
    );
    assert!(
        failed[4].contains("550") && failed[4].contains("User unknown"),
        "{failed:?}"
    );
    assert!(!failed[2].is_empty(), "the time it failed: {failed:?}");
    let parser = mail_parser::MessageParser::default();
    let received = server.received();
    assert_eq!(received.len(), 7);
    for (to, bytes) in &received {
        let id = format!("<{}>", parser.parse(bytes).unwrap().message_id().unwrap());
        let (which, row) = rows
            .iter()
            .find(|(_, r)| r[0].contains(&format!("<{}>", to[0])))
            .unwrap_or_else(|| panic!("no row for {}", to[0]));
        assert_eq!(which, "others");
        assert_eq!(row[1], "Sent", "{row:?}");
        assert_eq!(row[3], id, "{row:?}");
        assert!(row[4].starts_with("250"), "{row:?}");
        assert!(!row[2].is_empty(), "a sent time: {row:?}");
    }
    let header = text(select(&html, ".page-head .meta")[0]);
    assert!(
        header.contains("Delivery status Failed 7 sent · 1 failed as of"),
        "{header}"
    );

    let html = page(&root, "comms/almost-here/main/index.html");
    let rows = recipient_rows(&html);
    assert_eq!(rows.len(), 8);
    assert!(rows
        .iter()
        .all(|(w, r)| w == "others" && r[1] == "Scheduled" && r[2].is_empty() && r[3].is_empty()));
    assert!(
        select(&html, ".delivery-status h3").is_empty(),
        "nothing needs attention"
    );

    // plan.json: counts beside SPEC's keys.
    let plan: serde_json::Value =
        serde_json::from_str(&read(&root.join("output/v2.0/plan.json"))).unwrap();
    for key in ["version", "tasks", "critical_path", "comms", "checklists"] {
        assert!(plan.get(key).is_some(), "{key}");
    }
    let d = &plan["delivery"];
    assert_eq!(d["total"]["sent"], 7);
    assert_eq!(d["total"]["failed"], 1);
    assert_eq!(d["total"]["scheduled"], 10);
    let items = d["comms"].as_array().unwrap();
    assert_eq!(items.len(), plan["comms"].as_array().unwrap().len());
    let main_en = items
        .iter()
        .find(|c| c["id"] == "get-ready" && c["wave"] == "main" && c["locale"] == "en")
        .unwrap();
    assert_eq!(
        (main_en["sent"].as_u64(), main_en["failed"].as_u64()),
        (Some(5), Some(1))
    );

    // A draft rebuilt after later sends shows them: user2 accepted by a second server.
    drop(server);
    let Some(second) = common::smtp::start(&tmp.path().join("smtp2"), &[]) else {
        return;
    };
    let o = send(&root, second.port, NOW);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("sent 1, failed 0"), "{}", stdout(&o));
    ok(&root, &["build"]);
    let html = page(&root, "comms/index.html");
    assert_eq!(
        schedule_cell(&html, "get-ready/main/index.html", "en"),
        "Sent 6 sent"
    );
    // The torn line stays where it was (the next run starts on a fresh line), skipped.
    assert!(text(select(&html, ".delivery-summary")[0]).contains("1 unreadable line"));

    // An approved version is frozen: a rebuild from the same sources keeps the status of
    // the build that published it, and `--force` refreshes it.
    let yaml = root.join("content/project.yaml");
    edit(&yaml, "status: draft", "status: approved");
    ok(&root, &["build"]);
    let o = send(&root, second.port, "2097-03-27T09:30:00Z");
    assert!(stdout(&o).contains("sent 8,"), "{}", stdout(&o));
    let out = ok(&root, &["build"]);
    assert!(out.contains("sources are unchanged"), "{out}");
    let html = page(&root, "comms/index.html");
    assert_eq!(
        schedule_cell(&html, "almost-here/main/index.html", "en"),
        "Scheduled 8 scheduled"
    );
    ok(&root, &["build", "--force"]);
    let html = page(&root, "comms/index.html");
    assert_eq!(
        schedule_cell(&html, "almost-here/main/index.html", "en"),
        "Sent 8 sent"
    );
}
