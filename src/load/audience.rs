//! Audiences' recipients: the CSV files (`email,name[,locale,timezone]`, one recipient per
//! row) and the rule that makes them one per address ([`address_key`], [`OnePerAddress`]).
//!
//! CSV files are read as spreadsheets and HR tools export them: a UTF-8 byte order mark,
//! CRLF line ends, quoted fields (with commas, quotes or line breaks inside), a header row
//! in any column order (names matched without regard to case) or none (then the columns are
//! positional), empty lines anywhere. Every error names the CSV line and column. A control
//! character (a line break inside a quoted name, a tab, …) in any cell is an error: it would
//! end up in a mail header.

use std::collections::HashMap;
use std::path::Path;

use super::Checker;
use crate::diagnostics::{did_you_mean, Diagnostic, Position};
use crate::project::Recipient;
use crate::source::SourceFile;
use crate::time::parse_zone;

/// One address as recipients are told apart (and as the send ledger keys deliveries):
/// trimmed, lower case in the domain (case-insensitive by definition) and in the local part
/// (as common mail systems treat it), so `Ana@X.example` and `ana@x.example` are one person.
pub fn address_key(address: &str) -> String {
    address.trim().to_lowercase()
}

/// Keeps an audience at one recipient per address: the first occurrence stays, each later
/// one is left out with a warning (not an error: the build and sending go on).
#[derive(Default)]
pub(crate) struct OnePerAddress {
    /// Address key → where it was first seen and as written there.
    first: HashMap<String, (String, String)>,
    pub warnings: Vec<Diagnostic>,
}

impl OnePerAddress {
    /// Whether `address` (found at `here`, e.g. `line 3`) is new to the audience; if not,
    /// a warning made by `at` (given the message and hint) is kept.
    pub fn admit(
        &mut self,
        address: &str,
        here: String,
        at: impl FnOnce(String, &str) -> Diagnostic,
    ) -> bool {
        match self.first.get(&address_key(address)) {
            None => {
                self.first
                    .insert(address_key(address), (here, address.to_string()));
                true
            }
            Some((there, written)) => {
                let same = if written == address {
                    String::new()
                } else {
                    format!(" as `{written}`")
                };
                self.warnings.push(at(
                    format!("duplicate recipient `{address}`: already in this audience ({there}{same}); it gets one email, not two"),
                    "addresses are compared without regard to case; remove the duplicate to silence this warning",
                ));
                false
            }
        }
    }
}

/// The columns an audience CSV may have.
const COLUMNS: [&str; 4] = ["email", "name", "locale", "timezone"];

/// Reads `content/<relative>`; errors point at the CSV's own lines and columns (or at
/// `path` in project.yaml when the file cannot be read). Duplicates of addresses already
/// in `seen` (this audience) are left out with a warning.
pub(crate) fn load_csv(
    root: &Path,
    relative: &str,
    c: &mut Checker,
    path: &str,
    seen: &mut OnePerAddress,
) -> Vec<Recipient> {
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
    let full = root.join(&rel);
    let file = match std::fs::read(&full) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => SourceFile::new(&rel, text),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(&e.into_bytes()[..at]).into_owned();
                let file = SourceFile::new(&rel, text);
                let pos = position(&file.text, at);
                c.diags.push(
                    file.error(Some(pos), "this file is not UTF-8 text")
                        .with_hint("export the CSV as \"CSV UTF-8\" (Excel) or convert it, e.g. `iconv -f WINDOWS-1252 -t UTF-8`"),
                );
                return Vec::new();
            }
        },
        Err(_) => {
            c.error(
                path,
                format!("audience file content/{relative} does not exist"),
                "create it with a header row `email,name,locale,timezone`",
            );
            return Vec::new();
        }
    };
    parse(&file, seen, &mut |d| c.diags.push(d))
}

