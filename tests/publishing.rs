//! Publishing: immutable approved versions, atomic writes (a killed build), the "what
//! changed" page, link checking (internal and, against a local server, external),
//! base_url, sitemap and 404.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn an_approved_version_cannot_change_unless_forced() {
    let (_g, root) = copy_project(&fixture("minimal"));
    let out = root.join("output");
    ok(&root, &["build"]);
    let versions = read(&out.join("versions.json"));
    assert!(versions.contains("\"status\": \"approved\""), "{versions}");
    assert!(
        versions.contains("\"fingerprint\": \"sha256:"),
        "{versions}"
    );
    let before = snapshot(&out);

    // Same sources: nothing is rewritten.
    let again = ok(&root, &["build"]);
    assert!(again.contains("unchanged"), "{again}");
    assert_eq!(snapshot(&out), before);

    // Different sources: refused, output untouched.
    edit(
        &root.join("content/cutover.yaml"),
        "duration: 2h",
        "duration: 3h",
    );
    let refused = tminus(&root, &["build"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("version 2.0 is approved") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        snapshot(&out),
        before,
        "a refused build must not touch output/"
    );

    // --force rebuilds it, with the new fingerprint.
    ok(&root, &["build", "--force"]);
    let plan = read(&out.join("v2.0/plan.json"));
    assert!(plan.contains("\"duration_minutes\": 180"), "{plan}");
    assert_ne!(read(&out.join("versions.json")), versions);

    // A draft can be rebuilt freely.
    edit(
        &root.join("content/project.yaml"),
        "status: approved",
        "status: draft",
    );
    edit(&root.join("content/project.yaml"), "\"2.0\"", "\"2.1\"");
    ok(&root, &["build"]);
    edit(
        &root.join("content/cutover.yaml"),
        "duration: 3h",
        "duration: 4h",
    );
    ok(&root, &["build"]);
    assert!(read(&out.join("v2.1/plan.json")).contains("\"duration_minutes\": 240"));
}

#[test]
fn a_killed_build_leaves_the_output_intact_and_the_next_build_cleans_up() {
    let (_g, root) = copy_project(&fixture("minimal"));
    let out = root.join("output");
    edit(
        &root.join("content/project.yaml"),
        "status: approved",
        "status: draft",
    );
    ok(&root, &["build"]);
    let before = visible(&out);
    edit(
        &root.join("content/pages/hypercare.md"),
        "P1 incidents",
        "P0 and P1 incidents",
    );
    // The build stalls for 30 s after writing its pages into the temporary folder (a test
    // hook), so it is certainly killed in the middle of writing.
    let mut child = spawn_stalled_build(&root);
    let deadline = Instant::now() + Duration::from_secs(60);
    let staging = loop {
        let found = std::fs::read_dir(&out).unwrap().flatten().find(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(".tmp-v2.0-") && e.path().join("index.html").is_file()
        });
        if let Some(e) = found {
            break e.path();
        }
        assert!(Instant::now() < deadline, "the build never started writing");
        std::thread::sleep(Duration::from_millis(5));
    };
    // Child::kill is SIGKILL on Unix: no destructor, no cleanup.
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(staging.is_dir(), "the half-written version is left behind");
    assert_eq!(
        visible(&out),
        before,
        "v2.0/, latest/, versions.json must be byte for byte as before"
    );

    ok(&root, &["build"]);
    let leftovers: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-") || n.starts_with(".old-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(read(&out.join("latest/pages/hypercare/index.html")).contains("Hypercare"));
}

