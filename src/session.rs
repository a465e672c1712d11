//! TLS sessions as Node has them: client sessions a program keeps as Buffers
//! (`'session'`, `getSession()`, the `session` option), server session
//! tickets sealed with Node's 48-byte `ticketKeys`, and the server's session
//! cache events (`'newSession'` / `'resumeSession'`).
//!
//! rustls keeps a client session's secrets private: a session value cannot
//! be written out and read back. A session Buffer therefore names a slot in
//! this process's [`registry`], where the rustls values live; it resumes in
//! any connection of this process (worker threads included), but not in
//! another process. rustls uses each TLS 1.3 ticket once, where OpenSSL
//! reuses one; so every ticket a connection receives goes into the slot of
//! the session it was offered (a new slot when it was offered none, or when
//! the server refused it), and a session stays resumable while its
//! connections keep receiving tickets. Only tickets of a full handshake are
//! announced (`'session'`); those of a resumption refill quietly, as Node
//! announces no session for a resumption.
//!
//! Server tickets are `key name (16) | IV (16) | AES-128-CBC(state) |
//! HMAC-SHA256 (32)`, keyed by Node's layout of `ticketKeys` (name, HMAC
//! secret, AES key), so servers and cluster workers given the same keys
//! resume each other's sessions.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use aws_lc_rs::cipher::{
    DecryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
    AES_128,
};
use aws_lc_rs::rand::SecureRandom;
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use rustls::server::{ProducesTickets, StoresServerSessions};
use rustls::NamedGroup;

/// First bytes of a session Buffer made here.
const MAGIC: &[u8; 4] = b"RTLS";
/// Format version of a session Buffer.
const FORMAT: u8 = 1;
/// Slots kept; the oldest goes first.
const SLOTS_MAX: usize = 4096;
/// TLS 1.3 tickets kept per slot; the oldest goes first.
const TICKETS_MAX: usize = 8;

/// A session's name in the registry.
pub type Token = [u8; 16];

#[derive(Default)]
struct Slot {
    tls12: Option<Tls12ClientSessionValue>,
    tls13: VecDeque<Tls13ClientSessionValue>,
}

#[derive(Default)]
struct Registry {
    slots: HashMap<Token, Slot>,
    order: VecDeque<Token>,
    kx: HashMap<String, NamedGroup>,
}

impl Registry {
    fn slot(&mut self, token: Token) -> &mut Slot {
        if !self.slots.contains_key(&token) {
            if self.order.len() >= SLOTS_MAX {
                if let Some(old) = self.order.pop_front() {
                    self.slots.remove(&old);
                }
            }
            self.order.push_back(token);
        }
        self.slots.entry(token).or_default()
    }
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system generator does not fail on the platforms Node runs on; a
    // zero token would still work, only be guessable.
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut out);
    out
}

/// A fresh token that names no slot: the placeholder session Node hands out
/// before a TLS 1.3 server has sent a ticket (it resumes nothing).
pub fn placeholder(protocol: u8) -> Vec<u8> {
    encode(&random(), protocol, &[])
}

/// Drops the session a Buffer names (nobody outside the connection saw it).
pub fn forget(buf: &[u8]) {
    if let (Some((token, _)), Ok(mut r)) = (decode(buf), registry().lock()) {
        if r.slots.remove(&token).is_some() {
            r.order.retain(|t| *t != token);
        }
    }
}

/// A session Buffer: magic, format, token, protocol (0x12 / 0x13), ticket.
fn encode(token: &Token, protocol: u8, ticket: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + 2 + token.len() + 2 + ticket.len());
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    out.extend_from_slice(token);
    out.push(protocol);
    let len = u16::try_from(ticket.len()).unwrap_or(0);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&ticket[..usize::from(len)]);
    out
}

/// The token and ticket of a session Buffer made here; `None` for anything
/// else (an OpenSSL session from `node:tls`, garbage).
pub fn decode(buf: &[u8]) -> Option<(Token, Vec<u8>)> {
    let rest = buf.strip_prefix(MAGIC.as_slice())?;
    let (&format, rest) = rest.split_first()?;
    if format != FORMAT || rest.len() < 16 + 3 {
        return None;
    }
    let token: Token = rest[..16].try_into().ok()?;
    let len = usize::from(u16::from_be_bytes([rest[17], rest[18]]));
    let ticket = rest.get(19..19 + len)?.to_vec();
    Some((token, ticket))
}

