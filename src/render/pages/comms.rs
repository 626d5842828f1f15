//! The comms schedule per wave and one page per message and wave.

use super::delivery::{counts_where, delivery_view, entry_status, row_budget};
use super::*;
use crate::plan::comms::{release, Gating, Release, ScheduledMessage};
use crate::project::GateOn;
use crate::time::repeat::Every;

pub(super) fn comms_index(input: &SiteInput) -> PageJob {
    let p = input.project;
    let path = crate::urls::COMMS;
    let root = input.root(path);
    let mut ctx = input.base_context(path, "comms", "Communications");
    let mut groups: Vec<Value> = p
        .waves
        .iter()
        .map(|w| json!({"id": w.id, "name": w.name, "go_live": time_view(&w.go_live), "messages": []}))
        .collect();
    groups.push(json!({"id": null, "name": "Project-wide", "go_live": time_view(&p.go_live), "messages": []}));
    for g in &mut groups {
        let wave = g["id"].as_str().map(str::to_string);
        g["status"] = counts_where(input, |e| e.message.wave == wave);
    }
    for (n, e) in input.comms.iter().enumerate() {
        let i = e
            .message
            .wave
            .as_deref()
            .and_then(|w| p.waves.iter().position(|x| x.id == w))
            .unwrap_or(p.waves.len());
        groups[i]["messages"]
            .as_array_mut()
            .expect("array")
            .push(with_status(message_summary(e, p, &root), input, n));
    }
    groups.retain(|g| !g["messages"].as_array().is_some_and(Vec::is_empty));
    let all: Vec<Value> = input
        .comms
        .iter()
        .enumerate()
        .map(|(n, e)| with_status(message_summary(e, p, &root), input, n))
        .collect();
    ctx.insert("groups", &groups);
    ctx.insert("messages", &all);
    ctx.insert("delivery", &delivery_view(input));
    PageJob::ready(path, "comms.html", ctx)
}

/// A message summary with the `status` of entry `n` (counts; null without a ledger), its
/// occurrence and its gate.
fn with_status(mut summary: Value, input: &SiteInput, n: usize) -> Value {
    let m = &input.comms[n].message;
    summary["occurrence"] = json!(m.occurrence.map(|(i, n)| json!({"index": i, "of": n})));
    summary["gate"] = gate_view(input, m);
    summary["status"] = match input.delivery {
        Some(o) => super::delivery::counts_view(&o.counts(n)),
        None => Value::Null,
    };
    summary
}

/// At most this many deliveries of one page are shown with their preview (about 10 kB of
/// HTML each); the rest are listed in a table.
const MAX_PREVIEWS: usize = 24;

/// One page per message and wave, showing every delivery (locale, zone, occurrence) of it.
/// Each page's variables are made only when it is written ([`message_page`]), one page at a
/// time: a message to 100,000 people has pages of thousands of status rows.
pub(super) fn message_pages(input: &SiteInput) -> Vec<PageJob> {
    // Each page by the first entry of its folder.
    let mut dirs: Vec<(String, usize)> = input
        .comms
        .iter()
        .enumerate()
        .map(|(n, e)| (e.page_dir(), n))
        .collect();
    dirs.sort();
    dirs.dedup_by(|a, b| a.0 == b.0);
    dirs.into_iter()
        .map(|(dir, n)| {
            PageJob::deferred(format!("{dir}/index.html"), "message.html", message_page, n)
        })
        .collect()
}

/// The recipients a delivery's section lists by name when there is no ledger (with one,
/// the status tables list them, cut at the same length): the others are counted.
const MAX_RECIPIENTS: usize = crate::delivery::MAX_ROWS;

