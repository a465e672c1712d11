//! One TLS connection, driven by one tokio task.
//!
//! Data flow:
//!
//! ```text
//!  JS write()  ──Command::Write──►  pending plaintext ──► rustls ──► socket
//!  JS 'data'   ◄──Event::Data────  batch of plaintext ◄── rustls ◄── socket
//! ```
//!
//! The task owns the rustls connection and the socket outright, so nothing
//! is locked on the data path. JavaScript and the task share only counters
//! ([`Shared`]):
//!
//! * reads stop while JS is paused (`paused`) or while more than
//!   [`IN_FLIGHT_MAX`] bytes are on their way to JS and not yet handed to it
//!   (`in_flight`, decremented on the JS thread as each batch arrives). That
//!   is the credit that bounds what a fast peer can make us buffer;
//! * writes are accepted without waiting for the socket while fewer than
//!   [`WRITE_HIGH`] bytes are queued (`queued`); above it JS holds the
//!   write callback until the task reports [`Event::Drain`].
//!
//! Events go to JS through one thread-safe function per connection, one call
//! per batch (never per record).

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, BufRead, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, Connection};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::Notify;

use crate::error::NodeError;
use crate::session::ConnStore;
use crate::sniff::{self, Sniff, Verdict};
use crate::transport::{Endpoints, Io, Transport};
use crate::verify::{self, Role, Trust, VerifyCode};

/// Most plaintext bytes delivered in one [`Event::Data`].
const READ_BATCH: usize = 256 * 1024;
/// Most bytes read from a socket in one system call.
const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    /// Each runtime thread's read buffer, shared by all its connections.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}
/// Largest write the JS thread encrypts and sends itself; larger ones go to
/// the connection's task, so bulk encryption stays off the JS thread.
const FAST_WRITE_MAX: usize = 16 * 1024;
/// Most plaintext bytes queued towards JS before the task stops reading.
pub const IN_FLIGHT_MAX: usize = 1024 * 1024;
/// Queued write bytes above which JS waits for [`Event::Drain`].
pub const WRITE_HIGH: usize = 256 * 1024;

/// What the task tells JavaScript, in order.
#[derive(Debug)]
pub enum Event {
    /// The transport is connected (client side).
    Connected(Endpoints),
    /// The handshake is complete.
    Secure(Box<SecureInfo>),
    /// Decrypted bytes, and where each TLS record's plaintext ends in
    /// them when there are several (empty: one record, or one chunk).
    Data(Vec<u8>, Vec<u32>),
    /// The peer finished sending (close_notify or end of stream).
    End,
    /// Our `end()` is done: close_notify sent and the socket half-closed.
    Finished,
    /// The write queue went below [`WRITE_HIGH`].
    Drain,
    /// A failure; [`Event::Close`] follows.
    Error(NodeError),
    /// The socket is closed; nothing follows.
    Close,
    /// JS-fed transport: ciphertext to write to the wrapped stream.
    Ciphertext(Vec<u8>),
    /// JS-fed transport: end the wrapped stream's writable side.
    ShutdownOut,
    /// JS-fed transport: the input queue drained; resume the wrapped stream.
    InputDrain,
    /// JS-fed transport, established: the task waits with nothing to do,
    /// having consumed this many input bytes and taken this many writes.
    /// JS, comparing with what it fed and wrote, knows whether the
    /// connection is idle, and then lets the process exit as Node would
    /// with a stream that has no handle.
    Idle(u64, u64),
    /// A key-log line (`'keylog'`).
    Keylog(Vec<u8>),
    /// Client: a new session (a session Buffer, see [`crate::session`]).
    Session(Vec<u8>),
    /// Server over a wrapped stream: `'newSession'` (id, data); answer with
    /// [`Shared::answer_session`].
    NewSession(Vec<u8>, Vec<u8>),
    /// Server over a wrapped stream: `'resumeSession'` (id); answer with
    /// [`Shared::answer_session`] and the data found.
    ResumeSession(Vec<u8>),
    /// Server over a wrapped stream: `SNICallback` is asked for this name.
    Sni(String),
    /// Server over a wrapped stream: `ALPNCallback` is asked to choose
    /// among the client's protocols (its ALPN list in wire format), the
    /// client having sent this SNI name.
    Alpn(Option<String>, Vec<u8>),
}

/// Facts about an established connection, for JS to build Node's view.
#[derive(Debug, Clone, Default)]
pub struct SecureInfo {
    /// `TLSv1.2` / `TLSv1.3`.
    pub protocol: Option<String>,
    /// The cipher suite's OpenSSL name (`getCipher().name`).
    pub cipher: Option<String>,
    /// The cipher suite's IANA name (`getCipher().standardName`).
    pub cipher_standard: Option<String>,
    /// The negotiated ALPN protocol.
    pub alpn: Option<String>,
    /// SNI the client sent (server side).
    pub servername: Option<String>,
    /// The key exchange group as `getEphemeralKeyInfo()` describes it:
    /// type, OpenSSL's name, size.
    pub group: Option<(&'static str, &'static str, Option<u32>)>,
    /// The peer's chain, leaf first, DER.
    pub peer_certs: Vec<Vec<u8>>,
    /// The chain's verification outcome; `None` means trusted.
    pub verify: Option<VerifyCode>,
    /// Client side: the names the server's certificate is for, when they
    /// could be read without Node's parser.
    pub host_names: Option<crate::x509::HostNames>,
    /// Socket addresses.
    pub endpoints: Endpoints,
    /// Key-log lines kept during a server's handshake.
    pub keylog: Vec<Vec<u8>>,
    /// Client with `requestOCSP`: the stapled response (empty when none).
    pub ocsp: Option<Vec<u8>>,
    /// The handshake resumed a session.
    pub resumed: bool,
    /// Client: the ticket offered, when the session was resumed.
    pub ticket: Option<Vec<u8>>,
}

/// Where JavaScript's events go.
pub type Sink = Arc<dyn Fn(Event) + Send + Sync>;

/// What JavaScript asks of the task.
#[derive(Debug)]
pub enum Command {
    /// Plaintext to send.
    Write(Vec<u8>),
    /// No more writes: send close_notify and half-close once all is sent.
    End,
    /// `setNoDelay`.
    NoDelay(bool),
    /// `setKeepAlive(enable, initialDelayMs)`.
    KeepAlive(bool, u32),
}

