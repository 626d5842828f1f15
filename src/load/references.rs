//! Checks that span several files: duplicate ids, and comms locale variants that have no
//! base template or a different schedule from it.

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::project::Project;

pub fn check(project: &Project, diags: &mut Diagnostics) {
    checklist_gates(project, diags);
    let mut runbooks: HashMap<&str, &std::path::Path> = HashMap::new();
    for rb in &project.runbooks {
        if let Some(first) = runbooks.insert(&rb.id, &rb.body.file) {
            diags.push(
                Diagnostic::new(format!(
                    "duplicate runbook id `{}` (also used by {})",
                    rb.id,
                    first.display()
                ))
                .in_file(&rb.body.file)
                .at(rb.id_at.or(Some(Position::new(1, 1))))
                .with_hint("give each runbook its own id"),
            );
        }
    }
    let mut messages: HashMap<(&str, Option<&str>), &std::path::Path> = HashMap::new();
    for m in &project.messages {
        if let Some(first) = messages.insert((&m.id, m.locale.as_deref()), &m.body.file) {
            diags.push(
                Diagnostic::new(format!(
                    "duplicate message id `{}` (also used by {})",
                    m.id,
                    first.display()
                ))
                .in_file(&m.body.file)
                .at(m.id_at.or(Some(Position::new(1, 1))))
                .with_hint(
                    "give each message its own id; locale variants go in `<id>.<locale>.md`",
                ),
            );
        }
    }
    for m in project.messages.iter().filter(|m| m.locale.is_some()) {
        let at = m.id_at.or(Some(Position::new(1, 1)));
        match project.messages.iter().find(|b| b.id == m.id && b.locale.is_none()) {
            None => diags.push(
                Diagnostic::new(format!("locale variant of `{}` has no base template", m.id))
                    .in_file(&m.body.file)
                    .at(at)
                    .with_hint(format!("add comms/{}.md: it goes to recipients of every other locale", m.id)),
            ),
            Some(base) if base.send != m.send || base.audience != m.audience || base.per_wave != m.per_wave || base.repeat != m.repeat || base.on != m.on || gate_ids(base) != gate_ids(m) => diags.push(
                Diagnostic::new(format!(
                    "locale variant of `{}` has a different schedule from {}",
                    m.id,
                    base.body.file.display()
                ))
                .in_file(&m.body.file)
                .at(at)
                .with_hint("a variant only translates: give it the same `send`, `audience`, `per_wave`, `gate`, `on` and `repeat` as the base"),
            ),
            Some(_) => {}
        }
    }
}

/// The gate of a message per wave, without where it is written.
fn gate_ids(m: &crate::project::MessageTemplate) -> Vec<(Option<&str>, &str)> {
    match &m.gate {
        None => Vec::new(),
        Some(crate::project::GateRef::One(g)) => vec![(None, g.id.as_str())],
        Some(crate::project::GateRef::PerWave(map)) => map
            .iter()
            .map(|(w, g)| (Some(w.as_str()), g.id.as_str()))
            .collect(),
    }
}

/// A checklist's `gate:` names a go-no-go task of the plan.
fn checklist_gates(project: &Project, diags: &mut Diagnostics) {
    let gates: Vec<&str> = project
        .cutover
        .tasks
        .iter()
        .filter(|t| t.kind == crate::model::cutover::TaskKind::GoNoGo)
        .map(|t| t.id.as_str())
        .collect();
    for c in &project.checklists {
        let Some(gate) = &c.gate else { continue };
        if gates.contains(&gate.as_str()) {
            continue;
        }
        let is_task = project.cutover.tasks.iter().any(|t| &t.id == gate);
        let message = if is_task {
            format!(
                "checklist `{}` informs `{gate}`, which is not a go-no-go task",
                c.id
            )
        } else {
            format!("checklist `{}` informs unknown gate `{gate}`", c.id)
        };
        diags.push(
            Diagnostic::new(message)
                .in_file(&c.file)
                .at(c.gate_at)
                .with_hint(super::cutover::suggest(gate, &gates)),
        );
    }
}
