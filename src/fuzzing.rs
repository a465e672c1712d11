//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz builds this
//! crate with `--cfg fuzzing`) and for `cargo test`, which replays the
//! committed corpus (`fuzz/corpus/<target>/`) through the same functions.
//!
//! Each takes arbitrary bytes and must neither panic nor hang: the
//! connection harnesses run on a tokio runtime with paused time, so a task
//! that would wait forever makes the harness's own deadline fire at once,
//! and that is reported as a panic (a hang) too.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use rustls::pki_types::ServerName;

use crate::conn::{self, Command, Event, Session, Shared, Sink};
use crate::context::{Context, ContextInput, Params};
use crate::pipe::Pipe;
use crate::server::SniAnswer;
use crate::transport::Transport;

/// The fixtures a connection needs.
const CERT: &[u8] = include_bytes!("../__test__/fixtures/cases/valid-cert.pem");
const KEY: &[u8] = include_bytes!("../__test__/fixtures/cases/valid-key.pem");
const CHAIN: &[u8] = include_bytes!("../__test__/fixtures/cases/valid-chain.pem");

/// Longest a harness waits, in paused (virtual) time: far beyond any
/// handshake, so reaching it means a task waits for something that never
/// comes.
const DEADLINE: Duration = Duration::from_secs(600);

/// A fuzz target: any bytes in, no panic and no hang.
pub type Target = fn(&[u8]);

/// The names of the targets, as `fuzz/fuzz_targets/<name>.rs` and
/// `fuzz/corpus/<name>/`.
pub const TARGETS: [(&str, Target); 4] = [
    ("context", context),
    ("pkcs12", pkcs12),
    ("client_hello", client_hello),
    ("record_stream", record_stream),
];

/// Splits `data` at `0xff 0x00` pairs (bytes that occur in no PEM text).
fn fields(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0xff && data.get(i + 1) == Some(&0) {
            out.push(Vec::new());
            i += 2;
        } else {
            if let Some(last) = out.last_mut() {
                last.push(data[i]);
            }
            i += 1;
        }
    }
    out
}

/// (a) `createSecureContext` input: the first byte picks which options the
/// fields fill (`cert`, `key`, `ca`, `crl`, `addCACert`), the rest is split
/// into those fields; the context is then used for a server and a client
/// configuration, as a connection would.
pub fn context(data: &[u8]) {
    let Some((&shape, rest)) = data.split_first() else {
        return;
    };
    let mut input = ContextInput {
        security_level: shape >> 5 & 3,
        ..ContextInput::default()
    };
    for (i, field) in fields(rest).into_iter().enumerate() {
        match (usize::from(shape) + i) % 5 {
            0 => input.certs.push(field),
            1 => input.keys.push(field),
            2 => input.ca.get_or_insert_with(Vec::new).push(field),
            3 if shape & 0x10 != 0 => input.crls.push(field),
            _ => input.added_ca.push(field),
        }
    }
    if let Ok(context) = Context::new(input) {
        let params = Params::default();
        let _ = context.server_config(&params);
        let _ = context.client_config(&params);
    }
}

/// (b) `pfx` with a passphrase: the first byte is the passphrase's length,
/// then the passphrase, then the archive; a fixture archive goes with it.
pub fn pkcs12(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n).min(rest.len());
    let passphrase = String::from_utf8_lossy(&rest[..n]).into_owned();
    let input = ContextInput {
        pfx: vec![(rest[n..].to_vec(), passphrase)],
        ..ContextInput::default()
    };
    let _ = Context::new(input);
}

/// A server context from the fixtures.
fn server_context() -> Arc<Context> {
    static CONTEXT: OnceLock<Arc<Context>> = OnceLock::new();
    CONTEXT
        .get_or_init(|| {
            let input = ContextInput {
                certs: vec![CERT.to_vec()],
                keys: vec![KEY.to_vec()],
                ca: Some(vec![CHAIN.to_vec()]),
                ..ContextInput::default()
            };
            Arc::new(Context::new(input).expect("fixture context"))
        })
        .clone()
}

