//! The keys that tie a message to the night (SPEC §4): `gate`, `on` and `repeat`, checked
//! in the message's own file ([`schedule_keys`]), and the gates checked against the cutover
//! plan once it is loaded ([`check_gates`]).

use crate::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::model::comms::{GateFile, MessageFrontMatter};
use crate::model::cutover::TaskKind;
use crate::project::{GateOn, GateRef, Named, Project, Repeat};
use crate::time::repeat::{self, MAX_OCCURRENCES};
use crate::time::TimeSpec;

use super::Checker;

/// `gate`, `on` and `repeat` of one message, or `None` after reporting what is wrong.
pub(super) fn schedule_keys(
    c: &mut Checker,
    p: &Project,
    fm: &MessageFrontMatter,
    send: &TimeSpec,
) -> Option<(Option<GateRef>, GateOn, Option<Repeat>)> {
    let mut ok = true;
    let on = match fm.on.as_deref() {
        None | Some("go") => GateOn::Go,
        Some("no-go") => GateOn::NoGo,
        Some(other) => {
            c.error(
                "on",
                format!("`on: {other}` is not an outcome a message can wait for"),
                "write `on: go` (GO or CONDITIONAL GO, the default) or `on: no-go`",
            );
            ok = false;
            GateOn::Go
        }
    };
    if fm.on.is_some() && fm.gate.is_none() {
        c.error(
            "on",
            "`on` without a `gate`: there is no decision to wait for",
            "name the go-no-go task with `gate: <task id>`, or remove `on`",
        );
        ok = false;
    }
    let gate = match &fm.gate {
        None => None,
        Some(GateFile::One(id)) => {
            ok &= c.id("gate", id, "task");
            Some(GateRef::One(Named {
                id: id.clone(),
                at: c.spans.at("gate"),
            }))
        }
        Some(GateFile::PerWave(map)) => {
            if !fm.per_wave {
                c.error(
                    "gate",
                    "a gate per wave needs `per_wave: true`",
                    "name one go-no-go task (`gate: <task id>`), or send one message set per wave",
                );
                ok = false;
            }
            let known: Vec<&str> = p.waves.iter().map(|w| w.id.as_str()).collect();
            let mut gates = Vec::new();
            for (wave, id) in map {
                let path = format!("gate.{wave}");
                if !p.references_unknown {
                    if let Some(at) = c.spans.key_at(&path) {
                        if !known.contains(&wave.as_str()) {
                            let hint = super::cutover::suggest(wave, &known);
                            c.diags.push(
                                c.file
                                    .error(Some(at), format!("unknown wave `{wave}`"))
                                    .with_hint(hint),
                            );
                            ok = false;
                        }
                    }
                }
                ok &= c.id(&path, id, "task");
                gates.push((
                    wave.clone(),
                    Named {
                        id: id.clone(),
                        at: c.spans.at(&path),
                    },
                ));
            }
            Some(GateRef::PerWave(gates))
        }
    };
    let repeat = match &fm.repeat {
        None => None,
        Some(r) => {
            let every = match repeat::parse_every(&r.every) {
                Ok(e) => Some(e),
                Err(e) => {
                    c.error("repeat.every", e.message, e.hint);
                    None
                }
            };
            let until = c.time_spec("repeat.until", &r.until);
            match (every, until) {
                (Some(every), Some(until)) => {
                    let repeat = Repeat { every, until };
                    ok &= check_span(c, p, fm.per_wave, send, &repeat, &r.until);
                    Some(repeat)
                }
                _ => {
                    ok = false;
                    None
                }
            }
        }
    };
    ok.then_some((gate, on, repeat))
}

/// `until` must not come before `send`, and the occurrences must stay within
/// [`MAX_OCCURRENCES`]: checked at the project's T-0 and each wave's, in their zones.
fn check_span(
    c: &mut Checker,
    p: &Project,
    per_wave: bool,
    send: &TimeSpec,
    r: &Repeat,
    until_text: &str,
) -> bool {
    if p.references_unknown {
        return true;
    }
    let mut t0s = vec![p.t0(None)];
    if per_wave {
        t0s.extend(p.waves.iter().map(|w| p.t0(Some(&w.id))));
    }
    for (t0, zone) in t0s {
        let t0 = t0.with_timezone(&chrono::Utc);
        let first = send.resolve(t0, zone);
        let until = r.until.resolve(t0, zone);
        if until < first {
            c.error(
                "repeat.until",
                format!(
                    "`until: {until_text}` ({}) is before the first occurrence at `send` ({})",
                    until.format("%Y-%m-%d %H:%M %Z"),
                    first.format("%Y-%m-%d %H:%M %Z")
                ),
                "give an `until` at or after `send`",
            );
            return false;
        }
        if repeat::occurrences(first, r.every, until, MAX_OCCURRENCES).is_none() {
            c.error(
                "repeat.every",
                format!("this repeat makes more than {MAX_OCCURRENCES} occurrences"),
                "repeat less often, or end it sooner with `until`",
            );
            return false;
        }
    }
    true
}

/// Every gate names a `go-no-go` task of the cutover plan.
pub(super) fn check_gates(project: &Project, diags: &mut Diagnostics) {
    let tasks = &project.cutover.tasks;
    let gates: Vec<&str> = tasks
        .iter()
        .filter(|t| t.kind == TaskKind::GoNoGo)
        .map(|t| t.id.as_str())
        .collect();
    for m in &project.messages {
        let named: Vec<&Named> = match &m.gate {
            None => continue,
            Some(GateRef::One(g)) => vec![g],
            Some(GateRef::PerWave(map)) => map.iter().map(|(_, g)| g).collect(),
        };
        for g in named {
            if gates.contains(&g.id.as_str()) {
                continue;
            }
            let (message, hint) = match tasks.iter().find(|t| t.id == g.id) {
                Some(t) => (
                    format!(
                        "`gate: {}` is a {} task, not a go-no-go",
                        g.id,
                        t.kind.label().to_lowercase()
                    ),
                    format!(
                        "a message waits for a decision: name a `type: go-no-go` task ({})",
                        known(&gates)
                    ),
                ),
                None => (
                    format!("unknown gate `{}`: no such task in cutover.yaml", g.id),
                    super::cutover::suggest(&g.id, &gates),
                ),
            };
            diags.push(
                Diagnostic::new(message)
                    .in_file(&m.body.file)
                    .at(g.at.or(Some(Position::new(1, 1))))
                    .with_hint(hint),
            );
        }
    }
}

fn known(gates: &[&str]) -> String {
    if gates.is_empty() {
        "the plan has none".to_string()
    } else {
        format!("known: {}", gates.join(", "))
    }
}
