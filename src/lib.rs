//! `rustls-tls`: the native half of Node's `tls` module on rustls and tokio.
//!
//! This file holds only the `#[napi]` surface. The work lives in modules that
//! know nothing of Node-API ([`conn`], [`server`], [`context`], [`verify`]),
//! so `cargo test` runs without Node. Those modules forbid `unsafe`; this
//! one cannot, because the `#[napi]` expansion contains it. JavaScript (`lib/*.js`) owns the
//! policy and builds every object a user sees; Rust reports facts.

#[forbid(unsafe_code)]
mod conn;
#[forbid(unsafe_code)]
mod contain;
#[forbid(unsafe_code)]
mod context;
#[forbid(unsafe_code)]
mod crl_v1;
#[cfg(test)]
#[forbid(unsafe_code)]
mod driver_bench;
#[forbid(unsafe_code)]
mod error;
#[forbid(unsafe_code)]
#[cfg(any(test, fuzzing))]
pub mod fuzzing;
mod hub;
#[forbid(unsafe_code)]
mod keycert;
#[forbid(unsafe_code)]
mod keylog;
#[forbid(unsafe_code)]
mod names;
#[forbid(unsafe_code)]
mod ocsp;
#[forbid(unsafe_code)]
mod pipe;
mod poll;
#[forbid(unsafe_code)]
mod refusal;
#[forbid(unsafe_code)]
mod runtime;
#[forbid(unsafe_code)]
mod seclevel;
#[forbid(unsafe_code)]
mod server;
#[forbid(unsafe_code)]
mod session;
#[forbid(unsafe_code)]
mod sniff;
#[forbid(unsafe_code)]
mod suites;
#[forbid(unsafe_code)]
mod trace;
#[forbid(unsafe_code)]
mod transport;
#[forbid(unsafe_code)]
mod verify;
#[forbid(unsafe_code)]
mod wrap_sni;
#[forbid(unsafe_code)]
mod x509;

use std::borrow::Cow;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, BufferSlice, Either};
use napi::JsString;
use napi::Status;
use napi_derive::napi;
use rustls::pki_types::ServerName;

use crate::conn::{Command, Session, Shared, Target};
use crate::context::{Context, ContextInput, Params};
use crate::error::NodeError;
use crate::hub::EventHub;
use crate::pipe::Pipe;
use crate::server::{Listener, ServerSettings, ServerState};

/// A [`NodeError`] thrown to JS; `lib/errors.js` rebuilds it as a Node error.
fn throw(e: NodeError) -> napi::Error {
    let reason = e.reason.unwrap_or_default();
    let syscall = e.syscall.unwrap_or_default();
    napi::Error::new(
        Status::GenericFailure,
        format!("{}\0{}\0{}\0{}", e.code, e.message, reason, syscall),
    )
}

fn rt() -> napi::Result<&'static runtime::Runtimes> {
    runtime::get().map_err(|e| throw(NodeError::new("ERR_TLS_RUNTIME", e)))
}

fn buffers(list: Option<Vec<Buffer>>) -> Vec<Vec<u8>> {
    list.unwrap_or_default()
        .into_iter()
        .map(|b| b.to_vec())
        .collect()
}

/// `createSecureContext()` input, normalised by `lib/context.js`.
#[napi(object)]
pub struct ContextOptions {
    /// PEM chains.
    pub cert: Option<Vec<Buffer>>,
    /// PEM keys, decrypted.
    pub key: Option<Vec<Buffer>>,
    /// PEM bundles; absent means the default roots.
    pub ca: Option<Vec<Buffer>>,
    /// PKCS#12 archives.
    pub pfx: Option<Vec<PfxInput>>,
    /// CRLs, PEM or DER.
    pub crl: Option<Vec<Buffer>>,
    /// OpenSSL's security level (0-5): `@SECLEVEL=n` in `ciphers`, else the
    /// running Node's default.
    pub security_level: Option<u32>,
    /// `ticketKeys` (48 bytes).
    pub ticket_keys: Option<Buffer>,
    /// `sessionTimeout` in seconds.
    pub session_timeout: Option<u32>,
    /// `sessionIdContext`.
    pub session_id_context: Option<Buffer>,
    /// `secureOptions` has `SSL_OP_NO_TICKET`.
    pub no_ticket: Option<bool>,
    /// `allowPartialTrustChain`.
    pub allow_partial_trust_chain: Option<bool>,
}

/// One `pfx` entry with its passphrase.
#[napi(object)]
pub struct PfxInput {
    /// DER of the archive.
    pub buf: Buffer,
    /// Its passphrase ('' when none).
    pub passphrase: String,
}

/// A parsed secure context (`tls.SecureContext`'s native half).
#[napi]
pub struct NativeContext {
    inner: Arc<Context>,
    /// What it was made from, to remake it when `addCACert()` adds to it.
    input: ContextInput,
}

#[napi]
impl NativeContext {
    /// Parses and checks everything; throws a coded error on bad input.
    #[napi(constructor, catch_unwind)]
    pub fn new(options: ContextOptions) -> napi::Result<Self> {
        let input = ContextInput {
            certs: buffers(options.cert),
            keys: buffers(options.key),
            ca: options.ca.map(|ca| buffers(Some(ca))),
            pfx: options
                .pfx
                .unwrap_or_default()
                .into_iter()
                .map(|p| (p.buf.to_vec(), p.passphrase))
                .collect(),
            crls: buffers(options.crl),
            added_ca: Vec::new(),
            security_level: options
                .security_level
                .map_or(seclevel::DEFAULT, |l| l.min(5) as u8),
            ticket_keys: options
                .ticket_keys
                .and_then(|k| <[u8; 48]>::try_from(k.as_ref()).ok()),
            session_timeout: options.session_timeout,
            session_id_context: options
                .session_id_context
                .map(|b| b.to_vec())
                .unwrap_or_default(),
            no_ticket: options.no_ticket.unwrap_or(false),
            allow_partial: options.allow_partial_trust_chain.unwrap_or(false),
        };
        let inner = Context::new(input.clone()).map_err(throw)?;
        Ok(Self {
            inner: Arc::new(inner),
            input,
        })
    }

