//! `tminus comms list`, `tminus comms preview` and `tminus comms status` (sending:
//! [`super::send`]).

use std::path::Path;

use tminus::delivery::{DeliveryState, StatusRow};
use tminus::plan::comms::{gate_state, Gating, ScheduledMessage};
use tminus::render::plan_json::comms_items;
use tminus::render::CommsEntry;
use tminus::send::ledger::{self, Ledger};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub fn list(root: &Path, format: Format, wave: Option<&str>, now: Option<&str>) -> i32 {
    let prepared = match tminus::site::prepare(root) {
        Ok(p) => p,
        Err(d) => return super::report(&d),
    };
    let now = match now {
        Some(t) => match super::send::parse_now(t, &prepared.project) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
        None => chrono::Utc::now(),
    };
    if let Some(w) = wave {
        if prepared.project.wave(w).is_none() {
            return unknown_wave(&prepared.project, w);
        }
    }
    let entries: Vec<CommsEntry> = prepared
        .comms
        .into_iter()
        .filter(|e| wave.is_none() || e.message.wave.as_deref() == wave)
        .collect();
    match format {
        Format::Json => {
            // Written as it is made: every recipient's address is in it.
            let items = comms_items(&entries, &prepared.project, now);
            let mut out = Chunked::default();
            if let Err(e) =
                serde::Serialize::serialize(&items, &mut serde_json::Serializer::pretty(&mut out))
            {
                eprintln!("error: cannot write the list: {e}");
                return 1;
            }
            out.push("\n");
            out.flush();
        }
        Format::Table => print_table(&entries, &prepared.project, now),
    }
    0
}

fn print_table(
    entries: &[CommsEntry],
    project: &tminus::project::Project,
    now: chrono::DateTime<chrono::Utc>,
) {
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            let m = &e.message;
            let mut id = m.id.clone();
            if let Some((i, n)) = m.occurrence {
                id.push_str(&format!(" #{i}/{n}"));
            }
            let mut subject = e.subject.clone();
            match &m.gating {
                Gating::Free => {}
                Gating::Never => subject.push_str("  [cancelled: no gate for this wave]"),
                Gating::Gate { gate, on } => subject.push_str(&format!(
                    "  [{}: on {} of {gate}]",
                    gate_state(project, m, now),
                    on.as_str()
                )),
            }
            [
                tminus::time::stamp::rfc3339(&m.send_at),
                id,
                m.wave.clone().unwrap_or_else(|| "—".into()),
                m.locale.clone(),
                m.audience.clone(),
                m.recipients.len().to_string(),
                subject,
            ]
        })
        .collect();
    let header = [
        "SEND AT", "ID", "WAVE", "LOCALE", "AUDIENCE", "TO", "SUBJECT",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()).take(6) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < 6 {
                out.push_str(&format!("{c:<width$}  ", width = widths[i]));
            } else {
                out.push_str(c);
            }
        }
        text.push_str(out.trim_end());
        text.push('\n');
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    text.push_str(&format!(
        "{} scheduled message{}\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    ));
    super::emit(&text);
}

fn unknown_wave(project: &tminus::project::Project, wave: &str) -> i32 {
    let known: Vec<&str> = project.waves.iter().map(|w| w.id.as_str()).collect();
    eprintln!(
        "error: unknown wave `{wave}`\n  hint: waves: {}",
        known.join(", ")
    );
    1
}

pub fn preview(
    root: &Path,
    id: &str,
    wave: Option<&str>,
    locale: Option<&str>,
    eml: Option<&Path>,
) -> i32 {
    let prepared = match tminus::site::prepare(root) {
        Ok(p) => p,
        Err(d) => return super::report(&d),
    };
    let project = &prepared.project;
    let of_id: Vec<&CommsEntry> = prepared
        .comms
        .iter()
        .filter(|e| e.message.id == id)
        .collect();
    if of_id.is_empty() {
        let mut ids: Vec<&str> = project.messages.iter().map(|m| m.id.as_str()).collect();
        ids.dedup();
        eprintln!(
            "error: no scheduled message `{id}`\n  hint: messages: {}",
            ids.join(", ")
        );
        return 1;
    }
    let per_wave = of_id.iter().any(|e| e.message.wave.is_some());
    let wave = match (wave, per_wave) {
        (Some(w), _) if project.wave(w).is_none() => return unknown_wave(project, w),
        (Some(w), true) => Some(w),
        (Some(_), false) => {
            eprintln!("error: `{id}` is not sent per wave; leave out --wave");
            return 1;
        }
        (None, true) => {
            let waves: Vec<&str> = project.waves.iter().map(|w| w.id.as_str()).collect();
            eprintln!(
                "error: `{id}` is sent once per wave; choose one with --wave\n  hint: waves: {}",
                waves.join(", ")
            );
            return 1;
        }
        (None, false) => None,
    };
    let candidates: Vec<&&CommsEntry> = of_id
        .iter()
        .filter(|e| {
            e.message.wave.as_deref() == wave && locale.is_none_or(|l| e.message.locale == l)
        })
        .collect();
    let Some(entry) = candidates.first() else {
        eprintln!(
            "error: no delivery of `{id}` in locale `{}`",
            locale.unwrap_or("")
        );
        return 1;
    };
    let m = &entry.message;
    let mut text = format!(
        "Subject:  {}\nTo:       {} ({} recipient{})\nSend at:  {}\nLocale:   {}\n",
        entry.subject,
        m.audience,
        m.recipients.len(),
        if m.recipients.len() == 1 { "" } else { "s" },
        tminus::time::stamp::rfc3339(&m.send_at),
        m.locale
    );
    if candidates.len() > 1 {
        text.push_str(&format!(
            "          (also sent at other times or locales: {} more deliveries; see comms list)\n",
            candidates.len() - 1
        ));
    }
    text.push_str(&format!("\n{}", entry.preview.text));
    super::emit(&text);
    if let Some(path) = eml {
        if let Err(e) = std::fs::write(path, &entry.eml) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return 1;
        }
        println!("wrote {}", path.display());
    }
    0
}