/// Runs `work` on a fresh runtime with paused time; panics (a hang) when
/// it has not finished by [`DEADLINE`].
fn run<F: Future<Output = ()>>(work: F) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        if tokio::time::timeout(DEADLINE, work).await.is_err() {
            panic!("hang: the connection never closed");
        }
    });
}

/// One side of a harness connection: what JavaScript holds of it.
struct End {
    shared: Arc<Shared>,
    pipe: Arc<Pipe>,
    closed: Arc<tokio::sync::Notify>,
    is_closed: Arc<std::sync::atomic::AtomicBool>,
    /// The first plaintext bytes received (a few KiB at most).
    received: Arc<Mutex<Vec<u8>>>,
}

/// Where one end's ciphertext goes: the other end's pipe, once there is one.
/// Weak, as JavaScript's hold is: a pipe's sink must not keep pipes alive.
type PeerSlot = Arc<OnceLock<Weak<Pipe>>>;

/// A pipe and its sink, acting as `lib/socket.js` does: read credit given
/// back, session questions answered with nothing, SNI answered with the
/// socket's own context; ciphertext goes to `peer` (when it has one).
fn end(peer: PeerSlot, sni: Option<tokio::sync::oneshot::Sender<SniAnswer>>) -> (End, Sink) {
    let shared = Arc::new(Shared::default());
    let own: PeerSlot = Arc::default();
    let closed = Arc::new(tokio::sync::Notify::new());
    let is_closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sni = Mutex::new(sni);
    let received: Arc<Mutex<Vec<u8>>> = Arc::default();
    let sink: Sink = {
        let (shared, own, closed, is_closed, received) = (
            shared.clone(),
            own.clone(),
            closed.clone(),
            is_closed.clone(),
            received.clone(),
        );
        Arc::new(move |event| match event {
            Event::Ciphertext(bytes) => {
                if let Some(peer) = peer.get().and_then(Weak::upgrade) {
                    peer.feed(&bytes);
                }
                if let Some(own) = own.get().and_then(Weak::upgrade) {
                    own.ack(bytes.len());
                }
            }
            Event::ShutdownOut => {
                if let Some(peer) = peer.get().and_then(Weak::upgrade) {
                    peer.feed_end();
                }
            }
            // A client's listeners ran ('secureConnect'): its Finished may go.
            Event::Secure(_) => shared.release(),
            Event::Data(bytes, _) => {
                if let Ok(mut kept) = received.lock() {
                    let room = 4096usize.saturating_sub(kept.len()).min(bytes.len());
                    kept.extend_from_slice(&bytes[..room]);
                }
                shared.consumed(bytes.len());
            }
            Event::NewSession(..) | Event::ResumeSession(_) => shared.answer_session(Ok(None)),
            Event::Sni(_) => {
                if let Some(tx) = sni.lock().ok().and_then(|mut s| s.take()) {
                    let _ = tx.send(SniAnswer::Default);
                }
            }
            Event::Close => {
                is_closed.store(true, std::sync::atomic::Ordering::SeqCst);
                closed.notify_waiters();
            }
            _ => {}
        })
    };
    let pipe = Arc::new(Pipe::new(sink.clone()));
    let _ = own.set(Arc::downgrade(&pipe));
    (
        End {
            shared,
            pipe,
            closed,
            is_closed,
            received,
        },
        sink,
    )
}

impl End {
    async fn wait_closed(&self) {
        while !self.is_closed.load(std::sync::atomic::Ordering::SeqCst) {
            let notified = self.closed.notified();
            if self.is_closed.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            notified.await;
        }
    }
}