/// Counters shared between JavaScript and the task.
#[derive(Debug, Default)]
pub struct Shared {
    /// `enableTrace()` was called.
    trace_wanted: AtomicBool,
    /// The transport's [`Transport::trace_key`] plus one, once known.
    trace_key: AtomicUsize,
    /// JS asked to stop reading (`push()` returned false).
    pub paused: AtomicBool,
    /// Plaintext bytes sent to JS and not yet received there.
    pub in_flight: AtomicUsize,
    /// Plaintext bytes written by JS and not yet taken by rustls.
    pub queued: AtomicUsize,
    /// JS holds a write callback until the queue drains.
    pub want_drain: AtomicBool,
    /// `destroy()` was called.
    pub destroyed: AtomicBool,
    /// Client: the handshake's last flight (its Finished) waits until JS
    /// has judged the server ([`Shared::release`]).
    held: AtomicBool,
    /// `setMaxSendFragment()`: most plaintext bytes per record; 0 for 16 KiB.
    pub max_fragment: AtomicUsize,
    /// Writes and ends taken from the queue so far (JS counts those it
    /// made; equal counts in [`Event::Idle`] mean none is outstanding).
    pub taken: AtomicU64,
    /// Commands from JS not yet taken by the task (a plain queue: a channel
    /// would allocate a block per connection up front).
    commands: Mutex<VecDeque<Command>>,
    /// Wakes the task after any change above.
    pub wake: Notify,
    /// The established connection, once there is one (write fast path).
    live: OnceLock<Arc<LiveCell>>,
    /// Waits for JS's answer to a session cache question.
    session_answer: Mutex<Option<tokio::sync::oneshot::Sender<crate::server::SessionAnswer>>>,
    /// The JS thread may read this connection's socket itself once it is
    /// established (its event hub can poll; see `crate::poll`).
    pub inline_ok: AtomicBool,
    /// The JS thread's poll of the socket (used there only).
    pub poll: Mutex<PollSlot>,
    /// Polled connection kept open after a TLS failure: the JS thread saw
    /// the peer's end of stream ([`PEER_EOF`]) or a read failure
    /// ([`PEER_FAILED`]).
    pub peer_gone: AtomicU8,
}

/// [`Shared::peer_gone`]: end of stream.
pub const PEER_EOF: u8 = 1;
/// [`Shared::peer_gone`]: the read failed.
pub const PEER_FAILED: u8 = 2;

/// A polled connection's socket, as the JS thread's poll sees it.
#[derive(Debug, Default)]
pub struct PollSlot {
    /// The descriptor to poll, once the connection is established.
    pub fd: Option<std::os::fd::RawFd>,
    /// The poll's state (owned by `crate::poll`); 0 before it starts.
    pub state: usize,
    /// The socket, handed over by the finished task, closed on the JS
    /// thread once the poll has let go of its descriptor.
    pub closing: Option<std::os::fd::OwnedFd>,
    /// The poll was closed; it never starts again.
    pub closed: bool,
}

impl Shared {
    /// `enableTrace()`: the connection's records are traced from now on.
    pub fn want_trace(&self) {
        self.trace_wanted.store(true, Ordering::SeqCst);
        if let Some(key) = self.trace_key.load(Ordering::SeqCst).checked_sub(1) {
            crate::trace::enable(key);
        }
    }

    /// The connection's transport is `io`: traced if JS asked for it.
    pub fn bind_trace(&self, io: &Transport) {
        let key = io.trace_key();
        self.trace_key
            .store(key.saturating_add(1), Ordering::SeqCst);
        if self.trace_wanted.load(Ordering::SeqCst) {
            crate::trace::enable(key);
        }
    }

    /// Counts a JS write; true while JS may call its write callback at once.
    pub fn add_queued(&self, n: usize) -> bool {
        let now = self.queued.fetch_add(n, Ordering::SeqCst) + n;
        if now < WRITE_HIGH {
            return true;
        }
        self.want_drain.store(true, Ordering::SeqCst);
        // The task may have drained everything between the add and the
        // store; whoever clears the flag owns the wake-up.
        self.queued.load(Ordering::SeqCst) < WRITE_HIGH
            && self.want_drain.swap(false, Ordering::SeqCst)
    }

    /// JS received a batch of `n` bytes.
    pub fn consumed(&self, n: usize) {
        let before = self.in_flight.fetch_sub(n, Ordering::SeqCst);
        if before >= IN_FLIGHT_MAX && before - n < IN_FLIGHT_MAX {
            self.wake.notify_one();
        }
    }

    /// Pause or resume reading; true when this resumed a paused reader.
    pub fn set_paused(&self, paused: bool) -> bool {
        let resumed = self.paused.swap(paused, Ordering::SeqCst) && !paused;
        if resumed {
            self.wake.notify_one();
        }
        resumed
    }

    /// Queues a command for the task.
    pub fn send(&self, command: Command) {
        if let Ok(mut queue) = self.commands.lock() {
            queue.push_back(command);
        }
        self.wake.notify_one();
    }

    /// `setNoDelay()` / `setKeepAlive()`: applied by the JS thread at once
    /// when the connection is established and its task is not using it (as
    /// Node sets the option on its socket); otherwise queued for the task.
    /// An `https.Agent` calls `setKeepAlive()` each time it takes a socket
    /// back: queued, each request woke a TLS thread.
    pub fn socket_option(&self, command: Command) {
        let applied = self.try_live(|live| match command {
            Command::NoDelay(on) => {
                let _ = live.session.io.set_nodelay(on);
                true
            }
            Command::KeepAlive(on, delay) => {
                let _ = live.session.io.set_keepalive(on, delay);
                true
            }
            _ => false,
        });
        if applied != Some(true) {
            self.send(command);
        }
    }

    /// Runs `f` on the established connection from the JS thread, when
    /// there is one and its task is not using it; `None` otherwise.
    fn try_live<R>(&self, f: impl FnOnce(&mut Live) -> R) -> Option<R> {
        let mut guard = self.live.get()?.try_lock().ok()?;
        guard.as_mut().map(f)
    }

    /// The established connection, for the JS thread's reads.
    pub fn live_cell(&self) -> Option<&Arc<LiveCell>> {
        self.live.get()
    }

    fn commands_empty(&self) -> bool {
        self.commands.lock().is_ok_and(|queue| queue.is_empty())
    }

    /// Writes `data` from the JS thread at once, when the connection is
    /// established, nothing written earlier is still queued and the task is
    /// not busy with it: small writes then cost no thread crossing. `None`
    /// when not taken (then queue it with [`Command::Write`]); otherwise
    /// what [`Shared::add_queued`] would say.
    pub fn write_now(&self, data: &[u8]) -> Option<bool> {
        if data.is_empty() || data.len() > FAST_WRITE_MAX {
            return None;
        }
        self.try_live(|live| live.write_now(data, self)).flatten()
    }

    /// `end()` done at once by the JS thread, as Node shuts its socket down:
    /// close_notify and FIN are sent now when the connection is established,
    /// nothing written before is still queued and the socket takes them.
    /// False when not done (then queue [`Command::End`]); the task, woken,
    /// finds the connection ended and closes it if the peer's side is done.
    pub fn end_now(&self) -> bool {
        let ended = self.try_live(|live| live.end_now(self)) == Some(true);
        if ended {
            self.wake.notify_one();
        }
        ended
    }

