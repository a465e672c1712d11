//! OCSP stapling, as Node has it: a server asks JavaScript (`'OCSPRequest'`)
//! for the response to staple when a client asks for one, and a client that
//! set `requestOCSP` hears the stapled response (`'OCSPResponse'`).
//!
//! rustls staples what the chosen [`CertifiedKey`] carries, but does not say
//! whether the client asked; [`requests_status`] reads that one bit from the
//! ClientHello's bytes. A client's stapled response reaches only the
//! certificate verifier, so a client that wants it gets a verifier of its
//! own that keeps it ([`ResponseSlot`]).

use std::sync::{Arc, Mutex};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Where a client's verifier leaves the stapled response.
pub type ResponseSlot = Arc<Mutex<Option<Vec<u8>>>>;

/// The TLS extension a client asks for a staple with (RFC 6066).
const STATUS_REQUEST: u16 = 5;

/// Whether the ClientHello in `records` (TLS records as read from the wire)
/// carries `status_request`. Anything malformed or cut short reads as no.
pub fn requests_status(records: &[u8]) -> bool {
    crate::sniff::hello_extension(records, STATUS_REQUEST).is_some()
}

/// A certificate resolver that staples `response` to whatever `inner`
/// chooses.
#[derive(Debug)]
struct Stapling {
    inner: Arc<dyn ResolvesServerCert>,
    response: Vec<u8>,
}

impl ResolvesServerCert for Stapling {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let key = self.inner.resolve(hello)?;
        let mut stapled = (*key).clone();
        stapled.ocsp = Some(self.response.clone());
        Some(Arc::new(stapled))
    }
}

/// `config` stapling `response` (a copy: other connections staple nothing).
pub fn server_config(
    config: &Arc<rustls::ServerConfig>,
    response: Vec<u8>,
) -> Arc<rustls::ServerConfig> {
    let mut copy = (**config).clone();
    copy.cert_resolver = Arc::new(Stapling {
        inner: config.cert_resolver.clone(),
        response,
    });
    Arc::new(copy)
}

#[cfg(test)]
mod tests {
    use super::requests_status;

    /// A ClientHello record with the given extensions block.
    fn hello(exts: &[u8]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([0u8; 32]);
        body.push(0); // session id
        body.extend([0, 2, 0x13, 0x01]); // one suite
        body.extend([1, 0]); // null compression
        body.extend(u16::try_from(exts.len()).unwrap().to_be_bytes());
        body.extend(exts);
        let mut hs = vec![1, 0];
        hs.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
        hs.extend(body);
        let mut rec = vec![22, 3, 1];
        rec.extend(u16::try_from(hs.len()).unwrap().to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn finds_status_request() {
        // server_name (0) then status_request (5).
        let exts = [0, 0, 0, 1, 0, 0, 5, 0, 5, 1, 0, 0, 0, 0];
        assert!(requests_status(&hello(&exts)));
        assert!(!requests_status(&hello(&exts[..5])));
        assert!(!requests_status(&hello(&[])));
        let full = hello(&exts);
        for cut in 0..full.len() {
            assert!(!requests_status(&full[..cut]));
        }
    }

    #[test]
    fn split_across_records() {
        let rec = hello(&[0, 5, 0, 0]);
        let hs = &rec[5..];
        let (a, b) = hs.split_at(10);
        let mut two = vec![22, 3, 1, 0, 10];
        two.extend(a);
        two.extend([22, 3, 1]);
        two.extend(u16::try_from(b.len()).unwrap().to_be_bytes());
        two.extend(b);
        assert!(requests_status(&two));
    }
}
