//! Where every page and file of a version lives: its path under the version folder
//! (`runbooks/deploy/index.html`). Each path is computed here and only here; the pages and
//! their links (`render`), the search index, the feeds, `serve` and the link checker use
//! these functions, so a page and every link to it cannot disagree.
//!
//! Pages are folders with an `index.html` (links end in `index.html`, so a version works
//! from disk and under any sub-path).

/// The dashboard.
pub const DASHBOARD: &str = "index.html";
pub const CUTOVER: &str = "cutover/index.html";
/// Go-live night's status page (the bridge update), when the project has a live log.
pub const LIVE_STATUS: &str = "cutover/status/index.html";
pub const RUNBOOKS: &str = "runbooks/index.html";
pub const CHECKLISTS: &str = "checklists/index.html";
pub const TRAINING: &str = "training/index.html";
pub const COMMS: &str = "comms/index.html";
pub const CHANGES: &str = "changes/index.html";
pub const SEARCH: &str = "search/index.html";
/// The version's 404 page (the output root has a copy of the latest's).
pub const NOT_FOUND: &str = "404.html";
pub const SITEMAP: &str = "sitemap.xml";
pub const PLAN_JSON: &str = "plan.json";
/// The search index (see `crate::search`).
pub const SEARCH_INDEX: &str = "searchindex.js";
pub const SYNTAX_CSS: &str = "assets/syntax.css";
/// Every task of the cutover plan as calendar events.
pub const CUTOVER_CALENDAR: &str = "cutover/cutover.ics";
/// Every training session.
pub const SESSIONS_CALENDAR: &str = "training/sessions.ics";

pub fn runbook(id: &str) -> String {
    format!("runbooks/{id}/index.html")
}

pub fn checklist(id: &str) -> String {
    format!("checklists/{id}/index.html")
}

/// A training guide (also quick references, FAQs, exercises).
pub fn guide(id: &str) -> String {
    format!("training/{id}/index.html")
}

/// An extra page (`content/pages/`).
pub fn page(id: &str) -> String {
    format!("pages/{id}/index.html")
}

/// One owner role's run sheet.
pub fn run_sheet(role: &str) -> String {
    format!("cutover/run-sheets/{role}/index.html")
}

pub fn rehearsal(id: &str) -> String {
    format!("cutover/rehearsals/{id}/index.html")
}

/// The folder of a message's page: `comms/<id>/<wave>`, or `comms/<id>` for a message not
/// sent per wave.
pub fn message_dir(id: &str, wave: Option<&str>) -> String {
    match wave {
        Some(w) => format!("comms/{id}/{w}"),
        None => format!("comms/{id}"),
    }
}

/// A message's page (see [`message_dir`]).
pub fn message(id: &str, wave: Option<&str>) -> String {
    format!("{}/index.html", message_dir(id, wave))
}

/// A delivery's `.eml` download, beside its message page; `file_key` is
/// `crate::plan::comms::file_keys`'s name for it.
pub fn eml(id: &str, wave: Option<&str>, file_key: &str) -> String {
    format!("{}/{file_key}.eml", message_dir(id, wave))
}

/// One owner role's cutover calendar. A role named `cutover` would collide with the whole
/// plan's [`CUTOVER_CALENDAR`], so it gets `cutover/role-cutover.ics`.
pub fn role_calendar(role: &str) -> String {
    if role == "cutover" {
        "cutover/role-cutover.ics".to_string()
    } else {
        format!("cutover/{role}.ics")
    }
}

/// A training session's own calendar (its "Add to calendar" link).
pub fn session_calendar(session_id: &str) -> String {
    format!("training/sessions/{session_id}.ics")
}

/// `runbooks/deploy/index.html` → `../../`: from a page back to the version root.
pub fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_folders_and_a_role_named_cutover_does_not_clash() {
        assert_eq!(runbook("deploy"), "runbooks/deploy/index.html");
        assert_eq!(
            message("get-ready", Some("pilot")),
            "comms/get-ready/pilot/index.html"
        );
        assert_eq!(eml("were-live", None, "en-x"), "comms/were-live/en-x.eml");
        assert_eq!(role_calendar("cutover"), "cutover/role-cutover.ics");
        assert_eq!(role_calendar("dba"), "cutover/dba.ics");
        assert_eq!(root_of(&run_sheet("dba")), "../../../");
        assert_eq!(root_of(DASHBOARD), "");
    }
}
