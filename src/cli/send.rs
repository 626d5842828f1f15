//! `tminus comms send` and `tminus comms status`.
//!
//! `send` never stops because its output went away: when stdout is a pipe that was closed
//! (`tminus comms send --due | head -2`), the rest of its lines and the summary go to
//! stderr and sending goes on — stopping half-way would leave recipients without the
//! message and no one told.

use std::io::{IsTerminal, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use tminus::project::Project;
use tminus::send::{Options, Progress, Summary};

pub struct SendArgs<'a> {
    pub due: bool,
    pub now: Option<&'a str>,
    pub dry_run: bool,
    pub test_to: Option<&'a str>,
    pub resend_in_doubt: bool,
}

/// `--now`: RFC 3339, or a local time (`2027-03-01T09:00`, seconds optional) in the
/// project's zone.
pub fn parse_now(text: &str, project: &Project) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(tminus::time::local_to_instant(local, project.zone).with_timezone(&Utc));
        }
    }
    Err(format!(
        "--now `{text}` is not a time\n  hint: write RFC 3339 (2027-03-01T09:00:00Z) or a local time in {} (2027-03-01T09:00)",
        project.zone.name()
    ))
}

pub(super) fn load(
    root: &Path,
    now: Option<&str>,
) -> Result<(tminus::site::Prepared, DateTime<Utc>), i32> {
    let prepared = tminus::site::prepare(root).map_err(|d| super::report(&d))?;
    let now = match now {
        Some(t) => parse_now(t, &prepared.project).map_err(|e| {
            eprintln!("error: {e}");
            2
        })?,
        None => Utc::now(),
    };
    Ok((prepared, now))
}

/// Where `send` writes: stdout until it fails (a closed pipe), then stderr. Never panics.
struct Out {
    stdout_gone: bool,
}

impl Out {
    fn print(&mut self, text: &str) {
        if !self.stdout_gone {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => return,
                Err(e) => {
                    self.stdout_gone = true;
                    warn(&format!(
                        "note: cannot write to stdout ({e}); sending goes on, and the rest of the output goes to stderr\n"
                    ));
                }
            }
        }
        warn(text);
    }
}

/// Writes to stderr; if even that is gone, there is no one left to tell.
fn warn(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

pub fn send(root: &Path, args: SendArgs<'_>) -> i32 {
    if !args.due {
        eprintln!(
            "error: `tminus comms send` needs --due (send every message that is due now)\n\n\
             Usage: tminus comms send --due [--now TIME] [--dry-run] [--test-to ADDR] [--resend-in-doubt]\n\n\
             Try `tminus comms send --due --dry-run` to see what would be sent."
        );
        return 2;
    }
    let (prepared, now) = match load(root, args.now) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let opts = Options {
        now,
        dry_run: args.dry_run,
        test_to: args.test_to.map(str::to_string),
        resend_in_doubt: args.resend_in_doubt,
    };
    // On a terminal, a progress bar on stderr (sent / failed / in doubt, rate, ETA);
    // otherwise one line per message on stdout.
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len}  {msg}  {rate}  ETA {eta}",
            )
            .expect("valid template")
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.1}/s", state.per_sec());
                },
            )
            .progress_chars("=> "),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(250));
        b
    });
    let mut counts = Counts::default();
    let mut out = Out { stdout_gone: false };
    let mut on = |p: Progress<'_>| match (&bar, p) {
        (Some(b), Progress::Start { total }) => {
            b.set_length(total as u64);
            b.set_message(counts.to_string());
        }
        (None, Progress::Start { .. }) => {}
        (Some(b), Progress::Sent { .. }) => {
            counts.sent += 1;
            b.set_message(counts.to_string());
            b.inc(1);
        }
        (Some(b), Progress::WouldSend { key, subject }) => {
            b.inc(1);
            b.println(format!("would send  {key}  {subject}"));
        }
        (Some(b), Progress::Failed { key, reply }) => {
            counts.failed += 1;
            b.set_message(counts.to_string());
            b.inc(1);
            b.println(format!("FAILED  {key}  {reply}"));
        }
        (Some(b), Progress::InDoubt { key, reason }) => {
            counts.in_doubt += 1;
            b.set_message(counts.to_string());
            b.inc(1);
            b.println(format!("IN DOUBT  {key}  {reason}"));
        }
        (None, Progress::Sent { key, message_id }) => {
            out.print(&format!("sent        {key}  {message_id}\n"))
        }
        (None, Progress::WouldSend { key, subject }) => {
            out.print(&format!("would send  {key}  {subject}\n"))
        }
        (None, Progress::Failed { key, reply }) => {
            out.print(&format!("FAILED      {key}  {reply}\n"))
        }
        (None, Progress::InDoubt { key, reason }) => {
            out.print(&format!("IN DOUBT    {key}  {reason}\n"))
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    let result = tminus::send::send(
        &prepared.project,
        &prepared.messages(),
        &opts,
        &env,
        &mut on,
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            warn(&format!("error: {e}\n"));
            return 1;
        }
    };
    print_summary(&mut out, &prepared.project, &summary, &opts);
    if summary.has_failures() {
        1
    } else {
        0
    }
}

