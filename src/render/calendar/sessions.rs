//! `training/sessions.ics` (every session) and `training/sessions/<id>.ics` (one session,
//! the "Add to calendar" link): each event in the zone of its audience (TZID + VTIMEZONE).
//!
//! A session's UID is `<project-slug>.session.<id>@tminus`, and its id comes from its `id:`
//! or else from its title alone (see `load::documents`), never from its time: a rescheduled
//! session updates the event already imported instead of leaving a stale copy. Its
//! SEQUENCE follows the rule of the cutover tasks ([`super::cutover`]): the previous
//! `plan.json` in the output folder records each session's start, finish and sequence, and
//! a session that moved gets the previous sequence + 1.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use icalendar::{Component, Event, EventLike};

use super::cutover::PreviousTask;
use super::Feed;
use crate::project::{Project, Session};

/// Every session in one calendar.
pub fn sessions_ics(
    project: &Project,
    sequences: &BTreeMap<String, u32>,
    stamp: DateTime<Utc>,
) -> String {
    let all: Vec<&Session> = project.sessions.iter().collect();
    feed(
        project,
        &all,
        sequences,
        &format!("{} — training sessions", project.site_title()),
        stamp,
    )
}

/// One session on its own.
pub fn session_ics(
    project: &Project,
    session: &Session,
    sequences: &BTreeMap<String, u32>,
    stamp: DateTime<Utc>,
) -> String {
    feed(project, &[session], sequences, &session.title, stamp)
}

/// The UID of a session's event.
pub fn uid(project: &Project, session: &Session) -> String {
    format!(
        "{}.session.{}@tminus",
        crate::load::project_slug(project),
        session.id
    )
}

/// The zone a session's times are written in: the zone in force for its audience, in the
/// order of SPEC §2 — the audience's own zone, else the zone of the wave(s) it is the
/// audience of (when set on the wave and the same for all of them), else the project's. A
/// roster role has no zone of its own, so it counts as the project's; a session whose
/// audiences are in different zones is written in the project zone.
pub fn zone(project: &Project, session: &Session) -> Tz {
    let mut zones = session.audience.iter().map(|a| audience_zone(project, a));
    match zones.next() {
        Some(first) if zones.all(|z| z == first) => first,
        _ => project.zone,
    }
}

fn audience_zone(project: &Project, audience: &str) -> Tz {
    if let Some(zone) = project.audiences.get(audience).and_then(|a| a.zone) {
        return zone;
    }
    let mut waves = project
        .waves
        .iter()
        .filter(|w| w.own_zone && w.audience.as_deref() == Some(audience))
        .map(|w| w.zone);
    match waves.next() {
        Some(first) if waves.all(|z| z == first) => first,
        _ => project.zone,
    }
}

