//! The SMTP side of sending: a session (one connection kept open while it works;
//! [`Session`]), retries with exponential backoff, a rate limit shared by all the sessions
//! of a run ([`Pacer`]). A session uses PIPELINING (RFC 2920) when the server's EHLO offers
//! it (see [`super::transaction`]); how to reach the server is [`Settings`].
//!
//! TLS rules: `starttls` (the default) requires the server to offer STARTTLS; `tls` is
//! implicit TLS from the first byte; `none` (plain text) only to loopback (checked by
//! [`Settings`]). Certificates are checked against the webpki roots, plus the PEM file in
//! `TMINUS_SMTP_CA_FILE` for an internal CA.
//!
//! Credentials are never printed: server replies are the only text that reaches the output.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::SmtpConnection;
use lettre::transport::smtp::commands::Ehlo;
use lettre::transport::smtp::Error;

pub use super::settings::Settings;
use super::settings::ENV_CA_FILE;
use crate::model::project::SmtpSecurity;

/// At most `rate` messages a second: each send waits for its slot. Shared by the sessions
/// of a run (the slots are handed out under a lock; the waiting is done outside it).
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn new(rate_per_second: f64) -> Self {
        let interval = if rate_per_second.is_finite() && rate_per_second > 0.0 {
            Duration::from_secs_f64(1.0 / rate_per_second)
        } else {
            Duration::ZERO
        };
        Pacer {
            interval,
            next: Mutex::new(None),
        }
    }

    pub fn wait(&self) {
        let now = Instant::now();
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The server took responsibility for it; its reply.
    Accepted(String),
    /// Not delivered: the server's reply (or what went wrong), and whether it is final (5xx).
    Refused { reply: String, permanent: bool },
    /// The whole message was handed over, then no answer came (the connection dropped, or
    /// the reply did not come within the timeout): the server may or may not have taken
    /// it. Never retried: a retry could deliver it twice. Why, in words.
    InDoubt(String),
}

/// The session cannot go on: no connection (`unreachable`: the server could not be
/// reached or kept refusing, so other sessions may still work), or a TLS, authentication or
/// configuration failure (the run cannot go on at all).
#[derive(Debug, Clone)]
pub struct Fatal {
    pub text: String,
    pub unreachable: bool,
}

impl Fatal {
    fn config(text: String) -> Fatal {
        Fatal {
            text,
            unreachable: false,
        }
    }
}

/// A connection to the server, opened on first use and reused while the session works.
pub struct Session {
    settings: Settings,
    conn: Option<SmtpConnection>,
    /// Whether the server of the current connection offers PIPELINING.
    pipelining: bool,
    /// Connections opened (1 for a batch without trouble).
    pub connections: usize,
    /// Retries made (after a 4xx or a dropped connection).
    pub retries: usize,
}

/// Whether an EHLO reply's lines (after the first) name PIPELINING.
fn offers_pipelining<'a>(lines: impl Iterator<Item = &'a str>) -> bool {
    lines.skip(1).any(|l| {
        l.split_whitespace()
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case("PIPELINING"))
    })
}

/// An error as one line: what lettre says and the server's reply.
pub fn describe_error(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text.replace(['\r', '\n'], " ")
}

/// Whether the batch should stop altogether on this connection error (retrying or going
/// on with the next message cannot help).
fn is_fatal_connect_error(e: &Error) -> bool {
    e.is_tls() || e.is_permanent() || e.is_client() || is_tls_failure(e)
}

/// Whether `e` is a read or write that timed out (on Linux a socket timeout is `EAGAIN`).
fn is_timeout(e: &Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            );
        }
        source = s.source();
    }
    false
}

/// Whether a failed TLS handshake hides behind `e`: rustls reports an untrusted certificate
/// or a handshake error as an I/O error of kind `InvalidData`, which lettre files as a
/// network error. (A plain TCP stream never fails with `InvalidData`.)
fn is_tls_failure(e: &Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
        {
            return true;
        }
        source = s.source();
    }
    false
}

