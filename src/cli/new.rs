//! `tminus new DIR`: scaffold a complete, buildable project.

use std::path::Path;

pub fn run(dir: &Path) -> i32 {
    match tminus::scaffold::create(dir) {
        Ok(n) => {
            println!("created {} ({n} files)", dir.display());
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
