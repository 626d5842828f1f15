//! `tminus live start|done|block|unblock|decide|status` (SPEC §7, §8).

use std::path::Path;

use chrono::Utc;
use tminus::live::{Condition, NewEvent, RecordError, What};
use tminus::project::live::Outcome;

use super::comms::Format;

/// `live start|done|block|unblock TASK` and `live decide GATE OUTCOME`.
pub fn record(root: &Path, event: NewEvent) -> i32 {
    match tminus::live::record(root, &event, Utc::now()) {
        Ok(r) => {
            println!(
                "recorded in {} (line {}):\n{}",
                tminus::load::live::PATH,
                r.line,
                r.text.trim_end()
            );
            0
        }
        Err(RecordError::Project(d)) => {
            eprintln!("{d}");
            eprintln!("nothing was recorded");
            1
        }
        Err(RecordError::Arguments(errors)) => {
            for e in &errors {
                eprintln!("{e}\n");
            }
            eprintln!("nothing was recorded");
            1
        }
        Err(RecordError::Io(e)) => {
            eprintln!("error: {e}\nnothing was recorded");
            1
        }
    }
}

/// Builds the event of `live decide`.
pub fn decision(
    gate: String,
    outcome: &str,
    at: Option<String>,
    by: String,
    note: Option<String>,
    conditions: &[String],
) -> Result<NewEvent, i32> {
    let Some(outcome) = Outcome::parse(outcome) else {
        eprintln!(
            "error: OUTCOME: `{outcome}` is not an outcome\n  hint: write go, conditional-go or no-go\nnothing was recorded"
        );
        return Err(1);
    };
    Ok(NewEvent {
        task: gate,
        what: What::Decide(outcome),
        at,
        by: Some(by),
        note,
        conditions: conditions.iter().map(|c| Condition::parse(c)).collect(),
    })
}

/// `live status`: the bridge update, or plan.json's `live` object.
pub fn status(root: &Path, format: Format, now: Option<&str>) -> i32 {
    // Read the log between appends, never half-way through one.
    let lock = tminus::live::read_lock(root);
    let project = tminus::load::load(root);
    drop(lock);
    let project = match project {
        Ok(p) => p,
        Err(d) => return super::report(&d),
    };
    let now = match now {
        Some(t) => match super::send::parse_now(t, &project) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        },
        None => Utc::now(),
    };
    let schedule = tminus::plan::cutover::schedule(&project.cutover, project.go_live);
    let state = tminus::plan::live::state(&project, &schedule, now);
    match format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&state).unwrap_or_default();
            super::emit(&format!("{json}\n"));
        }
        Format::Table => super::emit(&tminus::live::bridge::text(&project, &state)),
    }
    0
}
