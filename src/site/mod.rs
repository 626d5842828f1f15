//! The site: everything from a project folder to a versioned output folder.
//!
//! [`prepare`] loads the project, schedules the cutover and renders the comms (shared by
//! `build`, `check` and the `comms` commands); [`build`] renders every page and writes the
//! version atomically (see [`output`]).

pub mod calendar;
pub mod changes;
pub mod fingerprint;
pub mod journal;
pub mod links;
pub mod output;
pub mod plan_json;
pub mod recycle;
pub mod serve;
pub mod timings;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::plan::comms::{expand, file_keys};
use crate::plan::cutover::{schedule, Schedule};
use crate::project::Project;
use crate::render::email::Mailer;
use crate::render::{self, CommsEntry, PageJob, SiteInput, StaticFile};
use crate::send::overview::Overview;
use crate::templates::Theme;

/// A loaded, scheduled project with its comms rendered.
pub struct Prepared {
    pub project: Project,
    pub schedule: Schedule,
    pub comms: Vec<CommsEntry>,
    /// Calendar SEQUENCE per task id (bumped when a task moved since the last build).
    pub calendar_sequences: std::collections::BTreeMap<String, u32>,
    /// Calendar SEQUENCE per training session id (the same rule).
    pub session_sequences: std::collections::BTreeMap<String, u32>,
    /// Where each delivery stands, when the project has a send ledger (see
    /// [`read_delivery_status`]); the comms pages and `plan.json` show it.
    pub delivery: Option<Overview>,
    /// Hypercare judged as of the build's now (see [`judge_hypercare`]).
    pub hypercare: Option<crate::plan::hypercare::Judgment>,
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
        calendar_sequences: Default::default(),
        session_sequences: Default::default(),
        delivery: None,
        hypercare: None,
    })
}

/// Judges the project's hypercare (SPEC §9) as of `now`, once, into `prepared.hypercare`.
pub fn judge_hypercare(prepared: &mut Prepared, now: DateTime<Utc>) {
    prepared.hypercare = prepared
        .project
        .hypercare
        .as_ref()
        .map(|h| crate::plan::hypercare::judge(h, now));
}

/// Reads the project's send ledger (read-only: no lock, nothing written) into
/// `prepared.delivery`, as of `now`. A ledger that cannot be read is a warning, not an
/// error: the pages then show no delivery status.
pub fn read_delivery_status(prepared: &mut Prepared, now: DateTime<Utc>) {
    prepared.delivery = match Overview::read(prepared, now) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "warning: cannot read the send ledger {}: {e}; the comms pages show no delivery status",
                crate::send::ledger::Ledger::path_in(&prepared.project.root).display()
            );
            None
        }
    };
}

fn render_comms(project: &Project) -> Result<Vec<CommsEntry>, Diagnostics> {
    let mailer = Mailer::new(project)?;
    let messages = expand(project);
    let file_keys = file_keys(&messages, project.zone);
    let results: Vec<Result<CommsEntry, Diagnostic>> = messages
        .into_par_iter()
        .zip(file_keys)
        .map(|(message, file_key)| {
            let first = message.recipients[0].clone();
            let preview = mailer.render(&message, &first)?;
            let eml = mailer.eml(&message, &first, &preview)?;
            Ok(CommsEntry {
                subject: preview.subject.clone(),
                message,
                preview,
                eml,
                file_key,
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
    /// The version is approved and its sources did not change: nothing was written.
    pub unchanged: bool,
    /// Wall time per phase (`tminus build --timings`).
    pub timings: Vec<timings::Phase>,
}

/// How to build.
#[derive(Default)]
pub struct BuildOptions<'a> {
    /// Rebuild an approved version even when its sources changed.
    pub force: bool,
    pub progress: Option<&'a dyn output::Progress>,
    /// `--now`: the instant the site shows the state as of (default: the build's time).
    pub now: Option<Now>,
}

/// `--now TIME`: an instant, or a local time in the project's zone.
#[derive(Debug, Clone, Copy)]
pub enum Now {
    At(DateTime<Utc>),
    Local(chrono::NaiveDateTime),
}

impl Now {
    /// RFC 3339, or a local time (`2027-03-01T09:00`, seconds optional).
    pub fn parse(text: &str) -> Option<Now> {
        let text = text.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(Now::At(t.with_timezone(&Utc)));
        }
        [
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
        ]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(Now::Local)
    }

    pub fn resolve(self, zone: chrono_tz::Tz) -> DateTime<Utc> {
        match self {
            Now::At(t) => t,
            Now::Local(l) => crate::time::local_to_instant(l, zone).with_timezone(&Utc),
        }
    }
}

/// Everything a version folder holds, before it is written.
pub struct SiteFiles<'a> {
    /// What the pages are made from (deferred page contexts are built from it).
    pub input: SiteInput<'a>,
    pub pages: Vec<PageJob>,
    pub files: Vec<StaticFile>,
    pub theme: Theme,
}

/// Builds the pages and files of `prepared` (nothing is written), with no previous
/// version to compare with.
pub fn assemble<'a>(
    prepared: &'a Prepared,
    versions: &'a [render::VersionInfo],
    built_at: DateTime<Utc>,
) -> Result<SiteFiles<'a>, Diagnostics> {
    let theme = Theme::load(prepared.project.theme_dir.as_deref())?;
    Ok(assemble_with(prepared, versions, built_at, None, theme))
}