/// The variables of the page of the message and wave of entry `first` of the comms.
fn message_page(input: &SiteInput, first: usize) -> tera::Context {
    let p = input.project;
    let dir = input.comms[first].page_dir();
    let mut entries: Vec<(usize, &CommsEntry)> = input
        .comms
        .iter()
        .enumerate()
        .filter(|(_, e)| e.page_dir() == dir)
        .collect();
    // The project's own locale first: it gives the page its title.
    entries.sort_by_key(|(_, e)| {
        (
            e.message.locale != p.locale,
            e.message.send_at.with_timezone(&Utc),
        )
    });
    let first = &entries[0].1.message;
    let path = format!("{dir}/index.html");
    let root = input.root(&path);
    let title = entries[0].1.subject.clone();
    let mut ctx = input.base_context(&path, "comms", &title);
    // A repeating message can have thousands of occurrences: the first ones are shown
    // in full, the others listed (each still has its .eml beside the page).
    let (shown, more) = entries.split_at(entries.len().min(MAX_PREVIEWS));
    let more: Vec<Value> = more
        .iter()
        .map(|&(n, e)| {
            let m = &e.message;
            json!({
                "locale": m.locale, "send_at": time_view(&m.send_at),
                "timezone": m.send_at.timezone().name(),
                "recipients": m.recipients.len(),
                "eml_href": format!("{}.eml", e.file_key),
                "occurrence": m.occurrence.map(|(i, n)| json!({"index": i, "of": n})),
                "status": input.delivery.map(|o| super::delivery::counts_view(&o.counts(n))),
                "gate": gate_view(input, m),
            })
        })
        .collect();
    let budget = row_budget(input, &shown.iter().map(|&(n, _)| n).collect::<Vec<_>>());
    let deliveries: Vec<Value> = shown
        .iter()
        .zip(budget)
        .map(|(&(n, e), take)| {
            let m = &e.message;
            let mut d = json!({
                "locale": m.locale, "subject": e.subject, "send_at": time_view(&m.send_at),
                "timezone": m.send_at.timezone().name(),
                "recipient_count": m.recipients.len(),
                "recipients_more": m.recipients.len().saturating_sub(MAX_RECIPIENTS),
                "html": e.preview.html, "text": e.preview.text,
                "eml_href": format!("{}.eml", e.file_key),
                "anchor": m.delivery_key(),
                "occurrence": m.occurrence.map(|(i, n)| json!({"index": i, "of": n})),
                "gate": gate_view(input, m),
            });
            // Moved in (`json!` would copy them): thousands of rows on a large message.
            d["recipients"] = m
                .recipients
                .iter()
                .take(MAX_RECIPIENTS)
                .map(|r| json!({"email": r.email, "name": r.name}))
                .collect();
            d["status"] = entry_status(input, n, take);
            d
        })
        .collect();
    let wave = first.wave.as_deref().and_then(|w| p.wave(w));
    let mut message = json!({
        "id": first.id, "subject": title, "audience": first.audience,
        "wave": wave.map(|w| json!({"id": w.id, "name": w.name, "go_live": time_view(&w.go_live)})),
        "send": p.messages[first.template].send.to_string(),
        "repeat": p.messages[first.template].repeat.map(|r| json!({
            "every": every_text(r.every), "until": r.until.to_string(),
            "occurrences": first.occurrence.map_or(1, |(_, n)| n),
        })),
        "gate": gate_view(input, first),
        "comms_href": format!("{root}{}", crate::urls::COMMS),
        "status": counts_where(input, |e| e.page_dir() == dir),
    });
    // The deliveries are moved into the context, never copied: `json!` and
    // `Context::insert` serialize what they are given into a new value, which for a
    // message to 100,000 people is one more copy of tens of thousands of status rows.
    message["deliveries"] = Value::Array(deliveries);
    message["more_deliveries"] = Value::Array(more);
    let mut own = serde_json::Map::new();
    own.insert("message".to_string(), message);
    own.insert("delivery".to_string(), delivery_view(input));
    ctx.extend(tera::Context::from_value(Value::Object(own)).expect("an object"));
    ctx
}

/// `15m`, `1d`, `1w`: how often a message repeats.
fn every_text(every: Every) -> String {
    match every {
        Every::Days(d) if d % 7 == 0 => format!("{}w", d / 7),
        Every::Days(d) => format!("{d}d"),
        Every::Elapsed(d) => crate::time::format_duration(d),
    }
}

/// What a gated message waits on, as of the build's now: `{task, title, on, state, class,
/// text}` (null when it is not gated). `state`: `waiting` (before its send time, no
/// decision yet), `held`, `released` or `cancelled`.
pub(super) fn gate_view(input: &SiteInput, m: &ScheduledMessage) -> Value {
    let p = input.project;
    let now = input.now();
    let (gate, on) = match &m.gating {
        Gating::Free => return Value::Null,
        Gating::Never => {
            return json!({
                "task": null, "title": null, "on": "no-go", "state": "cancelled", "class": "cancelled",
                "text": "Cancelled: this wave has no go/no-go gate for this message, so there is no NO-GO to announce.",
            })
        }
        Gating::Gate { gate, on } => (gate, *on),
    };
    let title = p
        .cutover
        .tasks
        .iter()
        .find(|t| &t.id == gate)
        .map_or(gate.as_str(), |t| t.title.as_str());
    let wanted = match on {
        GateOn::Go => "GO or CONDITIONAL GO",
        GateOn::NoGo => "NO-GO",
    };
    let decided = crate::plan::live::decision(p, gate, now).map(|d| {
        let by =
            d.by.as_deref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default();
        format!(
            "{}{by} at {}",
            d.outcome.label(),
            time_view(&d.at.with_timezone(&m.send_at.timezone())).display
        )
    });
    let decided = decided.unwrap_or_default();
    let (state, text) = match release(p, m, now) {
        Release::Waiting if m.send_at.with_timezone(&Utc) <= now => (
            "held",
            format!("Held: past its send time and waiting for the decision at “{title}”. It goes as soon as {wanted} is recorded; any other outcome cancels it."),
        ),
        Release::Waiting => (
            "waiting",
            format!("Waits on the decision at “{title}”: it goes at its send time or when {wanted} is recorded, whichever is later; any other outcome cancels it."),
        ),
        Release::After(_) | Release::Free => (
            "released",
            format!("Released: “{title}” decided {decided}; it goes at the later of its send time and the decision."),
        ),
        Release::Cancelled => (
            "cancelled",
            format!("Cancelled: “{title}” decided {decided}; this message goes only after {wanted}, so it will not be sent."),
        ),
    };
    let class = match state {
        "released" => "due",
        "waiting" => "scheduled",
        s => s,
    };
    json!({
        "task": gate, "title": title, "on": on.as_str(), "state": state, "class": class, "text": text,
    })
}
