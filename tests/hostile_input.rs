//! Hostile and malformed input, run through the real binary the way a user would meet it:
//! each case exits with status 1 — never a panic (101) or an abort (134) — names the file,
//! line and column, and finishes well within a time limit, so a hang fails the test
//! instead of stalling CI.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Generous: each of these takes well under a second in a debug build.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs tminus with a deadline; a run past it is killed and fails the test.
fn run_limited(root: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tminus"))
        .arg("--root")
        .arg(root)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tminus");
    // Drain the pipes on threads so a large error output cannot block the child.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).ok();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > LIMIT {
            child.kill().ok();
            child.wait().ok();
            panic!("tminus {args:?} ran for more than {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: out.join().expect("stdout thread"),
        stderr: err.join().expect("stderr thread"),
    };
    (output, started.elapsed())
}

/// A copy of the minimal fixture broken by `edit`.
fn project(edit: impl Fn(&Path)) -> (tempfile::TempDir, PathBuf) {
    let (guard, root) = copy_project(&fixture("minimal"));
    edit(&root);
    (guard, root)
}

/// Runs `args`, asserts exit status 1 and every needle in the error output; returns it.
fn fails(root: &Path, args: &[&str], needles: &[&str]) -> String {
    let (output, took) = run_limited(root, args);
    let err = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "tminus {args:?} should fail with status 1 (took {took:?}):\n{err}"
    );
    for n in needles {
        assert!(
            err.contains(n),
            "expected {n:?} from tminus {args:?} in:\n{err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn append(path: &Path, text: &str) {
    let mut all = std::fs::read_to_string(path).expect("read");
    all.push_str(text);
    std::fs::write(path, all).expect("write");
}

#[test]
fn dates_before_1970_are_located_errors_in_every_command() {
    let (_g, root) = project(|r| {
        edit(
            &r.join("content/project.yaml"),
            "go_live: 2027-03-15T18:00",
            "go_live: 0207-02-15T18:00",
        )
    });
    for args in [
        &["check"][..],
        &["build"],
        &["comms", "list"],
        &["comms", "status"],
        &["comms", "preview", "get-ready", "--wave", "pilot"],
    ] {
        fails(
            &root,
            args,
            &[
                "content/project.yaml:11:14:",
                "before 1970",
                "hint: check the year",
            ],
        );
    }
}

#[test]
fn send_times_past_9999_are_located_errors() {
    let (_g, root) = project(|r| {
        let p = r.join("content/project.yaml");
        edit(&p, "go_live: 2027-03-29T18:00", "go_live: 9950-03-29T18:00");
        edit(&p, "go_live: 2027-03-15T18:00", "go_live: 9950-03-15T18:00");
        edit(&p, "go_live: 2027-03-29T18:00", "go_live: 9950-03-29T18:00");
        edit(
            &r.join("content/training/sessions.yaml"),
            "2027-03-10 10:00",
            "9950-03-10 10:00",
        );
        edit(
            &r.join("content/comms/get-ready.md"),
            "send: T-14d 09:00",
            "send: T+36000d",
        );
    });
    fails(
        &root,
        &["check"],
        &["content/comms/get-ready.md:4:7:", "after the year 9999"],
    );
    fails(
        &root,
        &["comms", "list"],
        &["content/comms/get-ready.md:4:7:"],
    );
}

#[test]
fn a_recursive_macro_is_refused_where_it_is_defined() {
    let (_g, root) = project(|r| {
        append(
            &r.join("content/comms/get-ready.md"),
            "{% macro a(n) %}{{ self::a(n=n) }}{% endmacro a %}{{ self::a(n=1) }}\n",
        )
    });
    for args in [&["check"][..], &["build"], &["comms", "list"]] {
        fails(
            &root,
            args,
            &[
                "content/comms/get-ready.md:11:4:",
                "macro `a`",
                "calls itself",
            ],
        );
    }
}

#[test]
fn a_theme_template_including_itself_is_refused() {
    let (_g, root) = project(|r| {
        let dir = r.join("themes/mine/templates");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("page.html"), "<p>\n{% include \"page.html\" %}\n").unwrap();
        append(&r.join("content/project.yaml"), "site: { theme: mine }\n");
    });
    fails(
        &root,
        &["check"],
        &["themes/mine/templates/page.html:2:4:", "includes itself"],
    );
}

