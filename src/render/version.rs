//! The version's own pages and files, beside the project's pages: what changed since the
//! previous version (`changes/index.html`), the 404 page, `sitemap.xml`, and the DRAFT
//! mark every page of a draft carries.

use super::{changes, PageJob, SiteInput};
use crate::project::Project;
use crate::urls;
use crate::util::escape_html;

/// `changes/index.html`: this version compared with the one before.
pub fn changes_page(
    input: &SiteInput,
    plan: &[u8],
    previous: Option<&changes::PlanView>,
) -> PageJob {
    let path = urls::CHANGES;
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
            .map(|v| format!("{}v{v}/{}", input.versions_root(path), urls::CHANGES)),
    );
    ctx.insert("plan_href", &format!("{root}{}", urls::PLAN_JSON));
    ctx.insert("changes", &diff);
    PageJob::ready(path, "changes.html", ctx)
}

/// `404.html` at the version root (and, for the latest version, at the output root).
pub fn not_found_page(input: &SiteInput) -> PageJob {
    let path = urls::NOT_FOUND;
    let mut ctx = input.base_context(path, "not-found", "Page not found");
    ctx.insert(
        "home_href",
        &format!("{}{}", input.root(path), urls::DASHBOARD),
    );
    PageJob::ready(path, "404.html", ctx)
}

/// `sitemap.xml`: every page of the version. With `site.base_url` the locations are
/// absolute, as the sitemap protocol requires; without one they are relative to the
/// version folder (fine for an intranet crawler given the folder, not for a search engine).
pub fn sitemap(input: &SiteInput, pages: &[PageJob]) -> String {
    let base = input.base_url;
    let prefix = if base.is_empty() {
        String::new()
    } else {
        format!("{base}/v{}/", input.project.version)
    };
    let mut paths: Vec<&str> = pages
        .iter()
        .map(|p| p.path.as_str())
        .filter(|p| *p != urls::NOT_FOUND)
        .collect();
    paths.sort_unstable();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for p in paths {
        xml.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            escape_html(&format!("{prefix}{p}"))
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
        escape_html(&project.version)
    );
    let lower = html.to_ascii_lowercase();
    let at = lower
        .find("<body")
        .and_then(|b| lower[b..].find('>').map(|e| b + e + 1))
        .unwrap_or(0);
    html.insert_str(at, &banner);
}