impl Session {
    pub fn new(settings: Settings) -> Self {
        Session {
            settings,
            conn: None,
            pipelining: false,
            connections: 0,
            retries: 0,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A new connection, and whether its server offers PIPELINING.
    fn connect_once(&self) -> Result<(SmtpConnection, bool), Result<Error, String>> {
        let s = &self.settings;
        let tls = match s.security {
            SmtpSecurity::None => None,
            _ => Some(s.tls_parameters().map_err(Err)?),
        };
        let wrapper = match s.security {
            SmtpSecurity::Tls => tls.as_ref(),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (s.host.as_str(), s.port),
            Some(s.timeout),
            &s.hello,
            wrapper,
            None,
        )
        .map_err(Ok)?;
        if s.security == SmtpSecurity::Starttls {
            if !conn.can_starttls() {
                conn.abort();
                return Err(Err(format!(
                    "{} does not offer STARTTLS; refusing to send in plain text (use `security: tls` for implicit TLS)",
                    s.describe()
                )));
            }
            let params = tls.as_ref().expect("built above");
            conn.starttls(params, &s.hello).map_err(Ok)?;
        }
        // lettre keeps only the extensions it knows from the EHLO reply; PIPELINING is not
        // one of them, so ask again (before AUTH: an EHLO may not follow it everywhere).
        let pipelining = match conn.command(Ehlo::new(s.hello.clone())) {
            Ok(reply) => offers_pipelining(reply.message()),
            Err(e) if e.status().is_some() => false,
            Err(e) => {
                conn.abort();
                return Err(Ok(e));
            }
        };
        if let Some(credentials) = s.credentials() {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .map_err(Ok)?;
        }
        Ok((conn, pipelining))
    }

    /// Makes sure a connection is open, retrying with backoff; a [`Fatal`] stops the batch.
    pub fn ready(&mut self) -> Result<(), Fatal> {
        if self.conn.as_ref().is_some_and(|c| !c.has_broken()) {
            return Ok(());
        }
        self.conn = None;
        let mut attempt = 0;
        loop {
            match self.connect_once() {
                Ok((conn, pipelining)) => {
                    self.conn = Some(conn);
                    self.pipelining = pipelining;
                    self.connections += 1;
                    return Ok(());
                }
                Err(Err(config)) => return Err(Fatal::config(config)),
                Err(Ok(e)) => {
                    let mut text = format!(
                        "cannot connect to {}: {}",
                        self.settings.describe(),
                        describe_error(&e)
                    );
                    if is_tls_failure(&e) && text.contains("certificate") {
                        text.push_str(&format!(
                            "\n  hint: the server's certificate is not trusted; for an internal CA set {ENV_CA_FILE}=/path/to/ca.pem"
                        ));
                    }
                    attempt += 1;
                    if is_fatal_connect_error(&e) {
                        return Err(Fatal::config(text));
                    }
                    if attempt >= self.settings.backoff.attempts {
                        return Err(Fatal {
                            text,
                            unreachable: true,
                        });
                    }
                    self.retries += 1;
                    std::thread::sleep(self.settings.backoff.delay(attempt - 1));
                }
            }
        }
    }

    /// Sends `email` to `to`, retrying 4xx replies and connections that failed before the
    /// message was handed over, with backoff. A 5xx is final for this message only. A
    /// connection lost (or a reply timed out) after the message's final `.` is
    /// [`Outcome::InDoubt`], not retried; the next message gets a new connection. Errs only
    /// when no connection can be made.
    pub fn send(&mut self, to: &Address, email: &[u8]) -> Result<Outcome, Fatal> {
        let envelope = Envelope::new(Some(self.settings.from.clone()), vec![to.clone()])
            .map_err(|e| Fatal::config(format!("cannot address the envelope: {e}")))?;
        let mut attempt = 0;
        loop {
            self.ready()?;
            let conn = self.conn.as_mut().expect("ready");
            let result = super::transaction::send(conn, &envelope, email, self.pipelining);
            attempt += 1;
            match result {
                Ok(response) => {
                    let reply = format!(
                        "{} {}",
                        response.code(),
                        response.message().collect::<Vec<_>>().join(" ")
                    );
                    return Ok(Outcome::Accepted(reply.trim().to_string()));
                }
                Err(super::transaction::Failure {
                    error: e,
                    after_data,
                    kept,
                }) => {
                    // A clean refusal keeps the connection; anything else closed it and the
                    // next try reconnects.
                    if !kept {
                        self.conn = None;
                    }
                    let reply = describe_error(&e);
                    if after_data && e.status().is_none() && !e.is_client() {
                        let why = if is_timeout(&e) {
                            format!(
                                "no reply within {}s after the message was handed over",
                                self.settings.timeout.as_secs()
                            )
                        } else {
                            format!(
                                "the connection failed after the message was handed over: {reply}"
                            )
                        };
                        return Ok(Outcome::InDoubt(why));
                    }
                    if e.is_permanent() || e.is_client() {
                        return Ok(Outcome::Refused {
                            reply,
                            permanent: true,
                        });
                    }
                    if attempt >= self.settings.backoff.attempts {
                        return Ok(Outcome::Refused {
                            reply: format!("{reply} (gave up after {attempt} attempts)"),
                            permanent: false,
                        });
                    }
                    self.retries += 1;
                    std::thread::sleep(self.settings.backoff.delay(attempt - 1));
                }
            }
        }
    }

    /// Says goodbye to the server.
    pub fn close(&mut self) {
        if let Some(mut c) = self.conn.take() {
            if !c.has_broken() {
                let _ = c.quit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_spaces_sends() {
        let p = Pacer::new(50.0);
        let t = Instant::now();
        for _ in 0..6 {
            p.wait();
        }
        assert!(
            t.elapsed() >= Duration::from_millis(95),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn pipelining_is_read_from_the_ehlo_keywords() {
        assert!(offers_pipelining(
            ["mx.example", "8BITMIME", "pipelining", "SIZE 0"].into_iter()
        ));
        // Only as a keyword, not in the greeting name or another keyword's argument.
        assert!(!offers_pipelining(["PIPELINING", "8BITMIME"].into_iter()));
        assert!(!offers_pipelining(
            ["mx", "X-NOPIPELINING", "AUTH PIPELINING"].into_iter()
        ));
    }
}