/// The ticket inside a rustls client session value. rustls does not expose
/// it; its `Debug` form prints it in hex after `ticket: `, ahead of the
/// server's certificate chain. Formatting stops where the ticket ends, so the
/// chain (most of the text: every certificate byte as two hex digits) is never
/// written out.
fn ticket_of(value: &dyn std::fmt::Debug) -> Vec<u8> {
    let mut scan = TicketScan::default();
    // The scan ends the formatting with an error once it has the ticket.
    let _ = std::fmt::write(&mut scan, format_args!("{value:?}"));
    scan.ticket
}

/// A `fmt::Write` that reads the hex after `ticket: ` and refuses anything
/// after it, which ends the formatting there.
#[derive(Default)]
struct TicketScan {
    /// The text so far, while the label is not yet seen.
    before: String,
    reading: bool,
    /// The first digit of a byte whose second is still to come.
    high: Option<u8>,
    ticket: Vec<u8>,
}

impl TicketScan {
    const LABEL: &'static str = "ticket: ";
    /// Text ahead of the ticket is short (the suite, numbers, a session id);
    /// a value with no ticket label at all is given up on here.
    const BEFORE_MAX: usize = 4096;

    fn digits(&mut self, text: &str) -> std::fmt::Result {
        for c in text.chars() {
            let digit = c.to_digit(16).ok_or(std::fmt::Error)? as u8;
            match self.high.take() {
                None => self.high = Some(digit),
                Some(high) => self.ticket.push(high << 4 | digit),
            }
        }
        Ok(())
    }
}

impl std::fmt::Write for TicketScan {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        if self.reading {
            return self.digits(text);
        }
        self.before.push_str(text);
        let Some(at) = self.before.find(Self::LABEL) else {
            return if self.before.len() > Self::BEFORE_MAX {
                Err(std::fmt::Error)
            } else {
                Ok(())
            };
        };
        let after = self.before.split_off(at + Self::LABEL.len());
        self.reading = true;
        self.digits(&after)
    }
}

/// Where a client connection's new sessions go: a session Buffer for JS.
pub type SessionSink = Arc<dyn Fn(Vec<u8>) + Send + Sync>;

/// One client connection's view of the registry: the session it was given
/// (if any) to offer, and its slot for the sessions it receives.
pub struct ConnStore {
    /// The slot this connection's sessions go to.
    token: Mutex<Token>,
    sink: SessionSink,
    /// The ticket offered to the server, once rustls took one.
    offered: Mutex<Option<Vec<u8>>>,
    /// A TLS 1.2 session stored during the handshake, kept until it is known
    /// whether the handshake resumed (then it is the session offered, and
    /// no news) or not (then it is a new session).
    pending12: Mutex<Option<Tls12ClientSessionValue>>,
    /// The handshake resumed the session offered.
    resumed: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for ConnStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnStore").finish_non_exhaustive()
    }
}

