//! `training/sessions.ics` (every session) and `training/sessions/<id>.ics` (one session,
//! the "Add to calendar" link): each event in its own zone (TZID + VTIMEZONE), with stable
//! UIDs so a re-import updates events instead of duplicating them.

use chrono::{DateTime, Utc};
use icalendar::{Component, Event, EventLike};

use super::Feed;
use crate::project::{Project, Session};

/// Every session in one calendar.
pub fn sessions_ics(project: &Project, stamp: DateTime<Utc>) -> String {
    let all: Vec<&Session> = project.sessions.iter().collect();
    feed(
        project,
        &all,
        &format!("{} — training sessions", project.site_title()),
        stamp,
    )
}

/// One session on its own.
pub fn session_ics(project: &Project, session: &Session, stamp: DateTime<Utc>) -> String {
    feed(project, &[session], &session.title, stamp)
}

fn feed(project: &Project, sessions: &[&Session], name: &str, stamp: DateTime<Utc>) -> String {
    let mut feed = Feed::new(name);
    for s in sessions {
        let start = feed.time(s.start);
        let end = feed.time(s.start + s.duration);
        let mut event = Event::new();
        event
            .uid(&format!(
                "{}.session.{}@tminus",
                crate::load::project_slug(project),
                s.id
            ))
            .timestamp(stamp)
            .summary(&s.title)
            .starts(start)
            .ends(end);
        if let Some(location) = &s.location {
            event.location(location);
        }
        let mut description = Vec::new();
        if let Some(link) = &s.link {
            event.url(link);
            description.push(format!("Join: {link}"));
        }
        if let Some(capacity) = s.capacity {
            description.push(format!("Places: {capacity}"));
        }
        if !description.is_empty() {
            event.description(&description.join("\n"));
        }
        feed.calendar.push(event.done());
    }
    feed.finish()
}
