//! Importing plans made elsewhere: `tminus import cutover FILE.csv` (see [`cutover`]).

pub mod cutover;

use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Diagnostics, Position};

/// What an import did.
#[derive(Debug)]
pub struct ImportReport {
    pub out: PathBuf,
    pub tasks: usize,
    /// Whether the result was validated with the project at the root.
    pub validated: bool,
    /// Errors found in the project's other files during validation (not blocking).
    pub other_errors: usize,
}

/// Converts `csv` into `out`. Nothing is written when the CSV has any error, when `out`
/// exists and `force` is false, or when the result does not load with the project at
/// `root` (validated in a scratch copy of its `content/`, so the project is never touched
/// before the plan is known to be good).
pub fn import_cutover(
    root: &Path,
    csv: &Path,
    out: &Path,
    force: bool,
) -> Result<ImportReport, Diagnostics> {
    let text = std::fs::read_to_string(csv).map_err(|e| {
        Diagnostics::from(Diagnostic::new(format!("cannot read this file: {e}")).in_file(csv))
    })?;
    if out.exists() && !force {
        return Err(Diagnostic::new(format!("{} already exists", out.display()))
            .with_hint("pass --force to replace it, or --out to write somewhere else")
            .into());
    }
    let imported = cutover::csv_to_yaml(csv, &text)?;
    let mut validated = false;
    let mut other_errors = 0;
    if root.join("content/project.yaml").is_file() {
        let (blocking, others) = validate(root, csv, &imported)?;
        if !blocking.is_empty() {
            return Err(blocking);
        }
        validated = true;
        other_errors = others;
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            Diagnostics::from(Diagnostic::new(format!(
                "cannot create {}: {e}",
                parent.display()
            )))
        })?;
    }
    std::fs::write(out, &imported.yaml).map_err(|e| {
        Diagnostics::from(Diagnostic::new(format!(
            "cannot write {}: {e}",
            out.display()
        )))
    })?;
    Ok(ImportReport {
        out: out.to_path_buf(),
        tasks: imported.tasks.len(),
        validated,
        other_errors,
    })
}

/// Loads the project at `root` with the imported plan as its `content/cutover.yaml`, in a
/// scratch copy. Returns the problems of the plan (pointed back at the CSV rows) and the
/// number of problems elsewhere in the project.
fn validate(
    root: &Path,
    csv: &Path,
    imported: &cutover::Imported,
) -> Result<(Diagnostics, usize), Diagnostics> {
    let scratch = std::env::temp_dir().join(format!(
        "tminus-import-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let result = (|| -> std::io::Result<Result<crate::project::Project, Diagnostics>> {
        for dir in ["content", "themes"] {
            let from = root.join(dir);
            if !from.is_dir() {
                continue;
            }
            for entry in walkdir::WalkDir::new(&from)
                .into_iter()
                .filter_map(Result::ok)
            {
                let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
                let to = scratch.join(rel);
                if entry.file_type().is_dir() {
                    std::fs::create_dir_all(&to)?;
                } else if entry.file_type().is_file() {
                    std::fs::copy(entry.path(), &to)?;
                }
            }
        }
        std::fs::write(scratch.join("content/cutover.yaml"), &imported.yaml)?;
        Ok(crate::load::load(&scratch))
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    let loaded = result.map_err(|e| {
        Diagnostics::from(Diagnostic::new(format!(
            "cannot validate the import in {}: {e}",
            scratch.display()
        )))
    })?;
    let Err(diags) = loaded else {
        return Ok((Diagnostics::new(), 0));
    };
    let mut blocking = Diagnostics::new();
    let mut others = 0;
    for d in diags.into_sorted() {
        if d.file.as_deref() != Some(Path::new("content/cutover.yaml")) {
            others += 1;
            continue;
        }
        let line = d.position.and_then(|p| imported.csv_line_of(p.line));
        let mut moved = Diagnostic::new(d.message.clone()).in_file(csv);
        if let Some(line) = line {
            moved = moved.at(Some(Position::new(line, 1)));
        }
        if let Some(hint) = &d.hint {
            moved = moved.with_hint(hint.clone());
        }
        blocking.push(moved);
    }
    Ok((blocking, others))
}
