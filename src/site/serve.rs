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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use notify::{RecursiveMode, Watcher};
use serde::Serialize;

use super::{output, Prepared};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::project::Body;
use crate::render::{SiteInput, VersionInfo};
use crate::source::{split_front_matter, SourceFile};
use crate::templates::Theme;

/// The path the reload script polls.
pub const POLL_PATH: &str = "/__tminus/poll";
/// Build generation and error count, as JSON (for tools and tests).
pub const STATUS_PATH: &str = "/__tminus/status";

/// One error as the browser shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub source_line: Option<String>,
    pub hint: Option<String>,
}

impl From<&Diagnostic> for ErrorView {
    fn from(d: &Diagnostic) -> Self {
        ErrorView {
            file: d.file.as_ref().map(|f| f.display().to_string()),
            line: d.position.map(|p| p.line),
            column: d.position.map(|p| p.column),
            message: d.message.clone(),
            source_line: d.source_line.clone(),
            hint: d.hint.clone(),
        }
    }
}

/// Files by URL path (without the leading `/`).
type Files = HashMap<String, Arc<Vec<u8>>>;

/// What the server serves: files by URL path (without the leading `/`).
#[derive(Default)]
struct Served {
    version: String,
    files: Files,
    /// The errors of the last build, when it failed.
    errors: Option<Vec<ErrorView>>,
    /// The error box (`_build_errors.html`) or, with no good build, the error page.
    error_html: String,
}

struct Shared {
    served: RwLock<Served>,
    generation: Mutex<u64>,
    changed: Condvar,
    out: PathBuf,
    /// Counts the changes that make the search index stale: a search index made in the
    /// background is served only if none came after the one it was made for.
    search_epoch: AtomicU64,
    /// The project whose search index is to be made next (with its epoch), and whether a
    /// thread is making one: one at a time, however fast the edits come.
    search_next: Mutex<Option<(u64, crate::project::Project)>>,
    search_running: AtomicBool,
}

impl Shared {
    fn generation(&self) -> u64 {
        *self.generation.lock().expect("lock")
    }

    fn bump(&self) -> u64 {
        let mut g = self.generation.lock().expect("lock");
        *g += 1;
        self.changed.notify_all();
        *g
    }

    /// Waits until the generation differs from `since` (or `timeout` passes).
    fn wait(&self, since: u64, timeout: Duration) -> u64 {
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
pub fn start(root: &Path, out: &Path, port: u16, log: bool) -> Result<ServeHandle, String> {
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
        search_epoch: AtomicU64::new(0),
        search_next: Mutex::new(None),
        search_running: AtomicBool::new(false),
    });
    let stop = Arc::new(AtomicBool::new(false));