/// The previous version's plan (the next lower version in `versions` whose folder in
/// `out` has a `plan.json`), for the "what changed" page.
pub fn previous_plan(
    out: &Path,
    versions: &[render::VersionInfo],
    version: &str,
) -> Option<changes::PlanView> {
    let prev = output::previous_version(versions, version)?;
    let bytes = std::fs::read(out.join(format!("v{}", prev.version)).join("plan.json")).ok()?;
    let mut plan = changes::parse(&bytes)?;
    if plan.version.is_empty() {
        plan.version = prev.version.clone();
    }
    Some(plan)
}

/// Builds the pages and files of `prepared` with a loaded theme; `previous` is the plan of
/// the version before, for `changes/index.html`.
pub fn assemble_with<'a>(
    prepared: &'a Prepared,
    versions: &'a [render::VersionInfo],
    built_at: DateTime<Utc>,
    previous: Option<&changes::PlanView>,
    theme: Theme,
) -> SiteFiles<'a> {
    let input = SiteInput {
        project: &prepared.project,
        schedule: &prepared.schedule,
        comms: &prepared.comms,
        delivery: prepared.delivery.as_ref(),
        hypercare: prepared.hypercare.as_ref(),
        versions,
        built_at,
    };
    let mut pages = render::jobs(&input);
    let plan = plan_json::to_json(prepared, built_at);
    pages.push(changes_page(&input, &plan, previous));
    pages.push(not_found_page(&input));
    let mut files = vec![
        StaticFile {
            path: "sitemap.xml".into(),
            bytes: sitemap(&prepared.project, &pages).into_bytes(),
        },
        StaticFile {
            path: "plan.json".into(),
            bytes: plan,
        },
        StaticFile {
            path: "training/sessions.ics".into(),
            bytes: calendar::sessions_ics(&prepared.project, &prepared.session_sequences, built_at)
                .into_bytes(),
        },
        StaticFile {
            path: "assets/syntax.css".into(),
            bytes: crate::markdown::highlight::stylesheet().into_bytes(),
        },
    ];
    for (path, ics) in calendar::cutover_feeds(
        &prepared.project,
        &prepared.schedule,
        &prepared.calendar_sequences,
        built_at,
    ) {
        files.push(StaticFile {
            path,
            bytes: ics.into_bytes(),
        });
    }
    // Readers: one .ics per training session. The search index is made apart
    // ([`SiteFiles::search_index`]), while the pages render.
    for s in &prepared.project.sessions {
        files.push(StaticFile {
            path: render::session_calendar_path(&s.id),
            bytes: calendar::session_ics(
                &prepared.project,
                s,
                &prepared.session_sequences,
                built_at,
            )
            .into_bytes(),
        });
    }
    // One `.eml` per delivery (deliveries at one instant in different zones have their
    // zone in the name: see `plan::comms::file_keys`).
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
    SiteFiles {
        input,
        pages,
        files,
        theme,
    }
}

/// The search index's file in a version folder.
pub const SEARCH_INDEX: &str = "searchindex.js";

impl SiteFiles<'_> {
    /// `searchindex.js` (see [`crate::search`]): the slowest file of a large site, so it is
    /// not in [`SiteFiles::files`] but built by the caller while the pages render.
    pub fn search_index(&self) -> StaticFile {
        StaticFile {
            path: SEARCH_INDEX.into(),
            bytes: crate::search::index_js(self.input.project),
        }
    }

    /// Renders every page (marking drafts) and, at the same time, the search index,
    /// which is added to [`SiteFiles::files`].
    pub fn render_with_search(
        &mut self,
        progress: Option<&dyn output::Progress>,
    ) -> Result<Vec<(String, String)>, Diagnostics> {
        let (pages, search) = rayon::join(
            || render_site(self.input.project, self, progress),
            || self.search_index(),
        );
        self.files.push(search);
        pages
    }
}

