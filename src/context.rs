//! PEM and DER in, rustls configurations out.
//!
//! A [`Context`] is what `tls.createSecureContext()` parses once: the local
//! identities (key + chain pairs) and the trust store. Client and server
//! configurations are cut from it per connection parameters (ALPN, protocol
//! versions, client-certificate policy).

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::{
    ClientConfig, RootCertStore, ServerConfig, SignatureScheme, SupportedProtocolVersion,
};

use crate::error::NodeError;
use crate::names;
use crate::session::{self, ConnStore, NodeTicketer};
use crate::verify::{ClientAuth, RecordingServerVerifier, Trust};
use crate::x509::{self, Cert, KeyKind};

/// The one crypto provider: aws-lc-rs, post-quantum key exchange first.
pub fn provider() -> &'static Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// Which stores the default trust holds: (bundled, system). Set once, by
/// JavaScript, from Node's flags (`--use-system-ca`, `NODE_USE_SYSTEM_CA`,
/// `--use-openssl-ca`) before any context is made.
static DEFAULT_STORES: OnceLock<(bool, bool)> = OnceLock::new();

/// Chooses the stores of the default trust; later calls change nothing.
pub fn configure_default_trust(bundled: bool, system: bool) {
    let _ = DEFAULT_STORES.set((bundled, system));
}

/// The system's trusted certificates (`rustls-native-certs`: on Linux the
/// OpenSSL locations, `SSL_CERT_FILE` and `SSL_CERT_DIR`), read once.
pub fn system_certs() -> &'static [CertificateDer<'static>] {
    static SYSTEM: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    SYSTEM.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// `tls.setDefaultCACertificates()`: the trust of contexts made from now on
/// without `ca`.
static REPLACED: RwLock<Option<Trust>> = RwLock::new(None);

/// Replaces the default trust with exactly these certificates.
pub fn set_default_trust(certs: Vec<CertificateDer<'static>>) {
    if let Ok(mut replaced) = REPLACED.write() {
        *replaced = Some(Trust::from_ca(certs, false, crate::seclevel::DEFAULT));
    }
}

/// The trust of a context given no `ca`.
fn current_default_trust() -> Trust {
    REPLACED
        .read()
        .ok()
        .and_then(|r| r.clone())
        .unwrap_or_else(|| default_trust().clone())
}

/// The default trust store: Mozilla's roots (`webpki-roots`) unless
/// `--use-openssl-ca`, the system's with `--use-system-ca`, plus the
/// certificates in `NODE_EXTRA_CA_CERTS`, as Node loads them.
pub fn default_trust() -> &'static Trust {
    static DEFAULT: OnceLock<Trust> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        let (bundled, system) = *DEFAULT_STORES.get_or_init(|| (true, false));
        let mut roots = RootCertStore::empty();
        if bundled {
            roots.roots = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        }
        if system {
            roots.add_parsable_certificates(system_certs().iter().cloned());
        }
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
            intermediates: Arc::default(),
            partial: None,
            level: crate::seclevel::DEFAULT,
            crls: Arc::default(),
            crls_v1: Arc::default(),
        }
    })
}

/// What `createSecureContext` was given, after JavaScript normalised it:
/// every entry is PEM (or DER for certificates), keys already decrypted.
#[derive(Debug, Default, Clone)]
pub struct ContextInput {
    /// `cert`: each entry a PEM chain, leaf first.
    pub certs: Vec<Vec<u8>>,
    /// `key`: each entry one PEM private key (PKCS#1, PKCS#8 or SEC1).
    pub keys: Vec<Vec<u8>>,
    /// `ca`: PEM bundles; `None` means the default roots.
    pub ca: Option<Vec<Vec<u8>>>,
    /// `pfx`: PKCS#12 archives (DER) with their passphrases.
    pub pfx: Vec<(Vec<u8>, String)>,
    /// `crl`: each entry PEM (one or more CRLs) or one DER CRL.
    pub crls: Vec<Vec<u8>>,
    /// `context.addCACert()`: trusted on top of `ca` (or the default roots,
    /// as OpenSSL adds them to a copy of its default store).
    pub added_ca: Vec<Vec<u8>>,
    /// OpenSSL's security level ([`crate::seclevel`]).
    pub security_level: u8,
    /// `ticketKeys`; `None` for random keys.
    pub ticket_keys: Option<[u8; 48]>,
    /// `sessionTimeout` in seconds.
    pub session_timeout: Option<u32>,
    /// `sessionIdContext`.
    pub session_id_context: Vec<u8>,
    /// `secureOptions` has `SSL_OP_NO_TICKET`.
    pub no_ticket: bool,
    /// `allowPartialTrustChain`: every `ca` certificate is a trust anchor.
    pub allow_partial: bool,
}

