//! Pages for readers: the training catalogue (`training/index.html`) — material by kind, a
//! learning path per role, the sessions calendar — and the search page
//! (`search/index.html`).

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use super::format::time_view;
use super::{PageJob, SiteInput};
use crate::project::{Guide, Project, Session};
use crate::urls;

/// A guide as the catalogue and its own page list it.
pub(super) fn guide_summary(g: &Guide, root: &str) -> Value {
    json!({"id": g.id, "title": g.title, "summary": g.summary, "kind": g.kind, "kind_label": g.kind.label(),
        "audience": g.audience, "duration": g.duration.map(crate::time::format_duration), "order": g.order,
        "href": format!("{root}{}", urls::guide(&g.id))})
}

pub fn training_index(input: &SiteInput) -> PageJob {
    let p = input.project;
    let path = urls::TRAINING;
    let root = input.root(path);
    let mut ctx = input.base_context(path, "training", "Training");

    let mut guides: Vec<&Guide> = p.guides.iter().collect();
    guides.sort_by_key(|g| (g.kind, g.order.unwrap_or(i64::MAX), g.title.clone()));
    let mut groups: Vec<Value> = Vec::new();
    for g in guides {
        let summary = guide_summary(g, &root);
        match groups.last_mut() {
            Some(group) if group["kind"] == json!(g.kind) => {
                group["guides"].as_array_mut().expect("array").push(summary)
            }
            _ => groups.push(json!({"kind": g.kind, "label": g.kind.label(), "guides": [summary]})),
        }
    }

    let now = input.built_at;
    let sessions: Vec<Value> = ordered_sessions(p, now)
        .into_iter()
        .map(|s| session_view(s, &root, now))
        .collect();
    let upcoming = sessions
        .iter()
        .filter(|s| s["past"] == json!(false))
        .count();

    ctx.insert("groups", &groups);
    ctx.insert("paths", &learning_paths(p, &root, now));
    ctx.insert("sessions", &sessions);
    ctx.insert("upcoming_count", &upcoming);
    ctx.insert("timezone", p.zone.name());
    ctx.insert(
        "calendar_href",
        &format!("{root}{}", urls::SESSIONS_CALENDAR),
    );
    PageJob::ready(path, "training.html", ctx)
}

/// Upcoming sessions first (soonest first), then past ones (most recent first).
fn ordered_sessions(p: &Project, now: chrono::DateTime<Utc>) -> Vec<&Session> {
    let (mut upcoming, mut past): (Vec<&Session>, Vec<&Session>) = p
        .sessions
        .iter()
        .partition(|s| (s.start + s.duration).with_timezone(&Utc) >= now);
    upcoming.sort_by_key(|s| (s.start, s.id.clone()));
    past.sort_by_key(|s| (std::cmp::Reverse(s.start), s.id.clone()));
    upcoming.extend(past);
    upcoming
}

fn session_view(s: &Session, root: &str, now: chrono::DateTime<Utc>) -> Value {
    let finish = s.start + s.duration;
    json!({
        "id": s.id, "anchor": format!("session-{}", s.id), "title": s.title,
        "start": time_view(&s.start), "finish": time_view(&finish),
        "timezone": s.start.timezone().name(),
        "duration": crate::time::format_duration(s.duration), "location": s.location, "link": s.link,
        "capacity": s.capacity, "audience": s.audience,
        "past": finish.with_timezone(&Utc) < now,
        "ics_href": format!("{root}{}", urls::session_calendar(&s.id)),
    })
}

/// Who a guide can be for, in a stable order: audiences first (the people learning the new
/// system, by id), then roster roles (roster order), then any other name guides mention.
fn path_roles(p: &Project) -> Vec<String> {
    let named: Vec<&str> = p
        .guides
        .iter()
        .flat_map(|g| g.audience.iter().map(String::as_str))
        .collect();
    let mut roles: Vec<String> = Vec::new();
    let candidates = p
        .audiences
        .keys()
        .map(String::as_str)
        .chain(p.roster.iter().map(|r| r.role.as_str()))
        .chain(named.iter().copied());
    for r in candidates {
        if named.contains(&r) && !roles.iter().any(|x| x == r) {
            roles.push(r.to_string());
        }
    }
    roles
}

/// A learning path per role: its guides by `order`, then kind, then title, with the total
/// time, and the upcoming sessions for it.
fn learning_paths(p: &Project, root: &str, now: chrono::DateTime<Utc>) -> Vec<Value> {
    path_roles(p)
        .into_iter()
        .map(|role| {
            let mut guides: Vec<&Guide> =
                p.guides.iter().filter(|g| g.audience.contains(&role)).collect();
            guides.sort_by_key(|g| (g.order.unwrap_or(i64::MAX), g.kind, g.title.clone()));
            let total: Duration = guides.iter().filter_map(|g| g.duration).sum();
            let steps: Vec<Value> = guides
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let mut v = guide_summary(g, root);
                    v["step"] = json!(i + 1);
                    v
                })
                .collect();
            let sessions: Vec<Value> = ordered_sessions(p, now)
                .into_iter()
                .filter(|s| s.audience.contains(&role))
                .map(|s| session_view(s, root, now))
                .filter(|s| s["past"] == json!(false))
                .collect();
            let person = p.person(&role);
            let (kind, description) = match (person, p.audiences.get(&role)) {
                (Some(_), _) => ("role", None),
                (None, Some(a)) => ("audience", a.description.clone()),
                (None, None) => ("audience", None),
            };
            json!({
                "id": role, "anchor": format!("path-{role}"), "label": p.role_label(&role), "kind": kind,
                "person": person.map(|r| json!({"name": r.name, "email": r.email})),
                "description": description,
                "guides": steps, "total": crate::time::format_duration(total),
                "total_minutes": total.num_minutes(), "sessions": sessions,
            })
        })
        .collect()
}

/// `search/index.html`: the full results of a search (`?q=`), filled in by `site.js`.
pub fn search_page(input: &SiteInput) -> PageJob {
    let path = urls::SEARCH;
    let ctx = input.base_context(path, "search", "Search");
    PageJob::ready(path, "search.html", ctx)
}