/// `changes/index.html`: this version compared with the one before.
fn changes_page(input: &SiteInput, plan: &[u8], previous: Option<&changes::PlanView>) -> PageJob {
    let path = "changes/index.html";
    let root = input.root(path);
    let mut ctx = input.base_context(path, "changes", "What changed");
    let diff = match (previous, changes::parse(plan)) {
        (Some(before), Some(after)) => changes::compare(before, &after),
        _ => changes::Changes::default(),
    };
    ctx.insert(
        "previous_href",
        &diff
            .previous
            .as_ref()
            .map(|v| format!("{}v{v}/changes/index.html", input.versions_root(path))),
    );
    ctx.insert("plan_href", &format!("{root}plan.json"));
    ctx.insert("changes", &diff);
    PageJob::ready(path, "changes.html", ctx)
}

/// `404.html` at the version root (and, for the latest version, at the output root).
fn not_found_page(input: &SiteInput) -> PageJob {
    let path = "404.html";
    let mut ctx = input.base_context(path, "not-found", "Page not found");
    ctx.insert("home_href", &format!("{}index.html", input.root(path)));
    PageJob::ready(path, "404.html", ctx)
}

/// `sitemap.xml`: every page of the version. With `site.base_url` the locations are
/// absolute, as the sitemap protocol requires; without one they are relative to the
/// version folder (fine for an intranet crawler given the folder, not for a search engine).
fn sitemap(project: &Project, pages: &[PageJob]) -> String {
    let base = project.site.base_url.trim().trim_end_matches('/');
    let prefix = if base.is_empty() {
        String::new()
    } else {
        format!("{base}/v{}/", project.version)
    };
    let mut paths: Vec<&str> = pages
        .iter()
        .map(|p| p.path.as_str())
        .filter(|p| *p != "404.html")
        .collect();
    paths.sort_unstable();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for p in paths {
        xml.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            crate::markdown::highlight::escape_html(&format!("{prefix}{p}"))
        ));
    }
    xml.push_str("</urlset>\n");
    xml
}

/// SPEC: a draft is marked DRAFT on every page. The theme shows its own banner
/// (`site.is_draft`); a page whose theme shows none gets a plain one after `<body>`.
pub fn mark_draft(project: &Project, html: &mut String) {
    if project.status != crate::model::project::Status::Draft || html.contains("DRAFT") {
        return;
    }
    let banner = format!(
        "<p class=\"tminus-draft\" role=\"note\" style=\"margin:0;padding:.4rem 1rem;background:#fff3d6;color:#5c3500;font:600 14px/1.4 system-ui,sans-serif;text-align:center\">DRAFT — version {} of this plan is not approved yet.</p>",
        crate::markdown::highlight::escape_html(&project.version)
    );
    let lower = html.to_ascii_lowercase();
    let at = lower
        .find("<body")
        .and_then(|b| lower[b..].find('>').map(|e| b + e + 1))
        .unwrap_or(0);
    html.insert_str(at, &banner);
}

/// Renders every page of `site` and marks drafts.
pub fn render_site(
    project: &Project,
    site: &SiteFiles,
    progress: Option<&dyn output::Progress>,
) -> Result<Vec<(String, String)>, Diagnostics> {
    let mut pages = output::render_pages(site, progress)?;
    for (_, html) in &mut pages {
        mark_draft(project, html);
    }
    Ok(pages)
}

/// Where `build` keeps highlighted code and rendered Markdown between runs.
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join(".tminus").join("cache")
}

/// What `check` found.
pub struct Checked {
    pub prepared: Prepared,
    /// Every rendered page, `(path, html)`.
    pub pages: Vec<(String, String)>,
    /// How many internal links were followed.
    pub links: usize,
}

/// `tminus check`: everything a build does except writing, plus every internal link and
/// anchor. Returns the project.
pub fn check(root: &Path) -> Result<Prepared, Diagnostics> {
    check_site(root, &root.join("output")).map(|c| c.prepared)
}

/// `tminus check`, keeping the rendered pages (for `--external`). `out` is only read: the
/// previous version's plan feeds the "what changed" page.
pub fn check_site(root: &Path, out: &Path) -> Result<Checked, Diagnostics> {
    crate::cache::load_all(&cache_dir(root));
    let mut prepared = prepare(root)?;
    let now = Utc::now();
    read_delivery_status(&mut prepared, now);
    judge_hypercare(&mut prepared, now);
    let versions = output::versions_with(out, &prepared.project, now);
    let previous = previous_plan(out, &versions, &prepared.project.version);
    let theme = Theme::load(prepared.project.theme_dir.as_deref())?;
    let mut site = assemble_with(&prepared, &versions, now, previous.as_ref(), theme);
    let pages = site.render_with_search(None)?;
    let report = links::check_internal(&prepared.project, &site, &pages);
    let mut diags = Diagnostics::new();
    for d in report.errors {
        diags.push(d);
    }
    let links = report.followed;
    diags.finish(Checked {
        prepared,
        pages,
        links,
    })
}

