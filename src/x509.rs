//! The facts about a certificate that webpki does not hand out (raw issuer
//! and subject names, the public key, what was signed, the names a host is
//! checked against), read with `x509-parser`.
//!
//! webpki refuses X.509 v1 certificates, which Node's own docs tell users to
//! make; `x509-parser` reads every version, is fuzzed upstream, and never
//! panics on malformed input: a certificate it cannot read is `None` here,
//! which callers turn into OpenSSL's ASN.1 error or an untrusted chain.
//! Everything a user sees of a certificate (`getPeerCertificate()`) is
//! built in JavaScript by Node's own `X509Certificate`.

use x509_parser::asn1_rs::{Any, FromDer, Tag};
use x509_parser::certificate::{X509Certificate, X509CertificateParser};
use x509_parser::extensions::{GeneralName, SubjectAlternativeName};
use x509_parser::nom::Parser;
use x509_parser::oid_registry::{
    OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION, OID_SIG_ED25519, OID_X509_COMMON_NAME,
    OID_X509_EXT_SUBJECT_ALT_NAME,
};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Version;

/// A parsed DER certificate, borrowing its input.
#[derive(Debug)]
pub struct Cert<'a>(X509Certificate<'a>);

/// The kind of public key in a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// rsaEncryption.
    Rsa,
    /// id-ecPublicKey.
    Ec,
    /// id-Ed25519.
    Ed25519,
    /// Anything else, or unreadable.
    Other,
}

/// A certificate's signed parts (RFC 5280, 4.1.1), as webpki's signature
/// algorithms take them.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// `tbsCertificate`, tag and length included (what was signed).
    pub tbs: &'a [u8],
    /// `signatureAlgorithm`'s contents (as webpki's `alg_id` constants).
    pub algorithm: &'a [u8],
    /// The signature, without the BIT STRING's unused-bits octet.
    pub signature: &'a [u8],
}

/// The names a host name is checked against (Node's `checkServerIdentity`
/// reads only these two fields), rendered exactly as Node renders them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostNames {
    /// `subject.CN`, when the subject has one common name.
    pub cn: Option<String>,
    /// `subjectaltname`, e.g. `DNS:a.example, IP Address:127.0.0.1`.
    pub san: Option<String>,
}

/// The contents of the DER object `der` begins with.
fn contents(der: &[u8]) -> Option<&[u8]> {
    Any::from_der(der).ok().map(|(_, any)| any.data)
}

impl<'a> Cert<'a> {
    /// Parses the certificate `der` begins with (anything after it is
    /// ignored, as OpenSSL's `d2i_X509` does). Extensions are split but not
    /// interpreted: only what is asked for is read.
    pub fn parse(der: &'a [u8]) -> Option<Self> {
        X509CertificateParser::new()
            .with_deep_parse_extensions(false)
            .parse(der)
            .ok()
            .map(|(_, cert)| Self(cert))
    }

