//! Templates: the built-in theme compiled into the binary (`themes/default/`), overridden
//! file by file by the project's `themes/<name>/`, loaded into one Tera instance.
//!
//! `templates/*.html` are Tera templates (autoescaped); everything under `static/` is copied
//! to the site's `assets/` folder as is. Other theme files (the email layout,
//! `email/layout.mjml`) are read one at a time with [`theme_file`].
//!
//! A theme folder is `<project>/themes/<name>/`; its files (symbolic links included) are
//! read only when they resolve inside the project (see [`crate::source::inside`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::source::inside::resolve_inside;

use include_dir::{include_dir, Dir};
use tera::Tera;

use crate::diagnostics::{Diagnostic, Diagnostics, Position};

static BUILT_IN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

/// The loaded theme: compiled templates and static assets.
pub struct Theme {
    pub tera: Tera,
    /// Path under `assets/` → content.
    pub assets: BTreeMap<String, Vec<u8>>,
}

impl Theme {
    /// The built-in theme, with the files of `overrides` (a theme folder) replacing its own.
    pub fn load(overrides: Option<&Path>) -> Result<Theme, Diagnostics> {
        let mut templates: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut assets = BTreeMap::new();
        for file in all_files(&BUILT_IN) {
            let path = file.path().to_string_lossy().replace('\\', "/");
            add(
                &mut templates,
                &mut assets,
                &path,
                file.contents().to_vec(),
                format!("(built-in theme) {path}"),
            );
        }
        let mut diags = Diagnostics::new();
        if let Some(dir) = overrides {
            let project = project_of(dir);
            for entry in walkdir::WalkDir::new(dir)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
            {
                if !entry.file_type().is_file() {
                    continue;
                }
                let Ok(rel) = entry.path().strip_prefix(dir) else {
                    continue;
                };
                let rel = rel.to_string_lossy().replace('\\', "/");
                let real = match resolve_inside(project, entry.path()) {
                    Ok(real) => real,
                    Err(e) => {
                        diags.push(e.diagnostic(entry.path()));
                        continue;
                    }
                };
                match std::fs::read(real) {
                    Ok(bytes) => add(
                        &mut templates,
                        &mut assets,
                        &rel,
                        bytes,
                        entry.path().display().to_string(),
                    ),
                    Err(e) => diags.push(
                        Diagnostic::new(format!("cannot read theme file: {e}"))
                            .in_file(entry.path()),
                    ),
                }
            }
        }
        let mut tera = Tera::default();
        // Tera's default escaping also turns `/` into `&#x2F;`; escaping `& < > " '` is
        // enough for text and quoted attributes, and keeps relative links readable.
        tera.set_escape_fn(crate::markdown::highlight::escape_html);
        // Templates are added together so `extends` and `include` resolve across them.
        let raw: Vec<(String, String)> = templates
            .iter()
            .map(|(name, (text, _))| (name.clone(), text.clone()))
            .collect();
        if let Err(e) = tera.add_raw_templates(raw) {
            let (file, position, message) = locate_tera_error(&e, &templates);
            diags.push(
                Diagnostic::new(format!("theme template error: {message}"))
                    .in_file(file)
                    .at(position)
                    .with_hint("fix the template syntax (Tera, Jinja2-like)"),
            );
        }
        diags.finish(Theme { tera, assets })
    }
}

/// A theme file by its path in the theme (`email/layout.mjml`): the project's override
/// in `overrides` when it has that file, else the built-in one. Returns the text and where
/// it came from (a path, or `(built-in theme) <path>`), for error messages.
pub fn theme_file(overrides: Option<&Path>, path: &str) -> Result<(String, String), Diagnostic> {
    if let Some(dir) = overrides.filter(|dir| dir.join(path).is_file()) {
        let file = dir.join(path);
        let real = resolve_inside(project_of(dir), &file).map_err(|e| e.diagnostic(&file))?;
        return std::fs::read_to_string(real)
            .map(|text| (text, file.display().to_string()))
            .map_err(|e| Diagnostic::new(format!("cannot read theme file: {e}")).in_file(&file));
    }
    let file = BUILT_IN
        .get_file(path)
        .ok_or_else(|| Diagnostic::new(format!("the built-in theme has no `{path}`")))?;
    Ok((
        String::from_utf8_lossy(file.contents()).into_owned(),
        format!("(built-in theme) {path}"),
    ))
}

