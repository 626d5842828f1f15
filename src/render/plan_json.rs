//! `plan.json` and the JSON of `comms list`: the machine-readable plan (SPEC §7).

use chrono::DateTime;
use serde::Serialize;

use crate::delivery::Counts;
use crate::plan::comms::{gate_state, Gating};
use crate::project::GateOn;
use crate::render::{CommsEntry, SiteInput};
use crate::time::stamp::rfc3339;

/// The addresses of a message's recipients, serialized as a list straight from the
/// audience (no list of 600,000 references made first).
pub struct Emails<'a>(pub &'a crate::plan::comms::Recipients);

impl Serialize for Emails<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|r| r.email.as_str()))
    }
}

impl std::fmt::Debug for Emails<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|r| &r.email))
            .finish()
    }
}

/// One element of `comms list --format json` (and of `plan.json`'s `comms`).
#[derive(Debug, Serialize)]
pub struct CommsItem<'a> {
    pub id: &'a str,
    pub wave: Option<&'a str>,
    pub locale: &'a str,
    pub audience: &'a str,
    pub recipients: Emails<'a>,
    pub subject: &'a str,
    pub send_at: String,
    /// For a repeating message: which occurrence this is (from 1) and of how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurrences: Option<usize>,
    /// For a gated message: the go-no-go task it waits on (absent when not gated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<&'a str>,
    /// For a gated message: `go` or `no-go`, the outcome that lets it go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on: Option<&'static str>,
    /// For a gated message, where it stands against its gate as of now: `scheduled`
    /// (waiting for its time, or released by the decision), `held` or `cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
}

/// The elements of `comms list --format json` and `plan.json`'s `comms`, the gated
/// messages' `state` as of `now`.
pub fn comms_items<'a>(
    entries: &'a [CommsEntry],
    project: &crate::project::Project,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<CommsItem<'a>> {
    entries
        .iter()
        .map(|e| {
            let m = &e.message;
            let gated = m.gating != Gating::Free;
            CommsItem {
                occurrence: m.occurrence.map(|(i, _)| i),
                occurrences: m.occurrence.map(|(_, n)| n),
                gate: m.gating.gate(),
                on: match &m.gating {
                    Gating::Gate { on, .. } => Some(on.as_str()),
                    Gating::Never => Some(GateOn::NoGo.as_str()),
                    Gating::Free => None,
                },
                state: gated.then(|| gate_state(project, m, now)),
                id: &m.id,
                wave: m.wave.as_deref(),
                locale: &m.locale,
                audience: &m.audience,
                recipients: Emails(&m.recipients),
                subject: &e.subject,
                send_at: rfc3339(&m.send_at),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct Plan<'a> {
    version: &'a str,
    project: &'a str,
    system: &'a str,
    status: crate::model::project::Status,
    generated_at: String,
    timezone: &'a str,
    go_live: String,
    waves: Vec<WaveItem<'a>>,
    tasks: Vec<TaskItem<'a>>,
    critical_path: Vec<&'a str>,
    window: Option<Window>,
    point_of_no_return: Option<&'a str>,
    rollback_deadline: Option<String>,
    comms: Vec<CommsItem<'a>>,
    /// `id/wave/locale` → SHA-256 of the message's plain text: lets "what changed" see a
    /// reworded message whose subject is the same (extension).
    comms_digests: std::collections::BTreeMap<String, String>,
    /// Runbooks (each step too), guides and pages by a SHA-256 of what they say: lets "what
    /// changed" see an edited command, duration or text (extension).
    documents: Vec<super::changes::DocumentView>,
    checklists: Vec<ChecklistItem<'a>>,
    /// Training sessions with the SEQUENCE of their calendar event (extension).
    sessions: Vec<SessionItem<'a>>,
    rehearsals: Vec<RehearsalItem<'a>>,
    /// Where the deliveries stood at `generated_at`, when the project has a send ledger
    /// (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery: Option<DeliveryItem<'a>>,
    /// SPEC §9, when the project has hypercare.
    #[serde(skip_serializing_if = "Option::is_none")]
    hypercare: Option<crate::plan::hypercare::report::PlanItem<'a>>,
    /// SPEC §8, when the project has a live log.
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<&'a crate::plan::live::LiveState>,
}

/// `plan.json`'s `delivery`: the counts of the whole schedule and of each element of
/// `comms` (same order); per-recipient rows are in `comms status --format json`.
#[derive(Serialize)]
struct DeliveryItem<'a> {
    as_of: String,
    total: Counts,
    comms: Vec<DeliveryCommsItem<'a>>,
}

#[derive(Serialize)]
struct DeliveryCommsItem<'a> {
    id: &'a str,
    wave: Option<&'a str>,
    locale: &'a str,
    send_at: String,
    #[serde(flatten)]
    counts: Counts,
}

