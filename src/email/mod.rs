//! Rendering announcements: subject and body templates (Tera) filled in for one recipient,
//! the body's Markdown turned into the HTML part — the theme's MJML layout ([`layout`],
//! rendered by mrml once per locale, wave and audience) around the body with inline styles
//! ([`body`]) — and a plain-text part, and the whole message as a standard `.eml` ([`eml`]).
//!
//! The body template is autoescaped, so a recipient's name can never inject markup; the
//! subject is plain text and may not contain a line break (header injection).

pub mod body;
pub mod eml;
pub mod layout;
mod live;
mod qp;
pub mod skeleton;

pub use eml::{message_id, sender};

use chrono::Utc;
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::json;
use tera::Tera;

use crate::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::markdown;
use crate::plan::comms::ScheduledMessage;
use crate::project::{MessageTemplate, Project, Recipient};
use crate::templates::{error_chain, tera_position};
use crate::time::stamp::rfc3339;
use layout::Layout;
use skeleton::{Fill, Skeleton};

/// One message rendered for one recipient.
#[derive(Debug, Clone)]
pub struct RenderedEmail {
    pub subject: String,
    /// The complete HTML part (a document with inline styles).
    pub html: String,
    /// `html` as the MIME part's body: quoted-printable, CRLF line ends.
    pub html_encoded: Vec<u8>,
    pub text: String,
}

/// Renders comms templates; compiled once per build.
pub struct Mailer<'a> {
    project: &'a Project,
    tera: Tera,
    layout: Layout,
    /// The layout rendered for every locale, wave and audience a message can have.
    skeletons: Vec<(SkeletonKey, Skeleton)>,
    /// The `hypercare` variable by instant (judged once per instant).
    hypercare: ValueCache,
    /// The `live` variable by instant (the night's state computed once per instant).
    live: ValueCache,
    /// The plan, for the `live` variable (made when a template first needs it).
    schedule: std::sync::OnceLock<crate::plan::cutover::Schedule>,
    /// The instant the night-tied variables are rendered as of: `comms send`'s now (a
    /// template is rendered when it is sent); `None`: each message's send time (previews).
    as_of: Option<chrono::DateTime<Utc>>,
}

type ValueCache =
    std::sync::Mutex<std::collections::HashMap<chrono::DateTime<Utc>, serde_json::Value>>;

/// What the layout is rendered for: locale, wave (per-wave messages), audience.
type SkeletonKey = (String, Option<String>, String);

fn subject_name(i: usize) -> String {
    format!("message-{i}/subject.txt")
}

fn body_name(i: usize) -> String {
    format!("message-{i}/body.html")
}

impl<'a> Mailer<'a> {
    /// Compiles the subject and body of every comms template and renders the email layout
    /// for each of their locales, waves and audiences; errors point into the files.
    pub fn new(project: &'a Project) -> Result<Self, Diagnostics> {
        let mut tera = Tera::default();
        crate::templates::limit(&mut tera);
        tera.set_escape_fn(crate::util::escape_html);
        tera.register_function("page_url", PageUrl(site_root(project)));
        let mut diags = Diagnostics::new();
        for (i, m) in project.messages.iter().enumerate() {
            let subject_line = m.subject_at.map_or(1, |p| p.line);
            if let Err(e) = tera
                .add_raw_template(&subject_name(i), &m.subject)
                .and_then(|()| {
                    crate::templates::check_recursion(&tera, &subject_name(i), &m.subject)
                })
            {
                diags.push(template_error(
                    m,
                    &e,
                    subject_line.saturating_sub(1),
                    m.subject_at,
                    "subject",
                ));
            }
            let offset = m.body.first_line.saturating_sub(1);
            if let Err(e) = tera
                .add_raw_template(&body_name(i), &m.body.markdown)
                .and_then(|()| {
                    crate::templates::check_recursion(&tera, &body_name(i), &m.body.markdown)
                })
            {
                diags.push(template_error(m, &e, offset, None, "body"));
            }
        }
        let layout = match Layout::load(project.theme_dir.as_deref()) {
            Ok(layout) => layout,
            Err(d) => {
                diags.push(d);
                return Err(diags);
            }
        };
        let mut skeletons: Vec<(SkeletonKey, Skeleton)> = Vec::new();
        for key in skeleton_keys(project) {
            let ctx = Layout::context(project, &key.0, key.1.as_deref(), &key.2);
            match layout.skeleton(&ctx) {
                Ok(s) => skeletons.push((key, s)),
                Err(d) => {
                    // The same mistake for every key: report it once.
                    diags.push(d);
                    break;
                }
            }
        }
        diags.finish(Mailer {
            project,
            tera,
            layout,
            skeletons,
            hypercare: Default::default(),
            live: Default::default(),
            schedule: Default::default(),
            as_of: None,
        })
    }

