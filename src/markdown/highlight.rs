//! Code highlighting at build time with syntect. The syntax set is loaded once per process;
//! code is marked up with CSS classes so the theme's stylesheet colours it for light and dark.
//! Highlighted blocks are cached by content (in memory, and on disk between builds).

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use syntect::highlighting::ThemeSet;
use syntect::html::{css_for_theme_with_class_style, ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

const CLASS_PREFIX: &str = "hl-";
const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed {
    prefix: CLASS_PREFIX,
};

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Common names people write that syntect knows under another token.
fn alias(lang: &str) -> &str {
    match lang {
        "shell" | "console" | "zsh" => "bash",
        "yml" => "yaml",
        "ps1" | "pwsh" | "powershell" => "ps1",
        "postgres" | "postgresql" | "plsql" | "tsql" | "mysql" => "sql",
        other => other,
    }
}

fn find(lang: &str) -> Option<&'static SyntaxReference> {
    let set = syntaxes();
    let lang = lang.trim().to_ascii_lowercase();
    set.find_syntax_by_token(alias(&lang))
        .or_else(|| set.find_syntax_by_token(&lang))
}

/// Highlighted HTML for `code` (the inside of a `<code>` element); plain escaped text when
/// the language is unknown or missing. Results are cached (see [`load_cache`]).
pub fn highlight(code: &str, lang: Option<&str>) -> String {
    let Some(syntax) = lang.and_then(find) else {
        return escape_html(code);
    };
    let key = crate::hash::fnv1a_parts(&[syntax.name.as_bytes(), code.as_bytes()]);
    if let Some(html) = cache().get(key) {
        return html;
    }
    let html = highlight_with(code, syntax);
    cache().insert(key, &html);
    html
}

fn highlight_with(code: &str, syntax: &SyntaxReference) -> String {
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, syntaxes(), CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        if generator
            .parse_html_for_line_which_includes_newline(line)
            .is_err()
        {
            return escape_html(code);
        }
    }
    generator.finalize()
}

/// Highlighted code by a stable hash of (syntax, code). syntect is by far the slowest step
/// of a build, so each distinct block is highlighted once per process (runbooks and guides
/// repeat commands, and `serve` rebuilds often), and `build` keeps the cache on disk.
struct Cache {
    entries: RwLock<HashMap<u64, Entry>>,
}

struct Entry {
    html: Arc<str>,
    /// Used since the cache was loaded: only these are saved, so the file does not grow
    /// with code that no longer exists.
    used: AtomicBool,
}

impl Cache {
    fn get(&self, key: u64) -> Option<String> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(&key)?;
        entry.used.store(true, Ordering::Relaxed);
        Some(entry.html.to_string())
    }

    fn insert(&self, key: u64, html: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.insert(
            key,
            Entry {
                html: Arc::from(html),
                used: AtomicBool::new(true),
            },
        );
    }
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Cache {
        entries: RwLock::new(HashMap::new()),
    })
}

/// Identifies the cache format and what produced its entries; a mismatch discards the file.
fn cache_header() -> String {
    format!(
        "tminus-highlight-cache 1 {} syntect-5 {}\n",
        env!("CARGO_PKG_VERSION"),
        CLASS_PREFIX
    )
}

/// Loads highlighted code saved by an earlier build (a missing or stale file is ignored).
pub fn load_cache(path: &Path) {
    let Ok(bytes) = fs::read(path) else { return };
    let header = cache_header();
    let Some(mut rest) = bytes.strip_prefix(header.as_bytes()) else {
        return;
    };
    let mut loaded = HashMap::new();
    // Records: key (u64 LE), length (u32 LE), UTF-8 HTML.
    while rest.len() >= 12 {
        let key = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes")) as usize;
        let Some(html) = rest
            .get(12..12 + len)
            .and_then(|b| std::str::from_utf8(b).ok())
        else {
            return;
        };
        loaded.insert(
            key,
            Entry {
                html: Arc::from(html),
                used: AtomicBool::new(false),
            },
        );
        rest = &rest[12 + len..];
    }
    let mut entries = cache().entries.write().unwrap_or_else(|e| e.into_inner());
    for (key, entry) in loaded {
        entries.entry(key).or_insert(entry);
    }
}

/// Saves the code highlighted or reused since the cache was loaded, atomically.
pub fn save_cache(path: &Path) -> std::io::Result<()> {
    let entries = cache().entries.read().unwrap_or_else(|e| e.into_inner());
    let mut out = cache_header().into_bytes();
    for (key, entry) in entries
        .iter()
        .filter(|(_, e)| e.used.load(Ordering::Relaxed))
    {
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&(entry.html.len() as u32).to_le_bytes());
        out.extend_from_slice(entry.html.as_bytes());
    }
    drop(entries);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, out)?;
    fs::rename(tmp, path)
}

