//! The `tminus` command: a thin layer over the library (see `src/cli/`).

fn main() {
    std::process::exit(tminus_cli::run());
}

#[path = "cli/mod.rs"]
mod tminus_cli;
