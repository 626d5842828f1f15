//! End to end: build projects into temporary folders and check the site that comes out.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn example_project_builds_every_page_kind() {
    let (_guard, root) = example();
    let out_text = ok(&root, &["build"]);
    assert!(out_text.contains("built v1.2"), "{out_text}");
    let v = root.join("output/v1.2");
    for page in [
        "index.html",
        "cutover/index.html",
        "runbooks/index.html",
        "runbooks/deploy/index.html",
        "runbooks/rollback/index.html",
        "checklists/index.html",
        "checklists/go-live-readiness/index.html",
        "training/index.html",
        "training/faq/index.html",
        "training/quick-reference/index.html",
        "training/sessions.ics",
        "comms/index.html",
        "comms/get-ready/pilot/index.html",
        "comms/get-ready/early-adopters/fr-20270301T0800Z.eml",
        "comms/were-live/main-rollout/index.html",
        "pages/hypercare/index.html",
        "plan.json",
        "assets/syntax.css",
    ] {
        assert!(v.join(page).is_file(), "missing {page}");
    }
    assert!(root.join("output/latest/index.html").is_file());
    assert!(root.join("output/index.html").is_file());
    let versions: Value = serde_json::from_str(&read(&root.join("output/versions.json"))).unwrap();
    assert_eq!(versions["latest"], "1.2");

    let plan: Value = serde_json::from_str(&read(&v.join("plan.json"))).unwrap();
    assert_eq!(plan["version"], "1.2");
    assert!(plan["tasks"].as_array().unwrap().len() >= 40);
    let readiness = plan["checklists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "go-live-readiness")
        .unwrap();
    assert_eq!(readiness["recommendation"], "CONDITIONAL GO");
    // Five announcements for each of three waves, plus locale and zone splits.
    let comms = plan["comms"].as_array().unwrap();
    for id in [
        "get-ready",
        "almost-here",
        "final-reminder",
        "were-live",
        "hows-it-going",
    ] {
        for wave in ["pilot", "early-adopters", "main-rollout"] {
            assert!(
                comms.iter().any(|c| c["id"] == id && c["wave"] == wave),
                "no {id} for {wave}"
            );
        }
    }
    let fr = comms
        .iter()
        .find(|c| c["id"] == "get-ready" && c["locale"] == "fr")
        .unwrap();
    assert_eq!(
        fr["send_at"], "2027-03-01T09:00:00+01:00",
        "09:00 Paris time, two weeks before 15 March"
    );
}

