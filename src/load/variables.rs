//! `{{ … }}` in the bodies of runbooks, guides and pages, filled in with the project's
//! variables while loading — `{{ roster["dba"].phone }}` in a runbook becomes the DBA's
//! number on the page and in the search index. Comms templates are not touched here: they
//! are rendered per recipient ([`crate::email`]).
//!
//! Only `{{ … }}` outside code is an expression: a code span or block (a Helm chart, an
//! Ansible task) keeps its braces. Each expression is rendered with Tera on its own, its
//! value escaped as HTML; an unknown variable is an error at the expression's line and
//! column. `{% … %}` tags are not supported in these bodies.

use std::ops::Range;

use pulldown_cmark::{Event, Parser, Tag};
use serde_json::json;

use crate::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::project::{Body, Project};

/// Fills in every expression of every runbook, guide and page body of `project`.
pub(super) fn fill_bodies(project: &mut Project, diags: &mut Diagnostics) {
    if project.references_unknown {
        return; // project.yaml did not parse: its variables are unknown (its errors say why)
    }
    let needs = |b: &Body| b.markdown.contains("{{");
    let any = project.runbooks.iter().any(|r| needs(&r.body))
        || project.guides.iter().any(|g| needs(&g.body))
        || project.pages.iter().any(|p| needs(&p.body));
    if !any {
        return;
    }
    let ctx = context(project);
    let bodies = project
        .runbooks
        .iter_mut()
        .map(|r| &mut r.body)
        .chain(project.guides.iter_mut().map(|g| &mut g.body))
        .chain(project.pages.iter_mut().map(|p| &mut p.body));
    for body in bodies.filter(|b| needs(b)) {
        fill(body, &ctx, diags);
    }
}

/// The variables a body can use: what is the same for every reader of the site.
fn context(p: &Project) -> tera::Context {
    let roster = p.roster_variables();
    let mut ctx = tera::Context::new();
    ctx.insert("project", &p.name);
    ctx.insert("system", &p.system);
    ctx.insert("version", &p.version);
    ctx.insert("site_title", p.site_title());
    ctx.insert("go_live", &p.go_live.to_rfc3339());
    ctx.insert(
        "waves",
        &p.waves
            .iter()
            .map(|w| json!({"id": w.id, "name": w.name, "go_live": w.go_live.to_rfc3339()}))
            .collect::<Vec<_>>(),
    );
    ctx.insert("roster", &roster);
    ctx.insert("support", &p.support);
    ctx
}

fn fill(body: &mut Body, ctx: &tera::Context, diags: &mut Diagnostics) {
    let text = &body.markdown;
    let code = code_ranges(text);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("{{") {
        let start = search + found;
        if let Some(range) = code.iter().find(|r| r.contains(&start)) {
            search = range.end.max(start + 2);
            continue;
        }
        let Some(len) = text[start..].find("}}") else {
            diags.push(error(
                body,
                start,
                "`{{` is never closed with `}}`".into(),
                "write `}}` after the variable, or put literal braces in `code`",
            ));
            return;
        };
        let end = start + len + 2;
        let expression = &text[start..end];
        match tera::Tera::one_off(expression, ctx, false) {
            Ok(value) => {
                out.push_str(&text[at..start]);
                crate::util::push_escaped(&mut out, &value);
            }
            Err(e) => diags.push(error(
                body,
                start,
                format!(
                    "cannot fill in `{expression}`: {}",
                    crate::templates::error_chain(&e)
                        .replace("Failed to render '__tera_one_off': ", "")
                ),
                "variables here: project, system, version, site_title, go_live, waves, roster[\"<role>\"].name/email/phone/title, support.email/phone/url; put literal braces in `code`",
            )),
        }
        at = end;
        search = end;
    }
    if at > 0 {
        out.push_str(&text[at..]);
        body.markdown = out;
    }
}

/// Byte ranges of code spans and code blocks, whose braces are literal.
fn code_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut block: Option<usize> = None;
    for (event, range) in Parser::new_ext(text, crate::markdown::options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => block = Some(range.start),
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => {
                if let Some(start) = block.take() {
                    ranges.push(start..range.end);
                }
            }
            Event::Code(_) => ranges.push(range),
            _ => {}
        }
    }
    ranges
}

fn error(body: &Body, offset: usize, message: String, hint: &str) -> Diagnostic {
    let before = &body.markdown[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = body.first_line + before.matches('\n').count();
    let column = before[line_start..].chars().count() + 1;
    let source_line = body.markdown[line_start..]
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    Diagnostic::new(message)
        .in_file(&body.file)
        .at(Some(Position::new(line, column)))
        .with_source_line(Some(source_line))
        .with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn body(markdown: &str) -> Body {
        Body {
            markdown: markdown.into(),
            file: PathBuf::from("content/runbooks/deploy.md"),
            first_line: 10,
        }
    }

    fn ctx() -> tera::Context {
        let mut ctx = tera::Context::new();
        ctx.insert("system", "Field Service Hub");
        ctx.insert(
            "roster",
            &json!({"dba": {"name": "Sam <Lee>", "phone": "+44 20 7946 0105"}}),
        );
        ctx
    }

    #[test]
    fn expressions_outside_code_are_filled_in_and_escaped() {
        let mut b = body(
            "Call {{ roster[\"dba\"].phone }} ({{ roster.dba.name }}).\n\n`{{ raw }}` and\n\n```yaml\nimage: {{ .Values.image }}\n```\n\n{{system}}\n",
        );
        let mut diags = Diagnostics::new();
        fill(&mut b, &ctx(), &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            b.markdown,
            "Call +44 20 7946 0105 (Sam &lt;Lee&gt;).\n\n`{{ raw }}` and\n\n```yaml\nimage: {{ .Values.image }}\n```\n\nField Service Hub\n"
        );
    }

    #[test]
    fn an_unknown_variable_is_an_error_at_its_line_and_column() {
        let mut b = body("Intro.\n\nRing {{ roster.dbx.phone }} now.\n");
        let mut diags = Diagnostics::new();
        fill(&mut b, &ctx(), &mut diags);
        let d = diags.iter().next().expect("an error");
        assert_eq!(d.position, Some(Position::new(12, 6)));
        assert!(d.message.contains("roster.dbx.phone"), "{}", d.message);
        assert_eq!(
            d.source_line.as_deref(),
            Some("Ring {{ roster.dbx.phone }} now.")
        );
        let mut unclosed = body("a {{ b\n");
        fill(&mut unclosed, &ctx(), &mut diags);
        assert_eq!(diags.len(), 2);
    }
}
