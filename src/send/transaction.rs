//! One SMTP mail transaction (MAIL, RCPT, DATA, the message) with the message and its
//! final `.` in a single write, telling apart where it failed: before the message was
//! handed over (certainly not accepted: safe to retry) or after (the outcome is unknown
//! unless the server answered; see [`Failure::after_data`]).
//!
//! **PIPELINING** (RFC 2920): when the server offers it, `MAIL`, `RCPT` and `DATA` go out
//! in one write and their replies are read after it, so a message costs two round trips
//! (the commands, then the message) instead of four. lettre's `SmtpConnection` neither
//! pipelines nor records whether the server offers it, but its `command` writes any text
//! and its `read_response` reads one reply, which is all pipelining needs. Every reply is
//! read, whatever the one before said: a refused `MAIL` or `RCPT` means the message is
//! not sent (if `DATA` was answered `354` all the same, a lone `.` ends the empty message)
//! and `RSET` clears the transaction, so the connection is kept for the next message.
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
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::Error;

/// Text written as it is: commands joined for a pipelined write, or the message.
struct Raw(String);

impl fmt::Display for Raw {
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
    /// The server refused cleanly and the connection is still usable for the next message
    /// (every reply was read and the transaction reset); else it was closed.
    pub kept: bool,
}

/// Sends `email` to the envelope's recipients over `conn`, like `SmtpConnection::send`,
/// but with the data in one write and, when `pipelining`, the commands before it in one
/// write too. After a clean refusal the transaction is reset and the connection kept;
/// after anything else (a dropped connection, a timeout, `421`) it is closed. A message
/// that is not UTF-8, or that needs an extension the server lacks, goes through lettre's
/// own `send`, which reports that (a failure there counts as after the data: the stage is
/// not known).
pub fn send(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    email: &[u8],
    pipelining: bool,
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
            let result = conn.send(envelope, email);
            if result.is_err() {
                conn.abort();
            }
            return result.map_err(|error| Failure {
                error,
                after_data: true,
                kept: false,
            });
        }
    };
    let mut options = Vec::new();
    if non_ascii_addresses {
        options.push(MailParameter::SmtpUtfEight);
    }
    if eight_bit {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let mut commands = vec![Mail::new(envelope.from().cloned(), options).to_string()];
    for to in envelope.to() {
        commands.push(Rcpt::new(to.clone(), vec![]).to_string());
    }
    commands.push(Data.to_string());
    let lost = |conn: &mut SmtpConnection, error| {
        conn.abort();
        Failure {
            error,
            after_data: false,
            kept: false,
        }
    };

    // The replies to MAIL, each RCPT and DATA: all of them when pipelined, else up to the
    // first refusal.
    let mut replies: Vec<Result<Response, Error>> = Vec::with_capacity(commands.len());
    if pipelining {
        replies.push(conn.command(Raw(commands.concat())));
        while replies.len() < commands.len() && replies.last().is_some_and(is_reply) {
            replies.push(conn.read_response());
        }
    } else {
        for c in commands.iter() {
            replies.push(conn.command(Raw(c.clone())));
            if replies.last().is_some_and(Result::is_err) {
                break;
            }
        }
    }
    let refused = replies.iter().position(Result::is_err);
    if let Some(i) = refused {
        // The first refusal is the answer; a lost connection after it (a server hanging up
        // after `421`) only means the connection cannot be kept.
        let connection_lost = !replies.iter().all(is_reply);
        let data_accepted =
            replies.len() == commands.len() && replies.last().is_some_and(Result::is_ok);
        let Some(Err(error)) = replies.into_iter().nth(i) else {
            unreachable!("position() found a refusal at {i}")
        };
        if connection_lost || is_closing(&error) {
            return Err(lost(conn, error));
        }
        if data_accepted {
            // `DATA` was accepted though a command before it was refused: the server waits
            // for a message; end it, empty (RFC 2920 §3.1).
            if let Err(e) = conn.command(Raw(".\r\n".into())) {
                if e.status().is_none() {
                    return Err(lost(conn, error));
                }
            }
        }
        return match conn.command(Rset) {
            Ok(_) => Err(Failure {
                error,
                after_data: false,
                kept: true,
            }),
            Err(_) => Err(lost(conn, error)),
        };
    }
    match conn.command(Raw(payload(text))) {
        Ok(response) => Ok(response),
        // An answer after the `.`: the transaction is over, the connection still usable.
        Err(error) if error.status().is_some() => {
            let kept = !is_closing(&error);
            if !kept {
                conn.abort();
            }
            Err(Failure {
                error,
                after_data: true,
                kept,
            })
        }
        Err(error) => {
            conn.abort();
            Err(Failure {
                after_data: !is_write_failure(&error),
                error,
                kept: false,
            })
        }
    }
}