    /// The whole certificate's encoding, without what followed it.
    pub fn der(&self) -> &'a [u8] {
        self.0.as_raw()
    }

    /// The issuer `Name`, tag and length included.
    pub fn issuer(&self) -> &'a [u8] {
        self.0.tbs_certificate.issuer.as_raw()
    }

    /// The subject `Name`, tag and length included.
    pub fn subject(&self) -> &'a [u8] {
        self.0.tbs_certificate.subject.as_raw()
    }

    /// The `SubjectPublicKeyInfo`, tag and length included.
    pub fn spki(&self) -> &'a [u8] {
        self.0.tbs_certificate.subject_pki.raw
    }

    /// The serial number as encoded (big-endian, sign octet kept).
    pub fn raw_serial(&self) -> &'a [u8] {
        self.0.tbs_certificate.raw_serial()
    }

    /// Issuer and subject are the same name (a self-issued certificate).
    pub fn self_issued(&self) -> bool {
        self.issuer() == self.subject()
    }

    /// No `version` field: X.509 v1.
    pub fn is_v1(&self) -> bool {
        self.0.tbs_certificate.version == X509Version::V1
    }

    /// `notBefore` and `notAfter`.
    pub fn validity(&self) -> &x509_parser::certificate::Validity {
        self.0.tbs_certificate.validity()
    }

    /// The kind of key the certificate holds.
    pub fn key_kind(&self) -> KeyKind {
        let oid = &self.0.tbs_certificate.subject_pki.algorithm.algorithm;
        if *oid == OID_PKCS1_RSAENCRYPTION {
            KeyKind::Rsa
        } else if *oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
            KeyKind::Ec
        } else if *oid == OID_SIG_ED25519 {
            KeyKind::Ed25519
        } else {
            KeyKind::Other
        }
    }

    /// The modulus size in bits when the key is RSA.
    pub fn rsa_bits(&self) -> Option<usize> {
        // `RSAPublicKey::key_size()` counts whole bytes after dropping the
        // first; OpenSSL counts bits, which is what the security level uses.
        match self.0.tbs_certificate.subject_pki.parsed().ok()? {
            PublicKey::RSA(key) => Some(bit_length(key.modulus)),
            _ => None,
        }
    }

    /// The key's algorithm (contents of its `AlgorithmIdentifier`, as
    /// webpki's `alg_id` constants) and its bits.
    pub fn key_parts(&self) -> Option<(&'a [u8], &'a [u8])> {
        let spki = &self.0.tbs_certificate.subject_pki;
        // SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey }
        let algorithm = contents(contents(spki.raw)?)?;
        let bits = &spki.subject_public_key;
        let key: &'a [u8] = match &bits.data {
            std::borrow::Cow::Borrowed(b) => b,
            std::borrow::Cow::Owned(_) => return None,
        };
        (bits.unused_bits == 0).then_some((algorithm, key))
    }

    /// What was signed, by which algorithm, and the signature.
    pub fn signed(&self) -> Option<Signed<'a>> {
        // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, .. }
        let body = contents(self.der())?;
        let (after_tbs, _) = Any::from_der(body).ok()?;
        let tbs = &body[..body.len() - after_tbs.len()];
        let algorithm = contents(after_tbs)?;
        let value = &self.0.signature_value;
        let signature: &'a [u8] = match &value.data {
            std::borrow::Cow::Borrowed(b) => b,
            std::borrow::Cow::Owned(_) => return None,
        };
        (value.unused_bits == 0).then_some(Signed {
            tbs,
            algorithm,
            signature,
        })
    }

    /// The host-name facts of the certificate, or `None` when it holds
    /// anything that Node would render in a way not reproduced here (then
    /// JavaScript parses the certificate itself).
    pub fn host_names(&self) -> Option<HostNames> {
        let mut names = HostNames {
            cn: self.common_name().ok()?,
            san: None,
        };
        for ext in self.0.tbs_certificate.extensions() {
            if ext.oid != OID_X509_EXT_SUBJECT_ALT_NAME {
                continue;
            }
            if names.san.is_some() {
                return None;
            }
            let (_, san) = SubjectAlternativeName::from_der(ext.value).ok()?;
            names.san = Some(alt_names(&san)?);
        }
        Some(names)
    }

    /// The subject's common name: `Ok(None)` without one, `Err` when there
    /// are several or one Node would print differently.
    fn common_name(&self) -> Result<Option<String>, ()> {
        let mut found = None;
        for atv in self.0.tbs_certificate.subject.iter_attributes() {
            if *atv.attr_type() != OID_X509_COMMON_NAME {
                continue;
            }
            let value = atv.attr_value();
            // UTF8String, PrintableString, IA5String: ASCII printed as is.
            let string_tag = matches!(
                value.tag(),
                Tag::Utf8String | Tag::PrintableString | Tag::Ia5String
            );
            if found.is_some() || !string_tag {
                return Err(());
            }
            // Node shows the value as it is; printable ASCII is kept here.
            let printable = value.data.iter().all(|&b| (0x20..0x7f).contains(&b));
            if !printable || value.data.is_empty() {
                return Err(());
            }
            found = Some(String::from_utf8_lossy(value.data).into_owned());
        }
        Ok(found)
    }
}

/// Bits in a big-endian unsigned integer, leading zeros not counted.
fn bit_length(digits: &[u8]) -> usize {
    match digits.iter().position(|&b| b != 0) {
        Some(i) => (digits.len() - i) * 8 - digits[i].leading_zeros() as usize,
        None => 0,
    }
}

