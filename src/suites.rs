//! OpenSSL's cipher strings and group lists, as Node's `ciphers` and
//! `ecdhCurve` options take them, evaluated over what rustls offers.
//!
//! `ciphers` is split as Node splits it: `TLS_*` names are the TLS 1.3
//! suites (`SSL_CTX_set_ciphersuites`), everything else is an OpenSSL cipher
//! rule list for TLS 1.2 (`SSL_CTX_set_cipher_list`): names and aliases
//! (`HIGH`, `ECDHE`, `aRSA`, `AESGCM`, `A+B`), with `!` (remove for good),
//! `-` (remove), `+` (move to the end), `@STRENGTH` and `@SECLEVEL=n`.
//! OpenSSL's names for suites rustls does not have (`AES128-SHA256`,
//! `DHE-...`) are valid and select nothing; a list that selects nothing
//! and names nothing OpenSSL knows fails with OpenSSL's "no cipher match".

use rustls::crypto::SupportedKxGroup;
use rustls::{CipherSuite, NamedGroup};

use crate::error::NodeError;

/// The TLS 1.2 suites rustls offers, in OpenSSL's `ALL` order.
const TLS12: &[(&str, CipherSuite, Auth, Enc)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        Auth::Ecdsa,
        Enc::Aes256Gcm,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        Auth::Rsa,
        Enc::Aes256Gcm,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        Auth::Ecdsa,
        Enc::Chacha20,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        Auth::Rsa,
        Enc::Chacha20,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        Auth::Ecdsa,
        Enc::Aes128Gcm,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        Auth::Rsa,
        Enc::Aes128Gcm,
    ),
];

/// TLS 1.3 suites by their standard names; `None`: OpenSSL has it, rustls not.
const TLS13: &[(&str, Option<CipherSuite>)] = &[
    (
        "TLS_AES_256_GCM_SHA384",
        Some(CipherSuite::TLS13_AES_256_GCM_SHA384),
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        Some(CipherSuite::TLS13_CHACHA20_POLY1305_SHA256),
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        Some(CipherSuite::TLS13_AES_128_GCM_SHA256),
    ),
    ("TLS_AES_128_CCM_SHA256", None),
    ("TLS_AES_128_CCM_8_SHA256", None),
];

#[derive(Clone, Copy, PartialEq)]
enum Auth {
    Rsa,
    Ecdsa,
}

#[derive(Clone, Copy, PartialEq)]
enum Enc {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20,
}

/// Words OpenSSL's cipher names and aliases are made of: a token built of
/// them names something OpenSSL knows, though rustls may not have it.
const OPENSSL_WORDS: &[&str] = &[
    "AES",
    "AES128",
    "AES256",
    "AESGCM",
    "AESCCM",
    "AESCCM8",
    "GCM",
    "CCM",
    "CCM8",
    "CBC",
    "CHACHA20",
    "POLY1305",
    "CAMELLIA",
    "CAMELLIA128",
    "CAMELLIA256",
    "ARIA",
    "ARIA128",
    "ARIA256",
    "ARIAGCM",
    "SEED",
    "IDEA",
    "DES",
    "3DES",
    "CBC3",
    "RC4",
    "RC2",
    "NULL",
    "MD5",
    "SHA",
    "SHA1",
    "SHA256",
    "SHA384",
    "RSA",
    "DSS",
    "DHE",
    "EDH",
    "DH",
    "ECDH",
    "ECDHE",
    "EECDH",
    "ECDSA",
    "PSK",
    "SRP",
    "ADH",
    "AECDH",
    "EXP",
    "EXPORT",
    "EXPORT40",
    "EXPORT56",
    "LOW",
    "MEDIUM",
    "HIGH",
    "ALL",
    "DEFAULT",
    "COMPLEMENTOFALL",
    "COMPLEMENTOFDEFAULT",
    "FIPS",
    "SUITEB128",
    "SUITEB128ONLY",
    "SUITEB192",
    "TLSv1",
    "TLSv1.0",
    "TLSv1.2",
    "SSLv3",
    "GOST",
    "GOST89",
    "GOST94",
    "GOST2012",
    "kRSA",
    "aRSA",
    "kDHE",
    "kEDH",
    "kECDHE",
    "kEECDH",
    "aECDSA",
    "aDSS",
    "aNULL",
    "eNULL",
    "kPSK",
    "aPSK",
    "kDHEPSK",
    "kECDHEPSK",
    "kRSAPSK",
    "kSRP",
    "aSRP",
    "kGOST",
    "aGOST",
    "AEAD",
    "ECDHEPSK",
    "DHEPSK",
    "RSAPSK",
    "GOST2001",
    "MAGMA",
    "KUZNYECHIK",
    "CTR",
    "OMAC",
    "IANA",
];

