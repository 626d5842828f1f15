//! Watching `content/` and `themes/` for `tminus serve`: file events, gathered until they
//! go quiet, as paths relative to the project root; and watching those folders again when
//! they are renamed away and back, removed and made again, or created.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

/// The folders watched (recursively), relative to the root.
const DIRS: [&str; 2] = ["content", "themes"];

/// The watches of one project: `content/` and `themes/` recursively, and the root itself
/// (not recursively) to see those two appear, disappear or be renamed.
pub(super) struct ProjectWatch {
    root: PathBuf,
    watcher: notify::RecommendedWatcher,
    armed: [bool; DIRS.len()],
}

impl ProjectWatch {
    /// Starts watching `root` (canonical); events go to `tx`.
    pub(super) fn new(
        root: &Path,
        tx: mpsc::Sender<notify::Result<notify::Event>>,
    ) -> Result<Self, String> {
        let watcher = notify::recommended_watcher(tx).map_err(|e| format!("cannot watch: {e}"))?;
        let mut w = ProjectWatch {
            root: root.to_path_buf(),
            watcher,
            armed: [false; DIRS.len()],
        };
        for (i, dir) in DIRS.iter().enumerate() {
            w.arm(i)
                .map_err(|e| format!("cannot watch {}: {e}", root.join(dir).display()))?;
        }
        let _ = w.watcher.watch(root, RecursiveMode::NonRecursive);
        Ok(w)
    }

    /// After the changes `changed` (relative to the root): watches `content/` or `themes/`
    /// again when the change was to the folder itself, or when it was not watched yet.
    /// A folder renamed away loses its watch (inotify reports the rename to its parent,
    /// which notify takes as the end of that watch) and is not watched again when it comes
    /// back, as its parent is not watched recursively: `mv content c2 && mv c2 content`
    /// would otherwise end live reload.
    pub(super) fn rearm(&mut self, changed: &[PathBuf]) {
        for (i, dir) in DIRS.iter().enumerate() {
            if !self.armed[i] || changed.iter().any(|p| p == Path::new(dir)) {
                let _ = self.arm(i);
            }
        }
    }

    fn arm(&mut self, i: usize) -> notify::Result<()> {
        let dir = self.root.join(DIRS[i]);
        if self.armed[i] {
            let _ = self.watcher.unwatch(&dir);
            self.armed[i] = false;
        }
        if dir.is_dir() {
            self.watcher.watch(&dir, RecursiveMode::Recursive)?;
            self.armed[i] = true;
        }
        Ok(())
    }
}

/// Waits for file events and returns the changed paths (relative to `root`) once they
/// have been quiet for a moment: editors save in several steps.
pub(super) fn next_changes(
    rx: &mpsc::Receiver<notify::Result<notify::Event>>,
    root: &Path,
    stop: &AtomicBool,
) -> Option<Vec<PathBuf>> {
    const QUIET: Duration = Duration::from_millis(8);
    const MAX_WAIT: Duration = Duration::from_millis(60);
    let first = rx.recv_timeout(Duration::from_millis(200)).ok()?;
    let mut paths = Vec::new();
    collect(first, root, &mut paths);
    let started = Instant::now();
    while started.elapsed() < MAX_WAIT && !stop.load(Ordering::SeqCst) {
        match rx.recv_timeout(QUIET) {
            Ok(ev) => collect(ev, root, &mut paths),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
    paths.sort();
    paths.dedup();
    (!paths.is_empty()).then_some(paths)
}

fn collect(ev: notify::Result<notify::Event>, root: &Path, paths: &mut Vec<PathBuf>) {
    let Ok(ev) = ev else { return };
    if matches!(ev.kind, notify::EventKind::Access(_)) {
        return;
    }
    for p in ev.paths {
        let Ok(rel) = p.strip_prefix(root) else {
            continue;
        };
        if !(rel.starts_with("content") || rel.starts_with("themes")) {
            continue;
        }
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Editors' temporary and backup files.
        if name.starts_with(".#")
            || name.ends_with('~')
            || name.ends_with(".swp")
            || name.ends_with(".swx")
            || name == "4913"
        {
            continue;
        }
        paths.push(rel.to_path_buf());
    }
}