impl ConnStore {
    /// A store offering `session` (a Buffer from `getSession()` or
    /// `'session'`; anything else offers nothing) and reporting new sessions
    /// through `sink`.
    pub fn new(session: Option<&[u8]>, sink: SessionSink) -> Self {
        let token = session
            .and_then(decode)
            .map_or_else(random, |(token, _)| token);
        Self {
            token: Mutex::new(token),
            sink,
            offered: Mutex::new(None),
            pending12: Mutex::new(None),
            resumed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn token(&self) -> Token {
        self.token.lock().map_or([0; 16], |t| *t)
    }

    /// Sessions from here on go to a new slot: the one offered was refused,
    /// and what the server gives instead is another session (sealed with
    /// other keys, perhaps), which must not displace the one offered.
    fn new_lineage(&self) {
        if let Ok(mut token) = self.token.lock() {
            *token = random();
        }
    }

    /// The handshake is over; `resumed` says whether the session offered
    /// (if one was) was taken.
    pub fn handshake_done(&self, resumed: bool) {
        self.resumed.store(resumed, Ordering::Relaxed);
        if !resumed && self.offered_ticket().is_some() {
            self.new_lineage();
        }
        let pending = self.pending12.lock().ok().and_then(|mut p| p.take());
        if let Some(value) = pending {
            let token = self.token();
            let ticket = ticket_of(&value);
            self.with(|r| r.slot(token).tls12 = Some(value));
            if !resumed {
                (self.sink)(encode(&token, 0x12, &ticket));
            }
        }
    }

    /// The ticket offered to the server, if any.
    pub fn offered_ticket(&self) -> Option<Vec<u8>> {
        self.offered.lock().ok()?.clone()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Registry) -> T) -> Option<T> {
        registry().lock().ok().map(|mut r| f(&mut r))
    }
}

impl ClientSessionStore for ConnStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        let name = server_name.to_str().into_owned();
        self.with(|r| {
            if r.kx.len() >= SLOTS_MAX {
                r.kx.clear();
            }
            r.kx.insert(name, group);
        });
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        let name = server_name.to_str();
        self.with(|r| r.kx.get(name.as_ref()).copied()).flatten()
    }

    fn set_tls12_session(&self, _: ServerName<'static>, value: Tls12ClientSessionValue) {
        if let Ok(mut pending) = self.pending12.lock() {
            *pending = Some(value);
        }
    }

    fn tls12_session(&self, _: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        let value = self
            .with(|r| r.slots.get(&self.token()).and_then(|s| s.tls12.clone()))
            .flatten()?;
        if let Ok(mut offered) = self.offered.lock() {
            *offered = Some(ticket_of(&value));
        }
        Some(value)
    }

    fn remove_tls12_session(&self, _: &ServerName<'static>) {
        self.with(|r| {
            if let Some(slot) = r.slots.get_mut(&self.token()) {
                slot.tls12 = None;
            }
        });
    }

    fn insert_tls13_ticket(&self, _: ServerName<'static>, value: Tls13ClientSessionValue) {
        let token = self.token();
        let ticket = ticket_of(&value);
        self.with(|r| {
            let slot = r.slot(token);
            if slot.tls13.len() >= TICKETS_MAX {
                slot.tls13.pop_front();
            }
            slot.tls13.push_back(value);
        });
        // A resumed connection's tickets keep its session resumable (rustls
        // uses each ticket once; an OpenSSL client reuses one); as in Node,
        // a resumption is no new session.
        if !self.resumed.load(Ordering::Relaxed) {
            (self.sink)(encode(&token, 0x13, &ticket));
        }
    }

    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        // The newest ticket: the one the last 'session' event announced.
        let value = self
            .with(|r| {
                r.slots
                    .get_mut(&self.token())
                    .and_then(|s| s.tls13.pop_back())
            })
            .flatten()?;
        if let Ok(mut offered) = self.offered.lock() {
            *offered = Some(ticket_of(&value));
        }
        Some(value)
    }
}

/// Node's default `sessionTimeout`, in seconds.
pub const DEFAULT_TIMEOUT: u32 = 300;

/// Session tickets sealed with Node's `ticketKeys`, changeable at any time
/// (`setTicketKeys`): tickets sealed with other keys no longer open.
#[derive(Debug)]
pub struct NodeTicketer {
    keys: RwLock<[u8; 48]>,
    /// `sessionTimeout`: how long a ticket stays valid, in seconds.
    timeout: AtomicU32,
    /// `sessionIdContext`: a ticket opens only where this is the same.
    id_context: Vec<u8>,
}

impl NodeTicketer {
    /// Keys as given, or random ones.
    pub fn new(keys: Option<[u8; 48]>, timeout: u32, id_context: Vec<u8>) -> Self {
        Self {
            keys: RwLock::new(keys.unwrap_or_else(random)),
            timeout: AtomicU32::new(timeout),
            id_context,
        }
    }

    /// `getTicketKeys()`.
    pub fn keys(&self) -> [u8; 48] {
        self.keys.read().map_or([0; 48], |k| *k)
    }

    /// `setTicketKeys()`.
    pub fn set_keys(&self, keys: [u8; 48]) {
        if let Ok(mut k) = self.keys.write() {
            *k = keys;
        }
    }