#[test]
fn every_internal_link_resolves_in_the_built_site() {
    let (_guard, root) = example();
    ok(&root, &["build"]);
    let links = internal_links(&root.join("output"));
    assert!(links.len() > 200, "only {} links found", links.len());
    let mut broken = Vec::new();
    for (page, link) in links {
        let target = link.split(['#', '?']).next().unwrap();
        if target.is_empty() {
            continue;
        }
        let resolved = page.parent().unwrap().join(target);
        if !resolved.exists() {
            broken.push(format!(
                "{} -> {link}",
                page.strip_prefix(root.join("output")).unwrap().display()
            ));
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn fixture_plan_json_has_times_slack_and_recommendations() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    ok(&root, &["build"]);
    let plan: Value = serde_json::from_str(&read(&root.join("output/v2.0/plan.json"))).unwrap();
    let task = |id: &str| {
        plan["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(task("freeze")["start"], "2027-03-29T18:00:00+01:00");
    assert_eq!(task("backup")["finish"], "2027-03-29T20:30:00+01:00");
    assert_eq!(task("notes")["slack_minutes"], 60);
    assert_eq!(task("go-no-go")["start"], "2027-03-29T20:30:00+01:00");
    assert_eq!(
        plan["critical_path"],
        serde_json::json!(["freeze", "backup", "go-no-go"])
    );
    assert_eq!(plan["checklists"][0]["recommendation"], "CONDITIONAL GO");
    // T-14d 09:00 in the zone in force: the recipient's (Tokyo), the audience's (Paris), the wave's (New York).
    let send = |email: &str| {
        plan["comms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["recipients"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == email)
            })
            .unwrap()["send_at"]
            .clone()
    };
    assert_eq!(send("ana@example.com"), "2027-03-01T09:00:00-05:00");
    assert_eq!(send("bo@example.com"), "2027-03-15T09:00:00+01:00");
    assert_eq!(send("cy@example.com"), "2027-03-16T09:00:00+09:00");
}

#[test]
fn pages_show_rendered_markdown_escaped_and_highlighted() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    edit(
        &root.join("content/training/guide.md"),
        "title: Getting started",
        "title: \"Getting <started>\"",
    );
    ok(&root, &["build"]);
    let guide = read(&root.join("output/v2.0/training/guide/index.html"));
    assert!(
        guide.contains("Getting &lt;started&gt;"),
        "titles are escaped"
    );
    assert!(!guide.contains("Getting <started>"));
    assert!(
        guide.contains("<table>")
            && guide.contains("type=\"checkbox\"")
            && guide.contains("footnote")
    );
    assert!(guide.contains("hl-"), "code is highlighted at build time");
    let runbook = read(&root.join("output/v2.0/runbooks/deploy/index.html"));
    assert!(
        runbook.contains("href=\"../../checklists/readiness/index.html\""),
        "@/ links become relative"
    );
    assert!(runbook.contains("1h"), "total duration of the runbook");
    let message = read(&root.join("output/v2.0/comms/get-ready/main/index.html"));
    assert!(message.contains("Ledger Online goes live on Monday 29 March"));
    assert!(message.contains("fr-20270315T0800Z.eml"));
    assert!(
        message.contains("srcdoc=\"&lt;!doctype html&gt;&lt;html lang=&quot;en&quot;"),
        "the email's HTML, escaped, in the preview frame"
    );
}

#[test]
fn deliveries_at_one_instant_in_different_zones_have_their_own_eml() {
    // In the example, "were-live" reaches the early adopters in London, Paris and New York
    // at the same instant (09:00 London time, shown to each in their own zone).
    let (_guard, root) = example();
    ok(&root, &["build"]);
    let dir = root.join("output/v1.2/comms/were-live/early-adopters");
    let page = read(&dir.join("index.html"));
    let hrefs: Vec<&str> = page
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.ends_with(".eml"))
        .collect();
    assert_eq!(
        hrefs,
        [
            "en-20270316T0800Z.eml",
            "en-20270316T0800Z-europe-paris.eml",
            "en-20270316T0800Z-america-new-york.eml"
        ]
    );
    let to: std::collections::BTreeSet<String> = hrefs
        .iter()
        .map(|h| {
            read(&dir.join(h))
                .lines()
                .find(|l| l.starts_with("To: "))
                .expect("a To: header")
                .to_string()
        })
        .collect();
    assert_eq!(to.len(), 3, "each is its own delivery's email: {to:?}");
}

#[test]
fn a_new_version_keeps_the_earlier_ones_untouched() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    ok(&root, &["build"]);
    let v2 = snapshot(&root.join("output/v2.0"));
    edit(
        &root.join("content/project.yaml"),
        "version: \"2.0\"",
        "version: \"2.1\"",
    );
    ok(&root, &["build"]);
    assert_eq!(
        snapshot(&root.join("output/v2.0")),
        v2,
        "v2.0 must not change"
    );
    let versions: Value = serde_json::from_str(&read(&root.join("output/versions.json"))).unwrap();
    assert_eq!(versions["latest"], "2.1");
    let listed: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["2.1", "2.0"]);
    let latest = read(&root.join("output/latest/plan.json"));
    assert!(latest.contains("\"version\": \"2.1\""));
    assert!(read(&root.join("output/index.html")).contains("latest/index.html"));
    assert!(read(&root.join("output/versions.js")).contains("\"2.0\""));
}

