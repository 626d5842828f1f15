//! "What changed": a version compared with the previous one, from their two `plan.json`.
//!
//! The previous version is the next lower version number present in the output folder.
//! Compared: the go-live date (project and waves); tasks added, removed, retimed (start,
//! finish or duration) or reassigned (owner); messages added, removed, retimed (send times)
//! or reworded (subject or text, via `comms_digests`); runbooks (text, and each step's
//! title, command, duration, validation and rollback), guides and pages edited, added or
//! removed (via `documents`); tasks that moved exactly as far as T-0 are one line under the
//! go-live change, not a retime each; checklist items whose status changed
//! (an item is known by its checklist, section and text, so a reworded item shows as one
//! removed and one added).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The parts of a `plan.json` that are compared. Unknown fields are ignored, missing ones
/// are empty, so plans written by older versions of tminus still compare.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PlanView {
    pub version: String,
    pub go_live: Option<String>,
    pub waves: Vec<WaveView>,
    pub tasks: Vec<TaskView>,
    pub comms: Vec<CommsView>,
    pub comms_digests: BTreeMap<String, String>,
    pub documents: Vec<DocumentView>,
    pub checklists: Vec<ChecklistView>,
}

/// A runbook, guide or page as `plan.json` records it for comparison (written by
/// [`documents`], read back from an earlier plan).
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DocumentView {
    /// `runbook`, `guide` or `page`.
    pub kind: String,
    pub id: String,
    pub title: String,
    /// SHA-256 of the Markdown body.
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepView>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StepView {
    pub title: String,
    /// As written (`20m`), or empty.
    pub duration: String,
    /// SHA-256 of the command, or empty when the step has none.
    pub command: String,
    /// SHA-256 of the validation and rollback text.
    pub notes: String,
}

fn sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// What `plan.json` records of the project's runbooks, guides and pages.
pub fn documents(p: &crate::project::Project) -> Vec<DocumentView> {
    let mut out = Vec::new();
    for r in &p.runbooks {
        out.push(DocumentView {
            kind: "runbook".into(),
            id: r.id.clone(),
            title: r.title.clone(),
            text: sha256(&r.body.markdown),
            steps: r
                .steps
                .iter()
                .map(|s| StepView {
                    title: s.spec.title.clone(),
                    duration: s.spec.duration.clone().unwrap_or_default(),
                    command: s.spec.command.as_deref().map(sha256).unwrap_or_default(),
                    notes: sha256(&format!(
                        "{}\u{0}{}",
                        s.spec.validation.as_deref().unwrap_or(""),
                        s.spec.rollback.as_deref().unwrap_or("")
                    )),
                })
                .collect(),
        });
    }
    for g in &p.guides {
        out.push(DocumentView {
            kind: "guide".into(),
            id: g.id.clone(),
            title: g.title.clone(),
            text: sha256(&g.body.markdown),
            steps: Vec::new(),
        });
    }
    for pg in &p.pages {
        out.push(DocumentView {
            kind: "page".into(),
            id: pg.id.clone(),
            title: pg.title.clone(),
            text: sha256(&pg.body.markdown),
            steps: Vec::new(),
        });
    }
    out
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WaveView {
    pub id: String,
    pub name: String,
    pub go_live: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TaskView {
    pub id: String,
    pub title: String,
    pub owner: Option<String>,
    pub start: String,
    pub finish: String,
    pub duration_minutes: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommsView {
    pub id: String,
    pub wave: Option<String>,
    pub locale: String,
    pub audience: String,
    pub subject: String,
    pub send_at: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChecklistView {
    pub id: String,
    pub title: String,
    pub items: Vec<ChecklistItemView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChecklistItemView {
    pub section: String,
    pub text: String,
    pub status: String,
}

/// Everything that differs, ready for the `changes.html` template.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Changes {
    /// The version compared with; `None` for the first version.
    pub previous: Option<String>,
    pub go_live: Vec<Retimed>,
    pub tasks_added: Vec<Item>,
    pub tasks_removed: Vec<Item>,
    pub tasks_retimed: Vec<Retimed>,
    pub tasks_reassigned: Vec<Reassigned>,
    pub messages_added: Vec<Item>,
    pub messages_removed: Vec<Item>,
    pub messages_retimed: Vec<Retimed>,
    pub messages_reworded: Vec<Reworded>,
    pub checklist_items: Vec<StatusChange>,
    /// Tasks that moved by exactly as much as the project's T-0: one line, not one each.
    pub moved_with_go_live: Vec<Item>,
    /// Runbooks, guides and pages added, removed or edited, with what was edited.
    pub documents: Vec<DocumentChange>,
    /// How many changes in all.
    pub total: usize,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DocumentChange {
    pub kind: String,
    pub id: String,
    pub title: String,
    /// "added", "removed", or what changed: "text", "step 3 (Restore) command", …
    pub what: Vec<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Item {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Retimed {
    pub id: String,
    pub title: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Reassigned {
    pub id: String,
    pub title: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Reworded {
    pub id: String,
    pub before: String,
    pub after: String,
    /// Whether the body text changed (the subject may be the same).
    pub text_changed: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct StatusChange {
    pub checklist: String,
    pub checklist_title: String,
    pub section: String,
    pub text: String,
    /// `None`: the item is new / was removed.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Parses a `plan.json`.
pub fn parse(bytes: &[u8]) -> Option<PlanView> {
    serde_json::from_slice(bytes).ok()
}

/// `before` → `after`.
pub fn compare(before: &PlanView, after: &PlanView) -> Changes {
    let mut c = Changes {
        previous: Some(before.version.clone()),
        ..Changes::default()
    };
    if before.go_live != after.go_live {
        c.go_live.push(Retimed {
            id: "project".into(),
            title: "Project go-live (T-0)".into(),
            before: before.go_live.clone().unwrap_or_default(),
            after: after.go_live.clone().unwrap_or_default(),
        });
    }
    for w in &after.waves {
        if let Some(old) = before.waves.iter().find(|o| o.id == w.id) {
            if old.go_live != w.go_live {
                c.go_live.push(Retimed {
                    id: w.id.clone(),
                    title: w.name.clone(),
                    before: old.go_live.clone(),
                    after: w.go_live.clone(),
                });
            }
        }
    }

    // How far T-0 moved: a task that moved by exactly that much (start and finish) moved with
    // it and is listed once under the go-live change rather than as a retime of its own.
    let shift = match (&before.go_live, &after.go_live) {
        (Some(a), Some(b)) if a != b => instant(b).zip(instant(a)).map(|(b, a)| b - a),
        _ => None,
    };
    let old_tasks: BTreeMap<&str, &TaskView> =
        before.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let new_tasks: BTreeMap<&str, &TaskView> =
        after.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    for t in &after.tasks {
        match old_tasks.get(t.id.as_str()) {
            None => c.tasks_added.push(item(&t.id, &t.title)),
            Some(old) => {
                let moved = |a: &str, b: &str| instant(b).zip(instant(a)).map(|(b, a)| b - a);
                let with_go_live = shift.is_some()
                    && moved(&old.start, &t.start) == shift
                    && moved(&old.finish, &t.finish) == shift;
                if with_go_live {
                    c.moved_with_go_live.push(item(&t.id, &t.title));
                } else if old.start != t.start
                    || old.finish != t.finish
                    || old.duration_minutes != t.duration_minutes
                {
                    c.tasks_retimed.push(Retimed {
                        id: t.id.clone(),
                        title: t.title.clone(),
                        before: format!("{} → {}", old.start, old.finish),
                        after: format!("{} → {}", t.start, t.finish),
                    });
                }
                if old.owner != t.owner {
                    c.tasks_reassigned.push(Reassigned {
                        id: t.id.clone(),
                        title: t.title.clone(),
                        before: old.owner.clone(),
                        after: t.owner.clone(),
                    });
                }
            }
        }
    }
    for t in &before.tasks {
        if !new_tasks.contains_key(t.id.as_str()) {
            c.tasks_removed.push(item(&t.id, &t.title));
        }
    }

    let old_msgs = messages(before);
    let new_msgs = messages(after);
    for (key, m) in &new_msgs {
        match old_msgs.get(key) {
            None => c.messages_added.push(item(key, &m.subject)),
            Some(old) => {
                if old.send_at != m.send_at {
                    c.messages_retimed.push(Retimed {
                        id: key.clone(),
                        title: m.subject.clone(),
                        before: join(&old.send_at),
                        after: join(&m.send_at),
                    });
                }
                let text_changed = matches!((&old.digest, &m.digest), (Some(a), Some(b)) if a != b);
                if old.subject != m.subject || text_changed {
                    c.messages_reworded.push(Reworded {
                        id: key.clone(),
                        before: old.subject.clone(),
                        after: m.subject.clone(),
                        text_changed,
                    });
                }
            }
        }
    }
    for (key, m) in &old_msgs {
        if !new_msgs.contains_key(key) {
            c.messages_removed.push(item(key, &m.subject));
        }
    }

    let old_items = checklist_items(before);
    let new_items = checklist_items(after);
    let keys: BTreeSet<&(String, String, String)> =
        old_items.keys().chain(new_items.keys()).collect();
    for key in keys {
        let old = old_items.get(key);
        let new = new_items.get(key);
        let (before_status, after_status) = (old.map(|o| o.1.clone()), new.map(|n| n.1.clone()));
        if before_status != after_status {
            c.checklist_items.push(StatusChange {
                checklist: key.0.clone(),
                checklist_title: new.or(old).map(|x| x.0.clone()).unwrap_or_default(),
                section: key.1.clone(),
                text: key.2.clone(),
                before: before_status,
                after: after_status,
            });
        }
    }
    c.documents = compare_documents(&before.documents, &after.documents);
    c.total = c.go_live.len()
        + c.documents.len()
        + c.tasks_added.len()
        + c.tasks_removed.len()
        + c.tasks_retimed.len()
        + c.tasks_reassigned.len()
        + c.messages_added.len()
        + c.messages_removed.len()
        + c.messages_retimed.len()
        + c.messages_reworded.len()
        + c.checklist_items.len();
    c
}

fn instant(rfc3339: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(rfc3339).ok()
}

/// Documents by (kind, id): added, removed, or what differs. An earlier plan without
/// `documents` (older tminus) compares as "nothing known", not as everything added.
fn compare_documents(before: &[DocumentView], after: &[DocumentView]) -> Vec<DocumentChange> {
    if before.is_empty() {
        return Vec::new();
    }
    let key = |d: &DocumentView| (d.kind.clone(), d.id.clone());
    let old: BTreeMap<(String, String), &DocumentView> =
        before.iter().map(|d| (key(d), d)).collect();
    let new: BTreeMap<(String, String), &DocumentView> =
        after.iter().map(|d| (key(d), d)).collect();
    let mut out = Vec::new();
    let change = |d: &DocumentView, what: Vec<String>| DocumentChange {
        kind: d.kind.clone(),
        id: d.id.clone(),
        title: d.title.clone(),
        what,
    };
    for (k, d) in &new {
        let Some(o) = old.get(k) else {
            out.push(change(d, vec!["added".into()]));
            continue;
        };
        let mut what = Vec::new();
        if o.title != d.title {
            what.push(format!("title (was “{}”)", o.title));
        }
        if o.text != d.text {
            what.push("text".into());
        }
        for (i, (a, b)) in o.steps.iter().zip(&d.steps).enumerate() {
            let n = i + 1;
            if a.title != b.title {
                what.push(format!(
                    "step {n} title (was “{}”, now “{}”)",
                    a.title, b.title
                ));
            }
            if a.command != b.command {
                what.push(format!("step {n} ({}) command", b.title));
            }
            if a.duration != b.duration {
                let shown = |s: &str| {
                    if s.is_empty() {
                        "none".to_string()
                    } else {
                        s.to_string()
                    }
                };
                what.push(format!(
                    "step {n} ({}) duration {} → {}",
                    b.title,
                    shown(&a.duration),
                    shown(&b.duration)
                ));
            }
            if a.notes != b.notes {
                what.push(format!("step {n} ({}) validation or rollback", b.title));
            }
        }
        if d.steps.len() > o.steps.len() {
            what.push(format!("{} step(s) added", d.steps.len() - o.steps.len()));
        } else if o.steps.len() > d.steps.len() {
            what.push(format!("{} step(s) removed", o.steps.len() - d.steps.len()));
        }
        if !what.is_empty() {
            out.push(change(d, what));
        }
    }
    for (k, o) in &old {
        if !new.contains_key(k) {
            out.push(change(o, vec!["removed".into()]));
        }
    }
    out
}

fn item(id: &str, title: &str) -> Item {
    Item {
        id: id.to_string(),
        title: title.to_string(),
    }
}

/// The send times of a message; a repeating message's many occurrences as the first and
/// the last with their count (`t1, …, t57 (57 times)`).
fn join(times: &BTreeSet<String>) -> String {
    if times.len() > 4 {
        let first = times.iter().next().cloned().unwrap_or_default();
        let last = times.iter().next_back().cloned().unwrap_or_default();
        return format!("{first}, …, {last} ({} times)", times.len());
    }
    times.iter().cloned().collect::<Vec<_>>().join(", ")
}

struct MessageView {
    subject: String,
    send_at: BTreeSet<String>,
    digest: Option<String>,
}

/// One message is `id`, its wave and locale (`get-ready/pilot/fr`); its send times are a
/// set (recipients in several zones get it at several instants).
fn messages(plan: &PlanView) -> BTreeMap<String, MessageView> {
    let mut out: BTreeMap<String, MessageView> = BTreeMap::new();
    for m in &plan.comms {
        let key = message_key(&m.id, m.wave.as_deref(), &m.locale);
        let digest = plan.comms_digests.get(&key).cloned();
        let entry = out.entry(key).or_insert_with(|| MessageView {
            subject: m.subject.clone(),
            send_at: BTreeSet::new(),
            digest,
        });
        entry.send_at.insert(m.send_at.clone());
    }
    out
}

/// The key of a message in `comms_digests` and in the change lists.
pub fn message_key(id: &str, wave: Option<&str>, locale: &str) -> String {
    match wave {
        Some(w) => format!("{id}/{w}/{locale}"),
        None => format!("{id}/{locale}"),
    }
}

/// (checklist, section, text) → (checklist title, status).
fn checklist_items(plan: &PlanView) -> BTreeMap<(String, String, String), (String, String)> {
    let mut out = BTreeMap::new();
    for c in &plan.checklists {
        for i in &c.items {
            out.insert(
                (c.id.clone(), i.section.clone(), i.text.clone()),
                (c.title.clone(), i.status.clone()),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_that_move_with_t0_are_one_line() {
        // T-0 moves a week; `a` and `b` move with it, `c` also changed its duration.
        let before = parse(br#"{"version":"1.0","go_live":"2027-03-29T18:00:00+01:00","tasks":[
            {"id":"a","title":"A","start":"2027-03-29T18:00:00+01:00","finish":"2027-03-29T18:30:00+01:00","duration_minutes":30},
            {"id":"b","title":"B","start":"2027-03-29T18:30:00+01:00","finish":"2027-03-29T19:30:00+01:00","duration_minutes":60},
            {"id":"c","title":"C","start":"2027-03-29T19:30:00+01:00","finish":"2027-03-29T20:00:00+01:00","duration_minutes":30}]}"#).unwrap();
        let after = parse(br#"{"version":"1.1","go_live":"2027-04-05T18:00:00+01:00","tasks":[
            {"id":"a","title":"A","start":"2027-04-05T18:00:00+01:00","finish":"2027-04-05T18:30:00+01:00","duration_minutes":30},
            {"id":"b","title":"B","start":"2027-04-05T18:30:00+01:00","finish":"2027-04-05T19:30:00+01:00","duration_minutes":60},
            {"id":"c","title":"C","start":"2027-04-05T19:30:00+01:00","finish":"2027-04-05T20:15:00+01:00","duration_minutes":45}]}"#).unwrap();
        let c = compare(&before, &after);
        assert_eq!(c.go_live.len(), 1);
        let moved: Vec<&str> = c.moved_with_go_live.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(moved, ["a", "b"]);
        let retimed: Vec<&str> = c.tasks_retimed.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(retimed, ["c"]);
        assert_eq!(c.total, 2);
    }

    #[test]
    fn reports_each_kind_of_change() {
        let before = parse(br#"{"version":"1.0","go_live":"2027-03-29T18:00:00+01:00",
            "tasks":[{"id":"a","title":"A","owner":"dba","start":"s1","finish":"f1","duration_minutes":30},
                     {"id":"b","title":"B","owner":"dba","start":"s1","finish":"f1","duration_minutes":30}],
            "comms":[{"id":"m","wave":null,"locale":"en","audience":"all","subject":"Hi","send_at":"t1"}],
            "comms_digests":{"m/en":"x"},
            "checklists":[{"id":"c","title":"C","items":[{"section":"S","text":"one","status":"open"}]}]}"#).unwrap();
        let after = parse(br#"{"version":"1.1","go_live":"2027-04-05T18:00:00+01:00",
            "tasks":[{"id":"a","title":"A","owner":"ops","start":"s2","finish":"f2","duration_minutes":30},
                     {"id":"c","title":"C","owner":"dba","start":"s1","finish":"f1","duration_minutes":30}],
            "comms":[{"id":"m","wave":null,"locale":"en","audience":"all","subject":"Hi","send_at":"t1"}],
            "comms_digests":{"m/en":"y"},
            "checklists":[{"id":"c","title":"C","items":[{"section":"S","text":"one","status":"done"}]}]}"#).unwrap();
        let c = compare(&before, &after);
        assert_eq!(c.previous.as_deref(), Some("1.0"));
        assert_eq!(c.go_live.len(), 1);
        assert_eq!(c.tasks_added[0].id, "c");
        assert_eq!(c.tasks_removed[0].id, "b");
        assert_eq!(c.tasks_retimed[0].id, "a");
        assert_eq!(c.tasks_reassigned[0].after.as_deref(), Some("ops"));
        assert!(c.messages_reworded[0].text_changed);
        assert_eq!(c.checklist_items[0].after.as_deref(), Some("done"));
        assert_eq!(c.total, 7);
    }

    #[test]
    fn many_send_times_are_summarised() {
        let set = |n: usize| -> BTreeSet<String> { (1..=n).map(|i| format!("t{i:02}")).collect() };
        assert_eq!(join(&set(2)), "t01, t02");
        assert_eq!(join(&set(57)), "t01, …, t57 (57 times)");
    }
}
