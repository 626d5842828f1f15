//! The document collections under `content/`: runbooks, checklists, training guides and
//! sessions, comms templates and extra pages. Markdown files are read in parallel.

use std::path::{Path, PathBuf};

use chrono::Duration;
use rayon::prelude::*;
use serde::de::DeserializeOwned;

use super::{files_in, Checker, YAML};
use crate::diagnostics::{Diagnostics, Position};
use crate::model::checklist::{ChecklistFile, Recommendation};
use crate::model::comms::MessageFrontMatter;
use crate::model::page::PageFrontMatter;
use crate::model::runbook::RunbookFrontMatter;
use crate::model::training::{GuideFrontMatter, SessionsFile};
use crate::project::{
    AudienceRef, Body, Checklist, Guide, MessageTemplate, Page, Project, Runbook, Session, Step,
};
use crate::source::yaml::{self, index, join, Located};
use crate::source::{split_front_matter, SourceFile};

pub fn load_all(root: &Path, project: &mut Project, diags: &mut Diagnostics) {
    let p: &Project = project;
    let runbooks = markdown_collection(
        root,
        "runbooks",
        diags,
        |c, fm: RunbookFrontMatter, body, stem| runbook(c, p, fm, body, stem),
    );
    let guides = markdown_collection(
        root,
        "training",
        diags,
        |c, fm: GuideFrontMatter, body, stem| guide(c, p, fm, body, stem),
    );
    let messages = markdown_collection(
        root,
        "comms",
        diags,
        |c, fm: MessageFrontMatter, body, stem| message(c, p, fm, body, stem),
    );
    let pages = markdown_collection(
        root,
        "pages",
        diags,
        |c, fm: PageFrontMatter, body, stem| page(c, fm, body, stem),
    );
    let checklists = checklists(root, p, diags);
    let sessions = sessions(root, p, diags);
    project.runbooks = runbooks;
    project.guides = guides;
    project.messages = messages;
    project.pages = pages;
    project.checklists = checklists;
    project.sessions = sessions;
}

/// Reads every `content/<dir>/*.md` in parallel and builds one item from each.
fn markdown_collection<F, T, B>(root: &Path, dir: &str, diags: &mut Diagnostics, build: B) -> Vec<T>
where
    F: DeserializeOwned,
    T: Send,
    B: Fn(&mut Checker, F, Body, &str) -> Option<T> + Sync,
{
    let results: Vec<(Option<T>, Diagnostics)> = files_in(root, dir, &["md"])
        .par_iter()
        .map(|rel| {
            let mut local = Diagnostics::new();
            let item = read_markdown::<F>(root, rel, &mut local).and_then(|(file, fm, body)| {
                let stem = file_stem(rel);
                let mut c = Checker {
                    file: &file,
                    spans: &fm.spans,
                    diags: &mut local,
                };
                // Kept even when it has errors, so references to it do not cascade.
                build(&mut c, fm.value, body, &stem)
            });
            (item, local)
        })
        .collect();
    let mut out = Vec::with_capacity(results.len());
    for (item, local) in results {
        diags.extend(local);
        out.extend(item);
    }
    out
}

fn read_markdown<F: DeserializeOwned>(
    root: &Path,
    rel: &Path,
    diags: &mut Diagnostics,
) -> Option<(SourceFile, Located<F>, Body)> {
    let file = SourceFile::read(root, rel)
        .map_err(|d| diags.push(d))
        .ok()?;
    let (fm, body) = {
        let split = split_front_matter(&file).map_err(|d| diags.push(d)).ok()?;
        let fm = yaml::parse::<F>(&file, split.yaml, split.yaml_line, diags)?;
        let body = Body {
            markdown: split.body.to_string(),
            file: rel.to_path_buf(),
            first_line: split.body_line,
        };
        (fm, body)
    };
    Some((file, fm, body))
}

