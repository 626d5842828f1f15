//! One test per class of bad input: each names the file, line and column, says what was
//! expected, exits with status 1 — and a failed build leaves the previous output as it was.

mod common;

use std::path::Path;

use common::*;

/// Breaks a copy of the minimal fixture with `edit`, runs `check` and `build`, and returns
/// the error text (asserting exit status 1 and untouched output).
fn broken(edit_project: impl Fn(&Path)) -> String {
    let (_guard, root) = copy_project(&fixture("minimal"));
    ok(&root, &["build"]);
    let before = snapshot(&root.join("output"));
    edit_project(&root);
    let check = tminus(&root, &["check"]);
    assert_eq!(
        check.status.code(),
        Some(1),
        "check should fail:\n{}",
        stdout(&check)
    );
    let build = tminus(&root, &["build"]);
    assert_eq!(build.status.code(), Some(1), "build should fail");
    assert_eq!(
        snapshot(&root.join("output")),
        before,
        "a failed build must leave output/ byte for byte"
    );
    stderr(&check)
}

fn assert_has(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in:\n{text}");
    }
}

#[test]
fn broken_yaml() {
    let err = broken(|r| {
        edit(
            &r.join("content/cutover.yaml"),
            "after: [freeze]",
            "after: [freeze",
        )
    });
    assert_has(
        &err,
        &["content/cutover.yaml:", "this is not valid YAML", "hint:"],
    );
}

#[test]
fn unknown_key_with_did_you_mean() {
    let err = broken(|r| {
        edit(
            &r.join("content/checklists/readiness.yaml"),
            "critical: true",
            "critcal: true",
        )
    });
    assert_has(
        &err,
        &[
            "content/checklists/readiness.yaml:9:9: unknown key `critcal`",
            "did you mean `critical`?",
        ],
    );
}

#[test]
fn bad_offset() {
    let err = broken(|r| {
        edit(
            &r.join("content/comms/get-ready.md"),
            "send: T-14d 09:00",
            "send: T-14x 09:00",
        )
    });
    assert_has(
        &err,
        &[
            "content/comms/get-ready.md:4:7:",
            "unknown unit `x`",
            "hint: write T-14d",
        ],
    );
}

#[test]
fn unknown_time_zone() {
    let err = broken(|r| {
        edit(
            &r.join("content/project.yaml"),
            "timezone: Europe/London",
            "timezone: Europe/Londn",
        )
    });
    assert_has(
        &err,
        &[
            "content/project.yaml:5:11:",
            "Europe/Londn",
            "Europe/London?",
        ],
    );
}

#[test]
fn unknown_audience() {
    let err = broken(|r| {
        edit(
            &r.join("content/project.yaml"),
            "audience: everyone",
            "audience: everyone-else",
        )
    });
    assert_has(
        &err,
        &[
            "content/project.yaml:",
            "unknown audience `everyone-else`",
            "did you mean `everyone`?",
        ],
    );
}

#[test]
fn unknown_owner() {
    let err = broken(|r| {
        edit(
            &r.join("content/cutover.yaml"),
            "owner: cutover-lead",
            "owner: cutover-led",
        )
    });
    assert_has(
        &err,
        &[
            "content/cutover.yaml:",
            "unknown owner (roster role) `cutover-led`",
            "did you mean `cutover-lead`?",
        ],
    );
}

#[test]
fn bad_email_address() {
    let err = broken(|r| {
        edit(
            &r.join("content/audiences/everyone.csv"),
            "bo@example.com",
            "bo-at-example.com",
        )
    });
    assert_has(
        &err,
        &[
            "content/audiences/everyone.csv:2:1:",
            "`bo-at-example.com` is not a valid email address",
        ],
    );
    let err = broken(|r| {
        edit(
            &r.join("content/project.yaml"),
            "to: [ana@example.com]",
            "to: [ana@]",
        )
    });
    assert_has(
        &err,
        &[
            "content/project.yaml:20:10:",
            "`ana@` is not a valid email address",
        ],
    );
}