/// Whether `r` is a reply from the server (accepting or refusing), not a lost connection.
fn is_reply(r: &Result<Response, Error>) -> bool {
    match r {
        Ok(_) => true,
        Err(e) => e.status().is_some(),
    }
}

/// Whether the server is closing the connection (`421`).
fn is_closing(e: &Error) -> bool {
    e.status().is_some_and(|c| u16::from(c) == 421)
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
        let reply = send(&mut conn, &envelope, message.as_bytes(), false).unwrap();
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
        for pipelining in [false, true] {
            for (stage, after_data, transient) in [
                ("data", false, false),
                ("end", true, false),
                ("451", true, true),
            ] {
                let port = ending(stage);
                let (mut conn, envelope) = connect(port);
                let f = send(
                    &mut conn,
                    &envelope,
                    b"Subject: x\r\n\r\nHello\r\n",
                    pipelining,
                )
                .unwrap_err();
                let what = format!("{stage}, pipelining {pipelining}: {}", f.error);
                assert_eq!(f.after_data, after_data, "{what}");
                assert_eq!(f.error.is_transient(), transient, "{what}");
            }
        }
    }

    /// A server offering PIPELINING that answers each command line as `answer` says (one
    /// reply per line, in turn) and records what each read brought, until QUIT or EOF.
    fn scripted(answer: fn(&str) -> &'static str) -> (u16, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.write_all(b"220 test ESMTP\r\n").unwrap();
            let mut reads = Vec::new();
            let mut pending = String::new();
            let mut in_data = false;
            let mut buf = [0u8; 65536];
            loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    return reads;
                }
                let chunk = String::from_utf8_lossy(&buf[..n]).into_owned();
                reads.push(chunk.clone());
                pending.push_str(&chunk);
                let mut out = String::new();
                while let Some(end) = pending.find("\r\n") {
                    let line: String = pending.drain(..end + 2).collect();
                    if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            out.push_str("250 queued\r\n");
                        }
                        continue;
                    }
                    let reply = answer(line.trim_end());
                    in_data = reply.starts_with("354");
                    out.push_str(reply);
                    if line.starts_with("QUIT") {
                        stream.write_all(out.as_bytes()).unwrap();
                        return reads;
                    }
                }
                stream.write_all(out.as_bytes()).unwrap();
            }
        });
        (port, handle)
    }

    #[test]
    fn pipelined_commands_go_out_in_one_write_then_the_message() {
        let (port, handle) = scripted(|line| match &line[..4] {
            "EHLO" => "250-test\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
            "DATA" => "354 go ahead\r\n",
            _ => "250 OK\r\n",
        });
        let (mut conn, envelope) = connect(port);
        let reply = send(&mut conn, &envelope, b"Subject: x\r\n\r\nHello\r\n", true).unwrap();
        assert_eq!(reply.code().to_string(), "250");
        // The connection is still good for another message.
        send(&mut conn, &envelope, b"Subject: y\r\n\r\nAgain\r\n", true).unwrap();
        conn.quit().unwrap();
        let reads = handle.join().unwrap();
        let transactions: Vec<&String> = reads.iter().filter(|r| r.contains("MAIL FROM")).collect();
        assert_eq!(transactions.len(), 2, "{reads:?}");
        for t in transactions {
            assert!(
                t.starts_with("MAIL FROM:<golive@example.com>")
                    && t.contains("\r\nRCPT TO:<ana@example.com>\r\nDATA\r\n"),
                "MAIL, RCPT and DATA in one piece: {t:?}"
            );
        }
    }

    #[test]
    fn a_pipelined_refusal_is_read_in_turn_and_the_connection_kept() {
        // A lax server: refuses the recipient but still answers DATA with 354.
        let (port, handle) = scripted(|line| match &line[..4] {
            "EHLO" => "250-test\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
            "RCPT" => "550 5.1.1 no such user\r\n",
            "DATA" => "354 go ahead\r\n",
            _ => "250 OK\r\n",
        });
        let (mut conn, envelope) = connect(port);
        let f = send(&mut conn, &envelope, b"Subject: x\r\n\r\nHello\r\n", true).unwrap_err();
        assert!(f.error.is_permanent(), "{}", f.error);
        assert!(f.error.to_string().contains("no such user"), "{}", f.error);
        assert!(!f.after_data && f.kept, "{f:?}");
        assert!(!conn.has_broken());
        conn.quit().unwrap();
        let all = handle.join().unwrap().concat();
        // The empty message ended with a lone `.`, the transaction reset; the message itself
        // never went out.
        assert!(all.contains("DATA\r\n.\r\nRSET\r\n"), "{all:?}");
        assert!(!all.contains("Hello"), "{all:?}");
    }
}
