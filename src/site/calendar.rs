//! `training/sessions.ics` and `training/sessions/<id>.ics`: the training sessions as
//! iCalendar (RFC 5545), with stable UIDs so a re-import updates events instead of
//! duplicating them. Times are written in the session's zone (`DTSTART;TZID=…`) with a
//! `VTIMEZONE` for it (see [`super::vtimezone`]), so Outlook and Google Calendar show the
//! planned wall-clock time.

use chrono::Utc;
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike};

use super::vtimezone::vtimezone;
use crate::project::{Project, Session};

/// Every session in one calendar.
pub fn sessions_ics(project: &Project) -> String {
    let all: Vec<&Session> = project.sessions.iter().collect();
    calendar(
        project,
        &all,
        &format!("{} — training sessions", project.site_title()),
    )
}

/// One session on its own (the "Add to calendar" link of that session).
pub fn session_ics(project: &Project, session: &Session) -> String {
    calendar(project, &[session], &session.title)
}

fn calendar(project: &Project, sessions: &[&Session], name: &str) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property((
            "PRODID",
            concat!("-//tminus//tminus ", env!("CARGO_PKG_VERSION"), "//EN"),
        ))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        .name(name)
        .timezone(project.zone.name());
    for s in sessions {
        let tzid = s.start.timezone().name().to_string();
        let end = s.start + s.duration;
        let mut event = Event::new();
        event
            .uid(&format!(
                "{}.session.{}@tminus",
                crate::load::project_slug(project),
                s.id
            ))
            .summary(&s.title)
            .starts(CalendarDateTime::WithTimezone {
                date_time: s.start.naive_local(),
                tzid: tzid.clone(),
            })
            .ends(CalendarDateTime::WithTimezone {
                date_time: end.naive_local(),
                tzid,
            });
        let mut description = Vec::new();
        if let Some(link) = &s.link {
            event.url(link);
            description.push(format!("Join: {link}"));
        }
        if !s.audience.is_empty() {
            description.push(format!("For: {}", s.audience.join(", ")));
        }
        description.push(project.site_title().to_string());
        event.description(&description.join("\n"));
        if let Some(location) = &s.location {
            event.location(location);
        }
        calendar.push(event.done());
    }
    let text = calendar.done().to_string();
    // icalendar adds DTSTAMP/UID to every component it writes, which a VTIMEZONE must not
    // have, so the time zones are written as text and put before the first event.
    let mut zones: Vec<chrono_tz::Tz> = sessions.iter().map(|s| s.start.timezone()).collect();
    zones.sort_by_key(|z| z.name());
    zones.dedup();
    let (Some(first), Some(last)) = (
        sessions.iter().map(|s| s.start).min(),
        sessions.iter().map(|s| s.start + s.duration).max(),
    ) else {
        return text;
    };
    let blocks: String = zones
        .into_iter()
        .map(|z| vtimezone(z, first.with_timezone(&Utc), last.with_timezone(&Utc)))
        .collect();
    match text.find("BEGIN:VEVENT") {
        Some(i) => format!("{}{blocks}{}", &text[..i], &text[i..]),
        None => text,
    }
}
