//! OpenSSL's security levels, as far as they decide which RSA keys a context
//! accepts. Node 24 (OpenSSL 3.5) runs at level 2, where RSA keys need 2048
//! bits; Node 20 and 22 (OpenSSL 3.0) at level 1, where 1024 bits do; level
//! 0 takes any key. `@SECLEVEL=n` in `ciphers` picks one, as in OpenSSL
//! (`SSL_CTX_set_security_level(3)`); JavaScript passes the level in force.
//!
//! The provider (aws-lc-rs) verifies and signs with RSA keys of 2048 bits and
//! up only. Below level 2, certificate and handshake signatures made by
//! smaller keys are checked with aws-lc-rs's legacy RSA parameters, and a
//! smaller private key signs through the `rsa` crate.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::signature::{self as lc, RsaParameters, UnparsedPublicKey};
use rsa::sha2::{Sha256, Sha384, Sha512};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::sign::{Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, InvalidSignature, PrivateKeyDer, SignatureVerificationAlgorithm,
};

/// Node 24's level (OpenSSL 3.5's default), used when JavaScript gives none.
pub const DEFAULT: u8 = 2;

/// The smallest RSA modulus, in bits, a context accepts at `level`.
pub fn min_rsa_bits(level: u8) -> usize {
    match level {
        0 => 0,
        1 => 1024,
        2 => 2048,
        3 => 3072,
        4 => 7680,
        _ => 15360,
    }
}

/// The signature algorithms that verify certificates and handshakes at
/// `level`: the provider's, plus RSA PKCS#1 and PSS from 1024 bits below level 2.
pub fn algorithms(level: u8) -> WebPkiSupportedAlgorithms {
    let standard = crate::context::provider().signature_verification_algorithms;
    if level >= 2 {
        return standard;
    }
    static LEGACY: OnceLock<WebPkiSupportedAlgorithms> = OnceLock::new();
    *LEGACY.get_or_init(|| {
        // Built once per process; the slices live as long as the provider.
        let legacy: [(SignatureScheme, &'static dyn SignatureVerificationAlgorithm); 5] = [
            (SignatureScheme::RSA_PKCS1_SHA256, &RSA_PKCS1_SHA256),
            (SignatureScheme::RSA_PKCS1_SHA512, &RSA_PKCS1_SHA512),
            (SignatureScheme::RSA_PSS_SHA256, &RSA_PSS_SHA256),
            (SignatureScheme::RSA_PSS_SHA384, &RSA_PSS_SHA384),
            (SignatureScheme::RSA_PSS_SHA512, &RSA_PSS_SHA512),
        ];
        // webpki takes the first algorithm whose identifiers match and keeps
        // its verdict, so the legacy ones (a superset) come first.
        let mut all: Vec<_> = legacy.iter().map(|(_, alg)| *alg).collect();
        all.extend_from_slice(standard.all);
        let mapping: Vec<_> = standard
            .mapping
            .iter()
            .map(|&(scheme, standard_algs)| {
                let mut algs: Vec<_> = legacy
                    .iter()
                    .filter(|(s, _)| *s == scheme)
                    .map(|(_, a)| *a)
                    .collect();
                algs.extend_from_slice(standard_algs);
                let algs: &'static [_] = Box::leak(algs.into_boxed_slice());
                (scheme, algs)
            })
            .collect();
        WebPkiSupportedAlgorithms {
            all: Box::leak(all.into_boxed_slice()),
            mapping: Box::leak(mapping.into_boxed_slice()),
        }
    })
}

/// RSA PKCS#1 v1.5 with keys of 1024 to 8192 bits.
#[derive(Debug)]
struct LegacyRsa {
    signature: AlgorithmIdentifier,
    params: &'static RsaParameters,
}

static RSA_PKCS1_SHA256: LegacyRsa = LegacyRsa {
    signature: alg_id::RSA_PKCS1_SHA256,
    params: &lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
};

static RSA_PKCS1_SHA512: LegacyRsa = LegacyRsa {
    signature: alg_id::RSA_PKCS1_SHA512,
    params: &lc::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
};

impl SignatureVerificationAlgorithm for LegacyRsa {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature
    }

    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        UnparsedPublicKey::new(self.params, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn fips(&self) -> bool {
        false
    }
}

/// RSA-PSS (RFC 8017, salt as long as the hash, as TLS 1.3 requires) with
/// keys from 1024 bits, checked by the `rsa` crate: aws-lc-rs has no legacy
/// parameters for PSS. A public-key operation only.
#[derive(Debug)]
struct LegacyRsaPss {
    signature: AlgorithmIdentifier,
    hash: PssHash,
}

#[derive(Debug, Clone, Copy)]
enum PssHash {
    Sha256,
    Sha384,
    Sha512,
}

static RSA_PSS_SHA256: LegacyRsaPss = LegacyRsaPss {
    signature: alg_id::RSA_PSS_SHA256,
    hash: PssHash::Sha256,
};

static RSA_PSS_SHA384: LegacyRsaPss = LegacyRsaPss {
    signature: alg_id::RSA_PSS_SHA384,
    hash: PssHash::Sha384,
};

static RSA_PSS_SHA512: LegacyRsaPss = LegacyRsaPss {
    signature: alg_id::RSA_PSS_SHA512,
    hash: PssHash::Sha512,
};

impl SignatureVerificationAlgorithm for LegacyRsaPss {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature
    }

    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        // Keys of 2048 bits and up: aws-lc-rs, as without the legacy set.
        let modern = match self.hash {
            PssHash::Sha256 => &lc::RSA_PSS_2048_8192_SHA256,
            PssHash::Sha384 => &lc::RSA_PSS_2048_8192_SHA384,
            PssHash::Sha512 => &lc::RSA_PSS_2048_8192_SHA512,
        };
        if UnparsedPublicKey::new(modern, public_key)
            .verify(message, signature)
            .is_ok()
        {
            return Ok(());
        }
        let key = rsa::PublicKey::from_pkcs1_der(public_key).map_err(|_| InvalidSignature)?;
        match self.hash {
            PssHash::Sha256 => key.pss_verify::<Sha256>(message, signature),
            PssHash::Sha384 => key.pss_verify::<Sha384>(message, signature),
            PssHash::Sha512 => key.pss_verify::<Sha512>(message, signature),
        }
        .map_err(|_| InvalidSignature)
    }

    fn fips(&self) -> bool {
        false
    }
}

