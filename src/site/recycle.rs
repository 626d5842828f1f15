//! Recycling the previous generation of a version folder (and of `latest/`) instead of
//! deleting it and writing every file again.
//!
//! A 10,000-page version is ~20,000 inodes (a folder and an `index.html` per page), plus
//! 10,000 folders for `latest/`. Deleting them and creating them again on every build is
//! slow, and slower each time: ext4 avoids reusing an inode freed in the last minutes and
//! scans past every such inode on each allocation, so a build right after another spends
//! seconds in the kernel. So a build never deletes the generation it replaces:
//!
//! 1. after the swap, the replaced folder is kept as `output/.prev-<name>/` ([`retire`]:
//!    `.prev-v1.2`, `.prev-latest`);
//! 2. the next build of that folder renames it to its staging folder
//!    (`.tmp-<name>-<pid>`, [`Staging::prepare`]; with none of its own, a version takes the
//!    highest other `.prev-v*` for its folders) and removes what the new site does not have;
//! 3. each file is then [`Staging::place`]d: when its bytes equal the live folder's file at
//!    the same path, the staging entry is (or becomes) a hard link to that live file —
//!    nothing is written; otherwise the entry is unlinked and a **new** file written.
//!    [`Staging::mirror`] does the same for `latest/` by inode alone.
//!
//! An existing inode is never written into: readers copy the output with `cp -al` or
//! rsync hard links, and `latest/` shares inodes with its version, so writing into one
//! would change a served page. Files are only created with `O_EXCL`, linked and unlinked.
//!
//! Nothing is trusted about a recycled tree (there is no manifest): every file is compared
//! with the live one by reading it (sizes first) and every entry's inode is checked, so a
//! tampered, half-updated or killed build's tree only costs time. A build that fails
//! gives its recycled tree back as `.prev-<name>` (partly updated: that is harmless), and a
//! killed build's staging folder is taken as `.prev-<name>` by the next build
//! (`output::remove_leftovers`). Deleting `.prev-*` is always safe.
//!
//! (Over 600 lines, a third of them tests: the staging folder's invariants — what may be
//! kept, linked or must be new — are easier to check in one place.)

use std::collections::HashSet;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// `.prev-<name>` beside `target` (`output/v1.2` → `output/.prev-v1.2`).
pub fn prev_beside(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".prev-{name}"))
}

/// Keeps `old` — the generation just replaced by a swap — as `prev` for the next build. A
/// symbolic link (`latest` in symlink mode) or a file is simply removed; so is `old` when
/// `prev` cannot take it. Errors are ignored: at worst a `.tmp-` folder is left, which the
/// next build takes or removes.
pub fn retire(old: &Path, prev: &Path) {
    let Ok(meta) = fs::symlink_metadata(old) else {
        return;
    };
    if !meta.is_dir() {
        let _ = fs::remove_file(old);
    } else if !keep_as(old, prev) {
        let _ = fs::remove_dir_all(old);
    }
}

/// Renames the folder `from` to `prev` when there is nothing there yet.
pub fn keep_as(from: &Path, prev: &Path) -> bool {
    fs::symlink_metadata(prev).is_err() && fs::rename(from, prev).is_ok()
}

/// The files a folder will hold (paths with `/`, relative to it) and the folders above
/// them.
pub struct Expected {
    files: HashSet<String>,
    dirs: HashSet<String>,
}

impl Expected {
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut files = HashSet::new();
        let mut dirs = HashSet::new();
        for path in paths {
            let mut at = path;
            while let Some((parent, _)) = at.rsplit_once('/') {
                if !dirs.insert(parent.to_string()) {
                    break; // and so are its own parents
                }
                at = parent;
            }
            files.insert(path.to_string());
        }
        Self { files, dirs }
    }

    pub fn files(&self) -> &HashSet<String> {
        &self.files
    }
}

/// A staging folder, empty or recycled, and the live folder its files are compared with.
pub struct Staging {
    dir: PathBuf,
    live: PathBuf,
    /// The `.prev-…` folder it was made from, to give it back when the build fails.
    origin: Option<PathBuf>,
    /// Whether `dir` may hold entries already: then each is checked before it is replaced.
    recycled: bool,
}