    fn mac(&self, hmac_key: &[u8], sealed: &[u8]) -> aws_lc_rs::hmac::Tag {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, hmac_key);
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
        ctx.update(sealed);
        ctx.update(&self.id_context);
        ctx.sign()
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

impl ProducesTickets for NodeTicketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.timeout.load(Ordering::Relaxed)
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let keys = self.keys();
        let (name, hmac_key, aes_key) = (&keys[..16], &keys[16..32], &keys[32..]);
        let iv: [u8; 16] = random();
        let key =
            PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_128, aes_key).ok()?)
                .ok()?;
        // The issue time goes in with the state, so that an old ticket can
        // be refused once `sessionTimeout` has passed.
        let mut body = Vec::with_capacity(8 + plain.len() + 16);
        body.extend_from_slice(&Self::now().to_be_bytes());
        body.extend_from_slice(plain);
        key.less_safe_encrypt(
            &mut body,
            aws_lc_rs::cipher::EncryptionContext::Iv128(iv.into()),
        )
        .ok()?;
        let mut out = Vec::with_capacity(32 + body.len() + 32);
        out.extend_from_slice(name);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&body);
        let tag = self.mac(hmac_key, &out);
        out.extend_from_slice(tag.as_ref());
        Some(out)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        let keys = self.keys();
        let (name, hmac_key, aes_key) = (&keys[..16], &keys[16..32], &keys[32..]);
        if cipher.len() < 16 + 16 + 16 + 32 || &cipher[..16] != name {
            return None;
        }
        let (sealed, tag) = cipher.split_at(cipher.len() - 32);
        let expected = self.mac(hmac_key, sealed);
        aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_ref(), tag).ok()?;
        let iv: [u8; 16] = sealed[16..32].try_into().ok()?;
        let key =
            PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_128, aes_key).ok()?)
                .ok()?;
        let mut body = sealed[32..].to_vec();
        let plain = key
            .decrypt(&mut body, DecryptionContext::Iv128(iv.into()))
            .ok()?;
        let (issued, state) = plain.split_at_checked(8)?;
        let issued = u64::from_be_bytes(issued.try_into().ok()?);
        let age = Self::now().saturating_sub(issued);
        if age > u64::from(self.lifetime()) {
            return None;
        }
        Some(state.to_vec())
    }
}

/// A server connection's part in the session cache events: the session
/// JavaScript looked up for it (`'resumeSession'`) and the sessions its
/// handshake created (for `'newSession'`).
#[derive(Debug, Default)]
pub struct ServerScope {
    /// The server has `'newSession'` / `'resumeSession'` listeners.
    pub listeners: bool,
    /// `(session id, data)` answered by `'resumeSession'`.
    pub found: Mutex<Option<(Vec<u8>, Vec<u8>)>>,
    /// `(session id, data)` stored during the handshake.
    pub created: Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
}

tokio::task_local! {
    /// The scope of the server handshake being driven, when its server has
    /// session cache listeners.
    pub static SCOPE: Arc<ServerScope>;
}

/// The server session cache: Node keeps no internal cache
/// (`SSL_SESS_CACHE_NO_INTERNAL`); sessions go to, and come from, the
/// program's `'newSession'` / `'resumeSession'` listeners.
#[derive(Debug)]
pub struct ListenerCache;

impl StoresServerSessions for ListenerCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        SCOPE
            .try_with(|scope| {
                if !scope.listeners {
                    return false;
                }
                if let Ok(mut created) = scope.created.lock() {
                    created.push((key, value));
                }
                true
            })
            .unwrap_or(false)
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        SCOPE
            .try_with(|scope| {
                let found = scope.found.lock().ok()?;
                found
                    .as_ref()
                    .filter(|(id, _)| id.as_slice() == key)
                    .map(|(_, data)| data.clone())
            })
            .ok()
            .flatten()
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.get(key)
    }

    fn can_cache(&self) -> bool {
        SCOPE.try_with(|scope| scope.listeners).unwrap_or(false)
    }
}

/// What a ClientHello says about resumption.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HelloSession {
    /// `legacy_session_id`.
    pub session_id: Vec<u8>,
    /// A non-empty session ticket extension is present.
    pub has_ticket: bool,
}

/// Reads the session id and ticket extension of the ClientHello at the
/// start of `buf` (the first record). `None` while more bytes are needed;
/// `Some(default)` for anything that is not a ClientHello (rustls will say
/// what is wrong with it).
pub fn hello_session(buf: &[u8]) -> Option<HelloSession> {
    if buf.len() < 5 {
        return None;
    }
    if buf[0] != 22 {
        return Some(HelloSession::default());
    }
    let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    let record = buf.get(5..5 + len)?;
    Some(parse_hello(record).unwrap_or_default())
}