    /// The template variables for `msg` sent to `recipient`.
    pub fn context(&self, msg: &ScheduledMessage, recipient: &Recipient) -> tera::Context {
        let p = self.project;
        let zone: Tz = msg.send_at.timezone();
        let wave = msg.wave.as_deref().and_then(|w| p.wave(w));
        let (t0, _) = p.t0(msg.wave.as_deref());
        let roster = p.roster_variables();
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
        if let Some(v) = self.hypercare_at(msg) {
            ctx.insert("hypercare", &v);
        }
        if let Some(v) = self.live_at(msg) {
            ctx.insert("live", &v);
        }
        if let Some((i, n)) = msg.occurrence {
            ctx.insert("occurrence", &json!({"index": i, "of": n}));
        }
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
        let subject = crate::templates::render(&self.tera, &subject_name(msg.template), ctx)
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
        let markdown = crate::templates::render(&self.tera, &body_name(msg.template), &ctx)
            .map_err(|e| render_error(template, &e, "body"))?;
        let markdown = match site_root(self.project) {
            Some(root) => absolute_site_links(&markdown, &root),
            None => markdown,
        };
        let text = markdown::to_plain_text(&markdown);
        let fill = Fill {
            body_html: &body::body_html(&markdown),
            subject: &subject,
            preheader: &skeleton::preheader(&text),
            recipient_email: &recipient.email,
        };
        let found = self.skeletons.iter().find(|((locale, wave, audience), _)| {
            *locale == msg.locale && *wave == msg.wave && *audience == msg.audience
        });
        let made;
        let skeleton = match found {
            Some((_, skeleton)) => skeleton,
            // Not a message `expand` makes; render the layout for it now.
            None => {
                let ctx = Layout::context(
                    self.project,
                    &msg.locale,
                    msg.wave.as_deref(),
                    &msg.audience,
                );
                made = self.layout.skeleton(&ctx)?;
                &made
            }
        };
        let filled = skeleton.fill(&fill);
        Ok(RenderedEmail {
            subject,
            html: filled.html,
            html_encoded: filled.encoded,
            text: skeleton.text(&text, &recipient.email),
        })
    }
}

