//! Publishing under real faults: a build killed (`kill -9`) at any moment publishes all or
//! nothing, and the next run finishes a publication it finds half done (the publication
//! journal, `src/site/journal.rs`); damaged build caches never reach a page
//! (`src/cache.rs`); a full disk leaves no temporary file behind.

#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The minimal fixture as a draft with `guides` more guides: big enough that a build takes
/// a measurable time.
fn big_project(guides: usize) -> (tempfile::TempDir, PathBuf) {
    let (guard, root) = copy_project(&fixture("minimal"));
    edit(
        &root.join("content/project.yaml"),
        "status: approved",
        "status: draft",
    );
    let training = root.join("content/training");
    for i in 0..guides {
        std::fs::write(
            training.join(format!("guide-{i:04}.md")),
            format!(
                "---\ntitle: Guide {i}\naudience: [everyone]\nduration: 10m\nkind: guide\n---\n\
                 # Guide {i}\n\nStep {i} of the go-live: sign in, check the ledger, post a \
                 journal.\n\n## Details\n\n- open the screen\n- press F5 ({i})\n\n\
                 ```sql\nSELECT {i} FROM ledger;\n```\n"
            ),
        )
        .unwrap();
    }
    (guard, root)
}

/// The output as readers see it (hidden entries left out), with the build times
/// (`built_at`, `generated_at`, `DTSTAMP`) blanked, so two builds of the same sources
/// compare equal.
fn published(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let time = regex::bytes::Regex::new(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})|DTSTAMP:[0-9TZ]+",
    )
    .unwrap();
    visible(out)
        .into_iter()
        .map(|(p, bytes)| (p, time.replace_all(&bytes, &b"TIME"[..]).into_owned()))
        .collect()
}

/// Hidden entries a build may leave in `out` besides the `.prev-*` generations.
fn leftovers(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && !n.starts_with(".prev-"))
        .collect()
}

/// `cp -a` (keeps the hard links between `latest/` and its version).
fn copy_output(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status();
    assert!(status.unwrap().success(), "cp -a");
}

fn spawn_build(root: &Path, env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tminus"));
    cmd.arg("--root").arg(root).arg("build");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tminus build")
}

