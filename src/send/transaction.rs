//! One SMTP mail transaction (MAIL, RCPT, DATA, the message) with the message and its
//! final `.` in a single write, telling apart where it failed: before the message was
//! handed over (certainly not accepted: safe to retry) or after (the outcome is unknown
//! unless the server answered; see [`Failure::after_data`]).
//!
//! lettre's `SmtpConnection::send` writes the message, then `\r\n.\r\n` in a second write.
//! The socket keeps Nagle's algorithm on (lettre neither sets `TCP_NODELAY` nor gives access
//! to the socket), so the kernel holds those 5 bytes until the server acknowledges the
//! message — and the server, still waiting for the end of the data, delays that ACK (40 ms
//! on Linux). That was 40 of the 44 ms per message measured in BENCHMARKS.md. Every other
//! write of a transaction follows a reply from the server, which carries the ACK, so one
//! write for the data removes the stall.

use std::fmt;

use lettre::address::Envelope;
use lettre::transport::smtp::client::SmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::Error;

/// The message, dot-stuffed, with the `.` line that ends it: what follows `DATA`.
struct Payload(String);

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `message` as sent after `DATA` (RFC 5321 §4.5.2): a `.` starting a line (after CRLF) is
/// doubled, and `\r\n.\r\n` ends it — byte for byte what lettre sends, in one piece.
fn payload(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + message.len() / 64 + 5);
    let mut line_start = true;
    let mut after_cr = false;
    for c in message.chars() {
        if line_start && c == '.' {
            out.push('.');
        }
        out.push(c);
        line_start = after_cr && c == '\n';
        after_cr = c == '\r';
    }
    out.push_str("\r\n.\r\n");
    out
}

/// Why a transaction failed, and whether the whole message had been handed over by then.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    /// The message and its final `.` were written (or may have been): a server that
    /// answers nothing from here on may have accepted it. `false` means the failure came
    /// before: at MAIL, RCPT or DATA, or while writing the message (then the final `.`
    /// never left, so the server cannot have taken it).
    pub after_data: bool,
}

