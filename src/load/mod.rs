//! Loading a project: read every file under `content/`, check it, and build a [`Project`].
//!
//! Each file is parsed on its own (in parallel for the Markdown collections) and reports
//! into its own [`Diagnostics`]; cross-file references are checked once everything is read.
//! The result is either a complete, valid project or every error found.

mod audience;
mod comms;
mod cutover;
mod documents;
pub mod fingerprint;
pub mod hypercare;
pub mod live;
mod project_file;
mod references;
mod rehearsal;
mod variables;

pub use audience::address_key;

use std::path::{Path, PathBuf};

use chrono::DateTime;
use chrono_tz::Tz;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::project::Project;
use crate::source::yaml::Spans;
use crate::source::SourceFile;
use crate::time::{self, TimeSpec};

/// Loads and validates the project in `root` (the folder holding `content/`).
pub fn load(root: &Path) -> Result<Project, Diagnostics> {
    let mut diags = Diagnostics::new();
    let content = root.join("content");
    if !content.join("project.yaml").is_file() {
        return Err(Diagnostic::new(format!(
            "no project here: {} does not exist",
            content.join("project.yaml").display()
        ))
        .with_hint(
            "run tminus in a project folder, pass --root DIR, or create one with `tminus new DIR`",
        )
        .into());
    }
    let mut project = match project_file::load(root, &mut diags) {
        Some(p) => p,
        // Keep going with a stand-in so the other files are still checked.
        None => project_file::placeholder(root),
    };
    documents::load_all(root, &mut project, &mut diags);
    variables::fill_bodies(&mut project, &mut diags);
    project.cutover = cutover::load(root, &project, &mut diags);
    project.rehearsals = rehearsal::load_all(root, &project, &mut diags);
    project.hypercare = hypercare::load(root, &project, &mut diags);
    (project.live, project.live_log) = live::load(root, &project, &mut diags);
    references::check(&project, &mut diags);
    comms::check_gates(&project, &mut diags);
    diags.finish(project)
}

/// A file being checked: its text, node positions and the diagnostics it produced.
pub(crate) struct Checker<'a> {
    pub file: &'a SourceFile,
    pub spans: &'a Spans,
    pub diags: &'a mut Diagnostics,
}

