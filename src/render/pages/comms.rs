//! The comms schedule per wave and one page per message and wave.

use super::delivery::{counts_where, delivery_view, entry_status};
use super::*;

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

/// A message summary with the `status` of entry `n` (counts; null without a ledger).
fn with_status(mut summary: Value, input: &SiteInput, n: usize) -> Value {
    summary["status"] = match input.delivery {
        Some(o) => super::delivery::counts_view(&o.counts(n)),
        None => Value::Null,
    };
    summary
}

/// One page per message and wave, showing every delivery (locale, zone) of it.
pub(super) fn message_pages(input: &SiteInput) -> Vec<PageJob> {
    let p = input.project;
    let mut dirs: Vec<String> = input.comms.iter().map(CommsEntry::page_dir).collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .map(|dir| {
            let mut entries: Vec<(usize, &CommsEntry)> =
                input.comms.iter().enumerate().filter(|(_, e)| e.page_dir() == dir).collect();
            // The project's own locale first: it gives the page its title.
            entries.sort_by_key(|(_, e)| (e.message.locale != p.locale, e.message.send_at.with_timezone(&Utc)));
            let first = &entries[0].1.message;
            let path = format!("{dir}/index.html");
            let root = input.root(&path);
            let title = entries[0].1.subject.clone();
            let mut ctx = input.base_context(&path, "comms", &title);
            let deliveries: Vec<Value> = entries
                .iter()
                .map(|&(n, e)| {
                    let m = &e.message;
                    json!({
                        "locale": m.locale, "subject": e.subject, "send_at": time_view(&m.send_at),
                        "timezone": m.send_at.timezone().name(),
                        "recipients": m.recipients.iter().map(|r| json!({"email": r.email, "name": r.name})).collect::<Vec<_>>(),
                        "html": e.preview.html, "text": e.preview.text,
                        "eml_href": format!("{}.eml", e.file_key),
                        "anchor": m.delivery_key(),
                        "status": entry_status(input, n),
                    })
                })
                .collect();
            let wave = first.wave.as_deref().and_then(|w| p.wave(w));
            ctx.insert(
                "message",
                &json!({
                    "id": first.id, "subject": title, "audience": first.audience,
                    "wave": wave.map(|w| json!({"id": w.id, "name": w.name, "go_live": time_view(&w.go_live)})),
                    "send": p.messages[first.template].send.to_string(),
                    "deliveries": deliveries,
                    "comms_href": format!("{root}{}", crate::urls::COMMS),
                    "status": counts_where(input, |e| e.page_dir() == dir),
                }),
            );
            ctx.insert("delivery", &delivery_view(input));
            PageJob::ready(path, "message.html", ctx)
        })
        .collect()
}
