//! `tminus comms list` and `tminus comms preview` (sending: [`super::send`]).

use std::path::Path;

use tminus::plan::comms::{gate_state, Gating};
use tminus::render::plan_json::comms_items;
use tminus::render::CommsEntry;

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
            let items = comms_items(&entries, &prepared.project, now);
            let json = serde_json::to_string_pretty(&items).expect("serializes");
            super::emit(&format!("{json}\n"));
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
