//! Diagnostics: the errors tminus reports to people.
//!
//! Every stage (loading, validation, scheduling, rendering) pushes [`Diagnostic`]s into a
//! [`Diagnostics`] collection instead of stopping at the first problem, so one run reports
//! every error of a project. A diagnostic names the file, line and column where it can, says
//! what was wrong and what was expected, and may carry a hint.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file, 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    pub fn new(line: usize, column: usize) -> Self {
        Position { line, column }
    }
}

/// One error, ready to show to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, relative to the project root where possible.
    pub file: Option<PathBuf>,
    pub position: Option<Position>,
    pub message: String,
    pub hint: Option<String>,
    /// The offending source line, shown under the message with a caret.
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            position: None,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    pub fn in_file(mut self, file: impl AsRef<Path>) -> Self {
        self.file = Some(file.as_ref().to_path_buf());
        self
    }

    pub fn at(mut self, position: Option<Position>) -> Self {
        self.position = position;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        if !hint.is_empty() {
            self.hint = Some(hint);
        }
        self
    }

    pub fn with_source_line(mut self, line: Option<String>) -> Self {
        self.source_line = line;
        self
    }

    /// `file:line:col` (as much of it as is known).
    pub fn location(&self) -> String {
        let mut out = String::new();
        if let Some(file) = &self.file {
            out.push_str(&file.display().to_string());
        }
        if let Some(p) = self.position {
            out.push_str(&format!(":{}:{}", p.line, p.column));
        }
        out
    }
}

impl Diagnostic {
    /// Shown as a warning (`warning: file:line:col: …`) rather than an error.
    pub fn as_warning(&self) -> impl fmt::Display + '_ {
        Level(self, "warning")
    }
}

struct Level<'a>(&'a Diagnostic, &'static str);

impl fmt::Display for Level<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, self.1)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "error")
    }
}

impl Diagnostic {
    fn write(&self, f: &mut fmt::Formatter<'_>, level: &str) -> fmt::Result {
        let location = self.location();
        if location.is_empty() {
            write!(f, "{level}: {}", self.message)?;
        } else {
            write!(f, "{level}: {}: {}", location, self.message)?;
        }
        if let (Some(line), Some(p)) = (&self.source_line, self.position) {
            let gutter = p.line.to_string();
            let pad = " ".repeat(gutter.len());
            write!(f, "\n {pad} |\n {gutter} | {line}\n {pad} | ")?;
            let caret_at = line
                .chars()
                .take(p.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect::<String>();
            write!(f, "{caret_at}^")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// All the diagnostics of one run.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorted by file then position, duplicates removed: the order people read them in.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (&a.file, a.position, &a.message).cmp(&(&b.file, b.position, &b.message))
        });
        self.items.dedup();
        self.items
    }

    /// `Ok(value)` when nothing was reported, else every diagnostic.
    pub fn finish<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics { items: vec![d] }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sorted = self.clone().into_sorted();
        for d in &sorted {
            writeln!(f, "{d}\n")?;
        }
        let n = sorted.len();
        write!(f, "{n} error{}", if n == 1 { "" } else { "s" })
    }
}

/// The closest of `candidates` to `word`, when close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_column_and_points_at_the_column() {
        let d = Diagnostic::new("unknown key `tilte`")
            .in_file("content/project.yaml")
            .at(Some(Position::new(3, 5)))
            .with_source_line(Some("    tilte: x".into()))
            .with_hint("did you mean `title`?");
        let text = d.to_string();
        assert!(text.starts_with("error: content/project.yaml:3:5: unknown key `tilte`"));
        assert!(text.contains(" 3 |     tilte: x\n   |     ^"));
        assert!(text.ends_with("hint: did you mean `title`?"));
    }

    #[test]
    fn did_you_mean_only_suggests_close_words() {
        assert_eq!(did_you_mean("tilte", ["title", "owner"]), Some("title"));
        assert_eq!(did_you_mean("zzz", ["title", "owner"]), None);
    }

    #[test]
    fn sorted_diagnostics_are_deduplicated() {
        let mut all = Diagnostics::new();
        let d = Diagnostic::new("x").in_file("b.yaml");
        all.push(d.clone());
        all.push(Diagnostic::new("y").in_file("a.yaml"));
        all.push(d);
        let sorted = all.into_sorted();
        assert_eq!(sorted.len(), 2);
        assert_eq!(sorted[0].message, "y");
    }
}