    /// `context.addCACert(pem)`: trusts the certificates in `pem` too, for
    /// connections made from now on (as OpenSSL adds them to the store).
    #[napi(catch_unwind)]
    pub fn add_ca_cert(&mut self, pem: Buffer) -> napi::Result<()> {
        let mut input = self.input.clone();
        input.added_ca.push(pem.to_vec());
        self.inner = Arc::new(Context::new(input.clone()).map_err(throw)?);
        self.input = input;
        Ok(())
    }

    /// The leaf certificates (DER) of the identities this context offers,
    /// elliptic-curve keys first: `getCertificate()` of a context made from
    /// `pfx` alone.
    #[napi(catch_unwind)]
    pub fn own_certificates(&self) -> Vec<Buffer> {
        self.inner
            .identities
            .iter()
            .filter_map(|k| k.cert.first())
            .map(|c| Buffer::from(c.as_ref().to_vec()))
            .collect()
    }

    /// `getTicketKeys()`: the 48 bytes tickets are sealed with.
    #[napi(catch_unwind)]
    pub fn get_ticket_keys(&self) -> Buffer {
        Buffer::from(self.inner.ticketer.keys().to_vec())
    }

    /// `setTicketKeys()`: from now on, tickets are sealed and opened with
    /// `keys` (48 bytes, checked by JS).
    #[napi(catch_unwind)]
    pub fn set_ticket_keys(&self, keys: Buffer) -> napi::Result<()> {
        let keys = <[u8; 48]>::try_from(keys.as_ref()).map_err(|_| invalid("ticket keys"))?;
        self.inner.ticketer.set_keys(keys);
        Ok(())
    }
}

/// Which stores the default trust holds (Node's flags, read by JS): the
/// bundled roots, the system's. Only the first call counts.
#[napi(catch_unwind)]
pub fn configure_default_trust(bundled: bool, system: bool) {
    context::configure_default_trust(bundled, system);
}

/// Label records as the running Node's OpenSSL traces them: "Sent TLS
/// Record" from OpenSSL 3.2 on (`tls_word`), "Sent Record" before.
#[napi(catch_unwind)]
pub fn set_trace_labels(tls_word: bool) {
    trace::set_labels(tls_word);
}

/// With OpenSSL before 3.5 (`on`), a certificate-less context chosen by
/// `SNICallback` is refused as Node 20 and 22 refuse it
/// ([`refusal::refuse_empty_sni_context`]).
#[napi(catch_unwind)]
pub fn set_null_parameter_wording(on: bool) {
    refusal::set_null_parameter_wording(on);
}

/// The system's trusted certificates, DER.
#[napi(catch_unwind)]
pub fn system_certificates() -> Vec<Buffer> {
    context::system_certs()
        .iter()
        .map(|c| Buffer::from(c.as_ref().to_vec()))
        .collect()
}

/// `tls.setDefaultCACertificates()`: certificates (DER, checked by JS)
/// that contexts made from now on without `ca` trust.
#[napi(catch_unwind)]
pub fn set_default_trust(certs: Vec<Buffer>) {
    let certs = certs
        .into_iter()
        .map(|b| rustls::pki_types::CertificateDer::from(b.to_vec()))
        .collect();
    context::set_default_trust(certs);
}

/// Forgets the session a session Buffer names: its connection closed and
/// the Buffer never reached the program.
#[napi(catch_unwind)]
pub fn forget_session(session: Buffer) {
    session::forget(&session);
}

/// A placeholder session Buffer (Node's unresumable TLS 1.3 session before
/// any ticket arrived).
#[napi(catch_unwind)]
pub fn placeholder_session() -> Buffer {
    Buffer::from(session::placeholder(0x13))
}

/// Per-connection TLS parameters.
#[napi(object)]
pub struct TlsParams {
    /// ALPN protocol names, preferred first.
    pub alpn: Option<Vec<Buffer>>,
    /// 0x0303 or 0x0304.
    pub min_version: Option<u32>,
    /// 0x0303 or 0x0304.
    pub max_version: Option<u32>,
    /// Server: `requestCert`.
    pub request_cert: Option<bool>,
    /// Server: `rejectUnauthorized`.
    pub reject_unauthorized: Option<bool>,
    /// Server: fail the handshake when no client certificate is sent
    /// (default: `rejectUnauthorized`).
    pub require_client_cert: Option<bool>,
    /// Server: `honorCipherOrder`.
    pub honor_cipher_order: Option<bool>,
    /// `ciphers` (OpenSSL cipher string).
    pub ciphers: Option<String>,
    /// `sigalgs` (OpenSSL signature algorithm list).
    pub sigalgs: Option<String>,
    /// Someone listens for `'keylog'` on this connection.
    pub keylog: Option<bool>,
    /// `ecdhCurve` (OpenSSL group list, or `auto`).
    pub ecdh_curve: Option<String>,
    /// Client: `requestOCSP` (keep the stapled response).
    pub request_ocsp: Option<bool>,
    /// Client: `session`, a session Buffer to resume.
    pub session: Option<Buffer>,
}

impl TlsParams {
    fn to_params(&self) -> Params {
        let d = Params::default();
        let version =
            |v: Option<u32>, default: u16| v.and_then(|v| u16::try_from(v).ok()).unwrap_or(default);
        Params {
            alpn: self
                .alpn
                .as_ref()
                .map(|l| l.iter().map(|b| b.to_vec()).collect())
                .unwrap_or_default(),
            min_version: version(self.min_version, d.min_version),
            max_version: version(self.max_version, d.max_version),
            sni: true,
            request_cert: self.request_cert.unwrap_or(d.request_cert),
            reject_unauthorized: self.reject_unauthorized.unwrap_or(d.reject_unauthorized),
            require_client_cert: self
                .require_client_cert
                .or(self.reject_unauthorized)
                .unwrap_or(d.require_client_cert),
            honor_cipher_order: self.honor_cipher_order.unwrap_or(d.honor_cipher_order),
            // Checked when the context was made (`check_tls_options`).
            ciphers: self
                .ciphers
                .as_deref()
                .and_then(|c| suites::parse_ciphers(c).ok()),
            groups: self
                .ecdh_curve
                .as_deref()
                .and_then(|c| suites::parse_curves(c).ok().flatten()),
            sigalgs: self.sigalgs.as_deref().and_then(names::sigalg_list),
        }
    }
}

