//! Rendering: the site's pages (one job per page: output path, template, context) and the
//! emails. Contexts are built in parallel — that is where Markdown is rendered — and the
//! site writer renders the templates, also in parallel.
//!
//! Every page gets the same base context (`site`, `root`, `nav`, `versions`, `page`,
//! `support`); `themes/default/README.md` documents all variables for theme authors.

pub mod email;
pub mod format;
pub mod gantt;
mod pages;
mod training;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::plan::comms::ScheduledMessage;
use crate::plan::cutover::Schedule;
use crate::project::Project;

pub use pages::jobs;

/// A page to render: its path under the version folder, template and variables.
pub struct PageJob {
    pub path: String,
    pub template: &'static str,
    pub context: tera::Context,
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
    pub preview: email::RenderedEmail,
    pub eml: Vec<u8>,
}

impl CommsEntry {
    /// The folder of the message's page: `comms/<id>/<wave>` or `comms/<id>`.
    pub fn page_dir(&self) -> String {
        page_dir(&self.message)
    }

    /// The `.eml` download, beside the page.
    pub fn eml_path(&self) -> String {
        format!("{}/{}.eml", self.page_dir(), self.message.delivery_key())
    }
}

pub fn page_dir(m: &ScheduledMessage) -> String {
    match &m.wave {
        Some(w) => format!("comms/{}/{w}", m.id),
        None => format!("comms/{}", m.id),
    }
}

/// A version of the site, for the switcher.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct VersionInfo {
    pub version: String,
    pub status: String,
    pub built_at: String,
}

/// Everything the pages are made from.
pub struct SiteInput<'a> {
    pub project: &'a Project,
    pub schedule: &'a Schedule,
    pub comms: &'a [CommsEntry],
    /// Every version in the output, newest first, this one included.
    pub versions: &'a [VersionInfo],
    pub built_at: DateTime<Utc>,
}

/// `runbooks/deploy/index.html` → `../../`: from a page back to the version root.
pub fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

/// The navigation sections.
const SECTIONS: &[(&str, &str, &str)] = &[
    ("dashboard", "Dashboard", "index.html"),
    ("cutover", "Cutover", "cutover/index.html"),
    ("runbooks", "Runbooks", "runbooks/index.html"),
    ("checklists", "Checklists", "checklists/index.html"),
    ("training", "Training", "training/index.html"),
    ("comms", "Comms", "comms/index.html"),
];

impl SiteInput<'_> {
    /// The context every page shares.
    pub fn base_context(&self, path: &str, section: &str, title: &str) -> tera::Context {
        let p = self.project;
        let root = root_of(path);
        let mut nav: Vec<serde_json::Value> = SECTIONS
            .iter()
            .map(|(id, label, href)| json!({"id": id, "title": label, "href": format!("{root}{href}"), "active": *id == section}))
            .collect();
        let mut extra: Vec<_> = p.pages.iter().collect();
        extra.sort_by_key(|pg| (pg.order.unwrap_or(i64::MAX), pg.title.clone()));
        for pg in extra {
            nav.push(json!({
                "id": format!("page-{}", pg.id), "title": pg.title,
                "href": format!("{root}pages/{}/index.html", pg.id),
                "active": section == "pages" && path == format!("pages/{}/index.html", pg.id),
            }));
        }
        let versions: Vec<serde_json::Value> = self
            .versions
            .iter()
            .map(|v| {
                json!({
                    "version": v.version, "status": v.status, "built_at": v.built_at,
                    "current": v.version == p.version,
                    "href": format!("{root}../v{}/index.html", v.version),
                    "same_page_href": format!("{root}../v{}/{path}", v.version),
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
        ctx.insert("versions_root", &format!("{root}../"));
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
