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
        tera.set_escape_fn(crate::util::escape_html);
        // Templates are added together so `extends` and `include` resolve across them.
        let raw: Vec<(String, String)> = templates
            .iter()
            .map(|(name, (text, _))| (name.clone(), text.clone()))
            .collect();
        limit(&mut tera);
        let added = tera.add_raw_templates(raw).and_then(|()| {
            templates
                .iter()
                .try_for_each(|(name, (text, _))| check_recursion(&tera, name, text))
        });
        if let Err(e) = added {
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

/// The most numbers the `range` calls of one render may make together: it bounds every
/// loop over a range, nested loops included (Tera has no limits of its own).
pub const MAX_RANGE_ITEMS: usize = 100_000;
/// The most bytes one render may write (64 MiB; the largest built-in page of a
/// 10,000-page site is far smaller).
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

thread_local! {
    /// What is left of [`MAX_RANGE_ITEMS`] in the render running on this thread.
    static RANGE_LEFT: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_RANGE_ITEMS) };
}

/// Makes `tera` safe for templates written by anyone: `range` is replaced by a bounded one
/// (same arguments). Render with [`render`] so the bounds apply per render; macros that
/// call themselves are refused by [`check_recursion`].
pub fn limit(tera: &mut Tera) {
    tera.register_function("range", bounded_range);
}

fn bounded_range(
    args: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let number = |key: &str, default: Option<u64>| -> tera::Result<u64> {
        match args.get(key) {
            None => default.ok_or_else(|| tera::Error::msg(format!("Function `range` was called without a `{key}` argument"))),
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 1e18).map(|f| f as u64))
                .ok_or_else(|| tera::Error::msg(format!("Function `range` received {key}={v} but `{key}` can only be a whole number"))),
        }
    };
    let start = number("start", Some(0))?;
    let end = number("end", None)?;
    let step = number("step_by", Some(1))?.max(1);
    if start > end {
        return Err(tera::Error::msg(
            "Function `range` was called with a `start` argument greater than the `end` one",
        ));
    }
    let count = usize::try_from((end - start).div_ceil(step)).unwrap_or(usize::MAX);
    let left = RANGE_LEFT.with(|l| l.get());
    if count > left {
        return Err(tera::Error::msg(format!(
            "range(start={start}, end={end}) makes {count} numbers, more than the {MAX_RANGE_ITEMS} all the ranges of one template may make together"
        )));
    }
    RANGE_LEFT.with(|l| l.set(left - count));
    Ok(tera::Value::Array(
        (start..end)
            .step_by(step as usize)
            .map(tera::Value::from)
            .collect(),
    ))
}

/// Renders template `name` within the bounds: at most [`MAX_RANGE_ITEMS`] numbers from
/// `range` and [`MAX_OUTPUT_BYTES`] of output.
pub fn render(tera: &Tera, name: &str, ctx: &tera::Context) -> tera::Result<String> {
    RANGE_LEFT.with(|l| l.set(MAX_RANGE_ITEMS));
    let mut out = Capped(Vec::with_capacity(4096));
    tera.render_to(name, ctx, &mut out)?;
    String::from_utf8(out.0).map_err(|e| tera::Error::msg(e.to_string()))
}

