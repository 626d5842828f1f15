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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tminus"));
    cmd.arg("--root").arg(root).args(["serve", "--port", "0"]);
    spawn(cmd, log)
}

/// Runs `cmd` (a `tminus serve --port 0`) and waits for the URL it prints.
fn spawn(mut cmd: Command, log: &Path) -> Serve {
    let mut child = cmd
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

/// Waits until `path` answers 200 with `needle` in its body (the watcher has rebuilt).
fn wait_for(base: &str, path: &str, needle: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(base, path);
        if status == 200 && body.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {path} never had {needle:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A body-only edit of the fixture's hypercare page, seen through the server.
fn edit_is_served(base: &str, root: &Path, from: &str, to: &str, what: &str) {
    edit(&root.join("content/pages/hypercare.md"), from, to);
    wait_for(base, "/v2.0/pages/hypercare/index.html", to, what);
}

#[test]
fn serve_keeps_watching_after_content_is_renamed_away_and_back() {
    let (_g, root) = copy_project(&fixture("minimal"));
    let s = start(&root, &root.join("../serve.log"));
    let base = s.base.clone();
    edit_is_served(
        &base,
        &root,
        "P1 incidents",
        "P1 edit-one",
        "before the renames",
    );
    // The renames trigger a rebuild of their own, which would pick up an edit made at
    // once: the edit comes after it, when only the watch can see it.
    change_and_wait(&base, || {
        std::fs::rename(root.join("content"), root.join("c2")).unwrap();
        std::fs::rename(root.join("c2"), root.join("content")).unwrap();
    });
    std::thread::sleep(Duration::from_millis(300));
    edit_is_served(
        &base,
        &root,
        "P1 edit-one",
        "P1 edit-two",
        "after mv content c2 && mv c2 content",
    );
    // Removed and made again (as `git checkout` or a sync tool may do).
    let copy = root.join("../content-copy");
    copy_dir(&root.join("content"), &copy);
    change_and_wait(&base, || {
        std::fs::remove_dir_all(root.join("content")).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        std::fs::rename(&copy, root.join("content")).unwrap();
    });
    std::thread::sleep(Duration::from_millis(300));
    edit_is_served(
        &base,
        &root,
        "P1 edit-two",
        "P1 edit-three",
        "after the folder was replaced",
    );
}

#[test]
fn serve_reloads_when_started_inside_the_project_or_with_a_relative_root() {
    let (g, root) = copy_project(&fixture("minimal"));
    // `cd my-project && tminus serve`, as the README says.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tminus"));
    cmd.current_dir(&root).args(["serve", "--port", "0"]);
    let s = spawn(cmd, &g.path().join("serve1.log"));
    edit_is_served(&s.base, &root, "P1 incidents", "P1 from-cwd", "no --root");
    drop(s);
    // `tminus --root some/relative/path serve`.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tminus"));
    cmd.current_dir(g.path())
        .args(["--root", "./project/../project", "serve", "--port", "0"]);
    let s = spawn(cmd, &g.path().join("serve2.log"));
    edit_is_served(
        &s.base,
        &root,
        "P1 from-cwd",
        "P1 from-relative",
        "relative --root",
    );
}

/// The port of `base` (`http://127.0.0.1:N`).
fn port(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().parse().unwrap()
}

/// One raw HTTP/1.1 request — `target` and `Host` exactly as given, nothing normalised —
/// and the response's status and body.
fn raw(base: &str, target: &str, host: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port(base))).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut req = format!("GET {target} HTTP/1.1\r\nConnection: close\r\n");
    if let Some(h) = host {
        req.push_str(&format!("Host: {h}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status for {target:?}: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// A file outside the project, with lines that would be recognised anywhere.
const SECRET: &str = "root:x:0:0:SECRET-LINE-4711:/root:/bin/bash\n";
const ENV_SECRET: &str = "env-secret-0815";

#[test]
fn serve_hands_out_no_file_outside_the_site_whatever_the_path() {
    let (g, root) = copy_project(&fixture("minimal"));
    let secret = g.path().join("secret.txt");
    std::fs::write(&secret, SECRET).unwrap();
    // Another version, published: served from output/ for the version switcher.
    let project = root.join("content/project.yaml");
    edit(&project, "version: \"2.0\"", "version: \"1.0\"");
    ok(&root, &["build"]);
    edit(&project, "version: \"1.0\"", "version: \"2.0\"");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&secret, root.join("output/v1.0/leak.txt")).unwrap();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tminus"));
    cmd.arg("--root")
        .arg(&root)
        .args(["serve", "--port", "0"])
        .env("TMINUS_SMTP_PASSWORD", ENV_SECRET);
    let s = spawn(cmd, &g.path().join("serve.log"));
    let base = s.base.clone();
    let host = format!("127.0.0.1:{}", port(&base));
    let host = Some(host.as_str());

    // The site itself, and the other version from output/.
    assert_eq!(raw(&base, "/v2.0/index.html", host).0, 200);
    assert_eq!(raw(&base, "/latest/index.html", host).0, 200);
    let (status, v1) = raw(&base, "/v1.0/index.html", host);
    assert_eq!(status, 200, "{v1}");
    assert!(v1.contains("Minimal Go-Live"), "{v1}");

    let abs = secret.to_string_lossy().replace('/', "%2F");
    let abs_lower = secret.to_string_lossy().replace('/', "%2f");
    let from_out = format!("/v1.0/{}", "..%2F".repeat(12)) + &abs[3..];
    let targets = [
        format!("/{abs}"),
        format!("/{abs_lower}"),
        "/%2Fetc/passwd".to_string(),
        "/%2Fproc/self/environ".to_string(),
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd".to_string(),
        "/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd".to_string(),
        "/..%5c..%5c..%5c..%5cetc%5cpasswd".to_string(),
        "/v2.0/..\\..\\..\\..\\..\\etc\\passwd".to_string(),
        "/v2.0/index.html%00.png".to_string(),
        "/%00/etc/passwd".to_string(),
        "/%252e%252e/%252e%252e/%252e%252e/etc/passwd".to_string(),
        "/%252Fetc%252Fpasswd".to_string(),
        "//etc/passwd".to_string(),
        "/v1.0/../../../../../../etc/passwd".to_string(),
        from_out,
        "/v1.0/leak.txt".to_string(),
        "/v9.9/index.html".to_string(),
        "http://evil.example/etc/passwd".to_string(),
        format!("http://127.0.0.1/{abs}"),
        format!("file://{}", secret.display()),
        "*".to_string(),
    ];
    for target in &targets {
        let (status, body) = raw(&base, target, host);
        assert!(
            status == 400 || status == 404,
            "{target}: status {status}\n{body}"
        );
        assert!(
            !body.contains("SECRET-LINE"),
            "{target} leaked the file:\n{body}"
        );
        assert!(
            !body.contains("root:x:0:0"),
            "{target} leaked /etc/passwd:\n{body}"
        );
        assert!(
            !body.contains(ENV_SECRET),
            "{target} leaked the environment:\n{body}"
        );
        assert!(
            !body.contains(&*g.path().to_string_lossy()),
            "{target} shows where the project is:\n{body}"
        );
    }
}

#[test]
fn serve_answers_only_requests_addressed_to_loopback() {
    let (g, root) = copy_project(&fixture("minimal"));
    let s = start(&root, &g.path().join("serve.log"));
    let base = s.base.clone();
    let p = port(&base);
    for host in [
        format!("127.0.0.1:{p}"),
        format!("localhost:{p}"),
        format!("[::1]:{p}"),
        "localhost".to_string(),
    ] {
        let (status, body) = raw(&base, "/v2.0/pages/hypercare/index.html", Some(&host));
        assert_eq!(status, 200, "Host: {host}");
        assert!(body.contains("P1 incidents"), "Host: {host}\n{body}");
    }
    // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1.
    for host in [
        Some(format!("evil.example:{p}")),
        Some("evil.example".to_string()),
        Some(format!("127.0.0.1.evil.example:{p}")),
        Some(format!("192.168.1.10:{p}")),
        None,
    ] {
        let (status, body) = raw(&base, "/v2.0/pages/hypercare/index.html", host.as_deref());
        assert!(
            status == 403 || status == 421 || status == 400,
            "Host: {host:?}: {status}\n{body}"
        );
        assert!(!body.contains("P1 incidents"), "Host: {host:?}\n{body}");
        // The poll and the status are refused too.
        let (status, _) = raw(&base, "/__tminus/status", host.as_deref());
        assert_ne!(status, 200, "Host: {host:?}");
    }
    let (_, body) = raw(&base, "/", Some("evil.example"));
    assert!(body.contains("127.0.0.1"), "explains what to open: {body}");

    // Bound to 127.0.0.1 only (never 0.0.0.0): the kernel's table of listening sockets.
    #[cfg(target_os = "linux")]
    {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let local = table
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1))
            .find(|addr| addr.ends_with(&format!(":{p:04X}")))
            .unwrap_or_else(|| panic!("port {p} not in /proc/net/tcp"));
        assert_eq!(
            local,
            format!("0100007F:{p:04X}"),
            "listening on 127.0.0.1 only"
        );
        let v6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
        assert!(
            !v6.lines().any(|l| l
                .split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&format!(":{p:04X}")))),
            "not listening on IPv6"
        );
    }
}

