//! A listening socket: accepts connections and runs their handshakes on the
//! runtime, so that a storm of handshakes never touches the JS thread. Each
//! finished handshake is parked under an id until JavaScript takes it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{oneshot, Notify};

use crate::conn::{LiveGuard, SecureInfo, Session};
use crate::context::{Context, Params, SniTable};
use crate::error::NodeError;
use crate::session::{self, ServerScope};
use crate::sniff::{self, Sniff, Verdict};
use crate::transport::Io;
use crate::transport::{Detached, Endpoints, Transport};
use crate::verify::Trust;

/// What a server tells JavaScript. Each carries the [`Pending`] mark of its
/// handshake, dropped once JavaScript has the event.
#[derive(Debug)]
pub enum ServerEvent {
    /// A handshake finished; take the session with this id.
    Secure(u32, Box<SecureInfo>, Pending),
    /// A client failed before or during its handshake.
    ClientError(NodeError, Endpoints, Pending),
    /// `SNICallback`: which context serves this name, for the client at
    /// these endpoints? Answer with [`ServerState::answer_sni`] and this id.
    Sni(u32, String, Endpoints),
    /// `'newSession'` (ask id, session id, data): answer with
    /// [`ServerState::answer_session`] once stored.
    NewSession(u32, Vec<u8>, Vec<u8>),
    /// `'resumeSession'` (ask id, session id): answer with
    /// [`ServerState::answer_session`] and the data found, if any.
    ResumeSession(u32, Vec<u8>),
    /// `'OCSPRequest'`: the certificate (DER) and its issuer's; answer with
    /// [`ServerState::answer_ocsp`] and this id.
    Ocsp(u32, Vec<u8>, Option<Vec<u8>>),
    /// A connection refused for `maxConnections` (`'drop'`).
    Drop(Endpoints),
    /// `ALPNCallback`: which of the client's protocols (its ALPN list, in
    /// wire format: each name after its length byte) for the client at
    /// these endpoints, which sent this SNI name? Answer with
    /// [`ServerState::answer_alpn`] and this id.
    Alpn(u32, Option<String>, Vec<u8>, Endpoints),
}

impl AlpnAnswer {
    /// What JavaScript answered: the protocol chosen (`None`: refused), or
    /// that the callback failed.
    pub fn from_js(protocol: Option<Vec<u8>>, fail: bool) -> Self {
        match (fail, protocol) {
            (true, _) => Self::Fail,
            (false, Some(p)) => Self::Select(p),
            (false, None) => Self::Refuse,
        }
    }
}

/// The ALPN question's answer, with the context `setKeyCert()` chose in the
/// callback (a `tls.Server`'s stand-in socket), if any.
type AlpnReply = (AlpnAnswer, Option<Arc<Context>>);

/// JavaScript's answer to an `ALPNCallback` question.
#[derive(Debug)]
pub enum AlpnAnswer {
    /// Select this protocol (one the client offered).
    Select(Vec<u8>),
    /// Refuse the client's protocols (the callback returned `undefined`):
    /// a no_application_protocol alert, and the handshake fails, as in Node.
    Refuse,
    /// The callback threw or named a protocol the client did not offer:
    /// the connection is dropped without an alert (JS has reported it).
    Fail,
}

/// JavaScript's answer to an `'OCSPRequest'`.
#[derive(Debug)]
pub enum OcspAnswer {
    /// Staple this response.
    Staple(Vec<u8>),
    /// Staple nothing.
    Nothing,
    /// The callback failed: drop the connection (JS has reported it).
    Fail,
}

/// [`ServerState::session_events`] bits: listeners JavaScript has.
pub mod listeners {
    /// `'newSession'`.
    pub const NEW_SESSION: u8 = 1;
    /// `'resumeSession'`.
    pub const RESUME_SESSION: u8 = 2;
}