#[test]
fn drafts_are_marked_in_versions_json_and_the_switcher_knows_each_versions_pages() {
    let (_g, root) = copy_project(&fixture("minimal"));
    let out = root.join("output");
    edit(
        &root.join("content/project.yaml"),
        "status: approved",
        "status: draft",
    );
    ok(&root, &["build"]);
    // 2.1 has no hypercare page.
    edit(&root.join("content/project.yaml"), "\"2.0\"", "\"2.1\"");
    std::fs::remove_file(root.join("content/pages/hypercare.md")).unwrap();
    let runbook = root.join("content/runbooks/deploy.md");
    let text = read(&runbook);
    std::fs::write(
        &runbook,
        text.replace("See the [readiness checklist](@/checklists/readiness).", ""),
    )
    .unwrap();
    ok(&root, &["build"]);
    let versions: serde_json::Value =
        serde_json::from_str(&read(&out.join("versions.json"))).unwrap();
    assert_eq!(versions["latest"], "2.1");
    let list = versions["versions"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    // Every page of a draft says so.
    for (path, bytes) in snapshot(&out.join("v2.1")) {
        if path.extension().is_some_and(|e| e == "html") {
            assert!(
                String::from_utf8_lossy(&bytes).contains("DRAFT"),
                "{} is not marked DRAFT",
                path.display()
            );
        }
    }
    for v in list {
        assert_eq!(v["status"], "draft");
        assert!(v["built_at"].as_str().unwrap().ends_with('Z'));
    }
    let js = read(&out.join("versions.js"));
    assert!(js.contains("window.TMINUS_PAGES"), "{js}");
    let pages_line = js.lines().find(|l| l.contains("TMINUS_PAGES")).unwrap();
    let pages: serde_json::Value = serde_json::from_str(
        pages_line
            .trim_start_matches("window.TMINUS_PAGES = ")
            .trim_end_matches(';'),
    )
    .unwrap();
    let has = |v: &str, p: &str| {
        pages[v]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str() == Some(p))
    };
    assert!(has("2.0", "pages/hypercare/index.html"));
    assert!(!has("2.1", "pages/hypercare/index.html"));
    assert!(has("2.1", "runbooks/deploy/index.html"));
}

fn changes_fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    copy_dir(&fixture("changes/v1"), &root);
    ok(&root, &["build"]);
    std::fs::remove_dir_all(root.join("content")).unwrap();
    copy_dir(&fixture("changes/v2"), &root);
    ok(&root, &["build"]);
    (dir, root)
}

/// A page's HTML with Tera's escaping of `/` undone, for plain `contains` checks.
fn html(path: &Path) -> String {
    read(path).replace("&#x2F;", "/")
}

