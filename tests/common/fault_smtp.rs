//! A fault-injecting SMTP server for the end-to-end tests, in Rust: std threads and a
//! `TcpListener` on 127.0.0.1, a real SMTP dialogue (greeting, EHLO/HELO, MAIL, RCPT, DATA
//! with dot-stuffing, RSET, NOOP, QUIT), every accepted message stored so a test can count
//! what each recipient received.
//!
//! What goes wrong is decided per mail transaction: [`FaultServer::start`] takes a plan,
//! a function from the transaction's number (1-based, counting every MAIL command the
//! server sees, on any connection — retries included) to a [`Fault`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Where in a transaction a [`Fault::Reply`] answers instead of the server's normal reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Mail,
    Rcpt,
    /// The `DATA` command itself (instead of `354`).
    Data,
    /// After the message's final `.` (instead of `250`); the message is not stored.
    Dot,
}

/// What the server does wrong in one transaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    None,
    /// Hangs up when `DATA` arrives, before `354`: the message never left the client.
    DropBeforeData,
    /// Stores the message, then hangs up without replying: the client cannot know.
    DropAfterStore,
    /// Stores the message, then waits this long before replying `250` (past the client's
    /// timeout, the client cannot know).
    StallAfterStore(Duration),
    /// Answers this code at this stage (4xx or 5xx).
    Reply(Stage, u16),
    /// Waits this long before each reply of the transaction, then behaves.
    Slow(Duration),
    /// Dies at this MAIL: closes the connection and the listener; nothing is accepted
    /// any more (connections are refused).
    Die,
}

/// One message the server accepted (stored): its envelope recipients and its bytes.
#[derive(Debug, Clone)]
pub struct Stored {
    pub rcpt: Vec<String>,
    pub data: Vec<u8>,
}

type Plan = dyn Fn(usize) -> Fault + Send + Sync;

struct State {
    plan: Box<Plan>,
    transactions: AtomicUsize,
    dead: AtomicBool,
    stored: Mutex<Vec<Stored>>,
    /// Recipients of messages stored whose acceptance the client never heard about (the
    /// server hung up or stalled after storing).
    unanswered: Mutex<BTreeSet<String>>,
    /// Every fault applied, with its transaction number.
    applied: Mutex<Vec<(usize, Fault)>>,
}

pub struct FaultServer {
    pub port: u16,
    state: Arc<State>,
}

