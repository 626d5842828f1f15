//! The URL rule: which links written in a project may become live links.
//!
//! Pages and emails link only with `http:`, `https:`, `mailto:` and `tel:`, or (where a
//! link inside the site makes sense) relative and `@/` links. Every other scheme —
//! `javascript:`, `data:`, `vbscript:`, `file:` … — would run code or open local files from
//! a reader's browser or mail client, so it is refused in the YAML and defused in Markdown.
//! Browsers ignore case, and leading spaces and control characters, before the scheme, so
//! the scheme is read the same way.

/// Schemes a written link may use.
pub const ALLOWED_SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];

/// The scheme of `url` as a browser reads it (lowercase, after leading whitespace and
/// control characters, ignoring tabs and newlines inside it); `None` for a relative link.
pub fn scheme(url: &str) -> Option<String> {
    let trimmed = url.trim_start_matches(|c: char| c <= ' ' || c.is_control() || c.is_whitespace());
    let mut scheme = String::new();
    for c in trimmed.chars() {
        match c {
            ':' => return (!scheme.is_empty()).then_some(scheme),
            '\t' | '\n' | '\r' => continue,
            c if c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.') => {
                scheme.push(c.to_ascii_lowercase())
            }
            _ => return None,
        }
    }
    None
}

/// True when `url` may become a live link: an allowed scheme, or no scheme at all when
/// `relative_ok` (relative and `@/` links).
pub fn is_allowed(url: &str, relative_ok: bool) -> bool {
    let starts_oddly = url
        .chars()
        .next()
        .is_some_and(|c| c.is_control() || c.is_whitespace());
    match scheme(url) {
        Some(s) => ALLOWED_SCHEMES.contains(&s.as_str()) && !starts_oddly,
        None => relative_ok && !starts_oddly && !url.starts_with("//"),
    }
}

/// The error for a URL that [`is_allowed`] refuses: the message and a hint.
pub fn refusal(url: &str, relative_ok: bool) -> (String, String) {
    let shown: String = url.chars().take(80).flat_map(char::escape_debug).collect();
    let message = match scheme(url) {
        Some(s) if !ALLOWED_SCHEMES.contains(&s.as_str()) => {
            format!("`{shown}` is a `{s}:` link, which tminus does not allow")
        }
        _ if relative_ok => format!("`{shown}` is not a usable link"),
        _ => format!("`{shown}` is not an absolute http(s), mailto or tel link"),
    };
    let hint = if relative_ok {
        "write an https:// (or http://, mailto:, tel:) address, a relative link or an `@/` site link"
    } else {
        "write an https:// (or http://, mailto:, tel:) address, e.g. https://help.contoso.example"
    };
    (message, hint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_web_mail_and_phone_links() {
        for ok in [
            "https://x.example/a",
            "HTTP://x.example",
            "mailto:a@b.example",
            "tel:+44 20",
        ] {
            assert!(is_allowed(ok, false), "{ok}");
        }
        for ok in ["../x/", "@/runbooks/deploy", "#top", "page.html?a=b:c"] {
            assert!(is_allowed(ok, true), "{ok}");
            assert!(!is_allowed(ok, false), "{ok} is relative");
        }
    }

    #[test]
    fn refuses_script_data_and_file_links_however_written() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "\u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "data:text/html,<script>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "//evil.example/x",
            " https://x.example",
        ] {
            assert!(!is_allowed(bad, true), "{bad:?}");
        }
        let (message, _) = refusal("javascript:alert(1)", false);
        assert!(message.contains("`javascript:` link"), "{message}");
    }
}