#[test]
fn template_error() {
    let err = broken(|r| {
        edit(
            &r.join("content/comms/get-ready.md"),
            "{{ system }} goes live at",
            "{{ system goes live at",
        )
    });
    assert_has(
        &err,
        &[
            "content/comms/get-ready.md:",
            "template error in the body of `get-ready`",
        ],
    );
    let err = broken(|r| {
        edit(
            &r.join("content/comms/get-ready.md"),
            "{{ support.email }}",
            "{{ support.emial | upper }}",
        )
    });
    assert_has(
        &err,
        &[
            "content/comms/get-ready.md",
            "cannot render the body of `get-ready`",
        ],
    );
}

#[test]
fn unclosed_front_matter() {
    let err = broken(|r| {
        let path = r.join("content/pages/hypercare.md");
        let text = read(&path).replacen("---\n# Hypercare", "# Hypercare", 1);
        std::fs::write(path, text).unwrap();
    });
    assert_has(
        &err,
        &["content/pages/hypercare.md:1:1: unclosed front matter"],
    );
}

#[test]
fn dependency_cycle_names_the_tasks() {
    let err = broken(|r| {
        let path = r.join("content/cutover.yaml");
        let text = read(&path).replacen(
            "    start: T-0 18:00\n",
            "    start: T-0 18:00\n    after: [go-no-go]\n",
            1,
        );
        std::fs::write(path, text).unwrap();
    });
    assert_has(
        &err,
        &[
            "content/cutover.yaml:",
            "dependency cycle:",
            "freeze",
            "backup",
            "go-no-go",
            "→",
        ],
    );
}

#[test]
fn cutover_validation_names_the_tasks() {
    let err = broken(|r| {
        edit(
            &r.join("content/cutover.yaml"),
            "after: [backup, notes]",
            "after: [backup, nots]",
        )
    });
    assert_has(
        &err,
        &[
            "content/cutover.yaml:21:21: task `go-no-go` comes after unknown task `nots`",
            "did you mean `notes`?",
        ],
    );
    let err = broken(|r| edit(&r.join("content/cutover.yaml"), "id: notes", "id: backup"));
    assert_has(
        &err,
        &[
            "content/cutover.yaml:13:9: duplicate task id `backup`",
            "first used on line 7",
        ],
    );
    let err = broken(|r| {
        edit(
            &r.join("content/cutover.yaml"),
            "start: T-0 18:00",
            "start: T-0 6pm",
        )
    });
    assert_has(&err, &["content/cutover.yaml:4:12:", "T-0 6pm"]);
    let err = broken(|r| {
        edit(
            &r.join("content/cutover.yaml"),
            "runbook: deploy",
            "runbook: deploy-app",
        )
    });
    assert_has(
        &err,
        &["content/cutover.yaml:12:14: unknown runbook `deploy-app`"],
    );
}

#[test]
fn ids_cannot_escape_the_output_folder() {
    let err = broken(|r| {
        edit(
            &r.join("content/runbooks/deploy.md"),
            "id: deploy",
            "id: ../../etc",
        )
    });
    assert_has(
        &err,
        &[
            "content/runbooks/deploy.md:2:5:",
            "`../../etc` is not a valid runbook id",
        ],
    );
}

#[test]
fn subject_with_a_line_break_is_refused() {
    let err = broken(|r| {
        edit(
            &r.join("content/comms/get-ready.md"),
            "subject: \"{{ system }}",
            "subject: \"Bcc: x@evil.example\\n{{ system }}",
        )
    });
    assert_has(&err, &["content/comms/get-ready.md:3:", "single line"]);
}

#[test]
fn every_error_of_a_project_is_reported_in_one_run() {
    let err = broken(|r| {
        edit(
            &r.join("content/project.yaml"),
            "timezone: Europe/London",
            "timezone: Mars/Olympus",
        );
        edit(
            &r.join("content/cutover.yaml"),
            "duration: 2h",
            "duration: 2 hours",
        );
        edit(
            &r.join("content/checklists/readiness.yaml"),
            "status: open",
            "status: pending",
        );
        edit(
            &r.join("content/runbooks/deploy.md"),
            "owner: dba",
            "owner: dbaa",
        );
    });
    assert_has(
        &err,
        &[
            "content/project.yaml:5:11:",
            "content/cutover.yaml:10:15:",
            "content/checklists/readiness.yaml:11:17: `pending` is not an allowed value for `status`",
            "content/runbooks/deploy.md:4:8: unknown owner (roster role) `dbaa`",
            "4 errors",
        ],
    );
}

