//! Link checking: every internal link and `#anchor` of the rendered site must resolve, and
//! with `--external` every external link must answer.
//!
//! Each rendered page is parsed with an HTML parser (`scraper`); its `id`s (and `<a name>`)
//! are its anchors, its `href`/`src` attributes its links. A relative link is resolved
//! against the page's path; it must reach a page or file of the version, and its
//! `#anchor` must exist on the target page. Links that leave the version folder for the
//! shared files (`../versions.js`, `../index.html`) or another version (`../v1.1/…`) are
//! not followed: other versions are frozen and checked when they were built.
//!
//! A broken link written by an author (in the Markdown of a runbook, guide or page, or the
//! project description) is reported at its source file, line and column with its text;
//! any other broken link comes from the theme and is reported once per template and
//! target. Email previews sit in `<iframe srcdoc>` attributes, so their links are not
//! part of the page: they belong to the email and only `--external` checks them.
//!
//! (Over 600 lines, a fifth of them tests: internal and external checking share the
//! scanner, the resolver and the list of authored links, so they stay in one file.)

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use rayon::prelude::*;
use scraper::{Html, Selector};

use super::SiteFiles;
use crate::diagnostics::{did_you_mean, Diagnostic, Position};
use crate::project::Project;
use crate::urlpath::percent_decode;

/// What a page holds for the link checker.
#[derive(Debug, Default)]
pub struct Scanned {
    pub ids: HashSet<String>,
    /// `(href, text)`.
    pub links: Vec<(String, String)>,
}

static IDS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("[id], a[name]").unwrap());
static HREFS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("a[href], area[href], link[href]").unwrap());
static SRCS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("img[src], script[src], iframe[src], source[src], audio[src], video[src]")
        .unwrap()
});

/// Parses one page.
pub fn scan(html: &str) -> Scanned {
    let doc = Html::parse_document(html);
    let mut out = Scanned::default();
    for el in doc.select(&IDS) {
        for attr in ["id", "name"] {
            if let Some(v) = el.value().attr(attr) {
                out.ids.insert(v.to_string());
            }
        }
    }
    for el in doc.select(&HREFS) {
        let text = el.text().collect::<Vec<_>>().join(" ");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        out.links
            .push((el.value().attr("href").unwrap_or("").to_string(), text));
    }
    for el in doc.select(&SRCS) {
        let text = el
            .value()
            .attr("alt")
            .unwrap_or(el.value().name())
            .to_string();
        out.links
            .push((el.value().attr("src").unwrap_or("").to_string(), text));
    }
    out
}

/// Where a link leads.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// `http(s)://…`: only `--external` follows it.
    External(String),
    /// `mailto:`, `tel:`, `data:`, … and empty links.
    Skip,
    /// A path of this version, and the anchor.
    Site {
        path: String,
        fragment: Option<String>,
    },
    /// Outside the version folder, to the shared files or another version: not followed.
    Outside,
    /// Cannot work; the reason.
    Invalid(String),
}

/// Resolves `href` found on the page at `page` (a path under the version root).
/// `base` is `{site.base_url}` and the version, when the site has absolute links.
pub fn resolve(page: &str, href: &str, base: Option<(&str, &str)>) -> Target {
    let href = href.trim();
    if href.is_empty() {
        return Target::Skip;
    }
    let mut rel_to_root = false;
    let mut href = href.to_string();
    if let Some((base_url, version)) = base {
        if let Some(rest) = href.strip_prefix(&format!("{base_url}/")) {
            let rest = normalize_dots(rest);
            match rest.strip_prefix(&format!("v{version}/")) {
                Some(inside) => {
                    href = inside.to_string();
                    rel_to_root = true;
                }
                None => return Target::Outside,
            }
        }
    }
    if let Some(colon) = href.find(':') {
        let scheme = &href[..colon];
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            let scheme = scheme.to_ascii_lowercase();
            return if scheme == "http" || scheme == "https" {
                Target::External(href)
            } else {
                Target::Skip
            };
        }
    }
    if href.starts_with("//") {
        return Target::External(format!("https:{href}"));
    }
    let (path_query, fragment) = match href.split_once('#') {
        Some((p, f)) => (p, Some(percent_decode(f))),
        None => (href.as_str(), None),
    };
    let path = path_query.split('?').next().unwrap_or("");
    if path.is_empty() {
        return Target::Site {
            path: page.to_string(),
            fragment,
        };
    }
    if path.starts_with('/') {
        return Target::Invalid(
            "a link from the server root (`/…`) breaks when the site is opened from disk or \
             served under a sub-path"
                .into(),
        );
    }
    let path = percent_decode(path);
    let mut segments: Vec<&str> = if rel_to_root {
        Vec::new()
    } else {
        let mut s: Vec<&str> = page.split('/').collect();
        s.pop();
        s
    };
    let mut above = 0usize;
    let parts: Vec<&str> = path.split('/').collect();
    let last = parts.len() - 1;
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            "." => {}
            ".." => {
                if segments.pop().is_none() {
                    above += 1;
                }
            }
            "" if i == last => segments.push("index.html"),
            "" => {}
            s => {
                if above > 0 && segments.is_empty() && i < last {
                    // Leaving the version folder: `../v1.1/…`, `../latest/…`.
                    return if s.starts_with('v') || s == "latest" {
                        Target::Outside
                    } else {
                        Target::Invalid("it leaves the version folder".into())
                    };
                }
                segments.push(s);
            }
        }
    }
    if above > 0 {
        let name = segments.first().copied().unwrap_or("");
        return if above == 1
            && segments.len() == 1
            && ["versions.js", "versions.json", "index.html", "404.html"].contains(&name)
        {
            Target::Outside
        } else {
            Target::Invalid("it leaves the version folder".into())
        };
    }
    Target::Site {
        path: segments.join("/"),
        fragment,
    }
}