/// The suites one rule part selects; `None` for a word OpenSSL does not know.
fn select(part: &str) -> Option<Vec<CipherSuite>> {
    let all = || TLS12.iter().map(|s| s.1).collect::<Vec<_>>();
    let by = |f: &dyn Fn(Auth, Enc) -> bool| {
        TLS12
            .iter()
            .filter(|s| f(s.2, s.3))
            .map(|s| s.1)
            .collect::<Vec<_>>()
    };
    if let Some(s) = TLS12.iter().find(|s| s.0 == part) {
        return Some(vec![s.1]);
    }
    Some(match part {
        "ALL" | "DEFAULT" | "HIGH" | "FIPS" | "TLSv1.2" | "AEAD" | "ECDHE" | "EECDH" | "ECDH"
        | "kECDHE" | "kEECDH" | "kECDH" => all(),
        "aRSA" => by(&|a, _| a == Auth::Rsa),
        "ECDSA" | "aECDSA" => by(&|a, _| a == Auth::Ecdsa),
        "AES" | "AESGCM" => by(&|_, e| e != Enc::Chacha20),
        "AES128" => by(&|_, e| e == Enc::Aes128Gcm),
        "AES256" => by(&|_, e| e == Enc::Aes256Gcm),
        "CHACHA20" => by(&|_, e| e == Enc::Chacha20),
        // Known to OpenSSL, and nothing rustls has (non-AEAD MACs, RSA key
        // exchange, DHE, weak or obsolete ciphers, ...).
        _ if known_to_openssl(part) => Vec::new(),
        _ => return None,
    })
}

/// Whether `token` is made of OpenSSL's words (case matters, as in OpenSSL).
fn known_to_openssl(token: &str) -> bool {
    !token.is_empty()
        && token
            .split('-')
            .all(|w| !w.is_empty() && OPENSSL_WORDS.contains(&w))
}

/// What a `ciphers` string allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherSpec {
    /// TLS 1.3 suites in order; `None` keeps the defaults.
    pub tls13: Option<Vec<CipherSuite>>,
    /// TLS 1.2 suites in order (may be empty: TLS 1.2 then has none).
    pub tls12: Vec<CipherSuite>,
    /// `@SECLEVEL=n`, when given.
    pub seclevel: Option<u8>,
}

impl CipherSpec {
    /// Both lists, TLS 1.3 first (the defaults where not restricted).
    pub fn suites(&self) -> Vec<CipherSuite> {
        let tls13 = self
            .tls13
            .clone()
            .unwrap_or_else(|| TLS13.iter().filter_map(|s| s.1).collect::<Vec<_>>());
        tls13
            .into_iter()
            .chain(self.tls12.iter().copied())
            .collect()
    }
}

/// OpenSSL's error for a list that selects nothing.
pub fn no_cipher_match() -> NodeError {
    let mut e = NodeError::new(
        "ERR_SSL_NO_CIPHER_MATCH",
        "error:0A0000B9:SSL routines::no cipher match",
    );
    e.reason = Some("no cipher match".into());
    e
}

/// Parses `ciphers` as Node hands it to OpenSSL.
///
/// Every connection passes its `ciphers` (`tls.DEFAULT_CIPHERS` unless
/// given), almost always the same string: the last few answers are kept
/// per thread (3% of a client's JavaScript thread in a handshake storm went
/// to parsing the same default list again).
pub fn parse_ciphers(ciphers: &str) -> Result<CipherSpec, NodeError> {
    type Recent = std::collections::VecDeque<(String, Result<CipherSpec, NodeError>)>;
    const KEEP: usize = 4;
    thread_local! {
        static RECENT: std::cell::RefCell<Recent> = const {
            std::cell::RefCell::new(std::collections::VecDeque::new())
        };
    }
    if let Some(known) = RECENT.with(|r| {
        r.borrow()
            .iter()
            .find(|(text, _)| text == ciphers)
            .map(|(_, spec)| spec.clone())
    }) {
        return known;
    }
    let spec = parse_ciphers_uncached(ciphers);
    RECENT.with(|r| {
        let mut recent = r.borrow_mut();
        if recent.len() >= KEEP {
            recent.pop_back();
        }
        recent.push_front((ciphers.to_owned(), spec.clone()));
    });
    spec
}