#[test]
fn two_builds_of_the_same_sources_write_the_same_bytes() {
    let (_guard, root) = example();
    let (a, b) = (root.join("out-a"), root.join("out-b"));
    ok(&root, &["build", "--out", a.to_str().unwrap()]);
    // The first build rendered every document and kept them in the render cache; the
    // second is served from it (nothing new to append), so the comparison below also
    // checks that a cached document is the document.
    let render_cache = root.join(".tminus/cache/render.bin");
    let cached = std::fs::metadata(&render_cache)
        .expect("render cache")
        .len();
    assert!(cached > 10_000, "{cached} bytes");
    // Another second: nothing but the per-build files may show the build time.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(&root, &["build", "--out", b.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&render_cache).unwrap().len(), cached);
    assert_ne!(
        read(&a.join("versions.json")),
        read(&b.join("versions.json"))
    );
    // `plan.json` has `generated_at`, the calendars a DTSTAMP (the time they were made).
    let per_build =
        |p: &std::path::Path| p.ends_with("plan.json") || p.extension().is_some_and(|e| e == "ics");
    let (a, b) = (snapshot(&a.join("v1.2")), snapshot(&b.join("v1.2")));
    let differ: Vec<_> = a
        .iter()
        .filter(|(p, bytes)| !per_build(p) && b.get(*p) != Some(*bytes))
        .map(|(p, _)| p)
        .collect();
    assert!(differ.is_empty(), "differ between builds: {differ:?}");
    assert_eq!(a.len(), b.len());
    let page =
        String::from_utf8_lossy(&a[std::path::Path::new("training/faq/index.html")]).into_owned();
    assert!(
        page.contains("Built with tminus") && page.contains("<span data-built=\"1.2\"></span>"),
        "the footer's build time is filled in from versions.js"
    );
}

#[test]
fn check_writes_nothing() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    ok(&root, &["check"]);
    assert!(!root.join("output").exists());
}

#[test]
fn tminus_new_scaffolds_a_buildable_project_with_the_five_announcements() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("my-cutover");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"))
        .arg("new")
        .arg(&project)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    ok(&project, &["check"]);
    ok(&project, &["build"]);
    let list: Value =
        serde_json::from_str(&ok(&project, &["comms", "list", "--format", "json"])).unwrap();
    let mut ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids,
        [
            "almost-here",
            "cutover-status",
            "final-reminder",
            "get-ready",
            "hows-it-going",
            "hypercare-daily",
            "rollback-notice",
            "were-live"
        ]
    );
    // The night's messages: "We're live" waits for the go/no-go in the second wave, the
    // rollback notice goes only after a NO-GO, the status update repeats every 15 minutes.
    let of = |id: &str, wave: Option<&str>| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id && m["wave"].as_str() == wave)
            .unwrap()
            .clone()
    };
    assert_eq!(of("were-live", Some("everyone"))["gate"], "go-no-go");
    assert!(of("were-live", Some("pilot")).get("gate").is_none());
    assert_eq!(of("rollback-notice", None)["on"], "no-go");
    assert_eq!(of("cutover-status", None)["occurrences"], 17);
    assert_eq!(of("hypercare-daily", None)["occurrences"], 30);
    // Everything the starter schedules is still ahead, whenever it is created.
    let now = chrono::Utc::now();
    for m in list.as_array().unwrap() {
        let at = chrono::DateTime::parse_from_rfc3339(m["send_at"].as_str().unwrap()).unwrap();
        assert!(at > now, "{} is scheduled in the past: {at}", m["id"]);
    }
    // A second `new` into the same folder is refused.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"))
        .arg("new")
        .arg(&project)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn tminus_new_go_live_moves_every_starter_date_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"))
        .args(["new", "--go-live", "2030-01-07"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Monday 7 January 2030"),
        "{}",
        stdout(&o)
    );
    let yaml = read(&project.join("content/project.yaml"));
    assert!(yaml.contains("go_live: 2030-01-07T18:00"), "{yaml}");
    // The pilot wave kept its two weeks' lead, across the year boundary.
    assert!(yaml.contains("go_live: 2029-12-24T18:00"), "{yaml}");
    ok(&project, &["check"]);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_tminus"))
        .args(["new", "--go-live", "2030-13-01"])
        .arg(dir.path().join("q"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "clap rejects a bad date");
    assert!(stderr(&bad).contains("--go-live"), "{}", stderr(&bad));
}

#[test]
fn comms_preview_writes_a_standard_eml() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    let eml = root.join("x.eml");
    let text = ok(
        &root,
        &[
            "comms",
            "preview",
            "get-ready",
            "--wave",
            "main",
            "--eml",
            eml.to_str().unwrap(),
        ],
    );
    assert!(
        text.contains("Subject:  Ledger Online goes live on Monday 29 March"),
        "{text}"
    );
    let raw = read(&eml);
    assert!(raw.contains("Auto-Submitted: auto-generated"));
    assert!(raw.contains("multipart/alternative"));
    assert!(raw.contains("Message-ID: <"));
    let o = tminus(&root, &["comms", "preview", "get-ready"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--wave"), "{}", stderr(&o));
}

#[test]
fn the_critical_path_ends_at_the_plans_last_critical_milestone() {
    // The example's plan ends with `announce` and the zero-duration `hypercare-start` after
    // it, both finishing at one instant: the path must not stop one task short.
    let (_guard, root) = example();
    let out = root.join("out");
    ok(&root, &["build", "--out", out.to_str().unwrap()]);
    let version = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with('v'))
        .unwrap()
        .path();
    let plan: Value = serde_json::from_str(&read(&version.join("plan.json"))).unwrap();
    let path = plan["critical_path"].as_array().unwrap();
    assert_eq!(path.last().unwrap(), "hypercare-start");
    let critical: Vec<&Value> = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["critical"] == true)
        .map(|t| &t["id"])
        .collect();
    let last_finish = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["critical"] == true)
        .map(|t| t["finish"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    let end = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| &t["id"] == path.last().unwrap())
        .unwrap();
    assert!(critical.contains(&&end["id"]));
    assert_eq!(end["finish"].as_str().unwrap(), last_finish);
}