/// What the progress bar counts.
#[derive(Debug, Default)]
struct Counts {
    sent: usize,
    failed: usize,
    in_doubt: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {} · failed {} · in doubt {}",
            self.sent, self.failed, self.in_doubt
        )
    }
}

fn print_summary(o: &mut Out, project: &Project, s: &Summary, opts: &Options) {
    let mut out = String::new();
    if !s.missed.is_empty() {
        out.push_str(&format!(
            "missed (more than {} late; never sent late):\n",
            tminus::time::format_duration(project.comms_policy.max_lateness)
        ));
        for (key, at) in &s.missed {
            out.push_str(&format!(
                "  {key}  (was due {})\n",
                tminus::send::ledger::utc(at)
            ));
        }
    }
    if !s.superseded.is_empty() {
        out.push_str("missed (a later occurrence of the same repeating message was due too: only the latest is sent):\n");
        for (key, at) in &s.superseded {
            out.push_str(&format!(
                "  {key}  (was due {})\n",
                tminus::send::ledger::utc(at)
            ));
        }
    }
    if !s.held.is_empty() {
        out.push_str("held (past their send time, waiting for a go/no-go decision; sent by the first run after a decision that lets them go):\n");
        for (key, gate) in &s.held {
            out.push_str(&format!("  {key}  (waits on {gate})\n"));
        }
    }
    if !s.cancelled.is_empty() {
        out.push_str("cancelled (the decision does not let them go; never sent):\n");
        for (key, gate) in &s.cancelled {
            if gate.is_empty() {
                out.push_str(&format!("  {key}  (no gate for this wave, so no NO-GO)\n"));
            } else {
                out.push_str(&format!("  {key}  (decision on {gate})\n"));
            }
        }
    }
    if !s.in_doubt.is_empty() {
        out.push_str("in doubt (handed to the server, no answer recorded: the connection dropped or the reply timed out after the message, or a run stopped there; never resent by itself — check the mailbox or the server's log, then rerun with --resend-in-doubt to send again):\n");
        for d in &s.in_doubt {
            out.push_str(&format!(
                "  {}  {}\n",
                d.key,
                d.reason
                    .as_deref()
                    .unwrap_or("the run stopped before the answer was recorded")
            ));
        }
    }
    if s.ledger_skipped_lines > 0 {
        out.push_str(&format!(
            "note: {} unreadable line(s) in the ledger were ignored (a run interrupted while writing)\n",
            s.ledger_skipped_lines
        ));
    }
    let mode = if opts.dry_run {
        format!("dry run: would send {}", s.would_send)
    } else if let Some(t) = &opts.test_to {
        format!("test to {t}: sent {}", s.sent)
    } else {
        format!("sent {}", s.sent)
    };
    out.push_str(&format!(
        "{mode}, failed {}, in doubt {}, missed {}, already sent {}, not yet due {}",
        s.failed.len(),
        s.in_doubt.len(),
        s.missed.len() + s.superseded.len(),
        s.already_sent,
        s.not_yet
    ));
    if !s.held.is_empty() || !s.cancelled.is_empty() {
        out.push_str(&format!(
            ", held {}, cancelled {}",
            s.held.len(),
            s.cancelled.len()
        ));
    }
    if !opts.dry_run {
        out.push_str(&format!(
            " ({} connection{}, {} retr{}, {:.1}s)",
            s.connections,
            if s.connections == 1 { "" } else { "s" },
            s.retries,
            if s.retries == 1 { "y" } else { "ies" },
            s.elapsed.as_secs_f64()
        ));
    }
    out.push('\n');
    if opts.dry_run || opts.test_to.is_some() {
        out.push_str("nothing was recorded in the send ledger\n");
    }
    o.print(&out);
    for r in &s.retired {
        warn(&format!(
            "note: one connection gave up (the others went on): {r}\n"
        ));
    }
    if let Some(f) = &s.fatal {
        warn(&format!("error: {f}\n"));
    }
    if s.not_attempted > 0 {
        warn(&format!(
            "error: {} due message(s) were not attempted; run again to send them\n",
            s.not_attempted
        ));
    }
    if !s.failed.is_empty() {
        warn(&format!(
            "error: {} message(s) failed; they are retried by the next run while less than {} late\n",
            s.failed.len(),
            tminus::time::format_duration(project.comms_policy.max_lateness)
        ));
    }
    let new_doubt = s.in_doubt.iter().filter(|d| d.this_run).count();
    if new_doubt > 0 {
        warn(&format!(
            "error: {new_doubt} message(s) are in doubt after this run; they are not resent unless you rerun with --resend-in-doubt\n"
        ));
    }
}