fn parse_ciphers_uncached(ciphers: &str) -> Result<CipherSpec, NodeError> {
    let tokens: Vec<&str> = ciphers.split(':').filter(|t| !t.is_empty()).collect();
    let (named13, rules): (Vec<&str>, Vec<&str>) =
        tokens.iter().partition(|t| t.starts_with("TLS_"));
    let tls13 = if named13.is_empty() {
        None
    } else {
        let mut list = Vec::new();
        for name in named13 {
            let found = TLS13
                .iter()
                .find(|s| s.0 == name)
                .ok_or_else(no_cipher_match)?;
            if let Some(suite) = found.1 {
                if !list.contains(&suite) {
                    list.push(suite);
                }
            }
        }
        Some(list)
    };
    let mut active: Vec<CipherSuite> = Vec::new();
    let mut banned: Vec<CipherSuite> = Vec::new();
    let mut seclevel = None;
    let mut named_something = false;
    // `@` ends a name, as in OpenSSL's parser: `ALL@SECLEVEL=0` is `ALL`
    // then `@SECLEVEL=0`.
    let rule_text = rules.join(":").replace('@', ":@");
    for token in rule_text
        .split([':', ' ', ',', ';'])
        .filter(|t| !t.is_empty())
    {
        if let Some(cmd) = token.strip_prefix('@') {
            if cmd == "STRENGTH" {
                active.sort_by_key(|s| match TLS12.iter().find(|t| t.1 == *s).map(|t| t.3) {
                    Some(Enc::Aes128Gcm) => 1,
                    _ => 0,
                });
            } else if let Some(n) = cmd.strip_prefix("SECLEVEL=") {
                seclevel = n.parse::<u8>().ok().filter(|n| *n <= 5);
                if seclevel.is_none() {
                    return Err(no_cipher_match());
                }
            }
            continue;
        }
        let (op, body) = match token.as_bytes()[0] {
            b'!' | b'-' | b'+' => (token.as_bytes()[0], &token[1..]),
            _ => (b' ', token),
        };
        // `A+B`: the suites every part selects.
        let mut chosen: Option<Vec<CipherSuite>> = None;
        let mut known = true;
        for part in body.split('+') {
            match select(part) {
                Some(set) => {
                    chosen = Some(match chosen {
                        None => set,
                        Some(prev) => prev.into_iter().filter(|s| set.contains(s)).collect(),
                    })
                }
                None => known = false,
            }
        }
        // OpenSSL skips a rule with a word it does not know.
        let chosen = if known {
            chosen.unwrap_or_default()
        } else {
            Vec::new()
        };
        match op {
            b'!' => {
                active.retain(|s| !chosen.contains(s));
                banned.extend(chosen);
            }
            b'-' => active.retain(|s| !chosen.contains(s)),
            b'+' => {
                let (moved, kept): (Vec<_>, Vec<_>) =
                    active.into_iter().partition(|s| chosen.contains(s));
                active = kept.into_iter().chain(moved).collect();
            }
            _ => {
                if known {
                    named_something = true;
                }
                for suite in TLS12.iter().map(|s| s.1) {
                    if chosen.contains(&suite)
                        && !banned.contains(&suite)
                        && !active.contains(&suite)
                    {
                        active.push(suite);
                    }
                }
            }
        }
    }
    if !rules.is_empty() && active.is_empty() && !named_something {
        return Err(no_cipher_match());
    }
    Ok(CipherSpec {
        tls13,
        tls12: active,
        seclevel,
    })
}

