//! Writing the output folder: `v<version>/`, `latest/`, `versions.json`, `versions.js`,
//! `index.html` and `404.html`.
//!
//! Every part is staged beside its target and they are swapped in together only when every
//! page rendered, so a failed build leaves the output as it was, and a killed one leaves
//! it entirely old or (through the publication journal, [`super::journal`]) entirely new.
//! Earlier versions are never touched. The temporary folder starts from the generation the
//! previous build replaced, and files that did not change stay hard links to the live
//! ones (see [`super::recycle`]).
//!
//! Why this file passes 600 lines: staging the version, mirroring `latest/` and writing
//! the shared files is one sequence that must stay readable as one (the swap itself is in
//! [`super::journal`], the reuse of the previous generation in [`super::recycle`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::journal::Journal;
use super::recycle::{self, Expected, Staging};
use super::timings::Timings;
use super::SiteFiles;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::model::project::LatestMode;
use crate::project::Project;
pub use crate::render::html::{render_page, render_pages, Progress};
use crate::render::VersionInfo;
use crate::templates::{error_chain, Theme};

/// `output/versions.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct VersionsFile {
    /// The highest version: the one `latest/` and `index.html` lead to.
    pub latest: Option<String>,
    /// Newest first.
    pub versions: Vec<VersionInfo>,
}

pub fn read_versions(out: &Path) -> VersionsFile {
    fs::read(out.join("versions.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Finishes the publication a killed build left half done in `out`, if any (see
/// [`super::journal`]), so what is read next is one whole publication. `site::run` calls
/// it first, in every mode: the only thing `check` and `serve` ever change in the output.
/// A failure is a warning (what is read is then as the killed build left it).
pub fn settle(out: &Path) {
    if let Err(e) = super::journal::finish(out) {
        eprintln!(
            "warning: cannot finish the publication a stopped build left in {}: {e}",
            out.display()
        );
    }
}

/// Every `.html` file under a version folder, as site paths (`runbooks/deploy/index.html`).
pub fn pages_in(dir: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "html"))
        .filter_map(|e| {
            e.path()
                .strip_prefix(dir)
                .ok()
                .map(|r| r.to_string_lossy().replace('\\', "/"))
        })
        .collect()
}

/// The version just below `version` among `versions` (for "what changed").
pub fn previous_version<'a>(versions: &'a [VersionInfo], version: &str) -> Option<&'a VersionInfo> {
    versions
        .iter()
        .filter(|v| compare_versions(&v.version, version) == std::cmp::Ordering::Less)
        .max_by(|a, b| compare_versions(&a.version, &b.version))
}

/// What building this version would do to an existing one.
#[derive(Debug, PartialEq)]
pub enum Freeze {
    /// Not built yet, or a draft: build.
    Open,
    /// Approved and built from exactly these sources: nothing to do.
    Unchanged(VersionInfo),
    /// Approved and built from other sources: refused unless forced.
    Changed(VersionInfo),
}

