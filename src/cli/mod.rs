//! Command-line interface: argument parsing and one module per command. Each command
//! prints what it did or every error, and returns the process exit status.

mod build;
mod check;

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
    },
    /// Validate everything (YAML, references, cycles, templates); writes nothing.
    Check,
}

/// Runs the command line; returns the exit status.
pub fn run() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Build { out } => build::run(&cli.root, out.as_deref()),
        Command::Check => check::run(&cli.root),
    }
}

/// Prints every diagnostic to stderr.
pub fn report(diags: &tminus::diagnostics::Diagnostics) -> i32 {
    eprintln!("{diags}");
    1
}
