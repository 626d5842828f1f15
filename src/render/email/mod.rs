//! Rendering announcements: subject and body templates (Tera) filled in for one recipient,
//! the body's Markdown turned into an email-safe HTML part (inline styles, [`body`]; table
//! layout) and a plain-text part, and the whole message as a standard `.eml` ([`eml`]).
//!
//! The body template is autoescaped, so a recipient's name can never inject markup; the
//! subject is plain text and may not contain a line break (header injection).

pub mod body;
mod eml;

pub use eml::{message_id, sender};

use std::collections::BTreeMap;

use chrono::Utc;
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::json;
use tera::Tera;

use super::format::rfc3339;
use crate::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::markdown;
use crate::plan::comms::ScheduledMessage;
use crate::project::{MessageTemplate, Project, Recipient};
use crate::templates::{error_chain, tera_position};

/// One message rendered for one recipient.
#[derive(Debug, Clone)]
pub struct RenderedEmail {
    pub subject: String,
    /// The complete HTML part (a document with inline styles).
    pub html: String,
    pub text: String,
}

/// Renders comms templates; compiled once per build.
pub struct Mailer<'a> {
    project: &'a Project,
    tera: Tera,
}

fn subject_name(i: usize) -> String {
    format!("message-{i}/subject.txt")
}

fn body_name(i: usize) -> String {
    format!("message-{i}/body.html")
}

impl<'a> Mailer<'a> {
    /// Compiles the subject and body of every comms template; errors point into the files.
    pub fn new(project: &'a Project) -> Result<Self, Diagnostics> {
        let mut tera = Tera::default();
        tera.set_escape_fn(markdown::highlight::escape_html);
        let mut diags = Diagnostics::new();
        for (i, m) in project.messages.iter().enumerate() {
            let subject_line = m.subject_at.map_or(1, |p| p.line);
            if let Err(e) = tera.add_raw_template(&subject_name(i), &m.subject) {
                diags.push(template_error(
                    m,
                    &e,
                    subject_line.saturating_sub(1),
                    m.subject_at,
                    "subject",
                ));
            }
            let offset = m.body.first_line.saturating_sub(1);
            if let Err(e) = tera.add_raw_template(&body_name(i), &m.body.markdown) {
                diags.push(template_error(m, &e, offset, None, "body"));
            }
        }
        diags.finish(Mailer { project, tera })
    }

    /// The template variables for `msg` sent to `recipient`.
    pub fn context(&self, msg: &ScheduledMessage, recipient: &Recipient) -> tera::Context {
        let p = self.project;
        let zone: Tz = msg.send_at.timezone();
        let wave = msg.wave.as_deref().and_then(|w| p.wave(w));
        let (t0, _) = p.t0(msg.wave.as_deref());
        let roster: BTreeMap<&str, serde_json::Value> = p
            .roster
            .iter()
            .map(|r| {
                (
                    r.role.as_str(),
                    json!({"name": r.name, "email": r.email, "phone": r.phone, "role": r.role}),
                )
            })
            .collect();
        let sessions: Vec<serde_json::Value> = p
            .sessions
            .iter()
            // Sessions in the 60 days before this T-0, for everyone or for this audience.
            .filter(|s| {
                s.start > t0.with_timezone(&Utc) - chrono::Duration::days(60) && s.start <= t0
            })
            .filter(|s| s.audience.is_empty() || s.audience.iter().any(|a| a == &msg.audience))
            .map(|s| {
                json!({
                    "id": s.id, "title": s.title, "start": rfc3339(&s.start.with_timezone(&zone)),
                    "duration": crate::time::format_duration(s.duration),
                    "location": s.location, "link": s.link, "capacity": s.capacity,
                })
            })
            .collect();
        let mut ctx = tera::Context::new();
        ctx.insert("project", &p.name);
        ctx.insert("system", &p.system);
        ctx.insert("version", &p.version);
        ctx.insert("site_title", p.site_title());
        ctx.insert("go_live", &rfc3339(&t0.with_timezone(&zone)));
        ctx.insert("project_go_live", &rfc3339(&p.go_live.with_timezone(&zone)));
        ctx.insert("send_at", &rfc3339(&msg.send_at));
        ctx.insert("locale", &msg.locale);
        ctx.insert("audience", &msg.audience);
        if let Some(w) = wave {
            ctx.insert(
                "wave",
                &json!({"id": w.id, "name": w.name, "go_live": rfc3339(&w.go_live.with_timezone(&zone)), "description": w.description}),
            );
        }
        ctx.insert("waves", &p.waves.iter().map(|w| json!({"id": w.id, "name": w.name, "go_live": rfc3339(&w.go_live.with_timezone(&zone))})).collect::<Vec<_>>());
        ctx.insert("recipient", &RecipientView::of(recipient, zone));
        ctx.insert("support", &p.support);
        ctx.insert("roster", &roster);
        ctx.insert("sessions", &sessions);
        ctx
    }

