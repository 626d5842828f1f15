//! A fault-injecting SMTP server for the end-to-end tests, in Rust: std threads and a
//! `TcpListener` on 127.0.0.1, a real SMTP dialogue (greeting, EHLO/HELO, MAIL, RCPT, DATA
//! with dot-stuffing, RSET, NOOP, QUIT), every accepted message stored so a test can count
//! what each recipient received.
//!
//! What goes wrong is decided per mail transaction: [`FaultServer::start`] takes a plan,
//! a function from the transaction's number (1-based, counting every MAIL command the
//! server sees, on any connection — retries included) to a [`Fault`];
//! [`FaultServer::start_with`] a plan that also sees the connection ([`Txn`]).
//!
//! It advertises PIPELINING (RFC 2920) unless told not to ([`Options`]), and takes pipelined
//! commands as they come: each line gets its reply in turn, like Postfix (`503` to a RCPT
//! without MAIL, `554` to DATA without an accepted recipient), and like Postfix it holds
//! its replies while more commands wait in its input and sends them in one write when the
//! input runs dry (replies written one by one would wait on Nagle's algorithm). It counts the transactions
//! whose commands arrived pipelined. With [`Options::delay`], every reply leaves no sooner
//! than that long after the command it answers arrived — a round-trip latency: commands
//! that arrive together (pipelined) are answered together after one delay. Each connection
//! is served by its own thread; any number at once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

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
    /// The connection it came on (1-based, in the order they were accepted).
    pub connection: usize,
}

/// Which transaction the plan is asked about.
#[derive(Debug, Clone, Copy)]
pub struct Txn {
    /// 1-based, over the whole server (every MAIL, on any connection).
    pub n: usize,
    /// The connection's number (1-based, in the order they were accepted).
    pub connection: usize,
    /// 1-based, on this connection.
    pub on_connection: usize,
}

/// How the server behaves when nothing goes wrong.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Each reply leaves this long after the command it answers arrived.
    pub delay: Duration,
    /// Whether EHLO offers PIPELINING.
    pub pipelining: bool,
    /// Connections from this number on are greeted with `refuse_code` and closed.
    pub refuse_from: Option<usize>,
    /// `554` (the server will not serve this client: not worth retrying) or `421` (busy,
    /// try later).
    pub refuse_code: u16,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            delay: Duration::ZERO,
            pipelining: true,
            refuse_from: None,
            refuse_code: 554,
        }
    }
}

type Plan = dyn Fn(Txn) -> Fault + Send + Sync;