#[test]
fn a_missing_project_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = tminus(dir.path(), &["build"]);
    assert_eq!(o.status.code(), Some(1));
    assert_has(&stderr(&o), &["no project here", "tminus new"]);
}

#[test]
fn variables_in_a_runbook_body_are_filled_in_or_reported_where_they_are() {
    let (_guard, root) = example();
    let runbook = root.join("content/runbooks/deploy.md");
    let text = read(&runbook);
    // After the front matter: a line that uses the roster, and code that keeps its braces.
    let (front, body) = text.split_at(text[3..].find("\n---\n").unwrap() + 8);
    std::fs::write(
        &runbook,
        format!("{front}Page the DBA on {{{{ roster[\"dba\"].phone }}}}.\n\n`{{{{ literal }}}}`\n\n{body}"),
    )
    .unwrap();
    ok(&root, &["build"]);
    let page = read(&root.join("output/latest/runbooks/deploy/index.html"));
    let project = read(&root.join("content/project.yaml"));
    let dba = project.split("role: dba").nth(1).unwrap();
    let phone = dba
        .split("phone: \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        page.contains(&format!("Page the DBA on {phone}.")),
        "the phone is filled in"
    );
    assert!(
        page.contains("<code>{{ literal }}</code>"),
        "code keeps its braces"
    );
    // An unknown role is an error at its line and column, and nothing is written.
    let line = front.lines().count() + 1;
    edit(&runbook, "roster[\"dba\"]", "roster[\"dbx\"]");
    let out = tminus(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("content/runbooks/deploy.md:{line}:17")),
        "{err}"
    );
}

#[test]
fn an_unclosed_bracket_is_one_error_where_it_opened() {
    // `system: [PayFlow` never closed: reported at the `[` (with where the parser noticed),
    // and nothing else — no cascade from the files that depend on project.yaml.
    let (_guard, root) = example();
    let project = root.join("content/project.yaml");
    let text = read(&project);
    let line = text.lines().position(|l| l.starts_with("system:")).unwrap() + 1;
    edit(&project, "system: Field Service Hub", "system: [PayFlow");
    let out = tminus(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "content/project.yaml:{line}:9: this is not valid YAML: this `[` list is never closed (the parser noticed at line {}",
            line + 1
        )),
        "{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

#[test]
fn site_links_in_emails_need_the_sites_address_and_become_absolute_with_it() {
    let (_guard, root) = copy_project(&fixture("minimal"));
    let message = root.join("content/comms/get-ready.md");
    let mut text = read(&message);
    text.push_str("\nRead the [guide](@/training/guide) or PAGE_URL.\n");
    std::fs::write(&message, &text).unwrap();
    let line = text.lines().count();
    // No base_url: the link would ship as href="@/training/guide". An error at the link.
    let out = tminus(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "content/comms/get-ready.md:{line}:10: [guide](@/training/guide) links to the site"
        )),
        "{err}"
    );
    assert!(err.contains("site.base_url"), "{err}");
    // page_url() says the same when the message is rendered.
    edit(
        &message,
        "PAGE_URL",
        "{{ page_url(path=\"training/guide\") }}",
    );
    let err = stderr(&tminus(&root, &["check"]));
    assert!(err.contains("page_url needs `site.base_url`"), "{err}");
    // With a base_url the link and page_url() are absolute, under latest/.
    let project = root.join("content/project.yaml");
    let mut yaml = read(&project);
    yaml.push_str("site: { base_url: \"https://golive.example.com/plan/\" }\n");
    std::fs::write(&project, &yaml).unwrap();
    ok(&root, &["check"]);
    let preview = ok(&root, &["comms", "preview", "get-ready", "--wave", "main"]);
    let url = "https://golive.example.com/plan/latest/training/guide/index.html";
    assert!(preview.contains(&format!("guide <{url}>")), "{preview}");
    assert!(preview.contains(&format!("or {url}.")), "{preview}");
    let eml = root.join("get-ready.eml");
    ok(
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
    let eml = read(&eml);
    assert!(
        !eml.contains("@/training"),
        "no @/ link is left in the email"
    );
    // A link to a page that does not exist is a broken link at its line.
    edit(&message, "@/training/guide)", "@/training/gide)");
    let out = tminus(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("content/comms/get-ready.md:{line}:10: broken link [guide](@/training/gide) in message get-ready")),
        "{}",
        stderr(&out)
    );
}
