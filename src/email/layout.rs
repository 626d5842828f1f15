//! The HTML part's layout: the theme's `email/layout.mjml` — Tera first, for what is the
//! same for every recipient of a message (system, support, wave, audience, locale), then
//! MJML rendered by mrml — made into a [`Skeleton`] once per locale, wave and audience.
//! mrml never runs per recipient: what differs per recipient is left in the HTML as
//! placeholder tokens ([`Slot`]), filled in by [`Skeleton::fill`].

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tera::Tera;

use crate::diagnostics::Diagnostic;
use crate::project::Project;
use crate::templates::{error_chain, tera_position, theme_file};

use super::skeleton::{Skeleton, Slot};

/// The layout's path in a theme.
pub const LAYOUT_PATH: &str = "email/layout.mjml";
/// The plain-text part's footer (help, why you got this) in a theme.
pub const TEXT_FOOTER_PATH: &str = "email/footer.txt";

/// The compiled layout template (Tera), loaded once per mailer.
pub struct Layout {
    tera: Tera,
    origin: String,
    /// How many skeletons were rendered (mrml runs), for tests and the curious.
    renders: AtomicUsize,
}

impl Layout {
    /// The project's `email/layout.mjml` and `email/footer.txt` when its theme has them,
    /// else the built-in ones.
    pub fn load(theme_dir: Option<&Path>) -> Result<Layout, Diagnostic> {
        let (text, origin) = theme_file(theme_dir, LAYOUT_PATH)?;
        let footer = theme_file(theme_dir, TEXT_FOOTER_PATH)?;
        Layout::compile_with_footer(&text, origin, footer)
    }

    /// `text` as the layout, with the built-in text footer.
    pub fn compile(text: &str, origin: String) -> Result<Layout, Diagnostic> {
        Layout::compile_with_footer(text, origin, theme_file(None, TEXT_FOOTER_PATH)?)
    }

    fn compile_with_footer(
        text: &str,
        origin: String,
        (footer, footer_origin): (String, String),
    ) -> Result<Layout, Diagnostic> {
        let mut tera = Tera::default();
        crate::templates::limit(&mut tera);
        tera.autoescape_on(vec![".mjml"]);
        tera.set_escape_fn(crate::util::escape_html);
        if let Err(e) = tera
            .add_raw_template(TEXT_FOOTER_PATH, &footer)
            .and_then(|()| crate::templates::check_recursion(&tera, TEXT_FOOTER_PATH, &footer))
        {
            let message = error_chain(&e);
            let detail = message.rsplit("= ").next().unwrap_or(&message).trim();
            return Err(
                Diagnostic::new(format!("email text footer error: {detail}"))
                    .in_file(&footer_origin)
                    .at(tera_position(&message, 0))
                    .with_hint("the footer is a Tera template (Jinja2-like) producing plain text"),
            );
        }
        if let Err(e) = tera
            .add_raw_template(LAYOUT_PATH, text)
            .and_then(|()| crate::templates::check_recursion(&tera, LAYOUT_PATH, text))
        {
            let message = error_chain(&e);
            // `Failed to parse '…': --> 3:7 | … | = expected …`: keep what is expected.
            let detail = message.rsplit("= ").next().unwrap_or(&message).trim();
            return Err(Diagnostic::new(format!("email layout error: {detail}"))
                .in_file(&origin)
                .at(tera_position(&message, 0))
                .with_hint("the layout is a Tera template (Jinja2-like) producing MJML"));
        }
        Ok(Layout {
            tera,
            origin,
            renders: AtomicUsize::new(0),
        })
    }