/// `createSecureContext`'s checks of `ciphers` and `ecdhCurve`, with
/// OpenSSL's and Node's errors; returns the `@SECLEVEL` the ciphers set.
#[napi(catch_unwind)]
pub fn check_tls_options(
    ciphers: Option<String>,
    ecdh_curve: Option<String>,
    sigalgs: Option<String>,
) -> napi::Result<Option<u32>> {
    if let Some(s) = sigalgs {
        if !suites::sigalgs_known(&s) {
            return Err(throw(suites::sigalgs_error()));
        }
    }
    let mut seclevel = None;
    if let Some(c) = ciphers {
        seclevel = suites::parse_ciphers(&c)
            .map_err(throw)?
            .seclevel
            .map(u32::from);
    }
    if let Some(c) = ecdh_curve {
        suites::parse_curves(&c).map_err(throw)?;
    }
    Ok(seclevel)
}

/// How a wrapped stream is used.
#[napi(object)]
pub struct WrapOptions {
    /// Server role (`isServer`).
    pub is_server: bool,
    /// Client: SNI and certificate name.
    pub servername: Option<String>,
    /// Server: `handshakeTimeout` in ms.
    pub handshake_timeout: Option<u32>,
    /// Server: session cache listeners (1 `newSession`, 2 `resumeSession`).
    pub session_events: Option<u32>,
    /// Server: ask JavaScript (`SNI` events, `answerSni()`) which context
    /// serves the name the client asks for.
    pub sni_callback: Option<bool>,
    /// Server: `ALPNCallback` was given; ask JS which protocol to select.
    pub alpn_callback: Option<bool>,
}

/// Where `tls.connect()` goes, resolved by `lib/socket.js`.
#[napi(object)]
pub struct ConnectTarget {
    /// IP addresses to try, in order.
    pub addresses: Option<Vec<String>>,
    /// TCP port.
    pub port: Option<u32>,
    /// Unix-domain socket path.
    pub path: Option<String>,
    /// SNI and certificate name; an IP address sends no SNI.
    pub servername: Option<String>,
}

fn invalid(message: &str) -> napi::Error {
    throw(NodeError::new("ERR_INVALID_ARG_VALUE", message))
}

/// rustls' name for the server: the SNI name, or, when there is none (an IP
/// address or nothing), an IP name with SNI turned off.
fn server_name(servername: String, params: &mut Params) -> ServerName<'static> {
    if let Ok(ip) = servername.parse::<IpAddr>() {
        return ServerName::IpAddress(ip.into());
    }
    match ServerName::try_from(servername) {
        Ok(name) => name,
        Err(_) => {
            params.sni = false;
            ServerName::IpAddress(IpAddr::from(Ipv6Addr::UNSPECIFIED).into())
        }
    }
}

/// `config` with a verifier of its own that keeps the stapled OCSP
/// response in `slot` (`requestOCSP`), checking signatures with `algs`.
fn keep_ocsp(
    config: &Arc<rustls::ClientConfig>,
    params: &Params,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
    slot: ocsp::ResponseSlot,
) -> Arc<rustls::ClientConfig> {
    let verifier =
        verify::RecordingServerVerifier::new(algs, params.sigalgs.clone()).keeping_ocsp(slot);
    let mut copy = (**config).clone();
    copy.dangerous()
        .set_certificate_verifier(Arc::new(verifier));
    Arc::new(copy)
}

fn session_answer(data: Option<Buffer>, fail: Option<bool>) -> server::SessionAnswer {
    if fail.unwrap_or(false) {
        return Err(server::session_callback_failed());
    }
    Ok(data.map(|b| b.to_vec()))
}

fn session_of(params: &TlsParams) -> Option<Vec<u8>> {
    params.session.as_ref().map(|b| b.to_vec())
}

/// A client connection's session store, reporting new sessions as events.
fn session_store(session: Option<&[u8]>, sink: &conn::Sink) -> Arc<session::ConnStore> {
    let sink = sink.clone();
    Arc::new(session::ConnStore::new(
        session,
        Arc::new(move |buf| {
            if let Some(buf) = poll::divert_session(buf) {
                sink(conn::Event::Session(buf));
            }
        }),
    ))
}

/// A TLS connection (the module doc's `CryptoStream`): the native half of a
/// `TLSSocket`.
#[napi]
pub struct CryptoStream {
    shared: Arc<Shared>,
    /// A server session waiting for `start()`, with its command queue
    /// (boxed: this object lives as long as the socket, the session moves
    /// out at `start()`).
    parked: Mutex<Option<Box<Session>>>,
    /// The JS-fed transport of a wrapped stream.
    pipe: Mutex<Option<Arc<Pipe>>>,
    /// A wrapped server waiting for `SNICallback`'s answer.
    sni: Mutex<Option<tokio::sync::oneshot::Sender<server::SniAnswer>>>,
    /// A wrapped server waiting for `ALPNCallback`'s answer.
    alpn: Mutex<Option<tokio::sync::oneshot::Sender<server::AlpnAnswer>>>,
    /// A wrapped server: what `setKeyCert()` chose.
    key_cert: Mutex<Option<Arc<keycert::KeyCertSlot>>>,
}

