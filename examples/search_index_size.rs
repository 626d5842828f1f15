//! Builds only the search index of a project and reports its size and the time taken:
//! `cargo run --release --example search_index_size -- PROJECT_DIR` (see BENCHMARKS.md).

use std::time::Instant;

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let project = match tminus::load::load(std::path::Path::new(&root)) {
        Ok(p) => p,
        Err(d) => {
            eprintln!("{d:?}");
            std::process::exit(1);
        }
    };
    let started = Instant::now();
    let docs = tminus::search::documents(&project);
    let js = tminus::search::index_js(&project);
    println!(
        "{} guides, {} documents, searchindex.js {} bytes, built in {:.2?}",
        project.guides.len(),
        docs.len(),
        js.len(),
        started.elapsed()
    );
}
