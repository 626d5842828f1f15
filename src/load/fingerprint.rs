//! The fingerprint of a version's sources, stored in `versions.json`.
//!
//! It is a SHA-256 over every file under `content/` and the project's theme overrides
//! (relative path and bytes, in path order) and the tminus version, which stands for the
//! built-in theme compiled into the binary. Build times are not part of it, so building
//! the same sources twice gives the same fingerprint: that is how an approved version is
//! recognised as unchanged, and a changed one refused. The live log (`content/live.yaml`)
//! is not a source: it records go-live night, like the send ledger records the sends, so
//! recording an event does not turn an approved version into a changed one.

use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::project::Project;

/// The fingerprint of a project's `content/` folder, to be finished with its theme once
/// the project is loaded: `content/` can be hashed while it loads.
pub struct OfContent(Sha256);

/// Starts the fingerprint of the project at `root` with its `content/` folder.
pub fn of_content(root: &Path) -> OfContent {
    let mut h = Sha256::new();
    h.update(concat!("tminus ", env!("CARGO_PKG_VERSION"), "\0").as_bytes());
    add_dir(&mut h, root, &root.join("content"));
    OfContent(h)
}

impl OfContent {
    /// The fingerprint of `project` (loaded from the same root), as `sha256:<hex>`.
    pub fn finish(mut self, project: &Project) -> String {
        if let Some(theme) = &project.theme_dir {
            add_dir(&mut self.0, &project.root, theme);
        }
        format!("sha256:{:x}", self.0.finalize())
    }

    /// The fingerprint of `content/` alone (and the tminus version), as `sha256:<hex>`: what
    /// `tminus live` keys its checked-log snapshot on (the theme plays no part in checking
    /// an event).
    pub fn content_only(self) -> String {
        format!("sha256:{:x}", self.0.finalize())
    }
}

fn add_dir(h: &mut Sha256, root: &Path, dir: &Path) {
    // Links followed, as the theme loader follows them (it refuses those leading out of
    // the project).
    let mut files: Vec<_> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.strip_prefix(root).ok() != Some(Path::new(crate::load::live::PATH)))
        .collect();
    files.sort();
    // Read in parallel a batch at a time (opening 10,000 files costs more than hashing
    // them), hashed in order.
    for batch in files.chunks(256) {
        let contents: Vec<Vec<u8>> = batch
            .par_iter()
            .map(|f| std::fs::read(f).unwrap_or_default())
            .collect();
        for (f, bytes) in batch.iter().zip(contents) {
            let rel = f.strip_prefix(root).unwrap_or(f);
            let rel = rel.to_string_lossy().replace('\\', "/");
            h.update(rel.as_bytes());
            h.update([0]);
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
    }
}