/// A parsed secure context.
#[derive(Debug)]
pub struct Context {
    /// Key + chain pairs a server offers, elliptic-curve keys first.
    pub identities: Vec<Arc<CertifiedKey>>,
    /// Trust store for the peer's chain.
    pub trust: Trust,
    /// Client configurations made so far, by parameters: a context used
    /// for many connections builds each configuration once.
    client_configs: Mutex<Vec<(Params, Arc<ClientConfig>)>>,
    /// The server's session tickets (`ticketKeys`, `sessionTimeout`).
    pub ticketer: Arc<NodeTicketer>,
    /// `SSL_OP_NO_TICKET`: no tickets; sessions by id through the cache
    /// events only.
    no_ticket: bool,
    /// Our client certificates, one object per context: rustls resumes a
    /// session only with the resolver that made it.
    client_resolver: Arc<dyn ResolvesClientCert>,
}

fn pem_error() -> NodeError {
    let mut e = NodeError::new(
        "ERR_OSSL_PEM_NO_START_LINE",
        "error:0480006C:PEM routines::no start line",
    );
    e.reason = Some("no start line".into());
    e
}

fn asn1_error() -> NodeError {
    let mut e = NodeError::new(
        "ERR_OSSL_ASN1_WRONG_TAG",
        "error:068000A8:asn1 encoding routines::wrong tag",
    );
    e.reason = Some("wrong tag".into());
    e
}

/// PEM labels OpenSSL reads as a certificate (`PEM_read_bio_X509_AUX`, which
/// Node uses for `cert` and `ca`), made plain "CERTIFICATE" for the parser.
/// Input without them (nearly all) is used as it is, uncopied.
fn certificate_labels(pem: &[u8]) -> Cow<'_, [u8]> {
    const LABELS: [&[u8]; 2] = [b"X509 CERTIFICATE-----", b"TRUSTED CERTIFICATE-----"];
    let has = |text: &[u8], pat: &[u8]| text.windows(pat.len()).any(|w| w == pat);
    if !LABELS.iter().any(|label| has(pem, label)) {
        return Cow::Borrowed(pem);
    }
    let mut text = pem.to_vec();
    for label in LABELS {
        for mark in [&b"-----BEGIN "[..], b"-----END "] {
            let from = [mark, label].concat();
            let to = [mark, &b"CERTIFICATE-----"[..]].concat();
            while let Some(at) = text.windows(from.len()).position(|w| w == from.as_slice()) {
                text.splice(at..at + from.len(), to.iter().copied());
            }
        }
    }
    Cow::Owned(text)
}

