//! A listening socket: accepts connections and runs their handshakes on the
//! runtime, so that a storm of handshakes never touches the JS thread. Each
//! finished handshake is parked under an id until JavaScript takes it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{oneshot, Notify};

use crate::conn::{LiveGuard, SecureInfo, Session};
use crate::context::{Context, Params, SniTable};
use crate::error::NodeError;
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
    /// `SNICallback`: which context serves this name? Answer with
    /// [`ServerState::answer_sni`] and this id.
    Sni(u32, String),
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
    pub ready: Mutex<HashMap<u32, Session>>,
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
    sni_asks: Mutex<HashMap<u32, oneshot::Sender<SniAnswer>>>,
}

impl ServerState {
    /// JavaScript's answer to [`ServerEvent::Sni`] `id`.
    pub fn answer_sni(&self, id: u32, answer: SniAnswer) {
        let waiting = self
            .sni_asks
            .lock()
            .ok()
            .and_then(|mut asks| asks.remove(&id));
        if let Some(tx) = waiting {
            let _ = tx.send(answer);
        }
    }

    async fn ask_sni(&self, name: String, sink: &ServerSink) -> SniAnswer {
        let (tx, rx) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut asks) = self.sni_asks.lock() {
            asks.insert(id, tx);
        }
        sink(ServerEvent::Sni(id, name));
        rx.await.unwrap_or(SniAnswer::Fail)
    }
}

/// Server-wide settings fixed at `listen()`.
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
}

/// Accepts until stopped.
pub async fn accept_loop(
    listener: Listener,
    settings: ServerSettings,
    state: Arc<ServerState>,
    sink: ServerSink,
) {
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
        let max = state.max_connections.load(Ordering::SeqCst);
        if max > 0 && state.live.load(Ordering::SeqCst) >= max {
            drop(io);
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
            settings.clone(),
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
    settings: ServerSettings,
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
    let tls = match &settings.sni {
        None => rustls::ServerConnection::new(settings.config)
            .map(|tls| (tls, settings.trust))
            .map_err(|e| NodeError::from(&e)),
        Some(hook) => {
            let asked = sni_accept(&io, hook, &state, &sink);
            match tokio::time::timeout(settings.handshake_timeout, asked).await {
                Ok(r) => r,
                Err(_) => Err(NodeError::handshake_timeout()),
            }
        }
    };
    let (tls, trust) = match tls {
        Ok(ok) => ok,
        Err(e) => return sink(ServerEvent::ClientError(server_side(e), endpoints, pending)),
    };
    let mut session = Session::server(tls, io, trust, settings.request_cert, Some(live));
    let result = session
        .handshake_within(Some(settings.handshake_timeout))
        .await
        .map_err(server_side);
    match result {
        Ok(()) => {
            let info = Box::new(session.secure_info());
            let id = state.next_id.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut ready) = state.ready.lock() {
                ready.insert(id, session);
            }
            sink(ServerEvent::Secure(id, info, pending));
        }
        Err(e) => sink(ServerEvent::ClientError(e, endpoints, pending)),
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

/// Reads the ClientHello, lets `SNICallback` choose the context for its
/// name, and continues with that context's configuration.
async fn sni_accept(
    io: &Transport,
    hook: &SniHook,
    state: &ServerState,
    sink: &ServerSink,
) -> Result<(rustls::ServerConnection, Trust), NodeError> {
    let mut acceptor = rustls::server::Acceptor::default();
    let mut head = Vec::new();
    let accepted = loop {
        io.readable().await.map_err(|e| NodeError::io(&e, "read"))?;
        let sniffing = Sniff {
            inner: Io(io),
            head: &mut head,
        };
        match acceptor.read_tls(&mut { sniffing }) {
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
            Ok(Some(accepted)) => break accepted,
            Ok(None) => {}
            Err((e, mut alert)) => {
                let _ = alert.write_all(&mut Io(io));
                return Err(NodeError::from(&e));
            }
        }
    };
    let name = accepted.client_hello().server_name().map(str::to_owned);
    let answer = match name {
        Some(name) => state.ask_sni(name, sink).await,
        None => SniAnswer::Default,
    };
    let context = match answer {
        SniAnswer::Context(context) => context,
        SniAnswer::Default => hook.context.clone(),
        // As Node: the connection is dropped without an alert.
        SniAnswer::Fail => {
            return Err(NodeError::new("ERR_TLS_SNI_CALLBACK", "SNICallback failed"))
        }
    };
    let config = context.server_config_with(&hook.params, hook.table.clone())?;
    let tls = accepted.into_connection(config).map_err(|(e, mut alert)| {
        let _ = alert.write_all(&mut Io(io));
        NodeError::from(&e)
    })?;
    // Client certificates are judged against the chosen context's ca.
    Ok((tls, context.trust.clone()))
}
