//! Recycling the previous generation (`output/.prev-*`, see `src/site/recycle.rs`): a
//! rebuild keeps the inodes of unchanged files, writes new files for changed ones (never
//! into an existing one), removes what is gone, survives failed, killed and tampered
//! builds, and never touches other versions.

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

/// The example project as a draft (a draft is rebuilt every time).
fn draft_example() -> (tempfile::TempDir, PathBuf) {
    let (guard, root) = example();
    edit(
        &root.join("content/project.yaml"),
        "status: approved",
        "status: draft",
    );
    (guard, root)
}

/// Files that carry the build time and so differ on every build: `plan.json`
/// (`generated_at`) and the calendars (`DTSTAMP`).
fn per_build(path: &Path) -> bool {
    path == Path::new("plan.json") || path.extension().is_some_and(|e| e == "ics")
}

/// Inode of every file (or, with `dirs`, every folder) under `dir`, by relative path.
fn inodes_of(dir: &Path, dirs: bool) -> BTreeMap<PathBuf, u64> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir() == dirs)
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                e.metadata().unwrap().ino(),
            )
        })
        .collect()
}

fn inodes(dir: &Path) -> BTreeMap<PathBuf, u64> {
    inodes_of(dir, false)
}

/// `cp -al`: a copy of `from` made of hard links, as a reader's mirror of the site.
fn hard_link_copy(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::hard_link(entry.path(), &dest).unwrap();
        }
    }
}

/// A snapshot of a version folder without the per-build files.
fn content(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(dir)
        .into_iter()
        .filter(|(p, _)| !per_build(p))
        .collect()
}

/// Asserts that `out/v<version>/` is what a build into an empty folder makes, and that
/// `latest/` is made of the same inodes.
fn assert_same_as_fresh_build(root: &Path, out: &Path, version: &str) {
    let fresh = root.join("fresh-output");
    let _ = std::fs::remove_dir_all(&fresh);
    ok(root, &["build", "--out", fresh.to_str().unwrap()]);
    let dir = format!("v{version}");
    assert_eq!(
        content(&out.join(&dir)),
        content(&fresh.join(&dir)),
        "the recycled version must be exactly a fresh build"
    );
    assert_eq!(inodes(&out.join("latest")), inodes(&out.join(&dir)));
    std::fs::remove_dir_all(&fresh).unwrap();
}

#[test]
fn a_rebuild_of_unchanged_sources_keeps_every_file_and_folder() {
    let (_g, root) = draft_example();
    let out = root.join("output");
    ok(&root, &["build"]);
    let first_folders = inodes_of(&out.join("v1.2"), true);
    ok(&root, &["build"]);
    let files = inodes(&out.join("v1.2"));
    let versions = read(&out.join("versions.json"));
    // Built in another second: the pages must not depend on the build time.
    std::thread::sleep(Duration::from_millis(1100));
    ok(&root, &["build"]);
    assert_ne!(read(&out.join("versions.json")), versions, "built_at moved");

    let now = inodes(&out.join("v1.2"));
    assert_eq!(
        now.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>()
    );
    let renewed: Vec<_> = now
        .iter()
        .filter(|(p, ino)| files[*p] != **ino && !per_build(p))
        .map(|(p, _)| p)
        .collect();
    assert!(
        renewed.is_empty(),
        "unchanged files got new inodes: {renewed:?}"
    );
    assert!(now.contains_key(Path::new("searchindex.js")));
    // The third build started from the first one's tree: not one folder was created.
    assert_eq!(inodes_of(&out.join("v1.2"), true), first_folders);
    assert_eq!(
        inodes(&out.join("latest")),
        now,
        "latest/ shares the inodes"
    );
    assert!(out.join(".prev-v1.2").is_dir() && out.join(".prev-latest").is_dir());
    let footer = read(&out.join("v1.2/training/faq/index.html"));
    assert!(
        footer.contains("Built with tminus") && footer.contains("<span data-built=\"1.2\">"),
        "the build time comes from versions.js"
    );
    assert_same_as_fresh_build(&root, &out, "1.2");
}

