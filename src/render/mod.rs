//! Rendering: the site's pages (one job per page: output path, template, context) and the
//! emails. Contexts are built in parallel — that is where Markdown is rendered — and the
//! site writer renders the templates, also in parallel.
//!
//! Every page gets the same base context (`site`, `root`, `nav`, `versions`, `page`,
//! `support`); `themes/default/README.md` documents all variables for theme authors.

pub mod calendar;
pub mod changes;
pub mod chart;
pub mod format;
pub mod gantt;
pub mod html;
mod pages;
pub mod plan_json;
mod rehearsal;
mod training;
pub mod version;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::plan::comms::ScheduledMessage;
use crate::plan::cutover::Schedule;
use crate::project::Project;
use crate::urls;

pub use pages::{document_job, jobs, Document};

/// A page to render: its path under the version folder, template and variables.
pub struct PageJob {
    pub path: String,
    pub template: &'static str,
    pub context: PageContext,
}

/// A page's template variables, or how to build them.
pub enum PageContext {
    Ready(tera::Context),
    /// Built only when the page is written (Markdown-heavy pages: runbooks, guides, pages),
    /// so a site's rendered pages are never all in memory at once.
    Deferred(fn(&SiteInput, usize) -> tera::Context, usize),
    /// Deferred, and rendered one at a time across threads: pages whose variables run to
    /// tens of megabytes (a message to 100,000 people: thousands of status rows per
    /// delivery), so two threads never hold two of them at once.
    Heavy(fn(&SiteInput, usize) -> tera::Context, usize),
}

impl PageJob {
    pub fn ready(path: impl Into<String>, template: &'static str, context: tera::Context) -> Self {
        PageJob {
            path: path.into(),
            template,
            context: PageContext::Ready(context),
        }
    }

    pub fn deferred(
        path: String,
        template: &'static str,
        build: fn(&SiteInput, usize) -> tera::Context,
        index: usize,
    ) -> Self {
        PageJob {
            path,
            template,
            context: PageContext::Deferred(build, index),
        }
    }

    /// A deferred page rendered one at a time (see [`PageContext::Heavy`]).
    pub fn heavy(
        path: String,
        template: &'static str,
        build: fn(&SiteInput, usize) -> tera::Context,
        index: usize,
    ) -> Self {
        PageJob {
            path,
            template,
            context: PageContext::Heavy(build, index),
        }
    }

    /// The page's variables, built now if they were deferred.
    pub fn context(&self, input: &SiteInput) -> std::borrow::Cow<'_, tera::Context> {
        match &self.context {
            PageContext::Ready(c) => std::borrow::Cow::Borrowed(c),
            PageContext::Deferred(build, index) | PageContext::Heavy(build, index) => {
                std::borrow::Cow::Owned(build(input, *index))
            }
        }
    }
}

/// A file written as is (plan.json, .eml, .ics, assets).
pub struct StaticFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// One scheduled message with its rendered preview (for its first recipient).
pub struct CommsEntry {
    pub message: ScheduledMessage,
    pub subject: String,
    pub preview: crate::email::RenderedEmail,
    pub eml: Vec<u8>,
    /// The name of its files ([`crate::plan::comms::file_keys`]).
    pub file_key: String,
}

impl CommsEntry {
    /// The folder of the message's page: `comms/<id>/<wave>` or `comms/<id>`.
    pub fn page_dir(&self) -> String {
        urls::message_dir(&self.message.id, self.message.wave.as_deref())
    }

    /// The `.eml` download, beside the page.
    pub fn eml_path(&self) -> String {
        urls::eml(
            &self.message.id,
            self.message.wave.as_deref(),
            &self.file_key,
        )
    }
}

/// A version of the site, for the switcher and `versions.json`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct VersionInfo {
    pub version: String,
    pub status: String,
    pub built_at: String,
    /// A hash of the version's sources (content/, theme overrides, tminus version): an
    /// approved version may only be rebuilt from the same sources (see `load::fingerprint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The pages of the version (`runbooks/deploy/index.html`, …), when known: the version
    /// switcher keeps the reader on the same page only when it exists there. Not in
    /// `versions.json`; `versions.js` carries it as `TMINUS_PAGES`.
    #[serde(skip)]
    pub pages: Option<std::collections::BTreeSet<String>>,
}

impl VersionInfo {
    /// Whether `path` is a page of this version (unknown lists count as yes).
    pub fn has_page(&self, path: &str) -> bool {
        self.pages.as_ref().is_none_or(|p| p.contains(path))
    }
}