/// Polls until `found` (or fails after a minute).
fn wait_for(what: &str, found: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !found() {
        assert!(Instant::now() < deadline, "never saw {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits, in the output folder, for the moment to kill a build (the build's process given).
type Wait = Box<dyn Fn(&Path, &mut std::process::Child)>;

#[test]
fn a_build_killed_at_any_moment_publishes_all_or_nothing() {
    let (_g, root) = big_project(800);
    let out = root.join("output");
    ok(&root, &["build"]);
    let old_out = root.join("old-output");
    copy_output(&out, &old_out);
    let old = published(&out);
    // New sources: every page changes (the title is on every page).
    edit(
        &root.join("content/project.yaml"),
        "project: Minimal Go-Live",
        "project: Minimal Go-Live Two",
    );
    // What the new publication is, and how long publishing it takes.
    let started = Instant::now();
    ok(&root, &["build"]);
    let took = started.elapsed();
    let new = published(&out);
    assert_ne!(old, new);
    let reference = root.join("new-output");
    copy_output(&out, &reference);
    eprintln!("a build of the new sources took {took:?}");

    // Each moment: a delay after the start, or the first sight of a staged part.
    // Up to half as long again as the build took: a loaded machine is slower.
    let steps = 6u32;
    let mut moments: Vec<(String, Wait)> = (0..=steps)
        .map(|k| {
            let delay = took * 3 * k / (2 * steps);
            let wait: Wait =
                Box::new(move |_: &Path, _: &mut std::process::Child| std::thread::sleep(delay));
            (format!("{delay:?} in"), wait)
        })
        .collect();
    for staged in [".tmp-v2.0-", ".tmp-latest-", ".tmp-versions.json-"] {
        moments.push((
            format!("as soon as {staged}* appears"),
            Box::new(move |out: &Path, child: &mut std::process::Child| {
                // A small staged file can come and go between two polls on a loaded
                // machine: a build that ended first is not a failure, only a moment missed
                // (the swaps themselves are covered below with the stall hook).
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    let seen = std::fs::read_dir(out)
                        .unwrap()
                        .flatten()
                        .any(|e| e.file_name().to_string_lossy().starts_with(staged));
                    if seen {
                        return;
                    }
                    if child.try_wait().ok().flatten().is_some() {
                        eprintln!("the build ended before {staged}* was seen");
                        return;
                    }
                    assert!(Instant::now() < deadline, "never saw {staged}");
                    std::thread::sleep(Duration::from_millis(1));
                }
            }),
        ));
    }
    let (mut saw_old, mut saw_new) = (0, 0);
    for (moment, wait) in &moments {
        copy_output(&old_out, &out);
        let mut child = spawn_build(&root, &[]);
        wait(&out, &mut child);
        // Child::kill is SIGKILL: no destructor, no cleanup.
        child.kill().expect("kill");
        let _ = child.wait();
        let now = published(&out);
        if out.join(".publish-journal").exists() {
            // Killed between two swaps: the next run finishes the publication.
            eprintln!("{moment}: killed while swapping");
        } else if now == old {
            saw_old += 1;
        } else if now == new {
            saw_new += 1;
        } else {
            let as_in = |site: &BTreeMap<PathBuf, Vec<u8>>, other: &BTreeMap<_, _>| -> Vec<_> {
                now.iter()
                    .filter(|(p, b)| site.get(*p) == Some(*b) && other.get(*p) != Some(*b))
                    .map(|(p, _)| p.display().to_string())
                    .take(4)
                    .collect()
            };
            panic!(
                "killed {moment}: a mixed site: old {:?}, new {:?}",
                as_in(&old, &new),
                as_in(&new, &old)
            );
        }
        let rebuilt = Instant::now();
        ok(&root, &["build"]);
        eprintln!("{moment}: rebuilt in {:?}", rebuilt.elapsed());
        assert_eq!(published(&out), new, "killed {moment}, then built again");
        assert_eq!(leftovers(&out), Vec::<String>::new(), "killed {moment}");
    }
    eprintln!("killed builds: {saw_old} left the old site, {saw_new} the new one");
    assert!(saw_old > 0, "no kill landed before the publication");

    // Killed between each two swaps (a test hook pauses there): readers see the journal's
    // publication finished by the next run, even one that fails (a broken project.yaml)
    // or only checks.
    let project = root.join("content/project.yaml");
    let good = read(&project);
    for swaps in 1..=5u64 {
        copy_output(&old_out, &out);
        let mut child = spawn_build(&root, &[("TMINUS_TEST_SWAP_STALL_MS", "400")]);
        let journal = out.join(".publish-journal");
        wait_for("the journal", || journal.exists());
        std::thread::sleep(Duration::from_millis(400 * (swaps - 1) + 200));
        child.kill().expect("kill");
        let _ = child.wait();
        assert!(journal.exists(), "killed after {swaps} swaps");
        assert_ne!(published(&out), old, "after {swaps} swaps");
        assert_ne!(published(&out), new, "after {swaps} swaps");
        if swaps == 3 {
            let checked = tminus(&root, &["check"]);
            assert!(checked.status.success(), "{}", stderr(&checked));
        } else {
            std::fs::write(&project, "project: [broken\n").unwrap();
            let failed = tminus(&root, &["build"]);
            std::fs::write(&project, &good).unwrap();
            assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
        }
        assert!(!journal.exists(), "finished after {swaps} swaps");
        assert_eq!(published(&out), new, "finished after {swaps} swaps");
        assert_eq!(leftovers(&out), Vec::<String>::new());
    }
}

/// A small deterministic generator (xorshift64*), so a failure names its case.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// The version folder as a build makes it, build times blanked.
fn version_of(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    published(out)
        .into_iter()
        .filter(|(p, _)| p.starts_with("v2.0"))
        .collect()
}

#[test]
fn damaged_build_caches_never_reach_a_page() {
    let (_g, root) = big_project(12);
    let cache = root.join(".tminus/cache");
    // Without caches: what every build below must make.
    ok(
        &root,
        &["build", "--out", root.join("reference").to_str().unwrap()],
    );
    let reference = version_of(&root.join("reference"));
    assert!(cache.join("render.bin").is_file() && cache.join("search.bin").is_file());
    let clean = root.join("clean-cache");
    copy_output(&cache, &clean);

    let mut random = Random(0x7e5a_11ed_c0ff_ee01);
    let mut case = 0;
    for file in ["render.bin", "highlight.bin", "search.bin"] {
        let bytes = std::fs::read(clean.join(file)).unwrap();
        let mut damages: Vec<(String, Vec<u8>)> = (0..8)
            .map(|_| {
                let at = random.below(bytes.len());
                let flip = 1 + random.below(255) as u8;
                let mut damaged = bytes.clone();
                damaged[at] ^= flip;
                (
                    format!("byte {at} of {} ^ {flip:#04x}", bytes.len()),
                    damaged,
                )
            })
            .collect();
        for _ in 0..2 {
            let len = random.below(bytes.len());
            damages.push((format!("cut to {len}"), bytes[..len].to_vec()));
        }
        for (damage, damaged) in damages {
            case += 1;
            copy_output(&clean, &cache);
            std::fs::write(cache.join(file), &damaged).unwrap();
            let out = root.join(format!("out-{case}"));
            let built = tminus(&root, &["build", "--out", out.to_str().unwrap()]);
            let err = stderr(&built);
            assert!(built.status.success(), "{file}, {damage}: {err}");
            assert!(!err.contains("panic"), "{file}, {damage}: {err}");
            assert!(
                version_of(&out) == reference,
                "{file}, {damage}: the output differs from a build without caches"
            );
            std::fs::remove_dir_all(&out).unwrap();
        }
    }
}

/// A tmpfs of `size` mounted at `at` (unmounted when dropped), or why it cannot be.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(at).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if o.status.success() {
            Ok(Tmpfs(at.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Everything under `dir` whose name says it is temporary.
fn temporaries(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.starts_with(".spill-") || n.starts_with(".old-"))
        .collect()
}

#[test]
fn a_full_disk_leaves_no_temporary_file_and_stale_ones_are_removed() {
    let (_g, root) = big_project(40);
    // The caches on a file system too small for them.
    let cache_fs = match Tmpfs::mount(&root.join(".tminus"), "24k") {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("SKIPPED: cannot mount a small tmpfs ({why}); the cleanup is unit-tested");
            return;
        }
    };
    let cache = root.join(".tminus/cache");
    std::fs::create_dir_all(&cache).unwrap();
    // What a build killed while saving, on a full disk, left (its process has ended).
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    for name in [format!("render.tmp-{dead}"), format!(".spill-{dead}")] {
        std::fs::write(cache.join(name), "").unwrap();
    }
    let built = tminus(&root, &["build"]);
    let err = stderr(&built);
    assert!(built.status.success(), "{err}");
    assert!(err.contains("cannot save the caches"), "{err}");
    assert_eq!(temporaries(&cache), Vec::<String>::new(), "{err}");
    drop(cache_fs);

    // The output on a file system the next build does not fit on.
    let out = root.join("output");
    std::fs::remove_dir_all(&out).unwrap();
    let out_fs = Tmpfs::mount(&out, "3m").expect("mounted once already");
    ok(&root, &["build"]);
    let before = visible(&out);
    std::fs::write(
        root.join("content/pages/big.md"),
        format!(
            "---\ntitle: Big\n---\n# Big\n\n{}\n",
            "A long line. ".repeat(400_000)
        ),
    )
    .unwrap();
    let failed = tminus(&root, &["build"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains("No space left"),
        "{}",
        stderr(&failed)
    );
    assert_eq!(visible(&out), before, "readers see the output as it was");
    assert_eq!(temporaries(&out), Vec::<String>::new());
    assert_eq!(leftovers(&out), Vec::<String>::new());
    drop(out_fs);
}
