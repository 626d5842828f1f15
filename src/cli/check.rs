//! `tminus check`: validate the project and write nothing.

use std::path::Path;

pub fn run(root: &Path) -> i32 {
    match tminus::site::check(root) {
        Ok(prepared) => {
            let p = &prepared.project;
            println!(
                "ok: {} — {} runbooks, {} checklists, {} guides, {} scheduled messages, {} tasks",
                p.name,
                p.runbooks.len(),
                p.checklists.len(),
                p.guides.len(),
                prepared.comms.len(),
                p.cutover.tasks.len()
            );
            0
        }
        Err(d) => super::report(&d),
    }
}
