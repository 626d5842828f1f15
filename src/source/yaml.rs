//! YAML with positions.
//!
//! [`parse`] deserializes a YAML document into a typed value with serde (via the maintained
//! `serde_norway` fork of serde_yaml) and reports *every* problem of the document, not just the
//! first: after each error the offending node is taken out and deserialization is retried.
//! [`Spans`] maps each node's path (`waves[0].go_live`) to the line and column where it is
//! written, so later validation can point at the exact spot too.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_yaml::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::SourceFile;
use crate::diagnostics::{did_you_mean, Diagnostics, Position};

/// Where each node of a YAML document is written.
#[derive(Debug, Default, Clone)]
pub struct Spans {
    nodes: HashMap<String, NodeSpan>,
}

#[derive(Debug, Clone, Copy)]
struct NodeSpan {
    key: Option<Position>,
    value: Position,
    scalar: bool,
}

impl Spans {
    /// Best position for a problem with the node at `path`: the value when it is a scalar,
    /// else its key.
    pub fn at(&self, path: &str) -> Option<Position> {
        let node = self.nodes.get(path)?;
        if node.scalar {
            Some(node.value)
        } else {
            node.key.or(Some(node.value))
        }
    }

    /// Position of the key of the node at `path` (falls back to the node itself).
    pub fn key_at(&self, path: &str) -> Option<Position> {
        let node = self.nodes.get(path)?;
        node.key.or(Some(node.value))
    }

    /// Position of `path`, or of its nearest ancestor that exists.
    pub fn nearest(&self, path: &str) -> Option<Position> {
        let mut p = path;
        loop {
            if let Some(pos) = self.at(p) {
                return Some(pos);
            }
            p = parent_path(p)?;
        }
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → ``.
fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

/// Joins a map key onto a path.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Joins a sequence index onto a path.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A typed value with the positions of its nodes.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub spans: Spans,
}

/// Parses `yaml`, which starts on line `first_line` of `file`, into a `T`.
///
/// Every problem is pushed to `diags`. When problems could be repaired (an unknown key
/// renamed to its likely spelling or dropped) the repaired value is still returned, so its
/// content can be checked too; `None` when nothing usable remains.
pub fn parse<T: DeserializeOwned>(
    file: &SourceFile,
    yaml: &str,
    first_line: usize,
    diags: &mut Diagnostics,
) -> Option<Located<T>> {
    let line_offset = first_line.saturating_sub(1);
    if let Err(over) = super::limits::preflight(yaml) {
        let at = Position::new(over.position.line + line_offset, over.position.column);
        diags.push(file.error(Some(at), over.message).with_hint(over.hint));
        return None;
    }
    let mut value: Value = match serde_yaml::from_str(yaml) {
        Ok(Value::Null) if yaml.trim().is_empty() => Value::Mapping(Default::default()),
        Ok(v) => v,
        Err(e) => {
            // Errors without a location concern the whole document: its first line.
            let pos = e
                .location()
                .map(|l| Position::new(l.line() + line_offset, l.column()))
                .or(Some(Position::new(first_line, 1)));
            let (message, pos) = match unclosed(&e.to_string(), line_offset) {
                // `system: [PayFlow` never closed: the parser notices on a later line; the
                // mistake is where the bracket opened.
                Some((what, opened)) => (
                    format!(
                        "this {what} is never closed (the parser noticed at line {}, column {}: {})",
                        pos.map_or(0, |p| p.line),
                        pos.map_or(0, |p| p.column),
                        strip_location(&e.to_string())
                    ),
                    Some(opened),
                ),
                None => (strip_location(&e.to_string()), pos),
            };
            diags.push(
                file.error(pos, format!("this is not valid YAML: {message}"))
                    .with_hint("check the indentation, and quote text that contains `: ` or starts with a special character"),
            );
            return None;
        }
    };
    let spans = index_spans(yaml, line_offset);
    let mut removed: Vec<String> = Vec::new();
    // Each round reports one error and removes its node; bounded so a pathological file ends.
    for _ in 0..50 {
        match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            // After recovery the value is still checked further, so one run reports the
            // file's structural and semantic errors together.
            Ok(typed) => {
                return Some(Located {
                    value: typed,
                    spans,
                });
            }
            Err(e) => {
                let path = path_string(e.path());
                let inner = e.into_inner().to_string();
                let problem = describe(&path, &inner);
                // A required key we took out ourselves after an earlier error: already reported.
                if removed
                    .iter()
                    .any(|r| problem.missing.as_deref() == Some(r.as_str()))
                {
                    return None;
                }
                let pos = if problem.at_key {
                    spans.key_at(&problem.node)
                } else {
                    spans.nearest(&problem.node)
                };
                let pos = pos.or(Some(Position::new(first_line, 1)));
                diags.push(file.error(pos, problem.message).with_hint(problem.hint));
                let recovered = match &problem.rename_to {
                    Some(to) => rename_key(&mut value, &problem.node, to),
                    None => remove_node(&mut value, &problem.node),
                };
                if !recovered || problem.node.ends_with(']') {
                    return None;
                }
                removed.push(problem.node);
            }
        }
    }
    None
}

