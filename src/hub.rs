//! The one thread-safe function per JavaScript environment through which
//! every connection and server reports its events.
//!
//! One function instead of one per connection: idle connections cost no
//! libuv handle, and events of many connections that arrive together wake
//! the JavaScript thread once. Each event carries the id JavaScript gave the
//! connection or server; `lib/native.js` routes it. Whether the hub keeps
//! the process alive is decided in JavaScript, which counts the sockets and
//! servers that should (`ref()` / `unref()` here follow that count).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, FnArgs, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, JsValue, Status};
use napi_derive::napi;

use crate::conn::{Event, SecureInfo, Shared, Sink};
use crate::error::NodeError;
use crate::poll::JsTarget;
use crate::server::{ServerEvent, ServerSink};
use crate::transport::Endpoints;

/// Everything an event can carry besides a data buffer.
#[napi(object)]
#[derive(Default)]
pub struct EventInfo {
    pub code: Option<String>,
    pub message: Option<String>,
    pub syscall: Option<String>,
    pub reason: Option<String>,
    pub protocol: Option<String>,
    pub cipher: Option<String>,
    pub cipher_standard: Option<String>,
    pub alpn: Option<String>,
    pub servername: Option<String>,
    pub group: Option<String>,
    pub group_type: Option<String>,
    pub group_size: Option<u32>,
    pub verify_code: Option<String>,
    pub verify_message: Option<String>,
    pub peer_certs: Option<Vec<Buffer>>,
    /// The server certificate's `subject.CN` and `subjectaltname`, when
    /// read natively (either present): JS may check the host name with
    /// them alone.
    pub peer_cn: Option<String>,
    pub peer_san: Option<String>,
    pub local_address: Option<String>,
    pub local_port: Option<u32>,
    pub remote_address: Option<String>,
    pub remote_port: Option<u32>,
    pub remote_family: Option<String>,
    /// Server: the id of a finished handshake, for `TlsServer::take`.
    pub id: Option<u32>,
    /// Key-log lines of a server's handshake.
    pub keylog: Option<Vec<Buffer>>,
    /// Client with `requestOCSP`: the stapled response (empty: none).
    pub ocsp: Option<Buffer>,
    /// The handshake resumed a session.
    pub resumed: Option<bool>,
    /// Client: the ticket offered, when resumed.
    pub ticket: Option<Buffer>,
    /// Server: a session id (`'newSession'`, `'resumeSession'`).
    pub session_id: Option<Buffer>,
    /// `IDLE`: input bytes consumed and writes taken (counts JS compares).
    pub consumed: Option<f64>,
    pub taken: Option<f64>,
    /// `DATA` of several TLS records: where each record's plaintext ends
    /// in the buffer (JS emits one `'data'` per record, as Node).
    pub records: Option<Vec<u32>>,
}

impl EventInfo {
    fn endpoints(mut self, e: Endpoints) -> Self {
        self.local_address = e.local_address;
        self.local_port = e.local_port.map(u32::from);
        self.remote_address = e.remote_address;
        self.remote_port = e.remote_port.map(u32::from);
        self.remote_family = e.remote_family;
        self
    }

    fn error(e: NodeError) -> Self {
        Self {
            code: Some(e.code),
            message: Some(e.message),
            syscall: e.syscall,
            reason: e.reason,
            ..Self::default()
        }
    }

    fn secure(info: SecureInfo) -> Self {
        Self {
            protocol: info.protocol,
            cipher: info.cipher,
            cipher_standard: info.cipher_standard,
            alpn: info.alpn,
            servername: info.servername,
            group: info.group.map(|g| g.1.to_owned()),
            group_type: info.group.map(|g| g.0.to_owned()),
            group_size: info.group.and_then(|g| g.2),
            verify_code: info.verify.map(|v| v.code().to_owned()),
            verify_message: info.verify.map(|v| v.message().to_owned()),
            peer_certs: Some(info.peer_certs.into_iter().map(Buffer::from).collect()),
            peer_cn: info.host_names.as_ref().and_then(|n| n.cn.clone()),
            peer_san: info.host_names.and_then(|n| n.san),
            ocsp: info.ocsp.map(Buffer::from),
            keylog: (!info.keylog.is_empty())
                .then(|| info.keylog.into_iter().map(Buffer::from).collect()),
            resumed: Some(info.resumed),
            ticket: info.ticket.map(Buffer::from),
            ..Self::default()
        }
        .endpoints(info.endpoints)
    }
}

