//! PEM and DER in, rustls configurations out.
//!
//! A [`Context`] is what `tls.createSecureContext()` parses once: the local
//! identities (key + chain pairs) and the trust store. Client and server
//! configurations are cut from it per connection parameters (ALPN, protocol
//! versions, client-certificate policy).

use std::sync::{Arc, OnceLock};

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    ClientConfig, RootCertStore, ServerConfig, SignatureScheme, SupportedProtocolVersion,
};

use crate::der;
use crate::error::NodeError;
use crate::verify::{ClientAuth, RecordingServerVerifier, Trust};

/// The one crypto provider: aws-lc-rs, post-quantum key exchange first.
pub fn provider() -> &'static Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// The default trust store: Mozilla's roots (`webpki-roots`), plus the
/// certificates in `NODE_EXTRA_CA_CERTS`, as Node loads them.
pub fn default_trust() -> &'static Trust {
    static DEFAULT: OnceLock<Trust> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut extra = Vec::new();
        if let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS") {
            if let Ok(pem) = std::fs::read(path) {
                extra = CertificateDer::pem_slice_iter(&pem)
                    .filter_map(Result::ok)
                    .collect();
                roots.add_parsable_certificates(extra.iter().cloned());
            }
        }
        Trust {
            roots: Arc::new(roots),
            ca: Arc::new(extra),
        }
    })
}

/// What `createSecureContext` was given, after JavaScript normalised it:
/// every entry is PEM (or DER for certificates), keys already decrypted.
#[derive(Debug, Default)]
pub struct ContextInput {
    /// `cert`: each entry a PEM chain, leaf first.
    pub certs: Vec<Vec<u8>>,
    /// `key`: each entry one PEM private key (PKCS#1, PKCS#8 or SEC1).
    pub keys: Vec<Vec<u8>>,
    /// `ca`: PEM bundles; `None` means the default roots.
    pub ca: Option<Vec<Vec<u8>>>,
}

/// A parsed secure context.
#[derive(Debug)]
pub struct Context {
    /// Key + chain pairs, in the order given.
    pub identities: Vec<Arc<CertifiedKey>>,
    /// Trust store for the peer's chain.
    pub trust: Trust,
}

fn pem_error() -> NodeError {
    let mut e = NodeError::new(
        "ERR_OSSL_PEM_NO_START_LINE",
        "error:0480006C:PEM routines::no start line",
    );
    e.reason = Some("no start line".into());
    e
}

fn parse_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, NodeError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|_| pem_error())?;
    if certs.is_empty() {
        if der::parse_cert(pem).is_some() {
            return Ok(vec![CertificateDer::from(pem.to_vec())]);
        }
        return Err(pem_error());
    }
    Ok(certs)
}

fn key_error() -> NodeError {
    let mut e = NodeError::new(
        "ERR_OSSL_UNSUPPORTED",
        "error:1E08010C:DECODER routines::unsupported",
    );
    e.reason = Some("unsupported".into());
    e
}

fn too_small(bits: usize) -> NodeError {
    NodeError::new(
        "ERR_SSL_EE_KEY_TOO_SMALL",
        format!(
            "ee key too small: the certificate's RSA key has {bits} bits; rustls-tls, like Node 24, \
             needs at least 2048 (make one with `openssl genrsa -out key.pem 2048`)"
        ),
    )
}

fn mismatch() -> NodeError {
    let mut e = NodeError::new(
        "ERR_OSSL_X509_KEY_VALUES_MISMATCH",
        "error:05800074:x509 certificate routines::key values mismatch",
    );
    e.reason = Some("key values mismatch".into());
    e
}

