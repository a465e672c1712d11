//! A listening socket: accepts connections and runs their handshakes on the
//! runtime, so that a storm of handshakes never touches the JS thread. Each
//! finished handshake is parked under an id until JavaScript takes it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::Notify;

use crate::conn::{LiveGuard, SecureInfo, Session};
use crate::error::NodeError;
use crate::transport::{Endpoints, Transport};
use crate::verify::Trust;

/// What a server tells JavaScript. Each carries the [`Pending`] mark of its
/// handshake, dropped once JavaScript has the event.
#[derive(Debug)]
pub enum ServerEvent {
    /// A handshake finished; take the session with this id.
    Secure(u32, Box<SecureInfo>, Pending),
    /// A client failed before or during its handshake.
    ClientError(NodeError, Endpoints, Pending),
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
        state.live.fetch_add(1, Ordering::SeqCst);
        let live = LiveGuard(state.live.clone());
        let pending = Pending::new(&state);
        tokio::spawn(handshake(
            io,
            live,
            pending,
            settings.clone(),
            state.clone(),
            sink.clone(),
        ));
    }
}

async fn handshake(
    io: Transport,
    live: LiveGuard,
    pending: Pending,
    settings: ServerSettings,
    state: Arc<ServerState>,
    sink: ServerSink,
) {
    let endpoints = io.endpoints();
    let tls = match rustls::ServerConnection::new(settings.config) {
        Ok(tls) => tls,
        Err(e) => {
            return sink(ServerEvent::ClientError(
                NodeError::from(&e),
                endpoints,
                pending,
            ))
        }
    };
    let mut session = Session::server(tls, io, settings.trust, settings.request_cert, Some(live));
    let result = session
        .handshake_within(Some(settings.handshake_timeout))
        .await;
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