fn normalize_dots(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            ".." => {
                out.pop();
            }
            "." => {}
            s => out.push(s),
        }
    }
    out.join("/")
}

/// A link written in a source file.
struct Written {
    file: PathBuf,
    /// Line and column in the file, when the text came from a file body.
    position: Option<Position>,
    dest: String,
    href: String,
    text: String,
}

/// The links each page's authored Markdown contains, by page path.
fn authored(project: &Project, site: &SiteFiles) -> HashMap<String, Vec<Written>> {
    let roots: HashMap<&str, String> = site
        .pages
        .iter()
        .map(|j| (j.path.as_str(), site.input.root(&j.path)))
        .collect();
    let mut out: HashMap<String, Vec<Written>> = HashMap::new();
    let mut add =
        |page: &str, file: &std::path::Path, markdown: &str, first_line: Option<usize>| {
            let root = roots.get(page).cloned().unwrap_or_default();
            let list = out.entry(page.to_string()).or_default();
            for l in crate::markdown::links(markdown) {
                let position = first_line.map(|first| {
                    let before = &markdown[..l.offset];
                    let line = first + before.matches('\n').count();
                    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                    Position::new(line, column)
                });
                list.push(Written {
                    file: file.to_path_buf(),
                    position,
                    href: crate::markdown::rendered_href(&l.dest, &root),
                    dest: l.dest,
                    text: l.text,
                });
            }
        };
    for r in &project.runbooks {
        let page = crate::urls::runbook(&r.id);
        add(
            &page,
            &r.body.file,
            &r.body.markdown,
            Some(r.body.first_line),
        );
        // Steps' validation and rollback are Markdown too (in the front matter: no position).
        for step in &r.steps {
            for text in [&step.spec.validation, &step.spec.rollback]
                .into_iter()
                .flatten()
            {
                add(&page, &r.body.file, text, None);
            }
        }
    }
    for g in &project.guides {
        let page = crate::urls::guide(&g.id);
        add(
            &page,
            &g.body.file,
            &g.body.markdown,
            Some(g.body.first_line),
        );
    }
    for p in &project.pages {
        let page = crate::urls::page(&p.id);
        add(
            &page,
            &p.body.file,
            &p.body.markdown,
            Some(p.body.first_line),
        );
    }
    if let Some(d) = &project.description {
        add(
            "index.html",
            std::path::Path::new("content/project.yaml"),
            d,
            None,
        );
    }
    out
}

/// The result of checking the internal links of a version.
#[derive(Debug, Default)]
pub struct LinkReport {
    pub errors: Vec<Diagnostic>,
    /// How many internal links were followed.
    pub followed: usize,
}

