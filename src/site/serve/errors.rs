//! Build errors in the browser: each [`Diagnostic`] as the page shows it (paths relative
//! to the project), the error box above the last good page, or the error page when there
//! is no good build yet.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Shared;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::source::SourceFile;
use crate::templates::Theme;

/// One error as the browser shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub source_line: Option<String>,
    pub hint: Option<String>,
}

impl From<&Diagnostic> for ErrorView {
    fn from(d: &Diagnostic) -> Self {
        ErrorView {
            file: d.file.as_ref().map(|f| f.display().to_string()),
            line: d.position.map(|p| p.line),
            column: d.position.map(|p| p.column),
            message: d.message.clone(),
            source_line: d.source_line.clone(),
            hint: d.hint.clone(),
        }
    }
}

impl ErrorView {
    /// The error with the project folder's absolute path taken out of its texts (theme
    /// files are named by absolute path): a page shows paths relative to the project,
    /// never where the project sits on the machine.
    fn relative_to(self, root: &Path) -> ErrorView {
        let prefix = format!("{}{}", root.display(), std::path::MAIN_SEPARATOR);
        let strip = |s: String| s.replace(&prefix, "");
        ErrorView {
            file: self.file.map(strip),
            message: strip(self.message),
            hint: self.hint.map(strip),
            ..self
        }
    }
}

/// Shows `diags` in the browser; the files served stay those of the last good build.
pub(super) fn publish_errors(
    shared: &Shared,
    root: &Path,
    diags: &Diagnostics,
    theme: Option<&Theme>,
) {
    let errors: Vec<ErrorView> = diags
        .clone()
        .into_sorted()
        .iter()
        .map(|d| ErrorView::from(d).relative_to(root))
        .collect();
    let mut served = shared.served.write().expect("lock");
    let has_previous = !served.files.is_empty();
    let loaded;
    let theme = match theme {
        Some(t) => Some(t),
        None => {
            loaded = Theme::load(theme_dir(root).as_deref()).ok();
            loaded.as_ref()
        }
    };
    served.error_html = error_html(theme, &errors, has_previous);
    served.errors = Some(errors);
}

/// The project's theme folder, for the error page when the project does not load.
fn theme_dir(root: &Path) -> Option<PathBuf> {
    let file = SourceFile::read(root, Path::new("content/project.yaml")).ok()?;
    let value: serde_yaml::Value = serde_yaml::from_str(&file.text).ok()?;
    let name = value.get("site")?.get("theme")?.as_str()?;
    if !crate::model::is_valid_id(name) {
        return None;
    }
    let dir = root.join("themes").join(name);
    dir.is_dir().then_some(dir)
}

/// With a previous build, the error box shown above each page; without, the error page.
fn error_html(theme: Option<&Theme>, errors: &[ErrorView], has_previous: bool) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("errors", errors);
    ctx.insert("has_previous", &has_previous);
    let template = if has_previous {
        "_build_errors.html"
    } else {
        // What base.html expects, with neutral values.
        ctx.insert(
            "site",
            &serde_json::json!({"title": "tminus serve", "project": "", "system": "", "version": "",
                "status": "", "is_draft": false, "built_at": "", "timezone": "", "generator": concat!("tminus ", env!("CARGO_PKG_VERSION"))}),
        );
        ctx.insert("root", "/");
        ctx.insert("versions_root", "/");
        ctx.insert("nav", &Vec::<serde_json::Value>::new());
        ctx.insert("versions", &Vec::<serde_json::Value>::new());
        ctx.insert(
            "page",
            &serde_json::json!({"path": "", "section": "error", "title": "Build failed"}),
        );
        ctx.insert("support", &serde_json::json!({}));
        "error.html"
    };
    if let Some(html) = theme.and_then(|t| t.tera.render(template, &ctx).ok()) {
        return html;
    }
    // The theme itself is broken: plain HTML.
    let esc = crate::util::escape_html;
    let mut html = String::from("<section id=\"tminus-build-errors\" role=\"alert\" style=\"font-family:sans-serif;border:3px solid #b00020;padding:1rem;margin:1rem\"><h2>Build failed</h2><ol>");
    for e in errors {
        let at = match (&e.file, e.line, e.column) {
            (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}: "),
            (Some(f), Some(l), None) => format!("{f}:{l}: "),
            (Some(f), None, _) => format!("{f}: "),
            _ => String::new(),
        };
        html.push_str(&format!(
            "<li><strong>{}</strong>{}",
            esc(&at),
            esc(&e.message)
        ));
        if let Some(s) = &e.source_line {
            html.push_str(&format!("<pre>{}</pre>", esc(s)));
        }
        if let Some(h) = &e.hint {
            html.push_str(&format!("<div>hint: {}</div>", esc(h)));
        }
        html.push_str("</li>");
    }
    html.push_str("</ol></section>");
    if has_previous {
        html
    } else {
        format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Build failed</title></head><body>{html}</body></html>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_with_file_line_and_hint_even_without_a_theme() {
        let e = ErrorView {
            file: Some("content/cutover.yaml".into()),
            line: Some(3),
            column: Some(5),
            message: "unknown key `duraton`".into(),
            source_line: Some("    duraton: 30m".into()),
            hint: Some("did you mean `duration`?".into()),
        };
        let theme = Theme::load(None).unwrap();
        for t in [Some(&theme), None] {
            for prev in [true, false] {
                let html = error_html(t, std::slice::from_ref(&e), prev);
                assert!(html.contains("cutover.yaml:3:5"), "{html}");
                assert!(html.contains("did you mean `duration`?"), "{html}");
            }
        }
    }
}
