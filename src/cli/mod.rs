//! Command-line interface: argument parsing and one module per command. Each command
//! prints what it did or every error, and returns the process exit status.

mod build;
mod check;
mod comms;
mod import;
mod live;
mod new;
mod send;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tminus",
    version,
    about = "Static sites and scheduled emails for cutover plans and go-live communications"
)]
struct Cli {
    /// The project folder (holding content/).
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate, then render the site into output/v<version>/ (earlier versions are kept).
    Build {
        /// Output folder (default: <root>/output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Rebuild an approved version even though its sources changed.
        #[arg(long)]
        force: bool,
        /// Print how long each phase of the build took.
        #[arg(long)]
        timings: bool,
        /// Show the state as of TIME (hypercare): RFC 3339, or a local time in the project zone.
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
    /// Validate everything (YAML, references, cycles, templates, internal links); writes nothing.
    Check {
        /// Also check external links (HEAD, then GET), with a timeout each.
        #[arg(long)]
        external: bool,
        /// Seconds to wait for each external link.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// Check the site as of TIME (gated messages, the night, hypercare): RFC 3339, or a
        /// local time in the project zone.
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
    /// Build in memory and serve on 127.0.0.1, reloading the browser on every change.
    Serve {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Show the site as of TIME, rebuild after rebuild (a rehearsal of the night):
        /// RFC 3339, or a local time in the project zone.
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
    /// Scaffold a complete, buildable project in DIR.
    New {
        dir: PathBuf,
        /// The main go-live date (YYYY-MM-DD); the starter's other dates keep their
        /// distance to it. Default: the first Monday at least 12 weeks from today.
        #[arg(long, value_name = "DATE")]
        go_live: Option<chrono::NaiveDate>,
    },
    /// Scheduled announcements: list, preview, send and status.
    #[command(subcommand)]
    Comms(CommsCommand),
    /// Import a plan made elsewhere.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Go-live night: record what happens (content/live.yaml) and see where it stands.
    #[command(subcommand)]
    Live(LiveCommand),
}

/// What every `live` task event takes.
#[derive(clap::Args)]
struct TaskEvent {
    /// The cutover task.
    task: String,
    /// When it happened (default: now): a local time (2027-03-29 18:02), a T-offset or RFC 3339.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Who records it: a roster role.
    #[arg(long, value_name = "ROLE")]
    by: Option<String>,
    /// A note (for a block: why).
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
}

#[derive(Subcommand)]
enum LiveCommand {
    /// Record that a task started.
    Start(TaskEvent),
    /// Record that a task finished.
    Done(TaskEvent),
    /// Record that a task is blocked (say why with --note).
    Block {
        #[command(flatten)]
        event: TaskEvent,
        /// When the block ended, for a block recorded after the fact (records its end too).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
    },
    /// Record that a block ended.
    Unblock(TaskEvent),
    /// Record a go/no-go decision on a go-no-go task.
    Decide {
        /// The go-no-go task.
        gate: String,
        /// go, conditional-go or no-go.
        outcome: String,
        /// Who decided: a roster role.
        #[arg(long, value_name = "ROLE")]
        by: String,
        /// When (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// A condition of a CONDITIONAL GO, as "TEXT [@owner-role] [by DUE]"; repeat for more.
        #[arg(long, value_name = "TEXT")]
        condition: Vec<String>,
    },
    /// The night as of now: progress, status, current, next and blocked tasks, forecasts.
    Status {
        #[arg(long, value_enum, default_value = "table")]
        format: comms::Format,
        /// Pin the clock: RFC 3339, or a local time in the project zone.
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Turn a CSV export (id,title,owner,duration,predecessors,start…) into cutover.yaml.
    Cutover {
        /// The CSV file, with a header row.
        file: PathBuf,
        /// Where to write the plan (default: <root>/content/cutover.yaml).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum CommsCommand {
    /// Every scheduled message: id, wave, locale, audience, recipients, subject, send time.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: comms::Format,
        /// Only this wave's messages.
        #[arg(long)]
        wave: Option<String>,
        /// Pin the clock for the gated messages' state (as for `comms send`).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
    /// Show one rendered message (headers and plain text).
    Preview {
        /// The message id (its file name in content/comms/).
        id: String,
        /// The wave, for a message sent per wave.
        #[arg(long)]
        wave: Option<String>,
        /// The locale variant to show (default: the first delivery).
        #[arg(long)]
        locale: Option<String>,
        /// Also write the message as a standard .eml file.
        #[arg(long)]
        eml: Option<PathBuf>,
    },
    /// Send every message that is due and not yet sent (recorded in .tminus/sent.jsonl).
    Send {
        /// Send everything due now (required).
        #[arg(long)]
        due: bool,
        /// Pin the clock: RFC 3339, or a local time in the project zone (2027-03-01T09:00).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        /// Print what would be sent; send and record nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send one copy of each selected message to ADDR; record nothing.
        #[arg(long, value_name = "ADDR")]
        test_to: Option<String>,
        /// Also send the messages a crashed run left "in doubt".
        #[arg(long)]
        resend_in_doubt: bool,
    },
    /// Per message and recipient: scheduled, sent, failed, in doubt, missed, held or
    /// cancelled.
    Status {
        #[arg(long, value_enum, default_value = "table")]
        format: comms::Format,
        /// Pin the clock (as for `comms send`).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
}

/// Runs the command line; returns the exit status.
pub fn run() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Build {
            out,
            force,
            timings,
            now,
        } => build::run(&cli.root, out.as_deref(), force, timings, now.as_deref()),
        Command::Check {
            external,
            timeout,
            now,
        } => match parse_now(now.as_deref()) {
            Ok(now) => check::run(&cli.root, external, timeout, now),
            Err(code) => code,
        },
        Command::Serve { port, now } => match parse_now(now.as_deref()) {
            Ok(now) => serve::run(&cli.root, port, now),
            Err(code) => code,
        },
        Command::New { dir, go_live } => new::run(&dir, go_live),
        Command::Import(ImportCommand::Cutover { file, out, force }) => {
            import::cutover(&cli.root, &file, out.as_deref(), force)
        }
        Command::Comms(CommsCommand::List { format, wave, now }) => {
            comms::list(&cli.root, format, wave.as_deref(), now.as_deref())
        }
        Command::Comms(CommsCommand::Preview {
            id,
            wave,
            locale,
            eml,
        }) => comms::preview(
            &cli.root,
            &id,
            wave.as_deref(),
            locale.as_deref(),
            eml.as_deref(),
        ),
        Command::Comms(CommsCommand::Send {
            due,
            now,
            dry_run,
            test_to,
            resend_in_doubt,
        }) => send::send(
            &cli.root,
            send::SendArgs {
                due,
                now: now.as_deref(),
                dry_run,
                test_to: test_to.as_deref(),
                resend_in_doubt,
            },
        ),
        Command::Comms(CommsCommand::Status { format, now }) => {
            comms::status(&cli.root, format, now.as_deref())
        }
        Command::Live(cmd) => {
            let event = |e: TaskEvent, what| tminus::live::NewEvent {
                task: e.task,
                what,
                at: e.at,
                by: e.by,
                note: e.note,
                conditions: Vec::new(),
            };
            use tminus::live::What;
            match cmd {
                LiveCommand::Start(e) => live::record(&cli.root, event(e, What::Start)),
                LiveCommand::Done(e) => live::record(&cli.root, event(e, What::Done)),
                LiveCommand::Block { event: e, until } => {
                    live::record(&cli.root, event(e, What::Block { until }))
                }
                LiveCommand::Unblock(e) => live::record(&cli.root, event(e, What::Unblock)),
                LiveCommand::Decide {
                    gate,
                    outcome,
                    by,
                    at,
                    note,
                    condition,
                } => match live::decision(gate, &outcome, at, by, note, &condition) {
                    Ok(e) => live::record(&cli.root, e),
                    Err(code) => code,
                },
                LiveCommand::Status { format, now } => {
                    live::status(&cli.root, format, now.as_deref())
                }
            }
        }
    }
}

/// Prints to stdout; a closed pipe (`tminus comms list | head`) ends the program quietly.
pub fn emit(text: &str) {
    emit_bytes(text.as_bytes())
}

/// [`emit`] for bytes (UTF-8 text written in pieces).
pub fn emit_bytes(bytes: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// Prints every diagnostic to stderr.
pub fn report(diags: &tminus::diagnostics::Diagnostics) -> i32 {
    eprintln!("{diags}");
    1
}

/// `--now TIME` of `build`, `check` and `serve`; a usage error (exit 2) when it is no time.
fn parse_now(now: Option<&str>) -> Result<Option<tminus::site::Now>, i32> {
    match now.map(|t| (t, tminus::site::Now::parse(t))) {
        Some((_, Some(n))) => Ok(Some(n)),
        Some((t, None)) => {
            eprintln!("error: --now `{t}` is not a time\n  hint: write RFC 3339 (2027-03-01T09:00:00Z) or a local time in the project's zone (2027-03-01T09:00)");
            Err(2)
        }
        None => Ok(None),
    }
}