impl Context {
    /// Parses and cross-checks everything, as `createSecureContext` must.
    pub fn new(input: ContextInput) -> Result<Self, NodeError> {
        let chains = input
            .certs
            .iter()
            .map(|pem| parse_chain(pem))
            .collect::<Result<Vec<_>, _>>()?;
        for chain in &chains {
            let bits = der::parse_cert(&chain[0]).and_then(|p| der::rsa_bits(p.spki));
            if let Some(bits) = bits.filter(|&b| b < 2048) {
                return Err(too_small(bits));
            }
        }
        let mut identities = Vec::new();
        for pem in &input.keys {
            let key = PrivateKeyDer::from_pem_slice(pem)
                .or_else(|_| PrivateKeyDer::try_from(pem.clone()))
                .map_err(|_| key_error())?;
            let key = provider()
                .key_provider
                .load_private_key(key)
                .map_err(|_| key_error())?;
            // A key pairs with the chain whose leaf carries its public key.
            // OpenSSL keeps one key and one certificate per key type, so a
            // key whose type has a certificate that does not match it is an
            // error; a key with no certificate of its type is left out (the
            // context loads, and a handshake that needs it fails), as in Node.
            let Some(spki) = key.public_key() else {
                if let Some(chain) = chains.get(identities.len()) {
                    identities.push(Arc::new(CertifiedKey::new(chain.clone(), key)));
                }
                continue;
            };
            let leaves: Vec<_> = chains
                .iter()
                .filter_map(|c| der::parse_cert(&c[0]).map(|p| (c, p.spki)))
                .collect();
            match leaves.iter().find(|(_, leaf)| *leaf == spki.as_ref()) {
                Some((chain, _)) => {
                    identities.push(Arc::new(CertifiedKey::new((*chain).clone(), key)));
                }
                None => {
                    let kind = der::key_kind(spki.as_ref());
                    if leaves.iter().any(|(_, leaf)| der::key_kind(leaf) == kind) {
                        return Err(mismatch());
                    }
                }
            }
        }
        let trust = match input.ca {
            None => default_trust().clone(),
            Some(bundles) => {
                // Like OpenSSL, `ca` takes the certificates it finds and
                // ignores anything else (keys, text, broken PEM).
                let ca: Vec<_> = bundles
                    .iter()
                    .flat_map(|pem| parse_chain(pem).unwrap_or_default())
                    .collect();
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates(ca.iter().cloned());
                Trust {
                    roots: Arc::new(roots),
                    ca: Arc::new(ca),
                }
            }
        };
        Ok(Self { identities, trust })
    }

    /// A client configuration with these parameters.
    pub fn client_config(&self, params: &Params) -> Result<Arc<ClientConfig>, NodeError> {
        let builder = ClientConfig::builder_with_provider(provider().clone())
            .with_protocol_versions(&params.versions())
            .map_err(|e| NodeError::from(&e))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(RecordingServerVerifier::new(
                provider().signature_verification_algorithms,
            )));
        let mut config =
            builder.with_client_cert_resolver(Arc::new(Identities(self.identities.clone())));
        config.alpn_protocols = params.alpn.clone();
        config.enable_sni = params.sni;
        Ok(Arc::new(config))
    }

    /// A server configuration with these parameters.
    pub fn server_config(&self, params: &Params) -> Result<Arc<ServerConfig>, NodeError> {
        let builder = ServerConfig::builder_with_provider(provider().clone())
            .with_protocol_versions(&params.versions())
            .map_err(|e| NodeError::from(&e))?;
        let builder = if params.request_cert {
            builder.with_client_cert_verifier(Arc::new(ClientAuth::new(
                self.trust.clone(),
                provider().signature_verification_algorithms,
                params.reject_unauthorized,
            )))
        } else {
            builder.with_client_cert_verifier(WebPkiClientVerifier::no_client_auth())
        };
        let mut config = builder.with_cert_resolver(Arc::new(Identities(self.identities.clone())));
        config.alpn_protocols = params.alpn.clone();
        config.ignore_client_order = params.honor_cipher_order;
        Ok(Arc::new(config))
    }
}

/// Per-connection parameters that select a configuration.
#[derive(Debug, Clone)]
pub struct Params {
    /// ALPN protocols, most preferred first.
    pub alpn: Vec<Vec<u8>>,
    /// Lowest version as the wire number (0x0303 = TLS 1.2).
    pub min_version: u16,
    /// Highest version as the wire number (0x0304 = TLS 1.3).
    pub max_version: u16,
    /// Client: send SNI.
    pub sni: bool,
    /// Server: ask for a client certificate.
    pub request_cert: bool,
    /// Server: fail the handshake on a bad or missing client certificate.
    pub reject_unauthorized: bool,
    /// Server: prefer our cipher suite order.
    pub honor_cipher_order: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            alpn: Vec::new(),
            min_version: 0x0303,
            max_version: 0x0304,
            sni: true,
            request_cert: false,
            reject_unauthorized: true,
            honor_cipher_order: false,
        }
    }
}

impl Params {
    fn versions(&self) -> Vec<&'static SupportedProtocolVersion> {
        [&rustls::version::TLS12, &rustls::version::TLS13]
            .into_iter()
            .filter(|v| {
                let n = u16::from(v.version);
                n >= self.min_version && n <= self.max_version
            })
            .collect()
    }
}

/// Our key + chain pairs, offered to a peer that can check their signatures.
#[derive(Debug)]
struct Identities(Vec<Arc<CertifiedKey>>);

impl Identities {
    fn pick(&self, schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.0
            .iter()
            .find(|ck| ck.key.choose_scheme(schemes).is_some())
            .or_else(|| self.0.first())
            .cloned()
    }
}

impl ResolvesServerCert for Identities {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.pick(hello.signature_schemes())
    }
}

impl ResolvesClientCert for Identities {
    fn resolve(&self, _hints: &[&[u8]], schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.pick(schemes)
    }

    fn has_certs(&self) -> bool {
        !self.0.is_empty()
    }
}
