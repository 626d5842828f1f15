//! A new event from the command line, written as the YAML of `content/live.yaml`.

use chrono::{DateTime, LocalResult, TimeZone, Utc};

use crate::load::live::LogContext;
use crate::project::live::Outcome;

/// What `tminus live` records.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    Start,
    Done,
    /// `until`: when the block ended, for a block recorded after the fact (`--until`).
    Block {
        until: Option<String>,
    },
    Unblock,
    Decide(Outcome),
}

/// A condition of a CONDITIONAL GO, from `--condition "TEXT [@owner] [by DUE]"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub text: String,
    pub owner: Option<String>,
    pub due: Option<String>,
}

impl Condition {
    /// Splits `TEXT @owner by DUE` (both parts optional, in that order): `@owner` is a roster
    /// role; `by DUE` counts only when DUE reads as a time, so "Approved by finance" stays
    /// text.
    pub fn parse(arg: &str) -> Condition {
        let mut text = arg.trim().to_string();
        let mut due = None;
        if let Some(cut) = text.rfind(" by ") {
            let candidate = text[cut + 4..].trim();
            let is_time = crate::time::parse_time_spec(candidate).is_ok()
                || DateTime::parse_from_rfc3339(candidate).is_ok();
            if is_time {
                due = Some(candidate.to_string());
                text.truncate(cut);
            }
        }
        let mut owner = None;
        if let Some(cut) = text.rfind(" @") {
            let candidate = text[cut + 2..].trim();
            if !candidate.is_empty() && !candidate.contains(char::is_whitespace) {
                owner = Some(candidate.to_string());
                text.truncate(cut);
            }
        }
        Condition {
            text: text.trim().to_string(),
            owner,
            due,
        }
    }
}

/// One event given on the command line.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The task (or, for a decision, the go-no-go task).
    pub task: String,
    pub what: What,
    /// `--at`: as written (a local time, a T-offset or RFC 3339); `None`: now.
    pub at: Option<String>,
    pub by: Option<String>,
    pub note: Option<String>,
    pub conditions: Vec<Condition>,
}

impl NewEvent {
    /// The event as YAML lines, and for each line the argument it comes from (so an error
    /// at that line can name it).
    pub fn to_yaml(&self, context: &LogContext, now: DateTime<Utc>) -> (String, Vec<&'static str>) {
        let zone = context.zone_of(&self.task);
        let at = match &self.at {
            Some(text) => text.trim().to_string(),
            None => local_stamp(now, zone),
        };
        let mut lines: Vec<(String, &'static str)> = Vec::new();
        let time_key = match &self.what {
            What::Start => "started",
            What::Done => "finished",
            What::Block { .. } => "blocked",
            What::Unblock => "unblocked",
            What::Decide(_) => "at",
        };
        match &self.what {
            What::Decide(outcome) => {
                lines.push((format!("- decision: {}", scalar(&self.task)), "GATE"));
                lines.push((format!("  outcome: {}", outcome.label()), "OUTCOME"));
            }
            _ => lines.push((format!("- task: {}", scalar(&self.task)), "TASK")),
        }
        lines.push((format!("  {time_key}: {}", scalar(&at)), "--at"));
        if let Some(by) = &self.by {
            lines.push((format!("  by: {}", scalar(by)), "--by"));
        }
        if let Some(note) = &self.note {
            lines.push((format!("  note: {}", scalar(note)), "--note"));
        }
        if !self.conditions.is_empty() {
            lines.push(("  conditions:".into(), "--condition"));
            for c in &self.conditions {
                lines.push((format!("    - text: {}", scalar(&c.text)), "--condition"));
                if let Some(o) = &c.owner {
                    lines.push((
                        format!("      owner: {}", scalar(o)),
                        "--condition (@owner)",
                    ));
                }
                if let Some(d) = &c.due {
                    lines.push((format!("      due: {}", scalar(d)), "--condition (by DUE)"));
                }
            }
        }
        if let What::Block { until: Some(until) } = &self.what {
            // The block's end, as a second event: the two are checked together.
            lines.push((format!("- task: {}", scalar(&self.task)), "--until"));
            lines.push((format!("  unblocked: {}", scalar(until.trim())), "--until"));
        }
        let mut text = String::new();
        for (l, _) in &lines {
            text.push_str(l);
            text.push('\n');
        }
        (text, lines.into_iter().map(|(_, a)| a).collect())
    }
}

/// `now` as a local time of `zone` to the second (`2027-03-29 18:02:37`), or RFC 3339 with
/// the offset when that local time happens twice (the fall-back hour).
fn local_stamp(now: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    let local = now.with_timezone(&zone).naive_local();
    match zone.from_local_datetime(&local) {
        LocalResult::Single(_) => local.format("%Y-%m-%d %H:%M:%S").to_string(),
        _ => crate::time::stamp::rfc3339(&now.with_timezone(&zone)),
    }
}

/// A YAML scalar: plain when that reads back as the same text, else double-quoted (JSON
/// string syntax is YAML's double-quoted style).
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text.trim() == text
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || " -+:._/,()'".contains(c))
        && !text.contains(": ")
        && !text.ends_with(':')
        && !text.starts_with(['-', ':', '\''])
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "~"
        )
        && text.parse::<f64>().is_err();
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_owner_and_due() {
        let c = Condition::parse("Fix DEF-2291 in the first hot-fix @app-owner by T+2d");
        assert_eq!(c.text, "Fix DEF-2291 in the first hot-fix");
        assert_eq!(c.owner.as_deref(), Some("app-owner"));
        assert_eq!(c.due.as_deref(), Some("T+2d"));
        let c = Condition::parse("Approved by finance");
        assert_eq!(
            (c.text.as_str(), c.owner, c.due),
            ("Approved by finance", None, None)
        );
        let c = Condition::parse("Monitor queues by 2027-03-30 09:00");
        assert_eq!(c.due.as_deref(), Some("2027-03-30 09:00"));
        assert_eq!(c.text, "Monitor queues");
    }

    #[test]
    fn scalars_quote_what_yaml_would_read_otherwise() {
        assert_eq!(scalar("2027-03-29 18:02:37"), "2027-03-29 18:02:37");
        assert_eq!(scalar("T+30m"), "T+30m");
        assert_eq!(scalar("Source locked: backup"), "\"Source locked: backup\"");
        assert_eq!(scalar("# not a comment"), "\"# not a comment\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("1.5"), "\"1.5\"");
        assert_eq!(scalar("- x"), "\"- x\"");
        assert_eq!(scalar("line\nbreak"), "\"line\\nbreak\"");
    }

    #[test]
    fn now_is_written_as_local_time_or_with_its_offset_when_ambiguous() {
        let london = chrono_tz::Europe::London;
        let t = Utc.with_ymd_and_hms(2027, 3, 28, 1, 30, 5).unwrap();
        assert_eq!(local_stamp(t, london), "2027-03-28 02:30:05");
        // 2027-10-31 01:30 happens twice in London.
        let t = Utc.with_ymd_and_hms(2027, 10, 31, 1, 30, 0).unwrap();
        assert_eq!(local_stamp(t, london), "2027-10-31T01:30:00+00:00");
    }
}
