//! `tlsSocket.enableTrace()`, the `enableTrace` option and `--trace-tls`:
//! a protocol trace of the connection's records on stderr, in the shape of
//! OpenSSL's `SSL_trace` that Node prints ("Sent Record" / "Received
//! Record", the record header, then what the record carries).
//!
//! rustls has no trace of its own, so this one is read off the wire: every
//! byte a traced connection sends or receives passes through
//! [`sent`]/[`received`] (from `crate::transport`), which cut it into
//! records (RFC 8446, 5.1; RFC 5246, 6.2.1). Handshake messages are named
//! while records are in the clear (the hellos, and TLS 1.2's handshake up to
//! ChangeCipherSpec); once records are encrypted only their header is known
//! (OpenSSL, which decrypts, also shows their inner content).
//!
//! Connections are keyed by their socket's descriptor (or, for a wrapped
//! JavaScript stream, by its pipe), which stays the same when a connection
//! moves between threads or to the JavaScript thread's poll.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How many connections are traced: zero keeps the I/O path to one load.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// OpenSSL 3.2 and later say "Sent TLS Record", earlier ones "Sent Record".
static TLS_WORD: AtomicBool = AtomicBool::new(false);

/// Labels records as OpenSSL 3.2+ does (`tls_word`) or as earlier ones.
pub fn set_labels(tls_word: bool) {
    TLS_WORD.store(tls_word, Ordering::Relaxed);
}
static TRACED: Mutex<Option<HashMap<usize, Tracer>>> = Mutex::new(None);

fn traced() -> MutexGuard<'static, Option<HashMap<usize, Tracer>>> {
    TRACED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts tracing the connection `key` (idempotent).
pub fn enable(key: usize) {
    let mut map = traced();
    let map = map.get_or_insert_with(HashMap::new);
    if let std::collections::hash_map::Entry::Vacant(entry) = map.entry(key) {
        entry.insert(Tracer::default());
        ACTIVE.fetch_add(1, Ordering::SeqCst);
    }
}

/// Stops tracing `key` (its socket is closing; the descriptor may be reused).
pub fn disable(key: usize) {
    if ACTIVE.load(Ordering::Relaxed) == 0 {
        return;
    }
    if let Some(map) = traced().as_mut() {
        if map.remove(&key).is_some() {
            ACTIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Some connection is traced: only then do its transport's reads and
/// writes look up their key (one load on the I/O path otherwise).
#[inline]
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed) != 0
}

/// Bytes the connection `key` wrote to its transport.
pub fn sent(key: usize, bytes: &[u8]) {
    feed(key, Direction::Sent, bytes);
}

/// Bytes the connection `key` read from its transport.
pub fn received(key: usize, bytes: &[u8]) {
    feed(key, Direction::Received, bytes);
}

fn feed(key: usize, direction: Direction, bytes: &[u8]) {
    let text = {
        let mut map = traced();
        let Some(tracer) = map.as_mut().and_then(|m| m.get_mut(&key)) else {
            return;
        };
        let stream = match direction {
            Direction::Sent => &mut tracer.sent,
            Direction::Received => &mut tracer.received,
        };
        stream.push(bytes, direction)
    };
    if !text.is_empty() {
        // One write per batch, as OpenSSL writes each record's trace.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Sent,
    Received,
}

#[derive(Default)]
struct Tracer {
    sent: Records,
    received: Records,
}

/// One direction's byte stream, cut into records.
#[derive(Default)]
struct Records {
    /// The current record's header and body so far.
    current: Vec<u8>,
    /// A ChangeCipherSpec went by: later records are encrypted (TLS 1.2).
    encrypted: bool,
}

/// Most bytes a record may hold (RFC 8446, 5.2: 2^14 + 256); a length
/// beyond it means the stream is not TLS, and tracing it stops.
const MAX_RECORD: usize = 16384 + 2048;

impl Records {
    fn push(&mut self, mut bytes: &[u8], direction: Direction) -> String {
        let mut out = String::new();
        while !bytes.is_empty() {
            let need = if self.current.len() < 5 {
                5 - self.current.len()
            } else {
                let length = usize::from(u16::from_be_bytes([self.current[3], self.current[4]]));
                if length > MAX_RECORD {
                    self.current.clear();
                    return out;
                }
                5 + length - self.current.len()
            };
            let take = need.min(bytes.len());
            self.current.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.current.len() >= 5 {
                let length = usize::from(u16::from_be_bytes([self.current[3], self.current[4]]));
                if self.current.len() == 5 + length {
                    let record = std::mem::take(&mut self.current);
                    describe(&record, direction, &mut self.encrypted, &mut out);
                }
            }
        }
        out
    }
}

fn version_name(version: u16) -> &'static str {
    match version {
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        _ => "unknown",
    }
}

fn content_type_name(kind: u8) -> &'static str {
    match kind {
        20 => "ChangeCipherSpec",
        21 => "Alert",
        22 => "Handshake",
        23 => "ApplicationData",
        24 => "Heartbeat",
        _ => "unknown",
    }
}

