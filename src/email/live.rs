//! The variables tied to the night (SPEC §4, §8, §9): `live` — go-live night from
//! `plan::live`'s state — and `hypercare`, both as of the instant the message is rendered
//! for (`comms send`'s now with [`Mailer::as_of`], else the message's send time).

use chrono::Utc;
use chrono_tz::Tz;
use serde_json::json;

use super::Mailer;
use crate::plan::comms::ScheduledMessage;
use crate::project::Project;
use crate::time::stamp::rfc3339;

/// The variables tied to the night (`live`, `hypercare`): as of when the message is sent.
impl Mailer<'_> {
    /// Renders `live` and `hypercare` as of `now` (what `comms send` does: a template is
    /// rendered when it is sent, with the state as of that instant).
    pub fn as_of(mut self, now: chrono::DateTime<Utc>) -> Self {
        self.as_of = Some(now);
        self
    }

    /// The instant `msg`'s night-tied variables are rendered as of.
    fn instant(&self, msg: &ScheduledMessage) -> chrono::DateTime<Utc> {
        self.as_of
            .unwrap_or_else(|| msg.send_at.with_timezone(&Utc))
    }

    /// Whether the template of `msg` names `word` (the costly variables are only made for
    /// the templates that use them).
    fn uses(&self, msg: &ScheduledMessage, word: &str) -> bool {
        let t = &self.project.messages[msg.template];
        t.subject.contains(word) || t.body.markdown.contains(word)
    }

    /// `live` (SPEC §4, §8) as of the instant the message is rendered for: `plan.json`'s
    /// `live` object (`done`, `total`, `status`, the forecasts, `tasks`, `decisions`, …)
    /// plus `current_tasks`, `next_tasks` and `blocked_tasks` (each `id`, `title`, `owner`,
    /// `state`, the forecast and actual times, `note`), `status_label` and `progress`
    /// (`"7 of 12"`). Only for templates that name it.
    pub(super) fn live_at(&self, msg: &ScheduledMessage) -> Option<serde_json::Value> {
        if self.project.cutover.tasks.is_empty() || !self.uses(msg, "live") {
            return None;
        }
        let at = self.instant(msg);
        let zone = msg.send_at.timezone();
        let mut cache = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let v = cache.entry(at).or_insert_with(|| {
            let p = self.project;
            let schedule = self
                .schedule
                .get_or_init(|| crate::plan::cutover::schedule(&p.cutover, p.go_live));
            let state = crate::plan::live::state(p, schedule, at);
            value(self.project, &state, zone)
        });
        Some(v.clone())
    }

    /// `hypercare` (SPEC §4, §9) as of the instant the message is rendered for: the latest
    /// day's figures and their status, the open incidents, the exit criteria and the
    /// recommendation. Only for templates that name it.
    pub(super) fn hypercare_at(&self, msg: &ScheduledMessage) -> Option<serde_json::Value> {
        let h = self.project.hypercare.as_ref()?;
        if !self.uses(msg, "hypercare") {
            return None;
        }
        let at = self.instant(msg);
        let mut cache = self.hypercare.lock().unwrap_or_else(|e| e.into_inner());
        let v = cache.entry(at).or_insert_with(|| {
            let j = crate::plan::hypercare::judge(h, at);
            serde_json::to_value(crate::plan::hypercare::report::template_value(h, &j))
                .unwrap_or_default()
        });
        Some(v.clone())
    }
}

/// The `live` variable: the state's JSON (`plan.json`'s `live`) with the current, next and
/// blocked tasks spelled out, `status_label` and `progress`. Times in the message's zone
/// are in `*_display` companions (`forecast_finish_display`: `Sun 28 Mar, 04:15 BST`).
pub(super) fn value(
    p: &Project,
    state: &crate::plan::live::LiveState,
    zone: Tz,
) -> serde_json::Value {
    let display = |t: Option<chrono::DateTime<Tz>>| {
        t.map(|t| {
            t.with_timezone(&zone)
                .format("%a %-d %b, %H:%M %Z")
                .to_string()
        })
    };
    let tasks = |ids: &[String]| -> Vec<serde_json::Value> {
        ids.iter()
            .filter_map(|id| {
                let t = p.cutover.tasks.iter().find(|t| &t.id == id)?;
                let l = state.task(id)?;
                Some(json!({
                    "id": t.id, "title": t.title, "owner": t.owner,
                    "state": l.state.label(),
                    "actual_start": l.actual_start.map(|t| rfc3339(&t.with_timezone(&zone))),
                    "forecast_start": rfc3339(&l.forecast_start.with_timezone(&zone)),
                    "forecast_finish": rfc3339(&l.forecast_finish.with_timezone(&zone)),
                    "forecast_start_display": display(Some(l.forecast_start)),
                    "forecast_finish_display": display(Some(l.forecast_finish)),
                    "note": l.note,
                }))
            })
            .collect()
    };
    let mut v = serde_json::to_value(state).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("status_label".into(), json!(state.status.label()));
        o.insert(
            "progress".into(),
            json!(format!("{} of {}", state.done, state.total)),
        );
        o.insert(
            "forecast_finish_display".into(),
            json!(display(state.forecast_finish)),
        );
        o.insert(
            "forecast_point_of_no_return_display".into(),
            json!(display(state.forecast_point_of_no_return)),
        );
        o.insert("as_of_display".into(), json!(display(Some(state.as_of))));
        o.insert("current_tasks".into(), json!(tasks(&state.current)));
        o.insert("next_tasks".into(), json!(tasks(&state.next)));
        o.insert("blocked_tasks".into(), json!(tasks(&state.blocked)));
    }
    v
}