/// Orders `1.10` after `1.9`: numeric parts compare as numbers.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<(u64, String)> {
        s.split(['.', '-'])
            .map(|p| (p.parse::<u64>().unwrap_or(u64::MAX), p.to_string()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// Writes the rendered `pages` and the files of `site` as `out/v<version>/` and updates the
/// shared files, all or nothing (see [`super::journal`]).
///
/// First a publication a killed build left half done is finished, and other leftovers
/// cleaned ([`remove_leftovers`]). Then every part is staged beside its destination, where
/// readers do not see it: the version in `out/.tmp-v<version>-<pid>/` (recycled from
/// `.prev-v<version>/` when there is one), `latest/` in `.tmp-latest-<pid>` (hard links to
/// the staged version's files, or a symbolic link), and `404.html`, `versions.json`,
/// `versions.js` and `index.html` in `.tmp-<name>-<pid>` files. Until they are all staged
/// the output is exactly as it was, and a failed build gives the recycled trees back. Then
/// the journal is written and the parts are swapped in back to back.
pub fn write_version(
    out: &Path,
    project: &Project,
    site: &SiteFiles,
    progress: Option<&dyn Progress>,
    versions: &[VersionInfo],
    reuse_search_index: bool,
    timings: &Timings,
) -> Result<PathBuf, Diagnostics> {
    let io = |what: &str, path: &Path, e: std::io::Error| -> Diagnostics {
        Diagnostic::new(format!("cannot {what} {}: {e}", path.display())).into()
    };
    fs::create_dir_all(out).map_err(|e| io("create", out, e))?;
    super::journal::finish(out).map_err(|e| io("finish the publication in", out, e))?;
    remove_leftovers(out);
    let pid = std::process::id();
    let name = format!("v{}", project.version);
    let target = out.join(&name);
    let expected = Expected::new(
        site.pages
            .iter()
            .map(|p| p.path.as_str())
            .chain(site.files.iter().map(|f| f.path.as_str()))
            .chain([super::SEARCH_INDEX]),
    );
    let staging_dir = out.join(format!(".tmp-{name}-{pid}"));
    let staging = timings
        .time("recycle the previous generation", || {
            Staging::prepare(out, &name, staging_dir.clone(), target.clone(), &expected)
        })
        .map_err(|e| io("prepare", &staging_dir, e))?;
    if let Err(diags) = write_files(
        &staging,
        project,
        site,
        progress,
        reuse_search_index,
        timings,
    ) {
        staging.give_back();
        return Err(diags);
    }
    let journal = match stage_shared(out, project, site, versions, &staging, &expected, timings) {
        Ok(journal) => journal,
        Err(diags) => {
            staging.give_back();
            remove_leftovers(out);
            return Err(diags);
        }
    };
    // For the test of a build killed while swapping: a pause between two swaps.
    let stall = std::env::var("TMINUS_TEST_SWAP_STALL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    timings
        .time("swap the publication into place", || {
            super::journal::publish(out, &journal, || {
                if let Some(ms) = stall {
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
            })
        })
        .map_err(|e| io("publish into", out, e))?;
    Ok(target)
}

/// Stages every part of the publication but the version folder (staged by
/// [`write_version`]) and lists them all in a journal, in the order they are swapped in.
fn stage_shared(
    out: &Path,
    project: &Project,
    site: &SiteFiles,
    versions: &[VersionInfo],
    staging: &Staging,
    expected: &Expected,
    timings: &Timings,
) -> Result<Journal, Diagnostics> {
    let io = |what: &str, path: &Path, e: std::io::Error| -> Diagnostics {
        Diagnostic::new(format!("cannot {what} {}: {e}", path.display())).into()
    };
    let pid = std::process::id();
    let mut journal = Journal::new();
    let add = |journal: &mut Journal, staged: &Path, dest: &str| {
        let name = staged
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        journal
            .add(out, &name, dest)
            .map_err(|e| io("stage", staged, e))
    };
    add(
        &mut journal,
        staging.dir(),
        &format!("v{}", project.version),
    )?;
    let latest = versions.first().map(|v| v.version.clone());
    let file = VersionsFile {
        latest: latest.clone(),
        versions: versions.to_vec(),
    };
    if latest.as_deref() == Some(project.version.as_str()) {
        let staging_latest = out.join(format!(".tmp-latest-{pid}"));
        timings
            .time("mirror latest/", || match project.site.latest {
                LatestMode::Copy => mirror(out, staging.dir(), &staging_latest, expected),
                LatestMode::Symlink => {
                    link_dir(&out.join(format!("v{}", project.version)), &staging_latest)
                }
            })
            .map_err(|e| io("make", &staging_latest, e))?;
        add(&mut journal, &staging_latest, "latest")?;
        // The host's 404 page (nginx `error_page 404 /404.html;`), served for a missing
        // URL at any depth: latest's own when a base_url makes its links absolute; else a
        // self-contained page (no stylesheet or script to resolve against the missing
        // URL) whose links find the site's folder in the address.
        let html = if project.site.base_url.trim().is_empty() {
            Some(root_page(&site.theme, project, &file, true)?)
        } else {
            fs::read_to_string(staging.dir().join("404.html")).ok()
        };
        if let Some(html) = html {
            let staged = stage_file(out, "404.html", html.as_bytes())
                .map_err(|e| io("write", &out.join("404.html"), e))?;
            add(&mut journal, &staged, "404.html")?;
        }
    }
    let this_version: BTreeSet<String> = site.pages.iter().map(|p| p.path.clone()).collect();
    for (dest, bytes) in root_files(&site.theme, project, versions, &this_version)? {
        let staged =
            stage_file(out, &dest, &bytes).map_err(|e| io("write", &out.join(&dest), e))?;
        add(&mut journal, &staged, &dest)?;
    }
    Ok(journal)
}

/// The output folder's own files, in the order they are published: `versions.json`,
/// `versions.js` and `index.html` (`tminus serve` serves the same from memory).
/// `this_version` lists the pages of the version being built.
pub fn root_files(
    theme: &Theme,
    project: &Project,
    versions: &[VersionInfo],
    this_version: &BTreeSet<String>,
) -> Result<[(String, Vec<u8>); 3], Diagnostics> {
    let file = VersionsFile {
        latest: versions.first().map(|v| v.version.clone()),
        versions: versions.to_vec(),
    };
    let json = serde_json::to_string_pretty(&file).expect("versions serialize");
    let js = versions_js(&file, project, this_version);
    let index = root_index(theme, project, &file)?;
    Ok([
        ("versions.json".into(), format!("{json}\n").into_bytes()),
        ("versions.js".into(), js.into_bytes()),
        ("index.html".into(), index.into_bytes()),
    ])
}

/// `output/versions.js`, loaded by every page's version switcher: works from disk, where
/// `fetch()` does not. `TMINUS_PAGES` lists each version's pages, so the switcher keeps the
/// reader on the same page only where it exists.
pub fn versions_js(
    file: &VersionsFile,
    project: &Project,
    this_version: &BTreeSet<String>,
) -> String {
    let pages: BTreeMap<&str, &BTreeSet<String>> = file
        .versions
        .iter()
        .filter_map(|v| {
            if v.version == project.version {
                Some((v.version.as_str(), this_version))
            } else {
                v.pages.as_ref().map(|p| (v.version.as_str(), p))
            }
        })
        .collect();
    format!(
        "window.TMINUS_VERSIONS = {};\nwindow.TMINUS_PAGES = {};\n",
        serde_json::to_string(file).expect("versions serialize"),
        serde_json::to_string(&pages).expect("pages serialize")
    )
}

/// `output/index.html`: leads to the latest version.
pub fn root_index(
    theme: &Theme,
    project: &Project,
    file: &VersionsFile,
) -> Result<String, Diagnostics> {
    root_page(theme, project, file, false)
}

/// `root.html`: the root index, or (`not_found`) the root `404.html` of a site without a
/// `base_url`, which names the version folders so its script can find the site's folder.
fn root_page(
    theme: &Theme,
    project: &Project,
    file: &VersionsFile,
    not_found: bool,
) -> Result<String, Diagnostics> {
    let mut ctx = tera::Context::new();
    ctx.insert("site", &serde_json::json!({"title": project.site_title()}));
    ctx.insert("latest", &file.latest);
    ctx.insert("versions", &file.versions);
    ctx.insert("not_found", &not_found);
    let folders: Vec<String> = std::iter::once("latest".to_string())
        .chain(file.versions.iter().map(|v| format!("v{}", v.version)))
        .collect();
    ctx.insert("folders", &folders);
    let name = if not_found { "404.html" } else { "index.html" };
    crate::templates::render(&theme.tera, "root.html", &ctx).map_err(|e| {
        Diagnostics::from(Diagnostic::new(format!(
            "cannot render output/{name}: {}",
            error_chain(&e)
        )))
    })
}

/// Writes every page and file into the staging folder, in parallel.
/// Renders each page (marking drafts) and writes it in the same parallel pass, so no more
/// than a page per thread is in memory; the search index is built at the same time (it is
/// mostly CPU, the pages mostly file creation); then the static files. A file with the
/// bytes of the live version's is a hard link to it, not a new file ([`Staging::place`]).
fn write_files(
    staging: &Staging,
    project: &Project,
    site: &SiteFiles,
    progress: Option<&dyn Progress>,
    reuse_search_index: bool,
    timings: &Timings,
) -> Result<(), Diagnostics> {
    if let Some(p) = progress {
        p.start(site.pages.len());
    }
    let search_index = || {
        if reuse_search_index {
            let reused = timings.time("search index (same sources: reused)", || {
                staging.reuse(super::SEARCH_INDEX)
            });
            if let Ok(true) = reused {
                return Ok(());
            }
        }
        timings.time("search index", || write_search_index(staging, site))
    };
    let (page_results, search): (Vec<Result<(), Diagnostic>>, Result<(), Diagnostic>) = rayon::join(
        || {
            timings.time("render and write pages", || {
                site.pages
                    .par_iter()
                    .map(|job| {
                        let mut html = render_page(&site.theme, &site.input, job)?;
                        super::mark_draft(project, &mut html);
                        write_file(staging, &job.path, html.as_bytes())?;
                        if let Some(p) = progress {
                            p.advance();
                        }
                        Ok(())
                    })
                    .collect()
            })
        },
        search_index,
    );
    if let Some(p) = progress {
        p.finish();
    }
    // For the test of a killed build only: holds the half-written version in place.
    if let Some(ms) = std::env::var("TMINUS_TEST_STALL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    let file_results: Vec<Result<(), Diagnostic>> = timings.time("write other files", || {
        site.files
            .par_iter()
            .map(|f| write_file(staging, &f.path, &f.bytes))
            .collect()
    });
    let mut diags = Diagnostics::new();
    for r in page_results.into_iter().chain([search]).chain(file_results) {
        if let Err(d) = r {
            diags.push(d);
        }
    }
    diags.finish(())
}

/// `searchindex.js`, written as it is serialized (or, while it is the same as the live
/// version's, only compared with it).
fn write_search_index(staging: &Staging, site: &SiteFiles) -> Result<(), Diagnostic> {
    let path = staging.dir().join(super::SEARCH_INDEX);
    let cannot =
        |e: std::io::Error| Diagnostic::new(format!("cannot write {}: {e}", path.display()));
    let mut file = staging.stream(super::SEARCH_INDEX).map_err(cannot)?;
    crate::search::write_index_js(
        site.input.project,
        std::io::BufWriter::with_capacity(64 << 10, &mut file),
    )
    .map_err(cannot)?;
    file.finish().map_err(cannot)
}

fn write_file(staging: &Staging, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
    staging.place(rel, bytes).map_err(|e| {
        Diagnostic::new(format!(
            "cannot write {}: {e}",
            staging.dir().join(rel).display()
        ))
    })
}

/// Cleans what an interrupted build left (after [`super::journal::finish`]: what a
/// finished publication swapped in is gone from here). A staging folder
/// (`.tmp-v<version>-<pid>`, `.tmp-latest-<pid>`) becomes the `.prev-` folder of its name
/// when there is none — it is as good a start for the next build as any (see
/// [`super::recycle`]) — and is deleted otherwise; other temporary files (`.tmp-*`) are
/// deleted. A folder moved aside (`.old-<name>-<pid>`) whose replacement never arrived is
/// moved back; one whose replacement did is kept as `.prev-<name>`. `.prev-*` folders are
/// left alone, and so is what a process still running made.
pub fn remove_leftovers(out: &Path) {
    let Ok(entries) = fs::read_dir(out) else {
        return;
    };
    let running = |name: &str| {
        name.rsplit_once('-')
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
            .is_some_and(crate::cache::process_is_running)
    };
    // `.tmp-<name>-<pid>` → `<name>`.
    let folder = |rest: &str| -> Option<String> {
        let (name, pid) = rest.rsplit_once('-')?;
        (pid.bytes().all(|b| b.is_ascii_digit()) && (name == "latest" || name.starts_with('v')))
            .then(|| name.to_string())
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        // Not following links: a `latest` link left by a killed build is removed itself.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if running(&name) {
            continue;
        }
        if let Some(rest) = name.strip_prefix(".tmp-") {
            let kept = is_dir
                && folder(rest)
                    .is_some_and(|n| recycle::keep_as(&path, &recycle::prev_beside(&out.join(n))));
            if kept {
                continue;
            }
            let _ = if is_dir {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        } else if let Some(rest) = name.strip_prefix(".old-") {
            let original = rest.rsplit_once('-').map_or(rest, |(n, _)| n);
            let original = out.join(original);
            if fs::symlink_metadata(&original).is_ok() {
                recycle::retire(&path, &recycle::prev_beside(&original));
            } else {
                let _ = fs::rename(&path, &original);
            }
        }
    }
}

/// Makes `staging` (for `out/latest`) a mirror of the version folder `version` with hard
/// links to its files (a copy where links are not possible), starting from `.prev-latest`:
/// entries that already are the version's files are kept, others linked again, extras
/// removed. Safe because a build never writes into an existing file: it writes a new
/// folder, with new files for what changed, and swaps it in.
fn mirror(out: &Path, version: &Path, staging: &Path, expected: &Expected) -> std::io::Result<()> {
    let staging = Staging::prepare(
        out,
        "latest",
        staging.to_path_buf(),
        version.to_path_buf(),
        expected,
    )?;
    let linked = expected
        .files()
        .par_iter()
        .try_for_each(|rel| staging.mirror(rel));
    if linked.is_err() {
        staging.give_back();
    }
    linked
}

/// Mirrors `from` into `to` with hard links (a copy where links are not possible).
#[cfg(not(unix))]
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    let files: Vec<PathBuf> = walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.par_iter().try_for_each(|f| {
        let rel = f.strip_prefix(from).expect("inside");
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::hard_link(f, &dest).or_else(|_| fs::copy(f, &dest).map(|_| ()))
    })
}

/// Makes `link` a relative symbolic link to the folder `target` (its sibling), where the
/// system has them; a hard-linked copy elsewhere.
fn link_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let name = target.file_name().expect("a version folder has a name");
        std::os::unix::fs::symlink(name, link)
    }
    #[cfg(not(unix))]
    {
        copy_dir(target, link)
    }
}

