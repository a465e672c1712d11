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
    let (spki, _) = expect(rest, SEQUENCE)?;
    Some(CertParts {
        issuer: issuer.whole,
        subject: subject.whole,
        spki: spki.whole,
    })
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

    #[test]
    fn reads_long_lengths() {
        let mut input = vec![0x04, 0x82, 0x01, 0x00];
        input.extend(std::iter::repeat_n(7u8, 256));
        let (tlv, rest) = read_tlv(&input).unwrap();
        assert_eq!(tlv.contents.len(), 256);
        assert!(rest.is_empty());
    }
}
