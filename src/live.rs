//! `tminus live`: recording go-live night (SPEC §8, §7).
//!
//! [`record`] appends one event to `content/live.yaml` after checking it against the whole
//! project and the log so far: under an exclusive lock (`.tminus/live.lock`, the operating
//! system's advisory lock), the project is loaded and checked — or, when nothing but this
//! command's own appends changed since the last run, its checked plan, roster and log are
//! taken from the [`snapshot`] — the new event is checked against them, and appended with
//! one `write` and an fsync — so two people recording at the same moment both get their
//! event in, whole, and an invalid event writes nothing. The file is only ever appended
//! to: comments and hand edits stay as they are. The bridge update (`live status`) is
//! [`bridge`].

pub mod bridge;
mod event;
pub mod snapshot;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::load::live::{LogContext, LogState, PATH};
pub use event::{Condition, NewEvent, What};

/// The first lines of a log `tminus live` creates.
pub const HEADER: &str = "\
# Go-live night: what happened, as it happened (SPEC §8). Appended by `tminus live`;
# hand edits are welcome (keep the events in the order they happened).
";

/// Where the lock of the live log is, relative to the project folder.
pub const LOCK: &str = ".tminus/live.lock";

/// What [`record`] appended.
#[derive(Debug)]
pub struct Recorded {
    /// The event as written (YAML).
    pub text: String,
    /// Its first line in `content/live.yaml`.
    pub line: usize,
}

/// Why nothing was recorded.
#[derive(Debug)]
pub enum RecordError {
    /// The project (or the log as it is) has errors: file, line and column.
    Project(Diagnostics),
    /// The new event is wrong: each error names the argument.
    Arguments(Vec<Diagnostic>),
    /// Reading, locking or writing failed.
    Io(String),
}

/// Holds the live log's lock shared, for reading the log whole while no `tminus live` is
/// appending to it; `None` when no event was ever recorded with `tminus live` (no lock file)
/// or the lock cannot be taken (then the log is read as it is).
pub fn read_lock(root: &Path) -> Option<std::fs::File> {
    let lock = std::fs::File::open(root.join(LOCK)).ok()?;
    lock.lock_shared().ok()?;
    Some(lock)
}

/// Appends `event` to the live log of the project in `root`; `now` is the time of an event
/// given without `--at`.
pub fn record(root: &Path, event: &NewEvent, now: DateTime<Utc>) -> Result<Recorded, RecordError> {
    let lock_path = root.join(LOCK);
    if let Some(dir) = lock_path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| RecordError::Io(format!("cannot create {}: {e}", dir.display())))?;
    }
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| RecordError::Io(format!("cannot open {}: {e}", lock_path.display())))?;
    lock.lock()
        .map_err(|e| RecordError::Io(format!("cannot lock {}: {e}", lock_path.display())))?;
    // Everything below holds the lock; it is released when `lock` is dropped (or the
    // process ends).
    // The log is read and appended to only inside the project (as the loader reads it).
    let path = crate::source::inside::resolve_inside(root, &root.join(PATH))
        .map_err(|outside| RecordError::Project(outside.diagnostic(PATH).into()))?;
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(RecordError::Io(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let before = existing.as_deref().unwrap_or("");
    let content = crate::load::fingerprint::of_content(root).content_only();
    let full_check = || -> Result<(LogContext, LogState), RecordError> {
        let project = crate::load::load(root).map_err(RecordError::Project)?;
        Ok((LogContext::of(&project), LogState::after(&project.live)))
    };
    let (mut context, mut state) = match snapshot::read(root, &content, before.as_bytes()) {
        Some(kept) => kept,
        None => full_check()?,
    };
    let mut prefix = match &existing {
        None => HEADER.to_string(),
        Some(t) if !t.is_empty() && !t.ends_with('\n') => "\n".to_string(),
        Some(_) => String::new(),
    };
    let first_line = before.matches('\n').count() + prefix.matches('\n').count() + 1;
    let (text, args) = event.to_yaml(&context, now);
    prefix.push_str(&text);
    // The log as it is was checked by the load; only the new event is read, from its line.
    let file = crate::source::SourceFile::new(PATH, format!("{before}{prefix}"));
    let mut diags = Diagnostics::new();
    crate::load::live::events_after(&file, &text, first_line, &context, &mut state, &mut diags);
    if state.needs_full_check {
        // Earlier than its task's latest event: checked against that task's events, which
        // the snapshot does not keep.
        (context, state) = full_check()?;
        diags = Diagnostics::new();
        crate::load::live::events_after(&file, &text, first_line, &context, &mut state, &mut diags);
    }
    if !diags.is_empty() {
        let mut errors = Vec::new();
        let mut in_file = Diagnostics::new();
        for d in diags.into_sorted() {
            match d.position.map(|p| p.line) {
                Some(line) if line >= first_line => {
                    let arg = args.get(line - first_line).copied().unwrap_or("the event");
                    errors.push(
                        Diagnostic::new(format!("{arg}: {}", d.message))
                            .with_hint(d.hint.unwrap_or_default()),
                    );
                }
                _ => in_file.push(d),
            }
        }
        if !in_file.is_empty() {
            return Err(RecordError::Project(in_file));
        }
        return Err(RecordError::Arguments(errors));
    }
    let mut out = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| RecordError::Io(format!("cannot open {}: {e}", path.display())))?;
    // One write: a reader never sees half an event, and the lock keeps writers apart.
    out.write_all(prefix.as_bytes())
        .and_then(|_| out.sync_all())
        .map_err(|e| RecordError::Io(format!("cannot write {}: {e}", path.display())))?;
    // Still under the lock: the next run finds the log as this one left it.
    snapshot::write(root, &content, file.text.as_bytes(), context, state);
    drop(lock);
    Ok(Recorded {
        text,
        line: first_line,
    })
}