fn parse_hello(msg: &[u8]) -> Option<HelloSession> {
    let mut r = Reader(msg);
    if r.u8()? != 1 {
        return None;
    }
    r.take(3)?; // handshake length
    r.take(2 + 32)?; // version, random
    let sid_len = usize::from(r.u8()?);
    let session_id = r.take(sid_len)?.to_vec();
    let mut out = HelloSession {
        session_id,
        has_ticket: false,
    };
    let suites = usize::from(r.u16()?);
    r.take(suites)?;
    let compression = usize::from(r.u8()?);
    r.take(compression)?;
    let Some(ext_len) = r.u16() else {
        return Some(out);
    };
    let mut exts = Reader(r.take(usize::from(ext_len))?);
    while let (Some(kind), Some(len)) = (exts.u16(), exts.u16()) {
        exts.take(usize::from(len))?;
        if kind == 35 && len > 0 {
            out.has_ticket = true;
        }
    }
    Some(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_buffers_round_trip() {
        let token = [7u8; 16];
        let buf = encode(&token, 0x13, b"ticket");
        assert_eq!(decode(&buf), Some((token, b"ticket".to_vec())));
        assert_eq!(decode(b"\x30\x82garbage"), None);
        assert_eq!(decode(&buf[..buf.len() - 1]), None);
    }

    /// Shaped like rustls' session values: the ticket in hex, then the
    /// certificate chain, which must not be formatted at all.
    // Their fields are read through `Debug` only.
    #[allow(dead_code)]
    #[derive(Debug)]
    struct Value {
        suite: &'static str,
        session_id: Hex,
        common: Common,
    }
    #[allow(dead_code)]
    #[derive(Debug)]
    struct Common {
        ticket: Hex,
        epoch: u64,
        server_cert_chain: Chain,
    }
    struct Hex(Vec<u8>);
    impl std::fmt::Debug for Hex {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
        }
    }
    struct Chain;
    impl std::fmt::Debug for Chain {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("the certificate chain was formatted");
        }
    }

    #[test]
    fn ticket_read_from_debug_form_without_the_chain() {
        let value = |ticket: &[u8]| Value {
            suite: "TLS13_AES_128_GCM_SHA256",
            session_id: Hex(vec![0xab; 32]),
            common: Common {
                ticket: Hex(ticket.to_vec()),
                epoch: 1,
                server_cert_chain: Chain,
            },
        };
        let ticket: Vec<u8> = (0..=255).collect();
        assert_eq!(ticket_of(&value(&ticket)), ticket);
        assert_eq!(ticket_of(&value(&[])), Vec::<u8>::new());
        assert_eq!(ticket_of(&"no ticket here"), Vec::<u8>::new());
    }

    #[test]
    fn tickets_open_only_with_the_same_keys_and_context() {
        let a = NodeTicketer::new(Some([1; 48]), 300, b"ctx".to_vec());
        let b = NodeTicketer::new(Some([1; 48]), 300, b"ctx".to_vec());
        let sealed = a.encrypt(b"state").unwrap();
        assert_eq!(b.decrypt(&sealed).as_deref(), Some(&b"state"[..]));
        let other = NodeTicketer::new(Some([1; 48]), 300, b"other".to_vec());
        assert_eq!(other.decrypt(&sealed), None);
        b.set_keys([2; 48]);
        assert_eq!(b.decrypt(&sealed), None);
        let mut tampered = sealed.clone();
        tampered[40] ^= 1;
        assert_eq!(a.decrypt(&tampered), None);
    }

    #[test]
    fn hello_session_id_and_ticket() {
        // A ClientHello with a 2-byte session id, one suite, and an empty
        // ticket extension followed by a 1-byte one.
        let body: Vec<u8> = [
            &[3, 3][..],
            &[0; 32],
            &[2, 0xaa, 0xbb],
            &[0, 2, 0x13, 0x01],
            &[1, 0],
            &[0, 9, 0, 35, 0, 0, 0, 35, 0, 1, 0x55],
        ]
        .concat();
        let mut msg = vec![1, 0, 0, u8::try_from(body.len()).unwrap()];
        msg.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1, 0, u8::try_from(msg.len()).unwrap()];
        rec.extend_from_slice(&msg);
        assert_eq!(hello_session(&rec[..20]), None);
        let got = hello_session(&rec).unwrap();
        assert_eq!(got.session_id, vec![0xaa, 0xbb]);
        assert!(got.has_ticket);
    }
}