/// Sends `email` to the envelope's recipients over `conn`, like `SmtpConnection::send`
/// (on any error the connection is aborted), but with the data in one write. A message
/// that is not UTF-8, or that needs an extension the server lacks, goes through lettre's
/// own `send`, which reports that (a failure there counts as after the data: the stage is
/// not known).
pub fn send(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    email: &[u8],
) -> Result<Response, Failure> {
    let info = conn.server_info();
    let non_ascii_addresses = envelope
        .to()
        .iter()
        .chain(envelope.from())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    let eight_bit = !email.is_ascii();
    let text = match std::str::from_utf8(email) {
        Ok(text)
            if (!non_ascii_addresses || info.supports_feature(Extension::SmtpUtfEight))
                && (!eight_bit || info.supports_feature(Extension::EightBitMime)) =>
        {
            text
        }
        _ => {
            return conn.send(envelope, email).map_err(|error| Failure {
                error,
                after_data: true,
            })
        }
    };
    let mut options = Vec::new();
    if non_ascii_addresses {
        options.push(MailParameter::SmtpUtfEight);
    }
    if eight_bit {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let before = |error| Failure {
        error,
        after_data: false,
    };
    let result = (|| {
        conn.command(Mail::new(envelope.from().cloned(), options))
            .map_err(before)?;
        for to in envelope.to() {
            conn.command(Rcpt::new(to.clone(), vec![]))
                .map_err(before)?;
        }
        conn.command(Data).map_err(before)?;
        conn.command(Payload(payload(text)))
            .map_err(|error| Failure {
                after_data: !is_write_failure(&error),
                error,
            })
    })();
    if result.is_err() {
        conn.abort();
    }
    result
}

/// Whether `e` is a failure to write (the peer had already closed: `EPIPE`). Writing the
/// data and its final `.` is one `write_all`; when it fails, the `.` never left this
/// machine. (A reset or a timeout may come while reading the reply: those stay unknown.)
fn is_write_failure(e: &Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    #[test]
    fn dots_starting_a_line_are_doubled_and_the_end_is_marked() {
        assert_eq!(
            payload("a\r\n.b\r\n..\r\nc.d"),
            "a\r\n..b\r\n...\r\nc.d\r\n.\r\n"
        );
        assert_eq!(payload(".\r\n"), "..\r\n\r\n.\r\n");
        assert_eq!(payload("é\r\n.é"), "é\r\n..é\r\n.\r\n");
        // Like lettre: only CRLF ends a line.
        assert_eq!(payload("a\n.b\r.c"), "a\n.b\r.c\r\n.\r\n");
    }

    /// A minimal SMTP server that records the data of one transaction and how many reads it
    /// took to arrive.
    fn server() -> (u16, std::thread::JoinHandle<(Vec<u8>, usize)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut out = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            out.write_all(b"220 test ESMTP\r\n").unwrap();
            let mut line = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let reply: &[u8] = match &line.to_ascii_uppercase()[..4] {
                    "EHLO" => b"250-test\r\n250 8BITMIME\r\n",
                    "MAIL" | "RCPT" => b"250 OK\r\n",
                    "DATA" => b"354 go ahead\r\n",
                    _ => break,
                };
                out.write_all(reply).unwrap();
                if reply.starts_with(b"354") {
                    break;
                }
            }
            let mut data = Vec::new();
            let mut reads = 0;
            let mut buf = [0u8; 65536];
            while !data.ends_with(b"\r\n.\r\n") {
                let n = reader.read(&mut buf).unwrap();
                assert!(n > 0, "the client hung up in the middle of the data");
                data.extend_from_slice(&buf[..n]);
                reads += 1;
            }
            out.write_all(b"250 queued\r\n").unwrap();
            (data, reads)
        });
        (port, handle)
    }

    /// A connection to the test server on `port` and an envelope from golive@ to ana@.
    fn connect(port: u16) -> (SmtpConnection, Envelope) {
        let conn = SmtpConnection::connect(
            ("127.0.0.1", port),
            Some(std::time::Duration::from_secs(10)),
            &lettre::transport::smtp::extension::ClientId::Domain("client.test".into()),
            None,
            None,
        )
        .unwrap();
        let envelope = Envelope::new(
            Some("golive@example.com".parse().unwrap()),
            vec!["ana@example.com".parse().unwrap()],
        )
        .unwrap();
        (conn, envelope)
    }

    #[test]
    fn the_message_and_its_end_go_out_in_one_piece() {
        let (port, handle) = server();
        let (mut conn, envelope) = connect(port);
        let message = "Subject: Café\r\n\r\nDear Ana,\r\n.profile is a dot file.\r\n";
        let reply = send(&mut conn, &envelope, message.as_bytes()).unwrap();
        assert_eq!(reply.code().to_string(), "250");
        let (data, reads) = handle.join().unwrap();
        assert_eq!(
            String::from_utf8(data).unwrap(),
            "Subject: Café\r\n\r\nDear Ana,\r\n..profile is a dot file.\r\n\r\n.\r\n"
        );
        // Two writes would have been two segments, the second held back by Nagle's
        // algorithm until the (delayed) ACK of the first.
        assert_eq!(reads, 1, "the data arrived in {reads} pieces");
    }

    /// A server that ends the transaction at `stage`: hangs up on `DATA`, hangs up after
    /// the whole message arrived, or answers `451` to it.
    fn ending(stage: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut out = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            out.write_all(b"220 test ESMTP\r\n").unwrap();
            let mut line = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                match &line.to_ascii_uppercase()[..4] {
                    "EHLO" => out.write_all(b"250-test\r\n250 8BITMIME\r\n").unwrap(),
                    "MAIL" | "RCPT" => out.write_all(b"250 OK\r\n").unwrap(),
                    "DATA" if stage == "data" => return,
                    "DATA" => break,
                    _ => return,
                }
            }
            out.write_all(b"354 go ahead\r\n").unwrap();
            while line != ".\r\n" {
                line.clear();
                reader.read_line(&mut line).unwrap();
            }
            if stage == "451" {
                out.write_all(b"451 try later\r\n").unwrap();
            }
            // "end": hang up without a word, the message received.
        });
        port
    }

    #[test]
    fn a_failure_says_whether_the_message_had_been_handed_over() {
        for (stage, after_data, transient) in [
            ("data", false, false),
            ("end", true, false),
            ("451", true, true),
        ] {
            let port = ending(stage);
            let (mut conn, envelope) = connect(port);
            let f = send(&mut conn, &envelope, b"Subject: x\r\n\r\nHello\r\n").unwrap_err();
            assert_eq!(f.after_data, after_data, "{stage}: {}", f.error);
            assert_eq!(f.error.is_transient(), transient, "{stage}: {}", f.error);
        }
    }
}