/// What `SNICallback` chose.
#[derive(Debug)]
pub enum SniAnswer {
    /// Serve with this context's keys.
    Context(Arc<Context>),
    /// Serve with the server's own context.
    Default,
    /// Drop the connection without an alert (the callback failed; JS has
    /// reported it).
    Fail,
}

/// How `SNICallback` servers build a configuration for the context chosen.
#[derive(Debug, Clone)]
pub struct SniHook {
    /// The server's own context.
    pub context: Arc<Context>,
    /// The server's TLS parameters.
    pub params: Params,
    /// `addContext()` entries.
    pub table: Arc<SniTable>,
}

/// Counts a handshake as under way until JavaScript has heard how it ended,
/// so that a closed server does not report 'close' while a connection is on
/// its way to JavaScript.
#[derive(Debug)]
pub struct Pending(Arc<ServerState>);

impl Pending {
    fn new(state: &Arc<ServerState>) -> Self {
        state.handshaking.fetch_add(1, Ordering::SeqCst);
        Self(state.clone())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.handshaking.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where events go.
pub type ServerSink = Arc<dyn Fn(ServerEvent) + Send + Sync>;

/// A bound listener.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix-domain socket.
    Unix(UnixListener),
}

impl Listener {
    async fn accept(&self) -> std::io::Result<Transport> {
        match self {
            Self::Tcp(l) => l.accept().await.map(|(s, _)| Transport::Tcp(s)),
            Self::Unix(l) => l.accept().await.map(|(s, _)| Transport::Unix(s)),
        }
    }
}

/// State shared between JavaScript and the accept loop.
#[derive(Debug, Default)]
pub struct ServerState {
    /// Sessions whose handshake finished, waiting for JS.
    pub ready: Mutex<HashMap<u32, Box<Session>>>,
    next_id: AtomicU32,
    /// Connections accepted and not yet closed.
    pub live: Arc<AtomicUsize>,
    /// Handshakes under way; each ends with exactly one event.
    pub handshaking: AtomicUsize,
    /// `maxConnections`; 0 means no limit.
    pub max_connections: AtomicUsize,
    /// Stops the accept loop.
    pub stop: Notify,
    /// `SNICallback` questions waiting for JavaScript's answer.
    sni_asks: Asks<SniAnswer>,
    /// Session cache listeners JavaScript has ([`listeners`] bits).
    pub session_events: AtomicU8,
    /// Session cache questions waiting for JavaScript's answer.
    session_asks: Asks<SessionAnswer>,
    /// Someone listens for `'keylog'`: new connections keep their lines.
    pub keylog: std::sync::atomic::AtomicBool,
    /// `enableTrace` / `--trace-tls`: new connections are traced from their
    /// first byte ([`crate::trace`]).
    pub trace: std::sync::atomic::AtomicBool,
    /// Someone listens for `'OCSPRequest'`: ask when a client wants a staple.
    pub ocsp: std::sync::atomic::AtomicBool,
    /// `'OCSPRequest'` questions waiting for JavaScript's answer.
    ocsp_asks: Asks<OcspAnswer>,
    /// The server has an `ALPNCallback`: a client's ALPN list is its to
    /// answer.
    pub alpn_callback: std::sync::atomic::AtomicBool,
    /// `ALPNCallback` questions waiting for JavaScript's answer.
    alpn_asks: Asks<AlpnReply>,
    /// What new connections are served with; `setSecureContext()` replaces
    /// it, and connections accepted before keep theirs.
    settings: RwLock<Option<Arc<ServerSettings>>>,
}

impl ServerState {
    /// The settings new connections get.
    pub fn settings(&self) -> Option<Arc<ServerSettings>> {
        self.settings.read().ok().and_then(|s| s.clone())
    }

    /// Serves the connections accepted from now on with `settings`.
    pub fn set_settings(&self, settings: ServerSettings) {
        if let Ok(mut slot) = self.settings.write() {
            *slot = Some(Arc::new(settings));
        }
    }

    /// JavaScript's answer to [`ServerEvent::Sni`] `id`.
    pub fn answer_sni(&self, id: u32, answer: SniAnswer) {
        answer_to(&self.sni_asks, id, answer);
    }

