//! The one rule for opening a file of the project: it must resolve inside the project.
//!
//! A path the user wrote (an audience `file:`) or found by walking a folder (`content/`,
//! a theme) may be, or pass through, a symbolic link. It is followed only when its
//! canonical path (no `..`, no links) starts with the project root's canonical path;
//! anything else is refused before a byte is read, so a link to `/etc/passwd` can never
//! have its lines quoted in an error message or served.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;

/// A file that resolves outside the project folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutsideProject;

impl OutsideProject {
    /// What to do about it.
    pub const HINT: &'static str =
        "tminus reads only files inside the project folder: copy the file into the project instead of linking to it";

    /// The error for the file shown as `shown` (the path the user knows it by).
    pub fn diagnostic(self, shown: impl AsRef<Path>) -> Diagnostic {
        Diagnostic::new(format!("this file {self}"))
            .in_file(shown)
            .with_hint(Self::HINT)
    }
}

impl fmt::Display for OutsideProject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("resolves outside the project folder (a symbolic link); it was not read")
    }
}

/// The path to open for `path` (a file under `root`, as joined to it): its canonical
/// path when that is inside the canonical `root`, [`OutsideProject`] when it is not.
/// A path that does not resolve at all (missing, a dangling link) is returned as is, so
/// opening it reports the usual "not found".
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf, OutsideProject> {
    let Ok(real) = std::fs::canonicalize(path) else {
        return Ok(path.to_path_buf());
    };
    // A canonical path can only start with `root` if `root` is canonical itself: one
    // system call per file in the usual case (an absolute root).
    if root.is_absolute() && real.starts_with(root) {
        return Ok(real);
    }
    match std::fs::canonicalize(root) {
        Ok(real_root) if real.starts_with(&real_root) => Ok(real),
        _ => Err(OutsideProject),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_are_followed_only_inside_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        std::fs::create_dir_all(root.join("content/sub")).unwrap();
        std::fs::write(root.join("content/a.csv"), "a").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        symlink(root.join("content/a.csv"), root.join("content/in.csv")).unwrap();
        symlink(dir.path().join("secret.txt"), root.join("content/out.csv")).unwrap();
        symlink(dir.path(), root.join("content/up")).unwrap();
        symlink("/etc/passwd", root.join("content/passwd.csv")).unwrap();

        for r in [root.clone(), root.join("content/..")] {
            let ok = resolve_inside(&r, &r.join("content/in.csv")).unwrap();
            assert_eq!(std::fs::read_to_string(ok).unwrap(), "a");
            assert!(resolve_inside(&r, &r.join("content/a.csv")).is_ok());
            for bad in [
                "content/out.csv",
                "content/passwd.csv",
                "content/up/secret.txt",
            ] {
                assert_eq!(
                    resolve_inside(&r, &r.join(bad)),
                    Err(OutsideProject),
                    "{bad}"
                );
            }
            assert_eq!(
                resolve_inside(&r, &r.join("content/../../secret.txt")),
                Err(OutsideProject)
            );
            // Missing: left to the caller's "not found".
            let missing = r.join("content/missing.csv");
            assert_eq!(resolve_inside(&r, &missing).unwrap(), missing);
        }

        // A relative root (the default `--root .`) works the same.
        let cwd = std::env::current_dir().unwrap();
        let rel_root = pathdiff(&root, &cwd);
        assert!(resolve_inside(&rel_root, &rel_root.join("content/in.csv")).is_ok());
        assert!(resolve_inside(&rel_root, &rel_root.join("content/out.csv")).is_err());
    }

    /// `to` relative to `from`, through `..` (both absolute).
    fn pathdiff(to: &Path, from: &Path) -> PathBuf {
        let ups = from.components().count() - 1;
        let mut p = PathBuf::new();
        for _ in 0..ups {
            p.push("..");
        }
        p.join(to.strip_prefix("/").unwrap())
    }
}