/// Event kinds, mirrored in `lib/native.js`.
mod kind {
    pub const CONNECTED: u32 = 1;
    pub const SECURE: u32 = 2;
    pub const DATA: u32 = 3;
    pub const END: u32 = 4;
    pub const FINISHED: u32 = 5;
    pub const DRAIN: u32 = 6;
    pub const ERROR: u32 = 7;
    pub const CLOSE: u32 = 8;
    pub const CLIENT_ERROR: u32 = 9;
    pub const CIPHERTEXT: u32 = 10;
    pub const SHUTDOWN_OUT: u32 = 11;
    pub const INPUT_DRAIN: u32 = 12;
    pub const SNI: u32 = 13;
    pub const SESSION: u32 = 14;
    pub const NEW_SESSION: u32 = 15;
    pub const RESUME_SESSION: u32 = 16;
    pub const KEYLOG: u32 = 17;
    pub const OCSP_REQUEST: u32 = 18;
    pub const IDLE: u32 = 19;
    pub const DROP: u32 = 20;
    pub const ALPN: u32 = 21;
}

/// What travels from a worker thread to the JS thread.
pub enum Message {
    /// A connection's event, with its shared state (read credit is
    /// returned for delivered data; the JS thread's poll follows it).
    Conn(u32, Event, Option<Arc<Shared>>),
    /// A server's event.
    Server(u32, ServerEvent),
}

/// The JS side of an event: `(id, kind, data, info)`.
type Args = FnArgs<(u32, u32, Option<Buffer>, Option<EventInfo>)>;
type HubFn = ThreadsafeFunction<Message, (), Args, Status, false>;

fn to_args(
    message: Message,
    js: Option<&Arc<JsTarget>>,
) -> (u32, u32, Option<Buffer>, Option<EventInfo>) {
    match message {
        Message::Conn(id, event, shared) => match event {
            Event::Connected(e) => (
                id,
                kind::CONNECTED,
                None,
                Some(EventInfo::default().endpoints(e)),
            ),
            Event::Secure(info) => {
                // Reads of a polled connection start now, on this thread,
                // so that its data comes after this event.
                if let (Some(js), Some(shared)) = (js, &shared) {
                    crate::poll::start(js, id, shared);
                }
                (id, kind::SECURE, None, Some(EventInfo::secure(*info)))
            }
            Event::Data(bytes, ends) => {
                if let Some(shared) = shared {
                    shared.consumed(bytes.len());
                }
                let info = (!ends.is_empty()).then(|| EventInfo {
                    records: Some(ends),
                    ..EventInfo::default()
                });
                (id, kind::DATA, Some(Buffer::from(bytes)), info)
            }
            Event::End => (id, kind::END, None, None),
            Event::Finished => (id, kind::FINISHED, None, None),
            Event::Drain => (id, kind::DRAIN, None, None),
            Event::Error(e) => (id, kind::ERROR, None, Some(EventInfo::error(e))),
            Event::Close => {
                if let Some(shared) = shared {
                    crate::poll::close(&shared);
                }
                (id, kind::CLOSE, None, None)
            }
            Event::Ciphertext(bytes) => (id, kind::CIPHERTEXT, Some(Buffer::from(bytes)), None),
            Event::ShutdownOut => (id, kind::SHUTDOWN_OUT, None, None),
            Event::InputDrain => (id, kind::INPUT_DRAIN, None, None),
            Event::Keylog(line) => (id, kind::KEYLOG, Some(Buffer::from(line)), None),
            Event::Session(bytes) => (id, kind::SESSION, Some(Buffer::from(bytes)), None),
            Event::NewSession(session_id, data) => {
                let info = EventInfo {
                    id: Some(0),
                    session_id: Some(Buffer::from(session_id)),
                    ..EventInfo::default()
                };
                (id, kind::NEW_SESSION, Some(Buffer::from(data)), Some(info))
            }
            Event::ResumeSession(session_id) => {
                let info = EventInfo {
                    id: Some(0),
                    session_id: Some(Buffer::from(session_id)),
                    ..EventInfo::default()
                };
                (id, kind::RESUME_SESSION, None, Some(info))
            }
            Event::Sni(servername) => {
                let info = EventInfo {
                    servername: Some(servername),
                    ..EventInfo::default()
                };
                (id, kind::SNI, None, Some(info))
            }
            Event::Alpn(servername, protocols) => {
                let info = EventInfo {
                    servername,
                    ..EventInfo::default()
                };
                (id, kind::ALPN, Some(Buffer::from(protocols)), Some(info))
            }
            Event::Idle(consumed, taken) => {
                let info = EventInfo {
                    consumed: Some(consumed as f64),
                    taken: Some(taken as f64),
                    ..EventInfo::default()
                };
                (id, kind::IDLE, None, Some(info))
            }
        },
        Message::Server(id, event) => match event {
            // The handshake's `Pending` mark drops here, on the JS thread,
            // right before JavaScript handles the event.
            ServerEvent::Secure(ready, info, _pending) => {
                let mut info = EventInfo::secure(*info);
                info.id = Some(ready);
                (id, kind::SECURE, None, Some(info))
            }
            ServerEvent::ClientError(e, endpoints, _pending) => (
                id,
                kind::CLIENT_ERROR,
                None,
                Some(EventInfo::error(e).endpoints(endpoints)),
            ),
            ServerEvent::Sni(ask, servername, endpoints) => {
                let info = EventInfo {
                    id: Some(ask),
                    servername: Some(servername),
                    ..EventInfo::default()
                }
                .endpoints(endpoints);
                (id, kind::SNI, None, Some(info))
            }
            ServerEvent::Ocsp(ask, cert, issuer) => {
                let info = EventInfo {
                    id: Some(ask),
                    peer_certs: Some(issuer.into_iter().map(Buffer::from).collect()),
                    ..EventInfo::default()
                };
                (id, kind::OCSP_REQUEST, Some(Buffer::from(cert)), Some(info))
            }
            ServerEvent::NewSession(ask, session_id, data) => {
                let info = EventInfo {
                    id: Some(ask),
                    session_id: Some(Buffer::from(session_id)),
                    ..EventInfo::default()
                };
                (id, kind::NEW_SESSION, Some(Buffer::from(data)), Some(info))
            }
            ServerEvent::Alpn(ask, servername, protocols, endpoints) => {
                let info = EventInfo {
                    id: Some(ask),
                    servername,
                    ..EventInfo::default()
                }
                .endpoints(endpoints);
                (id, kind::ALPN, Some(Buffer::from(protocols)), Some(info))
            }
            ServerEvent::Drop(endpoints) => (
                id,
                kind::DROP,
                None,
                Some(EventInfo::default().endpoints(endpoints)),
            ),
            ServerEvent::ResumeSession(ask, session_id) => {
                let info = EventInfo {
                    id: Some(ask),
                    session_id: Some(Buffer::from(session_id)),
                    ..EventInfo::default()
                };
                (id, kind::RESUME_SESSION, None, Some(info))
            }
        },
    }
}

