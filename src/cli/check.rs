//! `tminus check [--external]`: validate the project and every link; write nothing.

use std::path::Path;
use std::time::Duration;

use tminus::site::links::{self, Outcome};

pub fn run(root: &Path, external: bool, timeout: u64, now: Option<tminus::site::Now>) -> i32 {
    let checked = match tminus::site::check_site_at(root, &root.join("output"), now) {
        Ok(c) => c,
        Err(d) => return super::report(&d),
    };
    let p = &checked.prepared.project;
    for d in p.audiences.values().flat_map(|a| &a.duplicates) {
        eprintln!("{}\n", d.as_warning());
    }
    println!(
        "ok: {} — {} runbooks, {} checklists, {} guides, {} scheduled messages, {} tasks; {} pages, {} internal links",
        p.name,
        p.runbooks.len(),
        p.checklists.len(),
        p.guides.len(),
        checked.prepared.comms.len(),
        p.cutover.tasks.len(),
        checked.pages.len(),
        checked.links
    );
    if !external {
        return 0;
    }
    let found = links::external_links(p, &checked.pages, &checked.prepared.comms);
    let urls: Vec<String> = found.keys().cloned().collect();
    eprintln!(
        "checking {} external link{} ({}s timeout each)…",
        urls.len(),
        if urls.len() == 1 { "" } else { "s" },
        timeout
    );
    let results = links::check_external(&urls, Duration::from_secs(timeout), 8);
    let (mut ok, mut broken, mut timed_out, mut failed) = (0, 0, 0, 0);
    for (url, outcome) in &results {
        let problem = match outcome {
            Outcome::Ok(_) => {
                ok += 1;
                continue;
            }
            Outcome::Status(code) => {
                broken += 1;
                format!("HTTP {code}")
            }
            Outcome::TimedOut => {
                timed_out += 1;
                format!("no answer within {timeout}s")
            }
            Outcome::Failed(e) => {
                failed += 1;
                e.clone()
            }
        };
        let places = &found[url];
        let shown: Vec<&str> = places.iter().take(3).map(String::as_str).collect();
        let more = if places.len() > 3 {
            format!(" and {} more", places.len() - 3)
        } else {
            String::new()
        };
        eprintln!(
            "error: external link {url}: {problem}\n  on: {}{more}",
            shown.join(", ")
        );
    }
    println!(
        "external links: {} checked — {ok} ok, {broken} broken, {timed_out} timed out, {failed} unreachable",
        results.len()
    );
    i32::from(broken + timed_out + failed > 0)
}