fn ids<T>(list: &[T], id: impl Fn(&T) -> &str) -> BTreeSet<String> {
    list.iter().map(|x| id(x).to_string()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_what_changed_page_lists_the_known_differences() {
    let (_g, root) = changes_fixture();
    let out = root.join("output");
    let parse = |v: &str| {
        tminus::render::changes::parse(&std::fs::read(out.join(v).join("plan.json")).unwrap())
            .unwrap()
    };
    let c = tminus::render::changes::compare(&parse("v1.0"), &parse("v1.1"));
    assert_eq!(c.previous.as_deref(), Some("1.0"));
    assert_eq!(ids(&c.go_live, |x| &x.id), set(&["pilot"]));
    assert_eq!(ids(&c.tasks_added, |x| &x.id), set(&["smoke-test"]));
    assert_eq!(ids(&c.tasks_removed, |x| &x.id), set(&["notes"]));
    assert_eq!(
        ids(&c.tasks_retimed, |x| &x.id),
        set(&["backup", "go-no-go"])
    );
    assert_eq!(ids(&c.tasks_reassigned, |x| &x.id), set(&["freeze"]));
    assert_eq!(ids(&c.messages_added, |x| &x.id), set(&["were-live/en"]));
    assert!(c.messages_removed.is_empty());
    assert_eq!(
        ids(&c.messages_retimed, |x| &x.id),
        set(&["get-ready/pilot/en"])
    );
    // The pilot's subject shows its (moved) date; the French text was reworded.
    assert_eq!(
        ids(&c.messages_reworded, |x| &x.id),
        set(&["get-ready/main/fr", "get-ready/pilot/en"])
    );
    let fr = c
        .messages_reworded
        .iter()
        .find(|m| m.id == "get-ready/main/fr")
        .unwrap();
    assert!(fr.text_changed && fr.before == fr.after);
    assert_eq!(c.checklist_items.len(), 1);
    assert_eq!(c.checklist_items[0].text, "Monitoring dashboards");
    assert_eq!(c.checklist_items[0].before.as_deref(), Some("open"));
    assert_eq!(c.checklist_items[0].after.as_deref(), Some("done"));
    // Runbook and page edits: what changed in each (not in plan.json's tasks or comms).
    let docs: Vec<(String, Vec<String>)> = c
        .documents
        .iter()
        .map(|d| (format!("{} {}", d.kind, d.id), d.what.clone()))
        .collect();
    assert_eq!(
        docs,
        vec![
            ("page hypercare".to_string(), vec!["text".to_string()]),
            (
                "runbook deploy".to_string(),
                vec![
                    "step 2 (Migrate) command".to_string(),
                    "step 2 (Migrate) duration 40m → 55m".to_string()
                ]
            ),
        ]
    );
    assert!(
        c.moved_with_go_live.is_empty(),
        "the project's T-0 did not move"
    );
    assert_eq!(c.total, 13);

    // The page says the same.
    let page = html(&out.join("v1.1/changes/index.html"));
    for needle in [
        "What changed in version 1.1",
        "version 1.0",
        "13 changes",
        "step 2 (Migrate) duration 40m → 55m",
        "smoke-test",
        "notes",
        "backup",
        "go-no-go",
        "freeze",
        "cutover-lead",
        "were-live/en",
        "get-ready/pilot/en",
        "get-ready/main/fr",
        "Monitoring dashboards",
        "2027-03-16T18:00:00-04:00",
    ] {
        assert!(page.contains(needle), "{needle:?} missing from:\n{page}");
    }
    assert!(page.contains("href=\"../../v1.0/changes/index.html\""));
    // The first version has nothing to compare with; the approved 1.0 was not rewritten.
    let first = read(&out.join("v1.0/changes/index.html"));
    assert!(first.contains("first version"), "{first}");
}

/// A copy of the minimal fixture whose theme shows the Markdown bodies (so headings give
/// anchors whatever the built-in theme looks like), checked clean.
fn link_project() -> (tempfile::TempDir, PathBuf) {
    let (g, root) = copy_project(&fixture("minimal"));
    let t = root.join("themes/plain/templates");
    std::fs::create_dir_all(&t).unwrap();
    for (name, var) in [
        ("runbook.html", "runbook"),
        ("guide.html", "guide"),
        ("page.html", "content"),
    ] {
        std::fs::write(
            t.join(name),
            format!(
                "{{% extends \"base.html\" %}}{{% block content %}}<h1>{{{{ page.title }}}}</h1>\
                 <h2 id=\"steps\">Steps</h2>{{{{ {var}.body_html | safe }}}}{{% endblock content %}}"
            ),
        )
        .unwrap();
    }
    let project = root.join("content/project.yaml");
    let text = read(&project);
    std::fs::write(&project, format!("{text}site: {{ theme: plain }}\n")).unwrap();
    let out = ok(&root, &["check"]);
    assert!(out.contains("internal links"), "{out}");
    (g, root)
}

fn append(path: &Path, text: &str) {
    let mut s = read(path);
    s.push_str(text);
    std::fs::write(path, s).unwrap();
}

#[test]
fn check_reports_each_kind_of_broken_link_at_its_source() {
    let (_g, root) = link_project();
    append(
        &root.join("content/pages/hypercare.md"),
        "\nSee [the runbook](@/runbooks/deplyo) and [the FAQ](@/training/guide#nope).\n\
         \n![diagram](diagram.png) and [up](../../../../outside.html) and [abs](/x/index.html)\n\
         and [fine](@/training/guide#getting-started) and [here](#hypercare).\n",
    );
    // A theme template with a broken link: reported once, as a theme error.
    std::fs::write(
        root.join("themes/plain/templates/guide.html"),
        "{% extends \"base.html\" %}{% block content %}{{ guide.body_html | safe }}\
         <a href=\"{{ root }}glossary/index.html\">Glossary</a>{% endblock content %}",
    )
    .unwrap();
    let o = tminus(&root, &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    let line = read(&root.join("content/pages/hypercare.md"))
        .lines()
        .position(|l| l.contains("[the runbook]"))
        .unwrap()
        + 1;
    for needle in [
        format!("content/pages/hypercare.md:{line}:5: broken link [the runbook](@/runbooks/deplyo) on page pages/hypercare/: there is no page `runbooks/deplyo/`"),
        "did you mean `@/runbooks/deploy`?".to_string(),
        "broken link [the FAQ](@/training/guide#nope) on page pages/hypercare/: training/guide/ has no anchor `#nope`".to_string(),
        "anchors on that page: ".to_string(),
        "broken link [diagram](diagram.png)".to_string(),
        "broken link [up](../../../../outside.html)".to_string(),
        "it leaves the version folder".to_string(),
        "broken link [abs](/x/index.html)".to_string(),
        "server root".to_string(),
        "theme error: template guide.html links to `glossary/index.html` on page training/guide/index.html".to_string(),
        "6 errors".to_string(),
    ] {
        assert!(err.contains(&needle), "{needle:?} missing from:\n{err}");
    }
    assert!(!err.contains("[fine]") && !err.contains("[here]"), "{err}");
    assert!(!root.join("output").exists(), "check writes nothing");

    // build publishes anyway: links are `check`'s job (parsing every page would slow
    // large builds down several times).
    let b = tminus(&root, &["build"]);
    assert!(b.status.success(), "{}", stderr(&b));
}

/// A tiny HTTP server on 127.0.0.1 for `--external`: `/ok` 200, `/gone` 404, `/slow`
/// answers after 30 s, `/no-head` 405 to HEAD but 200 to GET.
fn local_server() -> (u16, std::thread::JoinHandle<()>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let handle = std::thread::spawn(move || {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let Ok(Some(req)) = server.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            let url = req.url().to_string();
            let head = *req.method() == tiny_http::Method::Head;
            let stop = url == "/stop";
            std::thread::spawn(move || {
                let code = match url.as_str() {
                    "/ok" => 200,
                    "/no-head" if head => 405,
                    "/no-head" => 200,
                    "/slow" => {
                        std::thread::sleep(Duration::from_secs(30));
                        200
                    }
                    "/stop" => 200,
                    _ => 404,
                };
                let _ = req.respond(tiny_http::Response::from_string("x").with_status_code(code));
            });
            if stop {
                break;
            }
        }
    });
    (port, handle)
}

#[test]
fn check_external_follows_links_with_a_timeout_and_a_summary() {
    let (_g, root) = link_project();
    // No link may leave this machine: drop the fixture's support URL.
    edit(
        &root.join("content/project.yaml"),
        ", url: \"https://help.example.com\"",
        "",
    );
    let (port, server) = local_server();
    let base = format!("http://127.0.0.1:{port}");
    append(
        &root.join("content/pages/hypercare.md"),
        &format!("\n[a]({base}/ok) [b]({base}/gone) [c]({base}/slow) [d]({base}/no-head#x)\n"),
    );
    append(
        &root.join("content/comms/get-ready.md"),
        &format!("\nTraining: [book here]({base}/gone-from-email)\n"),
    );
    // Without --external nothing is fetched and the check passes.
    ok(&root, &["check"]);
    // 10 s: far below /slow's 30 s, far above a loaded debug build's local round trip
    // (3 s, then 5 s, proved too tight with the whole suite running on 2 cores).
    let o = tminus(&root, &["check", "--external", "--timeout", "10"]);
    let _ = ureq::get(&format!("{base}/stop")).call();
    server.join().unwrap();
    let err = stderr(&o);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        err.contains(&format!("{base}/gone: HTTP 404")) && err.contains("pages/hypercare/"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{base}/slow: no answer within 10s")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{base}/gone-from-email: HTTP 404"))
            && err.contains("email get-ready"),
        "{err}"
    );
    assert!(!err.contains(&format!("{base}/ok:")), "{err}");
    assert!(!err.contains(&format!("{base}/no-head")), "{err}");
    assert!(
        out.contains("external links: 5 checked — 2 ok, 2 broken, 1 timed out, 0 unreachable"),
        "{out}"
    );
}

