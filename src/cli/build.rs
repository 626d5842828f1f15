//! `tminus build [--out DIR] [--force] [--timings] [--now TIME]`: render the site into `output/v<version>/`.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use tminus::site::output::Progress;
use tminus::site::BuildOptions;

/// Below this many pages a build is too quick for a progress bar.
const BAR_FROM_PAGES: usize = 200;

/// A progress bar on stderr, shown only on a terminal and for long builds.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total: usize) {
        if total >= BAR_FROM_PAGES {
            self.0.set_length(total as u64);
            self.0
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }
    fn advance(&self) {
        self.0.inc(1);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub fn run(root: &Path, out: Option<&Path>, force: bool, timings: bool, now: Option<&str>) -> i32 {
    let now = match super::parse_now(now) {
        Ok(n) => n,
        Err(code) => return code,
    };
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("output"));
    let bar = std::io::stderr().is_terminal().then(|| {
        let pb = ProgressBar::hidden();
        pb.set_style(
            ProgressStyle::with_template("rendering {bar:40} {pos}/{len} pages ({eta})")
                .expect("template")
                .progress_chars("=> "),
        );
        Bar(pb)
    });
    let opts = BuildOptions {
        force,
        progress: bar.as_ref().map(|b| b as &dyn Progress),
        now,
    };
    let result = tminus::site::build_with(root, &out, &opts);
    if let (Ok(report), true) = (&result, timings) {
        print_timings(&report.timings);
    }
    match result {
        Ok(report) if report.unchanged => {
            println!(
                "v{} is approved and its sources are unchanged: left as published in {}",
                report.version,
                report.version_dir.display()
            );
            0
        }
        Ok(report) => {
            println!(
                "built v{} — {} pages, {} files, {} version{} in {} ({:.0} ms)",
                report.version,
                report.pages,
                report.files,
                report.versions,
                if report.versions == 1 { "" } else { "s" },
                out.display(),
                report.elapsed.as_secs_f64() * 1000.0
            );
            0
        }
        Err(d) => super::report(&d),
    }
}

/// `--timings`: one line per phase on stderr, in the order the phases finished, with the
/// peak memory of the process when each ended.
fn print_timings(phases: &[tminus::site::timings::Phase]) {
    let width = phases.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in phases {
        let peak = p
            .peak_rss
            .map(|b| format!("  peak {:>5} MB", b / (1024 * 1024)))
            .unwrap_or_default();
        eprintln!(
            "{:<width$}  {:>9.1} ms{peak}",
            p.name,
            p.took.as_secs_f64() * 1000.0
        );
    }
    eprintln!("(the search index is built while the pages are written: their times overlap)");
}
