//! The `live` variable of a comms template (SPEC §4, §8): go-live night as of the instant
//! the message is rendered for, made from `plan::live`'s state.

use chrono_tz::Tz;
use serde_json::json;

use crate::project::Project;
use crate::time::stamp::rfc3339;

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