/// Whether OpenSSL knows every name in a `sigalgs` list (`ALG+HASH` or
/// TLS 1.3 names), whether or not rustls has the scheme.
pub fn sigalgs_known(sigalgs: &str) -> bool {
    const NAMES: &[&str] = &[
        "ecdsa_secp256r1_sha256",
        "ecdsa_secp384r1_sha384",
        "ecdsa_secp521r1_sha512",
        "ecdsa_sha1",
        "ecdsa_sha224",
        "ed25519",
        "ed448",
        "rsa_pss_rsae_sha256",
        "rsa_pss_rsae_sha384",
        "rsa_pss_rsae_sha512",
        "rsa_pss_pss_sha256",
        "rsa_pss_pss_sha384",
        "rsa_pss_pss_sha512",
        "rsa_pkcs1_sha1",
        "rsa_pkcs1_sha224",
        "rsa_pkcs1_sha256",
        "rsa_pkcs1_sha384",
        "rsa_pkcs1_sha512",
        "ecdsa_brainpoolp256r1tls13_sha256",
        "ecdsa_brainpoolp384r1tls13_sha384",
        "ecdsa_brainpoolp512r1tls13_sha512",
    ];
    sigalgs.split(':').all(|token| {
        if NAMES.iter().any(|n| n.eq_ignore_ascii_case(token)) {
            return true;
        }
        match token.split_once('+') {
            Some((alg, hash)) => {
                ["RSA", "RSA-PSS", "PSS", "ECDSA", "DSA"]
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(alg))
                    && ["SHA1", "SHA224", "SHA256", "SHA384", "SHA512"]
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(hash))
            }
            None => false,
        }
    })
}

/// OpenSSL's (empty) error for a `sigalgs` list it cannot take, as Node
/// throws it: no code.
pub fn sigalgs_error() -> NodeError {
    NodeError::new("", "error:00000000:lib(0)::reason(0)")
}

/// The groups rustls offers, with the names OpenSSL accepts for them.
fn group_by_name(name: &str) -> Option<Option<NamedGroup>> {
    let lower = name.to_ascii_lowercase();
    Some(Some(match lower.as_str() {
        "x25519" => NamedGroup::X25519,
        "p-256" | "prime256v1" | "secp256r1" => NamedGroup::secp256r1,
        "p-384" | "secp384r1" => NamedGroup::secp384r1,
        "x25519mlkem768" => NamedGroup::X25519MLKEM768,
        "secp256r1mlkem768" => NamedGroup::secp256r1MLKEM768,
        "mlkem768" => NamedGroup::MLKEM768,
        "mlkem1024" => NamedGroup::MLKEM1024,
        // OpenSSL's other groups: valid names, nothing rustls has.
        "p-521"
        | "secp521r1"
        | "x448"
        | "ffdhe2048"
        | "ffdhe3072"
        | "ffdhe4096"
        | "ffdhe6144"
        | "ffdhe8192"
        | "secp224r1"
        | "p-224"
        | "secp192r1"
        | "prime192v1"
        | "p-192"
        | "secp256k1"
        | "brainpoolp256r1"
        | "brainpoolp384r1"
        | "brainpoolp512r1"
        | "brainpoolp256r1tls13"
        | "brainpoolp384r1tls13"
        | "brainpoolp512r1tls13"
        | "x448mlkem1024"
        | "secp384r1mlkem1024"
        | "mlkem512" => return Some(None),
        _ => return None,
    }))
}

/// Node's error for a bad `ecdhCurve`.
pub fn curve_error() -> NodeError {
    NodeError::new("ERR_CRYPTO_OPERATION_FAILED", "Failed to set ECDH curve")
}

/// `ecdhCurve`: the groups to offer, in order; `None` for `auto` (rustls'
/// defaults, post-quantum hybrid first). A name OpenSSL does not know fails
/// as in Node; a list of only groups rustls lacks fails too (no handshake
/// could succeed).
pub fn parse_curves(curves: &str) -> Result<Option<Vec<NamedGroup>>, NodeError> {
    if curves == "auto" {
        return Ok(None);
    }
    let mut out = Vec::new();
    for name in curves.split(':') {
        match group_by_name(name).ok_or_else(curve_error)? {
            Some(g) if !out.contains(&g) => out.push(g),
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(curve_error());
    }
    Ok(Some(out))
}

/// The provider's groups named in `names`, in that order.
pub fn kx_groups(
    all: &[&'static dyn SupportedKxGroup],
    names: &[NamedGroup],
) -> Vec<&'static dyn SupportedKxGroup> {
    names
        .iter()
        .filter_map(|n| all.iter().find(|g| g.name() == *n).copied())
        .collect()
}

/// All groups the provider can do (the defaults plus those it leaves out).
pub fn all_kx_groups() -> Vec<&'static dyn SupportedKxGroup> {
    rustls::crypto::aws_lc_rs::ALL_KX_GROUPS.to_vec()
}