struct State {
    plan: Box<Plan>,
    options: Options,
    transactions: AtomicUsize,
    connections: AtomicUsize,
    open: AtomicUsize,
    /// The most connections open at once.
    peak: AtomicUsize,
    /// Transactions whose MAIL arrived together with the commands after it.
    pipelined: AtomicUsize,
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
        Self::start_with(Options::default(), move |t: Txn| plan(t.n))
    }

    /// [`FaultServer::start`] with `options`, and a plan that sees the connection too.
    pub fn start_with(
        options: Options,
        plan: impl Fn(Txn) -> Fault + Send + Sync + 'static,
    ) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(State {
            plan: Box::new(plan),
            options,
            transactions: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            pipelined: AtomicUsize::new(0),
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
                        let connection = s.connections.fetch_add(1, Ordering::SeqCst) + 1;
                        let open = s.open.fetch_add(1, Ordering::SeqCst) + 1;
                        s.peak.fetch_max(open, Ordering::SeqCst);
                        thread::spawn(move || {
                            let _ = serve(stream, &s, connection);
                            s.open.fetch_sub(1, Ordering::SeqCst);
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

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once.
    pub fn peak_connections(&self) -> usize {
        self.state.peak.load(Ordering::SeqCst)
    }

    /// Transactions whose commands arrived pipelined (MAIL with RCPT after it in one read).
    pub fn pipelined(&self) -> usize {
        self.state.pipelined.load(Ordering::SeqCst)
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

/// A connection: what it reads, when that arrived, and its replies (sent no sooner than
/// the delay after the command they answer arrived).
struct Conn {
    reader: BufReader<TcpStream>,
    out: TcpStream,
    arrived: Instant,
    delay: Duration,
    /// Replies held while pipelined commands wait in the input.
    pending: Vec<u8>,
}

impl Conn {
    /// Reads one line (with its CRLF); 0 at the end of the stream.
    fn read_line(&mut self, line: &mut Vec<u8>) -> std::io::Result<usize> {
        let fresh = self.reader.buffer().is_empty();
        let n = self.reader.read_until(b'\n', line)?;
        if fresh {
            // Read from the socket now, not from what came with an earlier line.
            self.arrived = Instant::now();
        }
        Ok(n)
    }

    /// Whether more has arrived after the line just read (pipelined commands).
    fn more_buffered(&self) -> bool {
        !self.reader.buffer().is_empty()
    }

    /// Replies `text`, at once unless more commands wait (then with their replies).
    fn reply(&mut self, fault: Fault, text: &str) -> std::io::Result<()> {
        if let Fault::Slow(d) = fault {
            thread::sleep(d);
        }
        self.pending.extend_from_slice(text.as_bytes());
        if self.more_buffered() {
            return Ok(());
        }
        self.flush()
    }

    /// Sends the replies held, no sooner than the delay after their commands arrived.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let due = self.arrived + self.delay;
        let now = Instant::now();
        if due > now {
            thread::sleep(due - now);
        }
        let result = self
            .out
            .write_all(&self.pending)
            .and_then(|_| self.out.flush());
        self.pending.clear();
        result
    }

    /// Sends what is held, then closes the connection.
    fn hang_up(&mut self) {
        let _ = self.flush();
        let _ = self.out.shutdown(Shutdown::Both);
    }
}

/// One connection's dialogue. Returns when the client quits or the connection ends.
fn serve(stream: TcpStream, s: &State, connection: usize) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let out = stream.try_clone()?;
    let mut c = Conn {
        reader: BufReader::new(stream),
        out,
        arrived: Instant::now(),
        delay: s.options.delay,
        pending: Vec::new(),
    };
    let mut fault = Fault::None;
    let mut rcpt: Vec<String> = Vec::new();
    // Whether a MAIL was accepted (the transaction is open).
    let mut in_mail = false;
    let mut on_connection = 0;
    let ehlo = if s.options.pipelining {
        "250-fault.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 0\r\n"
    } else {
        "250-fault.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 0\r\n"
    };
    if s.options.refuse_from.is_some_and(|from| connection >= from) {
        let code = s.options.refuse_code;
        c.reply(fault, &format!("{code} fault.test: no service for you\r\n"))?;
        c.hang_up();
        return Ok(());
    }
    c.reply(fault, "220 fault.test ESMTP ready\r\n")?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if c.read_line(&mut line)? == 0 || s.dead.load(Ordering::SeqCst) {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let verb = text
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => c.reply(fault, ehlo)?,
            "HELO" => c.reply(fault, "250 fault.test\r\n")?,
            "MAIL" => {
                let n = s.transactions.fetch_add(1, Ordering::SeqCst) + 1;
                on_connection += 1;
                if c.more_buffered() {
                    s.pipelined.fetch_add(1, Ordering::SeqCst);
                }
                fault = (s.plan)(Txn {
                    n,
                    connection,
                    on_connection,
                });
                rcpt.clear();
                if fault != Fault::None {
                    s.applied.lock().unwrap().push((n, fault));
                }
                match fault {
                    Fault::Die => {
                        s.dead.store(true, Ordering::SeqCst);
                        c.hang_up();
                        return Ok(());
                    }
                    Fault::Reply(Stage::Mail, code) => {
                        c.reply(fault, &format!("{code} 4.3.0 MAIL refused (fault)\r\n"))?;
                        if code == 421 {
                            c.hang_up();
                            return Ok(());
                        }
                    }
                    _ => {
                        in_mail = true;
                        c.reply(fault, "250 2.1.0 Ok\r\n")?
                    }
                }
            }
            "RCPT" => {
                let address = text
                    .split_once('<')
                    .and_then(|(_, r)| r.split_once('>'))
                    .map(|(a, _)| a.to_string())
                    .unwrap_or_default();
                match fault {
                    _ if !in_mail => c.reply(fault, "503 5.5.1 Error: need MAIL command\r\n")?,
                    Fault::Reply(Stage::Rcpt, code) => {
                        c.reply(
                            fault,
                            &format!("{code} 5.1.1 <{address}>: refused (fault)\r\n"),
                        )?;
                        if code == 421 {
                            c.hang_up();
                            return Ok(());
                        }
                    }
                    _ => {
                        rcpt.push(address);
                        c.reply(fault, "250 2.1.5 Ok\r\n")?
                    }
                }
            }
            "DATA" => {
                match fault {
                    _ if !in_mail => {
                        c.reply(fault, "503 5.5.1 Error: need RCPT command\r\n")?;
                        continue;
                    }
                    _ if rcpt.is_empty() => {
                        c.reply(fault, "554 5.5.1 Error: no valid recipients\r\n")?;
                        continue;
                    }
                    Fault::DropBeforeData => {
                        c.hang_up();
                        return Ok(());
                    }
                    Fault::Reply(Stage::Data, code) => {
                        c.reply(fault, &format!("{code} 4.3.0 DATA refused (fault)\r\n"))?;
                        if code == 421 {
                            c.hang_up();
                            return Ok(());
                        }
                        continue;
                    }
                    _ => c.reply(fault, "354 End data with <CR><LF>.<CR><LF>\r\n")?,
                }
                let data = read_data(&mut c)?;
                in_mail = false;
                match fault {
                    Fault::Reply(Stage::Dot, code) => {
                        c.reply(fault, &format!("{code} 5.7.1 message refused (fault)\r\n"))?;
                        if code == 421 {
                            c.hang_up();
                            return Ok(());
                        }
                    }
                    Fault::DropAfterStore => {
                        store(s, connection, &rcpt, data, true);
                        c.hang_up();
                        return Ok(());
                    }
                    Fault::StallAfterStore(d) => {
                        store(s, connection, &rcpt, data, true);
                        thread::sleep(d);
                        // The client has given up by now; the reply goes nowhere.
                        let _ = c.reply(fault, "250 2.0.0 Ok: queued (late)\r\n");
                    }
                    _ => {
                        store(s, connection, &rcpt, data, false);
                        c.reply(fault, "250 2.0.0 Ok: queued\r\n")?
                    }
                }
                fault = Fault::None;
            }
            "RSET" => {
                rcpt.clear();
                in_mail = false;
                c.reply(fault, "250 2.0.0 Ok\r\n")?
            }
            "NOOP" => c.reply(fault, "250 2.0.0 Ok\r\n")?,
            "QUIT" => {
                let _ = c.reply(fault, "221 2.0.0 Bye\r\n");
                return Ok(());
            }
            _ => c.reply(fault, "500 5.5.2 unknown command\r\n")?,
        }
    }
}

/// The message after `354`, up to the `.` line, with dot-stuffing undone.
fn read_data(c: &mut Conn) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if c.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" {
            return Ok(data);
        }
        let body = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(body);
    }
}

fn store(s: &State, connection: usize, rcpt: &[String], data: Vec<u8>, unanswered: bool) {
    s.stored.lock().unwrap().push(Stored {
        rcpt: rcpt.to_vec(),
        data,
        connection,
    });
    if unanswered {
        s.unanswered.lock().unwrap().extend(rcpt.iter().cloned());
    }
}
