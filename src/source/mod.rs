//! Source files: reading them, splitting Markdown front matter from its body, and turning
//! problems into [`Diagnostic`]s that point at the right line of the file on disk. Every
//! file is opened through [`inside::resolve_inside`]: one that resolves outside the project
//! (a symbolic link) is refused, never read.

pub mod inside;
pub mod limits;
pub mod yaml;

use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Position};

/// A text file of the project, with the path shown to people (relative to the project root).
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Reads `root/relative`; the diagnostic path stays `relative`. A file that resolves
    /// outside `root` is refused without being read.
    /// Files over [`limits::MAX_FILE_BYTES`] and text that is not UTF-8 are errors (the
    /// latter at the line and column of the first bad byte).
    pub fn read(root: &Path, relative: &Path) -> Result<Self, Diagnostic> {
        use std::io::Read;
        let full = inside::resolve_inside(root, &root.join(relative))
            .map_err(|e| e.diagnostic(relative))?;
        let cannot = |e: std::io::Error| {
            Diagnostic::new(format!("cannot read this file: {e}")).in_file(relative)
        };
        let file = std::fs::File::open(&full).map_err(cannot)?;
        let mut bytes = Vec::new();
        // One byte more than the limit tells a file at the limit from a larger one.
        file.take(limits::MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
        if bytes.len() as u64 > limits::MAX_FILE_BYTES {
            return Err(Diagnostic::new(format!(
                "this file is larger than {} MiB, the most tminus reads",
                limits::MAX_FILE_BYTES / (1024 * 1024)
            ))
            .in_file(relative)
            .at(Some(Position::new(1, 1)))
            .with_hint("split it into several files"));
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile::new(relative, text)),
            Err(e) => {
                let bytes = e.as_bytes();
                let good = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(bytes).into_owned();
                let position = position_of(bytes, good);
                Err(SourceFile::new(relative, text)
                    .error(Some(position), "this file is not valid UTF-8 text")
                    .with_hint("save the file as UTF-8 (most editors: \"Save with encoding\"); the column points at the first bad byte"))
            }
        }
    }

    /// The text of line `n` (1-based), without its line break.
    pub fn line(&self, n: usize) -> Option<String> {
        self.text
            .lines()
            .nth(n.checked_sub(1)?)
            .map(|l| l.trim_end_matches('\r').to_string())
    }

    /// A diagnostic in this file, at `position`, showing the source line.
    pub fn error(&self, position: Option<Position>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(message)
            .in_file(&self.path)
            .at(position)
            .with_source_line(position.and_then(|p| self.line(p.line)))
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `bytes`.
pub fn position_of(bytes: &[u8], offset: usize) -> Position {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Position::new(line, column)
}

/// A Markdown file split into its YAML front matter and its body.
#[derive(Debug, Clone, Copy)]
pub struct FrontMatter<'a> {
    pub yaml: &'a str,
    /// Line of the file on which the YAML starts (1-based): YAML line 1 is file line `yaml_line`.
    pub yaml_line: usize,
    pub body: &'a str,
    /// Line of the file on which the body starts.
    pub body_line: usize,
}

/// Splits `---\n<yaml>\n---\n<body>`. The opening fence must be the first line.
pub fn split_front_matter(file: &SourceFile) -> Result<FrontMatter<'_>, Diagnostic> {
    let text = file.text.strip_prefix('\u{feff}').unwrap_or(&file.text);
    let first_line_end = text.find('\n').unwrap_or(text.len());
    if text[..first_line_end].trim_end() != "---" {
        return Err(file
            .error(Some(Position::new(1, 1)), "expected front matter: the file must start with a `---` line")
            .with_hint("put the page's keys between two `---` lines at the top of the file, e.g. `---\\ntitle: Deploy\\n---`"));
    }
    let yaml_start = (first_line_end + 1).min(text.len());
    let mut offset = yaml_start;
    for (line_no, line) in (2..).zip(text[yaml_start..].split_inclusive('\n')) {
        let bare = line.trim_end();
        if bare == "---" || bare == "..." {
            let body_start = offset + line.len();
            return Ok(FrontMatter {
                yaml: &text[yaml_start..offset],
                yaml_line: 2,
                body: &text[body_start..],
                body_line: line_no + 1,
            });
        }
        offset += line.len();
    }
    Err(file
        .error(
            Some(Position::new(1, 1)),
            "unclosed front matter: no closing `---` line",
        )
        .with_hint("end the front matter with a line holding only `---`, before the Markdown body"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_counts_lines_in_the_file() {
        let f = SourceFile::new("a.md", "---\ntitle: A\nid: a\n---\n# Body\n");
        let fm = split_front_matter(&f).unwrap();
        assert_eq!(fm.yaml, "title: A\nid: a\n");
        assert_eq!(fm.yaml_line, 2);
        assert_eq!(fm.body, "# Body\n");
        assert_eq!(fm.body_line, 5);
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        let f = SourceFile::new("a.md", "---\ntitle: A\n# Body\n");
        let e = split_front_matter(&f).unwrap_err();
        assert!(e.message.contains("unclosed front matter"), "{e}");
    }

    #[test]
    fn invalid_utf8_is_located_at_the_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.yaml"), b"a: 1\nb: \xc3\xa9\xff x\n").unwrap();
        let e = SourceFile::read(dir.path(), Path::new("x.yaml")).unwrap_err();
        assert_eq!(e.location(), "x.yaml:2:5", "{e}");
        assert!(e.message.contains("UTF-8"), "{e}");
    }

    #[test]
    fn missing_front_matter_is_an_error() {
        let f = SourceFile::new("a.md", "# Body\n");
        assert!(split_front_matter(&f).is_err());
    }
}