#[test]
fn an_edited_guide_is_a_new_file_and_a_hard_linked_copy_keeps_the_old_bytes() {
    let (_g, root) = draft_example();
    let out = root.join("output");
    ok(&root, &["build"]);
    ok(&root, &["build"]);
    let before = inodes(&out.join("v1.2"));
    let old_bytes = snapshot(&out.join("v1.2"));
    let reader = root.join("reader-copy");
    hard_link_copy(&out.join("v1.2"), &reader);

    edit(
        &root.join("content/training/quick-reference.md"),
        "Print this page",
        "Print this quick reference",
    );
    ok(&root, &["build"]);

    let guide = Path::new("training/quick-reference/index.html");
    let v = out.join("v1.2");
    assert!(read(&v.join(guide)).contains("Print this quick reference"));
    assert_ne!(inodes(&v)[guide], before[guide], "a new file");
    let renewed: Vec<_> = inodes(&v)
        .into_iter()
        .filter(|(p, ino)| before[p] != *ino && !per_build(p))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        renewed,
        [PathBuf::from("searchindex.js"), guide.to_path_buf()],
        "only the guide and the search index changed"
    );
    // Nothing was written into an existing file: the reader's copy is as it was.
    assert_eq!(snapshot(&reader), old_bytes);
    assert!(read(&reader.join(guide)).contains("Print this page"));
    assert_same_as_fresh_build(&root, &out, "1.2");
}

#[test]
fn the_search_index_is_reused_for_the_same_sources_and_made_again_when_one_changes() {
    let (_g, root) = draft_example();
    let out = root.join("output");
    let index = Path::new("searchindex.js");
    ok(&root, &["build"]);
    let first = inodes(&out.join("v1.2"))[index];
    let build_timed = || {
        let o = tminus(&root, &["build", "--timings"]);
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o)
    };
    let timings = build_timed();
    assert!(
        timings.contains("search index (same sources: reused)"),
        "{timings}"
    );
    assert_eq!(
        inodes(&out.join("v1.2"))[index],
        first,
        "linked, not written"
    );

    edit(
        &root.join("content/training/quick-reference.md"),
        "Print this page",
        "Print this xylophone page",
    );
    let timings = build_timed();
    assert!(!timings.contains("reused"), "{timings}");
    let index_now = read(&out.join("v1.2/searchindex.js"));
    assert!(
        index_now.contains("\"xylophon\""),
        "the edited guide's words are in the index"
    );
    // Every other source came from the search cache: the index is the one a build
    // without any cache makes.
    assert!(root.join(".tminus/cache/search.bin").is_file());
    std::fs::remove_dir_all(root.join(".tminus")).unwrap();
    let uncached = root.join("uncached");
    ok(&root, &["build", "--out", uncached.to_str().unwrap()]);
    assert!(read(&uncached.join("v1.2/searchindex.js")) == index_now);
    std::fs::remove_dir_all(&uncached).unwrap();
    assert_same_as_fresh_build(&root, &out, "1.2");
}

#[test]
fn a_removed_page_is_gone_from_the_version_and_from_latest() {
    let (_g, root) = draft_example();
    let out = root.join("output");
    ok(&root, &["build"]);
    ok(&root, &["build"]);
    assert!(out.join("latest/pages/hypercare/index.html").is_file());
    std::fs::remove_file(root.join("content/pages/hypercare.md")).unwrap();
    ok(&root, &["build"]);
    for dir in ["v1.2", "latest"] {
        assert!(!out.join(dir).join("pages").exists(), "{dir}/pages/");
    }
    assert_same_as_fresh_build(&root, &out, "1.2");
}