/// Checks every internal link and anchor of the rendered `pages`.
pub fn check_internal(
    project: &Project,
    site: &SiteFiles,
    pages: &[(String, String)],
) -> LinkReport {
    let scanned: HashMap<&str, Scanned> = pages
        .par_iter()
        .map(|(path, html)| (path.as_str(), scan(html)))
        .collect();
    let files: HashSet<&str> = site.files.iter().map(|f| f.path.as_str()).collect();
    let templates: HashMap<&str, &str> = site
        .pages
        .iter()
        .map(|j| (j.path.as_str(), j.template))
        .collect();
    let base_url = project.site.base_url.trim().trim_end_matches('/');
    let base = (!base_url.is_empty()).then_some((base_url, project.version.as_str()));
    let authored = authored(project, site);

    let mut report = LinkReport::default();
    // Theme problems, grouped: (template, target, reason) → pages.
    let mut theme: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    let mut page_paths: Vec<&str> = scanned.keys().copied().collect();
    page_paths.sort_unstable();
    for page in page_paths {
        let s = &scanned[page];
        for (href, text) in &s.links {
            let problem = match resolve(page, href, base) {
                Target::External(_) | Target::Skip | Target::Outside => continue,
                Target::Invalid(reason) => (href.clone(), reason, None),
                Target::Site { path, fragment } => {
                    report.followed += 1;
                    match problem_with(&path, fragment.as_deref(), &scanned, &files) {
                        None => continue,
                        Some((reason, hint)) => (path, reason, hint),
                    }
                }
            };
            let (target, reason, hint) = problem;
            let written = authored.get(page).and_then(|list| {
                list.iter()
                    .find(|w| percent_decode(&w.href) == percent_decode(href))
            });
            match written {
                Some(w) => {
                    let shown = if w.text.is_empty() { text } else { &w.text };
                    let mut d = Diagnostic::new(format!(
                        "broken link [{shown}]({}) on page {}: {reason}",
                        w.dest,
                        page_dir(page)
                    ))
                    .in_file(&w.file)
                    .at(w.position)
                    .with_source_line(source_line(project, w));
                    d = d.with_hint(hint.unwrap_or_else(|| {
                        "link to another page with `@/` and its site path, e.g. \
                         `[Rollback](@/runbooks/rollback#step-2)`"
                            .into()
                    }));
                    report.errors.push(d);
                }
                None => {
                    let template = templates.get(page).copied().unwrap_or("?").to_string();
                    theme
                        .entry((template, target, reason))
                        .or_default()
                        .push(page.to_string());
                }
            }
        }
    }
    report.errors.extend(comms_site_links(
        project,
        base,
        &scanned,
        &files,
        &mut report.followed,
    ));
    for ((template, target, reason), pages) in theme {
        let example = &pages[0];
        let more = if pages.len() > 1 {
            format!(" and {} more page(s)", pages.len() - 1)
        } else {
            String::new()
        };
        report.errors.push(
            Diagnostic::new(format!(
                "theme error: template {template} links to `{target}` on page {example}{more}: {reason}"
            ))
            .with_hint("fix the link in the theme template (built-in, or your override under themes/)"),
        );
    }
    report
}

/// `@/` links in comms templates: emails go to mail clients, so they need the site's
/// address (`site.base_url`), and each must lead to a page of this version.
fn comms_site_links(
    project: &Project,
    base: Option<(&str, &str)>,
    scanned: &HashMap<&str, Scanned>,
    files: &HashSet<&str>,
    followed: &mut usize,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for m in &project.messages {
        let markdown = &m.body.markdown;
        for l in crate::markdown::links(markdown) {
            let Some(rest) = l.dest.strip_prefix("@/") else {
                continue;
            };
            let before = &markdown[..l.offset];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let position = Position::new(
                m.body.first_line + before.matches('\n').count(),
                before[line_start..].chars().count() + 1,
            );
            let source = markdown[line_start..].lines().next().map(str::to_string);
            let error = |message: String, hint: String| {
                Diagnostic::new(message)
                    .in_file(&m.body.file)
                    .at(Some(position))
                    .with_source_line(source.clone())
                    .with_hint(hint)
            };
            if base.is_none() {
                errors.push(error(
                    format!("[{}]({}) links to the site, but emails have no page to be relative to", l.text, l.dest),
                    "set `site.base_url` in project.yaml (e.g. https://golive.contoso.example/): `@/` links in emails then point to its latest/ version".into(),
                ));
                continue;
            }
            *followed += 1;
            let href = crate::markdown::internal_link(rest, "");
            let (path, fragment) = match href.split_once('#') {
                Some((p, f)) => (p.to_string(), Some(f.to_string())),
                None => (href.clone(), None),
            };
            if let Some((reason, hint)) = problem_with(&path, fragment.as_deref(), scanned, files) {
                errors.push(error(
                    format!(
                        "broken link [{}]({}) in message {}: {reason}",
                        l.text, l.dest, m.id
                    ),
                    hint.unwrap_or_else(|| {
                        "link to a page with `@/` and its site path, e.g. `[FAQ](@/training/faq)`"
                            .into()
                    }),
                ));
            }
        }
    }
    errors
}

