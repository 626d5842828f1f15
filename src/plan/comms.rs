//! The comms schedule: every template × wave × locale × recipient, with its send time
//! resolved in the zone in force (recipient, then audience, then wave, then project).
//!
//! Recipients of one message who share a send time and locale form one [`ScheduledMessage`],
//! the element of `comms list` and `plan.json`. A repeating message (`repeat:`) is one
//! scheduled message per occurrence, each with its own send time, its number and the time
//! of the next one (an occurrence whose successor is due too is superseded: missed).
//! A gated message (`gate:`) carries its [`Gating`] for its wave.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::project::{AudienceRef, GateOn, GateRef, MessageTemplate, Project, Recipient, Wave};
use crate::time::repeat::{occurrences, MAX_OCCURRENCES};

#[derive(Debug, Clone)]
pub struct ScheduledMessage {
    pub id: String,
    pub wave: Option<String>,
    pub locale: String,
    pub audience: String,
    pub recipients: Recipients,
    /// In the zone in force for these recipients.
    pub send_at: DateTime<Tz>,
    /// Index in `project.messages` of the template (base or locale variant) used.
    pub template: usize,
    /// For a repeating message: which occurrence this is (from 1) and of how many.
    pub occurrence: Option<(usize, usize)>,
    /// For a repeating message: when its next occurrence goes (none for the last).
    pub next_at: Option<DateTime<Utc>>,
    /// Whether it waits for a decision.
    pub gating: Gating,
}

/// The recipients of one scheduled message: some of its audience's, as indexes into the
/// audience's shared list (4 bytes each), never copies — a 100,000-person audience sent six
/// messages is 600,000 indexes, not 600,000 cloned names and addresses. Cloning is cheap
/// (the occurrences of a repeating message share one list). Reads like a slice:
/// `len`, `iter`, `first`, `[i]`.
#[derive(Debug, Clone)]
pub struct Recipients {
    all: Arc<[Recipient]>,
    picks: Arc<[u32]>,
}

impl Recipients {
    /// The recipients `picks` (indexes) of `all`.
    pub fn of(all: Arc<[Recipient]>, picks: Vec<u32>) -> Self {
        debug_assert!(picks.iter().all(|&i| (i as usize) < all.len()));
        Recipients {
            all,
            picks: picks.into(),
        }
    }

    pub fn len(&self) -> usize {
        self.picks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.picks.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Recipient> {
        self.picks.get(i).map(|&j| &self.all[j as usize])
    }

    pub fn first(&self) -> Option<&Recipient> {
        self.get(0)
    }

    /// In order.
    pub fn iter(&self) -> RecipientsIter<'_> {
        RecipientsIter {
            all: &self.all,
            picks: self.picks.iter(),
        }
    }
}

/// The recipients of a [`Recipients`], in order.
#[derive(Clone)]
pub struct RecipientsIter<'a> {
    all: &'a [Recipient],
    picks: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for RecipientsIter<'a> {
    type Item = &'a Recipient;
    fn next(&mut self) -> Option<&'a Recipient> {
        self.picks.next().map(|&j| &self.all[j as usize])
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.picks.size_hint()
    }
}

impl ExactSizeIterator for RecipientsIter<'_> {}

/// Every recipient of a list, in its order (tests, and messages made by hand).
impl From<Vec<Recipient>> for Recipients {
    fn from(all: Vec<Recipient>) -> Self {
        let picks = (0..all.len() as u32).collect();
        Recipients::of(all.into(), picks)
    }
}

impl std::ops::Index<usize> for Recipients {
    type Output = Recipient;
    fn index(&self, i: usize) -> &Recipient {
        &self.all[self.picks[i] as usize]
    }
}

impl<'a> IntoIterator for &'a Recipients {
    type Item = &'a Recipient;
    type IntoIter = RecipientsIter<'a>;
    fn into_iter(self) -> RecipientsIter<'a> {
        self.iter()
    }
}

/// What a message waits for, in its wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gating {
    /// Nothing: it goes by the clock.
    Free,
    /// The decision of go-no-go task `gate`, and the outcome that lets it go.
    Gate { gate: String, on: GateOn },
    /// An `on: no-go` message for a wave its gate map does not name: no gate, so no NO-GO;
    /// it never goes.
    Never,
}

impl Gating {
    /// The gating of `template` for `wave`.
    pub fn of(template: &MessageTemplate, wave: Option<&str>) -> Gating {
        match (template.gate_for(wave), &template.gate) {
            (Some(g), _) => Gating::Gate {
                gate: g.to_string(),
                on: template.on,
            },
            (None, Some(GateRef::PerWave(_))) if template.on == GateOn::NoGo => Gating::Never,
            _ => Gating::Free,
        }
    }