/// `comms status`: every delivery and where it stands, streamed — each row is printed as it
/// is made (the table's widths come from a first pass over the same rows), so 600,000
/// deliveries never sit in memory at once.
pub fn status(root: &Path, format: Format, now: Option<&str>) -> i32 {
    let (prepared, now) = match super::send::load(root, now) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let ledger = match Ledger::read(root) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "error: cannot read {}: {e}",
                Ledger::path_in(root).display()
            );
            return 1;
        }
    };
    let messages = prepared.messages();
    let project = &prepared.project;
    let rows = || tminus::send::status(project, &messages, &ledger, now);
    let mut out = Chunked::default();
    match format {
        Format::Json => {
            // As `serde_json::to_string_pretty` of every row, written as it goes.
            use serde::Serializer;
            let mut json = serde_json::Serializer::pretty(&mut out);
            if let Err(e) = json.collect_seq(rows()) {
                eprintln!("error: cannot write the rows: {e}");
                return 1;
            }
            out.push("\n");
        }
        Format::Table => print_status(
            &mut out,
            &messages,
            tminus::send::states(project, &messages, &ledger, now),
            rows(),
        ),
    }
    out.flush();
    0
}

/// Stdout in pieces of about 64 kB, through [`super::emit_bytes`] (a closed pipe ends
/// quietly).
#[derive(Default)]
struct Chunked(Vec<u8>);

impl Chunked {
    fn push(&mut self, text: &str) {
        self.push_bytes(text.as_bytes());
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
        if self.0.len() >= 1 << 16 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.0.is_empty() {
            super::emit_bytes(&self.0);
            self.0.clear();
        }
    }
}

