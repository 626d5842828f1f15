//! `tminus new`: the starter project (compiled into the binary from `src/scaffold/project/`).

use std::fs;
use std::path::Path;

use include_dir::{include_dir, Dir};

static STARTER: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/scaffold/project");

/// Writes the starter project into `dir`, which must not exist or be empty.
pub fn create(dir: &Path) -> Result<usize, String> {
    if dir.exists() {
        let empty = fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .next()
            .is_none();
        if !empty {
            return Err(format!(
                "{} already exists and is not empty; choose a new folder",
                dir.display()
            ));
        }
    }
    let mut written = 0;
    write_dir(&STARTER, dir, &mut written)?;
    let gitignore = dir.join(".gitignore");
    // The build output and the highlight cache are disposable; .tminus/sent.jsonl (the
    // send ledger) is the record of what was sent, so it is not ignored.
    fs::write(&gitignore, "/output\n/.tminus/cache\n")
        .map_err(|e| format!("cannot write {}: {e}", gitignore.display()))?;
    Ok(written)
}

fn write_dir(src: &Dir, dest_root: &Path, written: &mut usize) -> Result<(), String> {
    for file in src.files() {
        let dest = dest_root.join(file.path());
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&dest, file.contents())
            .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        *written += 1;
    }
    for sub in src.dirs() {
        write_dir(sub, dest_root, written)?;
    }
    Ok(())
}