fn path_string(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index: i } => out = index(&out, *i),
            Segment::Map { key } => out = join(&out, key),
            Segment::Enum { variant } => out = join(&out, variant),
            Segment::Unknown => {}
        }
    }
    out
}

struct Problem {
    /// Path of the node to blame (and to remove before retrying).
    node: String,
    message: String,
    hint: String,
    /// Point at the key rather than the value.
    at_key: bool,
    /// Retry with the key renamed to this (a likely typo) instead of removing it.
    rename_to: Option<String>,
    /// For a missing key: the path it should have had.
    missing: Option<String>,
}

impl Problem {
    fn at(node: &str, message: String, hint: String) -> Self {
        Problem {
            node: node.to_string(),
            message,
            hint,
            at_key: false,
            rename_to: None,
            missing: None,
        }
    }
}

/// Turns serde's wording into ours.
fn describe(path: &str, serde_message: &str) -> Problem {
    let at = |p: &str| {
        if p.is_empty() {
            String::new()
        } else {
            format!(" in `{p}`")
        }
    };
    if let Some(rest) = serde_message.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let close = did_you_mean(key, allowed.iter().copied());
        let hint = match close {
            Some(close) => format!("did you mean `{close}`?"),
            None if allowed.is_empty() => "remove this key".to_string(),
            None => format!("the keys allowed here are: {}", allowed.join(", ")),
        };
        // serde_path_to_error may or may not include the unknown key in the path.
        let node = if path.ends_with(&format!(".{key}")) || path == key {
            path.to_string()
        } else {
            join(path, key)
        };
        let parent = parent_path(&node).unwrap_or("").to_string();
        let mut problem = Problem::at(&node, format!("unknown key `{key}`{}", at(&parent)), hint);
        problem.at_key = true;
        problem.rename_to = close.map(str::to_string);
        return problem;
    }
    if let Some(rest) = serde_message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        let mut problem = Problem::at(
            path,
            format!("missing required key `{key}`{}", at(path)),
            format!("add `{key}:` here"),
        );
        problem.at_key = true;
        problem.missing = Some(join(path, key));
        return problem;
    }
    if let Some(rest) = serde_message.strip_prefix("unknown variant `") {
        let (got, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let hint = match did_you_mean(got, allowed.iter().copied()) {
            Some(close) => format!("did you mean `{close}`? allowed: {}", allowed.join(", ")),
            None => format!("allowed: {}", allowed.join(", ")),
        };
        return Problem::at(
            path,
            format!("`{got}` is not an allowed value for `{}`", last_key(path)),
            hint,
        );
    }
    if let Some(rest) = serde_message.strip_prefix("invalid type: ") {
        let (got, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "another type"));
        return Problem::at(
            path,
            format!("`{}` should be {expected}, found {got}", last_key(path)),
            String::new(),
        );
    }
    Problem::at(
        path,
        format!("{}{}", strip_location(serde_message), at(path)),
        String::new(),
    )
}

