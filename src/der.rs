//! The few facts about a certificate that webpki does not hand out: the raw issuer and subject names, and its public key.
//!
//! webpki refuses X.509 v1 certificates, which Node's own docs tell users to
//! make, so this reads the outer structure of `TBSCertificate` (RFC 5280,
//! 4.1) directly. It never panics on malformed input: every step is checked
//! and a bad certificate gives `None`.

/// Borrowed parts of a DER certificate.
#[derive(Debug, Clone, Copy)]
pub struct CertParts<'a> {
    /// The issuer `Name`, tag and length included.
    pub issuer: &'a [u8],
    /// The subject `Name`, tag and length included.
    pub subject: &'a [u8],
    /// The `SubjectPublicKeyInfo`, tag and length included.
    pub spki: &'a [u8],
    /// What follows it in `TBSCertificate`: the optional unique IDs and
    /// extensions (`[3]`).
    pub rest: &'a [u8],
}

impl CertParts<'_> {
    /// Issuer and subject are the same name (a self-issued certificate).
    pub fn self_issued(&self) -> bool {
        self.issuer == self.subject
    }
}

/// One TLV: its tag, contents, and the whole encoding.
struct Tlv<'a> {
    tag: u8,
    contents: &'a [u8],
    whole: &'a [u8],
}

/// Reads one TLV from the front of `input`, returning it and the rest.
fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    let tlv = Tlv {
        tag,
        contents: &rest[..len],
        whole: &input[..header + len],
    };
    Some((tlv, &rest[len..]))
}

/// Reads a TLV that must carry `tag`.
fn expect(input: &[u8], tag: u8) -> Option<(Tlv<'_>, &[u8])> {
    read_tlv(input).filter(|(t, _)| t.tag == tag)
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const VERSION_TAG: u8 = 0xa0;
/// DER of the OID 1.2.840.113549.1.1.1 (rsaEncryption), contents only.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Splits a DER certificate into the parts above.
pub fn parse_cert(der: &[u8]) -> Option<CertParts<'_>> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (tbs, _) = expect(cert.contents, SEQUENCE)?;
    let mut rest = tbs.contents;
    if rest.first() == Some(&VERSION_TAG) {
        rest = read_tlv(rest)?.1;
    }
    let (_serial, rest) = expect(rest, INTEGER)?;
    let (_sig_alg, rest) = expect(rest, SEQUENCE)?;
    let (issuer, rest) = expect(rest, SEQUENCE)?;
    let (_validity, rest) = expect(rest, SEQUENCE)?;
    let (subject, rest) = expect(rest, SEQUENCE)?;
    let (spki, rest) = expect(rest, SEQUENCE)?;
    Some(CertParts {
        issuer: issuer.whole,
        subject: subject.whole,
        spki: spki.whole,
        rest,
    })
}

/// The first DER object of `input`, without what follows it (OpenSSL's
/// "TRUSTED CERTIFICATE" PEM appends trust settings to the certificate).
pub fn first_object(input: &[u8]) -> Option<&[u8]> {
    read_tlv(input).map(|(tlv, _)| tlv.whole)
}

/// A certificate's signed parts (RFC 5280, 4.1.1): the whole
/// `tbsCertificate`, the contents of `signatureAlgorithm`, and the
/// signature's bits; and whether the certificate is X.509 v1.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// `tbsCertificate`, tag and length included (what was signed).
    pub tbs: &'a [u8],
    /// `signatureAlgorithm`'s contents (as webpki's `alg_id` constants).
    pub algorithm: &'a [u8],
    /// The signature, without the BIT STRING's unused-bits octet.
    pub signature: &'a [u8],
    /// No `version` field: X.509 v1.
    pub v1: bool,
}