    let started = Instant::now();
    let mut last = match full_build(root, out) {
        Ok((build, files)) => {
            if log {
                eprintln!(
                    "built v{} in memory: {} files in {:.0} ms",
                    build.prepared.project.version,
                    files.len(),
                    started.elapsed().as_secs_f64() * 1000.0
                );
            }
            publish_files(&shared, &build.prepared.project.version, files);
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
    let mut watcher = notify::recommended_watcher(tx).map_err(|e| format!("cannot watch: {e}"))?;
    for dir in ["content", "themes"] {
        let d = root.join(dir);
        if d.is_dir() {
            watcher
                .watch(&d, RecursiveMode::Recursive)
                .map_err(|e| format!("cannot watch {}: {e}", d.display()))?;
        }
    }
    // To notice a themes/ folder created later.
    let _ = watcher.watch(root, RecursiveMode::NonRecursive);

    let mut threads = Vec::new();
    {
        let shared = shared.clone();
        let stop = stop.clone();
        let root = root.to_path_buf();
        let out = out.to_path_buf();
        threads.push(std::thread::spawn(move || {
            let mut watcher = watcher;
            let mut watching_themes = root.join("themes").is_dir();
            while !stop.load(Ordering::SeqCst) {
                let Some(changed) = next_changes(&rx, &root, &stop) else {
                    continue;
                };
                if !watching_themes && root.join("themes").is_dir() {
                    watching_themes = watcher
                        .watch(&root.join("themes"), RecursiveMode::Recursive)
                        .is_ok();
                }
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

/// Waits for file events and returns the changed paths (relative to `root`) once they
/// have been quiet for a moment: editors save in several steps.
fn next_changes(
    rx: &mpsc::Receiver<notify::Result<notify::Event>>,
    root: &Path,
    stop: &AtomicBool,
) -> Option<Vec<PathBuf>> {
    const QUIET: Duration = Duration::from_millis(8);
    const MAX_WAIT: Duration = Duration::from_millis(60);
    let first = rx.recv_timeout(Duration::from_millis(200)).ok()?;
    let mut paths = Vec::new();
    collect(first, root, &mut paths);
    let started = Instant::now();
    while started.elapsed() < MAX_WAIT && !stop.load(Ordering::SeqCst) {
        match rx.recv_timeout(QUIET) {
            Ok(ev) => collect(ev, root, &mut paths),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
    paths.sort();
    paths.dedup();
    (!paths.is_empty()).then_some(paths)
}

fn collect(ev: notify::Result<notify::Event>, root: &Path, paths: &mut Vec<PathBuf>) {
    let Ok(ev) = ev else { return };
    if matches!(ev.kind, notify::EventKind::Access(_)) {
        return;
    }
    for p in ev.paths {
        let Ok(rel) = p.strip_prefix(root) else {
            continue;
        };
        if !(rel.starts_with("content") || rel.starts_with("themes")) {
            continue;
        }
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Editors' temporary and backup files.
        if name.starts_with(".#")
            || name.ends_with('~')
            || name.ends_with(".swp")
            || name.ends_with(".swx")
            || name == "4913"
        {
            continue;
        }
        paths.push(rel.to_path_buf());
    }
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
    match full_build(root, out) {
        Ok((build, files)) => {
            let n = files.len();
            // The full build has its own index: one still being made for an edit is stale.
            shared.search_epoch.fetch_add(1, Ordering::SeqCst);
            publish_files(shared, &build.prepared.project.version, files);
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
    let path = if let Some(r) = project.runbooks.iter_mut().find(|r| r.body.file == rel) {
        r.body = body;
        format!("runbooks/{}/index.html", r.id)
    } else if let Some(g) = project.guides.iter_mut().find(|g| g.body.file == rel) {
        g.body = body;
        format!("training/{}/index.html", g.id)
    } else if let Some(p) = project.pages.iter_mut().find(|p| p.body.file == rel) {
        p.body = body;
        format!("pages/{}/index.html", p.id)
    } else {
        return None;
    };
    let input = SiteInput {
        project: &build.prepared.project,
        schedule: &build.prepared.schedule,
        comms: &build.prepared.comms,
        delivery: build.prepared.delivery.as_ref(),
        hypercare: build.prepared.hypercare.as_ref(),
        versions: &build.versions,
        built_at: build.built_at,
    };
    let job = crate::render::page_job(&input, &path)?;
    Some(
        output::render_page(&build.theme, &input, &job)
            .map(|mut html| {
                super::mark_draft(&build.prepared.project, &mut html);
                (path, html)
            })
            .map_err(Diagnostics::from),
    )
}

/// Builds the whole site in memory: `(build, files by URL path)`.
fn full_build(root: &Path, out: &Path) -> Result<(Build, Files), Diagnostics> {
    let mut prepared = super::prepare(root)?;
    // Links must stay on the local server.
    prepared.project.site.base_url.clear();
    let built_at = Utc::now();
    super::read_delivery_status(&mut prepared, built_at);
    super::judge_hypercare(&mut prepared, built_at);
    let project = &prepared.project;
    let versions = output::versions_with(out, project, built_at);
    let previous = super::previous_plan(out, &versions, &project.version);
    let theme = Theme::load(project.theme_dir.as_deref())?;
    let mut site = super::assemble_with(&prepared, &versions, built_at, previous.as_ref(), theme);
    let pages = site.render_with_search(None)?;
    let version = &project.version;
    let mut files: Files = HashMap::new();
    let this_version: std::collections::BTreeSet<String> =
        pages.iter().map(|(p, _)| p.clone()).collect();
    for (path, html) in pages {
        files.insert(format!("v{version}/{path}"), Arc::new(html.into_bytes()));
    }
    for f in &site.files {
        files.insert(format!("v{version}/{}", f.path), Arc::new(f.bytes.clone()));
    }
    let listing = output::VersionsFile {
        latest: versions.first().map(|v| v.version.clone()),
        versions: versions.clone(),
    };
    files.insert(
        "versions.js".into(),
        Arc::new(output::versions_js(&listing, project, &this_version).into_bytes()),
    );
    files.insert(
        "versions.json".into(),
        Arc::new(serde_json::to_vec_pretty(&listing).expect("serializes")),
    );
    // The root leads to the version being edited, not to the latest published one.
    let index = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url=v{version}/index.html\"><title>tminus serve</title></head><body><p><a href=\"v{version}/index.html\">{}</a></p></body></html>",
        crate::markdown::highlight::escape_html(project.site_title())
    );
    files.insert("index.html".into(), Arc::new(index.into_bytes()));
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
    let super::SiteFiles { theme, .. } = site;
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

fn publish_files(shared: &Shared, version: &str, files: Files) {
    let mut served = shared.served.write().expect("lock");
    served.version = version.to_string();
    served.files = files;
    served.errors = None;
    served.error_html.clear();
}

/// Shows `diags` in the browser; the files served stay those of the last good build.
fn publish_errors(shared: &Shared, root: &Path, diags: &Diagnostics, theme: Option<&Theme>) {
    let errors: Vec<ErrorView> = diags
        .clone()
        .into_sorted()
        .iter()
        .map(ErrorView::from)
        .collect();
    let mut served = shared.served.write().expect("lock");
    let has_previous = !served.files.is_empty();
    let loaded;
    let theme = match theme {
        Some(t) => Some(t),
        None => {
            loaded = Theme::load(theme_dir(root).as_deref()).ok();
            loaded.as_ref()
        }
    };
    served.error_html = error_html(theme, &errors, has_previous);
    served.errors = Some(errors);
}

/// The project's theme folder, for the error page when the project does not load.
fn theme_dir(root: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(root.join("content/project.yaml")).ok()?;
    let value: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
    let name = value.get("site")?.get("theme")?.as_str()?;
    let dir = root.join("themes").join(name);
    dir.is_dir().then_some(dir)
}

/// With a previous build, the error box shown above each page; without, the error page.
fn error_html(theme: Option<&Theme>, errors: &[ErrorView], has_previous: bool) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("errors", errors);
    ctx.insert("has_previous", &has_previous);
    let template = if has_previous {
        "_build_errors.html"
    } else {
        // What base.html expects, with neutral values.
        ctx.insert(
            "site",
            &serde_json::json!({"title": "tminus serve", "project": "", "system": "", "version": "",
                "status": "", "is_draft": false, "built_at": "", "timezone": "", "generator": concat!("tminus ", env!("CARGO_PKG_VERSION"))}),
        );
        ctx.insert("root", "/");
        ctx.insert("versions_root", "/");
        ctx.insert("nav", &Vec::<serde_json::Value>::new());
        ctx.insert("versions", &Vec::<serde_json::Value>::new());
        ctx.insert(
            "page",
            &serde_json::json!({"path": "", "section": "error", "title": "Build failed"}),
        );
        ctx.insert("support", &serde_json::json!({}));
        "error.html"
    };
    if let Some(html) = theme.and_then(|t| t.tera.render(template, &ctx).ok()) {
        return html;
    }
    // The theme itself is broken: plain HTML.
    let esc = crate::markdown::highlight::escape_html;
    let mut html = String::from("<section id=\"tminus-build-errors\" role=\"alert\" style=\"font-family:sans-serif;border:3px solid #b00020;padding:1rem;margin:1rem\"><h2>Build failed</h2><ol>");
    for e in errors {
        let at = match (&e.file, e.line, e.column) {
            (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}: "),
            (Some(f), Some(l), None) => format!("{f}:{l}: "),
            (Some(f), None, _) => format!("{f}: "),
            _ => String::new(),
        };
        html.push_str(&format!(
            "<li><strong>{}</strong>{}",
            esc(&at),
            esc(&e.message)
        ));
        if let Some(s) = &e.source_line {
            html.push_str(&format!("<pre>{}</pre>", esc(s)));
        }
        if let Some(h) = &e.hint {
            html.push_str(&format!("<div>hint: {}</div>", esc(h)));
        }
        html.push_str("</li>");
    }
    html.push_str("</ol></section>");
    if has_previous {
        html
    } else {
        format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Build failed</title></head><body>{html}</body></html>")
    }
}

/// The live-reload script, for a page served at generation `generation`.
fn reload_script(generation: u64) -> String {
    format!(
        "<script>/* tminus serve: live reload */(function(){{var g={generation};\
function poll(){{fetch(\"{POLL_PATH}?since=\"+g,{{cache:\"no-store\"}}).then(function(r){{return r.json();}})\
.then(function(d){{if(d.generation!==g){{location.reload();}}else{{poll();}}}})\
.catch(function(){{setTimeout(poll,1000);}});}}poll();}})();</script>"
    )
}

/// Inserts `script` before `</body>` (or at the end) and `banner` after `<body…>`.
fn inject(html: &str, banner: Option<&str>, script: &str) -> String {
    let mut out = String::with_capacity(html.len() + script.len() + banner.map_or(0, str::len));
    let lower = html.to_ascii_lowercase();
    let body_open = banner.and_then(|_| {
        let at = lower.find("<body")?;
        Some(at + lower[at..].find('>')? + 1)
    });
    let body_close = lower.rfind("</body>").unwrap_or(html.len());
    match (banner, body_open) {
        (Some(b), Some(at)) if at <= body_close => {
            out.push_str(&html[..at]);
            out.push_str(b);
            out.push_str(&html[at..body_close]);
        }
        (Some(b), _) => {
            out.push_str(b);
            out.push_str(&html[..body_close]);
        }
        (None, _) => out.push_str(&html[..body_close]),
    }
    out.push_str(script);
    out.push_str(&html[body_close..]);
    out
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "ics" => "text/calendar; charset=utf-8",
        "eml" => "message/rfc822",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" | "md" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

fn respond(request: tiny_http::Request, status: u16, ctype: &str, body: Vec<u8>) {
    let response = tiny_http::Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Content-Type", ctype))
        .with_header(header("Cache-Control", "no-store"));
    let _ = request.respond(response);
}

fn handle(shared: &Shared, request: tiny_http::Request) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    if path == POLL_PATH {
        let since = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("since="))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let g = shared.wait(since, Duration::from_secs(25));
        let body = format!("{{\"generation\":{g}}}");
        return respond(request, 200, "application/json", body.into_bytes());
    }
    if path == STATUS_PATH {
        let served = shared.served.read().expect("lock");
        let body = serde_json::json!({
            "generation": shared.generation(),
            "version": served.version,
            "errors": served.errors.as_ref().map_or(0, Vec::len),
        });
        drop(served);
        return respond(
            request,
            200,
            "application/json",
            body.to_string().into_bytes(),
        );
    }
    let decoded = percent_decode(path.trim_start_matches('/'));
    if decoded.split('/').any(|s| s == ".." || s.contains('\\')) {
        return respond(request, 400, "text/plain", b"bad path".to_vec());
    }
    let generation = shared.generation();
    let served = shared.served.read().expect("lock");
    let version = served.version.clone();
    let mut key = if decoded.is_empty() {
        "index.html".to_string()
    } else {
        decoded
    };
    if let Some(rest) = key.strip_prefix("latest/") {
        key = format!("v{version}/{rest}");
    }
    if key.ends_with('/') {
        key.push_str("index.html");
    }
    let script = reload_script(generation);
    // With no good build at all, every page is the error page.
    if served.files.is_empty() {
        let html = inject(&served.error_html, None, &script);
        return respond(request, 500, "text/html; charset=utf-8", html.into_bytes());
    }
    let banner = served.errors.as_ref().map(|_| served.error_html.as_str());
    let found = served.files.get(&key).cloned().or_else(|| {
        // Another version, from the output folder (read only).
        (!key.starts_with(&format!("v{version}/")))
            .then(|| std::fs::read(shared.out.join(&key)).ok().map(Arc::new))
            .flatten()
    });
    match found {
        Some(bytes) => {
            let ctype = content_type(&key);
            if ctype.starts_with("text/html") {
                let html = inject(&String::from_utf8_lossy(&bytes), banner, &script);
                respond(request, 200, ctype, html.into_bytes())
            } else {
                respond(request, 200, ctype, bytes.to_vec())
            }
        }
        None if served.files.contains_key(&format!("{key}/index.html")) => {
            let location = format!("{}/", path);
            let response =
                tiny_http::Response::empty(301).with_header(header("Location", &location));
            let _ = request.respond(response);
        }
        None => {
            let not_found = served
                .files
                .get(&format!("v{version}/404.html"))
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_else(|| {
                    "<!DOCTYPE html><html><body><h1>Not found</h1></body></html>".into()
                });
            // The 404 page's links are relative to the version root.
            let not_found =
                not_found.replacen("<head>", &format!("<head><base href=\"/v{version}/\">"), 1);
            let html = inject(&not_found, banner, &script);
            respond(request, 404, "text/html; charset=utf-8", html.into_bytes())
        }
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_before_body_end_and_the_banner_after_body_start() {
        let html = "<html><body class=\"x\"><p>hi</p></body></html>";
        let out = inject(html, Some("<b>ERR</b>"), "<script>s</script>");
        assert_eq!(
            out,
            "<html><body class=\"x\"><b>ERR</b><p>hi</p><script>s</script></body></html>"
        );
        assert_eq!(inject("<p>x</p>", None, "<s>"), "<p>x</p><s>");
    }

    #[test]
    fn errors_render_with_file_line_and_hint_even_without_a_theme() {
        let e = ErrorView {
            file: Some("content/cutover.yaml".into()),
            line: Some(3),
            column: Some(5),
            message: "unknown key `duraton`".into(),
            source_line: Some("    duraton: 30m".into()),
            hint: Some("did you mean `duration`?".into()),
        };
        let theme = Theme::load(None).unwrap();
        for t in [Some(&theme), None] {
            for prev in [true, false] {
                let html = error_html(t, std::slice::from_ref(&e), prev);
                assert!(html.contains("cutover.yaml:3:5"), "{html}");
                assert!(html.contains("did you mean `duration`?"), "{html}");
            }
        }
    }
}
