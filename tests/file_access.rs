//! Files read from the project must resolve inside it: a symbolic link that leads out of
//! the project (an audience CSV, a theme file, a page under `content/`) is refused with a
//! located error and its contents are never shown — by `check`, `build` or `serve`. Links
//! that stay inside the project are followed. File extensions are read in any case.

#![cfg(unix)]

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::*;

/// Lines of a file outside the project that must never be echoed.
const SECRET: &str = "root:x:0:0:SECRET-LINE-4711:/root:/bin/bash\ndaemon:x:1:1:SECRET-LINE-4712\n";

/// A copy of the minimal fixture and a secret file next to (outside) it.
fn project_and_secret() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let (g, root) = copy_project(&fixture("minimal"));
    let secret = g.path().join("secret.csv");
    std::fs::write(&secret, SECRET).unwrap();
    (g, root, secret)
}

fn check_fails(root: &Path) -> String {
    let o = tminus(root, &["check"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "check must fail:\n{err}");
    assert!(
        !err.contains("SECRET-LINE"),
        "the linked file's lines were shown:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn an_audience_csv_linked_outside_the_project_is_refused_at_its_yaml_key() {
    let (_g, root, secret) = project_and_secret();
    let csv = root.join("content/audiences/everyone.csv");
    std::fs::remove_file(&csv).unwrap();
    symlink(&secret, &csv).unwrap();
    let err = check_fails(&root);
    // `file: audiences/everyone.csv` is line 22 of project.yaml.
    let line = read(&root.join("content/project.yaml"))
        .lines()
        .position(|l| l.contains("file: audiences/everyone.csv"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("content/project.yaml:{line}:")),
        "located at the `file:` key:\n{err}"
    );
    assert!(err.contains("audiences/everyone.csv"), "{err}");
    assert!(err.contains("outside the project"), "{err}");
    // Also through a linked folder.
    std::fs::remove_file(&csv).unwrap();
    std::fs::remove_dir_all(root.join("content/audiences")).unwrap();
    let outside = root.parent().unwrap().join("shared-audiences");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(&secret, outside.join("everyone.csv")).unwrap();
    symlink(&outside, root.join("content/audiences")).unwrap();
    let err = check_fails(&root);
    assert!(err.contains("outside the project"), "{err}");
}

#[test]
fn links_inside_the_project_are_followed() {
    let (_g, root) = copy_project(&fixture("minimal"));
    let shared = root.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::rename(
        root.join("content/audiences/everyone.csv"),
        shared.join("everyone.csv"),
    )
    .unwrap();
    symlink(
        "../../shared/everyone.csv",
        root.join("content/audiences/everyone.csv"),
    )
    .unwrap();
    std::fs::rename(
        root.join("content/pages/hypercare.md"),
        shared.join("hypercare.md"),
    )
    .unwrap();
    symlink(
        shared.join("hypercare.md"),
        root.join("content/pages/hypercare.md"),
    )
    .unwrap();
    let o = tminus(&root, &["build"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = read(&root.join("output/v2.0/pages/hypercare/index.html"));
    assert!(page.contains("P1 incidents"), "the linked page is built");
}

#[test]
fn a_page_linked_outside_the_project_is_refused_not_skipped() {
    let (_g, root, _secret) = project_and_secret();
    let outside = root.parent().unwrap().join("notes.md");
    std::fs::write(
        &outside,
        "---\ntitle: SECRET-LINE-4713\n---\nSECRET-LINE-4714\n",
    )
    .unwrap();
    symlink(&outside, root.join("content/pages/notes.md")).unwrap();
    let err = check_fails(&root);
    assert!(
        err.contains("content/pages/notes.md") && err.contains("outside the project"),
        "{err}"
    );
    let o = tminus(&root, &["build"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!root.join("output/v2.0").exists());
}

#[test]
fn theme_files_linked_outside_the_project_are_refused() {
    let (_g, root, secret) = project_and_secret();
    let project = root.join("content/project.yaml");
    std::fs::write(
        &project,
        format!("{}site: {{ theme: mine }}\n", read(&project)),
    )
    .unwrap();
    // The email layout (read on its own) …
    let email = root.join("themes/mine/email");
    std::fs::create_dir_all(&email).unwrap();
    symlink(&secret, email.join("layout.mjml")).unwrap();
    let err = check_fails(&root);
    assert!(
        err.contains("layout.mjml") && err.contains("outside the project"),
        "{err}"
    );
    // … and a template (read with the whole theme).
    std::fs::remove_file(email.join("layout.mjml")).unwrap();
    let templates = root.join("themes/mine/templates");
    std::fs::create_dir_all(&templates).unwrap();
    symlink(&secret, templates.join("page.html")).unwrap();
    let err = check_fails(&root);
    assert!(
        err.contains("page.html") && err.contains("outside the project"),
        "{err}"
    );
    // A theme folder that is itself a link out of the project.
    std::fs::remove_dir_all(root.join("themes/mine")).unwrap();
    let elsewhere = root.parent().unwrap().join("elsewhere-theme/templates");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("page.html"), "SECRET-LINE-4715 {% if %}").unwrap();
    symlink(elsewhere.parent().unwrap(), root.join("themes/mine")).unwrap();
    let err = check_fails(&root);
    assert!(err.contains("outside the project"), "{err}");
}

#[test]
fn upper_case_extensions_are_read() {
    let (_g, root) = copy_project(&fixture("minimal"));
    std::fs::rename(
        root.join("content/pages/hypercare.md"),
        root.join("content/pages/hypercare.MD"),
    )
    .unwrap();
    std::fs::rename(
        root.join("content/checklists/readiness.yaml"),
        root.join("content/checklists/readiness.YML"),
    )
    .unwrap();
    let o = tminus(&root, &["build"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(read(&root.join("output/v2.0/pages/hypercare/index.html")).contains("P1 incidents"));
    assert!(root
        .join("output/v2.0/checklists/readiness/index.html")
        .is_file());
}
