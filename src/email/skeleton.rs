//! The rendered email layout cut at its placeholders ([`Slot`]), and filled in per
//! recipient by concatenation: the body's HTML as is, the subject, the preheader and the
//! recipient's address escaped — as HTML, and quoted-printable encoded for the MIME part
//! with the layout's pieces encoded once. Also the preheader itself, made from the text.

use super::qp;
use crate::util::push_escaped;

/// A per-recipient value in the layout, written `{{ slot.<name> }}` there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The body's Markdown as HTML (inserted as is; must appear exactly once).
    Body,
    Subject,
    /// A line of the body's text that inbox lists show after the subject.
    Preheader,
    RecipientEmail,
}

impl Slot {
    pub const ALL: [Slot; 4] = [
        Slot::Body,
        Slot::Subject,
        Slot::Preheader,
        Slot::RecipientEmail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Body => "body",
            Slot::Subject => "subject",
            Slot::Preheader => "preheader",
            Slot::RecipientEmail => "recipient_email",
        }
    }

    /// What stands for the slot in the rendered skeleton: plain ASCII, so neither Tera's
    /// escaping nor mrml changes it, and unlike anything a layout would contain.
    pub fn token(self) -> &'static str {
        match self {
            Slot::Body => "TMINUSSLOT0BODY0X7Q",
            Slot::Subject => "TMINUSSLOT0SUBJECT0X7Q",
            Slot::Preheader => "TMINUSSLOT0PREHEADER0X7Q",
            Slot::RecipientEmail => "TMINUSSLOT0RECIPIENTEMAIL0X7Q",
        }
    }
}

/// The per-recipient values of one email.
pub struct Fill<'a> {
    pub body_html: &'a str,
    pub subject: &'a str,
    pub preheader: &'a str,
    pub recipient_email: &'a str,
}

/// The rendered layout, cut at its slots.
#[derive(Debug, Clone)]
pub struct Skeleton {
    /// Literal HTML, each followed by a slot (the last by none).
    parts: Vec<(String, Option<Slot>)>,
    /// The same literals, quoted-printable encoded once ([`super::qp`]).
    encoded: Vec<Vec<u8>>,
    literal_len: usize,
    /// The plain-text part's footer, with the recipient's address as its slot token.
    text_footer: String,
}

/// One email's HTML part, as text and as sent.
pub struct Filled {
    pub html: String,
    /// `html` quoted-printable encoded, CRLF line ends: the MIME part's body.
    pub encoded: Vec<u8>,
}

impl Skeleton {
    /// Cuts `html` at every slot token; the body's must appear exactly once.
    pub fn split(html: &str) -> Result<Skeleton, String> {
        let mut found: Vec<(usize, Slot)> = Slot::ALL
            .iter()
            .flat_map(|&s| html.match_indices(s.token()).map(move |(i, _)| (i, s)))
            .collect();
        found.sort_by_key(|&(i, _)| i);
        let bodies = found.iter().filter(|(_, s)| *s == Slot::Body).count();
        if bodies != 1 {
            return Err(format!(
                "the email layout must place {{{{ slot.body }}}} exactly once, inside an mj-text or mj-raw (found {bodies})"
            ));
        }
        let mut parts = Vec::with_capacity(found.len() + 1);
        let mut at = 0;
        for (i, slot) in found {
            parts.push((html[at..i].to_string(), Some(slot)));
            at = i + slot.token().len();
        }
        parts.push((html[at..].to_string(), None));
        let literal_len = parts.iter().map(|(l, _)| l.len()).sum();
        let encoded = parts
            .iter()
            .map(|(literal, _)| {
                let mut out = Vec::new();
                qp::encode_chunk(literal, &mut out);
                out
            })
            .collect();
        Ok(Skeleton {
            parts,
            encoded,
            literal_len,
            text_footer: String::new(),
        })
    }

    /// The same, with `footer` (the theme's `email/footer.txt` rendered) for the text part.
    pub fn with_text_footer(self, footer: String) -> Skeleton {
        Skeleton {
            text_footer: footer,
            ..self
        }
    }

    /// The plain-text part for one recipient: `text`, then the footer after a signature
    /// separator (`-- `), so the text part says all that the HTML part says.
    pub fn text(&self, text: &str, recipient_email: &str) -> String {
        if self.text_footer.is_empty() {
            return text.to_string();
        }
        let footer = self
            .text_footer
            .replace(Slot::RecipientEmail.token(), recipient_email);
        format!("{}\n\n-- \n{footer}\n", text.trim_end())
    }

