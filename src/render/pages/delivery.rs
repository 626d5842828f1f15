//! The delivery status on the comms pages (when the project has a send ledger): the
//! template views of [`Overview`] — counts with a badge, and per-recipient rows with what
//! needs attention first.

use super::*;
use crate::delivery::StatusRow;
use crate::delivery::{listing, row_state, Counts, MAX_ROWS};

/// `delivery` on the comms pages: `{as_of (TimeView), total (Counts view), skipped_lines}`,
/// or null without a ledger.
pub(super) fn delivery_view(input: &SiteInput) -> Value {
    match input.delivery {
        Some(o) => json!({
            "as_of": time_view(&o.as_of.with_timezone(&input.project.zone)),
            "total": counts_view(&o.total()),
            "skipped_lines": o.skipped_lines,
        }),
        None => Value::Null,
    }
}

/// `{sent, failed, in_doubt, missed, held, cancelled, scheduled, due, total, attention, text,
/// label, class}`.
pub(super) fn counts_view(c: &Counts) -> Value {
    let (label, class) = c.badge();
    json!({
        "sent": c.sent, "failed": c.failed, "in_doubt": c.in_doubt, "missed": c.missed,
        "held": c.held, "cancelled": c.cancelled,
        "scheduled": c.scheduled, "due": c.due, "total": c.total(), "attention": c.attention(),
        "text": c.text(), "label": label, "class": class,
    })
}

/// The counts of the entries `pick` selects, as a view; null without a ledger.
pub(super) fn counts_where(input: &SiteInput, pick: impl FnMut(&CommsEntry) -> bool) -> Value {
    match input.delivery {
        Some(o) => counts_view(&o.counts_where(input.comms, pick)),
        None => Value::Null,
    }
}

/// The status of entry `i` of `input.comms`: its counts plus `attention_rows` (failed, in
/// doubt, missed, in that order) and `other_rows` (the rest, in schedule order), each at most
/// [`MAX_ROWS`] long (`attention_more`, `other_more`: how many were left out); null without a
/// ledger.
pub(super) fn entry_status(input: &SiteInput, i: usize) -> Value {
    let Some(o) = input.delivery else {
        return Value::Null;
    };
    let rows = &o.entries[i];
    let recipients = &input.comms[i].message.recipients;
    let view = |ix: Vec<usize>| -> Vec<Value> {
        ix.into_iter()
            .map(|j| row_view(input, &rows[j], recipients[j].name.as_deref()))
            .collect()
    };
    let l = listing(rows, MAX_ROWS);
    let mut v = counts_view(&Counts::of(rows));
    v["attention_rows"] = Value::Array(view(l.attention));
    v["other_rows"] = Value::Array(view(l.rest));
    v["attention_more"] = json!(l.attention_more);
    v["other_more"] = json!(l.rest_more);
    v
}

fn row_view(input: &SiteInput, r: &StatusRow, name: Option<&str>) -> Value {
    let (label, class) = row_state(r);
    json!({
        "email": r.to, "name": name, "state": r.state, "label": label, "class": class,
        "at": r.at.map(|t| time_view(&t.with_timezone(&input.project.zone))),
        "message_id": r.message_id, "reply": r.reply,
    })
}
