//! The hand-written rustls driver (`crate::conn`) against tokio-rustls on
//! one established 1 KiB echo path: the same tokio-rustls echo server, the
//! client driven either way on one current-thread runtime, the application
//! answering each echo from the driver's own thread (the cheapest place for
//! either). Run with
//! `cargo test --release driver_bench -- --ignored --nocapture`.
//!
//! It measures what each driver costs per message on a TLS thread. What the
//! hand driver buys beyond that is not on this path: the JavaScript thread
//! encrypts, writes, reads and decrypts an established connection itself
//! (`Shared::write_now`, `crate::poll`), which needs the rustls connection
//! and the socket reachable outside any task; a `tokio_rustls::TlsStream`
//! is owned by its task, so every message would cross to it and back.

use std::io::BufReader;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Builder;

use crate::conn::{self, Command, Event, Shared, Target};
use crate::session::ConnStore;
use crate::verify::Trust;

const SIZE: usize = 1024;
const WINDOW: Duration = Duration::from_secs(2);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/__test__/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn ca() -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(&fixture("ca-cert.pem")).unwrap()
}

/// A tokio-rustls echo server on its own thread.
fn echo_server() -> SocketAddr {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_reader_iter(&mut BufReader::new(&fixture("ec-cert.pem")[..]))
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(&fixture("ec-key.pem")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                tcp.set_nodelay(true).unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = tls.read(&mut buf).await {
                        if n == 0 || tls.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
    });
    addr
}

fn client_config() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca()).unwrap();
    Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn tokio_rustls_client(addr: SocketAddr) -> f64 {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let connector = tokio_rustls::TlsConnector::from(client_config());
        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let message = vec![b'x'; SIZE];
        let mut reply = vec![0u8; SIZE];
        let start = Instant::now();
        let mut trips = 0u64;
        while start.elapsed() < WINDOW {
            tls.write_all(&message).await.unwrap();
            tls.read_exact(&mut reply).await.unwrap();
            trips += 1;
        }
        trips as f64 / start.elapsed().as_secs_f64()
    })
}

fn hand_driver_client(addr: SocketAddr) -> f64 {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let shared = Arc::new(Shared::default());
    let trips = Arc::new(AtomicU64::new(0));
    let started = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let stopped = Arc::new(AtomicBool::new(false));
    let sink: conn::Sink = {
        let shared = shared.clone();
        let trips = trips.clone();
        let started = started.clone();
        let stopped = stopped.clone();
        let pending = std::sync::Mutex::new(0usize);
        let message = vec![b'x'; SIZE];
        let send = move |shared: &Shared| {
            if shared.write_now(&message).is_none() {
                shared.add_queued(SIZE);
                shared.send(Command::Write(message.clone()));
            }
        };
        Arc::new(move |event| match event {
            Event::Secure(_) => {
                *started.lock().unwrap() = Some(Instant::now());
                send(&shared);
            }
            Event::Data(bytes, _) => {
                shared.consumed(bytes.len());
                let mut pending = pending.lock().unwrap();
                *pending += bytes.len();
                while *pending >= SIZE {
                    *pending -= SIZE;
                    trips.fetch_add(1, Ordering::Relaxed);
                    let begun = started.lock().unwrap().unwrap();
                    if begun.elapsed() >= WINDOW {
                        stopped.store(true, Ordering::SeqCst);
                        shared.destroy();
                    } else {
                        send(&shared);
                    }
                }
            }
            _ => {}
        })
    };
    let store = Arc::new(ConnStore::new(None, Arc::new(|_| {})));
    rt.block_on(conn::connect(
        Target::Addrs(vec![addr]),
        (client_config(), store),
        ServerName::try_from("localhost").unwrap(),
        Trust::from_ca(vec![ca()], false, 1),
        None,
        shared,
        sink,
    ));
    assert!(stopped.load(Ordering::SeqCst), "the echo loop ended early");
    let begun = started.lock().unwrap().unwrap();
    trips.load(Ordering::Relaxed) as f64 / begun.elapsed().as_secs_f64()
}

#[test]
#[ignore = "a benchmark: cargo test --release driver_bench -- --ignored --nocapture"]
fn driver_bench() {
    let addr = echo_server();
    let mut hand = Vec::new();
    let mut tokio = Vec::new();
    for _ in 0..3 {
        hand.push(hand_driver_client(addr));
        tokio.push(tokio_rustls_client(addr));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (h, t) = (median(&mut hand), median(&mut tokio));
    println!(
        "1 KiB echo, one connection, round trips/s (median of 3): hand driver {h:.0}, tokio-rustls {t:.0}, ratio {:.2}",
        h / t
    );
}