/// Splits a DER certificate into what was signed and the signature.
pub fn signed(der: &[u8]) -> Option<Signed<'_>> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (tbs, rest) = expect(cert.contents, SEQUENCE)?;
    let (algorithm, rest) = expect(rest, SEQUENCE)?;
    let (bits, _) = expect(rest, BIT_STRING)?;
    let (&unused, signature) = bits.contents.split_first()?;
    (unused == 0).then_some(Signed {
        tbs: tbs.whole,
        algorithm: algorithm.contents,
        signature,
        v1: tbs.contents.first() != Some(&VERSION_TAG),
    })
}

/// A `SubjectPublicKeyInfo`'s algorithm (contents, as webpki's `alg_id`
/// constants) and its key bits.
pub fn spki_parts(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let (seq, _) = expect(spki, SEQUENCE)?;
    let (algorithm, rest) = expect(seq.contents, SEQUENCE)?;
    let (bits, _) = expect(rest, BIT_STRING)?;
    let (&unused, key) = bits.contents.split_first()?;
    (unused == 0).then_some((algorithm.contents, key))
}

/// DER of the OID 1.2.840.10045.2.1 (id-ecPublicKey), contents only.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER of the OID 1.3.101.112 (id-Ed25519), contents only.
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// The kind of public key in a `SubjectPublicKeyInfo`.
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

/// What kind of key `spki` holds.
pub fn key_kind(spki: &[u8]) -> KeyKind {
    let oid = expect(spki, SEQUENCE)
        .and_then(|(spki, _)| expect(spki.contents, SEQUENCE))
        .and_then(|(alg, _)| expect(alg.contents, 0x06))
        .map(|(oid, _)| oid.contents);
    match oid {
        Some(RSA_ENCRYPTION) => KeyKind::Rsa,
        Some(EC_PUBLIC_KEY) => KeyKind::Ec,
        Some(ED25519) => KeyKind::Ed25519,
        _ => KeyKind::Other,
    }
}

/// The modulus size in bits when `spki` holds an RSA key.
pub fn rsa_bits(spki: &[u8]) -> Option<usize> {
    let (spki, _) = expect(spki, SEQUENCE)?;
    let (alg, rest) = expect(spki.contents, SEQUENCE)?;
    let (oid, _) = expect(alg.contents, 0x06)?;
    if oid.contents != RSA_ENCRYPTION {
        return None;
    }
    let (bits, _) = expect(rest, BIT_STRING)?;
    let (key, _) = expect(bits.contents.get(1..)?, SEQUENCE)?;
    let (modulus, _) = expect(key.contents, INTEGER)?;
    let digits = match modulus.contents.iter().position(|&b| b != 0) {
        Some(i) => &modulus.contents[i..],
        None => return Some(0),
    };
    Some(digits.len() * 8 - digits[0].leading_zeros() as usize)
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

/// DER of the OID 2.5.4.3 (commonName), contents only.
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// DER of the OID 2.5.29.17 (subjectAltName), contents only.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// A name Node prints as it is (no quoting, no escapes): letters, digits and
/// `.-_*`, at least one character.
fn plain_name(bytes: &[u8]) -> Option<String> {
    let plain = !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'*'));
    plain.then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// The common name in `subject`: `Ok(None)` without one, `Err` when there
/// are several or one Node would print differently.
fn common_name(subject: &[u8]) -> Result<Option<String>, ()> {
    let (name, _) = expect(subject, SEQUENCE).ok_or(())?;
    let mut found = None;
    let mut rdns = name.contents;
    while !rdns.is_empty() {
        let (rdn, rest) = expect(rdns, 0x31).ok_or(())?;
        rdns = rest;
        let mut atvs = rdn.contents;
        while !atvs.is_empty() {
            let (atv, rest) = expect(atvs, SEQUENCE).ok_or(())?;
            atvs = rest;
            let (oid, value) = expect(atv.contents, 0x06).ok_or(())?;
            if oid.contents != COMMON_NAME {
                continue;
            }
            let (value, _) = read_tlv(value).ok_or(())?;
            // UTF8String, PrintableString, IA5String: ASCII printed as is.
            if found.is_some() || !matches!(value.tag, 0x0c | 0x13 | 0x16) {
                return Err(());
            }
            // Node shows the value as it is; printable ASCII is kept here.
            let printable = value.contents.iter().all(|&b| (0x20..0x7f).contains(&b));
            if !printable || value.contents.is_empty() {
                return Err(());
            }
            found = Some(String::from_utf8_lossy(value.contents).into_owned());
        }
    }
    Ok(found)
}