impl FaultServer {
    /// Listens on a free port of 127.0.0.1 and serves each connection on its own thread.
    pub fn start(plan: impl Fn(usize) -> Fault + Send + Sync + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(State {
            plan: Box::new(plan),
            transactions: AtomicUsize::new(0),
            dead: AtomicBool::new(false),
            stored: Mutex::new(Vec::new()),
            unanswered: Mutex::new(BTreeSet::new()),
            applied: Mutex::new(Vec::new()),
        });
        let s = state.clone();
        thread::spawn(move || {
            // The listener is dropped (closed) when the server dies.
            while !s.dead.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let s = s.clone();
                        thread::spawn(move || {
                            let _ = serve(stream, &s);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FaultServer { port, state }
    }

    pub fn stored(&self) -> Vec<Stored> {
        self.state.stored.lock().unwrap().clone()
    }

    /// Envelope recipient → how many messages it received.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for m in self.stored() {
            for r in m.rcpt {
                *out.entry(r).or_insert(0) += 1;
            }
        }
        out
    }

    /// Recipients whose message was stored but whose client heard no answer.
    pub fn unanswered(&self) -> BTreeSet<String> {
        self.state.unanswered.lock().unwrap().clone()
    }

    pub fn applied(&self) -> Vec<(usize, Fault)> {
        self.state.applied.lock().unwrap().clone()
    }

    /// Whether the server died (a [`Fault::Die`] happened).
    pub fn is_dead(&self) -> bool {
        self.state.dead.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.state.dead.store(true, Ordering::SeqCst);
    }
}

/// One connection's dialogue. Returns when the client quits or the connection ends.
fn serve(stream: TcpStream, s: &State) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut fault = Fault::None;
    let mut rcpt: Vec<String> = Vec::new();
    let reply = |out: &mut TcpStream, fault: Fault, text: &str| -> std::io::Result<()> {
        if let Fault::Slow(d) = fault {
            thread::sleep(d);
        }
        out.write_all(text.as_bytes())?;
        out.flush()
    };
    reply(&mut out, fault, "220 fault.test ESMTP ready\r\n")?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || s.dead.load(Ordering::SeqCst) {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let verb = text
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => reply(
                &mut out,
                fault,
                "250-fault.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 0\r\n",
            )?,
            "HELO" => reply(&mut out, fault, "250 fault.test\r\n")?,
            "MAIL" => {
                let n = s.transactions.fetch_add(1, Ordering::SeqCst) + 1;
                fault = (s.plan)(n);
                rcpt.clear();
                if fault != Fault::None {
                    s.applied.lock().unwrap().push((n, fault));
                }
                match fault {
                    Fault::Die => {
                        s.dead.store(true, Ordering::SeqCst);
                        let _ = out.shutdown(Shutdown::Both);
                        return Ok(());
                    }
                    Fault::Reply(Stage::Mail, code) => reply(
                        &mut out,
                        fault,
                        &format!("{code} 4.3.0 MAIL refused (fault)\r\n"),
                    )?,
                    _ => reply(&mut out, fault, "250 2.1.0 Ok\r\n")?,
                }
            }
            "RCPT" => {
                let address = text
                    .split_once('<')
                    .and_then(|(_, r)| r.split_once('>'))
                    .map(|(a, _)| a.to_string())
                    .unwrap_or_default();
                match fault {
                    Fault::Reply(Stage::Rcpt, code) => reply(
                        &mut out,
                        fault,
                        &format!("{code} 5.1.1 <{address}>: refused (fault)\r\n"),
                    )?,
                    _ => {
                        rcpt.push(address);
                        reply(&mut out, fault, "250 2.1.5 Ok\r\n")?
                    }
                }
            }
            "DATA" => {
                match fault {
                    Fault::DropBeforeData => {
                        let _ = out.shutdown(Shutdown::Both);
                        return Ok(());
                    }
                    Fault::Reply(Stage::Data, code) => {
                        reply(
                            &mut out,
                            fault,
                            &format!("{code} 4.3.0 DATA refused (fault)\r\n"),
                        )?;
                        continue;
                    }
                    _ => reply(&mut out, fault, "354 End data with <CR><LF>.<CR><LF>\r\n")?,
                }
                let data = read_data(&mut reader)?;
                match fault {
                    Fault::Reply(Stage::Dot, code) => reply(
                        &mut out,
                        fault,
                        &format!("{code} 5.7.1 message refused (fault)\r\n"),
                    )?,
                    Fault::DropAfterStore => {
                        store(s, &rcpt, data, true);
                        let _ = out.shutdown(Shutdown::Both);
                        return Ok(());
                    }
                    Fault::StallAfterStore(d) => {
                        store(s, &rcpt, data, true);
                        thread::sleep(d);
                        // The client has given up by now; the reply goes nowhere.
                        let _ = reply(&mut out, fault, "250 2.0.0 Ok: queued (late)\r\n");
                    }
                    _ => {
                        store(s, &rcpt, data, false);
                        reply(&mut out, fault, "250 2.0.0 Ok: queued\r\n")?
                    }
                }
                fault = Fault::None;
            }
            "RSET" => {
                rcpt.clear();
                reply(&mut out, fault, "250 2.0.0 Ok\r\n")?
            }
            "NOOP" => reply(&mut out, fault, "250 2.0.0 Ok\r\n")?,
            "QUIT" => {
                let _ = reply(&mut out, fault, "221 2.0.0 Bye\r\n");
                return Ok(());
            }
            _ => reply(&mut out, fault, "500 5.5.2 unknown command\r\n")?,
        }
    }
}

/// The message after `354`, up to the `.` line, with dot-stuffing undone.
fn read_data(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" {
            return Ok(data);
        }
        let body = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(body);
    }
}

fn store(s: &State, rcpt: &[String], data: Vec<u8>, unanswered: bool) {
    s.stored.lock().unwrap().push(Stored {
        rcpt: rcpt.to_vec(),
        data,
    });
    if unanswered {
        s.unanswered.lock().unwrap().extend(rcpt.iter().cloned());
    }
}