#[test]
fn errors_in_the_browser_show_no_path_of_the_machine() {
    let (g, root) = copy_project(&fixture("minimal"));
    let t = root.join("themes/plain/templates");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(t.join("page.html"), "{% extends \"base.html\" %}").unwrap();
    let project = root.join("content/project.yaml");
    std::fs::write(
        &project,
        format!("{}site: {{ theme: plain }}\n", read(&project)),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tminus"));
    cmd.arg("--root")
        .arg(&root)
        .args(["serve", "--port", "0"])
        .env("TMINUS_SMTP_PASSWORD", ENV_SECRET);
    let s = spawn(cmd, &g.path().join("serve.log"));
    let base = s.base.clone();
    // A broken theme template: its error names the file.
    change_and_wait(&base, || {
        std::fs::write(t.join("page.html"), "ok\n{% if %}\n").unwrap()
    });
    let (_, page) = get(&base, "/v2.0/pages/hypercare/index.html");
    assert!(page.contains("tminus-build-errors"), "{page}");
    assert!(page.contains("themes/plain/templates/page.html"), "{page}");
    let real = std::fs::canonicalize(g.path()).unwrap();
    for p in [g.path().to_path_buf(), real] {
        assert!(
            !page.contains(&*p.to_string_lossy()),
            "absolute path shown:\n{page}"
        );
    }
    assert!(!page.contains(ENV_SECRET));
}

#[test]
fn serve_and_check_take_now_as_build_does() {
    // The night fixture has a live log: `serve --now` shows the night as of that instant
    // (plan.json's live.as_of), rebuild after rebuild, as `build --now` writes it.
    let (_g, root) = copy_project(&fixture("night"));
    let now = "2027-03-28T01:30:00+00:00";
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tminus"));
    cmd.current_dir(&root)
        .args(["serve", "--port", "0", "--now", now]);
    let serve = spawn(cmd, &root.join("serve.log"));
    let (status, plan) = get(&serve.base, "/latest/plan.json");
    assert_eq!(status, 200);
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let as_of =
        chrono::DateTime::parse_from_rfc3339(plan["live"]["as_of"].as_str().unwrap()).unwrap();
    assert_eq!(as_of, chrono::DateTime::parse_from_rfc3339(now).unwrap());
    // check takes it too, and a --now that is no time is a usage error for both.
    ok(&root, &["check", "--now", now]);
    for command in ["check", "serve"] {
        let out = tminus(&root, &[command, "--now", "yesterday"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(
            stderr(&out).contains("--now `yesterday` is not a time"),
            "{command}"
        );
    }
}