    /// The layout's variables for a message in `locale` to `audience` (of `wave`, if the
    /// message is per wave). `themes/default/README.md` documents them.
    pub fn context(p: &Project, locale: &str, wave: Option<&str>, audience: &str) -> tera::Context {
        let mut ctx = tera::Context::new();
        ctx.insert("project", &p.name);
        ctx.insert("system", &p.system);
        ctx.insert("version", &p.version);
        ctx.insert("site_title", p.site_title());
        ctx.insert("locale", locale);
        ctx.insert("support", &p.support);
        let wave = wave.and_then(|w| p.wave(w));
        ctx.insert(
            "wave",
            &wave.map(|w| json!({"id": w.id, "name": w.name, "description": w.description})),
        );
        let description = p
            .audiences
            .get(audience)
            .and_then(|a| a.description.clone());
        ctx.insert(
            "audience",
            &json!({"id": audience, "description": description}),
        );
        ctx
    }

    /// How many times [`Layout::skeleton`] ran.
    pub fn renders(&self) -> usize {
        self.renders.load(Ordering::Relaxed)
    }

    /// Renders the layout for `ctx` (Tera, then mrml) and splits it at the slots.
    pub fn skeleton(&self, ctx: &tera::Context) -> Result<Skeleton, Diagnostic> {
        self.renders.fetch_add(1, Ordering::Relaxed);
        let mut ctx = ctx.clone();
        let slots: serde_json::Map<String, serde_json::Value> = Slot::ALL
            .iter()
            .map(|s| (s.name().to_string(), json!(s.token())))
            .collect();
        ctx.insert("slot", &slots);
        let mjml = crate::templates::render(&self.tera, LAYOUT_PATH, &ctx).map_err(|e| {
            let message = error_chain(&e);
            let message = message.replace(&format!("Failed to render '{LAYOUT_PATH}': "), "");
            Diagnostic::new(format!("cannot render the email layout: {message}"))
                .in_file(&self.origin)
                .with_hint("variables: project, system, version, site_title, locale, support, wave (or null), audience, slot")
        })?;
        let html = to_html(&mjml).map_err(|message| {
            Diagnostic::new(format!("the email layout is not valid MJML: {message}"))
                .in_file(&self.origin)
                .with_hint(
                    "the layout is MJML (mjml.io) once Tera has run; mj-include is not supported",
                )
        })?;
        let footer = self.tera.render(TEXT_FOOTER_PATH, &ctx).map_err(|e| {
            let message = error_chain(&e);
            let message = message.replace(&format!("Failed to render '{TEXT_FOOTER_PATH}': "), "");
            Diagnostic::new(format!("cannot render the email text footer: {message}"))
                .in_file(TEXT_FOOTER_PATH)
                .with_hint("variables: project, system, version, site_title, locale, support, wave (or null), audience, slot")
        })?;
        Skeleton::split(&html)
            .map(|s| s.with_text_footer(footer.trim().to_string()))
            .map_err(|m| Diagnostic::new(m).in_file(&self.origin))
    }
}

/// MJML → HTML with mrml: no include loader (nothing is read or fetched), no web fonts, the
/// layout's own comments left out. mrml's warnings (an unknown attribute, an `mj-style
/// inline` it cannot inline) are errors: each would silently change the email.
fn to_html(mjml: &str) -> Result<String, String> {
    let near = |at: usize| {
        let line = mjml[..at.min(mjml.len())].matches('\n').count() + 1;
        let text = mjml.lines().nth(line - 1).unwrap_or("").trim();
        format!(" (line {line} of the rendered MJML: `{text}`)")
    };
    let parsed = mrml::parse_with_options(mjml, &mrml::prelude::parser::ParserOptions::default())
        .map_err(|e| {
        let at = parse_error_span(&e).map(near).unwrap_or_default();
        format!("{}{at}", error_chain(&e))
    })?;
    if let Some(w) = parsed.warnings.first() {
        use mrml::prelude::parser::WarningKind;
        let what = match w.kind {
            WarningKind::InlineStyleUnsupported => {
                "`mj-style inline=\"inline\"` is not supported (tminus inlines no CSS: use mj-attributes, or style attributes in the HTML)".to_string()
            }
            other => other.to_string(),
        };
        return Err(format!("{what}{}", near(w.span.start)));
    }
    let options = mrml::prelude::render::RenderOptions {
        disable_comments: true,
        social_icon_origin: None,
        fonts: Default::default(),
    };
    parsed.element.render(&options).map_err(|e| error_chain(&e))
}

