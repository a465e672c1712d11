//! Every failure that reaches JavaScript, as the code a Node user matches on.
//!
//! Rust only picks the code and the facts (`syscall`, `reason`); `lib/errors.js`
//! builds the `Error` object, so that it belongs to the caller's JS context.
//! Codes follow what `node:tls` reports on OpenSSL 3: `ERR_SSL_<REASON>` where
//! the reason is OpenSSL's reason string upper-cased (see OpenSSL's
//! `crypto/err/openssl.txt`, `SSL_R_*`), and libuv's errno names for sockets.

use std::fmt;
use std::io;

use rustls::AlertDescription;

/// A failure as Node reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeError {
    /// `err.code`, e.g. `ECONNRESET` or `ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE`.
    pub code: String,
    /// `err.message` (JS may prefix it, e.g. with the syscall and address).
    pub message: String,
    /// `err.syscall` for socket errors (`read`, `write`, `connect`, ...).
    pub syscall: Option<String>,
    /// `err.reason` for TLS errors: OpenSSL's reason text.
    pub reason: Option<String>,
}

impl NodeError {
    /// An error with a code and message and nothing else.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            syscall: None,
            reason: None,
        }
    }

    /// A TLS error named by OpenSSL's reason string.
    pub fn ssl(reason: &str) -> Self {
        let code = format!(
            "ERR_SSL_{}",
            reason.to_ascii_uppercase().replace([' ', '-'], "_")
        );
        Self {
            code,
            message: reason.to_owned(),
            syscall: None,
            reason: Some(reason.to_owned()),
        }
    }

    /// A socket error from the `syscall` that failed.
    pub fn io(err: &io::Error, syscall: &str) -> Self {
        let code = errno_name(err);
        Self {
            message: code.to_owned(),
            code: code.to_owned(),
            syscall: Some(syscall.to_owned()),
            reason: None,
        }
    }

    /// The peer went away before the handshake finished. Node's wording, from
    /// `lib/_tls_wrap.js` (`onSocketClose` / `ECONNRESET`).
    pub fn disconnected_before_secure() -> Self {
        Self::new(
            "ECONNRESET",
            "Client network socket disconnected before secure TLS connection was established",
        )
    }

    /// A connection closed before the server let JS have it (Node's
    /// `connResetException('socket hang up')` in `lib/_tls_wrap.js`).
    pub fn hang_up() -> Self {
        Self::new("ECONNRESET", "socket hang up")
    }

    /// The server's `handshakeTimeout` elapsed (Node: `ERR_TLS_HANDSHAKE_TIMEOUT`).
    pub fn handshake_timeout() -> Self {
        Self::new("ERR_TLS_HANDSHAKE_TIMEOUT", "TLS handshake timeout")
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// libuv's name for a socket error, which Node puts in `err.code`.
fn errno_name(err: &io::Error) -> &'static str {
    use io::ErrorKind::*;
    match err.kind() {
        ConnectionRefused => "ECONNREFUSED",
        ConnectionReset => "ECONNRESET",
        ConnectionAborted => "ECONNABORTED",
        BrokenPipe => "EPIPE",
        AddrInUse => "EADDRINUSE",
        AddrNotAvailable => "EADDRNOTAVAIL",
        TimedOut => "ETIMEDOUT",
        PermissionDenied => "EACCES",
        NotFound => "ENOENT",
        NotConnected => "ENOTCONN",
        HostUnreachable => "EHOSTUNREACH",
        NetworkUnreachable => "ENETUNREACH",
        InvalidInput => "EINVAL",
        UnexpectedEof => "ECONNRESET",
        _ => "EIO",
    }
}

/// OpenSSL's reason string for an alert we received (`SSL_R_*ALERT*`).
fn alert_reason(alert: AlertDescription) -> &'static str {
    use AlertDescription as A;
    match alert {
        A::UnexpectedMessage => "sslv3 alert unexpected message",
        A::BadRecordMac => "sslv3 alert bad record mac",
        A::HandshakeFailure => "sslv3 alert handshake failure",
        A::BadCertificate => "sslv3 alert bad certificate",
        A::UnsupportedCertificate => "sslv3 alert unsupported certificate",
        A::CertificateRevoked => "sslv3 alert certificate revoked",
        A::CertificateExpired => "sslv3 alert certificate expired",
        A::CertificateUnknown => "sslv3 alert certificate unknown",
        A::IllegalParameter => "sslv3 alert illegal parameter",
        A::UnknownCA => "tlsv1 alert unknown ca",
        A::AccessDenied => "tlsv1 alert access denied",
        A::DecodeError => "tlsv1 alert decode error",
        A::DecryptError => "tlsv1 alert decrypt error",
        A::ProtocolVersion => "tlsv1 alert protocol version",
        A::InsufficientSecurity => "tlsv1 alert insufficient security",
        A::InternalError => "tlsv1 alert internal error",
        A::InappropriateFallback => "tlsv1 alert inappropriate fallback",
        A::UserCanceled => "tlsv1 alert user cancelled",
        A::UnrecognisedName => "tlsv1 unrecognized name",
        A::CertificateRequired => "tlsv13 alert certificate required",
        A::NoApplicationProtocol => "tlsv1 alert no application protocol",
        A::MissingExtension => "tlsv13 alert missing extension",
        A::UnsupportedExtension => "tlsv1 alert unsupported extension",
        A::RecordOverflow => "tlsv1 alert record overflow",
        _ => "tlsv1 alert decode error",
    }
}

impl From<&rustls::Error> for NodeError {
    fn from(err: &rustls::Error) -> Self {
        use rustls::Error as E;
        let reason = match err {
            E::AlertReceived(alert) => alert_reason(*alert),
            E::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType
                | rustls::InvalidMessage::UnknownProtocolVersion,
            ) => "wrong version number",
            E::InvalidMessage(_) => "length too short",
            E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
                "unexpected message"
            }
            E::DecryptError => "decryption failed or bad record mac",
            E::NoCertificatesPresented => "peer did not return a certificate",
            E::InvalidCertificate(_) => "certificate verify failed",
            E::NoApplicationProtocol => "no application protocol",
            E::PeerIncompatible(p) => {
                let detail = format!("{p:?}");
                if detail.contains("Tls12") || detail.contains("Version") {
                    "unsupported protocol"
                } else {
                    "no shared cipher"
                }
            }
            E::PeerMisbehaved(_) => "bad extension",
            _ => {
                let mut e = Self::new("ERR_SSL_INTERNAL_ERROR", err.to_string());
                e.reason = Some("internal error".into());
                return e;
            }
        };
        let mut e = Self::ssl(reason);
        if !matches!(err, E::AlertReceived(_)) {
            e.message = format!("{reason} ({err})");
        }
        e
    }
}