impl Staging {
    /// The staging folder `dir` for the live folder `out/<name>` (`live`): the previous
    /// generation when there is one, with everything `expected` does not list removed;
    /// otherwise nothing yet (created as files are written). A version with no
    /// `.prev-<name>` of its own takes another version's (the highest): its folders are
    /// reused, its files replaced.
    pub fn prepare(
        out: &Path,
        name: &str,
        dir: PathBuf,
        live: PathBuf,
        expected: &Expected,
    ) -> io::Result<Staging> {
        let origin = previous(out, name).filter(|prev| fs::rename(prev, &dir).is_ok());
        let recycled = fs::symlink_metadata(&dir).is_ok();
        let staging = Staging {
            dir,
            live,
            origin,
            recycled,
        };
        if !staging.recycled {
            return Ok(staging);
        }
        match staging.prune(expected) {
            Ok(()) => Ok(staging),
            // A tree that cannot be cleaned is not worth keeping: start from nothing.
            Err(_) => {
                remove_any(&staging.dir)?;
                Ok(Staging {
                    origin: None,
                    recycled: false,
                    ..staging
                })
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the staging folder started from a previous generation.
    pub fn is_recycled(&self) -> bool {
        self.recycled
    }

    /// After a failed build: the recycled tree goes back to where it came from (partly
    /// updated, which does not matter), a new one is deleted.
    pub fn give_back(self) {
        if let Some(prev) = &self.origin {
            if keep_as(&self.dir, prev) {
                return;
            }
        }
        let _ = remove_any(&self.dir);
    }

    /// Removes every entry `expected` does not have: extra files (and anything that is not
    /// a folder where a folder is expected, or is one where a file is), then whole folders
    /// that hold nothing expected.
    fn prune(&self, expected: &Expected) -> io::Result<()> {
        if !fs::symlink_metadata(&self.dir)?.is_dir() {
            return fs::remove_file(&self.dir);
        }
        let mut walk = walkdir::WalkDir::new(&self.dir).min_depth(1).into_iter();
        while let Some(entry) = walk.next() {
            let entry = entry?;
            let is_dir = entry.file_type().is_dir();
            let rel = entry
                .path()
                .strip_prefix(&self.dir)
                .ok()
                .and_then(|r| r.to_str())
                .map(|r| r.replace(std::path::MAIN_SEPARATOR, "/"));
            let keep = rel.is_some_and(|r| {
                if is_dir {
                    expected.dirs.contains(&r)
                } else {
                    expected.files.contains(&r)
                }
            });
            if keep {
                continue;
            }
            if is_dir {
                fs::remove_dir_all(entry.path())?;
                walk.skip_current_dir();
            } else {
                fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }

    /// Puts `bytes` at `rel`: a hard link to the live file when that has the same bytes
    /// (kept as it is when it already is that file), a new file otherwise.
    pub fn place(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        let stage = self.dir.join(rel);
        let live = self.live.join(rel);
        if let Some(meta) = same_content(&live, bytes) {
            if self.keep_or_link(&stage, &live, &meta)? {
                return Ok(());
            }
        }
        self.create(&stage)?.write_all(bytes)
    }

    /// Makes `rel` the live folder's file at `rel` (for `latest/`): kept when it already is
    /// that inode, else linked (a copy where links are not possible).
    pub fn mirror(&self, rel: &str) -> io::Result<()> {
        let stage = self.dir.join(rel);
        let live = self.live.join(rel);
        let meta = fs::symlink_metadata(&live)?;
        if self.keep_or_link(&stage, &live, &meta)? {
            return Ok(());
        }
        io::copy(&mut File::open(&live)?, &mut self.create(&stage)?).map(|_| ())
    }

    /// Makes `rel` the live folder's file, unread: for a file known to be the same (the
    /// search index of unchanged sources). `false` when the live folder has no such file.
    pub fn reuse(&self, rel: &str) -> io::Result<bool> {
        let live = self.live.join(rel);
        match fs::symlink_metadata(&live) {
            Ok(meta) if meta.is_file() => self.keep_or_link(&self.dir.join(rel), &live, &meta),
            _ => Ok(false),
        }
    }

    /// A writer for `rel` that compares what it is given with the live file and writes
    /// nothing while it is the same; [`Streamed::finish`] then links the live file. For
    /// a file too large to hold in memory (the search index).
    pub fn stream(&self, rel: &str) -> io::Result<Streamed<'_>> {
        let stage = self.dir.join(rel);
        let live = self.live.join(rel);
        let state = match open_live(&live) {
            Some((file, meta)) => State::Matching {
                live: BufReader::with_capacity(64 << 10, file),
                meta: Box::new(meta),
                pos: 0,
            },
            None => State::Writing(self.create(&stage)?),
        };
        Ok(Streamed {
            staging: self,
            stage,
            live,
            state,
            scratch: Vec::new(),
        })
    }

    /// Makes `stage` a hard link to `live` (whose metadata is `meta`), or leaves it when it
    /// already is one. `false` when linking is not possible (`stage` is then absent).
    fn keep_or_link(&self, stage: &Path, live: &Path, meta: &Metadata) -> io::Result<bool> {
        if self.recycled {
            if let Ok(m) = fs::symlink_metadata(stage) {
                if same_inode(&m, meta) {
                    return Ok(true);
                }
                remove_any(stage)?;
            }
        }
        Ok(with_parent(stage, || fs::hard_link(live, stage)).is_ok())
    }

    /// A new, empty file at `stage` (never an existing one: whatever is there is unlinked
    /// first).
    fn create(&self, stage: &Path) -> io::Result<File> {
        let create = || OpenOptions::new().write(true).create_new(true).open(stage);
        if self.recycled {
            remove_any(stage)?;
        }
        match with_parent(stage, create) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                remove_any(stage)?;
                create()
            }
            r => r,
        }
    }
}

/// What [`Staging::stream`] returns.
pub struct Streamed<'a> {
    staging: &'a Staging,
    stage: PathBuf,
    live: PathBuf,
    state: State,
    scratch: Vec<u8>,
}

enum State {
    /// Everything written so far equals the first `pos` bytes of the live file.
    Matching {
        live: BufReader<File>,
        meta: Box<Metadata>,
        pos: u64,
    },
    /// Different: writing a new file.
    Writing(File),
    /// After an error.
    Failed,
}

impl Streamed<'_> {
    /// Completes the file: a link to the live file when every byte was the same.
    pub fn finish(mut self) -> io::Result<()> {
        if let State::Matching { meta, pos, .. } = &self.state {
            if *pos == meta.len() && self.staging.keep_or_link(&self.stage, &self.live, meta)? {
                return Ok(());
            }
            self.diverge()?;
        }
        match &mut self.state {
            State::Writing(file) => file.flush(),
            _ => Err(failed()),
        }
    }

