//! The delivery status on the comms pages (when the project has a send ledger): the
//! template views of [`Overview`] — counts with a badge, and per-recipient rows with what
//! needs attention first.

use super::*;
use crate::delivery::{row_state, Counts, Listed};

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
/// doubt, missed, in that order) and `other_rows` (the rest, in schedule order), at most
/// `take.0` and `take.1` of them (`attention_more`, `other_more`: how many were left out);
/// null without a ledger.
pub(super) fn entry_status(input: &SiteInput, i: usize, take: (usize, usize)) -> Value {
    let Some(o) = input.delivery else {
        return Value::Null;
    };
    let status = &o.entries[i];
    let recipients = &input.comms[i].message.recipients;
    let view = |rows: &[Listed], take: usize| -> Vec<Value> {
        rows.iter()
            .take(take)
            .map(|r| row_view(input, r, &recipients[r.recipient]))
            .collect()
    };
    let l = &status.listing;
    let (attention, other) = (l.attention.len().min(take.0), l.rest.len().min(take.1));
    let mut v = counts_view(&status.counts);
    v["attention_rows"] = Value::Array(view(&l.attention, attention));
    v["other_rows"] = Value::Array(view(&l.rest, other));
    v["attention_more"] = json!(l.attention_more + l.attention.len() - attention);
    v["other_more"] = json!(l.rest_more + l.rest.len() - other);
    v
}

/// How many status rows each of `entries` (in page order) lists, within [`MAX_PAGE_ROWS`]
/// for the page: what needs attention first, across the page, then the others.
pub(super) fn row_budget(input: &SiteInput, entries: &[usize]) -> Vec<(usize, usize)> {
    let Some(o) = input.delivery else {
        return vec![(0, 0); entries.len()];
    };
    let mut left = MAX_PAGE_ROWS;
    let mut take = |n: usize| {
        let t = n.min(left);
        left -= t;
        t
    };
    let attention: Vec<usize> = entries
        .iter()
        .map(|&i| take(o.entries[i].listing.attention.len()))
        .collect();
    entries
        .iter()
        .zip(attention)
        .map(|(&i, a)| (a, take(o.entries[i].listing.rest.len())))
        .collect()
}

/// At most this many status rows on one message page, over all its deliveries (each
/// table also stops at [`crate::delivery::MAX_ROWS`]): a message to 100,000 people in seven
/// zones and two locales has fourteen deliveries on its page, which would otherwise list
/// 28,000 rows (13 MB of HTML, and some 60 MB of template variables while it renders).
pub const MAX_PAGE_ROWS: usize = 4_000;

fn row_view(input: &SiteInput, r: &Listed, to: &crate::project::Recipient) -> Value {
    let (label, class) = row_state(r.state, r.due);
    json!({
        "email": to.email, "name": to.name, "state": r.state, "label": label, "class": class,
        "at": r.at.map(|t| time_view(&t.with_timezone(&input.project.zone))),
        "message_id": r.message_id, "reply": r.reply,
    })
}
