//! Quoted-printable (RFC 2045 §6.7) in chunks that can be concatenated, so the HTML part's
//! fixed pieces — the rendered layout around the placeholders — are encoded once per build
//! and only the per-recipient pieces per email. Encoding the whole ~9 KB part per recipient
//! (what lettre does for a `String` body: choose an encoding, convert line ends, encode) was
//! the largest cost of rendering 10,000 emails.
//!
//! Each chunk ends with a soft line break (`=` CRLF) unless it ends with a line break of
//! its own, so whatever follows starts a fresh line: no encoded line is longer than 76
//! characters, wherever the chunks are cut. `\n` (and `\r\n`) become CRLF line breaks.

/// The longest encoded line, not counting CRLF (RFC 2045).
const MAX_LINE: usize = 76;

/// Appends `text`, quoted-printable encoded, to `out`, as a chunk that can be followed by
/// any other.
pub fn encode_chunk(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + bytes.len() / 8 + 8);
    // Length of the line being written; a soft break needs one more column.
    let mut line = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.extend_from_slice(b"\r\n");
            line = 0;
            i += if b == b'\r' { 2 } else { 1 };
            continue;
        }
        let next_is_break = matches!(bytes.get(i + 1), Some(b'\n' | b'\r'));
        let literal = match b {
            b'=' => false,
            // Whitespace before a line break would be lost in transit.
            b' ' | b'\t' => !next_is_break,
            33..=126 => true,
            _ => false,
        };
        let width = if literal { 1 } else { 3 };
        if line + width > MAX_LINE - 1 {
            out.extend_from_slice(b"=\r\n");
            line = 0;
        }
        if literal {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        line += width;
        i += 1;
    }
    if line > 0 {
        out.extend_from_slice(b"=\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(parts: &[&str]) -> String {
        let mut out = Vec::new();
        for p in parts {
            encode_chunk(p, &mut out);
        }
        String::from_utf8(out).expect("quoted-printable is ASCII")
    }

    /// Decodes with mail-parser, an independent implementation.
    fn decode(qp: &str) -> String {
        let message = format!(
            "Content-Type: text/html; charset=utf-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\n{qp}"
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(message.as_bytes())
            .expect("parses");
        parsed.body_html(0).expect("an HTML body").into_owned()
    }

    #[test]
    fn chunks_concatenate_to_the_text_with_crlf_line_ends() {
        let parts = [
            "<!doctype html><p style=\"margin:0\">Caf\u{e9} \u{2014} ",
            "d\u{e9}j\u{e0} vu = 100% ",
            "",
            "tr\u{e8}s bien\n<p>line two  \nthree\r\n",
            &"x".repeat(300),
            "\t end",
        ];
        let qp = encode(&parts);
        assert_eq!(
            decode(&qp),
            parts.concat().replace("\r\n", "\n").replace('\n', "\r\n")
        );
        assert!(
            qp.contains("style=3D\"margin:0\">Caf=C3=A9 =E2=80=94 "),
            "{qp}"
        );
        assert!(
            qp.contains("two =20\r\nthree"),
            "whitespace before a break: {qp}"
        );
    }

    #[test]
    fn no_line_is_longer_than_76_and_escapes_are_never_split() {
        let text = "\u{e9}".repeat(200) + &"=".repeat(100) + &"a".repeat(200);
        for cut in [1, 7, 75, 76, 77, 150] {
            let pieces: Vec<String> = text
                .chars()
                .collect::<Vec<_>>()
                .chunks(cut)
                .map(|c| c.iter().collect())
                .collect();
            let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
            let qp = encode(&refs);
            for line in qp.split("\r\n") {
                assert!(line.len() <= 76, "{} > 76: {line}", line.len());
                let trimmed = line.strip_suffix('=').unwrap_or(line);
                let tail = &trimmed[trimmed.len().saturating_sub(2)..];
                assert!(!tail.contains('='), "split escape: {line}");
            }
            assert_eq!(decode(&qp), text, "cut every {cut}");
        }
    }

    #[test]
    fn only_printable_ascii_other_than_equals_is_written_as_is() {
        assert_eq!(encode(&["a=b\u{7f}\u{1}~ !"]), "a=3Db=7F=01~ !=\r\n");
        assert_eq!(encode(&["ends with a break\n"]), "ends with a break\r\n");
        assert_eq!(encode(&[""]), "");
    }
}
