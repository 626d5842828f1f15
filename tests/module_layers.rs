//! The library's top-level modules form layers: each uses only modules in layers below it,
//! so there is no `use` cycle between them. This reads the `crate::…` paths of every file
//! under `src/` (outside `#[cfg(test)]` code and comments) and checks them against
//! [`LAYERS`]. The command line (`src/main.rs`, `src/cli/`) sits on top and is not checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Lowest first. A module may use the modules of the layers before its own, never one of
/// its own layer or above. Keep README's "Architecture" in step.
const LAYERS: &[&[&str]] = &[
    // What everything uses: errors for people, hashing, small shared helpers, page paths,
    // URL paths, the rule for the URLs a project may write.
    &["diagnostics", "hash", "util", "urls", "urlpath", "url_rule"],
    // Reading files and YAML, the file formats as written, T-minus time.
    &["source", "model", "time"],
    // The build caches (highlighted code, rendered documents, search documents).
    &["cache"],
    // Markdown → HTML and text; the theme (Tera). Loading uses both for `{{ … }}` in bodies.
    &["markdown", "templates"],
    // The validated project.
    &["project"],
    // content/ → Project.
    &["load"],
    // Schedules: the cutover, the comms, rehearsals.
    &["plan"],
    // Delivery status as plain data; CSV import (validated with the loader); recording the
    // live log (validated with the loader) and the bridge update.
    &["delivery", "import", "live"],
    // Emails (previews and sending); the search index.
    &["email", "search"],
    // Pages from the project and its plan; sending what is due.
    &["render", "send"],
    // The build sequence, publishing and the tools (serve, links); the starter project.
    &["site", "scaffold"],
];

/// The top-level modules each module of `src/` refers to, by `crate::<module>`.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let path_re = regex::Regex::new(r"crate::([a-z_][a-z0-9_]*)").unwrap();
    let group_re = regex::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_string();
        if matches!(module.as_str(), "lib" | "main" | "cli") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        // Test code may use anything.
        let code = text.split("#[cfg(test)]").next().unwrap();
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let used = graph.entry(module.clone()).or_default();
        for c in path_re.captures_iter(&code) {
            used.insert(c[1].to_string());
        }
        for c in group_re.captures_iter(&code) {
            for item in c[1].split(',') {
                let name = item.trim().split("::").next().unwrap().trim();
                if !name.is_empty() {
                    used.insert(name.to_string());
                }
            }
        }
        used.remove(&module);
    }
    graph
}

#[test]
fn top_level_modules_use_only_the_layers_below_them() {
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.iter().map(move |m| (*m, i)))
        .collect();
    let graph = uses();
    let mut problems = Vec::new();
    for (module, used) in &graph {
        let Some(&mine) = layer_of.get(module.as_str()) else {
            problems.push(format!("`{module}` is in no layer of LAYERS"));
            continue;
        };
        for u in used {
            match layer_of.get(u.as_str()) {
                Some(&theirs) if theirs < mine => {}
                Some(_) => problems.push(format!(
                    "`{module}` uses `{u}`, which is not in a lower layer"
                )),
                None => problems.push(format!("`{module}` uses `{u}`, which is in no layer")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_reads_grouped_and_nested_paths() {
    // The checker itself: every module is found, and one known edge is seen.
    let graph = uses();
    for l in LAYERS {
        for m in *l {
            assert!(graph.contains_key(*m), "no src/{m}.rs or src/{m}/");
        }
    }
    assert!(graph["render"].contains("plan"));
    assert!(graph["site"].contains("render"));
}
