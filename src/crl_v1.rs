//! X.509 v1 certificate revocation lists: no version field and no
//! extensions, what `openssl ca -gencrl` writes unless `crl_extensions` is
//! configured (Node's own `ca2-crl.pem` fixture is one). webpki reads v2
//! lists only; OpenSSL takes both. A v1 list is read here with `x509-parser`
//! and judged as OpenSSL judges any list: it must be signed by the issuer of
//! the certificate it covers, not be past its `nextUpdate`, and a listed
//! serial number is revoked.

use rustls::pki_types::UnixTime;
use x509_parser::asn1_rs::{Any, FromDer};
use x509_parser::revocation_list::CertificateRevocationList;

/// A parsed v1 CRL.
#[derive(Debug, Clone)]
pub struct V1Crl {
    /// The issuer `Name`, tag and length included.
    issuer: Vec<u8>,
    /// The revoked serial numbers, as encoded (big-endian, sign octet kept).
    serials: Vec<Vec<u8>>,
    /// `nextUpdate` in seconds since the epoch, when present.
    next_update: Option<i64>,
    /// `tbsCertList`, tag and length included (what was signed).
    tbs: Vec<u8>,
    /// `signatureAlgorithm`'s contents (as webpki's `alg_id` constants).
    algorithm: Vec<u8>,
    /// The signature, without the BIT STRING's unused-bits octet.
    signature: Vec<u8>,
}

/// The contents of the DER object `der` begins with, and what follows it.
fn split(der: &[u8]) -> Option<(&[u8], &[u8])> {
    Any::from_der(der).ok().map(|(rest, any)| (any.data, rest))
}

impl V1Crl {
    /// Parses `der` when it is a v1 CRL (`None` for a v2 one, or anything
    /// that does not parse).
    pub fn parse(der: &[u8]) -> Option<Self> {
        let (_, crl) = CertificateRevocationList::from_der(der).ok()?;
        if crl.tbs_cert_list.version.is_some() {
            return None;
        }
        // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
        let (body, _) = split(der)?;
        let (_, after_tbs) = split(body)?;
        let tbs = &body[..body.len() - after_tbs.len()];
        let (algorithm, _) = split(after_tbs)?;
        let value = &crl.signature_value;
        if value.unused_bits != 0 {
            return None;
        }
        Some(Self {
            issuer: crl.issuer().as_raw().to_vec(),
            serials: crl
                .iter_revoked_certificates()
                .map(|r| r.raw_serial().to_vec())
                .collect(),
            next_update: crl.next_update().map(|t| t.timestamp()),
            tbs: tbs.to_vec(),
            algorithm: algorithm.to_vec(),
            signature: value.data.to_vec(),
        })
    }

    /// The issuer `Name`, tag and length included.
    pub fn issuer(&self) -> &[u8] {
        &self.issuer
    }

    /// The issuer `Name`'s contents (as webpki keeps names).
    pub fn issuer_contents(&self) -> &[u8] {
        name_contents(&self.issuer)
    }

    /// Whether the serial number `serial` (as encoded) is listed.
    pub fn lists(&self, serial: &[u8]) -> bool {
        self.serials.iter().any(|s| s == serial)
    }

    /// Past its `nextUpdate` at `now`.
    pub fn expired(&self, now: UnixTime) -> bool {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        self.next_update.is_some_and(|next| next < now)
    }

    /// Whether the list's signature verifies with the key `key` of type
    /// `key_alg` (an `alg_id` constant's contents), by the level's `algs`.
    pub fn signed_by(
        &self,
        key_alg: &[u8],
        key: &[u8],
        algs: &rustls::crypto::WebPkiSupportedAlgorithms,
    ) -> bool {
        algs.all
            .iter()
            .filter(|alg| {
                alg.signature_alg_id().as_ref() == self.algorithm.as_slice()
                    && alg.public_key_alg_id().as_ref() == key_alg
            })
            .any(|alg| {
                alg.verify_signature(key, &self.tbs, &self.signature)
                    .is_ok()
            })
    }
}

/// A `Name`'s contents, without its tag and length (as webpki keeps names).
pub fn name_contents(name: &[u8]) -> &[u8] {
    split(name).map_or(&[], |(contents, _)| contents)
}

/// The algorithm and key of a `SubjectPublicKeyInfo`'s contents (a trust
/// anchor's, as webpki keeps it: without the outer tag and length).
pub fn spki_contents_parts(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let (algorithm, rest) = split(spki)?;
    let (bits, _) = split(rest)?;
    let (&unused, key) = bits.split_first()?;
    (unused == 0).then_some((algorithm, key))
}