/// (c) A server reading a ClientHello (and whatever follows) from a wrapped
/// stream. The first byte picks the path: plain, with the session cache
/// events, or with `SNICallback`; the rest is what the client sent.
pub fn client_hello(data: &[u8]) {
    let Some((&mode, hello)) = data.split_first() else {
        return;
    };
    run(async move {
        let context = server_context();
        let params = Params {
            request_cert: mode & 4 != 0,
            reject_unauthorized: false,
            require_client_cert: false,
            ..Params::default()
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (server, sink) = end(Arc::default(), Some(tx));
        let io = Transport::Js(server.pipe.clone());
        let task: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = match mode % 3 {
            0 | 1 => {
                let Ok(config) = context.server_config(&params) else {
                    return;
                };
                let Ok(tls) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let session =
                    Session::server(tls, io, context.trust.clone(), params.request_cert, None);
                let events = if mode % 3 == 1 { 3 } else { 0 };
                Box::pin(conn::establish(
                    Box::new(session),
                    events,
                    None,
                    server.shared.clone(),
                    sink,
                ))
            }
            _ => {
                let slot = crate::keycert::KeyCertSlot::new(params.clone());
                let sni = crate::wrap_sni::SniWrap {
                    context: context.clone(),
                    request_cert: params.request_cert,
                    params,
                    answer: Some(rx),
                    alpn: None,
                    key_cert: Arc::new(slot),
                    events: 0,
                };
                Box::pin(crate::wrap_sni::establish(
                    io,
                    sni,
                    None,
                    server.shared.clone(),
                    sink,
                ))
            }
        };
        let handle = tokio::spawn(task);
        // Fed in two pieces, as a stream delivers it.
        let cut = usize::from(mode >> 3).min(hello.len());
        server.pipe.feed(&hello[..cut]);
        tokio::task::yield_now().await;
        server.pipe.feed(&hello[cut..]);
        server.pipe.feed_end();
        tokio::task::yield_now().await;
        // JavaScript destroys a socket whose stream ended, in the end.
        tokio::time::sleep(Duration::from_secs(1)).await;
        server.shared.destroy();
        server.wait_closed().await;
        let _ = handle.await;
    });
}

/// (d) An established connection over two wrapped streams, then operations
/// taken from `data`: writes each way, bytes injected into the client's
/// input (as from a peer that lies), pauses, fragment sizes, `end()`, a
/// stream ending, `destroy()`.
pub fn record_stream(data: &[u8]) {
    record_stream_seen(data);
}

/// [`record_stream`], returning the plaintext the client and the server
/// received.
fn record_stream_seen(data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let seen: Arc<Mutex<(Vec<u8>, Vec<u8>)>> = Arc::default();
    let out = seen.clone();
    run(async move {
        let context = server_context();
        let params = Params::default();
        let to_client: PeerSlot = Arc::default();
        let to_server: PeerSlot = Arc::default();
        let (server, server_sink) = end(to_client.clone(), None);
        let (client, client_sink) = end(to_server.clone(), None);
        let _ = to_client.set(Arc::downgrade(&client.pipe));
        let _ = to_server.set(Arc::downgrade(&server.pipe));
        let (Ok(server_config), Ok(client_config)) = (
            context.server_config(&params),
            context.client_config(&params),
        ) else {
            return;
        };
        let (Ok(server_tls), Ok(client_tls)) = (
            rustls::ServerConnection::new(server_config),
            rustls::ClientConnection::new(
                client_config,
                ServerName::try_from("localhost").expect("name"),
            ),
        ) else {
            return;
        };
        let server_session = Session::server(
            server_tls,
            Transport::Js(server.pipe.clone()),
            context.trust.clone(),
            false,
            None,
        );
        let client_session = Session::client(
            client_tls,
            Transport::Js(client.pipe.clone()),
            context.trust.clone(),
            None,
        );
        let tasks = [
            tokio::spawn(crate::contain::connection(
                conn::establish(
                    Box::new(server_session),
                    0,
                    None,
                    server.shared.clone(),
                    server_sink.clone(),
                ),
                server.shared.clone(),
                server_sink,
            )),
            tokio::spawn(crate::contain::connection(
                conn::establish(
                    Box::new(client_session),
                    0,
                    None,
                    client.shared.clone(),
                    client_sink.clone(),
                ),
                client.shared.clone(),
                client_sink,
            )),
        ];
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut ops = data;
        while let Some((&op, rest)) = ops.split_first() {
            ops = rest;
            let len = usize::from(ops.first().copied().unwrap_or(0));
            let take = |ops: &mut &[u8]| {
                let n = len.min(ops.len().saturating_sub(1));
                let bytes = ops.get(1..=n).unwrap_or_default().to_vec();
                *ops = ops.get(n + 1..).unwrap_or_default();
                bytes
            };
            let side = if op & 0x80 == 0 { &client } else { &server };
            match op & 0x7f {
                0..=31 => {
                    let bytes = take(&mut ops);
                    side.shared.add_queued(bytes.len());
                    side.shared.send(Command::Write(bytes));
                }
                32..=39 => {
                    // Bytes from nowhere, into the other side's input.
                    let bytes = take(&mut ops);
                    let other = if op & 0x80 == 0 { &server } else { &client };
                    other.pipe.feed(&bytes);
                }
                40..=47 => {
                    side.shared.set_paused(true);
                }
                48..=55 => {
                    side.shared.set_paused(false);
                }
                56..=59 => {
                    let n = len * 64;
                    side.shared
                        .max_fragment
                        .store(n, std::sync::atomic::Ordering::SeqCst);
                    ops = ops.get(1..).unwrap_or_default();
                }
                60..=61 => side.shared.send(Command::End),
                62 => side.pipe.feed_end(),
                63 => side.pipe.feed_error(104),
                64 => side.shared.destroy(),
                _ => tokio::time::sleep(Duration::from_millis(u64::from(op & 0x0f))).await,
            }
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Whatever state each side is in, JavaScript's destroy() closes it.
        for side in [&client, &server] {
            side.shared.set_paused(false);
            side.shared.destroy();
        }
        client.wait_closed().await;
        server.wait_closed().await;
        for task in tasks {
            let _ = task.await;
        }
        let received = |e: &End| e.received.lock().map(|r| r.clone()).unwrap_or_default();
        if let Ok(mut out) = out.lock() {
            *out = (received(&client), received(&server));
        }
    });
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every input found by fuzzing (and the seeds) stays harmless.
    #[test]
    fn corpus_replays() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut replayed = 0;
        for (name, target) in TARGETS {
            let dir = root.join(name);
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
            for entry in entries {
                let path = entry.expect("entry").path();
                let data = std::fs::read(&path).expect("read");
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(outcome.is_ok(), "{name}: {path:?} panics");
                replayed += 1;
            }
        }
        assert!(replayed >= TARGETS.len());
    }

    /// A connection's task lives as long as the connection; what only the
    /// handshake needs (rustls' session, its futures, timers) is boxed and
    /// freed when it ends, so that an idle connection holds little.
    #[test]
    fn connection_tasks_stay_small() {
        const MAX: usize = 2048;
        let context = server_context();
        let params = Params::default();
        let config = context.client_config(&params).expect("client config");
        let store = Arc::new(crate::session::ConnStore::new(None, Arc::new(|_| {})));
        let (client, sink) = end(PeerSlot::default(), None);
        let connect = conn::connect(
            conn::Target::Path(String::new()),
            (config.clone(), store),
            ServerName::try_from("localhost").expect("name"),
            context.trust.clone(),
            None,
            client.shared.clone(),
            sink.clone(),
        );
        assert!(
            std::mem::size_of_val(&connect) <= MAX,
            "connect: {}",
            std::mem::size_of_val(&connect)
        );
        let tls =
            rustls::ClientConnection::new(config, ServerName::try_from("localhost").expect("name"))
                .expect("client");
        let session = Session::client(
            tls,
            Transport::Js(client.pipe.clone()),
            context.trust.clone(),
            None,
        );
        let establish = conn::establish(
            Box::new(session),
            3,
            None,
            client.shared.clone(),
            sink.clone(),
        );
        assert!(
            std::mem::size_of_val(&establish) <= MAX,
            "establish: {}",
            std::mem::size_of_val(&establish)
        );
        // Once established, a task holds serve()'s state and hardly more
        // (conn::then_serve): nothing of the handshake's.
        let io = Arc::new(Transport::Js(client.pipe.clone()));
        let serve = conn::serve(Arc::default(), io, client.shared.clone(), sink, None);
        let serving = std::mem::size_of_val(&serve);
        assert!(serving <= 1024, "serve: {serving}");
        for (name, size) in [
            ("connect", std::mem::size_of_val(&connect)),
            ("establish", std::mem::size_of_val(&establish)),
        ] {
            assert!(size <= serving + 128, "{name}: {size}, serve: {serving}");
        }
    }

    /// The connection harness really carries data both ways, so that the
    /// record-stream target reaches the established connection.
    #[test]
    fn harness_connects_and_carries_data() {
        let mut ops = vec![0u8, 5];
        ops.extend_from_slice(b"hello");
        ops.extend_from_slice(&[0x80, 3]);
        ops.extend_from_slice(b"abc");
        let seen = record_stream_seen(&ops);
        assert_eq!(seen, (b"abc".to_vec(), b"hello".to_vec()));
    }

    /// A connection task that panics mid-stream (fault injection) is that
    /// socket's `ERR_INTERNAL_ASSERTION` error and close; another connection
    /// on the same thread carries on, and so does the process.
    #[test]
    fn a_panicking_connection_is_contained() {
        run(async {
            let pair = || {
                let a: PeerSlot = Arc::default();
                let b: PeerSlot = Arc::default();
                let (server, ss) = end(a.clone(), None);
                let (client, cs) = end(b.clone(), None);
                let _ = a.set(Arc::downgrade(&client.pipe));
                let _ = b.set(Arc::downgrade(&server.pipe));
                (server, ss, client, cs)
            };
            let context = server_context();
            let params = Params::default();
            let errors: Arc<Mutex<Vec<String>>> = Arc::default();
            let mut ends = Vec::new();
            for _ in 0..2 {
                let (server, ss, client, cs) = pair();
                let seen = errors.clone();
                let inner = cs.clone();
                let cs: Sink = Arc::new(move |event| {
                    if let Event::Error(e) = &event {
                        seen.lock().unwrap().push(e.code.clone());
                    }
                    inner(event);
                });
                let st =
                    rustls::ServerConnection::new(context.server_config(&params).unwrap()).unwrap();
                let ct = rustls::ClientConnection::new(
                    context.client_config(&params).unwrap(),
                    ServerName::try_from("localhost").unwrap(),
                )
                .unwrap();
                let s = Session::server(
                    st,
                    Transport::Js(server.pipe.clone()),
                    context.trust.clone(),
                    false,
                    None,
                );
                let c = Session::client(
                    ct,
                    Transport::Js(client.pipe.clone()),
                    context.trust.clone(),
                    None,
                );
                tokio::spawn(crate::contain::connection(
                    conn::establish(Box::new(s), 0, None, server.shared.clone(), ss.clone()),
                    server.shared.clone(),
                    ss,
                ));
                tokio::spawn(crate::contain::connection(
                    conn::establish(Box::new(c), 0, None, client.shared.clone(), cs.clone()),
                    client.shared.clone(),
                    cs,
                ));
                ends.push((server, client));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            // The first server sends the marker: its client's task panics.
            let marker = crate::contain::FAULT_MARKER.to_vec();
            ends[0].0.shared.send(Command::Write(marker));
            ends[0].1.wait_closed().await;
            assert_eq!(*errors.lock().unwrap(), ["ERR_INTERNAL_ASSERTION"]);
            // The second connection still works: a round of data, then a
            // clean close from both ends.
            let (server, client) = &ends[1];
            server.shared.send(Command::Write(b"still here".to_vec()));
            tokio::time::sleep(Duration::from_millis(10)).await;
            assert_eq!(*client.received.lock().unwrap(), b"still here");
            client.shared.send(Command::End);
            server.shared.send(Command::End);
            client.wait_closed().await;
            server.wait_closed().await;
            assert_eq!(errors.lock().unwrap().len(), 1);
        });
    }
}