/// `tminus build`: validates, renders and writes `out/v<version>/`, then updates
/// `latest/`, `versions.json` and `index.html`. On any error nothing in `out` changes.
pub fn build(root: &Path, out: &Path) -> Result<BuildReport, Diagnostics> {
    build_with(root, out, &BuildOptions::default())
}

/// [`build`] with options: `--force`, a progress display.
pub fn build_with(
    root: &Path,
    out: &Path,
    opts: &BuildOptions,
) -> Result<BuildReport, Diagnostics> {
    let started = Instant::now();
    let timings = timings::Timings::new();
    // Before anything in `out` is read: a publication a killed build left half done.
    output::settle(out);
    let cache = cache_dir(root);
    timings.time("load the caches", || {
        crate::cache::load_all(&cache);
        crate::cache::spill_all(&cache);
    });
    // `content/` is hashed for the fingerprint while it is loaded (the hash is sequential;
    // loading keeps the other threads busy).
    let (prepared, content_fingerprint) = rayon::join(
        || timings.time("load, schedule, render comms", || prepare(root)),
        || {
            timings.time("fingerprint content/ (while loading)", || {
                fingerprint::of_content(root)
            })
        },
    );
    let mut prepared = prepared?;
    let previous_calendars = calendar::previous_sequences(out);
    prepared.calendar_sequences = calendar::sequences(
        &previous_calendars.tasks,
        &prepared.project,
        &prepared.schedule,
    );
    prepared.session_sequences =
        calendar::sessions::sequences(&previous_calendars.sessions, &prepared.project);
    // The send ledger is not a source: an approved version keeps the delivery status of
    // the build that published it (see README, "Decisions").
    let fingerprint = content_fingerprint.finish(&prepared.project);
    match output::freeze_state(out, &prepared.project, &fingerprint) {
        output::Freeze::Unchanged(_) if !opts.force => {
            let version = &prepared.project.version;
            return Ok(BuildReport {
                version: version.clone(),
                version_dir: out.join(format!("v{version}")),
                pages: 0,
                files: 0,
                versions: output::read_versions(out).versions.len(),
                elapsed: started.elapsed(),
                unchanged: true,
                timings: timings.phases(),
            });
        }
        output::Freeze::Changed(v) if !opts.force => {
            return Err(Diagnostic::new(format!(
                "version {} is approved and was published on {}: its content cannot change",
                v.version, v.built_at
            ))
            .in_file("content/project.yaml")
            .with_hint(format!(
                "give the new plan a new `version:` in content/project.yaml (e.g. the next after {}), \
                 or rebuild this version anyway with `tminus build --force`",
                v.version
            ))
            .into());
        }
        _ => {}
    }
    // The search index is made from the sources alone: when the live version was built
    // from the same ones (and the same tminus), its index is linked, not made again.
    let reuse_search_index = output::read_versions(out).versions.iter().any(|v| {
        v.version == prepared.project.version && v.fingerprint.as_ref() == Some(&fingerprint)
    });
    let built_at = Utc::now();
    read_delivery_status(&mut prepared, built_at);
    let now = opts
        .now
        .map_or(built_at, |n| n.resolve(prepared.project.zone));
    judge_hypercare(&mut prepared, now);
    let project = &prepared.project;
    let mut versions = output::versions_with(out, project, built_at);
    if let Some(v) = versions.iter_mut().find(|v| v.version == project.version) {
        v.fingerprint = Some(fingerprint);
    }
    let previous = previous_plan(out, &versions, &project.version);
    let theme = Theme::load(project.theme_dir.as_deref())?;
    let site = timings.time("assemble", || {
        assemble_with(&prepared, &versions, built_at, previous.as_ref(), theme)
    });
    // Links are checked by `check`, not here: parsing every page of a large site would
    // multiply the build time.
    let written = output::write_version(
        out,
        project,
        &site,
        opts.progress,
        &versions,
        reuse_search_index,
        &timings,
    )?;
    // Only a speed-up for the next build: failing to save it is not a build error.
    let saved = timings.time("save the caches", || crate::cache::save_all(&cache));
    if let Err(e) = saved {
        eprintln!(
            "warning: cannot save the caches in {}: {e}",
            cache.display()
        );
    }
    Ok(BuildReport {
        version: project.version.clone(),
        version_dir: written,
        pages: site.pages.len(),
        files: site.files.len(),
        versions: versions.len(),
        elapsed: started.elapsed(),
        unchanged: false,
        timings: timings.phases(),
    })
}