/// Parses the CSV `file`: recipients, errors through `error`, duplicate warnings in `seen`.
fn parse(
    file: &SourceFile,
    seen: &mut OnePerAddress,
    error: &mut dyn FnMut(Diagnostic),
) -> Vec<Recipient> {
    // A byte order mark is invisible: columns count from after it.
    let bom = if file.text.starts_with('\u{feff}') {
        3
    } else {
        0
    };
    let text = &file.text[bom..];
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // Column index → which of COLUMNS (positional until a header says otherwise).
    let mut columns: Vec<Option<usize>> = (0..COLUMNS.len()).map(Some).collect();
    let mut header_done = false;
    let mut out = Vec::new();
    let mut lines = LineCounter::default();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let pos = e.position().map(|p| Position::new(p.line() as usize, 1));
                error(file.error(pos, format!("this CSV row cannot be read: {e}")));
                continue;
            }
        };
        // The csv crate's position may point at the line end before the record, and its
        // line count is off after CRLF: use the byte offset past any line ends.
        let start = record.position().map_or(0, |p| p.byte() as usize);
        let start =
            start + text[start..].len() - text[start..].trim_start_matches(['\r', '\n']).len();
        let line = lines.line_at(text, start);
        if record.iter().all(|s| s.trim().is_empty()) {
            continue;
        }
        // Where cell `n` (its `k`-th character, after leading spaces) is in the file.
        let at = |n: usize, k: usize| -> Option<Position> {
            let offsets = field_offsets(text, start);
            let (field_start, chars) = offsets.get(n)?;
            let lead = record
                .get(n)
                .map_or(0, |v| v.chars().take_while(|c| c.is_whitespace()).count());
            let off = chars.get(lead + k).copied().unwrap_or(*field_start);
            Some(position(text, off))
        };
        let err = |n: usize, k: usize, message: String, hint: &str| {
            file.error(at(n, k), message).with_hint(hint)
        };
        if !header_done {
            header_done = true;
            let names: Vec<String> = record.iter().map(|s| s.trim().to_lowercase()).collect();
            // A file without a header starts with an address.
            if !names[0].contains('@') {
                columns = header(&names, &mut |n, message, hint| {
                    error(err(n, 0, message, hint))
                });
                if !columns.contains(&Some(0)) {
                    return out;
                }
                continue;
            }
        }
        let mut cells: [Option<(usize, &str)>; 4] = [None; 4];
        let mut bad = false;
        for (n, value) in record.iter().enumerate() {
            if let Some((k, ch)) = value
                .trim()
                .chars()
                .enumerate()
                .find(|(_, c)| c.is_control())
            {
                error(err(
                    n,
                    k,
                    format!(
                        "a control character ({}) in this cell: it cannot go into an email header",
                        describe_control(ch)
                    ),
                    "put the cell on one line without tabs or line breaks (check the quotes around it)",
                ));
                bad = true;
                continue;
            }
            match columns.get(n) {
                Some(Some(col)) => {
                    let v = value.trim();
                    if !v.is_empty() {
                        cells[*col] = Some((n, v));
                    }
                }
                Some(None) => {}
                None => {
                    if !value.trim().is_empty() {
                        error(err(
                            n,
                            0,
                            format!("expected at most {} columns, found {}", columns.len(), record.len()),
                            "columns are email,name,locale,timezone (or give a header row naming them)",
                        ));
                        bad = true;
                    }
                }
            }
        }
        if bad {
            continue;
        }
        let email_col = columns.iter().position(|c| *c == Some(0)).unwrap_or(0);
        let Some((n, email)) = cells[0] else {
            error(err(
                email_col,
                0,
                "missing email address".to_string(),
                "every row needs an address in the email column",
            ));
            continue;
        };
        if !super::is_valid_email(email) {
            error(err(
                n,
                0,
                format!("`{email}` is not a valid email address"),
                "write a single address such as `ana@contoso.example`",
            ));
            continue;
        }
        let locale = cells[2].map(|(n, l)| (n, l.to_string()));
        if let Some((n, l)) = &locale {
            if !super::is_valid_locale(l) {
                error(err(
                    *n,
                    0,
                    format!("`{l}` is not a locale"),
                    "write a language tag such as `fr` or `fr-CA`",
                ));
            }
        }
        let zone = match cells[3] {
            Some((n, z)) => match parse_zone(z) {
                Ok(z) => Some(z),
                Err(e) => {
                    error(err(n, 0, e.message, &e.hint));
                    None
                }
            },
            None => None,
        };
        let admitted = seen.admit(email, format!("line {line}"), |message, hint| {
            file.error(at(n, 0), message).with_hint(hint)
        });
        if admitted {
            out.push(Recipient {
                email: email.to_string(),
                name: cells[1].map(|(_, s)| s.to_string()),
                locale: locale.map(|(_, l)| l),
                zone,
            });
        }
    }
    out
}