impl CryptoStream {
    /// Plaintext to send: by this thread at once when the connection
    /// allows it ([`Shared::write_now`]), else queued for its task.
    fn write_bytes(&self, data: Cow<'_, [u8]>) -> bool {
        if let Some(ok) = self.shared.write_now(&data) {
            return ok;
        }
        let ok = self.shared.add_queued(data.len());
        self.shared.send(Command::Write(data.into_owned()));
        ok
    }

    fn with_parked(parked: Option<Box<Session>>) -> Self {
        Self {
            shared: Arc::new(Shared::default()),
            parked: Mutex::new(parked),
            pipe: Mutex::new(None),
            sni: Mutex::new(None),
            alpn: Mutex::new(None),
            key_cert: Mutex::new(None),
        }
    }
}

/// The JS object is gone: nobody can read or write the connection any more.
impl Drop for CryptoStream {
    fn drop(&mut self) {
        self.shared.destroy();
    }
}

#[napi]
impl CryptoStream {
    /// Starts a client connection; its events go through `hub` as `id`.
    #[napi(factory, catch_unwind)]
    pub fn connect(
        hub: &EventHub,
        id: u32,
        context: &NativeContext,
        params: TlsParams,
        target: ConnectTarget,
    ) -> napi::Result<Self> {
        let rt = rt()?;
        let params_keylog = params.keylog.unwrap_or(false);
        let request_ocsp = params.request_ocsp.unwrap_or(false);
        let params_in = params;
        let mut params = params_in.to_params();
        let server_name = server_name(target.servername.unwrap_or_default(), &mut params);
        let base = context.inner.client_config(&params).map_err(throw)?;
        let session = session_of(&params_in);
        let target = match (target.path, target.addresses) {
            (Some(path), _) => Target::Path(path),
            (None, Some(addresses)) => {
                let port = target
                    .port
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| invalid("port"))?;
                let addrs = addresses
                    .iter()
                    .map(|a| a.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, port)))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| invalid("address"))?;
                Target::Addrs(addrs)
            }
            (None, None) => return Err(invalid("no address or path")),
        };
        let this = Self::with_parked(None);
        let sink = hub.conn_sink(id, &this.shared);
        let store = session_store(session.as_deref(), &sink);
        let mut config = context::with_session(&base, store.clone());
        if params_keylog {
            config = keylog::client_config(&config, keylog::KeyLines::to_sink(sink.clone()));
        }
        let ocsp_slot = request_ocsp.then(|| {
            let slot = ocsp::ResponseSlot::default();
            config = keep_ocsp(
                &config,
                &params,
                context.inner.trust.algorithms(),
                slot.clone(),
            );
            slot
        });
        let config = (config, store);
        let trust = context.inner.trust.clone();
        let shared = this.shared.clone();
        let task = conn::connect(
            target,
            config,
            server_name,
            trust,
            ocsp_slot,
            shared,
            sink.clone(),
        );
        rt.spawn(contain::connection(task, this.shared.clone(), sink));
        Ok(this)
    }

    /// TLS over an existing JavaScript stream, in either role. The stream's
    /// bytes come in through `feed()`; ours go out as ciphertext events.
    #[napi(factory, catch_unwind)]
    pub fn wrap(
        hub: &EventHub,
        id: u32,
        context: &NativeContext,
        params: TlsParams,
        options: WrapOptions,
    ) -> napi::Result<Self> {
        let rt = rt()?;
        let wants_keylog = params.keylog.unwrap_or(false);
        let request_ocsp = params.request_ocsp.unwrap_or(false);
        let session = session_of(&params);
        let mut params = params.to_params();
        let this = Self::with_parked(None);
        let sink = hub.conn_sink(id, &this.shared);
        let pipe = Arc::new(Pipe::new(sink.clone()));
        let io = transport::Transport::Js(pipe.clone());
        let trust = context.inner.trust.clone();
        let timeout = options
            .handshake_timeout
            .map(|ms| Duration::from_millis(u64::from(ms)));
        let events = if options.is_server {
            options
                .session_events
                .and_then(|e| u8::try_from(e).ok())
                .unwrap_or(0)
        } else {
            0
        };
        let sni_callback = options.sni_callback == Some(true);
        let alpn_callback = options.alpn_callback == Some(true);
        if options.is_server && (sni_callback || alpn_callback) {
            let answer = sni_callback.then(|| awaited(&this.sni)).transpose()?;
            let alpn = alpn_callback.then(|| awaited(&this.alpn)).transpose()?;
            *this.pipe.lock().map_err(|_| invalid("lock"))? = Some(pipe);
            let slot = Arc::new(keycert::KeyCertSlot::new(params.clone()));
            *this.key_cert.lock().map_err(|_| invalid("lock"))? = Some(slot.clone());
            let sni = wrap_sni::SniWrap {
                context: context.inner.clone(),
                request_cert: params.request_cert,
                params,
                answer,
                alpn,
                key_cert: slot,
                events,
            };
            let task = wrap_sni::establish(io, sni, timeout, this.shared.clone(), sink.clone());
            rt.spawn(contain::connection(task, this.shared.clone(), sink));
            return Ok(this);
        }
        let lines = wants_keylog.then(|| keylog::KeyLines::to_sink(sink.clone()));
        let session = if options.is_server {
            let mut config = context.inner.server_config(&params).map_err(throw)?;
            let slot = Arc::new(keycert::KeyCertSlot::new(params.clone()));
            config = keycert::server_config(&config, slot.clone());
            *this.key_cert.lock().map_err(|_| invalid("lock"))? = Some(slot);
            if let Some(lines) = &lines {
                config = keylog::server_config(&config, lines.clone());
            }
            let tls =
                rustls::ServerConnection::new(config).map_err(|e| throw(NodeError::from(&e)))?;
            Session::server(tls, io, trust, params.request_cert, None)
        } else {
            let name = server_name(options.servername.unwrap_or_default(), &mut params);
            let base = context.inner.client_config(&params).map_err(throw)?;
            let store = session_store(session.as_deref(), &sink);
            let mut config = context::with_session(&base, store.clone());
            if let Some(lines) = &lines {
                config = keylog::client_config(&config, lines.clone());
            }
            let slot = request_ocsp.then(ocsp::ResponseSlot::default);
            if let Some(slot) = &slot {
                config = keep_ocsp(
                    &config,
                    &params,
                    context.inner.trust.algorithms(),
                    slot.clone(),
                );
            }
            let tls = rustls::ClientConnection::new(config, name)
                .map_err(|e| throw(NodeError::from(&e)))?;
            let mut session = Session::client(tls, io, trust, Some(store));
            if let Some(slot) = slot {
                session.keep_ocsp(slot);
            }
            session
        };
        *this.pipe.lock().map_err(|_| invalid("lock"))? = Some(pipe);
        let task = conn::establish(
            Box::new(session),
            events,
            timeout,
            this.shared.clone(),
            sink.clone(),
        );
        rt.spawn(contain::connection(task, this.shared.clone(), sink));
        Ok(this)
    }

    /// The answer to a `NEW_SESSION` (stored) or `RESUME_SESSION` (the
    /// session's data, if found) event of a wrapped server connection;
    /// `fail`: the callback was given an error, and the handshake ends.
    #[napi(catch_unwind)]
    pub fn answer_session(&self, _id: u32, data: Option<Buffer>, fail: Option<bool>) {
        self.shared.answer_session(session_answer(data, fail));
    }

    /// The answer to a wrapped server's `SNI` event: `context`, or the
    /// socket's own when `None`; `fail` ends the handshake.
    #[napi(catch_unwind)]
    pub fn answer_sni(&self, context: Option<&NativeContext>, fail: bool) {
        let answer = match (fail, context) {
            (true, _) => server::SniAnswer::Fail,
            (false, Some(c)) => server::SniAnswer::Context(c.inner.clone()),
            (false, None) => server::SniAnswer::Default,
        };
        if let Some(tx) = self.sni.lock().ok().and_then(|mut s| s.take()) {
            let _ = tx.send(answer);
        }
    }

    /// `ALPNCallback`'s answer on a wrapped server: the protocol selected,
    /// `None` to refuse the client (no_application_protocol alert); `fail`
    /// ends the handshake without an alert.
    #[napi(catch_unwind)]
    pub fn answer_alpn(&self, protocol: Option<Buffer>, fail: bool) {
        let answer = server::AlpnAnswer::from_js(protocol.map(|p| p.to_vec()), fail);
        if let Some(tx) = self.alpn.lock().ok().and_then(|mut s| s.take()) {
            let _ = tx.send(answer);
        }
    }

    /// `setKeyCert()` on a wrapped server: `context`'s key and certificate
    /// answer the ClientHello, if it has not been answered yet.
    #[napi(catch_unwind)]
    pub fn set_key_cert(&self, context: &NativeContext) -> napi::Result<()> {
        let slot = self.key_cert.lock().ok().and_then(|s| s.clone());
        match slot {
            Some(slot) => slot.set(&context.inner).map_err(throw),
            None => Ok(()),
        }
    }

    /// Ciphertext from the wrapped stream; false asks the caller to pause it.
    #[napi(catch_unwind)]
    pub fn feed(&self, data: BufferSlice) -> bool {
        match self.pipe.lock().ok().and_then(|p| p.clone()) {
            Some(pipe) => pipe.feed(&data),
            None => true,
        }
    }

    /// The wrapped stream ended.
    #[napi(catch_unwind)]
    pub fn feed_end(&self) {
        if let Some(pipe) = self.pipe.lock().ok().and_then(|p| p.clone()) {
            pipe.feed_end();
            // A task that reads no more still reports the end as taken.
            self.shared.wake.notify_one();
        }
    }

    /// The wrapped stream's read failed with OS error `errno` (positive,
    /// e.g. 104 for ECONNRESET): reported after the bytes fed before it.
    #[napi(catch_unwind)]
    pub fn feed_error(&self, errno: i32) {
        if let Some(pipe) = self.pipe.lock().ok().and_then(|p| p.clone()) {
            pipe.feed_error(errno);
        }
    }

    /// `n` bytes of ciphertext were written to the wrapped stream.
    #[napi(catch_unwind)]
    pub fn ack_out(&self, n: u32) {
        if let Some(pipe) = self.pipe.lock().ok().and_then(|p| p.clone()) {
            pipe.ack(usize::try_from(n).unwrap_or(usize::MAX));
        }
    }

    /// Starts a server session taken from a [`TlsServer`].
    #[napi(catch_unwind)]
    pub fn start(&self, hub: &EventHub, id: u32) -> napi::Result<()> {
        let rt = rt()?;
        let parked = self.parked.lock().map_err(|_| invalid("lock"))?.take();
        let Some(session) = parked else {
            return Err(invalid("already started"));
        };
        let sink = hub.conn_sink(id, &self.shared);
        let home = session.home().cloned();
        let (cell, io) =
            conn::go_live(*session, &self.shared).map_err(|e| throw(NodeError::io(&e, "read")))?;
        let task = contain::connection(
            conn::serve(cell, io, self.shared.clone(), sink.clone(), None),
            self.shared.clone(),
            sink,
        );
        match home {
            Some(home) => drop(home.spawn(task)),
            None => drop(rt.spawn(task)),
        }
        if let Some(js) = hub.js() {
            poll::start(js, id, &self.shared);
        }
        Ok(())
    }

    /// Queues plaintext; true while the caller may go on writing at once,
    /// false when it should wait for the drain event. The bytes are taken
    /// (sent, or copied into the queue) before this returns.
    #[napi(catch_unwind)]
    pub fn write(&self, data: BufferSlice) -> bool {
        self.write_bytes(Cow::Borrowed(&data))
    }

    /// `write()` of a string, encoded here instead of into a Buffer made
    /// for it: UTF-8, or Latin-1 when `latin1` (Node's `latin1`/`binary`:
    /// each UTF-16 code unit's low byte, as `Buffer.from(s, 'latin1')`).
    /// Returns as [`CryptoStream::write`].
    #[napi(catch_unwind)]
    pub fn write_string(&self, data: JsString, latin1: bool) -> napi::Result<bool> {
        Ok(if latin1 {
            self.write_bytes(Cow::Borrowed(data.into_latin1()?.as_slice()))
        } else {
            self.write_bytes(Cow::Borrowed(data.into_utf8()?.as_slice()))
        })
    }

    /// Queues several chunks as one write (`_writev`): Buffers, and strings
    /// encoded here as [`CryptoStream::write_string`] does, Latin-1 where
    /// the chunk's bit (by position) is set in `latin1`, else UTF-8.
    #[napi(catch_unwind)]
    pub fn writev(
        &self,
        chunks: Vec<Either<BufferSlice, JsString>>,
        latin1: u32,
    ) -> napi::Result<bool> {
        let mut all = Vec::new();
        for (i, chunk) in chunks.into_iter().enumerate() {
            match chunk {
                Either::A(bytes) => all.extend_from_slice(&bytes),
                Either::B(text) if i < 32 && latin1 & (1 << i) != 0 => {
                    all.extend_from_slice(text.into_latin1()?.as_slice());
                }
                Either::B(text) => all.extend_from_slice(text.into_utf8()?.as_slice()),
            }
        }
        Ok(self.write_bytes(Cow::Owned(all)))
    }

    /// `end()` at once, when the connection allows it ([`Shared::end_now`]):
    /// true when close_notify and FIN were sent (no `FINISHED` event
    /// follows); false when [`CryptoStream::end`] must queue it.
    #[napi(catch_unwind)]
    pub fn end_now(&self) -> bool {
        self.shared.end_now()
    }

    /// No more writes: close_notify, then half-close.
    #[napi(catch_unwind)]
    pub fn end(&self) {
        self.shared.send(Command::End);
    }

    /// Closes the socket now.
    #[napi(catch_unwind)]
    pub fn destroy(&self) {
        self.shared.destroy();
        if let Ok(mut parked) = self.parked.lock() {
            parked.take();
        }
    }

    /// A client's listeners have judged the server: its last handshake
    /// flight may go out.
    #[napi(catch_unwind)]
    pub fn release_flight(&self) {
        self.shared.release();
    }

    /// `enableTrace()`: the connection's records are traced on stderr from
    /// now on ([`trace`]).
    #[napi(catch_unwind)]
    pub fn enable_trace(&self) {
        self.shared.want_trace();
    }

    /// Resumes reading from the socket.
    #[napi(catch_unwind)]
    pub fn read_start(&self) {
        let resumed = self.shared.set_paused(false);
        poll::follow_pause(&self.shared, resumed);
    }

    /// Stops reading from the socket.
    #[napi(catch_unwind)]
    pub fn read_stop(&self) {
        self.shared.set_paused(true);
        poll::follow_pause(&self.shared, false);
    }

    /// `exportKeyingMaterial(length, label, context)`; `None` when the
    /// connection is not established (or closed).
    #[napi(catch_unwind)]
    pub fn export_keying_material(
        &self,
        length: u32,
        label: Buffer,
        context: Option<Buffer>,
    ) -> napi::Result<Option<Buffer>> {
        let length = usize::try_from(length).map_err(|_| invalid("length"))?;
        match self
            .shared
            .export_keying_material(length, &label, context.as_deref())
        {
            None => Ok(None),
            Some(Ok(bytes)) => Ok(Some(Buffer::from(bytes))),
            Some(Err(e)) => Err(throw(e)),
        }
    }

    /// `setMaxSendFragment(size)`: records of at most `size` plaintext bytes.
    #[napi(catch_unwind)]
    pub fn set_max_send_fragment(&self, size: u32) {
        let size = usize::try_from(size).unwrap_or(0);
        self.shared.max_fragment.store(size, Ordering::Relaxed);
    }

    /// `setNoDelay`.
    #[napi(catch_unwind)]
    pub fn set_no_delay(&self, on: bool) {
        self.shared.socket_option(Command::NoDelay(on));
    }

    /// `setKeepAlive`.
    #[napi(catch_unwind)]
    pub fn set_keep_alive(&self, on: bool, delay_ms: u32) {
        self.shared.socket_option(Command::KeepAlive(on, delay_ms));
    }

    /// Drops this object's handle on the event function once closed, so
    /// that the event loop may exit.
    #[napi(catch_unwind)]
    pub fn release(&self) {
        if let Ok(mut pipe) = self.pipe.lock() {
            pipe.take();
        }
    }
}

