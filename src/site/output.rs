//! Writing the output folder: `v<version>/`, `latest/`, `versions.json`, `versions.js` and
//! `index.html`.
//!
//! A version is rendered into a temporary folder beside its target and moved into place
//! only when every page rendered, so a failed build leaves the output as it was. Earlier
//! versions are never touched.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::SiteFiles;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::project::Project;
use crate::render::{PageJob, VersionInfo};
use crate::templates::error_chain;

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

/// The versions in `out`, with this build's added or updated, newest first.
pub fn versions_with(out: &Path, project: &Project, built_at: DateTime<Utc>) -> Vec<VersionInfo> {
    let mut versions = read_versions(out).versions;
    versions
        .retain(|v| v.version != project.version && out.join(format!("v{}", v.version)).is_dir());
    versions.push(VersionInfo {
        version: project.version.clone(),
        status: format!("{:?}", project.status).to_lowercase(),
        built_at: built_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    versions.sort_by(|a, b| compare_versions(&b.version, &a.version));
    versions
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

/// Renders one page with the theme (building its context first if it was deferred).
pub fn render_page(site: &SiteFiles, job: &PageJob) -> Result<String, Diagnostic> {
    site.theme
        .tera
        .render(job.template, &job.context(&site.input))
        .map_err(|e| {
            Diagnostic::new(format!("cannot render {}: {}", job.path, error_chain(&e))).with_hint(
                "check the theme template named in the message (built-in or under themes/)",
            )
        })
}

/// Writes `site` as `out/v<version>/` and updates the shared files.
pub fn write_version(
    out: &Path,
    project: &Project,
    site: &SiteFiles,
    versions: &[VersionInfo],
) -> Result<PathBuf, Diagnostics> {
    let io = |what: &str, path: &Path, e: std::io::Error| -> Diagnostics {
        Diagnostic::new(format!("cannot {what} {}: {e}", path.display())).into()
    };
    fs::create_dir_all(out).map_err(|e| io("create", out, e))?;
    remove_leftovers(out);
    let pid = std::process::id();
    let target = out.join(format!("v{}", project.version));
    let staging = out.join(format!(".tmp-v{}-{pid}", project.version));
    if let Err(diags) = write_files(&staging, site) {
        let _ = fs::remove_dir_all(&staging);
        return Err(diags);
    }
    swap_into_place(&staging, &target, pid)
        .map_err(|e| io("move the new version into", &target, e))?;

    let latest = versions.first().map(|v| v.version.clone());
    if latest.as_deref() == Some(project.version.as_str()) {
        let staging_latest = out.join(format!(".tmp-latest-{pid}"));
        copy_dir(&target, &staging_latest)
            .map_err(|e| io("copy the version to", &staging_latest, e))?;
        swap_into_place(&staging_latest, &out.join("latest"), pid)
            .map_err(|e| io("update", &out.join("latest"), e))?;
    }
    let file = VersionsFile {
        latest: latest.clone(),
        versions: versions.to_vec(),
    };
    let json = serde_json::to_string_pretty(&file).expect("versions serialize");
    write_atomic(&out.join("versions.json"), format!("{json}\n").as_bytes())
        .map_err(|e| io("write", &out.join("versions.json"), e))?;
    // Loaded by every page's version switcher: works from disk, where fetch() does not.
    let js = format!(
        "window.TMINUS_VERSIONS = {};\n",
        serde_json::to_string(&file).expect("versions serialize")
    );
    write_atomic(&out.join("versions.js"), js.as_bytes())
        .map_err(|e| io("write", &out.join("versions.js"), e))?;
    let mut ctx = tera::Context::new();
    ctx.insert("site", &serde_json::json!({"title": project.site_title()}));
    ctx.insert("latest", &latest);
    ctx.insert("versions", &versions);
    let index = site.theme.tera.render("root.html", &ctx).map_err(|e| {
        Diagnostics::from(Diagnostic::new(format!(
            "cannot render output/index.html: {}",
            error_chain(&e)
        )))
    })?;
    write_atomic(&out.join("index.html"), index.as_bytes())
        .map_err(|e| io("write", &out.join("index.html"), e))?;
    Ok(target)
}

/// Renders every page and writes every file under `dir`, in parallel.
fn write_files(dir: &Path, site: &SiteFiles) -> Result<(), Diagnostics> {
    let page_results: Vec<Result<(), Diagnostic>> = site
        .pages
        .par_iter()
        .map(|job| {
            let html = render_page(site, job)?;
            write_file(&dir.join(&job.path), html.as_bytes())
        })
        .collect();
    let file_results: Vec<Result<(), Diagnostic>> = site
        .files
        .par_iter()
        .map(|f| write_file(&dir.join(&f.path), &f.bytes))
        .collect();
    let mut diags = Diagnostics::new();
    for r in page_results.into_iter().chain(file_results) {
        if let Err(d) = r {
            diags.push(d);
        }
    }
    diags.finish(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Diagnostic> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| Diagnostic::new(format!("cannot create {}: {e}", parent.display())))?;
    }
    fs::write(path, bytes)
        .map_err(|e| Diagnostic::new(format!("cannot write {}: {e}", path.display())))
}

/// Replaces `target` with `staging`: the old folder is moved aside, then deleted.
fn swap_into_place(staging: &Path, target: &Path, pid: u32) -> std::io::Result<()> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = target.with_file_name(format!(".old-{name}-{pid}"));
    let had_old = target.exists();
    if had_old {
        fs::rename(target, &aside)?;
    }
    if let Err(e) = fs::rename(staging, target) {
        if had_old {
            let _ = fs::rename(&aside, target);
        }
        return Err(e);
    }
    if had_old {
        fs::remove_dir_all(&aside)?;
    }
    Ok(())
}

/// Temporary folders left by an interrupted build.
fn remove_leftovers(out: &Path) {
    let Ok(entries) = fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".tmp-") || name.starts_with(".old-") {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Mirrors `from` into `to` with hard links (a copy where links are not possible). Safe
/// because a build never edits a file in place: it writes a new folder and swaps it in.
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

/// Writes through a temporary file and a rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec!["1.9", "1.10", "1.2", "2.0-rc1", "0.9"];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, ["0.9", "1.2", "1.9", "1.10", "2.0-rc1"]);
    }
}