fn parse_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, NodeError> {
    let text = certificate_labels(pem);
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&text)
        .map(|c| {
            c.map(|c| match x509::first_certificate(&c) {
                Some(first) if first.len() < c.len() => CertificateDer::from(first.to_vec()),
                _ => c,
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|_| pem_error())?;
    if certs.iter().any(|c| Cert::parse(c).is_none()) {
        return Err(asn1_error());
    }
    if certs.is_empty() {
        if Cert::parse(pem).is_some() {
            return Ok(vec![CertificateDer::from(pem.to_vec())]);
        }
        return Err(pem_error());
    }
    Ok(certs)
}

/// `crl` entries: PEM or DER. As in Node (`SecureContext::AddCRL`, one
/// `PEM_read_bio_X509_CRL` per entry), an entry gives its first CRL only;
/// one that does not parse fails with Node's code and message.
/// The `crl` entries: those webpki reads, and the v1 lists it does not.
type Crls = (
    Vec<webpki::CertRevocationList<'static>>,
    Vec<crate::crl_v1::V1Crl>,
);

fn parse_crls(entries: &[Vec<u8>]) -> Result<Crls, NodeError> {
    use rustls::pki_types::CertificateRevocationListDer;
    let failed = || NodeError::new("ERR_CRYPTO_OPERATION_FAILED", "Failed to parse CRL");
    let mut out: Crls = (Vec::new(), Vec::new());
    for entry in entries {
        let der = match CertificateRevocationListDer::pem_slice_iter(entry).next() {
            Some(first) => first.map_err(|_| failed())?,
            None => CertificateRevocationListDer::from(entry.clone()),
        };
        match webpki::OwnedCertRevocationList::from_der(&der) {
            Ok(crl) => out.0.push(crl.into()),
            Err(_) => out
                .1
                .push(crate::crl_v1::V1Crl::parse(&der).ok_or_else(failed)?),
        }
    }
    Ok(out)
}

/// OpenSSL's error for a version range with nothing in it.
pub fn no_protocols() -> NodeError {
    let mut e = NodeError::new(
        "ERR_SSL_NO_PROTOCOLS_AVAILABLE",
        "error:0A0000BF:SSL routines::no protocols available",
    );
    e.reason = Some("no protocols available".into());
    e
}

fn key_error() -> NodeError {
    let mut e = NodeError::new(
        "ERR_OSSL_UNSUPPORTED",
        "error:1E08010C:DECODER routines::unsupported",
    );
    e.reason = Some("unsupported".into());
    e
}

fn too_small(bits: usize, min: usize) -> NodeError {
    NodeError::new(
        "ERR_SSL_EE_KEY_TOO_SMALL",
        format!(
            "ee key too small: the certificate's RSA key has {bits} bits; this security level \
             needs at least {min} (make one with `openssl genrsa -out key.pem 2048`, or lower \
             the level on purpose with `@SECLEVEL=1` in `ciphers`)"
        ),
    )
}

/// A PKCS#12 archive's key and chain (leaf first). Errors carry OpenSSL's
/// reasons; Node gives these errors no code, so the codes are ours, named
/// after OpenSSL's reason as Node names its others.
fn read_pfx(
    der: &[u8],
    passphrase: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), NodeError> {
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    let pfx_error = |code: &str, reason: &str| {
        let mut e = NodeError::new(code, reason);
        e.reason = Some(reason.into());
        e
    };
    use p12_keystore::error::Error as P12;
    let parsed = KeyStore::from_pkcs12(der, passphrase, Pkcs12ImportPolicy::Relaxed);
    // OpenSSL 3's default provider has no RC2, RC4 or single DES: Node
    // refuses archives sealed with them once their MAC checks out.
    if !matches!(parsed, Err(P12::MacError(_))) && uses_legacy_cipher(der) {
        return Err(NodeError::new(
            "ERR_CRYPTO_UNSUPPORTED_OPERATION",
            "Unsupported PKCS12 PFX data",
        ));
    }
    let store = parsed.map_err(|e| match e {
        P12::DerError(_) => pfx_error("ERR_OSSL_ASN1_NOT_ENOUGH_DATA", "not enough data"),
        _ => pfx_error("ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE", "mac verify failure"),
    })?;
    let (_, entry) = store.private_key_chain().ok_or_else(|| {
        // Node's own wording (src/crypto/crypto_context.cc).
        pfx_error(
            "ERR_TLS_PFX_NO_KEY",
            "Unable to load private key from PFX data",
        )
    })?;
    let chain: Vec<_> = entry
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    if chain.is_empty() {
        return Err(pfx_error(
            "ERR_TLS_PFX_NO_CERT",
            "Unable to load certificate from PFX data",
        ));
    }
    let key = PrivateKeyDer::Pkcs8(entry.key().as_der().to_vec().into());
    Ok((chain, key))
}

/// Whether a PKCS#12 archive names an algorithm only OpenSSL's legacy
/// provider has (RC2, RC4, single DES and the PBEs built on them). The
/// algorithm identifiers are in the clear, so their DER is looked for.
fn uses_legacy_cipher(der: &[u8]) -> bool {
    const RSADSI: [u8; 7] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01];
    let oid = |arcs: &[u8]| -> Vec<u8> {
        let mut v = vec![0x06, (RSADSI.len() + arcs.len()) as u8];
        v.extend_from_slice(&RSADSI);
        v.extend_from_slice(arcs);
        v
    };
    let legacy = [
        // rc2-cbc (1.2.840.113549.3.2): the arc under RSADSI's 3, not 1.
        vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x02],
        // des-cbc (1.3.14.3.2.7).
        vec![0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x07],
        // pbeWithSHAAnd{128,40}BitRC4, pbeWithSHAAnd{128,40}BitRC2-CBC.
        oid(&[0x0c, 0x01, 0x01]),
        oid(&[0x0c, 0x01, 0x02]),
        oid(&[0x0c, 0x01, 0x05]),
        oid(&[0x0c, 0x01, 0x06]),
        // PKCS#5 v1.5: pbeWith{MD2,MD5,SHA1}And{DES,RC2}-CBC.
        oid(&[0x05, 0x01]),
        oid(&[0x05, 0x03]),
        oid(&[0x05, 0x04]),
        oid(&[0x05, 0x06]),
        oid(&[0x05, 0x0a]),
        oid(&[0x05, 0x0b]),
    ];
    legacy
        .iter()
        .any(|pattern| der.windows(pattern.len()).any(|w| w == pattern.as_slice()))
}

