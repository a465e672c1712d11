//! A server's first look at what a client sent: OpenSSL refuses bytes that
//! are not a TLS record before any TLS parsing (`ssl3_get_record`), names an
//! HTTP request or proxy request sent to a TLS port as such, and closes the
//! connection without an alert. rustls would answer such bytes with a
//! `decode_error` alert; a server reading through [`Sniff`] sees the header
//! first and reports as Node does.

use std::io::{self, Read};

use crate::error::NodeError;

/// Length of a TLS record header (RFC 8446, 5.1).
const HEADER: usize = 5;
/// What [`judge`] and [`client_hello_version`] need: the header, the
/// handshake header (4) and a ClientHello's `legacy_version` (2).
pub const KEPT: usize = HEADER + 4 + 2;
/// Enough for a whole ClientHello in one record of the largest size (what
/// a server keeps to read the name rustls does not report).
pub const HELLO: usize = HEADER + 0x4000;

/// What the first bytes say.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Fewer than a header's bytes so far.
    NeedMore,
    /// A plausible TLS (or SSLv2-compatible) record; rustls takes it from here.
    Tls,
    /// Not TLS: fail with this error and send nothing.
    NotTls(NodeError),
}

/// Judges the first bytes a server received.
pub fn judge(head: &[u8]) -> Verdict {
    if head.len() < HEADER {
        return Verdict::NeedMore;
    }
    // An SSLv2-style ClientHello (high bit of the length set, type 1), or a
    // record of major version 3: left to the TLS layer.
    if (head[0] & 0x80 != 0 && head[2] == 1) || head[1] == 3 {
        return Verdict::Tls;
    }
    let reason = [
        (&b"GET "[..], "http request"),
        (b"POST ", "http request"),
        (b"HEAD ", "http request"),
        (b"PUT ", "http request"),
        (b"CONNE", "https proxy request"),
    ]
    .iter()
    .find(|(prefix, _)| head.starts_with(prefix))
    .map_or("wrong version number", |(_, reason)| reason);
    Verdict::NotTls(NodeError::ssl(reason))
}

/// The `legacy_version` of the ClientHello that `head` begins with, when it
/// does (RFC 8446, 4.1.2; TLS 1.3 clients say TLS 1.2 there).
pub fn client_hello_version(head: &[u8]) -> Option<u16> {
    (head.len() >= KEPT && head[0] == 0x16 && head[HEADER] == 1)
        .then(|| u16::from_be_bytes([head[KEPT - 2], head[KEPT - 1]]))
}

/// OpenSSL's answer to a ClientHello from a client that speaks nothing
/// newer than TLS 1.1: a protocol_version alert (70) in a record of the
/// client's version, and `ERR_SSL_UNSUPPORTED_PROTOCOL`.
pub fn protocol_version_alert(head: &[u8]) -> [u8; 7] {
    [0x15, head[1], head[2], 0x00, 0x02, 0x02, 0x46]
}

/// The body of extension `kind` of the ClientHello that `records` (TLS
/// records as read from the wire) begin with; `None` when it has none, or
/// when the bytes are malformed or cut short.
pub fn hello_extension(records: &[u8], kind: u16) -> Option<Vec<u8>> {
    // The handshake messages, out of their records.
    let mut hs = Vec::new();
    let mut rest = records;
    while let (Some(&ty), Some(len)) = (rest.first(), be16(rest, 3)) {
        let Some(body) = rest.get(HEADER..HEADER + len) else {
            break;
        };
        if ty == 22 {
            hs.extend_from_slice(body);
        }
        rest = &rest[HEADER + len..];
    }
    let exts = client_hello_extensions(&hs)?;
    let mut at = 0;
    while let (Some(ty), Some(len)) = (be16(exts, at), be16(exts, at + 2)) {
        let body = exts.get(at + 4..at + 4 + len)?;
        if ty == usize::from(kind) {
            return Some(body.to_vec());
        }
        at += 4 + len;
    }
    None
}

/// The name in the `server_name` extension (RFC 6066, 3) of the ClientHello
/// in `records` when it is an IP address. RFC 6066 forbids those and rustls
/// ignores them, but OpenSSL sends what it is given and reports what it
/// receives, so Node's servers see `'127.0.0.1'` as `servername`.
pub fn ip_server_name(records: &[u8]) -> Option<String> {
    let ext = hello_extension(records, 0)?;
    // server_name_list length (2), name_type (1: host_name is 0), length (2).
    let len = be16(&ext, 3)?;
    if *ext.get(2)? != 0 {
        return None;
    }
    let name = std::str::from_utf8(ext.get(5..5 + len)?).ok()?;
    name.parse::<std::net::IpAddr>()
        .is_ok()
        .then(|| name.to_owned())
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// The extensions block of a ClientHello handshake message.
fn client_hello_extensions(hs: &[u8]) -> Option<&[u8]> {
    if *hs.first()? != 1 {
        return None;
    }
    let len = (usize::from(*hs.get(1)?) << 16) | be16(hs, 2)?;
    let body = hs.get(4..4 + len)?;
    // version (2), random (32), session id, cipher suites, compression.
    let mut at = 34;
    at += 1 + usize::from(*body.get(at)?);
    at += 2 + be16(body, at)?;
    at += 1 + usize::from(*body.get(at)?);
    let ext_len = be16(body, at)?;
    body.get(at + 2..at + 2 + ext_len)
}

/// A reader that keeps the first `keep` bytes read through it in `head`.
pub struct Sniff<'a, R> {
    /// The underlying reader.
    pub inner: R,
    /// The bytes seen so far (at most `keep`).
    pub head: &'a mut Vec<u8>,
    /// How many bytes to keep: [`KEPT`] to judge them, [`HELLO`] to read
    /// the ClientHello too.
    pub keep: usize,
}