/// The header row `names` (lower case): column index → index in [`COLUMNS`] (`None` for
/// a column left out by an error). Unknown and repeated names are errors.
fn header(names: &[String], error: &mut dyn FnMut(usize, String, &str)) -> Vec<Option<usize>> {
    let mut columns = Vec::new();
    for (n, name) in names.iter().enumerate() {
        match COLUMNS.iter().position(|c| c == name) {
            Some(i) if columns.contains(&Some(i)) => {
                error(
                    n,
                    format!("column `{name}` appears twice"),
                    "keep one of them",
                );
                columns.push(None);
            }
            Some(i) => columns.push(Some(i)),
            None if name.is_empty() => columns.push(None),
            None => {
                let hint = match did_you_mean(name, COLUMNS) {
                    Some(s) => format!(
                        "did you mean `{s}`? The columns are email, name, locale and timezone"
                    ),
                    None => "the columns are email, name, locale and timezone; remove the others"
                        .to_string(),
                };
                error(n, format!("unknown column `{name}`"), &hint);
                columns.push(None);
            }
        }
    }
    if !columns.contains(&Some(0)) {
        error(
            0,
            "this header has no `email` column".to_string(),
            "name the columns email,name,locale,timezone (in any order); only email is required",
        );
    }
    columns
}

fn describe_control(c: char) -> String {
    match c {
        '\n' => "a line break".to_string(),
        '\r' => "a carriage return".to_string(),
        '\t' => "a tab".to_string(),
        c => format!("U+{:04X}", c as u32),
    }
}

/// Line and column (1-based, in characters) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position::new(
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The line (1-based) of byte offsets of one text asked in increasing order, counting
/// only the line ends since the previous offset: a file's rows in linear time (counting
/// from the start of the file for every row made a 100,000-row audience take minutes).
#[derive(Default)]
struct LineCounter {
    offset: usize,
    /// Line ends before `offset`.
    ends: usize,
}

impl LineCounter {
    /// The line of byte `offset` of `text`; `offset` may not be before the previous one.
    fn line_at(&mut self, text: &str, offset: usize) -> usize {
        let offset = offset.min(text.len());
        if offset < self.offset {
            *self = LineCounter::default();
        }
        self.ends += text.as_bytes()[self.offset..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.offset = offset;
        self.ends + 1
    }
}

/// The fields of the CSV record starting at byte `start` of `text`: each field's first
/// byte and the byte of each character of its value (quotes left out, a doubled quote
/// counted once), read the way the csv crate reads them.
fn field_offsets(text: &str, start: usize) -> Vec<(usize, Vec<usize>)> {
    let mut fields = Vec::new();
    let mut chars = text[start..]
        .char_indices()
        .map(|(i, c)| (i + start, c))
        .peekable();
    loop {
        let field_start = chars.peek().map_or(text.len(), |(i, _)| *i);
        let mut offsets = Vec::new();
        if matches!(chars.peek(), Some((_, '"'))) {
            chars.next();
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if matches!(chars.peek(), Some((_, '"'))) {
                        chars.next();
                        offsets.push(i);
                        continue;
                    }
                    break;
                }
                offsets.push(i);
            }
        }
        let mut more = false;
        while let Some(&(i, c)) = chars.peek() {
            chars.next();
            match c {
                ',' => {
                    more = true;
                    break;
                }
                '\n' | '\r' => break,
                _ => offsets.push(i),
            }
        }
        fields.push((field_start, offsets));
        if !more {
            return fields;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Vec<Recipient>, Vec<String>, Vec<String>) {
        let file = SourceFile::new("content/audiences/x.csv", text);
        let mut seen = OnePerAddress::default();
        let mut errors = Vec::new();
        let out = parse(&file, &mut seen, &mut |d| errors.push(d.to_string()));
        let warnings = seen.warnings.iter().map(|d| d.to_string()).collect();
        (out, errors, warnings)
    }