/// One key type's certificate chain and key, as OpenSSL keeps them.
type Slot<'a> = (
    KeyKind,
    Option<&'a Vec<CertificateDer<'static>>>,
    Option<Arc<dyn SigningKey>>,
);

/// Our chain as sent. A `cert` that carries its own chain is sent as given;
/// a certificate alone is completed from `ca` with issuers found by name, up
/// to and including the self-issued root, as OpenSSL's automatic chain
/// building does for both ends.
fn complete_chain(
    chain: &[CertificateDer<'static>],
    ca: &[CertificateDer<'static>],
) -> Vec<CertificateDer<'static>> {
    let mut out = chain.to_vec();
    if out.len() > 1 {
        return out;
    }
    while out.len() < 10 {
        let Some(last) = out.last().and_then(|c| Cert::parse(c)) else {
            break;
        };
        if last.self_issued() {
            break;
        }
        let wanted = last.issuer().to_vec();
        drop(last);
        let issuer = ca
            .iter()
            .find(|c| !out.contains(c) && Cert::parse(c).is_some_and(|p| p.subject() == wanted));
        match issuer {
            Some(c) => out.push(c.clone()),
            None => break,
        }
    }
    out
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
        let mut chains = input
            .certs
            .iter()
            .map(|pem| parse_chain(pem))
            .collect::<Result<Vec<_>, _>>()?;
        let mut pfx_keys = Vec::new();
        // A PKCS#12 archive's other certificates are trusted too, as Node
        // adds them to the context's store (SecureContext::LoadPKCS12).
        let mut pfx_ca = Vec::new();
        for (der, passphrase) in &input.pfx {
            let (chain, key) = read_pfx(der, passphrase)?;
            pfx_ca.extend(chain.iter().skip(1).cloned());
            chains.push(chain);
            pfx_keys.push(key);
        }
        for chain in &chains {
            let bits = Cert::parse(&chain[0]).and_then(|p| p.rsa_bits());
            let min = crate::seclevel::min_rsa_bits(input.security_level);
            if let Some(bits) = bits.filter(|&b| b < min) {
                return Err(too_small(bits, min));
            }
        }
        let keys = input
            .keys
            .iter()
            .map(|pem| {
                PrivateKeyDer::from_pem_slice(pem)
                    .or_else(|_| PrivateKeyDer::try_from(pem.clone()))
                    .map_err(|_| key_error())
            })
            .chain(pfx_keys.into_iter().map(Ok))
            .map(|key| {
                let key = key?;
                provider()
                    .key_provider
                    .load_private_key(key.clone_key())
                    .or_else(|_| {
                        // Under level 2, an RSA key below the provider's 2048
                        // bits (the certificate check above holds the floor).
                        (input.security_level < 2)
                            .then(|| crate::seclevel::small_rsa_key(&key))
                            .flatten()
                            .ok_or(())
                    })
                    .map_err(|_| key_error())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let trust = match &input.ca {
            None => Trust {
                level: input.security_level,
                ..current_default_trust()
            },
            Some(bundles) => {
                // Like OpenSSL, `ca` takes the certificates it finds and
                // ignores anything else (keys, text, broken PEM).
                let ca: Vec<_> = bundles
                    .iter()
                    .flat_map(|pem| parse_chain(pem).unwrap_or_default())
                    .collect();
                Trust::from_ca(ca, input.allow_partial, input.security_level)
            }
        };
        let added: Vec<_> = input
            .added_ca
            .iter()
            .flat_map(|pem| parse_chain(pem).unwrap_or_default())
            .chain(pfx_ca)
            .collect();
        let trust = if added.is_empty() {
            trust
        } else {
            let mut roots = (*trust.roots).clone();
            roots.add_parsable_certificates(added.iter().cloned());
            let ca: Vec<_> = trust.ca.iter().cloned().chain(added).collect();
            Trust {
                roots: Arc::new(roots),
                ca: Arc::new(ca),
                ..trust
            }
        };
        let trust = if input.crls.is_empty() {
            trust
        } else {
            let (crls, crls_v1) = parse_crls(&input.crls)?;
            Trust {
                crls: Arc::new(crls),
                crls_v1: Arc::new(crls_v1),
                ..trust
            }
        };
        // OpenSSL keeps one certificate and one key per key type, the last
        // given of each winning; a pair whose halves do not match is an
        // error, and a half without its other half is left out (the context
        // loads, and a handshake that would need it fails), as in Node.
        let mut slots: Vec<Slot<'_>> = Vec::new();
        fn slot<'a, 'b>(slots: &'a mut Vec<Slot<'b>>, kind: KeyKind) -> &'a mut Slot<'b> {
            let i = match slots.iter().position(|s| s.0 == kind) {
                Some(i) => i,
                None => {
                    slots.push((kind, None, None));
                    slots.len() - 1
                }
            };
            &mut slots[i]
        }
        for chain in &chains {
            let kind = Cert::parse(&chain[0]).map_or(KeyKind::Other, |p| p.key_kind());
            slot(&mut slots, kind).1 = Some(chain);
        }
        for key in keys {
            let kind = match key.algorithm() {
                rustls::SignatureAlgorithm::RSA => KeyKind::Rsa,
                rustls::SignatureAlgorithm::ECDSA => KeyKind::Ec,
                rustls::SignatureAlgorithm::ED25519 => KeyKind::Ed25519,
                _ => KeyKind::Other,
            };
            slot(&mut slots, kind).2 = Some(key);
        }
        // Elliptic-curve identities first: offered to a client that can take
        // them before RSA, as OpenSSL prefers them.
        slots.sort_by_key(|s| s.0 == KeyKind::Rsa);
        let (mut identities, mut client_identities) = (Vec::new(), Vec::new());
        for (_, chain, key) in slots {
            let (Some(chain), Some(key)) = (chain, key) else {
                continue;
            };
            let leaf_spki = Cert::parse(&chain[0]).map(|p| p.spki());
            if let (Some(spki), Some(leaf)) = (key.public_key(), leaf_spki) {
                if spki.as_ref() != leaf {
                    return Err(mismatch());
                }
            }
            let server_chain = complete_chain(chain, &trust.ca);
            let client_chain = server_chain.clone();
            identities.push(Arc::new(CertifiedKey::new(server_chain, key.clone())));
            client_identities.push(Arc::new(CertifiedKey::new(client_chain, key)));
        }
        let client_resolver: Arc<dyn ResolvesClientCert> =
            shared_client_identities(client_identities);
        let ticketer = Arc::new(NodeTicketer::new(
            input.ticket_keys,
            input.session_timeout.unwrap_or(session::DEFAULT_TIMEOUT),
            input.session_id_context,
        ));
        Ok(Self {
            identities,
            trust,
            client_configs: Mutex::new(Vec::new()),
            ticketer,
            no_ticket: input.no_ticket,
            client_resolver,
        })
    }

    /// A client configuration with these parameters.
    pub fn client_config(&self, params: &Params) -> Result<Arc<ClientConfig>, NodeError> {
        /// Distinct parameter sets kept per context.
        const KEEP: usize = 8;
        if let Ok(cache) = self.client_configs.lock() {
            if let Some((_, config)) = cache.iter().find(|(p, _)| p == params) {
                return Ok(config.clone());
            }
        }
        let config = self.build_client_config(params)?;
        if let Ok(mut cache) = self.client_configs.lock() {
            if cache.len() >= KEEP {
                cache.remove(0);
            }
            cache.push((params.clone(), config.clone()));
        }
        Ok(config)
    }

    fn build_client_config(&self, params: &Params) -> Result<Arc<ClientConfig>, NodeError> {
        let builder = ClientConfig::builder_with_provider(params.provider()?)
            .with_protocol_versions(&params.versions())
            .map_err(|e| NodeError::from(&e))?
            .dangerous()
            .with_custom_certificate_verifier(recording_verifier(
                self.trust.level,
                &params.sigalgs,
            ));
        let mut config = builder.with_client_cert_resolver(self.client_resolver.clone());
        config.alpn_protocols = params.alpn.clone();
        config.enable_sni = params.sni;
        // Node resumes a session only when given one (`session`); a shared
        // configuration must not resume behind the user's back. Each
        // connection gets its own store ([`with_session`]).
        config.resumption = rustls::client::Resumption::disabled();
        Ok(Arc::new(config))
    }

    /// A server configuration with these parameters.
    pub fn server_config(&self, params: &Params) -> Result<Arc<ServerConfig>, NodeError> {
        self.server_config_with(params, Arc::default())
    }

    /// A server configuration whose certificate also depends on the SNI
    /// name, through `sni` (`server.addContext()`), which may grow later.
    pub fn server_config_with(
        &self,
        params: &Params,
        sni: Arc<SniTable>,
    ) -> Result<Arc<ServerConfig>, NodeError> {
        let builder = ServerConfig::builder_with_provider(params.provider()?)
            .with_protocol_versions(&params.versions())
            .map_err(|e| NodeError::from(&e))?;
        let builder = if params.request_cert {
            builder.with_client_cert_verifier(Arc::new(ClientAuth::new(
                self.trust.clone(),
                self.trust.algorithms(),
                params.reject_unauthorized,
                params.require_client_cert,
            )))
        } else {
            builder.with_client_cert_verifier(WebPkiClientVerifier::no_client_auth())
        };
        let mut config = builder.with_cert_resolver(Arc::new(ServerIdentities {
            default: Identities {
                keys: self.identities.clone(),
                tls13: params.tls13(),
            },
            sni,
        }));
        config.alpn_protocols = params.alpn.clone();
        config.ignore_client_order = params.honor_cipher_order;
        config.session_storage = Arc::new(session::ListenerCache);
        if !self.no_ticket {
            config.ticketer = self.ticketer.clone();
        }
        Ok(Arc::new(config))
    }
}

/// `config` for one connection: offering `session` (a session Buffer) and
/// reporting the sessions it receives to `store`'s sink.
pub fn with_session(config: &ClientConfig, store: Arc<ConnStore>) -> Arc<ClientConfig> {
    let mut config = config.clone();
    config.resumption = rustls::client::Resumption::store(store);
    Arc::new(config)
}

/// The client certificate resolver for these identities, one per distinct
/// set of certificates and keys in the process: rustls resumes a session
/// only with the resolver object that made it, while Node resumes with any
/// context holding the same certificate (an `https.Agent` makes a new
/// context for every connection). Contexts without client certificates
/// share one resolver. The last few sets are kept alive, so that a session
/// outlives the context of the connection that got it.
fn shared_client_identities(keys: Vec<Arc<CertifiedKey>>) -> Arc<Identities> {
    /// Distinct client identities kept.
    const KEEP: usize = 64;
    type Made = Vec<(Vec<u8>, Arc<Identities>)>;
    static MADE: OnceLock<Mutex<Made>> = OnceLock::new();
    let mut id = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for key in &keys {
        // A key that cannot say its public half is told apart by nothing here.
        let Some(spki) = key.key.public_key() else {
            return Arc::new(Identities { keys, tls13: true });
        };
        id.update(&(key.cert.len() as u64).to_be_bytes());
        for cert in &key.cert {
            id.update(&(cert.len() as u64).to_be_bytes());
            id.update(cert.as_ref());
        }
        id.update(&(spki.len() as u64).to_be_bytes());
        id.update(spki.as_ref());
    }
    let id = id.finish().as_ref().to_vec();
    let Ok(mut made) = MADE.get_or_init(Mutex::default).lock() else {
        return Arc::new(Identities { keys, tls13: true });
    };
    if let Some(i) = made.iter().position(|(k, _)| *k == id) {
        let entry = made.remove(i);
        let resolver = entry.1.clone();
        made.push(entry);
        return resolver;
    }
    let resolver = Arc::new(Identities { keys, tls13: true });
    if made.len() >= KEEP {
        made.remove(0);
    }
    made.push((id, resolver.clone()));
    resolver
}

/// The verifier for this security level and these signature algorithms,
/// one per process: rustls resumes a session only with the verifier that
/// made it.
fn recording_verifier(
    level: u8,
    sigalgs: &Option<Vec<SignatureScheme>>,
) -> Arc<RecordingServerVerifier> {
    type Made = Vec<(
        u8,
        Option<Vec<SignatureScheme>>,
        Arc<RecordingServerVerifier>,
    )>;
    static MADE: OnceLock<Mutex<Made>> = OnceLock::new();
    let make = || {
        Arc::new(RecordingServerVerifier::new(
            crate::seclevel::algorithms(level),
            sigalgs.clone(),
        ))
    };
    let Ok(mut made) = MADE.get_or_init(Mutex::default).lock() else {
        return make();
    };
    if let Some((_, _, v)) = made.iter().find(|(l, s, _)| *l == level && s == sigalgs) {
        return v.clone();
    }
    let v = make();
    made.push((level, sigalgs.clone(), v.clone()));
    v
}

/// Per-connection parameters that select a configuration.
#[derive(Debug, Clone, PartialEq)]
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
    /// Server: fail the handshake on a bad client certificate.
    pub reject_unauthorized: bool,
    /// Server: fail the handshake on a missing client certificate.
    pub require_client_cert: bool,
    /// Server: prefer our cipher suite order.
    pub honor_cipher_order: bool,
    /// `ciphers`: the suites allowed, in order; `None` for rustls' defaults.
    pub ciphers: Option<crate::suites::CipherSpec>,
    /// `ecdhCurve`: the key exchange groups, in order; `None` for `auto`.
    pub groups: Option<Vec<rustls::NamedGroup>>,
    /// `sigalgs`: the signature schemes a client offers; `None` for all.
    pub sigalgs: Option<Vec<SignatureScheme>>,
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
            require_client_cert: true,
            honor_cipher_order: false,
            ciphers: None,
            groups: None,
            sigalgs: None,
        }
    }
}