/// The event route of one JavaScript environment.
#[napi]
pub struct EventHub {
    tsfn: Arc<HubFn>,
    /// The hub's function for the JS thread's own reads (`crate::poll`),
    /// when this thread polls established connections.
    js: Option<Arc<JsTarget>>,
}

impl EventHub {
    /// Where connection `id`'s events go; `shared` gets its read credit back.
    pub fn conn_sink(&self, id: u32, shared: &Arc<Shared>) -> Sink {
        let tsfn = self.tsfn.clone();
        let shared = shared.clone();
        shared.inline_ok.store(self.js.is_some(), Ordering::SeqCst);
        Arc::new(move |event| {
            let with = matches!(event, Event::Data(..) | Event::Secure(_) | Event::Close)
                .then(|| shared.clone());
            tsfn.call(
                Message::Conn(id, event, with),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        })
    }

    /// The JS thread's read target, when it polls connections.
    pub fn js(&self) -> Option<&Arc<JsTarget>> {
        self.js.as_ref()
    }

    /// Where server `id`'s events go.
    pub fn server_sink(&self, id: u32) -> ServerSink {
        let tsfn = self.tsfn.clone();
        Arc::new(move |event| {
            tsfn.call(
                Message::Server(id, event),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        })
    }
}

#[napi]
impl EventHub {
    /// A hub delivering `(id, kind, data, info)` to `callback`; it starts
    /// unreferenced. `inline`: this thread reads established connections
    /// itself (`crate::poll`).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        callback: Function<'_, Args, ()>,
        inline: Option<bool>,
    ) -> napi::Result<Self> {
        let js = if inline.unwrap_or(false) {
            // SAFETY: this call's environment and its function argument.
            unsafe { JsTarget::new(env.raw(), callback.raw()) }.map(Arc::new)
        } else {
            None
        };
        let target = js.clone();
        let tsfn: HubFn = callback
            .build_threadsafe_function::<Message>()
            .callee_handled::<false>()
            .build_callback(move |ctx| {
                // Runs on the JS thread from libuv: a panic must not unwind
                // into Node, so it becomes a thrown error there.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    to_args(ctx.value, target.as_ref())
                }))
                .map(Into::into)
                .map_err(|p| {
                    napi::Error::from_reason(crate::contain::panic_error(p.as_ref()).message)
                })
            })?;
        let hub = Self {
            tsfn: Arc::new(tsfn),
            js,
        };
        hub.unref(env)?;
        Ok(hub)
    }

    /// Keep the process alive while events may come.
    #[napi(js_name = "ref", catch_unwind)]
    pub fn refer(&self, env: Env) -> napi::Result<()> {
        // SAFETY: `env` is this thread's environment (napi passes it to the
        // call), and the function stays alive while `self.tsfn` does.
        let status = unsafe { napi::sys::napi_ref_threadsafe_function(env.raw(), self.tsfn.raw()) };
        napi::check_status!(status)
    }

    /// Let the process exit even if events may come.
    #[napi(catch_unwind)]
    pub fn unref(&self, env: Env) -> napi::Result<()> {
        // SAFETY: as in `refer`.
        let status =
            unsafe { napi::sys::napi_unref_threadsafe_function(env.raw(), self.tsfn.raw()) };
        napi::check_status!(status)
    }
}