    /// JavaScript's answer to a [`ServerEvent::NewSession`] or
    /// [`ServerEvent::ResumeSession`].
    pub fn answer_session(&self, id: u32, data: SessionAnswer) {
        answer_to(&self.session_asks, id, data);
    }

    async fn ask_session(
        &self,
        sink: &ServerSink,
        event: impl FnOnce(u32) -> ServerEvent,
    ) -> SessionAnswer {
        self.ask(&self.session_asks, event, sink)
            .await
            .unwrap_or(Ok(None))
    }

    /// JavaScript's answer to [`ServerEvent::Ocsp`] `id`.
    pub fn answer_ocsp(&self, id: u32, answer: OcspAnswer) {
        answer_to(&self.ocsp_asks, id, answer);
    }

    async fn ask_ocsp(
        &self,
        cert: Vec<u8>,
        issuer: Option<Vec<u8>>,
        sink: &ServerSink,
    ) -> OcspAnswer {
        let event = |id| ServerEvent::Ocsp(id, cert, issuer);
        self.ask(&self.ocsp_asks, event, sink)
            .await
            .unwrap_or(OcspAnswer::Fail)
    }

    /// JavaScript's answer to [`ServerEvent::Alpn`] `id`, and the context
    /// whose key and certificate `setKeyCert()` chose in the callback.
    pub fn answer_alpn(&self, id: u32, answer: AlpnAnswer, key_cert: Option<Arc<Context>>) {
        answer_to(&self.alpn_asks, id, (answer, key_cert));
    }

    async fn ask_alpn(
        &self,
        servername: Option<String>,
        protocols: Vec<u8>,
        endpoints: Endpoints,
        sink: &ServerSink,
    ) -> AlpnReply {
        let event = |id| ServerEvent::Alpn(id, servername, protocols, endpoints);
        self.ask(&self.alpn_asks, event, sink)
            .await
            .unwrap_or((AlpnAnswer::Fail, None))
    }

    async fn ask_sni(&self, name: String, endpoints: Endpoints, sink: &ServerSink) -> SniAnswer {
        let event = |id| ServerEvent::Sni(id, name, endpoints);
        self.ask(&self.sni_asks, event, sink)
            .await
            .unwrap_or(SniAnswer::Fail)
    }

    /// Puts a question to JavaScript: its answer is awaited under a fresh
    /// id, which `event` carries. `None` when the answer can never come. A
    /// handshake that ends first (timeout, hang-up) takes its question
    /// back, so that an answer that never comes leaves nothing behind.
    async fn ask<A>(
        &self,
        asks: &Asks<A>,
        event: impl FnOnce(u32) -> ServerEvent,
        sink: &ServerSink,
    ) -> Option<A> {
        struct Asked<'a, A>(&'a Asks<A>, u32);
        impl<A> Drop for Asked<'_, A> {
            fn drop(&mut self) {
                if let Ok(mut asks) = self.0.lock() {
                    asks.remove(&self.1);
                }
            }
        }
        let (tx, rx) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut waiting) = asks.lock() {
            waiting.insert(id, tx);
        }
        let _asked = Asked(asks, id);
        sink(event(id));
        rx.await.ok()
    }
}

/// Questions to JavaScript waiting for their answers, by id.
type Asks<A> = Mutex<HashMap<u32, oneshot::Sender<A>>>;

/// Hands JavaScript's answer to question `id`, if it is still asked.
fn answer_to<A>(asks: &Asks<A>, id: u32, answer: A) {
    let waiting = asks.lock().ok().and_then(|mut asks| asks.remove(&id));
    if let Some(tx) = waiting {
        let _ = tx.send(answer);
    }
}