fn feed(
    project: &Project,
    sessions: &[&Session],
    sequences: &BTreeMap<String, u32>,
    name: &str,
    stamp: DateTime<Utc>,
) -> String {
    let mut feed = Feed::new(name);
    for s in sessions {
        let zone = zone(project, s);
        let start = s.start.with_timezone(&zone);
        let mut event = Event::new();
        feed.span(&mut event, start, start + s.duration);
        event
            .uid(&uid(project, s))
            .timestamp(stamp)
            .sequence(sequences.get(&s.id).copied().unwrap_or(0))
            .summary(&s.title);
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

/// Each session's SEQUENCE: the previous one, +1 when the session moved (its start or
/// finish changed); 0 for a new session.
pub fn sequences(
    previous: &HashMap<String, PreviousTask>,
    project: &Project,
) -> BTreeMap<String, u32> {
    project
        .sessions
        .iter()
        .map(|s| {
            let finish = s.start + s.duration;
            let seq = match previous.get(&s.id) {
                Some(p) if p.start == s.start && p.finish == finish => p.sequence,
                Some(p) => p.sequence.saturating_add(1),
                None => 0,
            };
            (s.id.clone(), seq)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn project() -> Project {
        let mut p = crate::load::tests_support::empty_project();
        p.zone = chrono_tz::Europe::London;
        p.name = "Formation en français".into();
        for (id, zone) in [
            ("boston", Some(chrono_tz::America::New_York)),
            ("paris", Some(chrono_tz::Europe::Paris)),
            ("everyone", None),
        ] {
            p.audiences.insert(
                id.into(),
                crate::project::Audience {
                    id: id.into(),
                    zone,
                    description: None,
                    recipients: Vec::new().into(),
                    duplicates: Vec::new(),
                },
            );
        }
        p
    }

    fn session(id: &str, audience: &[&str]) -> Session {
        Session {
            id: id.into(),
            title: "Induction, part 1; \"hands-on\"".into(),
            start: chrono_tz::Europe::London
                .with_ymd_and_hms(2027, 2, 22, 14, 0, 0)
                .unwrap(),
            duration: Duration::hours(2),
            location: Some("Room 1, Boston".into()),
            link: None,
            capacity: None,
            audience: audience.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn a_session_is_written_in_the_zone_of_its_audience() {
        let p = project();
        let ny = session("induction", &["boston"]);
        assert_eq!(zone(&p, &ny), chrono_tz::America::New_York);
        let text = session_ics(&p, &ny, &BTreeMap::new(), Utc::now());
        // 14:00 in London on 22 February is 09:00 in New York.
        assert!(
            text.contains("DTSTART;TZID=America/New_York:20270222T090000\r\n"),
            "{text}"
        );
        assert!(text.contains("DTEND;TZID=America/New_York:20270222T110000\r\n"));
        assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"));
        assert!(!text.contains("Europe/London"), "{text}");

        assert_eq!(zone(&p, &session("a", &["everyone"])), p.zone);
        assert_eq!(zone(&p, &session("a", &[])), p.zone);
        assert_eq!(zone(&p, &session("a", &["cutover-lead"])), p.zone);
        assert_eq!(
            zone(&p, &session("a", &["paris", "paris"])),
            chrono_tz::Europe::Paris
        );
        assert_eq!(zone(&p, &session("a", &["paris", "boston"])), p.zone);
        assert_eq!(zone(&p, &session("a", &["paris", "everyone"])), p.zone);

        // An audience without a zone of its own takes that of the wave it is the audience
        // of, when the wave sets one.
        let mut p = p;
        let wave = |zone, own_zone| crate::project::Wave {
            id: "main".into(),
            name: "Main".into(),
            go_live: p.go_live,
            zone,
            own_zone,
            audience: Some("everyone".into()),
            description: None,
        };
        p.waves = vec![wave(p.zone, false)];
        assert_eq!(zone(&p, &session("a", &["everyone"])), p.zone);
        p.waves = vec![wave(chrono_tz::Asia::Tokyo, true)];
        assert_eq!(
            zone(&p, &session("a", &["everyone"])),
            chrono_tz::Asia::Tokyo
        );
    }

    #[test]
    fn the_uid_has_no_time_and_the_sequence_grows_when_the_session_moves() {
        let p = project();
        let s = session("induction", &[]);
        assert_eq!(
            uid(&p, &s),
            "formation-en-francais.session.induction@tminus"
        );
        let mut moved = s.clone();
        moved.start += Duration::days(1);
        assert_eq!(uid(&p, &moved), uid(&p, &s));

        let mut p = p;
        p.sessions = vec![moved.clone(), session("new", &[])];
        let previous = HashMap::from([(
            "induction".to_string(),
            PreviousTask {
                start: s.start.fixed_offset(),
                finish: (s.start + s.duration).fixed_offset(),
                sequence: 2,
            },
        )]);
        let seq = sequences(&previous, &p);
        assert_eq!(seq["induction"], 3);
        assert_eq!(seq["new"], 0);
        p.sessions = vec![s.clone()];
        assert_eq!(sequences(&previous, &p)["induction"], 2);
        let text = sessions_ics(&p, &sequences(&previous, &p), Utc::now());
        assert!(text.contains("SEQUENCE:2\r\n"), "{text}");
        // Text values are escaped.
        assert!(text.contains("SUMMARY:Induction\\, part 1\\; \"hands-on\"\r\n"));
        assert!(text.contains("LOCATION:Room 1\\, Boston\r\n"));
    }
}