    /// The subject of `msg` for its first recipient (what `comms list` shows).
    pub fn subject(&self, msg: &ScheduledMessage) -> Result<String, Diagnostic> {
        let recipient = msg
            .recipients
            .first()
            .cloned()
            .unwrap_or_else(|| Recipient {
                email: String::new(),
                name: None,
                locale: None,
                zone: None,
            });
        self.render_subject(msg, &self.context(msg, &recipient))
    }

    fn render_subject(
        &self,
        msg: &ScheduledMessage,
        ctx: &tera::Context,
    ) -> Result<String, Diagnostic> {
        let template = &self.project.messages[msg.template];
        let subject = self
            .tera
            .render(&subject_name(msg.template), ctx)
            .map_err(|e| render_error(template, &e, "subject"))?;
        if subject.contains(['\r', '\n']) {
            return Err(Diagnostic::new(format!(
                "the subject of `{}` renders with a line break",
                template.id
            ))
            .in_file(&template.body.file)
            .at(template.subject_at)
            .with_hint(
                "a line break in a subject would inject email headers; check the variables it uses",
            ));
        }
        Ok(subject.trim().to_string())
    }

    /// `msg` rendered for `recipient`.
    pub fn render(
        &self,
        msg: &ScheduledMessage,
        recipient: &Recipient,
    ) -> Result<RenderedEmail, Diagnostic> {
        let template = &self.project.messages[msg.template];
        let ctx = self.context(msg, recipient);
        let subject = self.render_subject(msg, &ctx)?;
        let markdown = self
            .tera
            .render(&body_name(msg.template), &ctx)
            .map_err(|e| render_error(template, &e, "body"))?;
        let text = markdown::to_plain_text(&markdown);
        let html = email_document(
            &subject,
            &body::body_html(&markdown),
            self.project,
            &msg.locale,
        );
        Ok(RenderedEmail {
            subject,
            html,
            text,
        })
    }
}

#[derive(Serialize)]
struct RecipientView<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<&'a str>,
    timezone: String,
}

impl<'a> RecipientView<'a> {
    fn of(r: &'a Recipient, zone: Tz) -> Self {
        RecipientView {
            email: &r.email,
            name: r.name.as_deref(),
            locale: r.locale.as_deref(),
            timezone: zone.name().to_string(),
        }
    }
}

fn template_error(
    m: &MessageTemplate,
    e: &tera::Error,
    line_offset: usize,
    fallback: Option<Position>,
    part: &str,
) -> Diagnostic {
    let message = error_chain(e);
    let position = tera_position(&message, line_offset).or(fallback);
    let detail = message
        .split(" --> ")
        .next()
        .unwrap_or(&message)
        .trim()
        .to_string();
    Diagnostic::new(format!("template error in the {part} of `{}`: {detail}", m.id))
        .in_file(&m.body.file)
        .at(position)
        .with_hint("templates use Tera (Jinja2-like) syntax: {{ variable }}, {% if %}…{% endif %}, {% for %}…{% endfor %}")
}

fn render_error(m: &MessageTemplate, e: &tera::Error, part: &str) -> Diagnostic {
    let message = error_chain(e);
    let message = message
        .split(": ")
        .filter(|s| !s.starts_with("Failed to render 'message-"))
        .collect::<Vec<_>>()
        .join(": ");
    Diagnostic::new(format!("cannot render the {part} of `{}`: {message}", m.id))
        .in_file(&m.body.file)
        .at(if part == "subject" { m.subject_at } else { Some(Position::new(m.body.first_line, 1)) })
        .with_hint("variables available: project, system, wave, go_live, send_at, recipient, support, roster, sessions; use `| default(value=\"…\")` for optional ones")
}

/// A complete HTML email: a 600px centred table, system fonts, no external assets.
fn email_document(subject: &str, body: &str, p: &Project, locale: &str) -> String {
    let esc = markdown::highlight::escape_html;
    let mut contact = Vec::new();
    if let Some(e) = &p.support.email {
        contact.push(format!(
            "<a style=\"color:#0b5cad;\" href=\"mailto:{0}\">{0}</a>",
            esc(e)
        ));
    }
    if let Some(ph) = &p.support.phone {
        contact.push(esc(ph));
    }
    if let Some(u) = &p.support.url {
        contact.push(format!(
            "<a style=\"color:#0b5cad;\" href=\"{0}\">{0}</a>",
            esc(u)
        ));
    }
    let footer = if contact.is_empty() {
        String::new()
    } else {
        format!("Need help? {}", contact.join(" · "))
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>{title}</title>
</head>
<body style="margin:0;padding:0;background:#eef1f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#eef1f5;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="width:100%;max-width:600px;background:#ffffff;border-radius:6px;">
<tr><td style="background:#10233f;color:#ffffff;padding:18px 28px;font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;font-weight:600;letter-spacing:.02em;border-radius:6px 6px 0 0;">{system}</td></tr>
<tr><td style="padding:28px;font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.55;color:#1f2a37;">
{body}
</td></tr>
<tr><td style="padding:16px 28px;border-top:1px solid #e3e8ef;font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:12px;line-height:1.5;color:#5b6675;">{footer}</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"#,
        lang = esc(locale),
        title = esc(subject),
        system = esc(&p.system),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn minimal() -> Project {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minimal");
        crate::load::load(&root).expect("the fixture loads")
    }
}