impl Params {
    /// The provider with `ciphers` applied, and only the suites of the
    /// enabled versions (so that a TLS 1.2-only client does not offer TLS 1.3
    /// suites, which servers read as TLS 1.3 support).
    fn provider(&self) -> Result<Arc<CryptoProvider>, NodeError> {
        let base = provider();
        let versions = self.versions();
        if self.speaks_nothing() {
            return Err(no_protocols());
        }
        if versions.is_empty() {
            // Nothing left to speak: OpenSSL's words for it.
            let mut e = NodeError::new(
                "ERR_SSL_NO_CIPHERS_AVAILABLE",
                "error:0A0000B5:SSL routines::no ciphers available",
            );
            e.reason = Some("no ciphers available".into());
            return Err(e);
        }
        let usable = |s: &rustls::SupportedCipherSuite| {
            versions.iter().any(|v| v.version == s.version().version)
        };
        let suites: Vec<_> = match &self.ciphers {
            Some(spec) => spec
                .suites()
                .iter()
                .filter_map(|want| {
                    base.cipher_suites
                        .iter()
                        .find(|s| s.suite() == *want)
                        .copied()
                })
                .filter(usable)
                .collect(),
            None if self.tls13() && self.min_version <= 0x0303 && self.groups.is_none() => {
                return Ok(base.clone())
            }
            None => base.cipher_suites.iter().copied().filter(usable).collect(),
        };
        if suites.is_empty() {
            return Err(crate::suites::no_cipher_match());
        }
        let kx_groups = match &self.groups {
            Some(names) => crate::suites::kx_groups(&crate::suites::all_kx_groups(), names),
            None => base.kx_groups.clone(),
        };
        Ok(Arc::new(CryptoProvider {
            cipher_suites: suites,
            kx_groups,
            ..(**base).clone()
        }))
    }

