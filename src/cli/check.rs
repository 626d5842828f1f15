//! `tminus check`: validate the project and write nothing.

use std::path::Path;

pub fn run(root: &Path) -> i32 {
    match tminus::load::load(root) {
        Ok(p) => {
            println!(
                "ok: {} — {} runbooks, {} checklists, {} guides, {} messages, {} tasks",
                p.name,
                p.runbooks.len(),
                p.checklists.len(),
                p.guides.len(),
                p.messages.len(),
                p.cutover.tasks.len()
            );
            0
        }
        Err(d) => super::report(&d),
    }
}