impl<R: Read> Read for Sniff<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let want = self.keep.saturating_sub(self.head.len()).min(n);
        self.head.extend_from_slice(&buf[..want]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(head: &[u8]) -> Option<String> {
        match judge(head) {
            Verdict::NotTls(e) => e.reason,
            _ => None,
        }
    }

    #[test]
    fn names_what_is_not_tls() {
        assert_eq!(reason(b"GET / HTTP/1.1").as_deref(), Some("http request"));
        assert_eq!(reason(b"POST /").as_deref(), Some("http request"));
        assert_eq!(
            reason(b"CONNECT x:443").as_deref(),
            Some("https proxy request")
        );
        assert_eq!(
            reason(b"blah\nblah").as_deref(),
            Some("wrong version number")
        );
        assert_eq!(reason(&[0; 8]).as_deref(), Some("wrong version number"));
        assert_eq!(
            reason(&[0x16, 9, 9, 0, 5]).as_deref(),
            Some("wrong version number")
        );
    }

    #[test]
    fn leaves_tls_to_rustls() {
        assert_eq!(judge(&[0x16, 3, 1, 0, 200]), Verdict::Tls);
        assert_eq!(judge(&[0x15, 3, 3, 0, 2]), Verdict::Tls);
        assert_eq!(judge(&[0x80, 0x2e, 1, 3, 1]), Verdict::Tls);
        assert_eq!(judge(&[0x16, 3]), Verdict::NeedMore);
    }

    /// A ClientHello record with these extensions (type, body).
    fn client_hello(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut ext_bytes = Vec::new();
        for (ty, body) in exts {
            ext_bytes.extend_from_slice(&ty.to_be_bytes());
            ext_bytes.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
            ext_bytes.extend_from_slice(body);
        }
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        body.extend_from_slice(&u16::try_from(ext_bytes.len()).unwrap().to_be_bytes());
        body.extend_from_slice(&ext_bytes);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
        hs.extend_from_slice(&body);
        let mut record = vec![0x16, 3, 1];
        record.extend_from_slice(&u16::try_from(hs.len()).unwrap().to_be_bytes());
        record.extend_from_slice(&hs);
        record
    }

    fn server_name(name: &str) -> (u16, Vec<u8>) {
        let mut list = vec![0];
        list.extend_from_slice(&u16::try_from(name.len()).unwrap().to_be_bytes());
        list.extend_from_slice(name.as_bytes());
        let mut body = u16::try_from(list.len()).unwrap().to_be_bytes().to_vec();
        body.extend_from_slice(&list);
        (0, body)
    }

    #[test]
    fn reads_an_ip_address_sent_as_the_server_name() {
        let hello = client_hello(&[(10, vec![0, 2, 0, 29]), server_name("127.0.0.1")]);
        assert_eq!(ip_server_name(&hello).as_deref(), Some("127.0.0.1"));
        let hello = client_hello(&[server_name("::1")]);
        assert_eq!(ip_server_name(&hello).as_deref(), Some("::1"));
        // A DNS name is rustls's to report; none, or bytes cut short, is none.
        assert_eq!(
            ip_server_name(&client_hello(&[server_name("localhost")])),
            None
        );
        assert_eq!(
            ip_server_name(&client_hello(&[(10, vec![0, 2, 0, 29])])),
            None
        );
        let hello = client_hello(&[server_name("10.0.0.1")]);
        for cut in 0..hello.len() {
            assert_eq!(ip_server_name(&hello[..cut]), None);
        }
    }

    #[test]
    fn finds_an_extension_across_records() {
        let hello = client_hello(&[(5, vec![1, 0, 0, 0, 0]), server_name("1.2.3.4")]);
        // The same handshake message split over two records.
        let (head, body) = hello.split_at(5);
        let (a, b) = body.split_at(40);
        let mut split = vec![0x16, 3, 1];
        split.extend_from_slice(&u16::try_from(a.len()).unwrap().to_be_bytes());
        split.extend_from_slice(a);
        split.extend_from_slice(&head[..3]);
        split.extend_from_slice(&u16::try_from(b.len()).unwrap().to_be_bytes());
        split.extend_from_slice(b);
        assert_eq!(hello_extension(&split, 5), Some(vec![1, 0, 0, 0, 0]));
        assert_eq!(ip_server_name(&split).as_deref(), Some("1.2.3.4"));
        assert_eq!(hello_extension(&split, 16), None);
    }

    #[test]
    fn keeps_only_the_header() {
        let mut head = Vec::new();
        let mut r = Sniff {
            inner: &b"GET / HTTP/1.1"[..],
            head: &mut head,
            keep: KEPT,
        };
        let mut buf = [0u8; 3];
        r.read_exact(&mut buf).unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert_eq!(head, b"GET / HTTP/");
    }
}