/// Why `path#fragment` does not resolve, with a hint; `None` when it does.
fn problem_with(
    path: &str,
    fragment: Option<&str>,
    scanned: &HashMap<&str, Scanned>,
    files: &HashSet<&str>,
) -> Option<(String, Option<String>)> {
    let page = scanned
        .get(path)
        .or_else(|| scanned.get(format!("{path}/index.html").as_str()));
    match page {
        Some(target) => {
            let f = fragment.filter(|f| !f.is_empty() && *f != "top")?;
            if target.ids.contains(f) {
                return None;
            }
            let mut ids: Vec<&str> = target.ids.iter().map(String::as_str).collect();
            ids.sort_unstable();
            let hint = match did_you_mean(f, ids.iter().copied()) {
                Some(s) => format!("did you mean `#{s}`?"),
                None => format!(
                    "anchors on that page: {}",
                    ids.iter().take(12).copied().collect::<Vec<_>>().join(", ")
                ),
            };
            Some((
                format!("{} has no anchor `#{f}`", page_dir(path)),
                Some(hint),
            ))
        }
        None if files.contains(path) => None,
        None => {
            let mut known: Vec<&str> = scanned.keys().copied().collect();
            known.sort_unstable();
            let wanted = page_dir(path);
            let dirs: Vec<String> = known.iter().map(|k| page_dir(k)).collect();
            // A typo: a page whose path is at most a few edits away.
            let hint = wanted
                .ends_with('/')
                .then(|| {
                    dirs.iter()
                        .map(|d| (strsim::levenshtein(&wanted, d), d))
                        .filter(|(n, _)| *n <= 3)
                        .min()
                        .map(|(_, d)| format!("did you mean `@/{}`?", d.trim_end_matches('/')))
                })
                .flatten();
            Some((format!("there is no page `{wanted}` in the site"), hint))
        }
    }
}

/// `runbooks/deploy/index.html` → `runbooks/deploy/`, as people name pages.
fn page_dir(path: &str) -> String {
    match path.strip_suffix("index.html") {
        Some("") => "the dashboard (index.html)".into(),
        Some(dir) => dir.to_string(),
        None => path.to_string(),
    }
}

fn source_line(project: &Project, w: &Written) -> Option<String> {
    let line = w.position?.line;
    let text = crate::source::SourceFile::read(&project.root, &w.file)
        .ok()?
        .text;
    text.lines().nth(line - 1).map(str::to_string)
}

/// External links of the site and of the emails: URL → where it appears.
pub fn external_links(
    project: &Project,
    pages: &[(String, String)],
    comms: &[crate::render::CommsEntry],
) -> BTreeMap<String, Vec<String>> {
    let base_url = project.site.base_url.trim().trim_end_matches('/');
    let base = (!base_url.is_empty()).then_some((base_url, project.version.as_str()));
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let scans: Vec<(&str, Scanned)> = pages
        .par_iter()
        .map(|(p, html)| (p.as_str(), scan(html)))
        .collect();
    for (page, s) in scans {
        for (href, _) in s.links {
            if let Target::External(url) = resolve(page, &href, base) {
                let url = url.split('#').next().unwrap_or(&url).to_string();
                out.entry(url).or_default().push(page_dir(page));
            }
        }
    }
    let mut seen = HashSet::new();
    for e in comms {
        if !seen.insert((e.message.id.clone(), e.message.locale.clone())) {
            continue;
        }
        for (href, _) in scan(&e.preview.html).links {
            if let Target::External(url) = resolve("", &href, None) {
                let url = url.split('#').next().unwrap_or(&url).to_string();
                out.entry(url)
                    .or_default()
                    .push(format!("email {} ({})", e.message.id, e.message.locale));
            }
        }
    }
    for places in out.values_mut() {
        places.sort();
        places.dedup();
    }
    out
}

/// The answer to one external link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(u16),
    /// An HTTP error status (4xx, 5xx).
    Status(u16),
    TimedOut,
    /// Could not connect, TLS, DNS, …
    Failed(String),
}

