//! `tminus serve`: the real binary on 127.0.0.1, a file changed on disk, the reload seen
//! through the long poll; a broken file shows its error above the last good page; nothing
//! is written to output/.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Serve {
    child: Child,
    base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(root: &Path, log: &Path) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tminus"))
        .arg("--root")
        .arg(root)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("spawn tminus serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    Serve {
        child,
        base: url.trim_end_matches('/').to_string(),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn get(base: &str, path: &str) -> (u16, String) {
    let mut r = agent().get(&format!("{base}{path}")).call().unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().unwrap())
}

fn generation(base: &str) -> u64 {
    let (_, body) = get(base, "/__tminus/status");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["generation"].as_u64().unwrap()
}

/// Starts a long poll, runs `change`, and returns the generation the poll answered with.
fn change_and_wait(base: &str, change: impl FnOnce()) -> u64 {
    let since = generation(base);
    let url = format!("{base}/__tminus/poll?since={since}");
    let poll = std::thread::spawn(move || {
        let mut r = agent().get(&url).call().unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        v["generation"].as_u64().unwrap()
    });
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    change();
    let g = poll.join().unwrap();
    assert!(g > since, "no reload signal within {:?}", started.elapsed());
    g
}

#[test]
fn serve_reloads_on_change_shows_errors_and_writes_nothing() {
    let (_g, root) = copy_project(&fixture("minimal"));
    // A theme that shows page bodies, whatever the built-in theme looks like.
    let t = root.join("themes/plain/templates");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("page.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>{{ page.title }}</h1>{{ content.body_html | safe }}{% endblock content %}",
    )
    .unwrap();
    let project = root.join("content/project.yaml");
    std::fs::write(
        &project,
        format!("{}site: {{ theme: plain }}\n", read(&project)),
    )
    .unwrap();
    let log = root.join("serve.log");
    let s = start(&root, &log);
    let base = s.base.clone();

    let (status, index) = get(&base, "/");
    assert_eq!(status, 200);
    assert!(index.contains("v2.0/index.html"), "{index}");
    let (status, page) = get(&base, "/v2.0/pages/hypercare/index.html");
    assert_eq!(status, 200);
    assert!(page.contains("P1 incidents"), "{page}");
    assert!(page.contains("tminus serve: live reload"), "{page}");
    let (status, css) = get(&base, "/v2.0/assets/syntax.css");
    assert_eq!(status, 200);
    assert!(!css.contains("live reload"));
    let (status, missing) = get(&base, "/v2.0/nope/index.html");
    assert_eq!(status, 404);
    assert!(missing.contains("Page not found"), "{missing}");

    // A body-only change: the page is re-rendered alone and the browser told to reload.
    let (_, index_before) = get(&base, "/v2.0/searchindex.js");
    assert!(!index_before.contains("\"p0\""));
    let page_file = root.join("content/pages/hypercare.md");
    change_and_wait(&base, || {
        edit(&page_file, "P1 incidents", "P0 and P1 incidents")
    });
    let (_, page) = get(&base, "/v2.0/pages/hypercare/index.html");
    assert!(page.contains("P0 and P1 incidents"), "{page}");
    // The search index follows, made again in the background.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, index) = get(&base, "/v2.0/searchindex.js");
        if index.contains("\"p0\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the search index never had the edit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // A broken file: the error, with file and line, above the last good page.
    let cutover = root.join("content/cutover.yaml");
    change_and_wait(&base, || edit(&cutover, "duration: 2h", "duraton: 2h"));
    let (status, page) = get(&base, "/v2.0/pages/hypercare/index.html");
    assert_eq!(status, 200);
    assert!(page.contains("tminus-build-errors"), "{page}");
    assert!(page.contains("cutover.yaml"), "{page}");
    assert!(page.contains("unknown key `duraton`"), "{page}");
    assert!(
        page.contains("P0 and P1 incidents"),
        "the last good page stays: {page}"
    );

    // Fixed: the error goes away.
    change_and_wait(&base, || edit(&cutover, "duraton: 2h", "duration: 2h"));
    let (_, page) = get(&base, "/v2.0/pages/hypercare/index.html");
    assert!(!page.contains("tminus-build-errors"), "{page}");

    // A theme change is a full rebuild.
    change_and_wait(&base, || {
        std::fs::write(
            t.join("page.html"),
            "{% extends \"base.html\" %}{% block content %}<h1>THEMED {{ page.title }}</h1>{{ content.body_html | safe }}{% endblock content %}",
        )
        .unwrap()
    });
    let (_, page) = get(&base, "/v2.0/pages/hypercare/index.html");
    assert!(page.contains("THEMED Hypercare"), "{page}");

    drop(s);
    assert!(
        !root.join("output").exists(),
        "serve must not write output/"
    );
    let log = read(&log);
    assert!(
        log.contains("re-rendered pages/hypercare/index.html"),
        "the body edit should be incremental:\n{log}"
    );
    assert!(log.contains("rebuilt everything"), "{log}");
}

/// What depends on the clock: `generated_at` in plan.json, `DTSTAMP` in calendars.
fn without_clock(text: &str) -> String {
    let generated = regex::Regex::new(r#""generated_at": ?"[^"]*""#).unwrap();
    let dtstamp = regex::Regex::new(r"(?m)^DTSTAMP:.*$").unwrap();
    let text = generated.replace_all(text, "\"generated_at\":\"-\"");
    dtstamp.replace_all(&text, "DTSTAMP:-").into_owned()
}

/// `serve` and `build` go through one build sequence: the calendars and `plan.json` served
/// carry the SEQUENCE numbers `build` writes (bumped for the tasks that moved since the
/// version in output/), not 0.
#[test]
fn served_calendars_and_plan_json_are_the_ones_build_writes() {
    let (_g, root) = copy_project(&fixture("changes/v1"));
    ok(&root, &["build"]);
    // v2 moves tasks: their SEQUENCE goes up against v1's plan.json in output/.
    std::fs::remove_dir_all(root.join("content")).unwrap();
    copy_dir(&fixture("changes/v2/content"), &root.join("content"));

    let dir = tempfile::tempdir().unwrap();
    let server = start(&root, &dir.path().join("serve.log"));
    let mut served = BTreeMap::new();
    let (status, plan) = get(&server.base, "/v1.1/plan.json");
    assert_eq!(status, 200, "{plan}");
    served.insert("plan.json".to_string(), plan);
    // The calendars: the whole plan, one per role, the training sessions.
    let cutover = root.join("content/cutover.yaml");
    let roles: std::collections::BTreeSet<String> = read(&cutover)
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("owner:")
                .map(|o| o.trim().to_string())
        })
        .collect();
    let mut calendars = vec![
        "cutover/cutover.ics".to_string(),
        "training/sessions.ics".to_string(),
    ];
    calendars.extend(roles.iter().map(|r| format!("cutover/{r}.ics")));
    for path in &calendars {
        let (status, body) = get(&server.base, &format!("/v1.1/{path}"));
        assert_eq!(status, 200, "{path}: {body}");
        served.insert(path.clone(), body);
    }
    drop(server);

    ok(&root, &["build"]);
    let out = root.join("output/v1.1");
    for (path, body) in &served {
        assert_eq!(
            without_clock(body),
            without_clock(&read(&out.join(path))),
            "{path} served differs from the one built"
        );
    }
    // The test can fail: moved tasks have a SEQUENCE above 0 (serve used to write 0).
    assert!(
        served["cutover/cutover.ics"].contains("SEQUENCE:1"),
        "{}",
        served["cutover/cutover.ics"]
    );
    assert!(served["plan.json"].contains("\"sequence\": 1"));
}