/// Server-wide settings, made at `listen()` and by `setSecureContext()`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The TLS configuration.
    pub config: Arc<ServerConfig>,
    /// Trust store for client certificates.
    pub trust: Trust,
    /// `requestCert`.
    pub request_cert: bool,
    /// `handshakeTimeout`; zero means none.
    pub handshake_timeout: Duration,
    /// Set when `SNICallback` chooses the certificate.
    pub sni: Option<SniHook>,
    /// The server's context (its certificate, for `'OCSPRequest'`).
    pub context: Arc<Context>,
    /// The version range holds nothing rustls speaks: every handshake is
    /// refused with a protocol_version alert.
    pub no_protocols: bool,
    /// `addContext()` entries.
    pub table: Arc<SniTable>,
    /// The server's TLS parameters (a context `setKeyCert()` chooses in
    /// `ALPNCallback` is made into a configuration with them).
    pub params: crate::context::Params,
}

/// Accepts until stopped.
pub async fn accept_loop(listener: Listener, state: Arc<ServerState>, sink: ServerSink) {
    loop {
        let io = tokio::select! {
            r = listener.accept() => r,
            () = state.stop.notified() => return,
        };
        let Ok(io) = io else {
            // EMFILE and friends: back off briefly instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Some(settings) = state.settings() else {
            continue;
        };
        let max = state.max_connections.load(Ordering::SeqCst);
        if max > 0 && state.live.load(Ordering::SeqCst) >= max {
            let endpoints = io.endpoints();
            drop(io);
            sink(ServerEvent::Drop(endpoints));
            continue;
        }
        // Each connection is served by the TLS threads in turn; one for
        // another thread leaves this one's reactor for that thread's.
        let target = crate::runtime::get().ok().map(|r| r.pick());
        let (incoming, elsewhere) = match target {
            Some((index, handle)) if crate::runtime::current() != Some(index) => {
                match io.detach() {
                    Ok(detached) => (Incoming::Detached(detached), Some(handle)),
                    Err(_) => continue,
                }
            }
            _ => (Incoming::Here(io), None),
        };
        state.live.fetch_add(1, Ordering::SeqCst);
        let live = LiveGuard(state.live.clone());
        let pending = Pending::new(&state);
        let task = handshake(
            incoming,
            live,
            pending,
            settings,
            state.clone(),
            sink.clone(),
        );
        match elsewhere {
            Some(handle) => drop(handle.spawn(task)),
            None => drop(tokio::spawn(task)),
        }
    }
}

/// An accepted socket: registered here, or to be registered by the thread
/// that serves it.
enum Incoming {
    Here(Transport),
    Detached(Detached),
}

impl Incoming {
    /// The socket, registered with the calling thread's runtime.
    fn into_transport(self) -> std::io::Result<Transport> {
        match self {
            Self::Here(io) => Ok(io),
            Self::Detached(d) => d.attach(),
        }
    }
}

async fn handshake(
    incoming: Incoming,
    live: LiveGuard,
    pending: Pending,
    settings: Arc<ServerSettings>,
    state: Arc<ServerState>,
    sink: ServerSink,
) {
    let io = match incoming.into_transport() {
        Ok(io) => io,
        Err(e) => {
            let e = NodeError::io(&e, "accept");
            return sink(ServerEvent::ClientError(e, Endpoints::default(), pending));
        }
    };
    let endpoints = io.endpoints();
    if settings.no_protocols {
        // As OpenSSL: a protocol_version alert (TLS 1.2 record), and the
        // server reports that it has no protocol to offer.
        let _ = io.readable().await;
        let alert = [21u8, 3, 3, 0, 2, 2, 70];
        let _ = io.writable().await;
        let _ = std::io::Write::write(&mut Io(&io), &alert);
        let e = crate::context::no_protocols();
        return sink(ServerEvent::ClientError(e, endpoints, pending));
    }
    let trace_key = io.trace_key();
    if state.trace.load(Ordering::Relaxed) {
        crate::trace::enable(trace_key);
    }
    let timeout = settings.handshake_timeout;
    let events = state.session_events.load(Ordering::SeqCst);
    let run = establish(io, live, settings, events, &state, &sink);
    let run = crate::contain::catching(run);
    let result = match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(NodeError::handshake_timeout()),
    };
    match result.map_err(server_side) {
        Ok(session) => {
            let info = Box::new(session.secure_info());
            let id = state.next_id.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut ready) = state.ready.lock() {
                ready.insert(id, Box::new(session));
            }
            sink(ServerEvent::Secure(id, info, pending));
        }
        Err(e) => {
            crate::trace::disable(trace_key);
            sink(ServerEvent::ClientError(e, endpoints, pending));
        }
    }
}

