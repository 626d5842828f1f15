//! Audience CSV files: `email,name[,locale,timezone]`, one recipient per row.

use std::path::Path;

use super::Checker;
use crate::diagnostics::Position;
use crate::project::Recipient;
use crate::source::SourceFile;
use crate::time::parse_zone;

/// Reads `content/<relative>`; errors point at the CSV's own rows (or at `path` in
/// project.yaml when the file cannot be read). A first row starting with `email` is a header.
pub fn load_csv(root: &Path, relative: &str, c: &mut Checker, path: &str) -> Vec<Recipient> {
    let rel = Path::new("content").join(relative);
    if relative.contains("..") || Path::new(relative).is_absolute() {
        c.error(
            path,
            format!("`{relative}` points outside content/"),
            "give a path inside content/, e.g. `audiences/finance.csv`",
        );
        return Vec::new();
    }
    if let Err(e) = crate::source::inside::resolve_inside(root, &root.join(&rel)) {
        c.error(
            path,
            format!("audience file content/{relative} {e}"),
            crate::source::inside::OutsideProject::HINT,
        );
        return Vec::new();
    }
    let file = match SourceFile::read(root, &rel) {
        Ok(f) => f,
        Err(_) => {
            c.error(
                path,
                format!("audience file content/{relative} does not exist"),
                "create it with a header row `email,name,locale,timezone`",
            );
            return Vec::new();
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file.text.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                c.diags.push(file.error(
                    line.map(|l| Position::new(l, 1)),
                    format!("this CSV row cannot be read: {e}"),
                ));
                continue;
            }
        };
        let line = record
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(i + 1);
        let at = |col: usize| Some(Position::new(line, col));
        let cell = |n: usize| record.get(n).map(str::trim).filter(|s| !s.is_empty());
        if i == 0 && cell(0).is_some_and(|s| s.eq_ignore_ascii_case("email")) {
            continue;
        }
        if record.iter().all(|s| s.trim().is_empty()) {
            continue;
        }
        if record.len() > 4 {
            c.diags.push(
                file.error(
                    at(1),
                    format!("expected at most 4 columns, found {}", record.len()),
                )
                .with_hint("columns are email,name,locale,timezone"),
            );
        }
        let Some(email) = cell(0) else {
            c.diags.push(
                file.error(at(1), "missing email address")
                    .with_hint("the first column is the address"),
            );
            continue;
        };
        if !super::is_valid_email(email) {
            c.diags.push(
                file.error(at(1), format!("`{email}` is not a valid email address"))
                    .with_hint("write a single address such as `ana@contoso.example`"),
            );
            continue;
        }
        let locale = cell(2).map(str::to_string);
        if let Some(l) = &locale {
            if !super::project_file::is_valid_locale(l) {
                c.diags.push(
                    file.error(at(1), format!("`{l}` is not a locale"))
                        .with_hint("write a language tag such as `fr` or `fr-CA`"),
                );
            }
        }
        let zone = match cell(3) {
            Some(z) => match parse_zone(z) {
                Ok(z) => Some(z),
                Err(e) => {
                    c.diags.push(file.error(at(1), e.message).with_hint(e.hint));
                    None
                }
            },
            None => None,
        };
        out.push(Recipient {
            email: email.to_string(),
            name: cell(1).map(str::to_string),
            locale,
            zone,
        });
    }
    out
}