    /// The gate task, if any.
    pub fn gate(&self) -> Option<&str> {
        match self {
            Gating::Gate { gate, .. } => Some(gate),
            _ => None,
        }
    }

    /// Whether and from when a message with this gating may go, given the decision on its
    /// gate known at the instant considered (`decided`).
    pub fn release(&self, decided: impl Fn(&str) -> Option<Decided>) -> Release {
        match self {
            Gating::Free => Release::Free,
            Gating::Never => Release::Cancelled,
            Gating::Gate { gate, on } => match decided(gate) {
                None => Release::Waiting,
                Some(d) if d.go == (*on == GateOn::Go) => Release::After(d.at),
                Some(_) => Release::Cancelled,
            },
        }
    }
}

/// The decision on `gate` recorded at or before `now` in the live log, if any (the latest
/// one when it was decided again).
pub fn decided(project: &Project, gate: &str, now: DateTime<Utc>) -> Option<Decided> {
    super::live::decision(project, gate, now).map(|d| Decided {
        go: d.outcome.is_go(),
        at: d.at.with_timezone(&Utc),
    })
}

/// Where the message `m` stands against its gate at `now`.
pub fn release(project: &Project, m: &ScheduledMessage, now: DateTime<Utc>) -> Release {
    m.gating.release(|gate| decided(project, gate, now))
}

/// Where a gated message stands against its gate at `now`, in a word: `cancelled`, `held`
/// (past its send time, no decision yet) or `scheduled`.
pub fn gate_state(project: &Project, m: &ScheduledMessage, now: DateTime<Utc>) -> &'static str {
    match release(project, m, now) {
        Release::Cancelled => "cancelled",
        Release::Waiting if m.send_at.with_timezone(&Utc) <= now => "held",
        _ => "scheduled",
    }
}

/// A recorded decision on a gate, as a gated message sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    /// GO or CONDITIONAL GO (else NO-GO).
    pub go: bool,
    pub at: DateTime<Utc>,
}

/// Where a gated message stands against its gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Not gated: it goes by the clock.
    Free,
    /// The decision matched `on`: it goes at the later of its send time and this instant.
    After(DateTime<Utc>),
    /// No decision yet: held once its send time has passed.
    Waiting,
    /// The decision did not match `on` (or an `on: no-go` message has no gate in its wave):
    /// never sent.
    Cancelled,
}

impl Release {
    /// When a message scheduled at `send_at` may go (`None`: not now, waiting or cancelled).
    pub fn goes_at(self, send_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Release::Free => Some(send_at),
            Release::After(t) => Some(send_at.max(t)),
            Release::Waiting | Release::Cancelled => None,
        }
    }
}

