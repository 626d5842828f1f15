//! The checked log, kept between runs of `tminus live` in `.tminus/live-check.json`.
//!
//! Checking one new event needs the plan's tasks, the roster's roles and the state of the
//! log so far ([`LogContext`], [`LogState`]); loading the project to get them takes a
//! quarter of a second for a 10,000-task plan and a 20,000-event log. After each append
//! `tminus live` keeps them here with what they were made from: the fingerprint of
//! `content/` without the log (SHA-256 of every file, and the tminus version) and the
//! length and CRC-32 of the log itself. The next run uses them only when both still match
//! the files — any edit to the plan, the roster, any other source, or a hand edit of the
//! log, means a full load and check, as without a snapshot. A snapshot that is missing,
//! damaged or from another tminus is ignored, never trusted. It is written to a temporary
//! file and renamed, so it is whole or absent.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::load::live::{LogContext, LogState};

/// Where the snapshot lives, relative to the project folder.
pub const PATH: &str = ".tminus/live-check.json";

/// Raised whenever what the snapshot holds changes meaning.
const FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    /// The fingerprint of `content/` (without the log) it was made from.
    content: String,
    log_len: u64,
    log_crc: u32,
    context: LogContext,
    state: LogState,
}

/// The context and state kept for these sources: `content` is the fingerprint of
/// `content/` now, `log` the bytes of the log now.
pub fn read(root: &Path, content: &str, log: &[u8]) -> Option<(LogContext, LogState)> {
    let bytes = std::fs::read(root.join(PATH)).ok()?;
    let s: Snapshot = serde_json::from_slice(&bytes).ok()?;
    (s.format == FORMAT
        && s.content == content
        && s.log_len == log.len() as u64
        && s.log_crc == crc32fast::hash(log))
    .then_some((s.context, s.state))
}

/// Keeps `context` and `state` for the sources they were checked against. A failure only
/// costs the next run a full load, so it is not an error.
pub fn write(root: &Path, content: &str, log: &[u8], context: LogContext, state: LogState) {
    let s = Snapshot {
        format: FORMAT,
        content: content.to_string(),
        log_len: log.len() as u64,
        log_crc: crc32fast::hash(log),
        context,
        state,
    };
    let Ok(json) = serde_json::to_vec(&s) else {
        return;
    };
    let path = root.join(PATH);
    let tmp = path.with_extension("json.tmp");
    // A snapshot left behind by a failed write no longer matches the log, so it is never
    // used; only the temporary file needs removing.
    if std::fs::write(&tmp, json).is_err() || std::fs::rename(&tmp, &path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_used_only_for_the_sources_it_was_made_from() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".tminus")).unwrap();
        let p = crate::load::live::tests::night();
        let log = "- task: freeze\n  started: 2027-03-27 23:02\n";
        let events = crate::load::live::tests::check(&p, log).unwrap();
        let (context, state) = (LogContext::of(&p), LogState::after(&events));
        write(root, "sha256:a", log.as_bytes(), context, state);
        let (context, state) = read(root, "sha256:a", log.as_bytes()).expect("kept");
        assert_eq!(context.ids().collect::<Vec<_>>().len(), 6);
        assert!(state.track(0).started.is_some() && state.track(1).started.is_none());
        // Another content fingerprint, another log of the same length, a longer log.
        assert!(read(root, "sha256:b", log.as_bytes()).is_none());
        let same_length = log.replace("23:02", "23:03");
        assert!(read(root, "sha256:a", same_length.as_bytes()).is_none());
        assert!(read(root, "sha256:a", format!("{log}# more\n").as_bytes()).is_none());
        // A damaged snapshot is ignored, never trusted.
        let path = root.join(PATH);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(read(root, "sha256:a", log.as_bytes()).is_none());
        std::fs::write(&path, b"\0\xff not json").unwrap();
        assert!(read(root, "sha256:a", log.as_bytes()).is_none());
    }
}