/// An RSA private key too small for the provider, which signs through the
/// `rsa` crate. `None` when `key` is not an RSA key this crate can read.
pub fn small_rsa_key(key: &PrivateKeyDer<'_>) -> Option<Arc<dyn SigningKey>> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let key = match key {
        PrivateKeyDer::Pkcs1(der) => rsa::PrivateKey::from_pkcs1_der(der.secret_pkcs1_der()).ok(),
        PrivateKeyDer::Pkcs8(der) => rsa::PrivateKey::from_pkcs8_der(der.secret_pkcs8_der()).ok(),
        _ => None,
    }?;
    Some(Arc::new(SmallRsaKey(Arc::new(key))))
}

#[derive(Debug)]
struct SmallRsaKey(Arc<rsa::PrivateKey>);

impl SigningKey for SmallRsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        use SignatureScheme as S;
        // PSS with SHA-512 does not fit a 1024-bit modulus; it comes last.
        [
            S::RSA_PSS_SHA256,
            S::RSA_PSS_SHA384,
            S::RSA_PKCS1_SHA256,
            S::RSA_PKCS1_SHA384,
            S::RSA_PKCS1_SHA512,
            S::RSA_PSS_SHA512,
        ]
        .into_iter()
        .find(|s| offered.contains(s))
        .map(|scheme| {
            Box::new(SmallRsaSigner {
                key: self.0.clone(),
                scheme,
            }) as Box<dyn Signer>
        })
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RSA
    }
}

#[derive(Debug)]
struct SmallRsaSigner {
    key: Arc<rsa::PrivateKey>,
    scheme: SignatureScheme,
}

impl Signer for SmallRsaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        use SignatureScheme as S;
        let key = &self.key;
        match self.scheme {
            S::RSA_PSS_SHA256 => key.pss_sign::<Sha256>(message),
            S::RSA_PSS_SHA384 => key.pss_sign::<Sha384>(message),
            S::RSA_PSS_SHA512 => key.pss_sign::<Sha512>(message),
            S::RSA_PKCS1_SHA384 => key.pkcs1v15_sign::<Sha384>(message),
            S::RSA_PKCS1_SHA512 => key.pkcs1v15_sign::<Sha512>(message),
            _ => key.pkcs1v15_sign::<Sha256>(message),
        }
        .map_err(|e| rustls::Error::General(format!("RSA signature failed: {e}")))
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_openssl() {
        assert_eq!(min_rsa_bits(0), 0);
        assert_eq!(min_rsa_bits(1), 1024);
        assert_eq!(min_rsa_bits(2), 2048);
        assert_eq!(min_rsa_bits(3), 3072);
    }

    #[test]
    fn legacy_algorithms_extend_the_providers() {
        let standard = algorithms(2);
        let legacy = algorithms(1);
        assert_eq!(legacy.all.len(), standard.all.len() + 5);
        let pkcs1 = |a: &WebPkiSupportedAlgorithms| {
            a.mapping
                .iter()
                .find(|(s, _)| *s == SignatureScheme::RSA_PKCS1_SHA256)
                .map(|(_, algs)| algs.len())
        };
        assert_eq!(pkcs1(&legacy), pkcs1(&standard).map(|n| n + 1));
    }
}