    /// The version range holds nothing rustls speaks (a maximum under
    /// TLS 1.2, or a minimum above the maximum): every handshake fails, as
    /// OpenSSL fails it ("no protocols available").
    pub fn speaks_nothing(&self) -> bool {
        self.max_version < 0x0303 || self.min_version > self.max_version
    }

    /// A copy whose range is rustls' whole range (to build a configuration
    /// for a server that refuses every handshake).
    pub fn full_range(&self) -> Self {
        Self {
            min_version: 0x0303,
            max_version: 0x0304,
            ..self.clone()
        }
    }

    fn tls13(&self) -> bool {
        self.max_version >= 0x0304
    }

    /// The versions in range that `ciphers` leaves suites for (as in Node,
    /// a list of TLS 1.3 suites alone means TLS 1.3 only).
    fn versions(&self) -> Vec<&'static SupportedProtocolVersion> {
        let has = |v: u16| match &self.ciphers {
            None => true,
            Some(spec) if v == 0x0303 => !spec.tls12.is_empty(),
            Some(spec) => spec.tls13.as_ref().is_none_or(|l| !l.is_empty()),
        };
        [&rustls::version::TLS12, &rustls::version::TLS13]
            .into_iter()
            .filter(|v| {
                let n = u16::from(v.version);
                n >= self.min_version && n <= self.max_version && has(n)
            })
            .collect()
    }
}