/// `getEphemeralKeyInfo()` on a client, as Node 24 gives it: `(type,
/// name, size)`; OpenSSL names, `ECDH` with the key size for classic
/// curves, `TLSGroup` without a size for post-quantum groups.
pub fn group_info(group: NamedGroup) -> Option<(&'static str, &'static str, Option<u32>)> {
    Some(match group {
        NamedGroup::X25519 => ("ECDH", "X25519", Some(253)),
        NamedGroup::secp256r1 => ("ECDH", "prime256v1", Some(256)),
        NamedGroup::secp384r1 => ("ECDH", "secp384r1", Some(384)),
        NamedGroup::secp521r1 => ("ECDH", "secp521r1", Some(521)),
        NamedGroup::X448 => ("ECDH", "X448", Some(448)),
        NamedGroup::X25519MLKEM768 => ("TLSGroup", "X25519MLKEM768", None),
        NamedGroup::secp256r1MLKEM768 => ("TLSGroup", "SecP256r1MLKEM768", None),
        NamedGroup::MLKEM768 => ("TLSGroup", "MLKEM768", None),
        NamedGroup::MLKEM1024 => ("TLSGroup", "MLKEM1024", None),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use CipherSuite as C;

    #[test]
    fn names_and_aliases() {
        let s = parse_ciphers("ECDHE-RSA-AES128-GCM-SHA256").unwrap();
        assert_eq!(s.tls12, vec![C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]);
        assert_eq!(s.tls13, None);
        let s = parse_ciphers("HIGH:!aNULL:!ECDSA").unwrap();
        assert_eq!(s.tls12.len(), 3);
        let s = parse_ciphers("ECDHE+AESGCM:-AES256").unwrap();
        assert_eq!(s.tls12.len(), 2);
        let s = parse_ciphers("AES128:+ECDSA").unwrap();
        assert_eq!(
            s.tls12,
            vec![
                C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            ]
        );
    }

    #[test]
    fn tls13_names_and_errors() {
        let s = parse_ciphers("TLS_AES_128_GCM_SHA256").unwrap();
        assert_eq!(s.tls13, Some(vec![C::TLS13_AES_128_GCM_SHA256]));
        assert!(s.tls12.is_empty());
        assert!(parse_ciphers("TLS_not_a_cipher").is_err());
        assert!(parse_ciphers("FOOBARBAZ").is_err());
        assert!(parse_ciphers("aes256-sha").is_err());
        assert!(parse_ciphers("!ALL").is_err());
        // OpenSSL knows it; rustls does not have it: TLS 1.2 gets nothing.
        assert!(parse_ciphers("AES128-SHA256").unwrap().tls12.is_empty());
        assert_eq!(
            parse_ciphers("DEFAULT:@SECLEVEL=0").unwrap().seclevel,
            Some(0)
        );
        let glued = parse_ciphers("ALL@SECLEVEL=0").unwrap();
        assert_eq!((glued.tls12.len(), glued.seclevel), (6, Some(0)));
        assert!(parse_ciphers("RSA@SECLEVEL=0").unwrap().tls12.is_empty());
    }

    #[test]
    fn sigalg_names() {
        assert!(sigalgs_known("RSA+SHA256:rsa_pss_rsae_sha256:ed448"));
        assert!(sigalgs_known("ECDSA+SHA384:RSA-PSS+SHA512"));
        assert!(!sigalgs_known("foo"));
        assert!(!sigalgs_known("RSA-PSS+SHA256:foo"));
        assert!(!sigalgs_known("RSA+MD5"));
    }

    #[test]
    fn curves() {
        assert_eq!(parse_curves("auto").unwrap(), None);
        assert_eq!(
            parse_curves("X25519:P-256").unwrap(),
            Some(vec![NamedGroup::X25519, NamedGroup::secp256r1])
        );
        assert!(parse_curves("foo").is_err());
        assert!(parse_curves("P-256:foo").is_err());
        assert!(parse_curves("secp521r1").is_err());
        assert_eq!(
            parse_curves("secp521r1:prime256v1").unwrap(),
            Some(vec![NamedGroup::secp256r1])
        );
    }
}