#[test]
fn base_url_makes_links_absolute_and_the_sitemap_and_404_use_it() {
    let (_g, root) = copy_project(&fixture("minimal"));
    let out = root.join("output");
    ok(&root, &["build"]);
    let sitemap = read(&out.join("v2.0/sitemap.xml"));
    assert!(
        sitemap.contains("<loc>runbooks/deploy/index.html</loc>"),
        "{sitemap}"
    );
    assert!(!sitemap.contains("404.html"));
    assert!(out.join("v2.0/404.html").is_file());
    // Without a base_url the root 404 page is self-contained: nothing relative to load
    // from the missing address, links made from the site's folder by its script.
    let not_found = read(&out.join("404.html"));
    assert!(not_found.contains("<h1>Page not found</h1>"), "{not_found}");
    assert!(!not_found.contains("<link rel=\"stylesheet\"") && !not_found.contains("<base "));
    assert!(not_found.contains(r#"var folders = ["latest","v2.0"];"#));

    let project = root.join("content/project.yaml");
    let text = read(&project).replace("\"2.0\"", "\"2.1\"");
    std::fs::write(
        &project,
        format!("{text}site: {{ base_url: \"https://intranet.example/golive/\" }}\n"),
    )
    .unwrap();
    ok(&root, &["build"]);
    let sitemap = read(&out.join("v2.1/sitemap.xml"));
    assert!(
        sitemap
            .contains("<loc>https://intranet.example/golive/v2.1/runbooks/deploy/index.html</loc>"),
        "{sitemap}"
    );
    let page = html(&out.join("v2.1/pages/hypercare/index.html"));
    assert!(
        page.contains("href=\"https://intranet.example/golive/v2.1/runbooks/index.html\""),
        "{page}"
    );
    assert!(page.contains("https://intranet.example/golive/v2.1/assets/style.css"));
    assert!(!read(&out.join("404.html")).contains("<base "));
}

#[test]
#[cfg(unix)]
fn latest_can_be_a_symlink_that_follows_the_highest_version() {
    let (_g, root) = copy_project(&fixture("minimal"));
    let out = root.join("output");
    let project = root.join("content/project.yaml");
    append(&project, "site: { latest: symlink }\n");
    ok(&root, &["build"]);
    let link = std::fs::read_link(out.join("latest")).expect("latest is a symlink");
    assert_eq!(link, Path::new("v2.0"), "relative, so the folder can move");
    assert!(read(&out.join("latest/index.html")).contains("<html"));
    assert!(read(&out.join("404.html")).contains("<h1>Page not found</h1>"));

    edit(&project, "\"2.0\"", "\"2.1\"");
    ok(&root, &["build"]);
    assert_eq!(
        std::fs::read_link(out.join("latest")).unwrap(),
        Path::new("v2.1")
    );
    // Back to the default: latest/ is a real folder again, swapped in atomically.
    edit(&project, "latest: symlink", "latest: copy");
    edit(&project, "\"2.1\"", "\"2.2\"");
    ok(&root, &["build"]);
    let meta = std::fs::symlink_metadata(out.join("latest")).unwrap();
    assert!(meta.is_dir(), "latest/ is a folder again");
    assert!(read(&out.join("latest/index.html")).contains("2.2"));
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_unknown_latest_mode_is_an_error_with_the_choices() {
    let (_g, root) = copy_project(&fixture("minimal"));
    let project = root.join("content/project.yaml");
    append(&project, "site: { latest: hardlink }\n");
    let o = tminus(&root, &["check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("content/project.yaml:"), "{err}");
    assert!(err.contains("copy") && err.contains("symlink"), "{err}");
}
