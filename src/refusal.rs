//! Where a server refuses a client as OpenSSL does rather than as rustls
//! would, one step for every server path: the plain handshake
//! ([`crate::conn::Session`]) and the one that reads the ClientHello first
//! (`SNICallback`, session and OCSP listeners, [`crate::server`]).
//! Clients match on the alert they receive, so it must be OpenSSL's.

use std::io::Write;

use rustls::ProtocolVersion;

use crate::error::NodeError;
use crate::sniff;
use crate::transport::{Io, Transport};

/// A handshake_failure alert in a TLS 1.2 record.
const HANDSHAKE_FAILURE: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// The running Node's OpenSSL is older than 3.5 (Node 20 and 22): it
/// refuses a context without a certificate chosen by `SNICallback` when
/// setting it on the connection ("passed a null parameter"), where 3.5
/// finds no signature algorithm to sign with. Set once by JavaScript.
static NULL_PARAMETER_WORDING: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Chooses how a certificate-less `SNICallback` context is refused
/// ([`NULL_PARAMETER_WORDING`]).
pub fn set_null_parameter_wording(on: bool) {
    NULL_PARAMETER_WORDING.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// `SNICallback` chose a context with no certificate, and the server has
/// none either: with OpenSSL before 3.5 Node fails setting it, sending
/// handshake_failure; `None` when the handshake goes on and fails as a
/// server without certificate does.
pub fn refuse_empty_sni_context(io: &Transport) -> Option<NodeError> {
    if !NULL_PARAMETER_WORDING.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let _ = Io(io).write_all(&HANDSHAKE_FAILURE);
    Some(NodeError::ssl("passed a null parameter"))
}

/// A no_application_protocol alert (RFC 7301, 3.2) in a TLS 1.2 record.
pub const NO_APPLICATION_PROTOCOL: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 120];

/// How OpenSSL answers a client where rustls would answer otherwise.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Send this alert, then fail with the error.
    Alert([u8; 7], NodeError),
    /// Fail with the error and send nothing.
    Silent(NodeError),
}

/// OpenSSL's answer to the rustls error `err` of a server whose client sent
/// `head` first (the start of its ClientHello record) and with which
/// `version` was agreed, when it differs from rustls's; `None` when rustls's
/// own answer is the one OpenSSL gives.
pub fn openssl_refusal(
    err: &rustls::Error,
    head: &[u8],
    version: Option<ProtocolVersion>,
) -> Option<Refusal> {
    if sniff::client_hello_version(head).is_some_and(|v| v < 0x0303) {
        // A client of TLS 1.1 or older: OpenSSL refuses its version before
        // looking at anything else.
        return Some(Refusal::Alert(
            sniff::protocol_version_alert(head),
            NodeError::ssl("unsupported protocol"),
        ));
    }
    match err {
        // A client certificate refused under rejectUnauthorized: Node drops
        // such a client without an alert, so it sees the connection close.
        rustls::Error::InvalidCertificate(_) => Some(Refusal::Silent(NodeError::hang_up())),
        // A TLS 1.2 client without the certificate a server requires: rustls
        // answers with TLS 1.3's certificate_required; OpenSSL with
        // handshake_failure (RFC 5246, 7.4.6). It goes out in the clear, as
        // all of TLS 1.2's handshake before Finished.
        rustls::Error::NoCertificatesPresented if version == Some(ProtocolVersion::TLSv1_2) => {
            Some(Refusal::Alert(HANDSHAKE_FAILURE, NodeError::from(err)))
        }
        // No certificate for this client (none configured, or none for its
        // algorithms): OpenSSL finds no signature algorithm to sign with and
        // sends handshake_failure; rustls sends access_denied.
        rustls::Error::General(what) if what == "no server certificate chain resolved" => {
            Some(Refusal::Alert(
                HANDSHAKE_FAILURE,
                NodeError::ssl("no suitable signature algorithm"),
            ))
        }
        _ => None,
    }
}

/// Applies [`openssl_refusal`]: sends its alert on `io` and returns its
/// error; `None` when rustls's answer stands.
pub fn refuse(
    err: &rustls::Error,
    head: &[u8],
    version: Option<ProtocolVersion>,
    io: &Transport,
) -> Option<NodeError> {
    match openssl_refusal(err, head, version)? {
        Refusal::Alert(alert, e) => {
            let _ = Io(io).write_all(&alert);
            Some(e)
        }
        Refusal::Silent(e) => Some(e),
    }
}

/// A server's failed `into_connection` or `accept`: OpenSSL's answer when
/// it differs, else rustls's alert and error.
pub fn refuse_hello(
    err: &rustls::Error,
    mut alert: rustls::server::AcceptedAlert,
    hello: &[u8],
    io: &Transport,
) -> NodeError {
    refuse(err, hello, None, io).unwrap_or_else(|| {
        let _ = alert.write_all(&mut Io(io));
        NodeError::from(err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of a ClientHello record of `version` (legacy_version).
    fn hello(version: u16) -> Vec<u8> {
        let v = version.to_be_bytes();
        vec![0x16, 3, 1, 0, 100, 1, 0, 0, 96, v[0], v[1]]
    }

    #[test]
    fn old_clients_get_protocol_version_whatever_failed() {
        for err in [
            rustls::Error::NoCertificatesPresented,
            rustls::Error::General("x".into()),
        ] {
            match openssl_refusal(&err, &hello(0x0302), None) {
                Some(Refusal::Alert(alert, e)) => {
                    assert_eq!(alert, [0x15, 3, 1, 0, 2, 2, 70]);
                    assert_eq!(e, NodeError::ssl("unsupported protocol"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn missing_client_certificate_is_handshake_failure_on_tls12_only() {
        let err = rustls::Error::NoCertificatesPresented;
        let tls12 = openssl_refusal(&err, &hello(0x0303), Some(ProtocolVersion::TLSv1_2));
        assert!(matches!(tls12, Some(Refusal::Alert(HANDSHAKE_FAILURE, _))));
        let tls13 = openssl_refusal(&err, &hello(0x0303), Some(ProtocolVersion::TLSv1_3));
        assert_eq!(tls13, None);
    }

    #[test]
    fn refused_certificate_closes_silently() {
        let err = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
        assert_eq!(
            openssl_refusal(&err, &hello(0x0303), Some(ProtocolVersion::TLSv1_3)),
            Some(Refusal::Silent(NodeError::hang_up()))
        );
    }

    #[test]
    fn no_certificate_for_the_client_is_handshake_failure() {
        let err = rustls::Error::General("no server certificate chain resolved".into());
        assert_eq!(
            openssl_refusal(&err, &hello(0x0303), None),
            Some(Refusal::Alert(
                HANDSHAKE_FAILURE,
                NodeError::ssl("no suitable signature algorithm")
            ))
        );
    }
}