/// A buffer that refuses to grow past [`MAX_OUTPUT_BYTES`].
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT_BYTES {
            return Err(std::io::Error::other(format!(
                "the template writes more than {} MiB",
                MAX_OUTPUT_BYTES / (1024 * 1024)
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Refuses a template `name` (whose text is `source`) that includes itself, directly or
/// through the templates it includes or extends, and macros of it that call themselves,
/// directly or through other macros (also imported ones): Tera would recurse until the
/// stack overflows. The error names the template in quotes and ends with ` --> line:col`
/// of the macro, like Tera's parse errors, so callers locate it as they locate those.
pub fn check_recursion(tera: &Tera, name: &str, source: &str) -> tera::Result<()> {
    let Some(template) = tera.templates.get(name) else {
        return Ok(());
    };
    if let Some(chain) = include_cycle(tera, name) {
        let at = source
            .find("include")
            .or_else(|| source.find("extends"))
            .map(|at| crate::source::position_of(source.as_bytes(), at))
            .unwrap_or_default();
        return Err(tera::Error::msg(format!(
            "'{name}' includes itself ({}); templates may not include themselves, because nothing would bound the depth --> {}:{}",
            chain.join(" → "),
            at.line.max(1),
            at.column.max(1)
        )));
    }
    let mut names: Vec<&String> = template.macros.keys().collect();
    names.sort();
    for macro_name in names {
        let start = (name.to_string(), macro_name.clone());
        if let Some(chain) = cycle_from(tera, &start) {
            let needle = format!("macro {macro_name}");
            let position = source
                .find(&needle)
                .map(|at| crate::source::position_of(source.as_bytes(), at))
                .unwrap_or_default();
            return Err(tera::Error::msg(format!(
                "macro `{macro_name}` of '{name}' calls itself ({}); recursive macros are not allowed, because nothing would bound their depth --> {}:{}",
                chain.join(" → "),
                position.line.max(1),
                position.column.max(1)
            )));
        }
    }
    Ok(())
}

/// The macros `(template, macro)` calls, resolved to their templates.
fn calls(tera: &Tera, (file, name): &(String, String)) -> Vec<(String, String)> {
    let Some(template) = tera.templates.get(file) else {
        return Vec::new();
    };
    let Some(definition) = template.macros.get(name) else {
        return Vec::new();
    };
    // The AST has no visitor; its debug form names every call as
    // `MacroCall { namespace: "…", name: "…"`, wherever it is nested.
    let text = format!("{:?}", definition.body);
    let mut out = Vec::new();
    for part in text.split("MacroCall { namespace: \"").skip(1) {
        let Some((namespace, rest)) = part.split_once('"') else {
            continue;
        };
        let Some(called) = rest
            .strip_prefix(", name: \"")
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        let target = if namespace == "self" {
            Some(file.clone())
        } else {
            template
                .imported_macro_files
                .iter()
                .find(|(_, ns)| ns == namespace)
                .map(|(f, _)| f.clone())
        };
        if let Some(target) = target {
            out.push((target, called.to_string()));
        }
    }
    out
}

/// The templates `name` includes (anywhere, macros included) and the one it extends.
fn includes(tera: &Tera, name: &str) -> Vec<String> {
    let Some(template) = tera.templates.get(name) else {
        return Vec::new();
    };
    // As in `calls`: the debug form writes each `Include(WS { … }, ["a.html", …], …)`.
    let text = format!("{:?}", template.ast);
    let mut out: Vec<String> = template.parent.iter().cloned().collect();
    for part in text.split("Include(WS {").skip(1) {
        let Some(list) = part
            .split_once("}, [")
            .and_then(|(_, rest)| rest.split_once(']'))
        else {
            continue;
        };
        out.extend(
            list.0
                .split(", ")
                .map(|quoted| quoted.trim_matches('"').to_string())
                .filter(|n| !n.is_empty()),
        );
    }
    out
}

/// A chain of includes from template `start` back to itself, if there is one.
fn include_cycle(tera: &Tera, start: &str) -> Option<Vec<String>> {
    let mut seen: Vec<String> = Vec::new();
    let mut stack: Vec<(String, Vec<String>)> = vec![(start.to_string(), vec![start.to_string()])];
    while let Some((node, path)) = stack.pop() {
        for next in includes(tera, &node) {
            let mut chain = path.clone();
            chain.push(next.clone());
            if next == start {
                return Some(chain);
            }
            if !seen.contains(&next) && seen.len() < 10_000 {
                seen.push(next.clone());
                stack.push((next, chain));
            }
        }
    }
    None
}

/// A chain of calls from `start` back to itself, if there is one.
fn cycle_from(tera: &Tera, start: &(String, String)) -> Option<Vec<String>> {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut stack: Vec<((String, String), Vec<String>)> =
        vec![(start.clone(), vec![start.1.clone()])];
    while let Some((node, path)) = stack.pop() {
        for next in calls(tera, &node) {
            let mut chain = path.clone();
            chain.push(next.1.clone());
            if &next == start {
                return Some(chain);
            }
            if !seen.contains(&next) && seen.len() < 10_000 {
                seen.push(next.clone());
                stack.push((next, chain));
            }
        }
    }
    None
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
    fn recursive_macros_and_huge_ranges_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        let page = "ok\n{% macro a() %}{{ self::b() }}{% endmacro a %}\n{% macro b() %}{{ self::a() }}{% endmacro b %}\n{{ self::a() }}";
        std::fs::write(dir.path().join("templates/page.html"), page).unwrap();
        let err = Theme::load(Some(dir.path())).err().expect("error");
        let d = err.iter().next().unwrap();
        assert!(d.message.contains("calls itself"), "{d}");
        assert_eq!(d.position, Some(Position::new(2, 4)), "{d}");

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(
            dir.path().join("templates/page.html"),
            "a\n {% include \"x.html\" %}",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("templates/x.html"),
            "{% if true %}{% include \"page.html\" %}{% endif %}",
        )
        .unwrap();
        let err = Theme::load(Some(dir.path())).err().expect("error");
        let d = err.iter().next().unwrap();
        assert!(d.message.contains("includes itself"), "{d}");
        assert_eq!(d.position.map(|p| p.line), Some(2), "{d}");

        let mut tera = Tera::default();
        limit(&mut tera);
        tera.add_raw_template(
            "t",
            "{% for i in range(end=1000) %}{% for j in range(end=1000) %}{% endfor %}{% endfor %}",
        )
        .unwrap();
        let e = render(&tera, "t", &tera::Context::new()).unwrap_err();
        assert!(
            error_chain(&e).contains("more than the 100000"),
            "{}",
            error_chain(&e)
        );
        tera.add_raw_template(
            "u",
            "{% for i in range(start=2, end=10, step_by=3) %}{{ i }}{% endfor %}",
        )
        .unwrap();
        assert_eq!(render(&tera, "u", &tera::Context::new()).unwrap(), "258");
        let mut ctx = tera::Context::new();
        ctx.insert("s", &"x".repeat(1024));
        tera.add_raw_template("v", "{% for i in range(end=70000) %}{{ s }}{% endfor %}")
            .unwrap();
        let e = render(&tera, "v", &ctx).unwrap_err();
        assert!(
            error_chain(&e).contains("more than 64 MiB"),
            "{}",
            error_chain(&e)
        );
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