/// Our key + chain pairs, offered to a peer that can check their signatures.
#[derive(Debug)]
struct Identities {
    keys: Vec<Arc<CertifiedKey>>,
    /// TLS 1.3 may be negotiated.
    tls13: bool,
}

impl Identities {
    fn can_sign(ck: &CertifiedKey, schemes: &[SignatureScheme]) -> bool {
        ck.key.choose_scheme(schemes).is_some()
    }

    /// Any key the peer can check, else the first.
    fn pick(&self, schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.keys
            .iter()
            .find(|ck| Self::can_sign(ck, schemes))
            .or_else(|| self.keys.first())
            .cloned()
    }
}

/// `server.addContext(hostname, context)` entries: the last added whose
/// pattern matches the SNI name wins, as in Node.
#[derive(Debug, Default)]
pub struct SniTable(std::sync::RwLock<Vec<SniEntry>>);

/// One `addContext()` entry: the name pattern, the context's keys and the
/// trust store its client certificates are judged against.
type SniEntry = (String, Vec<Arc<CertifiedKey>>, Trust);

impl SniTable {
    /// Adds `context`'s keys for names matching `pattern` (`*` matches
    /// within one label, as Node's wildcard does).
    pub fn add(&self, pattern: &str, context: &Context) {
        if let Ok(mut table) = self.0.write() {
            table.push((
                pattern.to_ascii_lowercase(),
                context.identities.clone(),
                context.trust.clone(),
            ));
        }
    }