fn parse_error_span(e: &mrml::prelude::parser::Error) -> Option<usize> {
    use mrml::prelude::parser::Error as E;
    match e {
        E::UnexpectedElement { position, .. }
        | E::UnexpectedToken { position, .. }
        | E::MissingAttribute { position, .. }
        | E::InvalidAttribute { position, .. }
        | E::InvalidFormat { position, .. }
        | E::IncludeLoaderError { position, .. } => Some(position.start),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Project {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minimal");
        crate::load::load(&root).expect("the fixture loads")
    }

    fn skeleton(p: &Project, locale: &str, wave: Option<&str>) -> Skeleton {
        let layout = Layout::load(None).expect("the built-in layout compiles");
        let audience = if wave == Some("pilot") {
            "pilot"
        } else {
            "everyone"
        };
        layout
            .skeleton(&Layout::context(p, locale, wave, audience))
            .expect("the built-in layout renders")
    }

    use crate::email::skeleton::Fill;

    fn fill(s: &Skeleton, subject: &str, email: &str) -> String {
        s.fill(&Fill {
            body_html: "<p>BODY</p>",
            subject,
            preheader: "Dear Ana, the system goes live…",
            recipient_email: email,
        })
        .html
    }

    #[test]
    fn the_skeleton_has_the_body_once_and_every_slot() {
        let s = skeleton(&minimal(), "en", Some("main"));
        assert_eq!(s.count(Slot::Body), 1);
        assert!(s.count(Slot::Subject) >= 1, "<title>");
        assert_eq!(s.count(Slot::Preheader), 1);
        assert_eq!(s.count(Slot::RecipientEmail), 1);
        let html = fill(&s, "Ledger Online goes live", "ana@example.com");
        assert_eq!(html.matches("<p>BODY</p>").count(), 1);
        assert!(!html.contains("TMINUSSLOT"), "every token is replaced");
        assert!(html.contains("<title>Ledger Online goes live</title>"));
    }

    #[test]
    fn the_html_is_mjml_table_layout_for_outlook_gmail_and_apple_mail() {
        let html = fill(
            &skeleton(&minimal(), "en", Some("main")),
            "S",
            "a@b.example",
        );
        assert!(
            html.starts_with("<!doctype html><html lang=\"en\""),
            "{html}"
        );
        assert!(html.contains("<!--[if mso | IE]><table"), "Outlook tables");
        assert!(html.contains("role=\"presentation\""));
        assert!(html.contains("width=\"600\""), "600px for Outlook");
        assert!(html.contains("max-width:600px"), "fluid elsewhere");
        assert!(html.contains("display:none;"), "the hidden preheader");
        // Header, footer: system, wave, support, why the reader gets it.
        for s in [
            ">Ledger Online<",
            ">Main rollout<",
            "Need help?",
            "href=\"mailto:help@example.com\"",
            "+44 20 7946 0999",
            "href=\"https://help.example.com\"",
            "sent to a@b.example because you are in the “everyone” audience of Minimal Go-Live, Main rollout.",
        ] {
            assert!(html.contains(s), "{s}");
        }
        // No external assets: no web fonts, stylesheets or images.
        assert!(!html.contains("<link") && !html.contains("src="), "{html}");
        assert!(!html.contains("@import"));
    }

    #[test]
    fn the_layout_is_localised_and_project_wide_messages_name_no_wave() {
        let p = minimal();
        let html = fill(&skeleton(&p, "fr", Some("main")), "S", "a@b.example");
        assert!(html.contains("<html lang=\"fr\""));
        assert!(html.contains("Besoin d’aide\u{a0}?") && html.contains("«\u{a0}everyone\u{a0}»"));
        let html = fill(&skeleton(&p, "en", None), "S", "a@b.example");
        assert!(
            html.contains("“everyone” audience of Minimal Go-Live.</p>"),
            "{html}"
        );
        assert!(!html.contains("Main rollout"));
    }

    #[test]
    fn per_recipient_values_and_project_data_are_escaped() {
        let mut p = minimal();
        p.system = "Ledger & <i>Co</i>".into();
        let html = fill(
            &skeleton(&p, "en", Some("main")),
            "<script>alert(1)</script> & \"x\"",
            "<script>@x.example",
        );
        assert!(
            !html.contains("<script>") && !html.contains("<i>"),
            "{html}"
        );
        assert!(html
            .contains("<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</title>"));
        assert!(html.contains("sent to &lt;script&gt;@x.example because"));
        assert!(
            html.contains(">Ledger &amp; &lt;i&gt;Co&lt;/i&gt;<"),
            "escaped once"
        );
    }

    #[test]
    fn a_layout_must_place_the_body_exactly_once() {
        let ctx = Layout::context(&minimal(), "en", None, "everyone");
        for (text, found) in [
            ("<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section></mj-body></mjml>", 0),
            ("<mjml><mj-body><mj-raw>{{ slot.body }}{{ slot.body }}</mj-raw></mj-body></mjml>", 2),
        ] {
            let layout = Layout::compile(text, "themes/x/email/layout.mjml".into()).unwrap();
            let e = layout.skeleton(&ctx).unwrap_err().to_string();
            assert!(e.contains("exactly once") && e.contains(&format!("(found {found})")), "{e}");
            assert!(e.contains("themes/x/email/layout.mjml"), "{e}");
        }
        let layout = Layout::compile(
            "<mjml><mj-body><mj-raw>{{ slot.body }}</mj-raw></mj-body></mjml>",
            "x".into(),
        )
        .unwrap();
        let s = layout.skeleton(&ctx).unwrap();
        assert!(fill(&s, "S", "e").contains("<p>BODY</p>"));
    }

    #[test]
    fn layout_errors_name_the_file_and_what_is_wrong() {
        let e = Layout::compile(
            "<mjml>\n{% if %}\n</mjml>",
            "themes/x/email/layout.mjml".into(),
        )
        .err()
        .unwrap();
        assert_eq!(e.position.map(|p| p.line), Some(2), "{e}");
        assert!(e.to_string().contains("themes/x/email/layout.mjml"), "{e}");
        let ctx = Layout::context(&minimal(), "en", None, "everyone");
        let layout = Layout::compile(
            "<mjml>\n<mj-body>\n<mj-text>{{ slot.body }}",
            "l.mjml".into(),
        )
        .unwrap();
        let e = layout.skeleton(&ctx).unwrap_err().to_string();
        assert!(e.contains("not valid MJML"), "{e}");
        let layout = Layout::compile(
            "<mjml colour=\"red\">\n<mj-head><mj-style inline=\"inline\">p {}</mj-style></mj-head>\n\
             <mj-body><mj-raw>{{ slot.body }}</mj-raw></mj-body></mjml>",
            "l.mjml".into(),
        )
        .unwrap();
        let e = layout.skeleton(&ctx).unwrap_err().to_string();
        assert!(
            e.contains("unexpected attribute") && e.contains("line 1"),
            "{e}"
        );
        let layout = Layout::compile(
            "<mjml>\n<mj-head><mj-style inline=\"inline\">p {}</mj-style></mj-head>\n\
             <mj-body><mj-raw>{{ slot.body }}</mj-raw></mj-body></mjml>",
            "l.mjml".into(),
        )
        .unwrap();
        let e = layout.skeleton(&ctx).unwrap_err().to_string();
        assert!(e.contains("mj-style inline") && e.contains("line 2"), "{e}");
        let layout = Layout::compile("<mjml>{{ nope.x }}</mjml>", "l.mjml".into()).unwrap();
        let e = layout.skeleton(&ctx).unwrap_err().to_string();
        assert!(
            e.contains("cannot render the email layout") && e.contains("nope"),
            "{e}"
        );
    }
}