impl std::io::Write for Chunked {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.push_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Chunked::flush(self);
        Ok(())
    }
}

/// The MESSAGE cell: `get-ready/main/en`, `cutover-status/en #3`.
fn message_cell(r: &StatusRow) -> String {
    let mut message = match &r.wave {
        Some(w) => format!("{}/{w}/{}", r.id, r.locale),
        None => format!("{}/{}", r.id, r.locale),
    };
    if let Some(n) = r.occurrence {
        message.push_str(&format!(" #{n}"));
    }
    message
}

/// The STATE cell: the state, with `(due)` / `(retry due)` when it would be sent now.
fn state_text(state: DeliveryState, due: bool) -> &'static str {
    match state {
        DeliveryState::Scheduled if due => "scheduled (due)",
        DeliveryState::Failed if due => "failed (retry due)",
        s => s.as_str(),
    }
}

fn detail_cell(r: &StatusRow) -> String {
    match r.state {
        DeliveryState::Sent => format!(
            "{} {}",
            r.at.as_ref().map(ledger::utc).unwrap_or_default(),
            r.message_id.as_deref().unwrap_or("")
        ),
        DeliveryState::Failed
        | DeliveryState::Missed
        | DeliveryState::Held
        | DeliveryState::Cancelled => r.reply.clone().unwrap_or_default(),
        DeliveryState::InDoubt => {
            let mut d = format!(
                "claimed {}",
                r.at.as_ref().map(ledger::utc).unwrap_or_default()
            );
            if let Some(reason) = &r.reply {
                d.push_str(": ");
                d.push_str(reason);
            }
            d
        }
        DeliveryState::Scheduled => String::new(),
    }
}

/// The table of `comms status`: a first pass for the column widths (the schedule's, and
/// the states without their rows), a second to print, then the counts.
fn print_status<I: Iterator<Item = StatusRow>>(
    out: &mut Chunked,
    messages: &[&ScheduledMessage],
    states: impl Iterator<Item = (DeliveryState, bool)>,
    rows: I,
) {
    let header = ["SEND AT", "MESSAGE", "TO", "STATE", "DETAIL"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for m in messages.iter().filter(|m| !m.recipients.is_empty()) {
        widths[0] = widths[0].max(tminus::time::stamp::rfc3339(&m.send_at).chars().count());
        let mut message = format!("{}/", m.id);
        if let Some(w) = &m.wave {
            message.push_str(&format!("{w}/"));
        }
        message.push_str(&m.locale);
        if let Some((n, _)) = m.occurrence {
            message.push_str(&format!(" #{n}"));
        }
        widths[1] = widths[1].max(message.chars().count());
        for r in &m.recipients {
            widths[2] = widths[2].max(r.email.chars().count());
        }
    }
    for (state, due) in states {
        widths[3] = widths[3].max(state_text(state, due).chars().count());
    }
    let mut text = String::new();
    let mut line = |out: &mut Chunked, cells: [&str; 5]| {
        text.clear();
        for (i, c) in cells.iter().enumerate() {
            text.push_str(c);
            if i < 4 {
                let pad = widths[i].saturating_sub(c.chars().count()) + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push(text.trim_end());
        out.push("\n");
    };
    line(out, header);
    let mut total = 0;
    let mut counts = tminus::delivery::Counts::default();
    for r in rows {
        total += 1;
        counts.add(r.state, r.due);
        line(
            out,
            [
                &r.send_at,
                &message_cell(&r),
                &r.to,
                state_text(r.state, r.due),
                &detail_cell(&r),
            ],
        );
    }
    out.push(&format!(
        "{} deliveries: {} sent, {} scheduled ({} due), {} failed, {} in doubt, {} missed, {} held, {} cancelled\n",
        total,
        counts.sent,
        counts.scheduled,
        counts.due,
        counts.failed,
        counts.in_doubt,
        counts.missed,
        counts.held,
        counts.cancelled
    ));
}