#[test]
fn a_failed_build_leaves_the_output_and_the_next_one_is_right() {
    let (_g, root) = draft_example();
    let out = root.join("output");
    ok(&root, &["build"]);
    ok(&root, &["build"]);
    let before = visible(&out);

    // A theme whose guide template fails while the pages are written.
    let templates = root.join("themes/broken/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("guide.html"),
        "{% extends \"base.html\" %}{% block content %}{{ no_such_variable.field }}{% endblock content %}",
    )
    .unwrap();
    let project = root.join("content/project.yaml");
    let yaml = read(&project);
    std::fs::write(
        &project,
        yaml.replacen("site:\n", "site:\n  theme: broken\n", 1),
    )
    .unwrap();
    let failed = tminus(&root, &["build"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("cannot render"),
        "{}",
        stderr(&failed)
    );
    assert_eq!(visible(&out), before, "readers see the output as it was");
    assert!(
        out.join(".prev-v1.2").is_dir(),
        "the recycled tree is given back"
    );

    // Fixed, and a page edited: the next build is right.
    std::fs::write(&project, &yaml).unwrap();
    edit(
        &root.join("content/pages/hypercare.md"),
        "reinforced support",
        "reinforced, round-the-clock support",
    );
    ok(&root, &["build"]);
    assert!(read(&out.join("latest/pages/hypercare/index.html"))
        .contains("reinforced, round-the-clock support"));
    assert_same_as_fresh_build(&root, &out, "1.2");
}

#[test]
fn a_killed_build_leaves_the_output_and_its_tree_is_recycled_by_the_next() {
    let (_g, root) = draft_example();
    let out = root.join("output");
    ok(&root, &["build"]);
    ok(&root, &["build"]);
    let before = visible(&out);
    edit(
        &root.join("content/pages/hypercare.md"),
        "reinforced support",
        "reinforced, round-the-clock support",
    );
    // Stalls after writing the pages into the (recycled) staging folder: killed there.
    let mut child = spawn_stalled_build(&root);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let written = std::fs::read_dir(&out).unwrap().flatten().any(|e| {
            e.file_name().to_string_lossy().starts_with(".tmp-v1.2-")
                && std::fs::read_to_string(e.path().join("pages/hypercare/index.html"))
                    .is_ok_and(|html| html.contains("reinforced, round-the-clock support"))
        });
        if written {
            break;
        }
        assert!(Instant::now() < deadline, "the build never wrote the page");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(visible(&out), before, "readers see the output as it was");

    ok(&root, &["build"]);
    let hidden: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert_eq!(hidden.len(), 2, "{hidden:?}");
    assert!(hidden
        .iter()
        .all(|n| n == ".prev-v1.2" || n == ".prev-latest"));
    assert!(read(&out.join("latest/pages/hypercare/index.html"))
        .contains("reinforced, round-the-clock support"));
    assert_same_as_fresh_build(&root, &out, "1.2");
}

#[test]
fn a_tampered_previous_generation_is_corrected() {
    let (_g, root) = draft_example();
    let out = root.join("output");
    ok(&root, &["build"]);
    ok(&root, &["build"]);
    for prev in [".prev-v1.2", ".prev-latest"] {
        let prev = out.join(prev);
        // Replaced (not written into: its inode is the live page's too).
        let page = prev.join("runbooks/deploy/index.html");
        std::fs::remove_file(&page).unwrap();
        std::fs::write(&page, "tampered").unwrap();
        std::fs::write(prev.join("stray.html"), "stray").unwrap();
        std::fs::create_dir_all(prev.join("stray/deeper")).unwrap();
        std::fs::remove_dir_all(prev.join("assets")).unwrap();
        std::fs::remove_dir_all(prev.join("checklists")).unwrap();
        std::fs::write(prev.join("checklists"), "a file where a folder was").unwrap();
    }
    ok(&root, &["build"]);
    for dir in ["v1.2", "latest"] {
        let dir = out.join(dir);
        assert!(!dir.join("stray.html").exists() && !dir.join("stray").exists());
        assert!(read(&dir.join("runbooks/deploy/index.html")).contains("<html"));
        assert!(dir.join("assets/site.js").is_file());
    }
    assert_same_as_fresh_build(&root, &out, "1.2");
}

#[test]
fn building_a_new_version_leaves_the_earlier_one_untouched() {
    let (_g, root) = draft_example();
    let out = root.join("output");
    let project = root.join("content/project.yaml");
    edit(&project, "version: \"1.2\"", "version: \"1.0\"");
    ok(&root, &["build"]);
    ok(&root, &["build"]);
    let files = inodes(&out.join("v1.0"));
    let bytes = snapshot(&out.join("v1.0"));
    assert!(out.join(".prev-v1.0").is_dir());

    edit(&project, "version: \"1.0\"", "version: \"1.1\"");
    ok(&root, &["build"]);
    ok(&root, &["build"]);
    assert_eq!(inodes(&out.join("v1.0")), files, "v1.0 keeps its inodes");
    assert_eq!(snapshot(&out.join("v1.0")), bytes, "and its bytes");
    assert_eq!(inodes(&out.join("latest")), inodes(&out.join("v1.1")));
    assert!(read(&out.join("latest/index.html")).contains("1.1"));
}