    /// The HTML part for one recipient: the literals with the values in between, and the
    /// same encoded, where only the values are encoded now.
    pub fn fill(&self, f: &Fill) -> Filled {
        let values = f.body_html.len() + 2 * (f.subject.len() + f.preheader.len()) + 64;
        let mut html = String::with_capacity(self.literal_len + values);
        let mut encoded = Vec::with_capacity(
            self.encoded.iter().map(Vec::len).sum::<usize>() + values + values / 4,
        );
        for ((literal, slot), literal_encoded) in self.parts.iter().zip(&self.encoded) {
            html.push_str(literal);
            encoded.extend_from_slice(literal_encoded);
            let start = html.len();
            match slot {
                None => continue,
                Some(Slot::Body) => html.push_str(f.body_html),
                Some(Slot::Subject) => push_escaped(&mut html, f.subject),
                Some(Slot::Preheader) => push_escaped(&mut html, f.preheader),
                Some(Slot::RecipientEmail) => push_escaped(&mut html, f.recipient_email),
            }
            qp::encode_chunk(&html[start..], &mut encoded);
        }
        Filled { html, encoded }
    }

    /// How often `slot` appears.
    pub fn count(&self, slot: Slot) -> usize {
        self.parts.iter().filter(|(_, s)| *s == Some(slot)).count()
    }
}

/// The preheader: the start of the plain-text part on one line, about 140 characters, cut
/// at a word (heading underlines and the text part's `*strong*`/`_emphasis_` marks left
/// out).
pub fn preheader(text: &str) -> String {
    const MAX: usize = 140;
    let mut out = String::new();
    for word in text
        .lines()
        .filter(|l| !l.trim().chars().all(|c| c == '=' || c == '-'))
        .flat_map(str::split_whitespace)
        .map(|w| w.trim_start_matches(['*', '_']))
        .map(|w| {
            // `7*.` → `7.`: the mark closes before any punctuation.
            let end =
                w.trim_end_matches(|c: char| c.is_ascii_punctuation() && c != '*' && c != '_');
            let marks = end.len() - end.trim_end_matches(['*', '_']).len();
            if marks > 0 {
                std::borrow::Cow::Owned(format!("{}{}", &end[..end.len() - marks], &w[end.len()..]))
            } else {
                std::borrow::Cow::Borrowed(w)
            }
        })
        .filter(|w| !w.is_empty())
    {
        let word: &str = &word;
        if out.chars().count() + 1 + word.chars().count() > MAX {
            if out.is_empty() {
                out.extend(word.chars().take(MAX));
            }
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html() -> String {
        let (body, subject, email) = (
            Slot::Body.token(),
            Slot::Subject.token(),
            Slot::RecipientEmail.token(),
        );
        format!("<title>{subject}</title><div aria-label=\"{subject}\">{body}</div><p>{email}</p>")
    }

    #[test]
    fn the_skeleton_is_cut_at_every_slot_and_filled_in_order() {
        let s = Skeleton::split(&html()).unwrap();
        assert_eq!((s.count(Slot::Body), s.count(Slot::Subject)), (1, 2));
        assert_eq!(s.count(Slot::Preheader), 0);
        let filled = s.fill(&Fill {
            body_html: "<p>Hi <b>you</b></p>",
            subject: "Go-live <now> & \"then\"",
            preheader: "unused",
            recipient_email: "o'neil@x.example",
        });
        let out = filled.html;
        let encoded = String::from_utf8(filled.encoded).unwrap();
        assert!(
            encoded.starts_with(
                "<title>=\r\nGo-live &lt;now&gt; &amp; &quot;then&quot;=\r\n</title><div aria-label=3D\"=\r\n"
            ),
            "each piece encoded on its own, then concatenated: {encoded}"
        );
        assert_eq!(
            out,
            "<title>Go-live &lt;now&gt; &amp; &quot;then&quot;</title>\
             <div aria-label=\"Go-live &lt;now&gt; &amp; &quot;then&quot;\"><p>Hi <b>you</b></p></div>\
             <p>o&#39;neil@x.example</p>"
        );
    }

    #[test]
    fn the_body_must_be_there_exactly_once() {
        let once = html();
        let twice = format!("{once}{}", Slot::Body.token());
        let none = once.replace(Slot::Body.token(), "");
        assert!(Skeleton::split(&once).is_ok());
        assert!(Skeleton::split(&twice).unwrap_err().contains("(found 2)"));
        assert!(Skeleton::split(&none).unwrap_err().contains("(found 0)"));
    }

    #[test]
    fn the_preheader_is_the_start_of_the_text_on_one_line() {
        let text =
            "Welcome\n=======\n\nDear *Ana*, the _new_ system goes live at *18:00*.\n\n- one\n";
        assert_eq!(
            preheader(text),
            "Welcome Dear Ana, the new system goes live at 18:00. - one"
        );
        let long = "word ".repeat(100);
        let p = preheader(&long);
        assert!(p.ends_with("word…") && p.chars().count() <= 141, "{p}");
        assert_eq!(preheader(""), "");
    }
}