    fn entry<T>(&self, name: &str, take: impl Fn(&SniEntry) -> T) -> Option<T> {
        let name = name.to_ascii_lowercase();
        let table = self.0.read().ok()?;
        table
            .iter()
            .rev()
            .find(|(pattern, _, _)| glob_match(pattern.as_bytes(), name.as_bytes()))
            .map(take)
    }

    fn lookup(&self, name: &str) -> Option<Vec<Arc<CertifiedKey>>> {
        self.entry(name, |(_, keys, _)| keys.clone())
    }

    /// The trust store of the context serving `name`, when `addContext()`
    /// has one: as in Node, a client certificate is judged by the `ca` of
    /// the context the SNI name chose.
    pub fn trust(&self, name: &str) -> Option<Trust> {
        self.entry(name, |(_, _, trust)| trust.clone())
    }
}

/// `*` matches any run of characters other than `.`.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => {
            let label = name.iter().position(|&c| c == b'.').unwrap_or(name.len());
            (0..=label).any(|i| glob_match(rest, &name[i..]))
        }
        Some((c, rest)) => name.first() == Some(c) && glob_match(rest, &name[1..]),
    }
}

/// A server's keys: those for the SNI name when `addContext` has some,
/// else the default context's.
#[derive(Debug)]
struct ServerIdentities {
    default: Identities,
    sni: Arc<SniTable>,
}

thread_local! {
    /// An IP address the ClientHello being processed on this thread sent as
    /// its SNI name ([`with_hello_ip`]).
    static HELLO_IP: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` (a call into rustls that may resolve the server's certificate)
/// with `ip` as the SNI name when rustls reports none: rustls ignores an IP
/// address sent as the name, OpenSSL does not, and `addContext()` may name
/// one. rustls resolves synchronously within the call, so a thread-local
/// carries it there.
pub fn with_hello_ip<T>(ip: Option<String>, f: impl FnOnce() -> T) -> T {
    if ip.is_none() {
        return f();
    }
    HELLO_IP.with(|slot| *slot.borrow_mut() = ip);
    let out = f();
    HELLO_IP.with(|slot| slot.borrow_mut().take());
    out
}

impl ResolvesServerCert for ServerIdentities {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let ip = || HELLO_IP.with(|slot| slot.borrow().clone());
        let keys = match hello.server_name() {
            Some(name) => self.sni.lookup(name),
            None => ip().and_then(|name| self.sni.lookup(&name)),
        };
        if let Some(keys) = keys {
            let chosen = Identities {
                keys,
                tls13: self.default.tls13,
            };
            return ResolvesServerCert::resolve(&chosen, hello);
        }
        ResolvesServerCert::resolve(&self.default, hello)
    }
}

impl ResolvesServerCert for Identities {
    /// As OpenSSL chooses: for TLS 1.3 by the client's signature scheme
    /// order, for TLS 1.2 by its cipher suite order (the suite names the
    /// key type).
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let schemes = hello.signature_schemes();
        if self.keys.len() > 1 {
            if self.tls13 && names::offers_tls13(hello.cipher_suites()) {
                for scheme in schemes {
                    if let Some(ck) = self.keys.iter().find(|ck| Self::can_sign(ck, &[*scheme])) {
                        return Some(ck.clone());
                    }
                }
            } else {
                for suite in hello.cipher_suites() {
                    let Some(auth) = names::suite_auth(*suite) else {
                        continue;
                    };
                    let found = self
                        .keys
                        .iter()
                        .find(|ck| ck.key.algorithm() == auth && Self::can_sign(ck, schemes));
                    if let Some(ck) = found {
                        return Some(ck.clone());
                    }
                }
            }
        }
        self.pick(schemes)
    }
}

impl ResolvesClientCert for Identities {
    fn resolve(&self, _hints: &[&[u8]], schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.pick(schemes)
    }

    fn has_certs(&self) -> bool {
        !self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn wildcards_stay_within_one_label() {
        assert!(glob_match(b"*.example.com", b"a.example.com"));
        assert!(!glob_match(b"*.example.com", b"a.b.example.com"));
        assert!(!glob_match(b"*.example.com", b"example.com"));
        assert!(glob_match(b"example.com", b"example.com"));
        assert!(glob_match(b"a*.test", b"abc.test"));
    }
}
