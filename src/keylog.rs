//! `'keylog'`: the connection's secrets as NSS key-log lines, the format
//! `SSLKEYLOGFILE` tools (Wireshark) read and Node emits: `LABEL
//! <client_random hex> <secret hex>\n`, with OpenSSL's labels (TLS 1.3: the
//! two handshake and two traffic secrets and `EXPORTER_SECRET`; TLS 1.2:
//! `CLIENT_RANDOM` with the master secret).
//!
//! A logger belongs to one connection; one is made only when JavaScript
//! listens for the lines, so other connections pay nothing.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use rustls::KeyLog;

use crate::conn::{Event, Sink};

/// Where a connection's lines go.
enum Out {
    /// Straight to the connection's JavaScript object.
    Sink(Sink),
    /// Kept until JavaScript has the connection (a server's handshake runs
    /// before JavaScript hears of it).
    Kept(Mutex<Vec<Vec<u8>>>),
}

/// One connection's key logger.
pub struct KeyLines(Out);

impl std::fmt::Debug for KeyLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyLines")
    }
}

impl KeyLines {
    /// Lines sent as [`Event::Keylog`] through `sink`.
    pub fn to_sink(sink: Sink) -> Arc<Self> {
        Arc::new(Self(Out::Sink(sink)))
    }

    /// Lines kept for [`KeyLines::take`].
    pub fn kept() -> Arc<Self> {
        Arc::new(Self(Out::Kept(Mutex::new(Vec::new()))))
    }

    /// The lines kept so far, in the order an OpenSSL server logs them.
    pub fn take(&self) -> Vec<Vec<u8>> {
        let mut lines = match &self.0 {
            Out::Kept(lines) => lines
                .lock()
                .map(|mut l| std::mem::take(&mut *l))
                .unwrap_or_default(),
            Out::Sink(_) => Vec::new(),
        };
        lines.sort_by_key(|l| server_order(l));
        lines
    }
}

/// Where a line comes in an OpenSSL server's sequence (TLS 1.3).
fn server_order(line: &[u8]) -> usize {
    const ORDER: [&[u8]; 5] = [
        b"SERVER_HANDSHAKE_TRAFFIC_SECRET ",
        b"CLIENT_HANDSHAKE_TRAFFIC_SECRET ",
        b"EXPORTER_SECRET ",
        b"SERVER_TRAFFIC_SECRET_0 ",
        b"CLIENT_TRAFFIC_SECRET_0 ",
    ];
    ORDER
        .iter()
        .position(|label| line.starts_with(label))
        .unwrap_or(ORDER.len())
}

/// `LABEL <client_random> <secret>\n`, lower-case hex as OpenSSL writes it.
pub fn line(label: &str, client_random: &[u8], secret: &[u8]) -> Vec<u8> {
    let mut s = String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
    s.push_str(label);
    s.push(' ');
    for b in client_random {
        let _ = write!(s, "{b:02x}");
    }
    s.push(' ');
    for b in secret {
        let _ = write!(s, "{b:02x}");
    }
    s.push('\n');
    s.into_bytes()
}

impl KeyLog for KeyLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = line(label, client_random, secret);
        match &self.0 {
            Out::Sink(sink) => sink(Event::Keylog(line)),
            Out::Kept(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        }
    }
}

/// `config` with `log` as its key logger (a copy: configurations are
/// shared by connections that log nothing).
pub fn server_config(
    config: &Arc<rustls::ServerConfig>,
    log: Arc<KeyLines>,
) -> Arc<rustls::ServerConfig> {
    let mut copy = (**config).clone();
    copy.key_log = log;
    Arc::new(copy)
}

/// The client counterpart of [`server_config`].
pub fn client_config(
    config: &Arc<rustls::ClientConfig>,
    log: Arc<KeyLines>,
) -> Arc<rustls::ClientConfig> {
    let mut copy = (**config).clone();
    copy.key_log = log;
    Arc::new(copy)
}

#[cfg(test)]
mod tests {
    #[test]
    fn nss_format() {
        assert_eq!(
            super::line("CLIENT_RANDOM", &[0x01, 0xab], &[0xff, 0x00]),
            b"CLIENT_RANDOM 01ab ff00\n".to_vec()
        );
    }
}
