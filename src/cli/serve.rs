//! `tminus serve [--port N]`: build in memory, serve on 127.0.0.1 with live reload.

use std::io::Write;
use std::path::Path;

pub fn run(root: &Path, port: u16, now: Option<tminus::site::Now>) -> i32 {
    if !root.join("content/project.yaml").is_file() {
        eprintln!(
            "error: no project here: {} does not exist\n  hint: run tminus in a project folder, pass --root DIR, or create one with `tminus new DIR`",
            root.join("content/project.yaml").display()
        );
        return 1;
    }
    match tminus::site::serve::start(root, &root.join("output"), port, true, now) {
        Ok(handle) => {
            println!(
                "serving {} (Ctrl-C to stop); watching content/ and themes/",
                handle.url()
            );
            let _ = std::io::stdout().flush();
            handle.join();
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