/// Checks `urls` with at most `concurrency` requests at a time, each bounded by `timeout`:
/// `HEAD` first, then `GET` when the server refuses `HEAD` (some answer 403/405 to it).
pub fn check_external(
    urls: &[String],
    timeout: Duration,
    concurrency: usize,
) -> Vec<(String, Outcome)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(10)
        .user_agent(concat!(
            "tminus/",
            env!("CARGO_PKG_VERSION"),
            " (link check)"
        ))
        .build()
        .into();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(urls.len()));
    std::thread::scope(|scope| {
        for _ in 0..concurrency.max(1).min(urls.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(url) = urls.get(i) else { break };
                let outcome = probe(&agent, url);
                results
                    .lock()
                    .expect("lock")
                    .push((i, url.clone(), outcome));
            });
        }
    });
    let mut results = results.into_inner().expect("lock");
    results.sort_by_key(|r| r.0);
    results.into_iter().map(|(_, u, o)| (u, o)).collect()
}

fn probe(agent: &ureq::Agent, url: &str) -> Outcome {
    let classify = |r: Result<u16, ureq::Error>| match r {
        Ok(code) if code < 400 => Outcome::Ok(code),
        Ok(code) => Outcome::Status(code),
        Err(ureq::Error::Timeout(_)) => Outcome::TimedOut,
        Err(e) => Outcome::Failed(e.to_string()),
    };
    let get = || classify(agent.get(url).call().map(|r| r.status().as_u16()));
    let head = classify(agent.head(url).call().map(|r| r.status().as_u16()));
    match head {
        Outcome::Status(403 | 405 | 501) | Outcome::Failed(_) => match get() {
            // Once more: a kept-alive connection the server just closed, a reset.
            Outcome::Failed(_) => {
                std::thread::sleep(Duration::from_millis(200));
                get()
            }
            other => other,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(path: &str, fragment: Option<&str>) -> Target {
        Target::Site {
            path: path.into(),
            fragment: fragment.map(str::to_string),
        }
    }

    #[test]
    fn resolves_relative_links_against_the_page() {
        let page = "runbooks/deploy/index.html";
        assert_eq!(
            resolve(page, "../rollback/index.html#step-2", None),
            site("runbooks/rollback/index.html", Some("step-2"))
        );
        assert_eq!(resolve(page, "#intro", None), site(page, Some("intro")));
        assert_eq!(
            resolve(page, "../../assets/style.css", None),
            site("assets/style.css", None)
        );
        assert_eq!(resolve(page, "../../../versions.js", None), Target::Outside);
        assert_eq!(
            resolve(page, "../../../v1.1/runbooks/deploy/index.html", None),
            Target::Outside
        );
        assert!(matches!(
            resolve(page, "../../../../etc/passwd", None),
            Target::Invalid(_)
        ));
        assert!(matches!(resolve(page, "/x/", None), Target::Invalid(_)));
        assert_eq!(resolve(page, "mailto:a@b.c", None), Target::Skip);
        assert_eq!(
            resolve(page, "https://example.com/x#y", None),
            Target::External("https://example.com/x#y".into())
        );
        assert_eq!(
            resolve(page, "../rollback/", None),
            site("runbooks/rollback/index.html", None)
        );
        assert_eq!(
            resolve(page, "a%20b.html", None),
            site("runbooks/deploy/a b.html", None)
        );
    }

    #[test]
    fn absolute_links_under_the_base_url_are_internal() {
        let base = Some(("https://intra.example/golive", "1.2"));
        assert_eq!(
            resolve(
                "cutover/index.html",
                "https://intra.example/golive/v1.2/runbooks/deploy/index.html#s",
                base
            ),
            site("runbooks/deploy/index.html", Some("s"))
        );
        assert_eq!(
            resolve(
                "cutover/index.html",
                "https://intra.example/golive/v1.2/../v1.1/index.html",
                base
            ),
            Target::Outside
        );
    }

    #[test]
    fn scans_ids_and_links_but_not_srcdoc() {
        let s = scan(
            r##"<html><body><h2 id="a">A</h2><a name="b"></a><a href="x/index.html">The <em>x</em></a>
            <iframe srcdoc="&lt;a href=&quot;nope.html&quot;&gt;n&lt;/a&gt;"></iframe><img src="i.png" alt="pic"></body></html>"##,
        );
        assert!(s.ids.contains("a") && s.ids.contains("b"));
        assert_eq!(
            s.links,
            vec![
                ("x/index.html".to_string(), "The x".to_string()),
                ("i.png".to_string(), "pic".to_string())
            ]
        );
    }
}
