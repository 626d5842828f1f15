//! A message to thousands: what the message page lists stays bounded while every figure
//! stays right, and `comms status` still lists every delivery. The minimal fixture's
//! `everyone` audience as 5,100 people in three zones: the main wave's get-ready page has
//! three deliveries (Tokyo 1,500, Paris 2,100, New York 1,500, in that order of sending).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use scraper::{Html, Selector};

const PARIS: usize = 2_100;
const ELSEWHERE: usize = 1_500;

fn project() -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let (dir, root) = copy_project(&fixture("minimal"));
    let mut csv = String::from("email,name,locale,timezone\n");
    let mut emails = Vec::new();
    for i in 0..PARIS + 2 * ELSEWHERE {
        let zone = match i {
            i if i < PARIS => "",
            i if i < PARIS + ELSEWHERE => "America/New_York",
            _ => "Asia/Tokyo",
        };
        let email = format!("person{i}@example.com");
        csv.push_str(&format!("{email},Person {i},,{zone}\n"));
        emails.push(email);
    }
    std::fs::write(root.join("content/audiences/everyone.csv"), csv).unwrap();
    (dir, root, emails)
}

/// The ledger `comms send` leaves after sending the main wave's get-ready to everyone.
fn sent_to_everyone(root: &Path, emails: &[String]) {
    let mut lines = String::new();
    for (i, to) in emails.iter().enumerate() {
        for event in ["claim", "sent"] {
            lines.push_str(&format!(
                "{{\"event\":\"{event}\",\"at\":\"2027-03-15T08:00:{:02}Z\",\"id\":\"get-ready\",\"wave\":\"main\",\"to\":\"{to}\",\"locale\":\"en\",\"message_id\":\"<{i}.get-ready@example.com>\",\"reply\":\"250 OK\",\"pid\":1}}\n",
                i % 60
            ));
        }
    }
    std::fs::create_dir_all(root.join(".tminus")).unwrap();
    std::fs::write(root.join(".tminus/sent.jsonl"), lines).unwrap();
}

fn page(root: &Path) -> Html {
    Html::parse_document(&read(
        &root.join("output/v2.0/comms/get-ready/main/index.html"),
    ))
}

fn count(html: &Html, css: &str) -> usize {
    html.select(&Selector::parse(css).unwrap()).count()
}

fn words(html: &Html) -> String {
    html.root_element()
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_message_to_thousands_lists_a_bounded_page_with_every_figure_right() {
    let (_dir, root, emails) = project();

    // No ledger: each delivery lists at most 2,000 recipients by name, and says how many more.
    ok(&root, &["build"]);
    let html = page(&root);
    let text = words(&html);
    assert_eq!(
        count(&html, "ul.recipients li"),
        ELSEWHERE + 2_000 + ELSEWHERE
    );
    assert!(text.contains(&format!("{PARIS} recipients")), "{text}");
    assert!(
        text.contains("The first 2000 are listed; 100 more are not"),
        "{text}"
    );

    // Everyone sent: the status tables list at most 4,000 rows on the page (each table at
    // most 2,000), what is left out is counted, and the counts cover everyone.
    sent_to_everyone(&root, &emails);
    // (An approved version keeps the status it was published with: `--force` refreshes it.)
    ok(&root, &["build", "--force"]);
    let html = page(&root);
    let text = words(&html);
    assert_eq!(count(&html, "table.delivery-table tbody tr"), 4_000);
    assert!(
        text.contains(&format!("{} sent", PARIS + 2 * ELSEWHERE)),
        "the page's total: {text}"
    );
    for (listed, more) in [(2_000, PARIS - 2_000), (500, ELSEWHERE - 500)] {
        let note = format!("The first {listed} are listed; {more} more are not");
        assert!(text.contains(&note), "{note}");
    }
    assert!(text.contains(&format!("Every recipient ({ELSEWHERE})")));
    assert!(text.contains(&format!("Every recipient ({PARIS})")));

    // `comms status` lists every delivery, one row each.
    let out = ok(&root, &["comms", "status", "--now", "2027-02-01T00:00:00Z"]);
    let total = PARIS + 2 * ELSEWHERE;
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("get-ready/main/en"))
            .count(),
        total
    );
    assert!(
        out.ends_with(&format!(
            "{} deliveries: {total} sent, 1 scheduled (0 due), 0 failed, 0 in doubt, 0 missed, 0 held, 0 cancelled\n",
            total + 1
        )),
        "{}",
        &out[out.len().saturating_sub(300)..]
    );
}