impl Checker<'_> {
    /// Reports `message` at the node `path`.
    pub fn error(&mut self, path: &str, message: impl Into<String>, hint: impl Into<String>) {
        let d = self
            .file
            .error(self.spans.nearest(path), message)
            .with_hint(hint);
        self.diags.push(d);
    }

    /// Checks an id at `path`.
    pub fn id(&mut self, path: &str, id: &str, what: &str) -> bool {
        if crate::model::is_valid_id(id) {
            return true;
        }
        self.error(
            path,
            format!("`{id}` is not a valid {what} id"),
            crate::model::ID_HINT,
        );
        false
    }

    pub fn zone(&mut self, path: &str, name: &str) -> Option<Tz> {
        match time::parse_zone(name) {
            Ok(z) => Some(z),
            Err(e) => {
                self.error(path, e.message, e.hint);
                None
            }
        }
    }

    pub fn time_spec(&mut self, path: &str, text: &str) -> Option<TimeSpec> {
        match time::parse_time_spec(text) {
            Ok(t) => Some(t),
            Err(e) => {
                self.error(path, e.message, e.hint);
                None
            }
        }
    }

    /// Parses and resolves a time against `t0` in `zone`.
    pub fn time(
        &mut self,
        path: &str,
        text: &str,
        t0: DateTime<Tz>,
        zone: Tz,
    ) -> Option<DateTime<Tz>> {
        let spec = self.time_spec(path, text)?;
        self.in_range(
            path,
            text,
            spec.resolve(t0.with_timezone(&chrono::Utc), zone),
        )
    }

    /// `at` (what `text` at `path` resolved to) when it is within the years tminus
    /// schedules, else an error there.
    pub fn in_range(&mut self, path: &str, text: &str, at: DateTime<Tz>) -> Option<DateTime<Tz>> {
        match time::check_range(text, &at) {
            Ok(()) => Some(at),
            Err(e) => {
                self.error(path, e.message, e.hint);
                None
            }
        }
    }

    pub fn duration(&mut self, path: &str, text: &str) -> Option<chrono::Duration> {
        match time::parse_duration(text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(path, e.message, e.hint);
                None
            }
        }
    }

    /// Checks that `id` is one of `known`; `what` names the kind ("roster role").
    pub fn reference(&mut self, path: &str, what: &str, id: &str, known: &[&str]) -> bool {
        if known.contains(&id) {
            return true;
        }
        self.error(
            path,
            format!("unknown {what} `{id}`"),
            cutover::suggest(id, known),
        );
        false
    }

    /// An owner must be a roster role.
    pub fn owner(&mut self, path: &str, role: &str, project: &Project) -> bool {
        if project.references_unknown {
            return true;
        }
        let roles: Vec<&str> = project.roster.iter().map(|r| r.role.as_str()).collect();
        self.reference(path, "owner (roster role)", role, &roles)
    }

    /// A training audience may be a roster role or an audience id.
    pub fn role_or_audience(&mut self, path: &str, id: &str, project: &Project) -> bool {
        if project.references_unknown {
            return true;
        }
        let known: Vec<&str> = project
            .roster
            .iter()
            .map(|r| r.role.as_str())
            .chain(project.audiences.keys().map(String::as_str))
            .collect();
        self.reference(path, "audience (roster role or audience id)", id, &known)
    }

    /// Checks a link against the URL rule ([`url`]); `relative_ok` allows relative links.
    pub fn url(&mut self, path: &str, link: &str, relative_ok: bool) -> bool {
        if crate::url_rule::is_allowed(link, relative_ok) {
            return true;
        }
        let (message, hint) = crate::url_rule::refusal(link, relative_ok);
        self.error(path, message, hint);
        false
    }

    pub fn email(&mut self, path: &str, address: &str) -> bool {
        if is_valid_email(address) {
            return true;
        }
        self.error(
            path,
            format!("`{address}` is not a valid email address"),
            "write a single address such as `ana@contoso.example`",
        );
        false
    }
}

/// A BCP 47-ish language tag: `en`, `fr`, `fr-CA`, `zh-Hant`.
pub fn is_valid_locale(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang = parts.next().unwrap_or("");
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A bare address (`ana@contoso.example`), as lettre parses it.
pub fn is_valid_email(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok()
}

/// `content/<dir>/` files with one of the extensions `exts` (in any case: `x.MD` is
/// Markdown), sorted by name. Symbolic links to files are listed too, so that reading them
/// either follows them (inside the project) or refuses them with an error (outside it),
/// rather than skipping them without a word.
pub(crate) fn files_in(root: &Path, dir: &str, exts: &[&str]) -> Vec<PathBuf> {
    let folder = root.join("content").join(dir);
    if !folder.is_dir() {
        return Vec::new();
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&folder)
        .min_depth(1)
        .max_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() || (e.path_is_symlink() && !e.path().is_dir()))
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.iter().any(|e| x.eq_ignore_ascii_case(e)))
        })
        .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    files.sort();
    files
}

/// The extensions of YAML documents.
pub(crate) const YAML: &[&str] = &["yaml", "yml"];

/// A slug of the project name, for identifiers that must stay stable across builds.
pub fn project_slug(project: &Project) -> String {
    let s = documents::slug(&project.name);
    if s.is_empty() {
        "project".to_string()
    } else {
        s
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// A project with nothing in it (project zone and T-0 of the placeholder), for tests.
    pub fn empty_project() -> crate::project::Project {
        super::project_file::placeholder(std::path::Path::new("."))
    }
}
