//! `training/sessions.ics`: the training sessions as an iCalendar (RFC 5545) feed, with
//! stable UIDs so a re-import updates events instead of duplicating them.

use chrono::Utc;
use icalendar::{Calendar, Component, Event, EventLike};

use crate::project::Project;

pub fn sessions_ics(project: &Project) -> String {
    let mut calendar = Calendar::new();
    calendar.name(&format!("{} — training sessions", project.site_title()));
    for s in &project.sessions {
        let mut event = Event::new();
        event
            .uid(&format!(
                "{}.session.{}@tminus",
                crate::load::project_slug(project),
                s.id
            ))
            .summary(&s.title)
            .starts(s.start.with_timezone(&Utc))
            .ends((s.start + s.duration).with_timezone(&Utc));
        if let Some(location) = &s.location {
            event.location(location);
        }
        if let Some(link) = &s.link {
            event.url(link);
            event.description(&format!("Join: {link}"));
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}