pub(crate) fn file_stem(rel: &Path) -> String {
    rel.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The id from the file name, checked; errors point at line 1.
pub(crate) fn id_from_stem(c: &mut Checker, stem: &str, what: &str) -> Option<String> {
    if crate::model::is_valid_id(stem) {
        return Some(stem.to_string());
    }
    c.diags.push(
        c.file
            .error(
                Some(Position::new(1, 1)),
                format!("the file name `{stem}` is not a valid {what} id"),
            )
            .with_hint(format!("rename the file: {}", crate::model::ID_HINT)),
    );
    None
}

fn runbook(
    c: &mut Checker,
    p: &Project,
    fm: RunbookFrontMatter,
    body: Body,
    stem: &str,
) -> Option<Runbook> {
    let id = match &fm.id {
        Some(id) => c.id("id", id, "runbook").then(|| id.clone()),
        None => id_from_stem(c, stem, "runbook"),
    }?;
    if let Some(owner) = &fm.owner {
        c.owner("owner", owner, p);
    }
    let mut steps = Vec::with_capacity(fm.steps.len());
    let mut total = Duration::zero();
    for (i, s) in fm.steps.into_iter().enumerate() {
        let at = index("steps", i);
        if let Some(owner) = &s.owner {
            c.owner(&join(&at, "owner"), owner, p);
        }
        let duration = s
            .duration
            .as_ref()
            .and_then(|d| c.duration(&join(&at, "duration"), d));
        total += duration.unwrap_or_default();
        steps.push(Step { spec: s, duration });
    }
    Some(Runbook {
        id,
        title: fm.title,
        owner: fm.owner,
        summary: fm.summary,
        steps,
        total,
        id_at: c.spans.at("id"),
        body,
    })
}

fn guide(
    c: &mut Checker,
    p: &Project,
    fm: GuideFrontMatter,
    body: Body,
    stem: &str,
) -> Option<Guide> {
    let id = id_from_stem(c, stem, "training guide")?;
    for (i, a) in fm.audience.iter().enumerate() {
        c.role_or_audience(&index("audience", i), a, p);
    }
    let duration = fm.duration.as_ref().and_then(|d| c.duration("duration", d));
    Some(Guide {
        id,
        title: fm.title,
        audience: fm.audience,
        duration,
        kind: fm.kind,
        order: fm.order,
        summary: fm.summary,
        body,
    })
}

fn page(c: &mut Checker, fm: PageFrontMatter, body: Body, stem: &str) -> Option<Page> {
    Some(Page {
        id: id_from_stem(c, stem, "page")?,
        title: fm.title,
        order: fm.order,
        summary: fm.summary,
        body,
    })
}

/// `get-ready.md` is the base template, `get-ready.fr.md` its French variant.
fn message(
    c: &mut Checker,
    p: &Project,
    fm: MessageFrontMatter,
    body: Body,
    stem: &str,
) -> Option<MessageTemplate> {
    let (file_id, locale) = match stem.split_once('.') {
        Some((id, locale)) => (id, Some(locale.to_string())),
        None => (stem, None),
    };
    if let Some(l) = &locale {
        if !super::is_valid_locale(l) {
            c.diags.push(
                c.file
                    .error(
                        Some(Position::new(1, 1)),
                        format!("`{l}` in the file name is not a locale"),
                    )
                    .with_hint(
                        "name locale variants like `get-ready.fr.md` or `get-ready.fr-ca.md`",
                    ),
            );
            return None;
        }
    }
    let id = match &fm.id {
        Some(id) => c.id("id", id, "message").then(|| id.clone())?,
        None => id_from_stem(c, file_id, "message")?,
    };
    if fm.subject.contains(['\r', '\n']) {
        c.error(
            "subject",
            "a subject must be a single line",
            "remove the line break: it would corrupt the email's headers",
        );
    }
    let send = c.time_spec("send", &fm.send)?;
    // Each T-0 it can be sent against must give a send time within the supported years.
    let t0s =
        std::iter::once((p.go_live, p.zone)).chain(p.waves.iter().map(|w| (w.go_live, w.zone)));
    for (t0, zone) in t0s {
        let at = send.resolve(t0.with_timezone(&chrono::Utc), zone);
        if c.in_range("send", &fm.send, at).is_none() {
            break;
        }
    }
    let audience = if fm.audience == "wave" {
        if !fm.per_wave {
            c.error(
                "audience",
                "`audience: wave` needs `per_wave: true`",
                "send one message set per wave, or name an audience",
            );
        }
        for w in p
            .waves
            .iter()
            .filter(|w| w.audience.is_none() && !p.references_unknown)
        {
            c.error(
                "audience",
                format!("`audience: wave`, but wave `{}` has no audience", w.id),
                "give the wave an `audience:` in project.yaml, or name an audience here",
            );
        }
        if p.waves.is_empty() && !p.references_unknown {
            c.error(
                "audience",
                "`audience: wave`, but the project has no waves",
                "name an audience instead",
            );
        }
        AudienceRef::Wave
    } else {
        let known: Vec<&str> = p.audiences.keys().map(String::as_str).collect();
        if !p.references_unknown {
            c.reference("audience", "audience", &fm.audience, &known);
        }
        AudienceRef::Named(fm.audience.clone())
    };
    let (gate, on, repeat) = super::comms::schedule_keys(c, p, &fm, &send)?;
    Some(MessageTemplate {
        id,
        locale,
        subject: fm.subject,
        send,
        audience,
        per_wave: fm.per_wave,
        gate,
        on,
        repeat,
        id_at: c.spans.at("id"),
        subject_at: c.spans.at("subject"),
        body,
    })
}

/// Reads every `content/<dir>/*.yaml` and builds one item from each, named by the file
/// (`kind` for the error when the name is not a valid id). An item is kept only when its
/// file had no error; its content is checked even when its name is wrong, so one run
/// reports both.
pub(crate) fn yaml_collection<F, T>(
    root: &Path,
    dir: &str,
    kind: &str,
    diags: &mut Diagnostics,
    mut build: impl FnMut(&mut Checker, String, F) -> Option<T>,
) -> Vec<T>
where
    F: DeserializeOwned,
{
    let mut out = Vec::new();
    for rel in files_in(root, dir, YAML) {
        let Some((file, parsed)) = read_yaml::<F>(root, &rel, diags) else {
            continue;
        };
        let mut c = Checker {
            file: &file,
            spans: &parsed.spans,
            diags,
        };
        let before = c.diags.len();
        let stem = file_stem(&rel);
        let id = id_from_stem(&mut c, &stem, kind).unwrap_or(stem);
        let item = build(&mut c, id, parsed.value);
        if c.diags.len() == before {
            out.extend(item);
        }
    }
    out
}

fn checklists(root: &Path, project: &Project, diags: &mut Diagnostics) -> Vec<Checklist> {
    yaml_collection(
        root,
        "checklists",
        "checklist",
        diags,
        |c, id, list: ChecklistFile| {
            for (i, section) in list.sections.iter().enumerate() {
                for (j, item) in section.items.iter().enumerate() {
                    if let Some(owner) = &item.owner {
                        c.owner(
                            &join(&index(&join(&index("sections", i), "items"), j), "owner"),
                            owner,
                            project,
                        );
                    }
                }
            }
            let due = list
                .due
                .as_ref()
                .and_then(|d| c.time("due", d, project.go_live, project.zone));
            let recommendation = Recommendation::of(list.sections.iter().flat_map(|s| &s.items));
            Some(Checklist {
                id,
                title: list.title,
                due,
                summary: list.summary,
                sections: list.sections,
                recommendation,
                gate: list.gate,
                file: c.file.path.clone(),
                gate_at: c.spans.at("gate"),
            })
        },
    )
}

fn sessions(root: &Path, project: &Project, diags: &mut Diagnostics) -> Vec<Session> {
    let rel = PathBuf::from("content/training/sessions.yaml");
    if !root.join(&rel).is_file() {
        return Vec::new();
    }
    let Some((file, parsed)) = read_yaml::<SessionsFile>(root, &rel, diags) else {
        return Vec::new();
    };
    let mut c = Checker {
        file: &file,
        spans: &parsed.spans,
        diags,
    };
    let mut out = Vec::new();
    let explicit: Vec<String> = parsed
        .value
        .sessions
        .iter()
        .filter_map(|s| s.id.clone())
        .collect();
    for (i, s) in parsed.value.sessions.into_iter().enumerate() {
        let at = index("sessions", i);
        let start = c.time(&join(&at, "start"), &s.start, project.go_live, project.zone);
        let duration = match &s.duration {
            Some(d) => c.duration(&join(&at, "duration"), d),
            None => Some(Duration::hours(1)),
        };
        if let Some(id) = &s.id {
            c.id(&join(&at, "id"), id, "session");
        }
        if let Some(link) = &s.link {
            c.url(&join(&at, "link"), link, false);
        }
        for (j, a) in s.audience.iter().enumerate() {
            c.role_or_audience(&index(&join(&at, "audience"), j), a, project);
        }
        let (Some(start), Some(duration)) = (start, duration) else {
            continue;
        };
        // Its end too must be within the years tminus schedules.
        let end = start.checked_add_signed(duration).unwrap_or(start);
        let (path, written) = match &s.duration {
            Some(d) => (join(&at, "duration"), format!("{} + {d}", s.start)),
            None => (join(&at, "start"), s.start.clone()),
        };
        if c.in_range(&path, &written, end).is_none() {
            continue;
        }
        let id = s.id.clone().unwrap_or_else(|| {
            session_id(&s.title, |id| {
                explicit.iter().any(|e| e == id) || out.iter().any(|o: &Session| o.id == id)
            })
        });
        if out.iter().any(|o: &Session| o.id == id) {
            c.error(
                &at,
                format!("two sessions have the id `{id}`"),
                "give one of them an `id:`",
            );
        }
        out.push(Session {
            id,
            title: s.title,
            start,
            duration,
            location: s.location,
            link: s.link,
            capacity: s.capacity,
            audience: s.audience,
        });
    }
    out
}

/// The id of a session without an `id:`: a slug of its title alone, so that moving the
/// session keeps its id (and its calendar UID). A title used again gets `-2`, `-3`, … in
/// the order of the file; `taken` says which ids are already used.
fn session_id(title: &str, taken: impl Fn(&str) -> bool) -> String {
    // A file name: a long title keeps its first 60 characters.
    let words: String = slug(title).chars().take(60).collect();
    let base = match words.trim_end_matches('-') {
        "" => "session".to_string(),
        s => s.to_string(),
    };
    let mut id = base.clone();
    let mut n = 1;
    while taken(&id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

pub(crate) fn read_yaml<F: DeserializeOwned>(
    root: &Path,
    rel: &Path,
    diags: &mut Diagnostics,
) -> Option<(SourceFile, Located<F>)> {
    let file = SourceFile::read(root, rel)
        .map_err(|d| diags.push(d))
        .ok()?;
    let parsed = yaml::parse::<F>(&file, &file.text, 1, diags)?;
    Some((file, parsed))
}

/// Lowercase ASCII words joined by `-`: an id made from a title. Letters outside ASCII are
/// transliterated first (`Formation en français` → `formation-en-francais`).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in deunicode::deunicode(text).chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_transliterate_instead_of_dropping_letters() {
        assert_eq!(slug("Formation en français"), "formation-en-francais");
        assert_eq!(
            slug("Session en français : adoptants précoces (10h00)"),
            "session-en-francais-adoptants-precoces-10h00"
        );
        assert_eq!(slug("Straße — Überblick"), "strasse-uberblick");
        assert_eq!(slug("Łódź, Kraków"), "lodz-krakow");
        assert_eq!(slug("  --Go-live!  "), "go-live");
        assert!(slug("研修 セッション").is_ascii());
        assert!(!slug("研修 セッション").is_empty());
    }

    #[test]
    fn a_session_id_comes_from_the_title_alone_and_repeats_are_numbered() {
        assert_eq!(session_id("Drop-in clinic", |_| false), "drop-in-clinic");
        let taken = ["drop-in-clinic", "drop-in-clinic-2"];
        assert_eq!(
            session_id("Drop-in clinic", |id| taken.contains(&id)),
            "drop-in-clinic-3"
        );
        assert!(session_id("🙂", |_| false).is_ascii());
        assert_eq!(session_id("", |_| false), "session");
        assert_eq!(session_id("!!!", |_| false), "session");
    }
}