/// The first certificate of `input`, without what follows it (OpenSSL's
/// "TRUSTED CERTIFICATE" PEM appends trust settings to the certificate).
pub fn first_certificate(input: &[u8]) -> Option<&[u8]> {
    Cert::parse(input).map(|c| c.der())
}

/// A name Node prints as it is (no quoting, no escapes): letters, digits and
/// `.-_*`, at least one character.
fn plain_name(name: &str) -> Option<&str> {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'*'));
    plain.then_some(name)
}

/// `subjectaltname`: DNS names and IP addresses only; anything else is left
/// to Node's own parser.
fn alt_names(san: &SubjectAlternativeName<'_>) -> Option<String> {
    let mut out = Vec::new();
    for name in &san.general_names {
        match name {
            GeneralName::DNSName(dns) => out.push(format!("DNS:{}", plain_name(dns)?)),
            GeneralName::IPAddress(&[a, b, c, d]) => {
                out.push(format!("IP Address:{a}.{b}.{c}.{d}"));
            }
            GeneralName::IPAddress(v6) if v6.len() == 16 => {
                // OpenSSL's form: eight groups in hex, none left out.
                let groups: Vec<String> = v6
                    .chunks(2)
                    .map(|g| format!("{:X}", u16::from_be_bytes([g[0], g[1]])))
                    .collect();
                out.push(format!("IP Address:{}", groups.join(":")));
            }
            _ => return None,
        }
    }
    (!out.is_empty()).then(|| out.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let path = format!(
            "{}/__test__/fixtures/cases/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        CertificateDer::from_pem_file(path).unwrap().to_vec()
    }

    fn names(cn: Option<&str>, san: Option<&str>) -> Option<HostNames> {
        Some(HostNames {
            cn: cn.map(str::to_owned),
            san: san.map(str::to_owned),
        })
    }

    #[test]
    fn truncated_input_is_none() {
        assert!(Cert::parse(&[]).is_none());
        assert!(Cert::parse(&[0x30]).is_none());
        assert!(Cert::parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(Cert::parse(&[0x30, 0x03, 0x30, 0x01]).is_none());
        let der = fixture("valid-cert.pem");
        for n in 0..der.len() {
            assert!(Cert::parse(&der[..n]).is_none(), "{n} bytes");
        }
    }

    // The expected strings are what Node's `toLegacyObject()` shows for
    // these certificates (`subject.CN`, `subjectaltname`).
    #[test]
    fn host_names_as_node_renders_them() {
        let case = |name: &str| Cert::parse(&fixture(name)).and_then(|c| c.host_names());
        assert_eq!(
            case("valid-cert.pem"),
            names(
                Some("localhost"),
                Some("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1")
            )
        );
        assert_eq!(
            case("wildcard-cert.pem"),
            names(Some("*.example.test"), Some("DNS:*.example.test"))
        );
        assert_eq!(case("v1-cert.pem"), names(Some("localhost"), None));
        assert_eq!(
            case("ip-cert.pem"),
            names(Some("ip leaf"), Some("IP Address:127.0.0.1"))
        );
    }

    #[test]
    fn reads_v1_certificates() {
        let der = fixture("v1-cert.pem");
        let cert = Cert::parse(&der).unwrap();
        assert!(cert.is_v1());
        assert_eq!(cert.key_kind(), KeyKind::Rsa);
        assert_eq!(cert.rsa_bits(), Some(2048));
        let signed = cert.signed().unwrap();
        assert!(der.windows(signed.tbs.len()).any(|w| w == signed.tbs));
        // sha256WithRSAEncryption, NULL parameters.
        assert_eq!(signed.algorithm[..2], [0x06, 0x09]);
        assert!(!Cert::parse(&fixture("valid-cert.pem")).unwrap().is_v1());
    }

    #[test]
    fn trailing_bytes_are_not_the_certificate() {
        let der = fixture("valid-cert.pem");
        let mut trusted = der.clone();
        trusted.extend_from_slice(&[0x30, 0x03, 0x0c, 0x01, b'x']);
        assert_eq!(first_certificate(&trusted), Some(&der[..]));
    }

    #[test]
    fn counts_bits_as_openssl() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
        assert_eq!(bit_length(&[0, 0]), 0);
    }
}
