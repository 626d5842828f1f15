//! `tminus new DIR [--go-live DATE]`: scaffold a complete, buildable project.

use std::path::Path;

use chrono::NaiveDate;

pub fn run(dir: &Path, go_live: Option<NaiveDate>) -> i32 {
    let go_live = go_live
        .unwrap_or_else(|| tminus::scaffold::default_go_live(chrono::Local::now().date_naive()));
    match tminus::scaffold::create(dir, go_live) {
        Ok(n) => {
            println!(
                "created {} ({n} files), go-live {} (change `go_live:` in content/project.yaml)",
                dir.display(),
                go_live.format("%A %-d %B %Y")
            );
            println!(
                "next:\n  cd {}\n  tminus check\n  tminus build      # then open output/index.html",
                dir.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