/// The answer JavaScript will give through `slot` (its sender kept there
/// for the `answer_*` call), to await.
fn awaited<T>(
    slot: &Mutex<Option<tokio::sync::oneshot::Sender<T>>>,
) -> napi::Result<tokio::sync::oneshot::Receiver<T>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    *slot.lock().map_err(|_| invalid("lock"))? = Some(tx);
    Ok(rx)
}

/// Where a server listens.
#[napi(object)]
pub struct ListenOptions {
    /// An IP address; absent means all interfaces (`::`, or `0.0.0.0`).
    pub host: Option<String>,
    /// TCP port; 0 picks one.
    pub port: Option<u32>,
    /// Unix-domain socket path.
    pub path: Option<String>,
    /// `backlog`.
    pub backlog: Option<i32>,
    /// `ipv6Only`.
    pub ipv6_only: Option<bool>,
    /// `handshakeTimeout` in ms; 0 disables.
    pub handshake_timeout: Option<u32>,
    /// `SNICallback` was given: ask JS which context serves each name.
    pub sni_callback: Option<bool>,
    /// Someone listens for `'keylog'` already.
    pub keylog: Option<bool>,
    /// Someone listens for `'OCSPRequest'` already.
    pub ocsp: Option<bool>,
    /// The server has an `ALPNCallback`: ask JS which protocol to select.
    pub alpn_callback: Option<bool>,
    /// Trace every connection (`enableTrace`, `--trace-tls`).
    pub trace: Option<bool>,
}