/// Writes `bytes` to `out/.tmp-<name>-<pid>`, fsync'd, to be swapped in as `out/<name>`
/// (cleaned by the next build if this one stops before). Nothing is left on an error.
fn stage_file(out: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let tmp = out.join(format!(".tmp-{name}-{}", std::process::id()));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_staging_folders_become_prev_folders_and_the_rest_goes() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        // Two processes that have ended, and (on Linux) one still running.
        let ended = || {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            child.wait().unwrap();
            pid
        };
        let (a, b) = (ended(), ended());
        for dir in [
            format!(".tmp-v1.2-{a}"),
            format!(".tmp-latest-{a}"),
            format!(".tmp-v1.3-{a}"),
            ".prev-v1.3".to_string(),
            ".prev-v1.0".to_string(),
        ] {
            fs::create_dir_all(out.join(dir).join("x")).unwrap();
        }
        fs::write(out.join(format!(".tmp-versions.json-{a}")), "{}").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("v1.2", out.join(format!(".tmp-latest-{b}"))).unwrap();
        #[cfg(target_os = "linux")]
        let running = format!(".tmp-v1.4-{}", std::os::unix::process::parent_id());
        #[cfg(target_os = "linux")]
        fs::create_dir_all(out.join(&running)).unwrap();
        remove_leftovers(out);
        let mut left: Vec<String> = fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        // `.tmp-v1.3-<a>` is deleted: there is a `.prev-v1.3` already.
        #[allow(unused_mut)]
        let mut expected = vec![".prev-latest", ".prev-v1.0", ".prev-v1.2", ".prev-v1.3"];
        #[cfg(target_os = "linux")]
        expected.push(&running);
        assert_eq!(left, expected);
        assert!(out.join(".prev-v1.2/x").is_dir());
    }

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec!["1.9", "1.10", "1.2", "2.0-rc1", "0.9"];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, ["0.9", "1.2", "1.9", "1.10", "2.0-rc1"]);
    }
}
