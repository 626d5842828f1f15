//! `training/sessions.ics`: the training sessions, each in its own zone (TZID + VTIMEZONE),
//! with stable UIDs so a re-import updates events instead of duplicating them.

use chrono::{DateTime, Utc};
use icalendar::{Component, Event, EventLike};

use super::Feed;
use crate::project::Project;

pub fn sessions_ics(project: &Project, stamp: DateTime<Utc>) -> String {
    let mut feed = Feed::new(&format!("{} — training sessions", project.site_title()));
    for s in &project.sessions {
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
        if let Some(link) = &s.link {
            event.url(link);
            event.description(&format!("Join: {link}"));
        }
        feed.calendar.push(event.done());
    }
    feed.finish()
}
