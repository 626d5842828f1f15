//! `tminus build [--out DIR]`: render the site into `output/v<version>/`.

use std::path::Path;

pub fn run(root: &Path, out: Option<&Path>) -> i32 {
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("output"));
    match tminus::site::build(root, &out) {
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
