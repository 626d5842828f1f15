//! The output folder as a build finds it, read once ([`Published::read`]) by `build`,
//! `check` and `serve` alike: the versions listed in `versions.json` (and which of them
//! still have their folder), the plan of the version just below this one (for "what
//! changed") and the tasks and sessions of the newest `plan.json` (for calendar SEQUENCE
//! numbers).
//!
//! The two plans follow different rules on purpose (README, "Decisions"): "what changed"
//! compares with the next lower version *number*; SEQUENCE continues from the plan built
//! *last* (by `generated_at`), whatever its number, because that is what calendars last saw.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};

use super::output::{self, compare_versions, Freeze, VersionsFile};
use crate::project::Project;
use crate::render::calendar::{previous_of, Previous};
use crate::render::changes::{self, PlanView};
use crate::render::VersionInfo;

/// What the output folder holds before a build.
pub struct Published {
    out: PathBuf,
    /// `versions.json` as written (entries whose folder is gone included).
    pub listed: VersionsFile,
    /// The listed versions other than this one whose folder exists, as listed.
    others: Vec<VersionInfo>,
    /// This version as listed, when its folder exists.
    this: Option<VersionInfo>,
    /// The plan of the version just below this one, for `changes/index.html`.
    pub previous_plan: Option<PlanView>,
    /// The tasks and sessions of the newest `plan.json` under `out/v*/`, for calendar
    /// SEQUENCE numbers.
    pub previous: Previous,
}

impl Published {
    /// Reads `out` for building `version` of a project. A missing or unreadable folder
    /// or file is as if nothing was published. (`site::run` has finished a publication a
    /// killed build left half done first: [`output::settle`].)
    pub fn read(out: &Path, version: &str) -> Published {
        let listed = output::read_versions(out);
        let exists = |v: &VersionInfo| out.join(format!("v{}", v.version)).is_dir();
        let this = listed
            .versions
            .iter()
            .find(|v| v.version == version && exists(v))
            .cloned();
        let others: Vec<VersionInfo> = listed
            .versions
            .iter()
            .filter(|v| v.version != version && exists(v))
            .cloned()
            .collect();
        let previous_plan = output::previous_version(&others, version).and_then(|prev| {
            let bytes = std::fs::read(out.join(format!("v{}", prev.version)).join("plan.json"));
            let mut plan = changes::parse(&bytes.ok()?)?;
            if plan.version.is_empty() {
                plan.version = prev.version.clone();
            }
            Some(plan)
        });
        Published {
            out: out.to_path_buf(),
            previous_plan,
            previous: newest_plan(out)
                .map(|plan| previous_of(&plan))
                .unwrap_or_default(),
            others,
            this,
            listed,
        }
    }

    /// Whether `project`'s version is frozen (SPEC: a published plan never changes under
    /// people's feet).
    pub fn freeze_state(&self, fingerprint: &str) -> Freeze {
        match &self.this {
            Some(v) if v.status == "approved" => {
                if v.fingerprint.as_deref() == Some(fingerprint) {
                    Freeze::Unchanged(v.clone())
                } else {
                    Freeze::Changed(v.clone())
                }
            }
            _ => Freeze::Open,
        }
    }

    /// Whether `versions.json` lists `version` as built from `fingerprint` (its search
    /// index can then be reused).
    pub fn lists_fingerprint(&self, version: &str, fingerprint: &str) -> bool {
        self.listed
            .versions
            .iter()
            .any(|v| v.version == version && v.fingerprint.as_deref() == Some(fingerprint))
    }

    /// The versions with this build's added or updated, newest first. The other versions
    /// carry the list of their pages (read from their folders), for the switcher.
    pub fn versions_with(&self, project: &Project, built_at: DateTime<Utc>) -> Vec<VersionInfo> {
        let mut versions = self.others.clone();
        for v in &mut versions {
            v.pages = Some(output::pages_in(&self.out.join(format!("v{}", v.version))));
        }
        versions.push(VersionInfo {
            version: project.version.clone(),
            status: project.status_label().to_string(),
            built_at: built_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            fingerprint: None,
            pages: None,
        });
        versions.sort_by(|a, b| compare_versions(&b.version, &a.version));
        versions
    }
}

/// The newest `plan.json` (by `generated_at`) under `out/v*/`. Files that cannot be read
/// or parsed are skipped.
fn newest_plan(out: &Path) -> Option<serde_json::Value> {
    let entries = std::fs::read_dir(out).ok()?;
    let mut newest: Option<(DateTime<FixedOffset>, serde_json::Value)> = None;
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with('v') {
            continue;
        }
        let Ok(text) = std::fs::read(entry.path().join("plan.json")) else {
            continue;
        };
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(at) = json["generated_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        else {
            continue;
        };
        if newest.as_ref().is_none_or(|(best, _)| at > *best) {
            newest = Some((at, json));
        }
    }
    newest.map(|(_, json)| json)
}