/// `server.address()` for TCP.
#[napi(object)]
pub struct AddressInfo {
    pub address: String,
    pub family: String,
    pub port: u32,
}

/// A listening TLS server: the native half of `tls.Server`.
#[napi]
pub struct TlsServer {
    state: Arc<ServerState>,
    local: Option<SocketAddr>,
    path: Option<String>,
    /// `addContext()` entries, consulted on every handshake.
    sni: Arc<context::SniTable>,
    /// A second descriptor of the listening socket, to stop it from the JS
    /// thread at once (new connections are refused as soon as `close()`
    /// returns, as with Node's own servers).
    closer: Mutex<Option<std::os::fd::OwnedFd>>,
    /// `close()` was called.
    closed: std::sync::atomic::AtomicBool,
}

/// The JS object is gone (collected, or its worker thread ended): the port
/// is freed and handshakes that finished but were never taken are dropped,
/// so that their peers see the connection end.
impl Drop for TlsServer {
    fn drop(&mut self) {
        if !self.closed.load(Ordering::SeqCst) {
            self.close();
        }
        if let Ok(mut ready) = self.state.ready.lock() {
            ready.clear();
        }
    }
}

fn bind_tcp(
    host: Option<&str>,
    port: u16,
    backlog: i32,
    v6only: bool,
) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let candidates: Vec<SocketAddr> = match host {
        Some(h) => vec![SocketAddr::new(
            h.parse()
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad host"))?,
            port,
        )],
        None => vec![
            SocketAddr::new(IpAddr::from(Ipv6Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port),
        ],
    };
    let mut last = None;
    for addr in candidates {
        let attempt = (|| {
            let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
            socket.set_reuse_address(true)?;
            if addr.is_ipv6() {
                socket.set_only_v6(v6only)?;
            }
            socket.bind(&addr.into())?;
            socket.listen(backlog)?;
            socket.set_nonblocking(true)?;
            Ok::<_, std::io::Error>(std::net::TcpListener::from(socket))
        })();
        match attempt {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => return Err(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no address to bind")))
}

/// What a server serves its connections with, from its context and
/// parameters.
fn server_settings(
    context: &Arc<context::Context>,
    params: TlsParams,
    sni_callback: bool,
    handshake_timeout: Duration,
    table: Arc<context::SniTable>,
) -> napi::Result<ServerSettings> {
    let params = params.to_params();
    let no_protocols = params.speaks_nothing();
    let params = if no_protocols {
        params.full_range()
    } else {
        params
    };
    let config = context
        .server_config_with(&params, table.clone())
        .map_err(throw)?;
    Ok(ServerSettings {
        config,
        trust: context.trust.clone(),
        request_cert: params.request_cert,
        handshake_timeout,
        sni: sni_callback.then(|| server::SniHook {
            context: context.clone(),
            params: params.clone(),
            table: table.clone(),
        }),
        context: context.clone(),
        no_protocols,
        table,
        params,
    })
}

#[napi]
impl TlsServer {
    /// Binds (synchronously, so errors are immediate) and starts accepting.
    #[napi(factory, catch_unwind)]
    pub fn listen(
        hub: &EventHub,
        id: u32,
        context: &NativeContext,
        params: TlsParams,
        options: ListenOptions,
    ) -> napi::Result<Self> {
        let rt = rt()?;
        let sni = Arc::new(context::SniTable::default());
        let settings = server_settings(
            &context.inner,
            params,
            options.sni_callback.unwrap_or(false),
            Duration::from_millis(u64::from(options.handshake_timeout.unwrap_or(120_000))),
            sni.clone(),
        )?;
        let home = rt.pick().1;
        let _enter = home.enter();
        let backlog = options.backlog.filter(|&b| b > 0).unwrap_or(511);
        let (listener, local, path, closer) = match options.path {
            Some(path) => {
                let std = std::os::unix::net::UnixListener::bind(&path)
                    .and_then(|l| l.set_nonblocking(true).map(|()| l))
                    .map_err(|e| throw(NodeError::io(&e, "listen")))?;
                // No closer: a shut-down Unix listener reports readiness
                // with EAGAIN forever, which tokio's accept spins on. Its
                // path is removed at close(), so new connects fail at once.
                let closer = None;
                let l = tokio::net::UnixListener::from_std(std)
                    .map_err(|e| throw(NodeError::io(&e, "listen")))?;
                (Listener::Unix(l), None, Some(path), closer)
            }
            None => {
                let port = options
                    .port
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0);
                let std = bind_tcp(
                    options.host.as_deref(),
                    port,
                    backlog,
                    options.ipv6_only.unwrap_or(false),
                )
                .map_err(|e| throw(NodeError::io(&e, "listen")))?;
                let local = std.local_addr().ok();
                let closer = std.try_clone().map(std::os::fd::OwnedFd::from).ok();
                let l = tokio::net::TcpListener::from_std(std)
                    .map_err(|e| throw(NodeError::io(&e, "listen")))?;
                (Listener::Tcp(l), local, None, closer)
            }
        };
        let state = Arc::new(ServerState::default());
        state
            .keylog
            .store(options.keylog.unwrap_or(false), Ordering::Relaxed);
        state
            .ocsp
            .store(options.ocsp.unwrap_or(false), Ordering::Relaxed);
        state
            .alpn_callback
            .store(options.alpn_callback.unwrap_or(false), Ordering::Relaxed);
        state
            .trace
            .store(options.trace.unwrap_or(false), Ordering::Relaxed);
        let sink = hub.server_sink(id);
        state.set_settings(settings);
        home.spawn(server::accept_loop(listener, state.clone(), sink));
        Ok(Self {
            state,
            local,
            path,
            sni,
            closer: Mutex::new(closer),
            closed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// `server.setSecureContext()`: connections accepted from now on are
    /// served with `context` and `params`; those accepted before keep what
    /// they had. `SNICallback`, `handshakeTimeout` and the `addContext()`
    /// entries stay the server's.
    #[napi(catch_unwind)]
    pub fn set_context(&self, context: &NativeContext, params: TlsParams) -> napi::Result<()> {
        let Some(old) = self.state.settings() else {
            return Ok(());
        };
        let settings = server_settings(
            &context.inner,
            params,
            old.sni.is_some(),
            old.handshake_timeout,
            self.sni.clone(),
        )?;
        self.state.set_settings(settings);
        Ok(())
    }

    /// The bound TCP address, or `None` for a Unix socket.
    #[napi(catch_unwind)]
    pub fn address(&self) -> Option<AddressInfo> {
        self.local.map(|a| AddressInfo {
            address: a.ip().to_string(),
            family: if a.is_ipv4() { "IPv4" } else { "IPv6" }.to_owned(),
            port: u32::from(a.port()),
        })
    }

    /// `server.addContext(hostname, context)`: clients naming a matching
    /// host get `context`'s certificate.
    #[napi(catch_unwind)]
    pub fn add_context(&self, hostname: String, context: &NativeContext) {
        self.sni.add(&hostname, &context.inner);
    }

    /// The answer to an `SNI` event: `context`, or the server's own when
    /// `None`; `fail` drops the connection.
    #[napi(catch_unwind)]
    pub fn answer_sni(&self, id: u32, context: Option<&NativeContext>, fail: bool) {
        let answer = match (fail, context) {
            (true, _) => server::SniAnswer::Fail,
            (false, Some(c)) => server::SniAnswer::Context(c.inner.clone()),
            (false, None) => server::SniAnswer::Default,
        };
        self.state.answer_sni(id, answer);
    }

    /// Which session cache listeners the server has (`newSession` and
    /// `resumeSession`).
    #[napi(catch_unwind)]
    pub fn set_session_events(&self, new_session: bool, resume_session: bool) {
        let bits = if new_session {
            server::listeners::NEW_SESSION
        } else {
            0
        } | if resume_session {
            server::listeners::RESUME_SESSION
        } else {
            0
        };
        self.state.session_events.store(bits, Ordering::SeqCst);
    }

    /// The answer to a `NEW_SESSION` (stored) or `RESUME_SESSION` (the
    /// session's data, if found) event.
    #[napi(catch_unwind)]
    pub fn answer_session(&self, id: u32, data: Option<Buffer>, fail: Option<bool>) {
        self.state.answer_session(id, session_answer(data, fail));
    }

    /// Takes the session a `SECURE` event announced.
    #[napi(catch_unwind)]
    pub fn take(&self, id: u32) -> Option<CryptoStream> {
        let session = self.state.ready.lock().ok()?.remove(&id)?;
        Some(CryptoStream::with_parked(Some(session)))
    }

    /// New connections ask JavaScript for an OCSP response to staple when
    /// the client wants one (someone listens for `'OCSPRequest'`) or not.
    #[napi(catch_unwind)]
    pub fn set_ocsp(&self, on: bool) {
        self.state.ocsp.store(on, Ordering::Relaxed);
    }

    /// The answer to an `ALPN` event: the protocol `ALPNCallback` selected
    /// (one the client offered), or `None` to refuse the client with a
    /// no_application_protocol alert; `fail` (the callback threw or chose
    /// a protocol not offered) drops the connection without an alert.
    #[napi(catch_unwind)]
    pub fn answer_alpn(
        &self,
        id: u32,
        protocol: Option<Buffer>,
        fail: bool,
        key_cert: Option<&NativeContext>,
    ) {
        let answer = server::AlpnAnswer::from_js(protocol.map(|p| p.to_vec()), fail);
        let key_cert = key_cert.map(|c| c.inner.clone());
        self.state.answer_alpn(id, answer, key_cert);
    }

    /// The answer to an `OCSP_REQUEST` event: the response to staple (none
    /// when `None`); `fail` drops the connection.
    #[napi(catch_unwind)]
    pub fn answer_ocsp(&self, id: u32, response: Option<Buffer>, fail: bool) {
        let answer = match (fail, response) {
            (true, _) => server::OcspAnswer::Fail,
            (false, Some(r)) => server::OcspAnswer::Staple(r.to_vec()),
            (false, None) => server::OcspAnswer::Nothing,
        };
        self.state.answer_ocsp(id, answer);
    }

    /// New connections keep their key-log lines (someone listens for
    /// `'keylog'`) or not.
    #[napi(catch_unwind)]
    pub fn set_keylog(&self, on: bool) {
        self.state.keylog.store(on, Ordering::Relaxed);
    }

    /// New connections are traced from their first byte (`enableTrace`
    /// server option, `--trace-tls`).
    #[napi(catch_unwind)]
    pub fn set_trace(&self, on: bool) {
        self.state.trace.store(on, Ordering::Relaxed);
    }

    /// Handshakes under way, whose connections JS has not seen yet.
    #[napi(getter, catch_unwind)]
    pub fn handshaking(&self) -> u32 {
        u32::try_from(self.state.handshaking.load(Ordering::SeqCst)).unwrap_or(u32::MAX)
    }

    /// `maxConnections`; 0 for none.
    #[napi(catch_unwind)]
    pub fn set_max_connections(&self, max: u32) {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        self.state.max_connections.store(max, Ordering::SeqCst);
    }

    /// Stops accepting and frees the port (or socket path).
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(fd) = self.closer.lock().ok().and_then(|mut c| c.take()) {
            // Shutting a listening socket down stops it listening for every
            // descriptor that shares it; the accept loop then ends as well.
            let _ = socket2::SockRef::from(&fd).shutdown(std::net::Shutdown::Both);
        }
        self.state.stop.notify_one();
        if let Some(path) = &self.path {
            // libuv removes a Unix socket's file when its server closes.
            let _ = std::fs::remove_file(path);
        }
    }
}
