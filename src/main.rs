//! The `tminus` command: a thin layer over the library (see `src/cli/`).

fn main() {
    std::process::exit(tminus_cli::run());
}

#[path = "cli/mod.rs"]
mod tminus_cli;

/// mimalloc instead of the system allocator: a build allocates and frees millions of small
/// strings from two threads at once; measured on the 10,000-page benchmark, it takes about
/// 30 % less CPU time than glibc's malloc for 40-55 MB more peak memory (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
