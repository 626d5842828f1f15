//! The comms schedule: every template × wave × locale × recipient, with its send time
//! resolved in the zone in force (recipient, then audience, then wave, then project).
//!
//! Recipients of one message who share a send time and locale form one [`ScheduledMessage`],
//! the element of `comms list` and `plan.json`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::project::{AudienceRef, MessageTemplate, Project, Recipient, Wave};

#[derive(Debug, Clone)]
pub struct ScheduledMessage {
    pub id: String,
    pub wave: Option<String>,
    pub locale: String,
    pub audience: String,
    pub recipients: Vec<Recipient>,
    /// In the zone in force for these recipients.
    pub send_at: DateTime<Tz>,
    /// Index in `project.messages` of the template (base or locale variant) used.
    pub template: usize,
}

impl ScheduledMessage {
    /// Tells apart the deliveries of one message and wave: locale and send instant (UTC),
    /// e.g. `en-20270301T1400Z` (09:00 in New York and 09:00 in London differ).
    pub fn delivery_key(&self) -> String {
        format!(
            "{}-{}",
            self.locale,
            self.send_at.with_timezone(&Utc).format("%Y%m%dT%H%MZ")
        )
    }

    /// A stable key: `get-ready`, `get-ready/pilot`, `get-ready/pilot/fr` …, also the
    /// basis of its page's folder name.
    pub fn slug(&self) -> String {
        let mut s = self.id.clone();
        if let Some(w) = &self.wave {
            s.push_str("--");
            s.push_str(w);
        }
        s
    }
}

/// Where `template` goes: once (no wave) or once per wave for a per-wave template, each
/// with the id of its audience — named, or the wave's own; a wave without one is skipped.
pub fn targets<'a>(
    project: &'a Project,
    template: &'a MessageTemplate,
) -> impl Iterator<Item = (Option<&'a Wave>, String)> + 'a {
    let waves: Vec<Option<&Wave>> = if template.per_wave {
        project.waves.iter().map(Some).collect()
    } else {
        vec![None]
    };
    waves.into_iter().filter_map(move |wave| {
        let audience = match (&template.audience, wave) {
            (AudienceRef::Named(a), _) => a.clone(),
            (AudienceRef::Wave, Some(w)) => w.audience.clone()?,
            (AudienceRef::Wave, None) => return None,
        };
        Some((wave, audience))
    })
}

/// Expands every base template of `project` into its scheduled messages, ordered by send
/// time, then id, wave and locale.
pub fn expand(project: &Project) -> Vec<ScheduledMessage> {
    let mut out = Vec::new();
    for (index, template) in project.messages.iter().enumerate() {
        if template.locale.is_some() {
            continue;
        }
        for (wave, audience_id) in targets(project, template) {
            let Some(audience) = project.audiences.get(&audience_id) else {
                continue;
            };
            let (t0, _) = project.t0(wave.map(|w| w.id.as_str()));
            let t0 = t0.with_timezone(&Utc);
            let mut groups: Vec<ScheduledMessage> = Vec::new();
            for r in &audience.recipients {
                let zone: Tz = r
                    .zone
                    .or(audience.zone)
                    .or(wave.map(|w| w.zone))
                    .unwrap_or(project.zone);
                let send_at = template.send.resolve(t0, zone);
                let (variant, locale) = pick_variant(project, index, template, r.locale.as_deref());
                match groups.iter_mut().find(|g| {
                    g.send_at == send_at
                        && g.send_at.offset() == send_at.offset()
                        && g.locale == locale
                }) {
                    Some(g) => g.recipients.push(r.clone()),
                    None => groups.push(ScheduledMessage {
                        id: template.id.clone(),
                        wave: wave.map(|w| w.id.clone()),
                        locale,
                        audience: audience_id.clone(),
                        recipients: vec![r.clone()],
                        send_at,
                        template: variant,
                    }),
                }
            }
            out.extend(groups);
        }
    }
    out.sort_by(|a, b| {
        (a.send_at.with_timezone(&Utc), &a.id, &a.wave, &a.locale).cmp(&(
            b.send_at.with_timezone(&Utc),
            &b.id,
            &b.wave,
            &b.locale,
        ))
    });
    out
}

/// The locale variant of `base` for a recipient locale: exact match, then the language
/// alone (`fr-CA` → `fr`), else the base template in the project's locale.
fn pick_variant(
    project: &Project,
    base_index: usize,
    base: &MessageTemplate,
    wanted: Option<&str>,
) -> (usize, String) {
    if let Some(wanted) = wanted.map(str::to_ascii_lowercase) {
        let language = wanted.split('-').next().unwrap_or(&wanted).to_string();
        for candidate in [&wanted, &language] {
            if let Some((i, m)) = project.messages.iter().enumerate().find(|(_, m)| {
                m.id == base.id
                    && m.locale.as_deref().map(str::to_ascii_lowercase).as_deref()
                        == Some(candidate.as_str())
            }) {
                return (i, m.locale.clone().unwrap_or_default());
            }
        }
    }
    (base_index, project.locale.clone())
}

/// The name of each delivery's files (its `.eml`), in the order of `messages`: its
/// [`ScheduledMessage::delivery_key`], unique within its message and wave except when
/// deliveries at the same instant reach recipients in different zones (who see different
/// local times: different emails). Those take their zone as a suffix
/// (`en-20270316T0800Z-america-new-york`), except the one in `project_zone`.
pub fn file_keys(messages: &[ScheduledMessage], project_zone: Tz) -> Vec<String> {
    let mut seen: HashMap<(&str, Option<&str>, String), usize> = HashMap::new();
    for m in messages {
        *seen
            .entry((m.id.as_str(), m.wave.as_deref(), m.delivery_key()))
            .or_default() += 1;
    }
    messages
        .iter()
        .map(|m| {
            let key = m.delivery_key();
            let zone = m.send_at.timezone();
            let shared = seen[&(m.id.as_str(), m.wave.as_deref(), key.clone())] > 1;
            if !shared || zone == project_zone {
                return key;
            }
            let slug: String = zone
                .name()
                .chars()
                .map(|c| match c {
                    'a'..='z' | 'A'..='Z' | '0'..='9' | '+' => c.to_ascii_lowercase(),
                    _ => '-',
                })
                .collect();
            format!("{key}-{slug}")
        })
        .collect()
}