    /// From here on the content differs from the live file: a new file is started with
    /// the bytes that were the same (copied from the live file).
    fn diverge(&mut self) -> io::Result<()> {
        let State::Matching { live, pos, .. } = std::mem::replace(&mut self.state, State::Failed)
        else {
            return Ok(());
        };
        let mut file = self.staging.create(&self.stage)?;
        let mut live = live.into_inner();
        live.seek(SeekFrom::Start(0))?;
        if io::copy(&mut (&mut live).take(pos), &mut file)? != pos {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} changed while it was read", self.live.display()),
            ));
        }
        self.state = State::Writing(file);
        Ok(())
    }
}

impl Write for Streamed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let State::Matching { live, meta, pos } = &mut self.state {
            if *pos + buf.len() as u64 <= meta.len() {
                self.scratch.resize(buf.len(), 0);
                if live.read_exact(&mut self.scratch).is_ok() && self.scratch == buf {
                    *pos += buf.len() as u64;
                    return Ok(buf.len());
                }
            }
            self.diverge()?;
        }
        match &mut self.state {
            State::Writing(file) => file.write(buf),
            _ => Err(failed()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Writing(file) => file.flush(),
            _ => Ok(()),
        }
    }
}

fn failed() -> io::Error {
    io::Error::other("an earlier write failed")
}

/// The folder a build of `out/<name>` starts from: its own `.prev-<name>`, else (for a
/// version) the highest other version's.
fn previous(out: &Path, name: &str) -> Option<PathBuf> {
    let own = out.join(format!(".prev-{name}"));
    if is_dir(&own) {
        return Some(own);
    }
    if !name.starts_with('v') {
        return None;
    }
    fs::read_dir(out)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let file_name = e.file_name().into_string().ok()?;
            let version = file_name.strip_prefix(".prev-v")?.to_string();
            is_dir(&e.path()).then(|| (version, e.path()))
        })
        .max_by(|a, b| super::output::compare_versions(&a.0, &b.0))
        .map(|(_, path)| path)
}

/// A real folder (not a link to one).
fn is_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Removes whatever is at `path` (a folder with its content); nothing there is fine.
fn remove_any(path: &Path) -> io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// Runs `op` on `path`, creating its parent folders when they are missing.
fn with_parent<T>(path: &Path, op: impl Fn() -> io::Result<T>) -> io::Result<T> {
    match op() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            op()
        }
        r => r,
    }
}

