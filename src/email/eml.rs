//! The message as a standard `.eml` (RFC 5322, multipart/alternative: text, then HTML):
//! the `From:` of every message, a deterministic `Message-ID` and `Auto-Submitted`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use super::{Mailer, RenderedEmail};
use crate::diagnostics::Diagnostic;
use crate::plan::comms::ScheduledMessage;
use crate::project::{Project, Recipient};

impl Mailer<'_> {
    /// The message as an RFC 5322 `.eml` file (multipart/alternative: text, then HTML),
    /// dated `date`: when it is sent (a message sent late must not say it was written on
    /// the day it was due), or its send time for a preview.
    pub fn eml(
        &self,
        msg: &ScheduledMessage,
        recipient: &Recipient,
        email: &RenderedEmail,
        date: DateTime<Utc>,
    ) -> Result<Vec<u8>, Diagnostic> {
        let p = self.project;
        let smtp = p.smtp.as_ref();
        let from = sender(p);
        let to: Mailbox = recipient
            .email
            .parse()
            .map_err(|e| Diagnostic::new(format!("cannot address `{}`: {e}", recipient.email)))?;
        let to = Mailbox::new(recipient.name.clone(), to.email);
        // lettre panics on a mailbox it cannot write into a header (a control character in
        // the name): try it first.
        if write!(String::new(), "{to}").is_err() {
            return Err(Diagnostic::new(format!(
                "cannot address `{}`: the name {:?} cannot go into a `To:` header",
                recipient.email,
                recipient.name.as_deref().unwrap_or("")
            )));
        }
        let mut builder = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(email.subject.clone())
            .date(date.into())
            .message_id(Some(message_id(p, msg, recipient, from.email.domain())))
            .header(AutoSubmitted);
        if let Some(reply_to) = smtp
            .and_then(|s| s.reply_to.as_deref())
            .and_then(|r| r.parse::<Mailbox>().ok())
        {
            builder = builder.reply_to(reply_to);
        }
        let message = builder
            .multipart(
                MultiPart::alternative()
                    .boundary(boundary(email, &recipient.email))
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(email.text.clone()),
                    )
                    .singlepart(
                        // Encoded while rendering, mostly once per build (see `qp`).
                        SinglePart::builder().header(ContentType::TEXT_HTML).body(
                            Body::dangerous_pre_encoded(
                                email.html_encoded.clone(),
                                ContentTransferEncoding::QuotedPrintable,
                            ),
                        ),
                    ),
            )
            .map_err(|e| Diagnostic::new(format!("cannot build the email `{}`: {e}", msg.id)))?;
        Ok(message.formatted())
    }
}

/// The `From:` of every message: `smtp.from`, else the site title at `golive@localhost`.
pub fn sender(p: &Project) -> Mailbox {
    p.smtp
        .as_ref()
        .and_then(|s| s.from.as_deref())
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| {
            Mailbox::new(
                Some(p.site_title().to_string()),
                "golive@localhost".parse().expect("valid address"),
            )
        })
}

/// The MIME boundary, made from the message itself instead of lettre's random one: the same
/// message is always the same bytes (a rebuild leaves its `.eml` as it was, see
/// `site::recycle`). A boundary must not occur in the parts; a hash of the parts could only
/// if they contained their own hash, and that is checked anyway.
fn boundary(email: &RenderedEmail, to: &str) -> String {
    let html = String::from_utf8_lossy(&email.html_encoded);
    let parts: [&[u8]; 4] = [
        email.subject.as_bytes(),
        to.as_bytes(),
        email.text.as_bytes(),
        &email.html_encoded,
    ];
    let a = crate::hash::fnv1a_parts(&parts);
    let b = crate::hash::fnv1a_parts(&[parts[3], parts[2], parts[1], parts[0]]);
    let mut boundary = format!("tminus-{a:016x}{b:016x}");
    while email.text.contains(&boundary) || html.contains(&boundary) {
        boundary.push('x');
    }
    boundary
}

/// Deterministic, so a resend of the same message to the same person is recognisable:
/// made of the delivery's identity (project, message, wave and address as
/// `load::address_key` compares it — not the locale, which only changes the rendering).
pub fn message_id(
    p: &Project,
    msg: &ScheduledMessage,
    recipient: &Recipient,
    domain: &str,
) -> String {
    let occurrence = msg
        .occurrence_at()
        .map(|t| crate::time::stamp::utc(&t))
        .unwrap_or_default();
    let address = crate::load::address_key(&recipient.email);
    let mut parts: Vec<&[u8]> = vec![
        p.name.as_bytes(),
        msg.id.as_bytes(),
        msg.wave.as_deref().unwrap_or("").as_bytes(),
        address.as_bytes(),
    ];
    // Each occurrence of a repeating message is a message of its own: mail systems drop a
    // second message with a Message-ID they have seen. Others keep the Message-ID they had.
    if !occurrence.is_empty() {
        parts.push(occurrence.as_bytes());
    }
    let hash = crate::hash::fnv1a_parts(&parts);
    format!("<{hash:016x}.{}@{domain}>", msg.id)
}

/// `Auto-Submitted: auto-generated` (RFC 3834), so auto-responders stay quiet.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::minimal;
    use super::*;

    #[test]
    fn the_eml_carries_the_mjml_html_part_quoted_printable() {
        let p = minimal();
        let mailer = Mailer::new(&p).unwrap();
        let messages = crate::plan::comms::expand(&p);
        assert!(messages.iter().any(|m| m.locale == "fr"), "accents too");
        for msg in messages {
            let r = msg.recipients[0].clone();
            let email = mailer.render(&msg, &r).unwrap();
            let eml = mailer.eml(&msg, &r, &email, msg.send_at.to_utc()).unwrap();
            let raw = String::from_utf8(eml.clone()).expect("7-bit");
            assert!(raw.contains("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
            assert!(raw.split("\r\n").all(|l| l.len() <= 998), "SMTP line limit");
            let parsed = mail_parser::MessageParser::default().parse(&eml).unwrap();
            // Decoded by an independent parser: exactly the HTML that was rendered.
            let html = parsed.body_html(0).unwrap().replace("\r\n", "\n");
            assert_eq!(html, email.html);
            assert!(html.contains("<!--[if mso | IE]>") && html.contains("role=\"presentation\""));
            let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
            assert_eq!(text.trim_end(), email.text.trim_end());
        }
    }

    #[test]
    fn the_same_message_is_the_same_bytes() {
        let p = minimal();
        let mailer = Mailer::new(&p).unwrap();
        let messages = crate::plan::comms::expand(&p);
        let msg = &messages[0];
        let r = msg.recipients[0].clone();
        let eml = |m: &ScheduledMessage| {
            let email = mailer.render(m, &r).unwrap();
            String::from_utf8(mailer.eml(m, &r, &email, m.send_at.to_utc()).unwrap()).unwrap()
        };
        let first = eml(msg);
        assert_eq!(first, eml(msg), "no random MIME boundary");
        let boundary = first
            .split("boundary=\"")
            .nth(1)
            .and_then(|b| b.split('"').next())
            .unwrap();
        assert!(boundary.starts_with("tminus-"), "{boundary}");
        // Each other message has its own.
        assert!(!eml(&messages[1]).contains(boundary));
    }
}
