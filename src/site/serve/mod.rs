//! `tminus serve`: build in memory, serve on 127.0.0.1, rebuild and reload the browser on
//! every change under `content/` or `themes/`.
//!
//! - **Nothing is written.** The site is built into memory and served from there; the
//!   project's `output/` folder is only read, for the other versions (the switcher works)
//!   and the previous version's plan ("what changed"). `tminus build` publishes.
//! - **Live reload** is a long poll: every served HTML page gets a small script, injected
//!   into the response only (never into files), that asks `/__tminus/poll?since=<n>` and
//!   reloads the page when the build generation moves on. A long poll needs no streaming
//!   support from the HTTP server and works through any proxy.
//! - **Incremental**: the last build (project, schedule, comms, theme) stays in memory. When
//!   a change is only the Markdown body of one runbook, guide or page — its front matter
//!   is byte for byte the same, so its id, title, order and everything listed elsewhere are
//!   unchanged — only that page is rendered again. Anything else (front matter, YAML,
//!   comms, theme, several files, a new or deleted file) is a full rebuild in memory.
//! - **Errors**: a failed build keeps the last good site in memory and every HTML page
//!   shows the errors (file, line, column, source line, hint) in a box above it; with no
//!   good build yet, pages are the error page. Fixing the file reloads the browser.
//! - `site.base_url` is ignored while serving, so links stay on the local server.
//!
//! (Over 600 lines: the watcher, the incremental rebuild and the HTTP handler share the
//! served state and its lock; the build itself is `super::run` with `Mode::Memory`.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{output, Prepared};
use crate::diagnostics::Diagnostics;
use crate::project::Body;
use crate::render::{Document, SiteInput, VersionInfo};
use crate::source::{split_front_matter, SourceFile};
use crate::templates::Theme;

mod errors;
mod http;
mod watch;

use errors::publish_errors;
pub use errors::ErrorView;
use http::handle;
use watch::{next_changes, ProjectWatch};

/// The path the reload script polls.
pub const POLL_PATH: &str = "/__tminus/poll";
/// Build generation and error count, as JSON (for tools and tests).
pub const STATUS_PATH: &str = "/__tminus/status";

/// Files by URL path (without the leading `/`).
type Files = HashMap<String, Arc<Vec<u8>>>;

/// What the server serves: files by URL path (without the leading `/`).
#[derive(Default)]
pub(super) struct Served {
    version: String,
    /// The other versions of the switcher: their files are read from the output folder.
    other_versions: Vec<String>,
    files: Files,
    /// The errors of the last build, when it failed.
    errors: Option<Vec<ErrorView>>,
    /// The error box (`_build_errors.html`) or, with no good build, the error page.
    error_html: String,
}

pub(super) struct Shared {
    served: RwLock<Served>,
    generation: Mutex<u64>,
    changed: Condvar,
    out: PathBuf,
    /// `serve --now`: every build shows the site as of this instant.
    now: Option<super::Now>,
    /// Counts the changes that make the search index stale: a search index made in the
    /// background is served only if none came after the one it was made for.
    search_epoch: AtomicU64,
    /// The project whose search index is to be made next (with its epoch), and whether a
    /// thread is making one: one at a time, however fast the edits come.
    search_next: Mutex<Option<(u64, crate::project::Project)>>,
    search_running: AtomicBool,
}

impl Shared {
    pub(super) fn generation(&self) -> u64 {
        *self.generation.lock().expect("lock")
    }

    fn bump(&self) -> u64 {
        let mut g = self.generation.lock().expect("lock");
        *g += 1;
        self.changed.notify_all();
        *g
    }

    /// Waits until the generation differs from `since` (or `timeout` passes).
    pub(super) fn wait(&self, since: u64, timeout: Duration) -> u64 {
        let g = self.generation.lock().expect("lock");
        let (g, _) = self
            .changed
            .wait_timeout_while(g, timeout, |g| *g == since)
            .expect("lock");
        *g
    }
}

/// The last good build, kept for incremental rebuilds.
struct Build {
    prepared: Prepared,
    theme: Theme,
    versions: Vec<VersionInfo>,
    built_at: DateTime<Utc>,
    /// Front matter text of every runbook, guide and page, by file (relative to the root).
    front_matter: HashMap<PathBuf, String>,
}