/// The live file at `path` with its metadata, when it is a regular file (a symbolic link
/// is not followed).
fn open_live(path: &Path) -> Option<(File, Metadata)> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(path).ok()?;
    let meta = file.metadata().ok()?;
    meta.is_file().then_some((file, meta))
}

/// The live file's metadata when it holds exactly `bytes`.
fn same_content(live: &Path, bytes: &[u8]) -> Option<Metadata> {
    let (mut file, meta) = open_live(live)?;
    if meta.len() != bytes.len() as u64 {
        return None;
    }
    let mut buf = [0u8; 32 << 10];
    let mut at = 0;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        if bytes.get(at..at + n) != Some(&buf[..n]) {
            return None;
        }
        at += n;
    }
    (at == bytes.len()).then_some(meta)
}

#[cfg(unix)]
fn same_inode(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_inode(_: &Metadata, _: &Metadata) -> bool {
    false
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn ino(path: &Path) -> u64 {
        fs::symlink_metadata(path).unwrap().ino()
    }

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// `out/` with a live `v1/` holding `a/index.html` and `b.txt`.
    fn output() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().to_path_buf();
        write(&out.join("v1/a/index.html"), "page a");
        write(&out.join("v1/b.txt"), "file b");
        (tmp, out)
    }

    fn expected() -> Expected {
        Expected::new(["a/index.html", "b.txt", "c/d/index.html"])
    }

    fn staging(out: &Path) -> Staging {
        Staging::prepare(
            out,
            "v1",
            out.join(".tmp-v1-1"),
            out.join("v1"),
            &expected(),
        )
        .unwrap()
    }

    #[test]
    fn expected_folders_are_every_parent() {
        let e = expected();
        let mut dirs: Vec<_> = e.dirs.iter().map(String::as_str).collect();
        dirs.sort_unstable();
        assert_eq!(dirs, ["a", "c", "c/d"]);
        assert_eq!(e.files().len(), 3);
    }

    #[test]
    fn without_a_previous_generation_same_files_are_linked_and_others_written() {
        let (_t, out) = output();
        let s = staging(&out);
        assert!(!s.is_recycled());
        s.place("a/index.html", b"page a").unwrap();
        s.place("b.txt", b"file b, changed").unwrap();
        s.place("c/d/index.html", b"new").unwrap();
        let dir = s.dir();
        assert_eq!(
            ino(&dir.join("a/index.html")),
            ino(&out.join("v1/a/index.html"))
        );
        assert_ne!(ino(&dir.join("b.txt")), ino(&out.join("v1/b.txt")));
        assert_eq!(
            fs::read_to_string(dir.join("b.txt")).unwrap(),
            "file b, changed"
        );
        assert_eq!(fs::read_to_string(out.join("v1/b.txt")).unwrap(), "file b");
        assert_eq!(
            fs::read_to_string(dir.join("c/d/index.html")).unwrap(),
            "new"
        );
    }

    #[test]
    fn a_recycled_tree_is_pruned_kept_relinked_and_never_written_into() {
        let (_t, out) = output();
        let prev = out.join(".prev-v1");
        // Already the live file: kept.
        fs::create_dir_all(prev.join("a")).unwrap();
        fs::hard_link(out.join("v1/a/index.html"), prev.join("a/index.html")).unwrap();
        // A reader's hard-linked copy shares this inode: it must keep its bytes.
        write(&prev.join("b.txt"), "old b");
        let copy = out.join("reader-copy-b.txt");
        fs::hard_link(prev.join("b.txt"), &copy).unwrap();
        // Extras of every kind, and a file where a folder is expected.
        write(&prev.join("gone/index.html"), "removed page");
        write(&prev.join("stray.txt"), "stray");
        write(&prev.join("c"), "a file where a folder belongs");
        std::os::unix::fs::symlink("/etc", prev.join("link")).unwrap();
        let kept = ino(&prev.join("a/index.html"));

        let s = staging(&out);
        assert!(s.is_recycled());
        assert!(!prev.exists(), "taken as the staging folder");
        let dir = s.dir().to_path_buf();
        for gone in ["gone", "stray.txt", "c", "link"] {
            assert!(
                fs::symlink_metadata(dir.join(gone)).is_err(),
                "{gone} pruned"
            );
        }
        s.place("a/index.html", b"page a").unwrap();
        s.place("b.txt", b"file b").unwrap();
        s.place("c/d/index.html", b"new").unwrap();
        assert_eq!(ino(&dir.join("a/index.html")), kept, "kept as it was");
        assert_eq!(
            ino(&dir.join("b.txt")),
            ino(&out.join("v1/b.txt")),
            "relinked"
        );
        assert_eq!(
            fs::read_to_string(&copy).unwrap(),
            "old b",
            "not written into"
        );
        assert_eq!(
            fs::read_to_string(dir.join("c/d/index.html")).unwrap(),
            "new"
        );

        // Changed bytes for a file that is the live one: a new file, the live one intact.
        s.place("a/index.html", b"page a, changed").unwrap();
        assert_ne!(ino(&dir.join("a/index.html")), kept);
        assert_eq!(
            fs::read_to_string(out.join("v1/a/index.html")).unwrap(),
            "page a"
        );
    }

    #[test]
    fn a_version_without_its_own_takes_the_highest_other_and_a_failed_build_gives_it_back() {
        let (_t, out) = output();
        write(&out.join(".prev-v0.9/a/index.html"), "0.9");
        write(&out.join(".prev-v0.10/a/index.html"), "0.10");
        let s = Staging::prepare(
            &out,
            "v2",
            out.join(".tmp-v2-1"),
            out.join("v2"),
            &expected(),
        )
        .unwrap();
        assert!(s.is_recycled());
        assert!(!out.join(".prev-v0.10").exists() && out.join(".prev-v0.9").exists());
        s.give_back();
        assert!(out.join(".prev-v0.10/a/index.html").is_file());
        assert!(!out.join(".tmp-v2-1").exists());

        // `latest` only takes its own.
        let s = Staging::prepare(
            &out,
            "latest",
            out.join(".tmp-latest-1"),
            out.join("v1"),
            &expected(),
        )
        .unwrap();
        assert!(!s.is_recycled());
        s.mirror("b.txt").unwrap();
        assert_eq!(ino(&s.dir().join("b.txt")), ino(&out.join("v1/b.txt")));
        // A new tree is deleted on failure.
        s.give_back();
        assert!(!out.join(".tmp-latest-1").exists());
        assert!(!out.join(".prev-latest").exists());
    }

    #[test]
    fn retire_keeps_folders_and_removes_links() {
        let (_t, out) = output();
        let old = out.join(".tmp-v1-1");
        write(&old.join("x"), "x");
        retire(&old, &prev_beside(&out.join("v1")));
        assert!(out.join(".prev-v1/x").is_file());
        std::os::unix::fs::symlink("v1", out.join(".tmp-latest-1")).unwrap();
        retire(&out.join(".tmp-latest-1"), &out.join(".prev-latest"));
        assert!(fs::symlink_metadata(out.join(".tmp-latest-1")).is_err());
        assert!(!out.join(".prev-latest").exists());
    }

    /// Streams `parts` into `rel` and returns the resulting file's content and whether it
    /// is the live file.
    fn streamed(out: &Path, parts: &[&str]) -> (String, bool) {
        let s = staging(out);
        let mut w = s.stream("b.txt").unwrap();
        for p in parts {
            w.write_all(p.as_bytes()).unwrap();
        }
        w.finish().unwrap();
        let path = s.dir().join("b.txt");
        let linked = ino(&path) == ino(&out.join("v1/b.txt"));
        let text = fs::read_to_string(&path).unwrap();
        s.give_back();
        (text, linked)
    }

    #[test]
    fn a_streamed_file_is_only_compared_while_it_is_the_same() {
        let (_t, out) = output();
        assert_eq!(streamed(&out, &["fi", "le", " b"]), ("file b".into(), true));
        assert_eq!(
            streamed(&out, &["fi", "LE", " b"]),
            ("fiLE b".into(), false)
        );
        assert_eq!(streamed(&out, &["file"]), ("file".into(), false), "shorter");
        assert_eq!(streamed(&out, &["file b", "!"]), ("file b!".into(), false));
        assert_eq!(streamed(&out, &[]), (String::new(), false));
        fs::remove_file(out.join("v1/b.txt")).unwrap();
        let s = staging(&out);
        let mut w = s.stream("b.txt").unwrap();
        w.write_all(b"no live file").unwrap();
        w.finish().unwrap();
        assert_eq!(
            fs::read_to_string(s.dir().join("b.txt")).unwrap(),
            "no live file"
        );
    }
}