impl ScheduledMessage {
    /// Tells apart the deliveries of one message and wave: locale and send instant (UTC),
    /// e.g. `en-20270301T1400Z` (09:00 in New York and 09:00 in London differ).
    /// The instant that identifies this occurrence in the ledger (none when it does not
    /// repeat: the ledger identity of a message without `repeat` is unchanged).
    pub fn occurrence_at(&self) -> Option<DateTime<Utc>> {
        self.occurrence.map(|_| self.send_at.with_timezone(&Utc))
    }

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
            // (send time, locale, template) → the indexes of its recipients, in audience
            // order; a handful of groups (zones × locales), so a linear search.
            let mut groups: Vec<(DateTime<Tz>, String, usize, Vec<u32>)> = Vec::new();
            // The send time per zone and the variant per locale, worked out once each.
            let mut times: Vec<(Tz, DateTime<Tz>)> = Vec::new();
            let mut variants: HashMap<Option<&str>, (usize, String)> = HashMap::new();
            for (i, r) in audience.recipients.iter().enumerate() {
                let zone: Tz = r
                    .zone
                    .or(audience.zone)
                    .or(wave.map(|w| w.zone))
                    .unwrap_or(project.zone);
                let send_at = match times.iter().find(|(z, _)| *z == zone) {
                    Some((_, t)) => *t,
                    None => {
                        let t = template.send.resolve(t0, zone);
                        times.push((zone, t));
                        t
                    }
                };
                let (variant, locale) = &*variants
                    .entry(r.locale.as_deref())
                    .or_insert_with(|| pick_variant(project, index, template, r.locale.as_deref()));
                match groups
                    .iter_mut()
                    .find(|g| g.0 == send_at && g.0.offset() == send_at.offset() && g.1 == *locale)
                {
                    Some(g) => g.3.push(i as u32),
                    None => groups.push((send_at, locale.clone(), *variant, vec![i as u32])),
                }
            }
            let groups =
                groups
                    .into_iter()
                    .map(|(send_at, locale, variant, picks)| ScheduledMessage {
                        id: template.id.clone(),
                        wave: wave.map(|w| w.id.clone()),
                        locale,
                        audience: audience_id.clone(),
                        recipients: Recipients::of(audience.recipients.clone(), picks),
                        send_at,
                        template: variant,
                        occurrence: None,
                        next_at: None,
                        gating: Gating::Free,
                    });
            let gating = Gating::of(template, wave.map(|w| w.id.as_str()));
            for g in groups {
                out.extend(repeated(g, template, t0, gating.clone()));
            }
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

/// `m` once, or once per occurrence when `template` repeats (in the zone of `m`'s send time;
/// loading keeps the count within [`MAX_OCCURRENCES`], a cap here too).
fn repeated(
    mut m: ScheduledMessage,
    template: &MessageTemplate,
    t0: DateTime<Utc>,
    gating: Gating,
) -> Vec<ScheduledMessage> {
    m.gating = gating;
    let Some(r) = template.repeat else {
        return vec![m];
    };
    let zone = m.send_at.timezone();
    let until = r.until.resolve(t0, zone);
    let times =
        occurrences(m.send_at, r.every, until, MAX_OCCURRENCES).unwrap_or_else(|| vec![m.send_at]);
    let n = times.len();
    (0..n)
        .map(|i| ScheduledMessage {
            send_at: times[i],
            occurrence: Some((i + 1, n)),
            next_at: times.get(i + 1).map(|t| t.with_timezone(&Utc)),
            ..m.clone()
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{Body, GateRef, Named};
    use chrono::TimeZone;

    fn template(gate: Option<GateRef>, on: GateOn) -> MessageTemplate {
        MessageTemplate {
            id: "m".into(),
            locale: None,
            subject: "S".into(),
            send: crate::time::TimeSpec::Exact(chrono::Duration::zero()),
            audience: AudienceRef::Wave,
            per_wave: true,
            gate,
            on,
            repeat: None,
            id_at: None,
            subject_at: None,
            body: Body {
                markdown: String::new(),
                file: "m.md".into(),
                first_line: 1,
            },
        }
    }

    fn named(id: &str) -> Named {
        Named {
            id: id.into(),
            at: None,
        }
    }

    /// A gate map gates the waves it names; the others are free, except that an
    /// `on: no-go` message is cancelled for them (no gate, no NO-GO).
    #[test]
    fn a_gate_map_gates_only_the_waves_it_names() {
        let map = Some(GateRef::PerWave(vec![("main".into(), named("gng-main"))]));
        let go = template(map.clone(), GateOn::Go);
        let no_go = template(map, GateOn::NoGo);
        let gate = |on| Gating::Gate {
            gate: "gng-main".into(),
            on,
        };
        assert_eq!(Gating::of(&go, Some("main")), gate(GateOn::Go));
        assert_eq!(Gating::of(&go, Some("pilot")), Gating::Free);
        assert_eq!(Gating::of(&no_go, Some("main")), gate(GateOn::NoGo));
        assert_eq!(Gating::of(&no_go, Some("pilot")), Gating::Never);
        let one = template(Some(GateRef::One(named("gng"))), GateOn::Go);
        assert_eq!(Gating::of(&one, Some("pilot")).gate(), Some("gng"));
        assert_eq!(Gating::of(&template(None, GateOn::Go), None), Gating::Free);
    }

    /// The release rule: matching decision → after it; other decision → cancelled; none →
    /// waiting; `Never` → cancelled.
    #[test]
    fn a_decision_releases_or_cancels() {
        let at = Utc.with_ymd_and_hms(2027, 3, 28, 3, 0, 0).unwrap();
        let go = |g: bool| move |_: &str| Some(Decided { go: g, at });
        let gated = |on| Gating::Gate {
            gate: "g".into(),
            on,
        };
        assert_eq!(gated(GateOn::Go).release(go(true)), Release::After(at));
        assert_eq!(gated(GateOn::Go).release(go(false)), Release::Cancelled);
        assert_eq!(gated(GateOn::NoGo).release(go(false)), Release::After(at));
        assert_eq!(gated(GateOn::NoGo).release(go(true)), Release::Cancelled);
        assert_eq!(gated(GateOn::Go).release(|_| None), Release::Waiting);
        assert_eq!(Gating::Never.release(go(false)), Release::Cancelled);
        assert_eq!(Gating::Free.release(go(false)), Release::Free);
        let before = at - chrono::Duration::hours(1);
        assert_eq!(Release::After(at).goes_at(before), Some(at));
        assert_eq!(Release::After(before).goes_at(at), Some(at));
    }
}
