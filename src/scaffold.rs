//! `tminus new`: the starter project (compiled into the binary from `src/scaffold/project/`).
//!
//! The starter's dates are moved as one block so that its main go-live falls on the day
//! asked for, or by default on the first Monday at least [`LEAD_WEEKS`] weeks from today:
//! a new project's announcements, sessions and tasks are all still ahead, whenever it is
//! created. The block moves by whole weeks when no day is given, so weekdays stay.

use std::fs;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};
use include_dir::{include_dir, Dir};

static STARTER: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/scaffold/project");

/// The main go-live date written in the starter's `project.yaml`.
const STARTER_GO_LIVE: (i32, u32, u32) = (2027, 6, 14);

/// How far ahead the default go-live is: the T-2 weeks announcement and the training
/// sessions three weeks before T-0 are then still to come.
pub const LEAD_WEEKS: i64 = 12;

/// The default main go-live for a project created on `today`: the first Monday at least
/// [`LEAD_WEEKS`] weeks later.
pub fn default_go_live(today: NaiveDate) -> NaiveDate {
    let earliest = today + Duration::weeks(LEAD_WEEKS);
    let to_monday = (7 - earliest.weekday().num_days_from_monday()) % 7;
    earliest + Duration::days(i64::from(to_monday))
}

/// Writes the starter project into `dir` (which must not exist or be empty), with its
/// main go-live on `go_live`.
pub fn create(dir: &Path, go_live: NaiveDate) -> Result<usize, String> {
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
    let (y, m, d) = STARTER_GO_LIVE;
    let shift = go_live - NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
    let mut written = 0;
    write_dir(&STARTER, dir, shift, &mut written)?;
    let gitignore = dir.join(".gitignore");
    // The build output and the build caches are disposable; .tminus/sent.jsonl (the
    // send ledger) is the record of what was sent, so it is not ignored.
    fs::write(&gitignore, "/output\n/.tminus/cache\n")
        .map_err(|e| format!("cannot write {}: {e}", gitignore.display()))?;
    Ok(written)
}

fn write_dir(
    src: &Dir,
    dest_root: &Path,
    shift: Duration,
    written: &mut usize,
) -> Result<(), String> {
    for file in src.files() {
        let dest = dest_root.join(file.path());
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let contents = match file.contents_utf8() {
            Some(text) => shift_dates(text, shift).into_bytes(),
            None => file.contents().to_vec(),
        };
        fs::write(&dest, contents).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        *written += 1;
    }
    for sub in src.dirs() {
        write_dir(sub, dest_root, shift, written)?;
    }
    Ok(())
}

/// `text` with every `YYYY-MM-DD` date moved by `shift`.
fn shift_dates(text: &str, shift: Duration) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let date = text
            .get(i..i + 10)
            .filter(|s| is_date_shape(s.as_bytes()))
            .filter(|_| i == 0 || !bytes[i - 1].is_ascii_digit())
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        match date {
            Some(d) => {
                out.push_str(&(d + shift).format("%Y-%m-%d").to_string());
                i += 10;
            }
            None => {
                let c = text[i..].chars().next().expect("inside the text");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

fn is_date_shape(b: &[u8]) -> bool {
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_default_go_live_is_a_monday_at_least_twelve_weeks_ahead() {
        for today in ["2026-11-22", "2026-11-23", "2027-02-28", "2027-12-31"] {
            let go = default_go_live(date(today));
            assert_eq!(go.weekday(), Weekday::Mon, "{today}");
            let lead = (go - date(today)).num_days();
            assert!((84..91).contains(&lead), "{today}: {lead} days");
        }
    }

    #[test]
    fn dates_move_together_and_nothing_else_changes() {
        let text =
            "go_live: 2027-06-14T18:00\n  start: 2027-05-24 10:00  # 12027-06-14 v1.2027-06-140\n";
        let moved = shift_dates(text, Duration::weeks(2));
        assert_eq!(
            moved,
            "go_live: 2027-06-28T18:00\n  start: 2027-06-07 10:00  # 12027-06-14 v1.2027-06-280\n"
        );
        assert_eq!(
            shift_dates("2027-02-30 é", Duration::days(1)),
            "2027-02-30 é"
        );
    }
}