/// The handshake of an accepted socket, with the session cache events when
/// JavaScript listens for them (`events`, [`listeners`] bits): the
/// ClientHello's session id is looked up through `'resumeSession'` before
/// rustls sees it, and the sessions the handshake made go to `'newSession'`
/// before the connection is announced, as Node holds its handshake for both.
async fn establish(
    io: Transport,
    live: LiveGuard,
    settings: Arc<ServerSettings>,
    events: u8,
    state: &Arc<ServerState>,
    sink: &ServerSink,
) -> Result<Session, NodeError> {
    let ask = |question: SessionAsk| {
        state.ask_session(sink, move |ask| match question {
            SessionAsk::Resume(id) => ServerEvent::ResumeSession(ask, id),
            SessionAsk::New(id, data) => ServerEvent::NewSession(ask, id, data),
        })
    };
    let (mut hello, scope) = look_up_session(&io, events, &ask).await?;
    let keylog = state
        .keylog
        .load(Ordering::Relaxed)
        .then(crate::keylog::KeyLines::kept);
    // The ClientHello is read first when JavaScript has a say in how it is
    // answered (SNICallback, OCSPRequest).
    let consult = settings.sni.is_some()
        || state.ocsp.load(Ordering::Relaxed)
        || state.alpn_callback.load(Ordering::Relaxed);
    let (tls, trust, ip_name) = if consult {
        // rustls takes the ClientHello here, looking the session up.
        let accepted = session::SCOPE
            .scope(
                scope.clone(),
                hello_accept(&io, &hello, &settings, state, sink, keylog.clone()),
            )
            .await?;
        // The acceptor has taken the ClientHello.
        hello.clear();
        accepted
    } else {
        let config = match &keylog {
            Some(lines) => crate::keylog::server_config(&settings.config, lines.clone()),
            None => settings.config.clone(),
        };
        rustls::ServerConnection::new(config)
            .map(|tls| (tls, settings.trust.clone(), None))
            .map_err(|e| NodeError::from(&e))?
    };
    let mut session = Session::server(tls, io, trust, settings.request_cert, Some(live));
    session.set_ip_name(ip_name);
    if let Some(lines) = keylog {
        session.keep_keylog(lines);
    }
    handshake_with_cache(&mut session, &hello, scope, events, &ask).await?;
    // A context `addContext()` chose for the SNI name judges the client's
    // certificate, as in Node (SNICallback's choice already did).
    if settings.sni.is_none() {
        if let Some(trust) = session.sni_name().and_then(|n| settings.table.trust(n)) {
            session.set_trust(trust);
        }
    }
    Ok(session)
}

/// The program's answer to a [`SessionAsk`]: the session data found (for
/// `'resumeSession'`), or an error passed to the callback, which ends the
/// handshake (JavaScript reports it).
pub type SessionAnswer = Result<Option<Vec<u8>>, NodeError>;

/// What a handshake ends with when a session callback failed; JavaScript has
/// reported the program's error already.
pub fn session_callback_failed() -> NodeError {
    NodeError::new("ERR_TLS_SESSION_CALLBACK", "session callback failed")
}

/// A question for the program's session cache listeners.
#[derive(Debug)]
pub enum SessionAsk {
    /// `'resumeSession'`: the data of this session id, if stored.
    Resume(Vec<u8>),
    /// `'newSession'`: store this session (id, data).
    New(Vec<u8>, Vec<u8>),
}

