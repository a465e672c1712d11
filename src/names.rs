//! OpenSSL's names for cipher suites and signature algorithms, as Node's
//! `ciphers` and `sigalgs` options take them, mapped to rustls' values.

use rustls::{CipherSuite, SignatureAlgorithm, SignatureScheme};

/// The suites rustls offers, with the names OpenSSL (and so Node) uses.
const SUITES: &[(&str, CipherSuite)] = &[
    (
        "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// OpenSSL's name for a suite (TLS 1.3 suites have only their IANA name).
pub fn openssl_name(suite: CipherSuite) -> &'static str {
    SUITES
        .iter()
        .find(|(_, s)| *s == suite)
        .map_or("unknown", |(name, _)| name)
}

/// The IANA name, as Node's `getCipher().standardName` gives it.
pub fn standard_name(suite: CipherSuite) -> String {
    let name = format!("{suite:?}");
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

fn is_tls13(suite: CipherSuite) -> bool {
    matches!(
        suite,
        CipherSuite::TLS13_AES_256_GCM_SHA384
            | CipherSuite::TLS13_AES_128_GCM_SHA256
            | CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
    )
}

/// Whether a TLS 1.3 suite is among `suites`.
pub fn offers_tls13(suites: &[CipherSuite]) -> bool {
    suites.iter().any(|s| is_tls13(*s))
}

/// The key a TLS 1.2 suite authenticates with.
pub fn suite_auth(suite: CipherSuite) -> Option<SignatureAlgorithm> {
    match suite {
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
            Some(SignatureAlgorithm::ECDSA)
        }
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => Some(SignatureAlgorithm::RSA),
        _ => None,
    }
}

/// The signature schemes a `sigalgs` string names (`ecdsa_secp256r1_sha256`
/// or `ECDSA+SHA256` style). `None`: no restriction.
pub fn sigalg_list(sigalgs: &str) -> Option<Vec<SignatureScheme>> {
    use SignatureScheme as S;
    let list: Vec<_> = sigalgs
        .split(':')
        .filter_map(|token| {
            Some(match token.trim().to_ascii_lowercase().as_str() {
                "ecdsa_secp256r1_sha256" | "ecdsa+sha256" => S::ECDSA_NISTP256_SHA256,
                "ecdsa_secp384r1_sha384" | "ecdsa+sha384" => S::ECDSA_NISTP384_SHA384,
                "ecdsa_secp521r1_sha512" | "ecdsa+sha512" => S::ECDSA_NISTP521_SHA512,
                "ed25519" => S::ED25519,
                "rsa_pss_rsae_sha256" | "rsa-pss+sha256" => S::RSA_PSS_SHA256,
                "rsa_pss_rsae_sha384" | "rsa-pss+sha384" => S::RSA_PSS_SHA384,
                "rsa_pss_rsae_sha512" | "rsa-pss+sha512" => S::RSA_PSS_SHA512,
                "rsa_pkcs1_sha256" | "rsa+sha256" => S::RSA_PKCS1_SHA256,
                "rsa_pkcs1_sha384" | "rsa+sha384" => S::RSA_PKCS1_SHA384,
                "rsa_pkcs1_sha512" | "rsa+sha512" => S::RSA_PKCS1_SHA512,
                _ => return None,
            })
        })
        .collect();
    (!list.is_empty()).then_some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigalgs_both_spellings() {
        assert_eq!(
            sigalg_list("RSA+SHA256:ecdsa_secp256r1_sha256"),
            Some(vec![
                SignatureScheme::RSA_PKCS1_SHA256,
                SignatureScheme::ECDSA_NISTP256_SHA256
            ])
        );
    }
}