fn last_key(path: &str) -> &str {
    match parent_path(path) {
        Some(parent) if !parent.is_empty() => path[parent.len()..].trim_start_matches('.'),
        _ => path,
    }
}

/// serde_yaml appends " at line L column C"; we print positions ourselves.
/// For libyaml's "…, while parsing a flow sequence at line L column C": what was left open
/// (`[` sequence or `{` mapping) and where, in file lines.
fn unclosed(message: &str, line_offset: usize) -> Option<(&'static str, Position)> {
    let (_, context) = message.split_once(", while parsing a flow ")?;
    let what = if context.starts_with("sequence") {
        "`[` list"
    } else if context.starts_with("mapping") {
        "`{` mapping"
    } else {
        return None;
    };
    let (_, at) = context.split_once(" at line ")?;
    let (line, column) = at.split_once(" column ")?;
    let line: usize = line.trim().parse().ok()?;
    let column: usize = column
        .trim()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((what, Position::new(line + line_offset, column)))
}

fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Removes the node at `path` from `value`; false when there is nothing to remove.
fn remove_node(value: &mut Value, path: &str) -> bool {
    if path.is_empty() {
        return false;
    }
    let Some(parent) = parent_path(path) else {
        return false;
    };
    let Some(container) = lookup_mut(value, parent) else {
        return false;
    };
    let last = &path[parent.len()..];
    if let Some(i) = last.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        match (container, i.parse::<usize>()) {
            (Value::Sequence(seq), Ok(i)) if i < seq.len() => {
                // Keep the indices of the following items stable.
                seq[i] = Value::Null;
                true
            }
            _ => false,
        }
    } else {
        let key = last.trim_start_matches('.');
        match container {
            Value::Mapping(map) => map.remove(key).is_some(),
            _ => false,
        }
    }
}

/// Renames the key at `path` to `to` (removing it when `to` is already there).
fn rename_key(value: &mut Value, path: &str, to: &str) -> bool {
    let Some(parent) = parent_path(path) else {
        return false;
    };
    let key = path[parent.len()..].trim_start_matches('.');
    let Some(Value::Mapping(map)) = lookup_mut(value, parent) else {
        return false;
    };
    let Some(v) = map.remove(key) else {
        return false;
    };
    if !map.contains_key(to) {
        map.insert(Value::String(to.to_string()), v);
    }
    true
}

fn lookup_mut<'a>(value: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    if path.is_empty() {
        return Some(value);
    }
    let parent = parent_path(path)?;
    let container = lookup_mut(value, parent)?;
    let last = &path[parent.len()..];
    if let Some(i) = last.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        container
            .as_sequence_mut()?
            .get_mut(i.parse::<usize>().ok()?)
    } else {
        container
            .as_mapping_mut()?
            .get_mut(last.trim_start_matches('.'))
    }
}

/// Walks the YAML events once and records where every node is.
fn index_spans(yaml: &str, line_offset: usize) -> Spans {
    let mut builder = SpanBuilder {
        stack: Vec::new(),
        spans: Spans::default(),
        line_offset,
    };
    // Syntax errors were reported by serde_norway already; positions are best effort.
    let _ = Parser::new_from_str(yaml).load(&mut builder, false);
    builder.spans
}