/// Every (locale, wave, audience) that [`crate::plan::comms::expand`] can give a message:
/// base templates in the project's locale, variants in theirs, per-wave templates once per
/// wave with an audience.
fn skeleton_keys(p: &Project) -> Vec<SkeletonKey> {
    let mut keys: Vec<SkeletonKey> = Vec::new();
    for m in &p.messages {
        let locale = m.locale.clone().unwrap_or_else(|| p.locale.clone());
        for (wave, audience) in crate::plan::comms::targets(p, m) {
            let key = (locale.clone(), wave.map(|w| w.id.clone()), audience);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
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
    let mut detail = message
        .split(" --> ")
        .next()
        .unwrap_or(&message)
        .trim()
        .to_string();
    // A Tera parse error says what it expected after its position.
    if let (true, Some(expected)) = (detail.ends_with("':"), message.rsplit_once("= ")) {
        detail = format!("{detail} {}", expected.1.trim());
    }
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

/// Where emails link to the site: `site.base_url` and `latest/` (the address that stays
/// right as versions come), or `None` without a base_url — a reader's mail client has no
/// page to resolve a relative link against.
pub fn site_root(p: &Project) -> Option<String> {
    let base = p.site.base_url.trim().trim_end_matches('/');
    (!base.is_empty()).then(|| format!("{base}/latest/"))
}

/// `markdown` with every `@/path` link destination made absolute under `root`.
pub fn absolute_site_links(markdown: &str, root: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (event, range) in Parser::new_ext(markdown, markdown::options()).into_offset_iter() {
        if let Event::Start(Tag::Link { dest_url, .. })
        | Event::Start(Tag::Image { dest_url, .. }) = event
        {
            if let Some(path) = dest_url.strip_prefix("@/") {
                // The destination as written inside this link's source (`[t](@/x)`); a
                // reference definition is found where it is defined.
                let written = &markdown[range.clone()];
                let at = written
                    .rfind(dest_url.as_ref())
                    .map(|i| range.start + i)
                    .or_else(|| markdown.find(&format!("]: {dest_url}")).map(|i| i + 3));
                if let Some(at) = at {
                    edits.push((at..at + dest_url.len(), markdown::internal_link(path, root)));
                }
            }
        }
    }
    edits.sort_by_key(|(r, _)| r.start);
    edits.dedup_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(markdown.len() + edits.len() * root.len());
    let mut at = 0;
    for (range, url) in edits {
        out.push_str(&markdown[at..range.start]);
        out.push_str(&url);
        at = range.end;
    }
    out.push_str(&markdown[at..]);
    out
}

/// `page_url(path="training/faq")` in a comms template: the page's absolute address.
struct PageUrl(Option<String>);

impl tera::Function for PageUrl {
    fn call(
        &self,
        args: &std::collections::HashMap<String, tera::Value>,
    ) -> tera::Result<tera::Value> {
        let path = args.get("path").and_then(|v| v.as_str()).ok_or_else(|| {
            tera::Error::msg("page_url needs `path`, e.g. page_url(path=\"training/faq\")")
        })?;
        let root = self.0.as_deref().ok_or_else(|| {
            tera::Error::msg("page_url needs `site.base_url` in project.yaml: an email has no page to be relative to")
        })?;
        Ok(tera::Value::String(markdown::internal_link(
            path.trim_start_matches("@/"),
            root,
        )))
    }

    fn is_safe(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_links_become_absolute_under_latest() {
        let md = "See [FAQ](@/training/faq#vpn), ![map](@/assets/map.png), [ext](https://x.example) and [ref][r].\n\n`[no](@/code)`\n\n[r]: @/runbooks/deploy\n";
        assert_eq!(
            absolute_site_links(md, "https://h.example/latest/"),
            "See [FAQ](https://h.example/latest/training/faq/index.html#vpn), ![map](https://h.example/latest/assets/map.png), [ext](https://x.example) and [ref][r].\n\n`[no](@/code)`\n\n[r]: https://h.example/latest/runbooks/deploy/index.html\n"
        );
    }

    pub(super) fn minimal() -> Project {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minimal");
        crate::load::load(&root).expect("the fixture loads")
    }

    fn person(email: &str, name: &str) -> Recipient {
        Recipient {
            email: email.into(),
            name: Some(name.into()),
            locale: None,
            zone: None,
        }
    }

    #[test]
    fn the_layout_is_rendered_once_per_locale_wave_and_audience_never_per_recipient() {
        let p = minimal();
        let mailer = Mailer::new(&p).unwrap();
        // get-ready (en, fr) × pilot, main.
        assert_eq!(mailer.skeletons.len(), 4);
        assert_eq!(mailer.layout.renders(), 4);
        for msg in crate::plan::comms::expand(&p) {
            for i in 0..50 {
                let r = person(&format!("p{i}@example.com"), &format!("Person {i}"));
                let email = mailer.render(&msg, &r).unwrap();
                assert!(
                    email.html.contains(&format!("Person {i},</p>")),
                    "{}",
                    email.html
                );
            }
        }
        assert_eq!(mailer.layout.renders(), 4, "mrml ran for no recipient");
    }

    #[test]
    fn recipient_data_stays_escaped_in_every_part() {
        let p = minimal();
        let mailer = Mailer::new(&p).unwrap();
        let msg = crate::plan::comms::expand(&p)
            .into_iter()
            .find(|m| m.locale == "en")
            .unwrap();
        let r = person("x@example.com", "<script>alert(1)</script>");
        let email = mailer.render(&msg, &r).unwrap();
        assert!(!email.html.contains("<script>"), "{}", email.html);
        assert!(email.html.contains(
            "<p style=\"margin:0 0 16px 0;\">Dear &lt;script&gt;alert(1)&lt;/script&gt;,"
        ));
        assert!(
            email.text.contains("Dear <script>alert(1)</script>,"),
            "text is text"
        );
        // The subject is the document's title; the preheader starts like the text.
        assert!(email
            .html
            .contains(&format!("<title>{}</title>", email.subject)));
        assert!(email
            .html
            .contains(">Dear &lt;script&gt;alert(1)&lt;/script&gt;, Ledger Online goes live"));
        assert!(email.html.contains("sent to x@example.com because"));
        // The text part ends with the same footer, after a signature separator.
        let (_, footer) = email
            .text
            .split_once("\n\n-- \n")
            .expect("a signature separator");
        assert!(
            footer.contains("This message was sent to x@example.com because"),
            "{footer}"
        );
    }

    #[test]
    fn the_text_part_ends_with_the_themes_footer() {
        let theme = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(theme.path().join("email")).unwrap();
        std::fs::write(
            theme.path().join("email/footer.txt"),
            "Questions? Ask {{ support.email | default(value=\"your manager\") }}. To: {{ slot.recipient_email }}",
        )
        .unwrap();
        let mut p = minimal();
        p.theme_dir = Some(theme.path().to_path_buf());
        let mailer = Mailer::new(&p).unwrap();
        let msg = crate::plan::comms::expand(&p).remove(0);
        let r = person("a&b@example.com", "A");
        let email = mailer.render(&msg, &r).unwrap();
        let support = p.support.email.clone().unwrap_or("your manager".into());
        assert!(
            email.text.ends_with(&format!(
                "\n\n-- \nQuestions? Ask {support}. To: a&b@example.com\n"
            )),
            "{}",
            email.text
        );
        // A broken footer stops the build, naming the file.
        std::fs::write(theme.path().join("email/footer.txt"), "{% if %}").unwrap();
        let err = Mailer::new(&p).err().expect("broken footer").to_string();
        assert!(err.contains("footer.txt"), "{err}");
    }

    #[test]
    fn a_themes_email_layout_replaces_the_built_in_one() {
        let theme = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(theme.path().join("email")).unwrap();
        std::fs::write(
            theme.path().join("email/layout.mjml"),
            "<mjml lang=\"{{ locale }}\"><mj-body><mj-section><mj-column>\
             <mj-text>CORPORATE {{ system }}</mj-text><mj-text>{{ slot.body }}</mj-text>\
             </mj-column></mj-section></mj-body></mjml>",
        )
        .unwrap();
        let mut p = minimal();
        p.theme_dir = Some(theme.path().to_path_buf());
        let mailer = Mailer::new(&p).unwrap();
        let msg = crate::plan::comms::expand(&p).remove(0);
        let email = mailer.render(&msg, &msg.recipients[0]).unwrap();
        assert!(
            email.html.contains(">CORPORATE Ledger Online</div>"),
            "{}",
            email.html
        );
        assert!(email.html.contains("Dear colleague,</p>"));
        assert!(
            !email.html.contains("Need help?"),
            "the built-in footer is gone"
        );
        // A broken override stops the build, naming the file.
        std::fs::write(theme.path().join("email/layout.mjml"), "<mjml></mjml>").unwrap();
        let err = Mailer::new(&p).err().expect("no body slot").to_string();
        assert!(
            err.contains("layout.mjml") && err.contains("slot.body"),
            "{err}"
        );
    }
}