    /// `exportKeyingMaterial()` on the established connection; `None` when
    /// there is none (not yet, or closed).
    pub fn export_keying_material(
        &self,
        length: usize,
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Option<Result<Vec<u8>, NodeError>> {
        let cell = self.live.get()?;
        let guard = lock(cell);
        guard
            .as_ref()
            .map(|live| live.session.export(length, label, context))
    }

    fn take_commands(&self) -> VecDeque<Command> {
        self.commands
            .lock()
            .map(|mut queue| std::mem::take(&mut *queue))
            .unwrap_or_default()
    }

    /// JavaScript's answer to [`Event::NewSession`] / [`Event::ResumeSession`].
    pub fn answer_session(&self, data: crate::server::SessionAnswer) {
        let waiting = self.session_answer.lock().ok().and_then(|mut a| a.take());
        if let Some(tx) = waiting {
            let _ = tx.send(data);
        }
    }

    /// Asks JavaScript a session cache question and waits for the answer.
    fn ask_session(
        &self,
        sink: &Sink,
        question: crate::server::SessionAsk,
    ) -> impl std::future::Future<Output = crate::server::SessionAnswer> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Ok(mut answer) = self.session_answer.lock() {
            *answer = Some(tx);
        }
        sink(match question {
            crate::server::SessionAsk::Resume(id) => Event::ResumeSession(id),
            crate::server::SessionAsk::New(id, data) => Event::NewSession(id, data),
        });
        async move { rx.await.unwrap_or(Ok(None)) }
    }

    /// The task is gone without closing (it panicked): drops the
    /// established connection, which closes its socket, as the end of
    /// [`serve`] would have.
    pub fn abandon(&self) {
        if let Some(cell) = self.live.get() {
            drop(lock(cell).take());
        }
    }