#[test]
fn every_page_links_the_t_minus_icon() {
    // Without a <link rel="icon">, every page view asks the server for /favicon.ico (a 404
    // in the log and a console error). The links themselves are checked by
    // every_internal_link_resolves_in_the_built_site.
    let (_guard, root) = example();
    ok(&root, &["build"]);
    let mut pages = 0;
    for entry in walkdir::WalkDir::new(root.join("output"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
    {
        pages += 1;
        let html = read(entry.path());
        assert!(
            html.contains("<link rel=\"icon\""),
            "{} has no icon",
            entry.path().display()
        );
    }
    assert!(pages > 40);
    assert!(root.join("output/latest/assets/favicon.svg").is_file());
}

#[test]
fn roles_are_written_as_the_roster_writes_them() {
    // The example gives `dba` the title "DBA"; the minimal fixture gives no title, so the id
    // is shown as written. Neither may become "Dba".
    let (_guard, root) = example();
    ok(&root, &["build"]);
    let sheet = read(&root.join("output/latest/cutover/run-sheets/dba/index.html"));
    assert!(sheet.contains("Run sheet: DBA"), "{sheet}");
    let (_guard2, minimal) = copy_project(&fixture("minimal"));
    ok(&minimal, &["build"]);
    let sheet = read(&minimal.join("output/latest/cutover/run-sheets/dba/index.html"));
    assert!(sheet.contains("Run sheet: dba"));
    for dir in [root.join("output/latest"), minimal.join("output/latest")] {
        for entry in walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
        {
            let p = entry.path();
            if p.extension().is_some_and(|x| x == "html" || x == "ics") {
                let text = read(p);
                assert!(!text.contains("Dba"), "{} says Dba", p.display());
                assert!(!text.contains("Devops"), "{} says Devops", p.display());
            }
        }
    }
}

#[test]
fn times_in_the_example_emails_carry_the_recipients_zone() {
    // The pilot (Boston) reads the go-live time in Eastern time, the main rollout in UK time:
    // a bare "18:00" would be read in the reader's own zone.
    let (_guard, root) = example();
    let pilot = ok(&root, &["comms", "preview", "get-ready", "--wave", "pilot"]);
    assert!(
        pilot.contains("read-only at *18:00 EST on Monday 1 March*"),
        "{pilot}"
    );
    let main = ok(
        &root,
        &[
            "comms",
            "preview",
            "final-reminder",
            "--wave",
            "main-rollout",
        ],
    );
    assert!(main.contains("18:00 BST on Monday"), "{main}");
}