    #[test]
    fn a_line_break_in_a_quoted_name_is_an_error_at_its_line_and_column() {
        let (_, errors, _) = run("email,name\na@example.com,Alice\nb@example.com,\"A\nB\"\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "error: content/audiences/x.csv:3:17: a control character (a line break)"
            ),
            "{}",
            errors[0]
        );
        let (_, errors, _) = run("email,name\nb@example.com,\"Tab\there\"\n");
        assert!(
            errors[0].contains("x.csv:2:19: a control character (a tab)"),
            "{errors:?}"
        );
    }

    #[test]
    fn exports_as_real_tools_write_them() {
        // BOM, CRLF, quoted fields, another column order, upper-case header names, a
        // duplicate row, empty lines at the end.
        let text = "\u{feff}Name,TimeZone,EMAIL,Locale\r\n\"Shah, Priya\",Europe/Paris,priya@example.com,fr\r\n\"Ana \"\"Nan\"\" Lee\",,ana@example.com,\r\nAna,,ANA@example.com,\r\n\r\n\r\n";
        let (out, errors, warnings) = run(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].email, "priya@example.com");
        assert_eq!(out[0].name.as_deref(), Some("Shah, Priya"));
        assert_eq!(out[0].locale.as_deref(), Some("fr"));
        assert_eq!(out[0].zone, Some(chrono_tz::Europe::Paris));
        assert_eq!(out[1].name.as_deref(), Some("Ana \"Nan\" Lee"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("x.csv:4:6: duplicate recipient `ANA@example.com`: already in this audience (line 3 as `ana@example.com`)"),
            "{}",
            warnings[0]
        );
        // The BOM is not a column.
        let (out, errors, _) = run("\u{feff}email\na@example.com\n");
        assert!(errors.is_empty() && out.len() == 1, "{errors:?}");
    }

    #[test]
    fn bad_cells_are_reported_at_their_line_and_column() {
        let (out, errors, _) = run(
            "email,name,locale\n  ok@example.com,Ok\nbob@,Bob\n,Nobody\nc@example.com,C,xx_1\n",
        );
        assert_eq!(out.len(), 2);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].contains("x.csv:3:1: `bob@` is not a valid email address"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("x.csv:4:1: missing email address"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].contains("x.csv:5:17: `xx_1` is not a locale"),
            "{}",
            errors[2]
        );
        let (_, errors, _) = run("name,mail\nA,a@example.com\n");
        assert!(
            errors.iter().any(|e| e.contains("unknown column `mail`")),
            "{errors:?}"
        );
        let (_, errors, _) = run("Email,Nmae\na@example.com,A\n");
        assert!(
            errors[0].contains("x.csv:1:7: unknown column `nmae`")
                && errors[0].contains("did you mean `name`"),
            "{errors:?}"
        );
    }

    #[test]
    fn no_header_means_positional_columns() {
        let (out, errors, _) = run("a@example.com,Ann,fr,Europe/Paris\nb@example.com\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].locale.as_deref(), Some("fr"));
        let (_, errors, _) = run("a@example.com,Ann,fr,Europe/Paris,extra\n");
        assert!(
            errors[0].contains("x.csv:1:35: expected at most 4 columns"),
            "{errors:?}"
        );
    }

    #[test]
    fn lines_are_counted_as_positions_count_them() {
        let text = "a\r\nb\n\n\"c\nd\"\ne";
        let mut lines = LineCounter::default();
        for offset in 0..=text.len() + 3 {
            assert_eq!(
                lines.line_at(text, offset),
                position(text, offset).line,
                "at {offset}"
            );
        }
        // Asked again from the start, it starts over.
        assert_eq!(lines.line_at(text, 0), 1);
    }

    #[test]
    fn addresses_compare_without_case() {
        assert_eq!(address_key(" Ana@Contoso.EXAMPLE "), "ana@contoso.example");
        assert_eq!(address_key("ÉLODIE@x.example"), "élodie@x.example");
    }
}