/// With a `'resumeSession'` listener (`events`), reads the ClientHello and
/// asks for the session it names; returns the bytes read (for rustls) and
/// the handshake's session scope.
pub async fn look_up_session<F, Fut>(
    io: &Transport,
    events: u8,
    ask: &F,
) -> Result<(Vec<u8>, Arc<ServerScope>), NodeError>
where
    F: Fn(SessionAsk) -> Fut,
    Fut: std::future::Future<Output = SessionAnswer>,
{
    let scope = Arc::new(ServerScope {
        listeners: events != 0,
        ..ServerScope::default()
    });
    let mut hello = Vec::new();
    if events & listeners::RESUME_SESSION != 0 {
        let asked = read_hello(io, &mut hello).await?;
        if !asked.session_id.is_empty() && !asked.has_ticket {
            let found = ask(SessionAsk::Resume(asked.session_id.clone())).await?;
            if let (Some(data), Ok(mut slot)) = (found, scope.found.lock()) {
                *slot = Some((asked.session_id, data));
            }
        }
    }
    Ok((hello, scope))
}

/// The handshake, `hello` first, in `scope`; then, with a `'newSession'`
/// listener, each session it made is handed over before it is reported.
pub async fn handshake_with_cache<F, Fut>(
    session: &mut Session,
    hello: &[u8],
    scope: Arc<ServerScope>,
    events: u8,
    ask: &F,
) -> Result<(), NodeError>
where
    F: Fn(SessionAsk) -> Fut,
    Fut: std::future::Future<Output = SessionAnswer>,
{
    session::SCOPE
        .scope(scope.clone(), async {
            session.feed(hello)?;
            session.handshake().await
        })
        .await?;
    if events & listeners::NEW_SESSION != 0 {
        let created = scope
            .created
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default();
        for (id, data) in created {
            ask(SessionAsk::New(id, data)).await?;
        }
    }
    Ok(())
}

/// Reads the first record (the ClientHello) into `buf` and says what it
/// asks for.
async fn read_hello(io: &Transport, buf: &mut Vec<u8>) -> Result<session::HelloSession, NodeError> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(hello) = session::hello_session(buf) {
            return Ok(hello);
        }
        io.readable().await.map_err(|e| NodeError::io(&e, "read"))?;
        match io.try_read(&mut chunk) {
            Ok(0) => return Err(NodeError::disconnected_before_secure()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return Err(NodeError::disconnected_before_secure()),
        }
        if buf.len() > 5 + 0x4000 + 0x4000 {
            // Not a ClientHello record rustls would take either.
            return Ok(session::HelloSession::default());
        }
    }
}

/// A client that went away mid-handshake is, to the server, a hang-up (Node's
/// wording there); the rest is the same on both sides.
fn server_side(e: NodeError) -> NodeError {
    if e == NodeError::disconnected_before_secure() {
        NodeError::hang_up()
    } else {
        e
    }
}

/// Copies what a reader yields (the ClientHello's records), up to a bound.
struct Tee<'a, R>(R, &'a mut Vec<u8>);

impl<R: std::io::Read> std::io::Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        if self.1.len() < 64 * 1024 {
            self.1.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// The certificate `'OCSPRequest'` is about, and its issuer: the context's
/// first certificate, the issuer from its chain or its `ca`.
fn ocsp_subject(context: &Context) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let chain = &context.identities.first()?.cert;
    let leaf = chain.first()?;
    let issuer_name = crate::x509::Cert::parse(leaf)?.issuer();
    let issuer =
        chain
            .get(1)
            .or_else(|| {
                context.trust.ca.iter().find(|c| {
                    crate::x509::Cert::parse(c).is_some_and(|p| p.subject() == issuer_name)
                })
            })
            .map(|c| c.as_ref().to_vec());
    Some((leaf.as_ref().to_vec(), issuer))
}

