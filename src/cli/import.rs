//! `tminus import cutover FILE.csv [--out content/cutover.yaml] [--force]`.

use std::path::Path;

pub fn cutover(root: &Path, csv: &Path, out: Option<&Path>, force: bool) -> i32 {
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("content/cutover.yaml"));
    match tminus::import::import_cutover(root, csv, &out, force) {
        Ok(report) => {
            let checked = if report.validated {
                " (checked against the project)"
            } else {
                " (no project at --root: references to owners, runbooks and waves not checked)"
            };
            println!(
                "imported {} task{} from {} into {}{checked}",
                report.tasks,
                if report.tasks == 1 { "" } else { "s" },
                csv.display(),
                report.out.display()
            );
            if report.other_errors > 0 {
                eprintln!(
                    "note: other files of the project have {} error{}; run `tminus check`",
                    report.other_errors,
                    if report.other_errors == 1 { "" } else { "s" }
                );
            }
            0
        }
        Err(d) => super::report(&d),
    }
}