#[derive(Serialize)]
struct RehearsalItem<'a> {
    name: &'a str,
    title: &'a str,
    date: Option<&'a str>,
    t0: Option<String>,
    tasks: Vec<RehearsalTaskItem<'a>>,
    forecast: Forecast<'a>,
}

#[derive(Serialize)]
struct RehearsalTaskItem<'a> {
    id: &'a str,
    actual_start: String,
    actual_finish: String,
    planned_minutes: i64,
    actual_minutes: i64,
    variance_minutes: i64,
    /// Null for a task planned at zero minutes.
    variance_percent: Option<f64>,
    notes: Option<&'a str>,
}

#[derive(Serialize)]
struct Forecast<'a> {
    window: Option<Window>,
    /// Forecast finish minus planned finish (positive: later).
    finish_delta_minutes: Option<i64>,
    critical_path: Vec<&'a str>,
    point_of_no_return_start: Option<String>,
}

#[derive(Serialize)]
struct WaveItem<'a> {
    id: &'a str,
    name: &'a str,
    go_live: String,
    timezone: &'a str,
    audience: Option<&'a str>,
}

#[derive(Serialize)]
struct TaskItem<'a> {
    id: &'a str,
    title: &'a str,
    #[serde(rename = "type")]
    kind: crate::model::cutover::TaskKind,
    owner: Option<&'a str>,
    wave: Option<&'a str>,
    phase: Option<&'a str>,
    after: &'a [String],
    start: String,
    finish: String,
    duration_minutes: i64,
    slack_minutes: i64,
    critical: bool,
    runbook: Option<&'a str>,
    /// The SEQUENCE of the task's calendar event (bumped when the task moves).
    sequence: u32,
}

#[derive(Serialize)]
struct SessionItem<'a> {
    id: &'a str,
    title: &'a str,
    start: String,
    finish: String,
    /// The zone its calendar event is written in (its audience's, else the project's).
    timezone: &'a str,
    /// The SEQUENCE of the session's calendar event (bumped when the session moves).
    sequence: u32,
}

#[derive(Serialize)]
struct Window {
    start: String,
    finish: String,
    minutes: i64,
}

#[derive(Serialize)]
struct ChecklistItem<'a> {
    id: &'a str,
    title: &'a str,
    recommendation: crate::model::checklist::Recommendation,
    due: Option<String>,
    items: Vec<ChecklistEntry<'a>>,
}

#[derive(Serialize)]
struct ChecklistEntry<'a> {
    section: &'a str,
    text: &'a str,
    status: crate::model::checklist::ItemStatus,
    critical: bool,
    owner: Option<&'a str>,
}