/// Reads a client's ClientHello, so that a configuration can be chosen for
/// the name it asks for, keeping the records' bytes in `hello` (for what
/// rustls does not tell of the ClientHello: `status_request`, an IP address
/// as the name). Bytes already read (the ClientHello looked at for
/// 'resumeSession') go first; the first five are judged by [`sniff`].
pub async fn read_client_hello(
    io: &Transport,
    mut prefix: &[u8],
    hello: &mut Vec<u8>,
) -> Result<rustls::server::Accepted, NodeError> {
    let mut acceptor = rustls::server::Acceptor::default();
    let mut head = Vec::new();
    loop {
        let read = if prefix.is_empty() {
            io.readable().await.map_err(|e| NodeError::io(&e, "read"))?;
            acceptor.read_tls(&mut Tee(
                Sniff {
                    inner: Io(io),
                    head: &mut head,
                    keep: sniff::KEPT,
                },
                hello,
            ))
        } else {
            acceptor.read_tls(&mut Tee(
                Sniff {
                    inner: &mut prefix,
                    head: &mut head,
                    keep: sniff::KEPT,
                },
                hello,
            ))
        };
        match read {
            Ok(0) => return Err(NodeError::disconnected_before_secure()),
            Ok(_) => {
                if let Verdict::NotTls(e) = sniff::judge(&head) {
                    return Err(e);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return Err(NodeError::disconnected_before_secure()),
        }
        match acceptor.accept() {
            Ok(Some(accepted)) => return Ok(accepted),
            Ok(None) => {}
            Err((e, alert)) => return Err(crate::refusal::refuse_hello(&e, alert, &head, io)),
        }
    }
}

/// The client's ALPN list in wire format (each name after its length
/// byte), if it sent one.
pub fn offered_alpn(accepted: &rustls::server::Accepted) -> Option<Vec<u8>> {
    accepted.client_hello().alpn().map(|names| {
        let mut wire = Vec::new();
        for name in names {
            wire.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
            wire.extend_from_slice(name);
        }
        wire
    })
}

/// The protocol `ALPNCallback` chose; a refusal sends no_application_protocol
/// on `io` (as OpenSSL does when Node's callback returns `undefined`) and
/// fails, a failed callback (JS reported it) fails without an alert.
pub fn alpn_choice(answer: AlpnAnswer, io: &Transport) -> Result<Vec<u8>, NodeError> {
    match answer {
        AlpnAnswer::Select(protocol) => Ok(protocol),
        AlpnAnswer::Refuse => {
            let _ = std::io::Write::write_all(
                &mut crate::transport::Io(io),
                &crate::refusal::NO_APPLICATION_PROTOCOL,
            );
            Err(NodeError::ssl("no application protocol"))
        }
        AlpnAnswer::Fail => Err(NodeError::new(
            "ERR_TLS_ALPN_CALLBACK",
            "ALPNCallback failed",
        )),
    }
}

/// `config` selecting `protocol` (what `ALPNCallback` chose), and serving
/// the key and certificate `resolver` gives, when given.
pub fn alpn_config(
    config: &Arc<ServerConfig>,
    protocol: Vec<u8>,
    resolver: Option<Arc<dyn rustls::server::ResolvesServerCert>>,
) -> Arc<ServerConfig> {
    let mut with = (**config).clone();
    with.alpn_protocols = vec![protocol];
    if let Some(resolver) = resolver {
        with.cert_resolver = resolver;
    }
    Arc::new(with)
}

/// The context that serves a client `SNICallback` answered with `chosen`:
/// one without a certificate of its own leaves the server's `own` (as
/// Node), or, when that has none either, fails as Node does on its OpenSSL
/// ([`crate::refusal::refuse_empty_sni_context`]).
pub fn sni_context(
    chosen: Arc<Context>,
    own: &Arc<Context>,
    io: &Transport,
) -> Result<Arc<Context>, NodeError> {
    if !chosen.identities.is_empty() {
        return Ok(chosen);
    }
    if !own.identities.is_empty() {
        return Ok(own.clone());
    }
    match crate::refusal::refuse_empty_sni_context(io) {
        Some(e) => Err(e),
        None => Ok(chosen),
    }
}

/// Reads the ClientHello (`prefix` first, the bytes already read); lets
/// `SNICallback` choose the context for its name, and `'OCSPRequest'` the
/// response to staple when the client asks for one; continues with the
/// configuration that makes.
async fn hello_accept(
    io: &Transport,
    prefix: &[u8],
    settings: &ServerSettings,
    state: &ServerState,
    sink: &ServerSink,
    keylog: Option<Arc<crate::keylog::KeyLines>>,
) -> Result<(rustls::ServerConnection, Trust, Option<String>), NodeError> {
    let mut hello = Vec::new();
    let accepted = read_client_hello(io, prefix, &mut hello).await?;
    // An IP address sent as the name, which rustls does not report: OpenSSL
    // reports it, and Node asks SNICallback about it.
    let ip_name = match accepted.client_hello().server_name() {
        Some(_) => None,
        None => sniff::ip_server_name(&hello),
    };
    let (mut config, context) = match &settings.sni {
        Some(hook) => {
            let name = accepted
                .client_hello()
                .server_name()
                .map(str::to_owned)
                .or_else(|| ip_name.clone());
            let answer = match name {
                Some(name) => state.ask_sni(name, io.endpoints(), sink).await,
                None => SniAnswer::Default,
            };
            let context = match answer {
                SniAnswer::Context(context) => sni_context(context, &hook.context, io)?,
                SniAnswer::Default => hook.context.clone(),
                // As Node: the connection is dropped without an alert.
                SniAnswer::Fail => {
                    return Err(NodeError::new("ERR_TLS_SNI_CALLBACK", "SNICallback failed"))
                }
            };
            let config = context.server_config_with(&hook.params, hook.table.clone())?;
            (config, context)
        }
        None => (settings.config.clone(), settings.context.clone()),
    };
    // ALPNCallback, after SNICallback (OpenSSL selects ALPN once the name
    // chose the context): only for a client that sent an ALPN list.
    let offered = offered_alpn(&accepted);
    if let (true, Some(wire)) = (state.alpn_callback.load(Ordering::Relaxed), offered) {
        let servername = accepted
            .client_hello()
            .server_name()
            .map(str::to_owned)
            .or_else(|| ip_name.clone());
        let (answer, key_cert) = state.ask_alpn(servername, wire, io.endpoints(), sink).await;
        // setKeyCert() in the callback: its key and certificate serve.
        let resolver = match key_cert {
            Some(key_cert) => Some(
                key_cert
                    .server_config(&settings.params)?
                    .cert_resolver
                    .clone(),
            ),
            None => None,
        };
        config = alpn_config(&config, alpn_choice(answer, io)?, resolver);
    }
    if state.ocsp.load(Ordering::Relaxed) && crate::ocsp::requests_status(&hello) {
        if let Some((cert, issuer)) = ocsp_subject(&context) {
            match state.ask_ocsp(cert, issuer, sink).await {
                OcspAnswer::Staple(response) => {
                    config = crate::ocsp::server_config(&config, response);
                }
                OcspAnswer::Nothing => {}
                OcspAnswer::Fail => {
                    return Err(NodeError::new(
                        "ERR_TLS_OCSP_CALLBACK",
                        "OCSPRequest failed",
                    ))
                }
            }
        }
    }
    if let Some(lines) = keylog {
        config = crate::keylog::server_config(&config, lines);
    }
    let tls = crate::context::with_hello_ip(ip_name.clone(), || accepted.into_connection(config))
        .map_err(|(e, alert)| crate::refusal::refuse_hello(&e, alert, &hello, io))?;
    // Client certificates are judged against the chosen context's ca.
    let trust = match &settings.sni {
        Some(_) => context.trust.clone(),
        None => settings.trust.clone(),
    };
    Ok((tls, trust, ip_name))
}
