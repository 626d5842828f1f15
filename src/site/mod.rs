//! The site: the one build sequence from a project folder to a version (read this first),
//! publishing it, and the tools around it.
//!
//! - [`prepare`] loads the project and makes the plan products: the cutover schedule, the
//!   rehearsal analyses, the scheduled messages with their rendered previews (also used by
//!   the `comms` commands).
//! - [`run`] is the sequence `build`, `check` and `serve` share: prepare, read the output
//!   folder once ([`published`]), compute calendar SEQUENCE numbers and the delivery
//!   status, [`assemble_with`] every page job and file (`render`), then — by [`Mode`] —
//!   write them atomically ([`output`], [`recycle`], with `load::fingerprint`), keep them in memory
//!   ([`serve`]) or render them and check their links ([`links`]).
//!
//! (Over 600 lines on purpose: the sequence and the values it hands from stage to stage —
//! `Prepared`, `SiteFiles`, `Mode`, `Built` — read top to bottom in one file. Split at
//! `prepare` / `assemble_with` / `run` if it grows further.)

pub mod journal;
pub mod links;
pub mod output;
pub mod published;
pub mod recycle;
pub mod serve;
pub mod timings;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::delivery::Overview;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::email::Mailer;
use crate::plan::comms::ScheduledMessage;
use crate::plan::comms::{expand, file_keys};
use crate::plan::cutover::{schedule, Schedule};
use crate::plan::rehearsal::RehearsalReport;
use crate::project::Project;
pub use crate::render::version::mark_draft;
use crate::render::version::{changes_page, not_found_page, sitemap};
use crate::render::{self, CommsEntry, PageJob, SiteInput, StaticFile};
use crate::render::{calendar, changes, plan_json};
use crate::templates::Theme;
use crate::urls;

/// A loaded, scheduled project with its comms rendered.
pub struct Prepared {
    pub project: Project,
    pub schedule: Schedule,
    /// Each rehearsal measured against the plan, with its re-forecast of go-live night.
    pub rehearsals: Vec<RehearsalReport>,
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
    /// Go-live night as of the build's now, when the project has a live log (see
    /// [`live_state`]).
    pub live: Option<crate::plan::live::LiveState>,
    /// The instant the site shows the state as of (`build --now`), once known; else the
    /// build's time is.
    pub as_of: Option<DateTime<Utc>>,
}

impl Prepared {
    /// The scheduled messages, in schedule order (what `send` needs of a build).
    pub fn messages(&self) -> Vec<&ScheduledMessage> {
        self.comms.iter().map(|e| &e.message).collect()
    }
}