/// A running server.
pub struct ServeHandle {
    port: u16,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl ServeHandle {
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The build generation: 1 after the first build, +1 per rebuild (good or failed).
    pub fn generation(&self) -> u64 {
        self.shared.generation()
    }

    /// Waits for a generation other than `since`; returns the generation then.
    pub fn wait_for_change(&self, since: u64, timeout: Duration) -> u64 {
        self.shared.wait(since, timeout)
    }

    /// Blocks until the server stops (never, for `tminus serve`, short of Ctrl-C).
    pub fn join(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
        self.shared.bump();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Builds the project in `root` and serves it on `127.0.0.1:port` (0: any free port).
/// `out` is the output folder, read for the other versions. With `log`, each rebuild is
/// reported on stderr.
///
/// The root is made canonical once, here: file events come with absolute paths, and are
/// matched against it (`tminus serve` run inside the project, or with a relative `--root`).
pub fn start(
    root: &Path,
    out: &Path,
    port: u16,
    log: bool,
    now: Option<super::Now>,
) -> Result<ServeHandle, String> {
    let root = &std::fs::canonicalize(root)
        .map_err(|e| format!("cannot open the project folder {}: {e}", root.display()))?;
    let out = &std::path::absolute(out)
        .map_err(|e| format!("cannot use the output folder {}: {e}", out.display()))?;
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .unwrap_or(port);
    let server = Arc::new(server);
    let shared = Arc::new(Shared {
        served: RwLock::new(Served::default()),
        generation: Mutex::new(0),
        changed: Condvar::new(),
        out: out.to_path_buf(),
        now,
        search_epoch: AtomicU64::new(0),
        search_next: Mutex::new(None),
        search_running: AtomicBool::new(false),
    });
    let stop = Arc::new(AtomicBool::new(false));

    let started = Instant::now();
    let mut last = match full_build(root, out, now) {
        Ok((build, files)) => {
            if log {
                eprintln!(
                    "built v{} in memory: {} files in {:.0} ms",
                    build.prepared.project.version,
                    files.len(),
                    started.elapsed().as_secs_f64() * 1000.0
                );
            }
            publish_files(&shared, &build, files);
            Some(build)
        }
        Err(d) => {
            if log {
                eprintln!("{d}");
            }
            publish_errors(&shared, root, &d, None);
            None
        }
    };
    shared.bump();

    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let watch = ProjectWatch::new(root, tx)?;

    let mut threads = Vec::new();
    {
        let shared = shared.clone();
        let stop = stop.clone();
        let root = root.to_path_buf();
        let out = out.to_path_buf();
        threads.push(std::thread::spawn(move || {
            let mut watch = watch;
            while !stop.load(Ordering::SeqCst) {
                let Some(changed) = next_changes(&rx, &root, &stop) else {
                    continue;
                };
                watch.rearm(&changed);
                let t = Instant::now();
                let outcome = rebuild(&root, &out, &mut last, &changed, &shared);
                let g = shared.bump();
                if log {
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    match outcome {
                        Ok(what) => eprintln!("[{g}] {what} in {ms:.0} ms"),
                        Err(n) => eprintln!(
                            "[{g}] build failed ({n} error{}); the last good site is still served",
                            if n == 1 { "" } else { "s" }
                        ),
                    }
                }
            }
        }));
    }
    {
        let server = server.clone();
        let shared = shared.clone();
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || loop {
            let request = match server.recv() {
                Ok(r) => r,
                Err(_) => break,
            };
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let shared = shared.clone();
            std::thread::spawn(move || handle(&shared, request));
        }));
    }
    Ok(ServeHandle {
        port,
        shared,
        stop,
        server,
        threads,
    })
}

/// Rebuilds after `changed`: one page when that is safe, else everything. Returns what was
/// done, or the number of errors.
fn rebuild(
    root: &Path,
    out: &Path,
    last: &mut Option<Build>,
    changed: &[PathBuf],
    shared: &Arc<Shared>,
) -> Result<String, usize> {
    if let (Some(build), [one]) = (last.as_mut(), changed) {
        if let Some(result) = incremental(root, build, one) {
            return match result {
                Ok((path, html)) => {
                    let version = build.prepared.project.version.clone();
                    {
                        let mut served = shared.served.write().expect("lock");
                        served
                            .files
                            .insert(format!("v{version}/{path}"), Arc::new(html.into_bytes()));
                        served.errors = None;
                    }
                    refresh_search_index(shared, &build.prepared.project);
                    Ok(format!("re-rendered {path} ({})", one.display()))
                }
                Err(d) => {
                    publish_errors(shared, root, &d, Some(&build.theme));
                    Err(d.len())
                }
            };
        }
    }
    match full_build(root, out, shared.now) {
        Ok((build, files)) => {
            let n = files.len();
            // The full build has its own index: one still being made for an edit is stale.
            shared.search_epoch.fetch_add(1, Ordering::SeqCst);
            publish_files(shared, &build, files);
            *last = Some(build);
            Ok(format!("rebuilt everything ({n} files)"))
        }
        Err(d) => {
            publish_errors(shared, root, &d, last.as_ref().map(|b| &b.theme));
            Err(d.len())
        }
    }
}

/// Makes the search index of `project` again in the background after a page was
/// re-rendered alone (at 10,000 pages it takes a second or two; the page is served at
/// once) and serves it unless another change came meanwhile. One thread at a time: edits
/// made while it works are folded into its next round.
fn refresh_search_index(shared: &Arc<Shared>, project: &crate::project::Project) {
    let epoch = shared.search_epoch.fetch_add(1, Ordering::SeqCst) + 1;
    *shared.search_next.lock().expect("lock") = Some((epoch, project.clone()));
    if shared.search_running.swap(true, Ordering::SeqCst) {
        return;
    }
    let shared = shared.clone();
    std::thread::spawn(move || loop {
        let next = shared.search_next.lock().expect("lock").take();
        let Some((epoch, project)) = next else {
            shared.search_running.store(false, Ordering::SeqCst);
            // A project may have come between `take` and `store`: go on if no other
            // thread took it up.
            if shared.search_next.lock().expect("lock").is_some()
                && !shared.search_running.swap(true, Ordering::SeqCst)
            {
                continue;
            }
            return;
        };
        let js = crate::search::index_js(&project);
        let mut served = shared.served.write().expect("lock");
        if shared.search_epoch.load(Ordering::SeqCst) == epoch {
            let path = format!("v{}/{}", project.version, super::SEARCH_INDEX);
            served.files.insert(path, Arc::new(js));
        }
    });
}

/// Re-renders the page of `rel` when only its Markdown body changed; `None` when a full
/// rebuild is needed.
fn incremental(
    root: &Path,
    build: &mut Build,
    rel: &Path,
) -> Option<Result<(String, String), Diagnostics>> {
    let old_fm = build.front_matter.get(rel)?;
    let file = SourceFile::read(root, rel).ok()?;
    let split = split_front_matter(&file).ok()?;
    if split.yaml != old_fm {
        return None;
    }
    let body = Body {
        markdown: split.body.to_string(),
        file: rel.to_path_buf(),
        first_line: split.body_line,
    };
    let project = &mut build.prepared.project;
    let document = if let Some(i) = project.runbooks.iter().position(|r| r.body.file == rel) {
        project.runbooks[i].body = body;
        Document::Runbook(i)
    } else if let Some(i) = project.guides.iter().position(|g| g.body.file == rel) {
        project.guides[i].body = body;
        Document::Guide(i)
    } else if let Some(i) = project.pages.iter().position(|p| p.body.file == rel) {
        project.pages[i].body = body;
        Document::Page(i)
    } else {
        return None;
    };
    let input = SiteInput {
        // Links stay on the local server.
        base_url: "",
        project: &build.prepared.project,
        schedule: &build.prepared.schedule,
        comms: &build.prepared.comms,
        delivery: build.prepared.delivery.as_ref(),
        hypercare: build.prepared.hypercare.as_ref(),
        live: build.prepared.live.as_ref(),
        as_of: build.prepared.as_of,
        rehearsals: &build.prepared.rehearsals,
        calendar_sequences: &build.prepared.calendar_sequences,
        session_sequences: &build.prepared.session_sequences,
        versions: &build.versions,
        built_at: build.built_at,
    };
    let job = crate::render::document_job(&input, document);
    let path = job.path.clone();
    Some(
        output::render_page(&build.theme, &input, &job)
            .map(|mut html| {
                super::mark_draft(&build.prepared.project, &mut html);
                (path, html)
            })
            .map_err(Diagnostics::from),
    )
}

/// Builds the whole site in memory (the one build sequence, [`super::run`]):
/// `(build, files by URL path)`.
fn full_build(
    root: &Path,
    out: &Path,
    now: Option<super::Now>,
) -> Result<(Build, Files), Diagnostics> {
    let super::InMemory {
        prepared,
        theme,
        versions,
        built_at,
        files,
    } = super::build_in_memory(root, out, now)?;
    let files: Files = files
        .into_iter()
        .map(|(path, bytes)| (path, Arc::new(bytes)))
        .collect();
    let project = &prepared.project;
    let mut front_matter = HashMap::new();
    let bodies = project
        .runbooks
        .iter()
        .map(|r| &r.body.file)
        .chain(project.guides.iter().map(|g| &g.body.file))
        .chain(project.pages.iter().map(|p| &p.body.file));
    for rel in bodies {
        if let Ok(file) = SourceFile::read(root, rel) {
            if let Ok(split) = split_front_matter(&file) {
                front_matter.insert(rel.clone(), split.yaml.to_string());
            }
        }
    }
    Ok((
        Build {
            prepared,
            theme,
            versions,
            built_at,
            front_matter,
        },
        files,
    ))
}

fn publish_files(shared: &Shared, build: &Build, files: Files) {
    let version = &build.prepared.project.version;
    let mut served = shared.served.write().expect("lock");
    served.version = version.clone();
    served.other_versions = build
        .versions
        .iter()
        .map(|v| v.version.clone())
        .filter(|v| v != version)
        .collect();
    served.files = files;
    served.errors = None;
    served.error_html.clear();
}