/// Everything the pages are made from.
pub struct SiteInput<'a> {
    /// The base URL of absolute links (`site.base_url` without a trailing `/`), or empty
    /// for relative links (always while serving).
    pub base_url: &'a str,
    pub project: &'a Project,
    pub schedule: &'a Schedule,
    pub comms: &'a [CommsEntry],
    /// Where each delivery of `comms` stands (only when the project has a send ledger).
    pub delivery: Option<&'a crate::delivery::Overview>,
    /// Hypercare as judged for this build, when the project has it.
    pub hypercare: Option<&'a crate::plan::hypercare::Judgment>,
    /// Go-live night as of this build, when the project has a live log.
    pub live: Option<&'a crate::plan::live::LiveState>,
    /// `build --now` when given: the instant the gated messages' states are shown as of.
    pub as_of: Option<DateTime<Utc>>,
    /// Each rehearsal measured against the plan, with its re-forecast.
    pub rehearsals: &'a [crate::plan::rehearsal::RehearsalReport],
    /// Calendar SEQUENCE per task id (bumped when a task moved since the last build).
    pub calendar_sequences: &'a std::collections::BTreeMap<String, u32>,
    /// Calendar SEQUENCE per training session id (bumped when a session moved).
    pub session_sequences: &'a std::collections::BTreeMap<String, u32>,
    /// Every version in the output, newest first, this one included.
    pub versions: &'a [VersionInfo],
    pub built_at: DateTime<Utc>,
}

impl SiteInput<'_> {
    /// The instant the site shows the state as of: `build --now` when given, else the
    /// build's time.
    pub fn now(&self) -> DateTime<Utc> {
        self.as_of.unwrap_or(self.built_at)
    }
}

pub use crate::urls::root_of;

/// The navigation sections.
const SECTIONS: &[(&str, &str, &str)] = &[
    ("dashboard", "Dashboard", urls::DASHBOARD),
    ("cutover", "Cutover", urls::CUTOVER),
    ("runbooks", "Runbooks", urls::RUNBOOKS),
    ("checklists", "Checklists", urls::CHECKLISTS),
    ("training", "Training", urls::TRAINING),
    ("comms", "Comms", urls::COMMS),
    ("changes", "What changed", urls::CHANGES),
];

impl SiteInput<'_> {
    /// From the page at `path` to the version root: relative (`../../`) by default, or
    /// `{site.base_url}/v<version>/` when the project sets a base URL.
    pub fn root(&self, path: &str) -> String {
        match self.base_url {
            "" => root_of(path),
            base => format!("{base}/v{}/", self.project.version),
        }
    }

    /// The folder holding the versions (`versions.js`), from the page at `path`.
    pub fn versions_root(&self, path: &str) -> String {
        match self.base_url {
            "" => format!("{}../", root_of(path)),
            base => format!("{base}/"),
        }
    }

    /// The context every page shares.
    pub fn base_context(&self, path: &str, section: &str, title: &str) -> tera::Context {
        let p = self.project;
        let root = self.root(path);
        let versions_root = self.versions_root(path);
        let mut nav: Vec<serde_json::Value> = SECTIONS
            .iter()
            .map(|(id, label, href)| json!({"id": id, "title": label, "href": format!("{root}{href}"), "active": *id == section}))
            .collect();
        if p.hypercare.is_some() {
            let at = nav.len().saturating_sub(1);
            nav.insert(at, json!({"id": "hypercare", "title": "Hypercare status", "href": format!("{root}hypercare/index.html"), "active": section == "hypercare"}));
        }
        let mut extra: Vec<_> = p.pages.iter().collect();
        extra.sort_by_key(|pg| (pg.order.unwrap_or(i64::MAX), pg.title.clone()));
        for pg in extra {
            nav.push(json!({
                "id": format!("page-{}", pg.id), "title": pg.title,
                "href": format!("{root}{}", urls::page(&pg.id)),
                "active": section == "pages" && path == urls::page(&pg.id),
            }));
        }
        let versions: Vec<serde_json::Value> = self
            .versions
            .iter()
            .map(|v| {
                json!({
                    "version": v.version, "status": v.status, "built_at": v.built_at,
                    "current": v.version == p.version,
                    "href": format!("{versions_root}v{}/index.html", v.version),
                    "same_page_href": if v.version == p.version || v.has_page(path) {
                        format!("{versions_root}v{}/{path}", v.version)
                    } else {
                        format!("{versions_root}v{}/index.html", v.version)
                    },
                })
            })
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert(
            "site",
            &json!({
                "title": p.site_title(), "project": p.name, "system": p.system, "version": p.version,
                "status": p.status, "is_draft": p.status == crate::model::project::Status::Draft,
                "built_at": self.built_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "timezone": p.zone.name(), "generator": concat!("tminus ", env!("CARGO_PKG_VERSION")),
            }),
        );
        ctx.insert("root", &root);
        ctx.insert("versions_root", &versions_root);
        ctx.insert("nav", &nav);
        ctx.insert("versions", &versions);
        ctx.insert(
            "page",
            &json!({"path": path, "section": section, "title": title}),
        );
        ctx.insert("support", &p.support);
        ctx
    }
}
