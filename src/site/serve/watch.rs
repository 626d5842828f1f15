//! Watching `content/` and `themes/` for `tminus serve`: file events, gathered until they
//! go quiet, as paths relative to the project root.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

