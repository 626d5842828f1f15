//! The publication journal, `output/.publish-journal`: what makes a publication all or
//! nothing for readers, even when the build is killed (`kill -9`, a crash, a reboot).
//!
//! A build stages every part of a publication beside its destination first — the version
//! folder, `latest/`, `404.html`, `versions.json`, `versions.js`, `index.html` (see
//! [`super::output::write_version`]) — and nothing a reader sees changes while it does.
//! Then it writes this journal (each staged part, its destination and the staged entry's
//! inode; written to a temporary file, fsync'd, renamed, and the folder fsync'd), swaps
//! the parts in back to back ([`publish`]) and removes the journal. A build killed before
//! the journal exists leaves the output entirely as it was (the staged parts are leftovers
//! the next build recycles or removes); one killed after finds the journal on the next run
//! — `build`, `check` or `serve`, before they read anything in the output — which swaps in
//! the parts not yet swapped ([`finish`]): entirely the new publication.
//!
//! A part is known to be swapped in already when its staged name is gone, or holds
//! another inode than the journal says: on Linux the swap exchanges the two entries, so
//! for an instant the staged name holds the replaced generation, which is then kept as
//! `.prev-<name>` ([`super::recycle::retire`]).

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::recycle;

/// The journal's name in the output folder.
pub const JOURNAL: &str = ".publish-journal";

/// The parts of one publication, in the order they are swapped in.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Journal {
    /// The build that wrote it: while it runs, nobody else finishes its publication.
    pid: u32,
    parts: Vec<Part>,
}

/// A staged entry of the output folder and the entry it replaces (names in the output
/// folder: `.tmp-v1.2-41` → `v1.2`).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Part {
    staged: String,
    dest: String,
    /// The staged entry's inode, where the system has them.
    inode: Option<u64>,
}

impl Journal {
    pub fn new() -> Self {
        Self {
            pid: std::process::id(),
            parts: Vec::new(),
        }
    }

    /// Adds the staged entry `staged` (a name in `out`) for `dest`.
    pub fn add(&mut self, out: &Path, staged: &str, dest: &str) -> io::Result<()> {
        let meta = fs::symlink_metadata(out.join(staged))?;
        self.parts.push(Part {
            staged: staged.to_string(),
            dest: dest.to_string(),
            inode: inode(&meta),
        });
        Ok(())
    }
}

/// Publishes the parts of `journal`: writes the journal, swaps each part in, removes the
/// journal. `between` runs after each swap but the last (a test hook).
pub fn publish(out: &Path, journal: &Journal, between: impl Fn()) -> io::Result<()> {
    write_journal(out, journal)?;
    for (i, part) in journal.parts.iter().enumerate() {
        if i > 0 {
            between();
        }
        swap_part(out, part)?;
    }
    done(out)
}

/// Finishes the publication a killed build left half done in `out`, if there is one (see
/// the module doc). `Ok(true)` when it did; `Ok(false)` when there was none, or its build
/// is still running (it is then swapping, and finishes in an instant).
pub fn finish(out: &Path) -> io::Result<bool> {
    let bytes = match fs::read(out.join(JOURNAL)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    // Written whole and renamed into place: a journal that does not parse was not written
    // by a build, and there is nothing it could be trusted for.
    let Ok(journal) = serde_json::from_slice::<Journal>(&bytes) else {
        fs::remove_file(out.join(JOURNAL))?;
        return Ok(false);
    };
    if crate::cache::process_is_running(journal.pid) {
        return Ok(false);
    }
    for part in &journal.parts {
        swap_part(out, part)?;
    }
    done(out)?;
    Ok(true)
}

fn write_journal(out: &Path, journal: &Journal) -> io::Result<()> {
    // `.tmp-publish-journal-<pid>`: a build killed while writing it leaves a `.tmp-*` file,
    // which the next build removes (`output::remove_leftovers`).
    let tmp = out.join(format!(
        ".tmp-{}-{}",
        JOURNAL.trim_start_matches('.'),
        journal.pid
    ));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(journal).map_err(io::Error::other)?)?;
        f.sync_all()?;
        fs::rename(&tmp, out.join(JOURNAL))?;
        sync_dir(out)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Removes the journal: the publication is complete.
fn done(out: &Path) -> io::Result<()> {
    fs::remove_file(out.join(JOURNAL))?;
    sync_dir(out)
}

/// Swaps `part` in, unless that was done already.
fn swap_part(out: &Path, part: &Part) -> io::Result<()> {
    let staged = out.join(&part.staged);
    let dest = out.join(&part.dest);
    let meta = match fs::symlink_metadata(&staged) {
        Ok(meta) => meta,
        // Swapped in, and what it replaced retired.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if part.inode.is_some() && inode(&meta) != part.inode {
        // Exchanged: the staged name holds the generation it replaced.
        recycle::retire(&staged, &recycle::prev_beside(&dest));
        return Ok(());
    }
    swap_into_place(&staged, &dest)
}

/// Replaces `target` with `staging`. On Linux the two entries are exchanged in one atomic
/// `renameat2(RENAME_EXCHANGE)`, so `target` never disappears, even for an instant;
/// elsewhere (or on a file system without it) the old entry is moved aside first
/// (`.old-<name>-<pid>`), and a build killed between the two renames is repaired by the
/// next one (`output::remove_leftovers`). The old folder is then kept as `.prev-<name>` for
/// the next build to recycle ([`recycle::retire`]), not deleted.
fn swap_into_place(staging: &Path, target: &Path) -> io::Result<()> {
    // `symlink_metadata`: a `latest` link whose version is gone is still there to replace.
    if fs::symlink_metadata(target).is_err() {
        return fs::rename(staging, target);
    }
    let prev = recycle::prev_beside(target);
    if exchange(staging, target).is_ok() {
        // `staging` now holds the old entry.
        recycle::retire(staging, &prev);
        return Ok(());
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = target.with_file_name(format!(".old-{name}-{}", std::process::id()));
    fs::rename(target, &aside)?;
    if let Err(e) = fs::rename(staging, target) {
        let _ = fs::rename(&aside, target);
        return Err(e);
    }
    recycle::retire(&aside, &prev);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange",
    ))
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.ino())
}