/// The stylesheet for highlighted code: a light theme, and a dark one under
/// `prefers-color-scheme: dark` and `[data-theme=dark]`.
pub fn stylesheet() -> String {
    let themes = ThemeSet::load_defaults();
    let light = css_for_theme_with_class_style(&themes.themes["InspiredGitHub"], CLASS_STYLE)
        .unwrap_or_default();
    let dark = css_for_theme_with_class_style(&themes.themes["base16-ocean.dark"], CLASS_STYLE)
        .unwrap_or_default();
    // The themes' comment and constant colours miss WCAG AA on the site's code
    // backgrounds (`--code-bg` in style.css): darken or lighten every text colour to 4.5:1.
    let light = with_contrast(&light, (0xf6, 0xf8, 0xfa), (0, 0, 0));
    let dark = with_contrast(&dark, (0x0b, 0x0f, 0x14), (0xff, 0xff, 0xff));
    let dark_scoped = scope(&dark, "[data-theme=dark]");
    let dark_auto = scope(&dark, ":root:not([data-theme=light])");
    format!(
        "/* Generated by tminus from syntect themes. */\n{light}\n{dark_scoped}\n@media (prefers-color-scheme: dark) {{\n{dark_auto}\n}}\n"
    )
}

type Rgb = (u8, u8, u8);

/// WCAG 2.1 relative luminance.
fn luminance((r, g, b): Rgb) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `fg` mixed towards `toward` just enough to reach 4.5:1 (plus a margin) on `bg`.
fn fix_colour(fg: Rgb, bg: Rgb, toward: Rgb) -> Rgb {
    let mix = |t: f64| {
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        (m(fg.0, toward.0), m(fg.1, toward.1), m(fg.2, toward.2))
    };
    (0..=50)
        .map(|i| mix(f64::from(i) / 50.0))
        .find(|c| contrast(*c, bg) >= 4.6)
        .unwrap_or(toward)
}

/// Rewrites every `color: #rrggbb` declaration (not `background-color`) of `css` so the
/// colour has at least 4.5:1 contrast on `bg`.
fn with_contrast(css: &str, bg: Rgb, toward: Rgb) -> String {
    let mut out = String::with_capacity(css.len());
    for line in css.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let hex = trimmed
            .strip_prefix("color:")
            .map(str::trim)
            .and_then(|v| v.strip_prefix('#'))
            .map(|v| v.trim_end_matches(';'))
            .filter(|v| v.len() == 6)
            .and_then(|v| u32::from_str_radix(v, 16).ok());
        match hex {
            Some(v) => {
                let fg = ((v >> 16) as u8, (v >> 8) as u8, v as u8);
                let (r, g, b) = fix_colour(fg, bg, toward);
                let end = if line.ends_with('\n') { "\n" } else { "" };
                out.push_str(&format!(" color: #{r:02x}{g:02x}{b:02x};{end}"));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Prefixes every selector of a flat stylesheet with `scope`.
fn scope(css: &str, scope: &str) -> String {
    let mut out = String::with_capacity(css.len() * 2);
    for rule in css.split_inclusive('}') {
        match rule.split_once('{') {
            Some((selectors, body)) => {
                let selectors: Vec<String> = selectors
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && !s.starts_with("/*"))
                    .map(|s| format!("{scope} {s}"))
                    .collect();
                if !selectors.is_empty() {
                    out.push_str(&selectors.join(", "));
                    out.push_str(" {");
                    out.push_str(body);
                    out.push('\n');
                }
            }
            None => out.push_str(rule),
        }
    }
    out
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_known_languages_and_escapes_unknown_ones() {
        let html = highlight("SELECT 1;\n", Some("sql"));
        assert!(html.contains("hl-"), "{html}");
        assert_eq!(highlight("<b>\n", Some("nope")), "&lt;b&gt;\n");
        assert_eq!(highlight("<b>\n", None), "&lt;b&gt;\n");
        assert!(highlight("echo hi\n", Some("shell")).contains("hl-"));
    }

    #[test]
    fn the_cache_round_trips_through_a_file() {
        let code = "SELECT 'cache round trip';\n";
        let first = highlight(code, Some("sql"));
        assert_eq!(highlight(code, Some("sql")), first, "served from memory");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache/highlight.bin");
        save_cache(&file).unwrap();
        let bytes = fs::read(&file).unwrap();
        assert!(bytes.starts_with(cache_header().as_bytes()));
        assert!(String::from_utf8_lossy(&bytes).contains("cache round trip"));
        load_cache(&file);
        assert_eq!(highlight(code, Some("sql")), first);
        // A file from another version is ignored rather than trusted.
        fs::write(&file, b"tminus-highlight-cache 0 old\n").unwrap();
        load_cache(&file);
    }

    #[test]
    fn syntax_colours_meet_wcag_aa_on_the_code_background() {
        let css = with_contrast(
            ".c {\n color: #969896;\n background-color: #ffffff;\n}\n",
            (0xf6, 0xf8, 0xfa),
            (0, 0, 0),
        );
        assert!(css.contains("background-color: #ffffff;"), "{css}");
        let v = css.split("color: #").nth(1).unwrap();
        let v = u32::from_str_radix(&v[..6], 16).unwrap();
        let fg = ((v >> 16) as u8, (v >> 8) as u8, v as u8);
        assert!(contrast(fg, (0xf6, 0xf8, 0xfa)) >= 4.5, "{css}");
        // A colour that already passes is kept.
        assert_eq!(
            fix_colour((0x18, 0x36, 0x91), (0xf6, 0xf8, 0xfa), (0, 0, 0)),
            (0x18, 0x36, 0x91)
        );
    }

    #[test]
    fn stylesheet_has_light_and_dark() {
        let css = stylesheet();
        assert!(css.contains("[data-theme=dark] .hl-"));
        assert!(css.contains("prefers-color-scheme: dark"));
    }
}
