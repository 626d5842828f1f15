//! The site: everything from a project folder to a versioned output folder.
//!
//! [`prepare`] loads the project, schedules the cutover and renders the comms (shared by
//! `build`, `check` and the `comms` commands); [`build`] renders every page and writes the
//! version atomically (see [`output`]).

mod calendar;
pub mod output;
pub mod plan_json;
mod vtimezone;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::plan::comms::expand;
use crate::plan::cutover::{schedule, Schedule};
use crate::project::Project;
use crate::render::email::Mailer;
use crate::render::{self, CommsEntry, PageJob, SiteInput, StaticFile};
use crate::templates::Theme;

/// A loaded, scheduled project with its comms rendered.
pub struct Prepared {
    pub project: Project,
    pub schedule: Schedule,
    pub comms: Vec<CommsEntry>,
}

/// Loads and plans the project in `root`, rendering each scheduled message's preview.
pub fn prepare(root: &Path) -> Result<Prepared, Diagnostics> {
    let project = crate::load::load(root)?;
    let schedule = schedule(&project.cutover, project.go_live);
    let comms = render_comms(&project)?;
    Ok(Prepared {
        project,
        schedule,
        comms,
    })
}

fn render_comms(project: &Project) -> Result<Vec<CommsEntry>, Diagnostics> {
    let mailer = Mailer::new(project)?;
    let results: Vec<Result<CommsEntry, Diagnostic>> = expand(project)
        .into_par_iter()
        .map(|message| {
            let first = message.recipients[0].clone();
            let preview = mailer.render(&message, &first)?;
            let eml = mailer.eml(&message, &first, &preview)?;
            Ok(CommsEntry {
                subject: preview.subject.clone(),
                message,
                preview,
                eml,
            })
        })
        .collect();
    let mut diags = Diagnostics::new();
    let mut entries = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(e) => entries.push(e),
            Err(d) => diags.push(d),
        }
    }
    diags.finish(entries)
}

/// What a build did.
#[derive(Debug)]
pub struct BuildReport {
    pub version: String,
    pub version_dir: PathBuf,
    pub pages: usize,
    pub files: usize,
    pub versions: usize,
    pub elapsed: std::time::Duration,
}

/// Everything a version folder holds, before it is written.
pub struct SiteFiles {
    pub pages: Vec<PageJob>,
    pub files: Vec<StaticFile>,
    pub theme: Theme,
}

/// Builds the pages and files of `prepared` (nothing is written).
pub fn assemble(
    prepared: &Prepared,
    versions: &[render::VersionInfo],
    built_at: DateTime<Utc>,
) -> Result<SiteFiles, Diagnostics> {
    let theme = Theme::load(prepared.project.theme_dir.as_deref())?;
    let input = SiteInput {
        project: &prepared.project,
        schedule: &prepared.schedule,
        comms: &prepared.comms,
        versions,
        built_at,
    };
    let pages = render::jobs(&input);
    let mut files = vec![
        StaticFile {
            path: "plan.json".into(),
            bytes: plan_json::to_json(prepared, built_at),
        },
        StaticFile {
            path: "training/sessions.ics".into(),
            bytes: calendar::sessions_ics(&prepared.project).into_bytes(),
        },
        StaticFile {
            path: "assets/syntax.css".into(),
            bytes: crate::markdown::highlight::stylesheet().into_bytes(),
        },
    ];
    // Readers: one .ics per training session and the search index (see `crate::search`).
    for s in &prepared.project.sessions {
        files.push(StaticFile {
            path: format!("training/sessions/{}.ics", s.id),
            bytes: calendar::session_ics(&prepared.project, s).into_bytes(),
        });
    }
    files.push(StaticFile {
        path: "searchindex.js".into(),
        bytes: crate::search::index_js(&prepared.project).into_bytes(),
    });
    for e in &prepared.comms {
        files.push(StaticFile {
            path: e.eml_path(),
            bytes: e.eml.clone(),
        });
    }
    for (path, bytes) in &theme.assets {
        files.push(StaticFile {
            path: format!("assets/{path}"),
            bytes: bytes.clone(),
        });
    }
    Ok(SiteFiles {
        pages,
        files,
        theme,
    })
}

/// `tminus check`: everything a build does except writing.
pub fn check(root: &Path) -> Result<Prepared, Diagnostics> {
    let prepared = prepare(root)?;
    let now = Utc::now();
    let versions = [render::VersionInfo {
        version: prepared.project.version.clone(),
        status: format!("{:?}", prepared.project.status).to_lowercase(),
        built_at: now.to_rfc3339(),
    }];
    let site = assemble(&prepared, &versions, now)?;
    let results: Vec<Result<(), Diagnostic>> = site
        .pages
        .par_iter()
        .map(|job| output::render_page(&site.theme, job).map(|_| ()))
        .collect();
    let mut diags = Diagnostics::new();
    for r in results {
        if let Err(d) = r {
            diags.push(d);
        }
    }
    diags.finish(prepared)
}

/// `tminus build`: validates, renders and writes `out/v<version>/`, then updates
/// `latest/`, `versions.json` and `index.html`. On any error nothing in `out` changes.
pub fn build(root: &Path, out: &Path) -> Result<BuildReport, Diagnostics> {
    let started = Instant::now();
    let prepared = prepare(root)?;
    let built_at = Utc::now();
    let versions = output::versions_with(out, &prepared.project, built_at);
    let site = assemble(&prepared, &versions, built_at)?;
    let written = output::write_version(out, &prepared.project, &site, &versions)?;
    Ok(BuildReport {
        version: prepared.project.version.clone(),
        version_dir: written,
        pages: site.pages.len(),
        files: site.files.len(),
        versions: versions.len(),
        elapsed: started.elapsed(),
    })
}