#[cfg(not(unix))]
fn inode(_: &fs::Metadata) -> Option<u64> {
    None
}

/// Makes the folder's entries (a rename) durable, where the system allows it.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// An output folder with an old publication and a staged new one, and its journal.
    fn staged() -> (tempfile::TempDir, Journal) {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        write(&out.join("v1/index.html"), "old");
        write(&out.join("versions.json"), "old");
        write(&out.join(".tmp-v1-7/index.html"), "new");
        write(&out.join(".tmp-versions.json-7"), "new");
        write(&out.join(".tmp-index.html-7"), "new");
        let mut journal = Journal::new();
        journal.add(out, ".tmp-v1-7", "v1").unwrap();
        journal
            .add(out, ".tmp-versions.json-7", "versions.json")
            .unwrap();
        journal.add(out, ".tmp-index.html-7", "index.html").unwrap();
        (tmp, journal)
    }

    fn published(out: &Path) -> Vec<String> {
        ["v1/index.html", "versions.json", "index.html"]
            .iter()
            .map(|p| fs::read_to_string(out.join(p)).unwrap_or_default())
            .collect()
    }

    fn entries(out: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_publication_stopped_after_any_swap_is_finished_by_the_next_run() {
        for swapped in 0..=3 {
            let (tmp, mut journal) = staged();
            let out = tmp.path();
            // The build that wrote it is gone.
            journal.pid = u32::MAX;
            write_journal(out, &journal).unwrap();
            for part in &journal.parts[..swapped] {
                swap_part(out, part).unwrap();
            }
            assert!(finish(out).unwrap(), "after {swapped} swaps");
            assert_eq!(published(out), ["new", "new", "new"], "after {swapped}");
            assert_eq!(
                entries(out),
                [".prev-v1", "index.html", "v1", "versions.json"]
            );
            assert_eq!(
                fs::read_to_string(out.join(".prev-v1/index.html")).unwrap(),
                "old"
            );
            assert!(!finish(out).unwrap(), "nothing left to finish");
        }
    }

    #[test]
    fn an_exchanged_part_whose_old_generation_was_not_retired_is_not_swapped_back() {
        let (tmp, mut journal) = staged();
        let out = tmp.path();
        journal.pid = u32::MAX;
        write_journal(out, &journal).unwrap();
        // The exchange alone, as a build killed right after it leaves it.
        exchange(&out.join(".tmp-v1-7"), &out.join("v1")).unwrap();
        assert!(finish(out).unwrap());
        assert_eq!(published(out), ["new", "new", "new"]);
    }

    #[test]
    fn a_running_builds_journal_is_left_to_it_and_a_damaged_one_is_removed() {
        let (tmp, journal) = staged();
        let out = tmp.path();
        let mut running = journal;
        running.pid = std::os::unix::process::parent_id();
        write_journal(out, &running).unwrap();
        assert!(!finish(out).unwrap());
        assert_eq!(published(out), ["old", "old", ""]);
        fs::write(out.join(JOURNAL), "{\"pid\": 1, \"par").unwrap();
        assert!(!finish(out).unwrap());
        assert!(!out.join(JOURNAL).exists());
    }

    #[test]
    fn publish_swaps_every_part_and_removes_the_journal() {
        let (tmp, journal) = staged();
        let out = tmp.path();
        let swaps = std::cell::Cell::new(0);
        publish(out, &journal, || swaps.set(swaps.get() + 1)).unwrap();
        assert_eq!(swaps.get(), 2);
        assert_eq!(published(out), ["new", "new", "new"]);
        assert_eq!(
            entries(out),
            [".prev-v1", "index.html", "v1", "versions.json"]
        );
    }
}