    /// Ask the task to close the socket now.
    pub fn destroy(&self) {
        self.destroyed.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// JS has run its `'secureConnect'` listeners: the client's last flight
    /// may go.
    pub fn release(&self) {
        if self.held.swap(false, Ordering::SeqCst) {
            self.wake.notify_one();
        }
    }

    fn can_read(&self) -> bool {
        !self.paused.load(Ordering::SeqCst) && self.in_flight.load(Ordering::SeqCst) < IN_FLIGHT_MAX
    }
}

/// Decrements a server's count of live connections when dropped.
#[derive(Debug)]
pub struct LiveGuard(pub Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A TLS connection over a transport, before or after its handshake.
#[derive(Debug)]
pub struct Session {
    tls: Connection,
    /// Shared with the task's readiness waits while the session is live.
    io: Arc<Transport>,
    /// What the peer's chain is judged against.
    trust: Trust,
    /// Whose chain the peer sends.
    peer_role: Role,
    /// Server side: only judge the client's chain when one was asked for.
    judge_peer: bool,
    /// Keeps the owning server's connection count.
    _live: Option<LiveGuard>,
    /// The runtime whose reactor the socket is registered with, which must
    /// also serve it.
    home: Option<tokio::runtime::Handle>,
    /// Key-log lines kept until the handshake is reported.
    keylog: Option<Arc<crate::keylog::KeyLines>>,
    /// Client with `requestOCSP`: where the stapled response is left.
    ocsp: Option<crate::ocsp::ResponseSlot>,
    /// Server side: the client's first bytes, judged by [`sniff::judge`]
    /// before rustls parses them, and kept for the ClientHello's version.
    head: Option<Vec<u8>>,
    /// The first bytes were judged to be TLS.
    judged: bool,
    /// Server: an IP address the client sent as its SNI name.
    ip_name: Option<String>,
    /// Client: the session store, which knows the ticket offered.
    store: Option<Arc<ConnStore>>,
    /// Record boundaries in what [`Session::read_into`] feeds rustls.
    frame: RecordFrame,
}

/// Where TLS records end in the bytes read after the handshake: reads hand
/// rustls one record at a time, so that a session ticket is reported where
/// it came among the data (`crate::poll`), as OpenSSL reads records.
#[derive(Debug, Default)]
struct RecordFrame {
    header: [u8; 5],
    have: usize,
    body_left: usize,
}

impl RecordFrame {
    /// How many of `input`'s first bytes end the current record (all of
    /// them when it does not end there).
    fn take(&mut self, input: &[u8]) -> usize {
        let mut used = 0;
        loop {
            if self.body_left > 0 {
                let n = self.body_left.min(input.len() - used);
                self.body_left -= n;
                return used + n;
            }
            if used == input.len() {
                return used;
            }
            let n = (5 - self.have).min(input.len() - used);
            self.header[self.have..self.have + n].copy_from_slice(&input[used..used + n]);
            self.have += n;
            used += n;
            if self.have < 5 {
                return used;
            }
            self.have = 0;
            self.body_left = usize::from(u16::from_be_bytes([self.header[3], self.header[4]]));
            if self.body_left == 0 {
                return used;
            }
        }
    }
}

fn is_would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl Session {
    /// A server-side session on an accepted socket or a wrapped stream.
    pub fn server(
        tls: rustls::ServerConnection,
        io: Transport,
        trust: Trust,
        request_cert: bool,
        live: Option<LiveGuard>,
    ) -> Self {
        Self {
            tls: tls.into(),
            io: Arc::new(io),
            trust,
            peer_role: Role::Client,
            judge_peer: request_cert,
            _live: live,
            home: tokio::runtime::Handle::try_current().ok(),
            head: Some(Vec::new()),
            judged: false,
            ip_name: None,
            store: None,
            frame: RecordFrame::default(),
            keylog: None,
            ocsp: None,
        }
    }

    /// Server side: the SNI name the client sent.
    pub fn sni_name(&self) -> Option<&str> {
        match &self.tls {
            Connection::Server(s) => s.server_name().or(self.ip_name.as_deref()),
            Connection::Client(_) => None,
        }
    }

    /// Judges the peer's chain against `trust` instead.
    pub fn set_trust(&mut self, trust: Trust) {
        self.trust = trust;
    }

    /// Reports the stapled OCSP response left in `slot` with the handshake.
    pub fn keep_ocsp(&mut self, slot: crate::ocsp::ResponseSlot) {
        self.ocsp = Some(slot);
    }

    /// Keeps `lines` (the connection's key logger) to report with the
    /// handshake.
    pub fn keep_keylog(&mut self, lines: Arc<crate::keylog::KeyLines>) {
        self.keylog = Some(lines);
    }

    /// A client-side session; `store` is the one its configuration uses.
    pub fn client(
        tls: ClientConnection,
        io: Transport,
        trust: Trust,
        store: Option<Arc<ConnStore>>,
    ) -> Self {
        Self {
            tls: tls.into(),
            io: Arc::new(io),
            trust,
            peer_role: Role::Server,
            judge_peer: true,
            _live: None,
            home: tokio::runtime::Handle::try_current().ok(),
            keylog: None,
            ocsp: None,
            head: None,
            judged: true,
            ip_name: None,
            store,
            frame: RecordFrame::default(),
        }
    }

    /// Feeds bytes already read from the transport (a ClientHello looked
    /// at before the handshake) to rustls.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), NodeError> {
        while !bytes.is_empty() {
            self.read_tls_from(&mut bytes)
                .map_err(|e| NodeError::io(&e, "read"))?;
            self.judge_head()?;
            self.process()?;
        }
        Ok(())
    }

    /// Reads TLS input from `inner`; a server keeps the first bytes (the
    /// ClientHello) in `head` while the handshake lasts.
    fn read_tls_from(&mut self, mut inner: impl Read) -> io::Result<usize> {
        match self.head.as_mut() {
            Some(head) => self.tls.read_tls(&mut Sniff {
                inner,
                head,
                keep: sniff::HELLO,
            }),
            None => self.tls.read_tls(&mut inner),
        }
    }

    /// A server's first bytes: refused at once when they are not TLS.
    fn judge_head(&mut self) -> Result<(), NodeError> {
        if let Some(head) = self.head.as_ref().filter(|_| !self.judged) {
            match sniff::judge(head) {
                Verdict::NeedMore => {}
                Verdict::Tls => self.judged = true,
                Verdict::NotTls(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The handshake is over: a server reads from the ClientHello kept the
    /// IP address rustls does not report as the SNI name, and lets it go.
    fn hello_done(&mut self) {
        if let (Connection::Server(s), Some(head)) = (&self.tls, self.head.take()) {
            if self.ip_name.is_none() && s.server_name().is_none() {
                self.ip_name = sniff::ip_server_name(&head);
            }
        }
    }

    /// Server: the client's SNI name is this IP address (read from its
    /// ClientHello, which rustls does not report).
    pub fn set_ip_name(&mut self, name: Option<String>) {
        self.ip_name = name;
    }

    /// The runtime that must serve this session, when it is bound to one.
    pub fn home(&self) -> Option<&tokio::runtime::Handle> {
        self.home.as_ref()
    }

    /// Runs the handshake to completion. The last flight (a TLS 1.2
    /// server's Finished, a TLS 1.3 server's tickets) stays queued, to go
    /// out with the connection's first writes: as in Node, a server's
    /// program hears of the connection before its peer can (a client's
    /// `'session'` never comes before the server's `'secureConnection'`).
    pub async fn handshake(&mut self) -> Result<(), NodeError> {
        loop {
            if !self.tls.is_handshaking() {
                self.hello_done();
                return Ok(());
            }
            self.flush().await?;
            self.io
                .readable()
                .await
                .map_err(|e| NodeError::io(&e, "read"))?;
            let io = self.io.clone();
            match self.read_tls_from(Io(&io)) {
                Ok(0) => return Err(NodeError::disconnected_before_secure()),
                Ok(_) => {
                    self.judge_head()?;
                    self.process()?
                }
                Err(e) if is_would_block(&e) => {}
                // A reset is `read ECONNRESET`, as Node reports it; only a
                // clean end of stream is "disconnected before secure".
                Err(e) => return Err(NodeError::io(&e, "read")),
            }
        }
    }

    /// Processes received records; on a TLS error, tries to tell the peer.
    fn process(&mut self) -> Result<(), NodeError> {
        // A server still reading its client's hello: an IP address sent as
        // the SNI name reaches the certificate resolver (addContext()).
        let ip = match (&self.tls, self.head.as_deref()) {
            (Connection::Server(s), Some(head)) if s.server_name().is_none() => {
                sniff::ip_server_name(head)
            }
            _ => None,
        };
        let processed = crate::context::with_hello_ip(ip, || self.tls.process_new_packets());
        if let Err(err) = processed {
            if let Connection::Server(_) = &self.tls {
                let head = self.head.as_deref().unwrap_or_default();
                let version = self.tls.protocol_version();
                if let Some(e) = crate::refusal::refuse(&err, head, version, &self.io) {
                    return Err(e);
                }
            }
            while self.tls.wants_write() {
                if self.tls.write_tls(&mut Io(&self.io)).is_err() {
                    break;
                }
            }
            return Err(NodeError::from(&err));
        }
        Ok(())
    }

    /// Writes all pending TLS output, waiting for the socket as needed.
    async fn flush(&mut self) -> Result<(), NodeError> {
        loop {
            self.flush_ready()?;
            if !self.tls.wants_write() {
                return Ok(());
            }
            self.io
                .writable()
                .await
                .map_err(|e| NodeError::io(&e, "write"))?;
        }
    }

    /// Writes TLS output until done or the socket is full.
    fn flush_ready(&mut self) -> Result<(), NodeError> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut Io(&self.io)) {
                Ok(_) => {}
                Err(e) if is_would_block(&e) => break,
                Err(e) => return Err(NodeError::io(&e, "write")),
            }
        }
        Ok(())
    }

    /// Facts about the finished handshake, the peer's chain judged.
    pub fn secure_info(&self) -> SecureInfo {
        let chain = self.tls.peer_certificates().unwrap_or_default();
        let algs = self.trust.algorithms();
        let verify = self
            .judge_peer
            .then(|| verify::verify_chain(&self.trust, chain, self.peer_role, &algs))
            .flatten();
        let servername = self.sni_name().map(str::to_owned);
        let resumed = self.tls.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        if let Some(store) = &self.store {
            store.handshake_done(resumed);
        }
        SecureInfo {
            protocol: self.tls.protocol_version().map(|v| match v {
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
                other => format!("{other:?}"),
            }),
            cipher: self
                .tls
                .negotiated_cipher_suite()
                .map(|s| crate::names::openssl_name(s.suite()).to_owned()),
            cipher_standard: self
                .tls
                .negotiated_cipher_suite()
                .map(|s| crate::names::standard_name(s.suite())),
            alpn: self
                .tls
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            servername,
            group: self
                .tls
                .negotiated_key_exchange_group()
                .and_then(|g| crate::suites::group_info(g.name())),
            peer_certs: chain.iter().map(|c| c.as_ref().to_vec()).collect(),
            host_names: match (self.peer_role, chain.first()) {
                (Role::Server, Some(leaf)) => {
                    crate::x509::Cert::parse(leaf).and_then(|c| c.host_names())
                }
                _ => None,
            },
            verify,
            endpoints: self.io.endpoints(),
            keylog: self.keylog.as_ref().map(|k| k.take()).unwrap_or_default(),
            ocsp: self.ocsp.as_ref().map(|slot| {
                slot.lock()
                    .ok()
                    .and_then(|mut s| s.take())
                    .unwrap_or_default()
            }),
            resumed,
            ticket: self
                .store
                .as_ref()
                .filter(|_| resumed)
                .and_then(|s| s.offered_ticket()),
        }
    }

    /// RFC 5705 / 8446 keying material (`exportKeyingMaterial`).
    fn export(
        &self,
        length: usize,
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<Vec<u8>, NodeError> {
        self.tls
            .export_keying_material(vec![0; length], label, context)
            .map_err(|e| NodeError::from(&e))
    }

    /// Moves decrypted bytes into `batch`, noting in `ends` where each
    /// record's plaintext ends (rustls keeps one chunk per record); true
    /// once the peer's stream ended.
    fn take_plaintext(
        &mut self,
        batch: &mut Vec<u8>,
        ends: &mut Vec<u32>,
    ) -> Result<bool, NodeError> {
        loop {
            let mut reader = self.tls.reader();
            match reader.fill_buf() {
                // No chunk left and the peer's close_notify came.
                Ok([]) => return Ok(true),
                Ok(chunk) => {
                    let n = chunk.len();
                    batch.extend_from_slice(chunk);
                    reader.consume(n);
                    record_end(ends, batch.len());
                }
                Err(e) if is_would_block(&e) => return Ok(false),
                // End of stream without close_notify: Node reports a plain 'end'.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(true),
                Err(e) => return Err(NodeError::io(&e, "read")),
            }
        }
    }

    /// Reads what the socket has (up to a batch): the plaintext, and true once
    /// the peer ended.
    ///
    /// One system call reads up to [`READ_CHUNK`] bytes into a per-thread
    /// scratch buffer (rustls alone would read 4 KiB at a time), which rustls
    /// then takes from memory; idle connections hold no read buffer.
    fn read_ready(&mut self, ends: &mut Vec<u32>) -> (Vec<u8>, Result<bool, NodeError>) {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            if scratch.is_empty() {
                scratch.resize(READ_CHUNK, 0);
            }
            let mut batch = Vec::new();
            let result = self.read_into(&mut scratch, &mut batch, ends);
            (batch, result)
        })
    }

    /// Reads and decrypts into `batch`; `ends` gets the end of each
    /// record's plaintext in `batch` (Node emits one `'data'` per record:
    /// OpenSSL's `SSL_read` returns one record at a time).
    fn read_into(
        &mut self,
        scratch: &mut [u8],
        batch: &mut Vec<u8>,
        ends: &mut Vec<u32>,
    ) -> Result<bool, NodeError> {
        loop {
            let n = match self.io.try_read(scratch) {
                Ok(n) => n,
                Err(e) if is_would_block(&e) => return Ok(false),
                Err(e) => return Err(NodeError::io(&e, "read")),
            };
            // Plaintext is never longer than the records it came in.
            batch.reserve(n);
            let mut input = &scratch[..n];
            if n == 0 {
                // Let rustls see the end of stream: it then tells a clean
                // close (close_notify) from a truncated one.
                let _ = self.tls.read_tls(&mut input);
            }
            while !input.is_empty() {
                let (mut record, rest) = input.split_at(self.frame.take(input));
                input = rest;
                while !record.is_empty() {
                    self.tls
                        .read_tls(&mut record)
                        .map_err(|e| NodeError::io(&e, "read"))?;
                    crate::poll::read_position(batch.len());
                    self.process()?;
                    if self.take_plaintext(batch, ends)? {
                        return Ok(true);
                    }
                }
            }
            if n == 0 {
                self.process()?;
                self.take_plaintext(batch, ends)?;
                return Ok(true);
            }
            if batch.len() >= READ_BATCH {
                return Ok(false);
            }
        }
    }
}

/// Notes that a record's plaintext (if it had any) ends at `at` in the
/// batch.
fn record_end(ends: &mut Vec<u32>, at: usize) {
    let at = u32::try_from(at).unwrap_or(u32::MAX);
    if at > 0 && ends.last() != Some(&at) {
        ends.push(at);
    }
}

/// The record ends worth telling JS: none when the batch is one record.
fn several(mut ends: Vec<u32>) -> Vec<u32> {
    if ends.len() <= 1 {
        ends.clear();
        ends.shrink_to_fit();
    }
    ends
}

/// An established connection, shared by its task and (for the write fast
/// path) the JS thread, which take turns through [`LiveCell`].
#[derive(Debug)]
pub struct Live {
    session: Session,
    /// Plaintext written by JS and not yet taken by rustls, in order.
    pending: VecDeque<Vec<u8>>,
    /// How much of `pending`'s front rustls has taken.
    offset: usize,
    /// `end()` was called.
    ending: bool,
    close_sent: bool,
    write_done: bool,
    read_done: bool,
    /// Polled: the JS thread's read failed; the task reports it.
    read_error: Option<NodeError>,
    /// Polled: after a TLS failure the connection is kept open, its input
    /// discarded.
    read_failed: bool,
}

/// What the JS thread's read of a polled connection found.
#[derive(Debug)]
pub enum PollRead {
    /// Plaintext (maybe none), where its records end (see [`Event::Data`]),
    /// and whether the peer's stream ended.
    Data(Vec<u8>, Vec<u32>, bool),
    /// The read failed after this plaintext; the task, woken, reports it.
    /// True when the connection stays open (input is discarded from now on).
    Failed(Vec<u8>, Vec<u32>, bool),
    /// Kept open after a failure: the peer ended or the read failed
    /// ([`Shared::peer_gone`] says which; the task, woken, reports it).
    PeerGone,
    /// Nothing more is read on this connection.
    Stop,
}

/// Where an established connection lives; `None` once it is closed.
pub type LiveCell = Mutex<Option<Live>>;

/// What the task waits for next.
enum Next {
    /// Both directions are closed.
    Done,
    /// Readiness to wait for (besides commands).
    Wait { read: bool, write: bool },
}

fn lock(cell: &LiveCell) -> MutexGuard<'_, Option<Live>> {
    cell.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Live {
    fn new(session: Session) -> Self {
        Self {
            session,
            pending: VecDeque::new(),
            offset: 0,
            ending: false,
            close_sent: false,
            write_done: false,
            read_done: false,
            read_error: None,
            read_failed: false,
        }
    }

    /// The JS thread's read failed in a way of its own (a panic caught
    /// there, or its poll could not start): the task reports `error`, and
    /// nothing more is read.
    pub fn fail_read(&mut self, error: NodeError) {
        self.read_failed = false;
        self.read_error = Some(error);
    }

    /// The JS thread's read of a polled connection: what rustls holds from
    /// the handshake first, then what the socket has.
    pub fn poll_read(&mut self, shared: &Shared) -> PollRead {
        if self.read_failed {
            let mut scratch = [0u8; 4096];
            loop {
                match self.session.io.try_read(&mut scratch) {
                    Ok(0) => {
                        shared.peer_gone.store(PEER_EOF, Ordering::SeqCst);
                        return PollRead::PeerGone;
                    }
                    Ok(_) => {}
                    Err(e) if is_would_block(&e) => {
                        return PollRead::Data(Vec::new(), Vec::new(), false)
                    }
                    Err(_) => {
                        shared.peer_gone.store(PEER_FAILED, Ordering::SeqCst);
                        return PollRead::PeerGone;
                    }
                }
            }
        }
        if self.read_done || self.read_error.is_some() {
            return PollRead::Stop;
        }
        let mut first = Vec::new();
        let mut ends = Vec::new();
        let result = match self.session.take_plaintext(&mut first, &mut ends) {
            Ok(false) => {
                crate::poll::read_base(first.len());
                let base = u32::try_from(first.len()).unwrap_or(u32::MAX);
                let mut more = Vec::new();
                let (batch, result) = self.session.read_ready(&mut more);
                ends.extend(more.into_iter().map(|e| e.saturating_add(base)));
                if first.is_empty() {
                    first = batch;
                } else {
                    first.extend_from_slice(&batch);
                }
                result
            }
            other => other,
        };
        let ends = several(ends);
        match result {
            Ok(ended) => {
                self.read_done = ended;
                PollRead::Data(first, ends, ended)
            }
            Err(e) => {
                let keep_open = e.reason.is_some() && e.syscall.is_none();
                self.read_failed = keep_open;
                self.read_error = Some(e);
                PollRead::Failed(first, ends, keep_open)
            }
        }
    }

    /// Takes JS's commands, moves plaintext into rustls and records to the
    /// socket as far as it takes them, and says what to wait for.
    fn step(&mut self, shared: &Shared, sink: &Sink) -> Result<Next, NodeError> {
        if let Some(e) = self.read_error.take() {
            return Err(e);
        }
        for command in shared.take_commands() {
            match command {
                Command::Write(buf) => {
                    shared.taken.fetch_add(1, Ordering::SeqCst);
                    if !buf.is_empty() {
                        self.pending.push_back(buf);
                    }
                }
                Command::End => {
                    shared.taken.fetch_add(1, Ordering::SeqCst);
                    self.ending = true;
                }
                Command::NoDelay(on) => {
                    let _ = self.session.io.set_nodelay(on);
                }
                Command::KeepAlive(on, delay) => {
                    let _ = self.session.io.set_keepalive(on, delay);
                }
            }
        }
        // Plaintext into rustls and records out, until the queue is empty or
        // the transport is full (rustls holds at most its buffer limit).
        loop {
            let fragment = match shared.max_fragment.load(Ordering::Relaxed) {
                0 => usize::MAX,
                n => n,
            };
            while let Some(front) = self.pending.front() {
                // Each write of at most `fragment` bytes becomes records of at
                // most that size.
                let end = front.len().min(self.offset.saturating_add(fragment));
                let n = self
                    .session
                    .tls
                    .writer()
                    .write(&front[self.offset..end])
                    .map_err(|e| NodeError::io(&e, "write"))?;
                if n == 0 {
                    break;
                }
                self.offset += n;
                shared.queued.fetch_sub(n, Ordering::SeqCst);
                if self.offset == front.len() {
                    self.pending.pop_front();
                    self.offset = 0;
                }
            }
            if self.ending && self.pending.is_empty() && !self.close_sent {
                self.session.tls.send_close_notify();
                self.close_sent = true;
            }
            match self.session.flush_ready() {
                Ok(()) => {}
                // Only close_notify was left to send, and the peer had already
                // finished its side and gone: the close is done, as Node
                // ignores errors of its shutdown. (With the peer's side still
                // open, the failure is a reset, reported below.)
                Err(_) if self.close_sent && self.read_done => {
                    sink(Event::Finished);
                    return Ok(Next::Done);
                }
                Err(e) => return Err(e),
            }
            if self.pending.is_empty() || self.session.tls.wants_write() {
                break;
            }
        }
        if shared.queued.load(Ordering::SeqCst) < WRITE_HIGH
            && shared.want_drain.swap(false, Ordering::SeqCst)
        {
            sink(Event::Drain);
        }
        if self.close_sent && !self.write_done && !self.session.tls.wants_write() {
            // The peer may already have closed: a failed FIN is no news.
            let _ = self.session.io.shutdown_write();
            self.write_done = true;
            sink(Event::Finished);
        }
        if self.write_done && self.read_done {
            return Ok(Next::Done);
        }
        Ok(Next::Wait {
            read: !self.read_done && shared.can_read(),
            write: self.session.tls.wants_write(),
        })
    }

    /// The socket is readable: read and decrypt. The plaintext, and whether
    /// the peer's stream ended, are for the caller to deliver once it has
    /// let go of the cell (JS may answer at once, and write directly).
    fn on_readable(&mut self) -> (Vec<u8>, Vec<u32>, Result<bool, NodeError>) {
        let mut ends = Vec::new();
        let (batch, result) = self.session.read_ready(&mut ends);
        if matches!(result, Ok(true)) {
            self.read_done = true;
        }
        (batch, several(ends), result)
    }

    /// Whether the JS thread must leave its write or `end()` to the task:
    /// something JS did before is still queued (the order of bytes is
    /// kept), the transport is a wrapped stream, or the socket is going.
    fn queued_ahead(&self, shared: &Shared) -> bool {
        self.ending
            || !self.pending.is_empty()
            || matches!(*self.session.io, Transport::Js(_))
            || shared.destroyed.load(Ordering::SeqCst)
            || !shared.commands_empty()
    }

    /// The JS thread's `end()` ([`Shared::end_now`]).
    fn end_now(&mut self, shared: &Shared) -> bool {
        if self.queued_ahead(shared) {
            return false;
        }
        self.ending = true;
        self.session.tls.send_close_notify();
        self.close_sent = true;
        // A failure or a full socket is the task's to report or finish.
        if self.session.flush_ready().is_err() || self.session.tls.wants_write() {
            shared.wake.notify_one();
            return false;
        }
        // The peer may already have closed: a failed FIN is no news.
        let _ = self.session.io.shutdown_write();
        self.write_done = true;
        true
    }

    /// The JS thread's write: encrypts `data` and writes the records to the
    /// socket at once. Only when nothing JS wrote before is still queued, so
    /// the order of bytes is kept; the caller holds the cell, so the task is
    /// not using the connection meanwhile.
    fn write_now(&mut self, data: &[u8], shared: &Shared) -> Option<bool> {
        // setMaxSendFragment(): records are cut by the task.
        if self.queued_ahead(shared) || shared.max_fragment.load(Ordering::Relaxed) != 0 {
            return None;
        }
        let n = self.session.tls.writer().write(data).ok()?;
        let mut ok = true;
        if n < data.len() {
            // rustls holds its buffer limit; the rest waits for the task.
            ok = shared.add_queued(data.len() - n);
            self.pending.push_back(data[n..].to_vec());
        }
        // A failure is found again, and reported, by the task's next write.
        let _ = self.session.flush_ready();
        if self.session.tls.wants_write() || !self.pending.is_empty() {
            shared.wake.notify_one();
        }
        Some(ok)
    }
}

/// Sends a batch of plaintext to JS, counting it against the read credit.
fn deliver(batch: Vec<u8>, ends: Vec<u32>, shared: &Shared, sink: &Sink) {
    crate::contain::inject(&batch);
    if !batch.is_empty() {
        shared.in_flight.fetch_add(batch.len(), Ordering::SeqCst);
        sink(Event::Data(batch, ends));
    }
}

/// The established connection's life: moves bytes both ways until both
/// directions are closed, `destroy()` is called, or an error occurs.
async fn pump(
    cell: &LiveCell,
    io: &Transport,
    shared: &Shared,
    sink: &Sink,
) -> Result<(), NodeError> {
    // What came in with the handshake's last records, delivered (as all
    // reads are) once the cell is free again.
    let mut first = Vec::new();
    let mut ends = Vec::new();
    let ended = match lock(cell).as_mut() {
        // Polled: the JS thread's first read takes it.
        Some(_) if io.is_polled() => false,
        Some(live) => {
            live.read_done = live.session.take_plaintext(&mut first, &mut ends)?;
            live.read_done
        }
        None => return Ok(()),
    };
    deliver(first, several(ends), shared, sink);
    if ended {
        sink(Event::End);
    }
    // Node's client sends its Finished after the 'secureConnect' listeners
    // ran: a client that rejects the server (or destroys) never completes
    // the handshake for it, and the server sees a hang-up, not a connection.
    while shared.held.load(Ordering::SeqCst) {
        if shared.destroyed.load(Ordering::SeqCst) {
            return Ok(());
        }
        shared.wake.notified().await;
    }
    let mut last_idle = None;
    if let Transport::Js(pipe) = io {
        pipe.go_live();
    }
    loop {
        if shared.destroyed.load(Ordering::SeqCst) {
            // What JS wrote before destroy() still goes out as far as the
            // socket takes it now, without waiting: Node's writes reach the
            // kernel at once, and its destroy() drops only what could not.
            if let Some(live) = lock(cell).as_mut() {
                let _ = live.step(shared, sink);
            }
            return Ok(());
        }
        let next = match lock(cell).as_mut() {
            Some(live) => live.step(shared, sink)?,
            None => Next::Done,
        };
        let Next::Wait { read, write } = next else {
            return Ok(());
        };
        if let Transport::Js(pipe) = io {
            // Idle: no input queued, no command waiting, no plaintext left
            // to encrypt and no record left to send. Anything else is work
            // the process must stay alive for; reported again each time the
            // connection comes back to rest.
            let unsent = write || lock(cell).as_ref().is_some_and(|l| !l.pending.is_empty());
            let reader_done = lock(cell).as_ref().is_none_or(|l| l.read_done);
            match pipe.idle_consumed(reader_done) {
                Some(consumed) if !unsent && shared.commands_empty() => {
                    let mark = (consumed, shared.taken.load(Ordering::SeqCst));
                    if last_idle != Some(mark) {
                        last_idle = Some(mark);
                        sink(Event::Idle(mark.0, mark.1));
                    }
                }
                _ => last_idle = None,
            }
        }
        tokio::select! {
            biased;
            r = io.readable(), if read => {
                r.map_err(|e| NodeError::io(&e, "read"))?;
                let read = lock(cell).as_mut().map(Live::on_readable);
                if let Some((batch, ends, result)) = read {
                    deliver(batch, ends, shared, sink);
                    if result? {
                        sink(Event::End);
                    }
                }
            }
            r = io.writable(), if write => {
                r.map_err(|e| NodeError::io(&e, "write"))?;
            }
            () = shared.wake.notified() => {}
        }
    }
}

/// Makes `session` the connection's live state, which JS may now write to
/// directly; returns it and the transport, for [`serve`].
///
/// A socket's connection whose JS thread can poll (`crate::poll`) becomes
/// [`Transport::Polled`], registered with the runtime of `session`'s home
/// (or the caller's) for writes only; its reads are the JS thread's.
pub fn go_live(
    mut session: Session,
    shared: &Shared,
) -> io::Result<(Arc<LiveCell>, Arc<Transport>)> {
    let runtime = session
        .home
        .clone()
        .or_else(|| tokio::runtime::Handle::try_current().ok());
    if let (true, Some(runtime)) = (shared.inline_ok.load(Ordering::SeqCst), runtime) {
        let io = session.io;
        session.io = match Arc::try_unwrap(io) {
            Ok(transport) => {
                let _enter = runtime.enter();
                let (transport, fd) = transport.into_polled()?;
                if let Ok(mut slot) = shared.poll.lock() {
                    slot.fd = fd;
                }
                Arc::new(transport)
            }
            Err(io) => io,
        };
    }
    let io = session.io.clone();
    let cell = Arc::new(Mutex::new(Some(Live::new(session))));
    let _ = shared.live.set(cell.clone());
    Ok((cell, io))
}

/// Runs an established connection until it closes, then reports `Close`;
/// `secure`, when given, is reported first.
///
/// The session lives in `cell`, not in this future, so that it is held
/// once per connection.
pub async fn serve(
    cell: Arc<LiveCell>,
    io: Arc<Transport>,
    shared: Arc<Shared>,
    sink: Sink,
    secure: Option<Box<SecureInfo>>,
) {
    shared.bind_trace(&io);
    if let Some(info) = secure {
        sink(Event::Secure(info));
    }
    if let Err(e) = pump(&cell, &io, &shared, &sink).await {
        // A TLS failure on an established connection leaves Node's socket
        // open (its 'error' is emitted without destroy()): the socket is
        // kept until JS destroys it.
        let keep_open = e.reason.is_some() && e.syscall.is_none();
        sink(Event::Error(e));
        if keep_open {
            // Boxed: its read buffer is not carried by every connection.
            Box::pin(kept_open(&io, &shared, &sink)).await;
        }
    }
    io.discard_input();
    // Its descriptor may be reused by another connection once closed.
    crate::trace::disable(io.trace_key());
    // The socket closes with the last reference: the session's and `io`.
    drop(lock(&cell).take());
    if io.is_polled() {
        // The JS thread closes it, after its poll lets go of the descriptor.
        if let Some(fd) = Arc::try_unwrap(io).ok().and_then(Transport::into_polled_fd) {
            if let Ok(mut slot) = shared.poll.lock() {
                slot.closing = Some(fd);
            }
        }
    } else {
        drop(io);
    }
    sink(Event::Close);
}

/// Where a client connects.
#[derive(Debug, Clone)]
pub enum Target {
    /// Resolved addresses, tried in order.
    Addrs(Vec<SocketAddr>),
    /// A Unix-domain socket path.
    Path(String),
}

async fn open(target: &Target) -> Result<Transport, NodeError> {
    match target {
        Target::Path(path) => UnixStream::connect(path)
            .await
            .map(Transport::Unix)
            .map_err(|e| NodeError::io(&e, "connect")),
        Target::Addrs(addrs) => {
            let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address");
            for addr in addrs {
                match TcpStream::connect(addr).await {
                    Ok(s) => return Ok(Transport::Tcp(s)),
                    Err(e) => last = e,
                }
            }
            Err(NodeError::io(&last, "connect"))
        }
    }
}

/// A connection that failed after its handshake, held as Node holds it
/// until JS destroys it: nothing is read or sent, but `end()` still
/// half-closes the socket and finishes.
/// The peer's end of stream still ends it (its bytes are discarded).
async fn kept_open(io: &Transport, shared: &Shared, sink: &Sink) {
    let mut ended = false;
    let mut scratch = [0u8; 4096];
    let mut last_idle = None;
    while !shared.destroyed.load(Ordering::SeqCst) {
        match shared.peer_gone.load(Ordering::SeqCst) {
            PEER_EOF => {
                sink(Event::End);
                return;
            }
            PEER_FAILED => return,
            _ => {}
        }
        for command in shared.take_commands() {
            match command {
                Command::Write(_) => {
                    shared.taken.fetch_add(1, Ordering::SeqCst);
                }
                Command::End => {
                    shared.taken.fetch_add(1, Ordering::SeqCst);
                    if !ended {
                        ended = true;
                        let _ = io.shutdown_write();
                        sink(Event::Finished);
                    }
                }
                _ => {}
            }
        }
        // Over a wrapped stream, nothing here is work that holds the
        // process (as in `pump`): say so once all input was taken.
        if let Transport::Js(pipe) = io {
            if let Some(consumed) = pipe.idle_consumed(false) {
                let mark = (consumed, shared.taken.load(Ordering::SeqCst));
                if last_idle != Some(mark) {
                    last_idle = Some(mark);
                    sink(Event::Idle(mark.0, mark.1));
                }
            }
        }
        tokio::select! {
            () = shared.wake.notified() => {}
            r = io.readable() => {
                if r.is_err() {
                    return;
                }
                match io.try_read(&mut scratch) {
                    Ok(0) => {
                        sink(Event::End);
                        return;
                    }
                    Err(e) if !is_would_block(&e) => return,
                    _ => {}
                }
            }
        }
    }
}

/// Waits until JS destroys the connection.
pub(crate) async fn destroyed(shared: &Shared) {
    while !shared.destroyed.load(Ordering::SeqCst) {
        shared.wake.notified().await;
    }
}

/// A connection just established, for [`serve`]: its live state, its
/// transport and the facts of its handshake.
type Established = (Arc<LiveCell>, Arc<Transport>, Box<SecureInfo>);

/// Runs `handshake`, then [`serve`]s the connection it established.
///
/// A task's future is allocated once, at the size of its largest state. The
/// handshake's state (the session by value, rustls' handshake, the connect
/// and timer futures) is far larger than [`serve`]'s, and an idle
/// connection would keep that size for its whole life: boxed, it is freed
/// when the handshake ends, and the task keeps only [`serve`]'s state
/// (a client connection's task went from 13.7 to under 1 KiB).
async fn then_serve(
    handshake: Pin<Box<impl Future<Output = Option<Established>>>>,
    shared: Arc<Shared>,
    sink: Sink,
) {
    if let Some((cell, io, info)) = handshake.await {
        serve(cell, io, shared, sink, Some(info)).await;
    }
}

/// A client connection's whole life: connect, handshake, then [`serve`].
pub fn connect(
    target: Target,
    config: (Arc<ClientConfig>, Arc<ConnStore>),
    server_name: ServerName<'static>,
    trust: Trust,
    ocsp: Option<crate::ocsp::ResponseSlot>,
    shared: Arc<Shared>,
    sink: Sink,
) -> impl Future<Output = ()> {
    let handshake = Box::pin(connect_handshake(
        target,
        config,
        server_name,
        trust,
        ocsp,
        shared.clone(),
        sink.clone(),
    ));
    then_serve(handshake, shared, sink)
}

/// A client connection until it is established: connect, then handshake.
async fn connect_handshake(
    target: Target,
    (config, store): (Arc<ClientConfig>, Arc<ConnStore>),
    server_name: ServerName<'static>,
    trust: Trust,
    ocsp: Option<crate::ocsp::ResponseSlot>,
    shared: Arc<Shared>,
    sink: Sink,
) -> Option<Established> {
    let setup = async {
        let io = open(&target).await?;
        sink(Event::Connected(io.endpoints()));
        let tls = ClientConnection::new(config, server_name).map_err(|e| NodeError::from(&e))?;
        let mut session = Box::new(Session::client(tls, io, trust, Some(store)));
        if let Some(slot) = ocsp {
            session.keep_ocsp(slot);
        }
        Ok::<_, NodeError>(session)
    };
    let session = tokio::select! {
        r = setup => r,
        () = destroyed(&shared) => {
            sink(Event::Close);
            return None;
        }
    };
    match session {
        Ok(session) => until_established(session, 0, None, shared, sink).await,
        Err(e) => {
            sink(Event::Error(e));
            sink(Event::Close);
            None
        }
    }
}

/// Handshake, report it, then [`serve`]; `destroy()` may cut in at any time.
/// `events` are the server's session cache listeners
/// ([`crate::server::listeners`] bits; 0 for a client).
pub fn establish(
    session: Box<Session>,
    events: u8,
    timeout: Option<Duration>,
    shared: Arc<Shared>,
    sink: Sink,
) -> impl Future<Output = ()> {
    let handshake = Box::pin(until_established(
        session,
        events,
        timeout,
        shared.clone(),
        sink.clone(),
    ));
    then_serve(handshake, shared, sink)
}

/// [`establish`] until the connection is established (`None` when it
/// failed or was destroyed first, and `Close` was reported).
async fn until_established(
    mut session: Box<Session>,
    events: u8,
    timeout: Option<Duration>,
    shared: Arc<Shared>,
    sink: Sink,
) -> Option<Established> {
    shared.bind_trace(&session.io);
    let trace_key = session.io.trace_key();
    let run = async {
        if events == 0 {
            return session.handshake().await;
        }
        let io = session.io.clone();
        let ask = |question| shared.ask_session(&sink, question);
        let (hello, scope) = crate::server::look_up_session(&io, events, &ask).await?;
        crate::server::handshake_with_cache(&mut session, &hello, scope, events, &ask).await
    };
    let bounded = async {
        match timeout {
            Some(t) if !t.is_zero() => tokio::time::timeout(t, run)
                .await
                .unwrap_or_else(|_| Err(NodeError::handshake_timeout())),
            _ => run.await,
        }
    };
    let result = tokio::select! {
        r = bounded => r,
        () = destroyed(&shared) => {
            crate::trace::disable(trace_key);
            sink(Event::Close);
            return None;
        }
    };
    match result {
        Ok(()) => {
            if matches!(session.tls, Connection::Client(_)) && session.tls.wants_write() {
                shared.held.store(true, Ordering::SeqCst);
            }
            let info = Box::new(session.secure_info());
            match go_live(*session, &shared) {
                Ok((cell, io)) => Some((cell, io, info)),
                Err(e) => {
                    crate::trace::disable(trace_key);
                    sink(Event::Error(NodeError::io(&e, "read")));
                    sink(Event::Close);
                    None
                }
            }
        }
        Err(e) => {
            crate::trace::disable(trace_key);
            sink(Event::Error(e));
            sink(Event::Close);
            None
        }
    }
}