#[test]
fn a_huge_range_is_refused_quickly() {
    for body in [
        "{% for i in range(end=100000000) %}x{% endfor %}\n",
        "{% for i in range(end=10000) %}{% for j in range(end=10000) %}{% endfor %}{% endfor %}\n",
    ] {
        let (_g, root) = project(|r| append(&r.join("content/comms/get-ready.md"), body));
        let started = Instant::now();
        fails(
            &root,
            &["check"],
            &["content/comms/get-ready.md:8:1:", "more than the 100000"],
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }
}

#[test]
fn script_urls_in_yaml_are_located_errors() {
    let (_g, root) = project(|r| {
        edit(
            &r.join("content/project.yaml"),
            "url: \"https://help.example.com\"",
            "url: \" JavaScript:alert(1)\"",
        );
        append(
            &r.join("content/training/sessions.yaml"),
            "    link: \"data:text/html,<script>alert(1)</script>\"\n",
        );
    });
    fails(
        &root,
        &["check"],
        &[
            "content/project.yaml:30:69:",
            "`javascript:` link",
            "content/training/sessions.yaml:7:11:",
            "`data:` link",
            "hint: write an https://",
        ],
    );
}

#[test]
fn script_links_in_markdown_never_become_live_links() {
    let (_g, root) = project(|r| {
        append(
            &r.join("content/training/guide.md"),
            "\n[click](javascript:alert(1)) and [this](JAVASCRIPT:alert(2))\n",
        );
        append(
            &r.join("content/comms/get-ready.md"),
            "\n[click](javascript:alert(3))\n",
        );
    });
    let (output, _) = run_limited(&root, &["build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let guide = read(&root.join("output/latest/training/guide/index.html"));
    assert!(guide.contains("<a>click</a>"), "the text stays");
    for (path, bytes) in snapshot(&root.join("output")) {
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        assert!(
            !text.contains("javascript:alert"),
            "{} has a script link",
            path.display()
        );
    }
}

/// Raw HTML in Markdown is cleaned on every page and in every email: no script, no event
/// handler, no script link anywhere in the output, while the formatting tags stay.
#[test]
fn raw_html_in_markdown_runs_nothing_in_pages_or_emails() {
    let hostile = "\n<script>alert('s1')</script>\n\n<img src=x onerror=\"alert('s2')\"> \
        <a href=\"javascript:alert('s3')\">a</a> <a href=\"java&#x09;script:alert('s4')\">b</a> \
        <span onmouseover=\"alert('s5')\">c</span> <iframe src=\"https://example.com\"></iframe> \
        <kbd>Ctrl</kbd>\n\n<details><summary>More</summary>\n\n**Inside**\n\n</details>\n";
    let (_g, root) = project(|r| {
        append(&r.join("content/training/guide.md"), hostile);
        append(&r.join("content/comms/get-ready.md"), hostile);
    });
    let (output, _) = run_limited(&root, &["build"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let guide = read(&root.join("output/latest/training/guide/index.html"));
    for kept in [
        "<kbd>Ctrl</kbd>",
        "<details><summary>More</summary>",
        "<strong>Inside</strong>",
    ] {
        assert!(guide.contains(kept), "{kept} missing");
    }
    let mut emails = 0;
    for (path, bytes) in snapshot(&root.join("output")) {
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        emails += usize::from(path.extension().is_some_and(|e| e == "eml"));
        for n in 1..=5 {
            assert!(
                !text.contains(&format!("alert('s{n}')"))
                    && !text.contains(&format!("alert(&#39;s{n}")),
                "{} runs s{n}",
                path.display()
            );
        }
        // (The comms pages' own previews are `<iframe srcdoc>`.)
        assert!(
            !text.contains("iframe src=") && !text.contains("&lt;iframe"),
            "{}",
            path.display()
        );
    }
    assert!(emails > 0, "the emails were checked too");
}

#[test]
fn deep_nesting_huge_values_and_alias_bombs_are_located_quickly() {
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "content/cutover.yaml",
            format!("tasks: {}\n", "[".repeat(100_000)),
            "content/cutover.yaml:1:",
            "nested more than 64 deep",
        ),
        (
            "content/training/sessions.yaml",
            format!(
                "sessions:\n  - title: \"{}\"\n    start: 2027-03-10 10:00\n",
                "x".repeat(4 * 1024 * 1024)
            ),
            "content/training/sessions.yaml:2:12:",
            "the limit is 64 KiB",
        ),
        (
            "content/checklists/readiness.yaml",
            {
                let mut y = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
                for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
                    .iter()
                    .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
                {
                    y.push_str(&format!(
                        "{name}: &{name} [{}]\n",
                        vec![format!("*{prev}"); 10].join(", ")
                    ));
                }
                y
            },
            // 10^6 values at line 6: over the limit of 1,000,000 there.
            "content/checklists/readiness.yaml:6:",
            "alias",
        ),
        (
            "content/checklists/readiness.yaml",
            "title: A\n---\ntitle: B\n".to_string(),
            "content/checklists/readiness.yaml:2:1:",
            "a second YAML document",
        ),
    ];
    for (file, text, location, message) in cases {
        let (_g, root) = project(|r| std::fs::write(r.join(file), &text).unwrap());
        let started = Instant::now();
        fails(&root, &["check"], &[location, message]);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{file}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn invalid_utf8_and_oversized_files_are_located() {
    let (_g, root) = project(|r| {
        let guide = r.join("content/training/guide.md");
        let mut bytes = std::fs::read(&guide).unwrap();
        bytes.extend_from_slice(b"\nCaf\xc3\xa9 \xff\xfe here\n");
        std::fs::write(&guide, bytes).unwrap();
        let big = "# x\n".repeat(9 * 1024 * 1024);
        std::fs::write(
            r.join("content/pages/big.md"),
            format!("---\ntitle: Big\n---\n{big}"),
        )
        .unwrap();
    });
    let lines = std::fs::read(root.join("content/training/guide.md"))
        .unwrap()
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    fails(
        &root,
        &["check"],
        &[
            &format!("content/training/guide.md:{lines}:6:"),
            "not valid UTF-8",
            "content/pages/big.md:1:1:",
            "larger than 32 MiB",
        ],
    );
}