/// `plan.json` of the version `input` makes, generated at its build time.
pub fn to_json(input: &SiteInput) -> Vec<u8> {
    let p = input.project;
    let s = input.schedule;
    let generated_at = input.built_at;
    let plan = Plan {
        version: &p.version,
        project: &p.name,
        system: &p.system,
        status: p.status,
        generated_at: generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        timezone: p.zone.name(),
        go_live: rfc3339(&p.go_live),
        waves: p
            .waves
            .iter()
            .map(|w| WaveItem {
                id: &w.id,
                name: &w.name,
                go_live: rfc3339(&w.go_live),
                timezone: w.zone.name(),
                audience: w.audience.as_deref(),
            })
            .collect(),
        tasks: p
            .cutover
            .tasks
            .iter()
            .zip(&s.tasks)
            .map(|(t, st)| TaskItem {
                id: &t.id,
                title: &t.title,
                kind: t.kind,
                owner: t.owner.as_deref(),
                wave: t.wave.as_deref(),
                phase: t.phase.as_deref(),
                after: &t.after,
                start: rfc3339(&st.start),
                finish: rfc3339(&st.finish),
                duration_minutes: t.duration.num_minutes(),
                slack_minutes: st.slack.num_minutes(),
                critical: st.critical,
                runbook: t.runbook.as_deref(),
                sequence: input.calendar_sequences.get(&t.id).copied().unwrap_or(0),
            })
            .collect(),
        critical_path: s
            .critical_path
            .iter()
            .map(|&i| p.cutover.tasks[i].id.as_str())
            .collect(),
        window: window(s.window),
        point_of_no_return: s.point_of_no_return.map(|i| p.cutover.tasks[i].id.as_str()),
        rollback_deadline: p.cutover.rollback_deadline.as_ref().map(rfc3339),
        comms: comms_items(input.comms, p, input.now()),
        sessions: p
            .sessions
            .iter()
            .map(|s| {
                let zone = super::calendar::sessions::zone(p, s);
                let start = s.start.with_timezone(&zone);
                SessionItem {
                    id: &s.id,
                    title: &s.title,
                    start: rfc3339(&start),
                    finish: rfc3339(&(start + s.duration)),
                    timezone: zone.name(),
                    sequence: input.session_sequences.get(&s.id).copied().unwrap_or(0),
                }
            })
            .collect(),
        rehearsals: Vec::new(),
        delivery: input.delivery.map(|o| DeliveryItem {
            as_of: crate::time::stamp::utc(&o.as_of),
            total: o.total(),
            comms: input
                .comms
                .iter()
                .enumerate()
                .map(|(i, e)| DeliveryCommsItem {
                    id: &e.message.id,
                    wave: e.message.wave.as_deref(),
                    locale: &e.message.locale,
                    send_at: rfc3339(&e.message.send_at),
                    counts: o.counts(i),
                })
                .collect(),
        }),
        comms_digests: comms_digests(input.comms),
        live: input.live,
        documents: super::changes::documents(p),
        hypercare: p
            .hypercare
            .as_ref()
            .zip(input.hypercare)
            .map(|(h, j)| crate::plan::hypercare::report::plan_item(h, j)),
        checklists: p
            .checklists
            .iter()
            .map(|c| ChecklistItem {
                id: &c.id,
                title: &c.title,
                recommendation: c.recommendation,
                due: c.due.as_ref().map(rfc3339),
                items: c
                    .sections
                    .iter()
                    .flat_map(|sec| {
                        sec.items.iter().map(move |i| ChecklistEntry {
                            section: &sec.title,
                            text: &i.text,
                            status: i.status,
                            critical: i.critical,
                            owner: i.owner.as_deref(),
                        })
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut plan = plan;
    plan.rehearsals = input
        .rehearsals
        .iter()
        .map(|r| RehearsalItem {
            name: &r.rehearsal.id,
            title: &r.rehearsal.title,
            date: r.rehearsal.date.as_deref(),
            t0: r.rehearsal.t0.as_ref().map(rfc3339),
            tasks: r
                .tasks
                .iter()
                .map(|t| RehearsalTaskItem {
                    id: &t.record.id,
                    actual_start: rfc3339(&t.record.actual_start),
                    actual_finish: rfc3339(&t.record.actual_finish),
                    planned_minutes: t.planned.num_minutes(),
                    actual_minutes: t.actual.num_minutes(),
                    variance_minutes: t.variance_minutes(),
                    variance_percent: t.variance_percent(),
                    notes: t.record.notes.as_deref(),
                })
                .collect(),
            forecast: Forecast {
                window: window(r.forecast.window),
                finish_delta_minutes: r.finish_delta(s).map(|d| d.num_minutes()),
                critical_path: r
                    .forecast
                    .critical_path
                    .iter()
                    .map(|&i| p.cutover.tasks[i].id.as_str())
                    .collect(),
                point_of_no_return_start: r
                    .forecast
                    .point_of_no_return
                    .map(|i| rfc3339(&r.forecast.tasks[i].start)),
            },
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&plan).expect("plan serializes");
    bytes.push(b'\n');
    bytes
}

fn window<Z: chrono::TimeZone>(w: Option<(DateTime<Z>, DateTime<Z>)>) -> Option<Window>
where
    Z::Offset: std::fmt::Display,
{
    w.map(|(a, b)| Window {
        start: rfc3339(&a),
        finish: rfc3339(&b),
        minutes: (b.clone() - a.clone()).num_minutes(),
    })
}

fn comms_digests(entries: &[CommsEntry]) -> std::collections::BTreeMap<String, String> {
    use sha2::{Digest, Sha256};
    let mut out = std::collections::BTreeMap::new();
    for e in entries {
        let m = &e.message;
        out.entry(super::changes::message_key(
            &m.id,
            m.wave.as_deref(),
            &m.locale,
        ))
        .or_insert_with(|| format!("{:x}", Sha256::digest(e.preview.text.as_bytes())));
    }
    out
}