/// `subjectaltname` from the extension's value: DNS names and IPv4
/// addresses only; anything else is left to Node's own parser.
fn alt_names(value: &[u8]) -> Option<String> {
    let (names, _) = expect(value, SEQUENCE)?;
    let mut out = Vec::new();
    let mut rest = names.contents;
    while !rest.is_empty() {
        let (name, next) = read_tlv(rest)?;
        rest = next;
        match (name.tag, name.contents) {
            (0x82, dns) => out.push(format!("DNS:{}", plain_name(dns)?)),
            (0x87, &[a, b, c, d]) => out.push(format!("IP Address:{a}.{b}.{c}.{d}")),
            (0x87, v6) if v6.len() == 16 => {
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

/// The host-name facts of a certificate, or `None` when it holds anything
/// that Node would render in a way not reproduced here (then JavaScript
/// parses the certificate itself).
pub fn host_names(der: &[u8]) -> Option<HostNames> {
    let parts = parse_cert(der)?;
    let mut names = HostNames {
        cn: common_name(parts.subject).ok()?,
        san: None,
    };
    let mut rest = parts.rest;
    while let Some((field, after)) = read_tlv(rest) {
        rest = after;
        if field.tag != 0xa3 {
            continue;
        }
        let (extensions, _) = expect(field.contents, SEQUENCE)?;
        let mut exts = extensions.contents;
        while !exts.is_empty() {
            let (ext, after) = expect(exts, SEQUENCE)?;
            exts = after;
            let (oid, mut body) = expect(ext.contents, 0x06)?;
            if oid.contents != SUBJECT_ALT_NAME {
                continue;
            }
            if body.first() == Some(&0x01) {
                body = read_tlv(body)?.1;
            }
            let (value, _) = expect(body, 0x04)?;
            if names.san.is_some() {
                return None;
            }
            names.san = Some(alt_names(value.contents)?);
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_input_is_none() {
        assert!(parse_cert(&[]).is_none());
        assert!(parse_cert(&[0x30]).is_none());
        assert!(parse_cert(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(parse_cert(&[0x30, 0x03, 0x30, 0x01]).is_none());
    }

    fn cert(pem: &str) -> Vec<u8> {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec()
    }

    fn names(cn: Option<&str>, san: Option<&str>) -> Option<HostNames> {
        Some(HostNames {
            cn: cn.map(str::to_owned),
            san: san.map(str::to_owned),
        })
    }

    // The expected strings are what Node's `toLegacyObject()` shows for
    // these certificates (`subject.CN`, `subjectaltname`).
    #[test]
    fn host_names_as_node_renders_them() {
        let case = |name: &str| {
            let path = format!(
                "{}/__test__/fixtures/cases/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            host_names(&cert(&std::fs::read_to_string(path).unwrap()))
        };
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
    fn host_names_of_garbage_is_none() {
        assert_eq!(host_names(&[]), None);
        assert_eq!(host_names(&[0x30, 0x02, 0x30, 0x00]), None);
    }

    #[test]
    fn reads_long_lengths() {
        let mut input = vec![0x04, 0x82, 0x01, 0x00];
        input.extend(std::iter::repeat_n(7u8, 256));
        let (tlv, rest) = read_tlv(&input).unwrap();
        assert_eq!(tlv.contents.len(), 256);
        assert!(rest.is_empty());
    }
}