enum Frame {
    Map {
        path: String,
        key: Option<(String, Position)>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

struct SpanBuilder {
    stack: Vec<Frame>,
    spans: Spans,
    line_offset: usize,
}

impl SpanBuilder {
    fn position(&self, mark: Marker) -> Position {
        Position::new(mark.line() + self.line_offset, mark.col() + 1)
    }

    /// Path and key position of the value about to arrive.
    fn next_value(&self) -> (String, Option<Position>) {
        match self.stack.last() {
            Some(Frame::Map {
                path,
                key: Some((k, at)),
            }) => (join(path, k), Some(*at)),
            Some(Frame::Map { path, key: None }) => (path.clone(), None),
            Some(Frame::Seq { path, next }) => (index(path, *next), None),
            None => (String::new(), None),
        }
    }

    /// A value of the innermost container is complete.
    fn value_done(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { next, .. }) => *next += 1,
            None => {}
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn record(&mut self, path: &str, key: Option<Position>, value: Position, scalar: bool) {
        self.spans
            .nodes
            .insert(path.to_string(), NodeSpan { key, value, scalar });
    }
}

impl MarkedEventReceiver for SpanBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let pos = self.position(mark);
        match event {
            Event::Scalar(text, ..) => {
                if self.expecting_key() {
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some((text, pos));
                    }
                } else {
                    let (path, key) = self.next_value();
                    self.record(&path, key, pos, true);
                    self.value_done();
                }
            }
            Event::Alias(_) if !self.expecting_key() => {
                let (path, key) = self.next_value();
                self.record(&path, key, pos, false);
                self.value_done();
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let (path, key) = self.next_value();
                self.record(&path, key, pos, false);
                self.stack
                    .push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map { path, key: None }
                    } else {
                        Frame::Seq { path, next: 0 }
                    });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_done();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        title: String,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        text: String,
        #[serde(default)]
        critical: bool,
    }

    fn run(yaml: &str, first_line: usize) -> (Option<Located<Doc>>, Vec<String>) {
        let file = SourceFile::new("x.yaml", yaml);
        let mut diags = Diagnostics::new();
        let out = parse::<Doc>(&file, yaml, first_line, &mut diags);
        let msgs = diags
            .into_sorted()
            .iter()
            .map(|d| format!("{}: {}: {:?}", d.location(), d.message, d.hint))
            .collect();
        (out, msgs)
    }

    #[test]
    fn spans_point_at_values_and_keys() {
        let (doc, msgs) = run(
            "title: T\nitems:\n  - text: a\n  - text: b\n    critical: true\n",
            1,
        );
        assert!(msgs.is_empty(), "{msgs:?}");
        let spans = doc.unwrap().spans;
        assert_eq!(spans.at("title"), Some(Position::new(1, 8)));
        assert_eq!(spans.at("items[1].text"), Some(Position::new(4, 11)));
        assert_eq!(spans.at("items[1].critical"), Some(Position::new(5, 15)));
        assert_eq!(spans.key_at("items[1].critical"), Some(Position::new(5, 5)));
        assert_eq!(spans.at("items"), Some(Position::new(2, 1)));
    }

    #[test]
    fn reports_every_unknown_key_with_a_suggestion_and_file_lines() {
        let yaml = "tilte: T\nitems:\n  - txt: a\n  - text: b\n    critcal: true\n";
        let (doc, msgs) = run(yaml, 10);
        assert!(
            doc.is_some(),
            "typos are repaired so the content can be checked further"
        );
        let all = msgs.join("\n");
        assert!(all.contains("x.yaml:10:1: unknown key `tilte`"), "{all}");
        assert!(all.contains("did you mean `title`?"), "{all}");
        assert!(
            all.contains("x.yaml:12:5: unknown key `txt` in `items[0]`"),
            "{all}"
        );
        assert!(
            all.contains("x.yaml:14:5: unknown key `critcal` in `items[1]`"),
            "{all}"
        );
    }

    #[test]
    fn wrong_types_and_syntax_errors_have_positions() {
        let (_, msgs) = run("title: T\nitems:\n  - text: a\n    critical: maybe\n", 1);
        assert!(
            msgs[0].starts_with("x.yaml:4:15: `critical` should be a boolean"),
            "{msgs:?}"
        );
        // An unclosed `[`: located where it opened, not on the next line where the parser
        // noticed (which the message still says). In a front matter, lines are the file's.
        let (_, msgs) = run("title: [T\nitems: 2\n", 1);
        assert!(msgs[0].contains("this is not valid YAML"), "{msgs:?}");
        assert!(
            msgs[0].starts_with("x.yaml:1:8: this is not valid YAML: this `[` list is never closed (the parser noticed at line 2"),
            "{msgs:?}"
        );
        let (_, msgs) = run("a: 1\nb: {x: 1\nc: 2\n", 3);
        assert!(
            msgs[0].starts_with(
                "x.yaml:4:4: this is not valid YAML: this `{` mapping is never closed"
            ),
            "{msgs:?}"
        );
    }
}