/// The project a theme folder (`<project>/themes/<name>`) belongs to: its files must
/// resolve inside it.
fn project_of(theme_dir: &Path) -> &Path {
    match theme_dir.ancestors().nth(2) {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => theme_dir,
    }
}

fn add(
    templates: &mut BTreeMap<String, (String, String)>,
    assets: &mut BTreeMap<String, Vec<u8>>,
    path: &str,
    bytes: Vec<u8>,
    origin: String,
) {
    if let Some(name) = path.strip_prefix("templates/") {
        templates.insert(
            name.to_string(),
            (String::from_utf8_lossy(&bytes).into_owned(), origin),
        );
    } else if let Some(asset) = path.strip_prefix("static/") {
        assets.insert(asset.to_string(), bytes);
    }
}

fn all_files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    let mut out: Vec<&include_dir::File> = dir.files().collect();
    for sub in dir.dirs() {
        out.extend(all_files(sub));
    }
    out
}

/// Tera reports `Failed to parse 'x.html'` then ` --> 3:5` in its cause chain.
fn locate_tera_error(
    e: &tera::Error,
    templates: &BTreeMap<String, (String, String)>,
) -> (String, Option<Position>, String) {
    let full = error_chain(e);
    let name = full.split('\'').nth(1).unwrap_or("");
    let file = templates
        .get(name)
        .map(|(_, origin)| origin.clone())
        .unwrap_or_else(|| name.to_string());
    (file, tera_position(&full, 0), full)
}

/// The whole cause chain of a Tera error, on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(text.trim());
        }
        source = s.source();
    }
    out.replace('\n', " ")
}

/// Finds ` --> L:C` in a Tera message; `line_offset` maps it into the file.
pub fn tera_position(message: &str, line_offset: usize) -> Option<Position> {
    let at = message.find("--> ")? + 4;
    let rest = &message[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let (line, col) = rest[..end].split_once(':')?;
    Some(Position::new(
        line.parse::<usize>().ok()? + line_offset,
        col.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_theme_loads_and_overrides_replace_files() {
        let theme = Theme::load(None).expect("built-in theme compiles");
        assert!(theme.tera.get_template_names().any(|n| n == "base.html"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(
            dir.path().join("templates/page.html"),
            "OVERRIDDEN {{ page.title }}",
        )
        .unwrap();
        let theme = Theme::load(Some(dir.path())).unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("page", &serde_json::json!({"title": "<x>"}));
        assert_eq!(
            theme.tera.render("page.html", &ctx).unwrap(),
            "OVERRIDDEN &lt;x&gt;"
        );
    }

    #[test]
    fn theme_files_come_from_the_override_when_it_has_them() {
        let (text, origin) = theme_file(None, "email/layout.mjml").unwrap();
        assert!(text.contains("<mjml"));
        assert_eq!(origin, "(built-in theme) email/layout.mjml");
        let dir = tempfile::tempdir().unwrap();
        let (_, origin) = theme_file(Some(dir.path()), "email/layout.mjml").unwrap();
        assert!(
            origin.starts_with("(built-in theme)"),
            "no override: built-in"
        );
        std::fs::create_dir_all(dir.path().join("email")).unwrap();
        std::fs::write(dir.path().join("email/layout.mjml"), "<mjml/>").unwrap();
        let (text, origin) = theme_file(Some(dir.path()), "email/layout.mjml").unwrap();
        assert_eq!(text, "<mjml/>");
        assert!(origin.ends_with("layout.mjml") && !origin.starts_with("(built-in"));
        assert!(theme_file(None, "email/missing.mjml").is_err());
    }

    #[test]
    fn a_broken_override_names_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/page.html"), "ok\n{% if %}\n").unwrap();
        let err = Theme::load(Some(dir.path())).err().expect("error");
        let d = err.iter().next().unwrap();
        assert!(d.location().contains("page.html"), "{d}");
        assert_eq!(d.position.map(|p| p.line), Some(2), "{d}");
    }
}