/// Loads and plans the project in `root`, rendering each scheduled message's preview.
pub fn prepare(root: &Path) -> Result<Prepared, Diagnostics> {
    let project = crate::load::load(root)?;
    let schedule = schedule(&project.cutover, project.go_live);
    let rehearsals = crate::plan::rehearsal::analyse(&project);
    let comms = render_comms(&project)?;
    Ok(Prepared {
        project,
        schedule,
        rehearsals,
        comms,
        calendar_sequences: Default::default(),
        session_sequences: Default::default(),
        delivery: None,
        hypercare: None,
        live: None,
        as_of: None,
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

/// Computes go-live night (SPEC §8) as of `now`, once, into `prepared.live` (when the
/// project has `content/live.yaml`).
pub fn live_state(prepared: &mut Prepared, now: DateTime<Utc>) {
    prepared.live = prepared
        .project
        .live_log
        .then(|| crate::plan::live::state(&prepared.project, &prepared.schedule, now));
}

/// Reads the project's send ledger (read-only: no lock, nothing written) into
/// `prepared.delivery`, as of `now`. A ledger that cannot be read is a warning, not an
/// error: the pages then show no delivery status.
pub fn read_delivery_status(prepared: &mut Prepared, now: DateTime<Utc>) {
    let overview = crate::send::overview(&prepared.project, &prepared.messages(), now);
    prepared.delivery = match overview {
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
            let eml = mailer.eml(&message, &first, &preview, message.send_at.to_utc())?;
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

/// Builds the pages and files of `prepared` with a loaded theme; `previous` is the plan of
/// the version before, for `changes/index.html`; `base_url` makes links absolute (empty:
/// relative links; see [`Mode::base_url`]).
pub fn assemble_with<'a>(
    prepared: &'a Prepared,
    versions: &'a [render::VersionInfo],
    built_at: DateTime<Utc>,
    previous: Option<&changes::PlanView>,
    theme: Theme,
    base_url: &'a str,
) -> SiteFiles<'a> {
    let input = SiteInput {
        base_url: base_url.trim().trim_end_matches('/'),
        project: &prepared.project,
        schedule: &prepared.schedule,
        comms: &prepared.comms,
        delivery: prepared.delivery.as_ref(),
        hypercare: prepared.hypercare.as_ref(),
        live: prepared.live.as_ref(),
        as_of: prepared.as_of,
        rehearsals: &prepared.rehearsals,
        calendar_sequences: &prepared.calendar_sequences,
        session_sequences: &prepared.session_sequences,
        versions,
        built_at,
    };
    let mut pages = render::jobs(&input);
    let plan = plan_json::to_json(&input);
    pages.push(changes_page(&input, &plan, previous));
    pages.push(not_found_page(&input));
    let mut files = vec![
        StaticFile {
            path: urls::SITEMAP.into(),
            bytes: sitemap(&input, &pages).into_bytes(),
        },
        StaticFile {
            path: urls::PLAN_JSON.into(),
            bytes: plan,
        },
        StaticFile {
            path: urls::SESSIONS_CALENDAR.into(),
            bytes: calendar::sessions_ics(&prepared.project, &prepared.session_sequences, built_at)
                .into_bytes(),
        },
        StaticFile {
            path: urls::SYNTAX_CSS.into(),
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
            path: urls::session_calendar(&s.id),
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
pub const SEARCH_INDEX: &str = urls::SEARCH_INDEX;

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

/// Renders every page of `site` and marks drafts.
pub fn render_site(
    project: &Project,
    site: &SiteFiles,
    progress: Option<&dyn output::Progress>,
) -> Result<Vec<(String, String)>, Diagnostics> {
    let mut pages = output::render_pages(&site.theme, &site.input, &site.pages, progress)?;
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

/// A site built in memory (`tminus serve`): what it was made from, kept for re-rendering
/// one page, and every file by its path under the output folder (`v1.2/index.html`,
/// `versions.js`, `index.html`, …).
pub struct InMemory {
    pub prepared: Prepared,
    pub theme: Theme,
    pub versions: Vec<render::VersionInfo>,
    pub built_at: DateTime<Utc>,
    pub files: Vec<(String, Vec<u8>)>,
}

/// Where a build's output goes (as Zola's `BuildMode`). Everything before that — loading,
/// planning (schedule, calendar sequences, comms), reading the output folder, assembling
/// the pages — is the same for the three commands ([`run`]).
pub enum Mode<'a> {
    /// `tminus build`: written into the output folder (see [`output`]).
    Disk(&'a BuildOptions<'a>),
    /// `tminus serve`: kept in memory; links stay on the local server (with its `--now`).
    Memory(Option<Now>),
    /// `tminus check`: rendered, links checked, nothing kept (with its `--now`).
    Nowhere(Option<Now>),
}

impl Mode<'_> {
    /// The base URL of links: the project's `site.base_url`, except in memory, where links
    /// must stay on the local server.
    pub fn base_url<'p>(&self, project: &'p Project) -> &'p str {
        match self {
            Mode::Memory(_) => "",
            _ => &project.site.base_url,
        }
    }
}

/// What [`run`] made, by [`Mode`].
pub enum Built {
    Disk(BuildReport),
    Memory(Box<InMemory>),
    Nowhere(Box<Checked>),
}

/// `tminus check`: everything a build does except writing, plus every internal link and
/// anchor. Returns the project.
pub fn check(root: &Path) -> Result<Prepared, Diagnostics> {
    check_site(root, &root.join("output")).map(|c| c.prepared)
}

/// `tminus check`, keeping the rendered pages (for `--external`). `out` is only read: the
/// previous version's plan feeds the "what changed" page.
pub fn check_site(root: &Path, out: &Path) -> Result<Checked, Diagnostics> {
    check_site_at(root, out, None)
}

/// [`check_site`] as of `now` (`tminus check --now`).
pub fn check_site_at(root: &Path, out: &Path, now: Option<Now>) -> Result<Checked, Diagnostics> {
    match run(root, out, Mode::Nowhere(now))? {
        Built::Nowhere(c) => Ok(*c),
        _ => unreachable!("Mode::Nowhere makes Built::Nowhere"),
    }
}

/// `tminus serve`: the whole site in memory; `out` is only read (other versions, the
/// previous plan, calendar sequences).
pub fn build_in_memory(root: &Path, out: &Path, now: Option<Now>) -> Result<InMemory, Diagnostics> {
    match run(root, out, Mode::Memory(now))? {
        Built::Memory(m) => Ok(*m),
        _ => unreachable!("Mode::Memory makes Built::Memory"),
    }
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
    match run(root, out, Mode::Disk(opts))? {
        Built::Disk(r) => Ok(r),
        _ => unreachable!("Mode::Disk makes Built::Disk"),
    }
}

/// The one build sequence of `build`, `check` and `serve`: load and plan the project in
/// `root`, read the output folder `out` (versions, the previous plan and calendar
/// sequences), assemble every page and file, then write them (`Disk`: atomically, and not
/// at all when an approved version is unchanged), keep them (`Memory`) or check their
/// links (`Nowhere`).
pub fn run(root: &Path, out: &Path, mode: Mode) -> Result<Built, Diagnostics> {
    let started = Instant::now();
    let timings = timings::Timings::new();
    // Before anything in `out` is read: a publication a killed build left half done.
    output::settle(out);
    let cache = cache_dir(root);
    match mode {
        Mode::Disk(_) => timings.time("load the caches", || {
            crate::cache::load_all(&cache);
            crate::cache::spill_all(&cache);
        }),
        // `check` only reads the caches; `serve` keeps highlighted code in memory.
        Mode::Nowhere(_) => crate::cache::load_all(&cache),
        Mode::Memory(_) => {}
    }
    // `content/` is hashed for the fingerprint while it is loaded (the hash is sequential;
    // loading keeps the other threads busy). Only a build needs it.
    let (prepared, content_fingerprint) = rayon::join(
        || timings.time("load, schedule, render comms", || prepare(root)),
        || {
            matches!(mode, Mode::Disk(_)).then(|| {
                timings.time("fingerprint content/ (while loading)", || {
                    crate::load::fingerprint::of_content(root)
                })
            })
        },
    );
    let mut prepared = prepared?;
    // The output folder, read once.
    let published = published::Published::read(out, &prepared.project.version);
    prepared.calendar_sequences = calendar::sequences(
        &published.previous.tasks,
        &prepared.project,
        &prepared.schedule,
    );
    prepared.session_sequences =
        calendar::sessions::sequences(&published.previous.sessions, &prepared.project);
    let mut fingerprint = None;
    let mut reuse_search_index = false;
    if let (Mode::Disk(opts), Some(content)) = (&mode, content_fingerprint) {
        // The send ledger is not a source: an approved version keeps the delivery status
        // of the build that published it (see README, "Decisions").
        let print = content.finish(&prepared.project);
        match published.freeze_state(&print) {
            output::Freeze::Unchanged(_) if !opts.force => {
                let version = &prepared.project.version;
                return Ok(Built::Disk(BuildReport {
                    version: version.clone(),
                    version_dir: out.join(format!("v{version}")),
                    pages: 0,
                    files: 0,
                    versions: published.listed.versions.len(),
                    elapsed: started.elapsed(),
                    unchanged: true,
                    timings: timings.phases(),
                }));
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
        // The search index is made from the sources alone: when the live version was
        // built from the same ones (and the same tminus), its index is linked, not made
        // again.
        reuse_search_index = published.lists_fingerprint(&prepared.project.version, &print);
        fingerprint = Some(print);
    }
    let built_at = Utc::now();
    // Hypercare and the live night are judged as of `build --now` when given (to replay a moment), else now.
    let pinned = match &mode {
        Mode::Disk(opts) => opts.now,
        Mode::Memory(now) | Mode::Nowhere(now) => *now,
    };
    let now = pinned.map_or(built_at, |n| n.resolve(prepared.project.zone));
    // The gated messages' states follow the decisions as of then; the delivery status is
    // the ledger's as of the real build time (what was actually sent).
    prepared.as_of = Some(now);
    read_delivery_status(&mut prepared, built_at);
    judge_hypercare(&mut prepared, now);
    live_state(&mut prepared, now);
    let project = &prepared.project;
    let mut versions = published.versions_with(project, built_at);
    if let Some(print) = fingerprint {
        if let Some(v) = versions.iter_mut().find(|v| v.version == project.version) {
            v.fingerprint = Some(print);
        }
    }
    let theme = Theme::load(project.theme_dir.as_deref())?;
    let base_url = mode.base_url(project);
    let mut site = timings.time("assemble", || {
        assemble_with(
            &prepared,
            &versions,
            built_at,
            published.previous_plan.as_ref(),
            theme,
            base_url,
        )
    });
    match mode {
        Mode::Disk(opts) => {
            // Links are checked by `check`, not here: parsing every page of a large site
            // would multiply the build time.
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
            Ok(Built::Disk(BuildReport {
                version: project.version.clone(),
                version_dir: written,
                pages: site.pages.len(),
                files: site.files.len(),
                versions: versions.len(),
                elapsed: started.elapsed(),
                unchanged: false,
                timings: timings.phases(),
            }))
        }
        Mode::Memory(_) => {
            let pages = site.render_with_search(None)?;
            let version = &project.version;
            let this_version: std::collections::BTreeSet<String> =
                site.pages.iter().map(|p| p.path.clone()).collect();
            let mut files: Vec<(String, Vec<u8>)> = pages
                .into_iter()
                .map(|(path, html)| (format!("v{version}/{path}"), html.into_bytes()))
                .collect();
            for f in std::mem::take(&mut site.files) {
                files.push((format!("v{version}/{}", f.path), f.bytes));
            }
            // The output folder's own files, as `build` writes them (the server leads
            // `latest/` to the version being edited).
            files.extend(output::root_files(
                &site.theme,
                project,
                &versions,
                &this_version,
            )?);
            let SiteFiles { theme, .. } = site;
            Ok(Built::Memory(Box::new(InMemory {
                prepared,
                theme,
                versions,
                built_at,
                files,
            })))
        }
        Mode::Nowhere(_) => {
            let pages = site.render_with_search(None)?;
            let report = links::check_internal(project, &site, &pages);
            let mut diags = Diagnostics::new();
            for d in report.errors {
                diags.push(d);
            }
            let links = report.followed;
            drop(site);
            diags.finish(Built::Nowhere(Box::new(Checked {
                prepared,
                pages,
                links,
            })))
        }
    }
}