fn handshake_name(kind: u8) -> &'static str {
    match kind {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 => "ServerHello",
        4 => "NewSessionTicket",
        5 => "EndOfEarlyData",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        24 => "KeyUpdate",
        254 => "MessageHash",
        _ => "unknown",
    }
}

fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}

/// Appends the trace of one whole record (header included) to `out`.
fn describe(record: &[u8], direction: Direction, encrypted: &mut bool, out: &mut String) {
    let kind = record[0];
    let version = u16::from_be_bytes([record[1], record[2]]);
    let body = &record[5..];
    let _ = write!(
        out,
        "{}{}Record\nHeader:\n  Version = {} (0x{version:x})\n  Content Type = {} ({kind})\n  Length = {}\n",
        match direction {
            Direction::Sent => "Sent ",
            Direction::Received => "Received ",
        },
        if TLS_WORD.load(Ordering::Relaxed) { "TLS " } else { "" },
        version_name(version),
        content_type_name(kind),
        body.len()
    );
    match kind {
        20 => {
            let _ = writeln!(out, "    change_cipher_spec (1)");
            // TLS 1.3's is a compatibility no-op (RFC 8446, D.4); its records
            // are all ApplicationData anyway.
            *encrypted = true;
        }
        21 if !*encrypted && body.len() == 2 => {
            let level = if body[0] == 2 { "fatal" } else { "warning" };
            let _ = writeln!(
                out,
                "    Level={level}({}), description={}({})",
                body[0],
                alert_name(body[1]),
                body[1]
            );
        }
        22 if !*encrypted => {
            let mut rest = body;
            while rest.len() >= 4 {
                let length = (usize::from(rest[1]) << 16)
                    | (usize::from(rest[2]) << 8)
                    | usize::from(rest[3]);
                let _ = writeln!(out, "    {}, Length={length}", handshake_name(rest[0]));
                if rest[0] == 1 || rest[0] == 2 {
                    if let [major, minor, ..] = rest[4..] {
                        let v = u16::from_be_bytes([major, minor]);
                        let who = if rest[0] == 1 { "client" } else { "server" };
                        let _ = writeln!(out, "      {who}_version=0x{v:x} ({})", version_name(v));
                    }
                }
                rest = rest.get(4 + length..).unwrap_or_default();
            }
        }
        21..=23 => {
            let _ = writeln!(out, "    (encrypted: {} bytes)", body.len());
        }
        _ => {}
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_across_reads_are_described_once_whole() {
        let mut records = Records::default();
        // A ClientHello handshake message in one record, fed in three parts.
        let record = [0x16, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3];
        assert_eq!(records.push(&record[..3], Direction::Sent), "");
        assert_eq!(records.push(&record[3..8], Direction::Sent), "");
        let text = records.push(&record[8..], Direction::Sent);
        assert!(text.starts_with("Sent Record\nHeader:\n  Version = TLS 1.0 (0x301)\n"));
        assert!(text.contains("Content Type = Handshake (22)"));
        assert!(text.contains("    ClientHello, Length=2\n      client_version=0x303 (TLS 1.2)\n"));
    }

    #[test]
    fn alerts_are_named_and_encrypted_records_only_measured() {
        let mut records = Records::default();
        let text = records.push(&[0x15, 3, 3, 0, 2, 2, 40], Direction::Received);
        assert!(text.contains("Level=fatal(2), description=handshake_failure(40)"));
        let text = records.push(
            &[0x14, 3, 3, 0, 1, 1, 0x17, 3, 3, 0, 3, 9, 9, 9],
            Direction::Received,
        );
        assert!(text.contains("change_cipher_spec"));
        assert!(text.contains(
            "Content Type = ApplicationData (23)\n  Length = 3\n    (encrypted: 3 bytes)"
        ));
    }

    #[test]
    fn bytes_that_are_not_tls_print_nothing_before_a_whole_record() {
        let mut records = Records::default();
        assert_eq!(records.push(b"GET / HTTP/1.1\r\n", Direction::Received), "");
    }
}
