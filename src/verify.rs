//! Certificate checks that record their outcome instead of aborting.
//!
//! Node completes the handshake whatever the peer's chain, then reports the
//! verification result (`authorized`, `authorizationError`) and lets
//! JavaScript decide, through `rejectUnauthorized`, whether to drop the
//! connection. rustls' verifiers abort the handshake instead, so during the
//! handshake we only check what keeps the handshake itself sound (the peer's
//! signature over the transcript), and the chain is judged afterwards by
//! [`verify_chain`], which returns the OpenSSL verify code Node would report.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature_with_raw_key, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

use crate::x509::Cert;

/// An OpenSSL `X509_V_ERR_*` outcome, named as Node names it in `err.code`.
///
/// Messages are OpenSSL 3's `X509_verify_cert_error_string` texts, which is
/// what Node 20+ puts in `err.message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyCode {
    /// The only certificate is self-signed and not trusted.
    DepthZeroSelfSigned,
    /// The chain ends in a self-signed certificate that is not trusted.
    SelfSignedInChain,
    /// The leaf's issuer is neither sent nor trusted.
    UnableToVerifyLeaf,
    /// An intermediate's issuer is neither sent nor trusted.
    UnableToGetIssuerLocally,
    /// The peer sent no certificate (server side, `requestCert`).
    UnableToGetIssuer,
    /// A certificate's `notAfter` has passed.
    Expired,
    /// A certificate's `notBefore` is in the future.
    NotYetValid,
    /// The certificate is not for this purpose (extended key usage).
    InvalidPurpose,
    /// A signature in the chain does not verify.
    BadSignature,
    /// A CA the peer sent has an RSA key under the security level's minimum
    /// (`X509_V_ERR_CA_KEY_TOO_SMALL`).
    CaKeyTooSmall,
    /// The trusted root's own key is under the minimum: OpenSSL gives up
    /// on it without a specific reason (`X509_V_ERR_UNSPECIFIED`).
    Unspecified,
    /// A certificate in the chain is listed in its issuer's CRL.
    Revoked,
    /// CRLs are in use and none is from this certificate's issuer.
    UnableToGetCrl,
    /// The issuer's CRL is past its `nextUpdate`.
    CrlExpired,
    /// The issuer's CRL is not signed by the issuer.
    CrlSignatureFailure,
    /// The CRL's issuer has a key usage without `cRLSign`.
    KeyUsageNoCrlSign,
    /// Anything else the chain builder refused.
    Rejected,
}

impl VerifyCode {
    /// `err.code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::DepthZeroSelfSigned => "DEPTH_ZERO_SELF_SIGNED_CERT",
            Self::SelfSignedInChain => "SELF_SIGNED_CERT_IN_CHAIN",
            Self::UnableToVerifyLeaf => "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            Self::UnableToGetIssuerLocally => "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
            Self::UnableToGetIssuer => "UNABLE_TO_GET_ISSUER_CERT",
            Self::Expired => "CERT_HAS_EXPIRED",
            Self::NotYetValid => "CERT_NOT_YET_VALID",
            Self::InvalidPurpose => "INVALID_PURPOSE",
            Self::BadSignature => "CERT_SIGNATURE_FAILURE",
            Self::CaKeyTooSmall => "CA_KEY_TOO_SMALL",
            Self::Unspecified => "UNSPECIFIED",
            Self::Revoked => "CERT_REVOKED",
            Self::UnableToGetCrl => "UNABLE_TO_GET_CRL",
            Self::CrlExpired => "CRL_HAS_EXPIRED",
            Self::CrlSignatureFailure => "CRL_SIGNATURE_FAILURE",
            Self::KeyUsageNoCrlSign => "KEYUSAGE_NO_CRL_SIGN",
            Self::Rejected => "CERT_REJECTED",
        }
    }

    /// `err.message`.
    pub fn message(self) -> &'static str {
        match self {
            Self::DepthZeroSelfSigned => "self-signed certificate",
            Self::SelfSignedInChain => "self-signed certificate in certificate chain",
            Self::UnableToVerifyLeaf => "unable to verify the first certificate",
            Self::UnableToGetIssuerLocally => "unable to get local issuer certificate",
            Self::UnableToGetIssuer => "unable to get issuer certificate",
            Self::Expired => "certificate has expired",
            Self::NotYetValid => "certificate is not yet valid",
            Self::InvalidPurpose => "unsupported certificate purpose",
            Self::BadSignature => "certificate signature failure",
            Self::CaKeyTooSmall => "CA certificate key too weak",
            Self::Unspecified => "unspecified certificate verification error",
            Self::Revoked => "certificate revoked",
            Self::UnableToGetCrl => "unable to get certificate CRL",
            Self::CrlExpired => "CRL has expired",
            Self::CrlSignatureFailure => "CRL signature failure",
            Self::KeyUsageNoCrlSign => "key usage does not include CRL signing",
            Self::Rejected => "certificate rejected",
        }
    }
}

/// What a peer's chain is checked against: the trust anchors, plus the exact
/// certificates of `ca`, so that a leaf that is itself in `ca` is trusted
/// (as OpenSSL does), even when webpki would not accept it as a leaf.
#[derive(Debug, Clone)]
pub struct Trust {
    /// Trust anchors (default roots or `ca`).
    pub roots: Arc<RootCertStore>,
    /// The `ca` certificates as given, compared byte for byte with a leaf.
    pub ca: Arc<Vec<CertificateDer<'static>>>,
    /// `ca` certificates that are not self-issued, when they are not trust
    /// anchors (no `allowPartialTrustChain`): they only help build a chain
    /// to one, as in OpenSSL.
    pub intermediates: Arc<Vec<CertificateDer<'static>>>,
    /// Every `ca` certificate as an anchor, when `intermediates` is used: a
    /// chain that ends at one of those is `UNABLE_TO_GET_ISSUER_CERT`.
    pub partial: Option<Arc<RootCertStore>>,
    /// OpenSSL's security level: the smallest RSA key a signature may use.
    pub level: u8,
    /// `crl`: when any is given, every certificate of the chain must be
    /// covered by its issuer's CRL and not listed there.
    pub crls: Arc<Vec<webpki::CertRevocationList<'static>>>,
    /// The `crl` entries webpki cannot read (v1 lists), judged here.
    pub crls_v1: Arc<Vec<crate::crl_v1::V1Crl>>,
}

impl Trust {
    /// The algorithms that check signatures at this trust's level.
    pub fn algorithms(&self) -> WebPkiSupportedAlgorithms {
        crate::seclevel::algorithms(self.level)
    }

    /// A store of `ca` certificates; with `allow_partial`, each is a trust
    /// anchor, otherwise only the self-issued ones are.
    pub fn from_ca(ca: Vec<CertificateDer<'static>>, allow_partial: bool, level: u8) -> Self {
        let mut all = RootCertStore::empty();
        all.add_parsable_certificates(ca.iter().cloned());
        let (roots, intermediates): (Vec<_>, Vec<_>) = ca
            .iter()
            .cloned()
            .partition(|c| Cert::parse(c).is_none_or(|p| p.self_issued()));
        if allow_partial || intermediates.is_empty() {
            return Self {
                roots: Arc::new(all),
                ca: Arc::new(ca),
                intermediates: Arc::default(),
                partial: None,
                level,
                crls: Arc::default(),
                crls_v1: Arc::default(),
            };
        }
        let mut anchors = RootCertStore::empty();
        anchors.add_parsable_certificates(roots);
        Self {
            roots: Arc::new(anchors),
            ca: Arc::new(ca),
            intermediates: Arc::new(intermediates),
            partial: Some(Arc::new(all)),
            level,
            crls: Arc::default(),
            crls_v1: Arc::default(),
        }
    }
}

/// Which end of the connection the chain belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// A server's chain, checked by a client.
    Server,
    /// A client's chain, checked by a server.
    Client,
}

/// Checks a handshake signature against the key in `cert`.
///
/// rustls' own helpers parse `cert` with webpki, which refuses X.509 v1
/// certificates; the key is all that matters here, so it is read directly.
/// TLS 1.3 names one algorithm per scheme; TLS 1.2 may need several tried.
fn verify_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
    tls13: bool,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding);
    let spki = SubjectPublicKeyInfoDer::from(Cert::parse(cert).ok_or_else(bad)?.spki());
    if tls13 {
        return verify_tls13_signature_with_raw_key(message, &spki, dss, algs);
    }
    let key = webpki::RawPublicKeyEntity::try_from(&spki).map_err(|_| bad())?;
    let candidates = algs
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == dss.scheme)
        .map(|(_, candidates)| *candidates)
        .ok_or(rustls::Error::PeerMisbehaved(
            rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
        ))?;
    if candidates
        .iter()
        .any(|alg| key.verify_signature(*alg, message, dss.signature()).is_ok())
    {
        return Ok(HandshakeSignatureValid::assertion());
    }
    Err(rustls::Error::InvalidCertificate(
        rustls::CertificateError::BadSignature,
    ))
}

/// Judges `chain` (leaf first) as OpenSSL would, without the host name check,
/// which is JavaScript's (`checkServerIdentity`). `None` means trusted.
pub fn verify_chain(
    trust: &Trust,
    chain: &[CertificateDer<'_>],
    role: Role,
    algs: &WebPkiSupportedAlgorithms,
) -> Option<VerifyCode> {
    let Some(leaf) = chain.first() else {
        return Some(VerifyCode::UnableToGetIssuer);
    };
    // A self-issued leaf that is itself in `ca` is its own trust anchor (a
    // v1 one too). OpenSSL, without X509_V_FLAG_PARTIAL_CHAIN as Node runs
    // it, anchors a chain in no other trusted certificate: a CA-issued leaf
    // given as `ca` still needs its issuer.
    if trust.ca.iter().any(|ca| ca.as_ref() == leaf.as_ref())
        && Cert::parse(leaf).as_ref().is_some_and(Cert::self_issued)
    {
        return None;
    }
    let parts: Vec<_> = chain.iter().map(|c| Cert::parse(c)).collect();
    let self_signed = |i: usize| {
        parts
            .get(i)
            .and_then(Option::as_ref)
            .is_some_and(Cert::self_issued)
    };
    if chain.len() == 1 && self_signed(0) {
        return Some(VerifyCode::DepthZeroSelfSigned);
    }
    let unknown_issuer = || {
        if self_signed(chain.len() - 1) {
            VerifyCode::SelfSignedInChain
        } else if chain.len() == 1 {
            VerifyCode::UnableToVerifyLeaf
        } else {
            VerifyCode::UnableToGetIssuerLocally
        }
    };
    let Ok(cert) = webpki::EndEntityCert::try_from(leaf) else {
        return verify_v1_leaf(trust, leaf, &chain[1..], algs)
            .unwrap_or_else(|| Some(unknown_issuer()));
    };
    let usage = match role {
        Role::Server => webpki::KeyUsage::server_auth(),
        Role::Client => webpki::KeyUsage::client_auth(),
    };
    let mut helpers: Vec<CertificateDer<'_>> = chain[1..].to_vec();
    helpers.extend(trust.intermediates.iter().cloned());
    // Node turns on X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL as
    // soon as one CRL is added (SecureContext::AddCRL): every certificate of
    // the chain needs its issuer's CRL, an unknown status is an error, and
    // an expired CRL too.
    let crl_refs: Vec<&webpki::CertRevocationList<'static>> = trust.crls.iter().collect();
    // A certificate covered by a v1 list only is unknown to webpki: that
    // list is judged after it (crl_check).
    let unknown = if trust.crls_v1.is_empty() {
        webpki::UnknownStatusPolicy::Deny
    } else {
        webpki::UnknownStatusPolicy::Allow
    };
    let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|b| {
            b.with_depth(webpki::RevocationCheckDepth::Chain)
                .with_status_policy(unknown)
                .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                .build()
        });
    let verify = |anchors: &RootCertStore| {
        cert.verify_for_usage(
            algs.all,
            &anchors.roots,
            &helpers,
            UnixTime::now(),
            usage,
            revocation,
            None,
        )
        .map(|path| crl_check(trust, leaf, &path, algs))
    };
    let result = verify(&trust.roots);
    use webpki::Error as W;
    match result {
        Ok(code) => code,
        Err(W::CertRevoked) => Some(VerifyCode::Revoked),
        Err(W::UnknownRevocationStatus) => Some(VerifyCode::UnableToGetCrl),
        Err(W::CrlExpired { .. }) => Some(VerifyCode::CrlExpired),
        Err(W::IssuerNotCrlSigner) => Some(VerifyCode::KeyUsageNoCrlSign),
        Err(
            W::InvalidCrlSignatureForPublicKey
            | W::UnsupportedCrlSignatureAlgorithmContext(_)
            | W::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_),
        ) => Some(VerifyCode::CrlSignatureFailure),
        // The chain reaches a `ca` certificate that is not a root.
        Err(W::UnknownIssuer)
            if trust
                .partial
                .as_ref()
                .is_some_and(|all| verify(all).is_ok()) =>
        {
            Some(VerifyCode::UnableToGetIssuer)
        }
        Err(W::CertExpired { .. }) => Some(VerifyCode::Expired),
        Err(W::CertNotValidYet { .. }) => Some(VerifyCode::NotYetValid),
        Err(W::UnknownIssuer) => Some(unknown_issuer()),
        Err(W::RequiredEkuNotFoundContext(_)) => Some(VerifyCode::InvalidPurpose),
        Err(
            W::InvalidSignatureForPublicKey
            | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_),
        ) => {
            // A signature by an RSA key under the level's minimum fails.
            let min = crate::seclevel::min_rsa_bits(trust.level);
            let weak = |certs: &[CertificateDer<'_>]| {
                certs
                    .iter()
                    .filter_map(|c| Cert::parse(c).and_then(|p| p.rsa_bits()))
                    .any(|bits| bits < min)
            };
            Some(if weak(&chain[1..]) {
                VerifyCode::CaKeyTooSmall
            } else if weak(&trust.ca) {
                VerifyCode::Unspecified
            } else {
                VerifyCode::BadSignature
            })
        }
        Err(W::CaUsedAsEndEntity) if self_signed(0) => Some(VerifyCode::DepthZeroSelfSigned),
        // Any other path-building failure (an untrusted v1 root among the
        // certificates sent, say) is, to OpenSSL, a chain it could not
        // complete to a trusted root: named by where the chain ends.
        Err(_) => Some(unknown_issuer()),
    }
}

/// What webpki leaves to judge of the CRLs on a verified `path`: OpenSSL
/// (CRL_CHECK_ALL) wants a list from the root for the root as well, and the
/// certificates covered by v1 lists only are judged against those (each
/// list signed by the certificate's issuer, current, and not listing it).
fn crl_check(
    trust: &Trust,
    leaf: &CertificateDer<'_>,
    path: &webpki::VerifiedPath<'_>,
    algs: &WebPkiSupportedAlgorithms,
) -> Option<VerifyCode> {
    if trust.crls.is_empty() && trust.crls_v1.is_empty() {
        return None;
    }
    let v2_from = |issuer: &[u8]| trust.crls.iter().any(|c| c.issuer() == issuer);
    let v1_from = |issuer: &[u8]| -> Vec<&crate::crl_v1::V1Crl> {
        trust
            .crls_v1
            .iter()
            .filter(|c| c.issuer() == issuer)
            .collect()
    };
    let anchor = path.anchor();
    let root = anchor.subject.as_ref();
    if !v2_from(root) && !trust.crls_v1.iter().any(|c| c.issuer_contents() == root) {
        return Some(VerifyCode::UnableToGetCrl);
    }
    if trust.crls_v1.is_empty() {
        return None;
    }
    let mut certs: Vec<CertificateDer<'_>> = vec![leaf.clone()];
    certs.extend(path.intermediate_certificates().map(|c| c.der()));
    let now = UnixTime::now();
    for (i, der) in certs.iter().enumerate() {
        let cert = Cert::parse(der)?;
        if v2_from(crate::crl_v1::name_contents(cert.issuer())) {
            continue; // webpki judged it
        }
        let issuer = certs.get(i + 1).and_then(|d| Cert::parse(d));
        let key = match &issuer {
            Some(issuer) => issuer.key_parts(),
            None => crate::crl_v1::spki_contents_parts(anchor.subject_public_key_info.as_ref()),
        };
        let lists = v1_from(cert.issuer());
        if lists.is_empty() {
            return Some(VerifyCode::UnableToGetCrl);
        }
        for list in lists {
            if !key.is_some_and(|(alg, key)| list.signed_by(alg, key, algs)) {
                return Some(VerifyCode::CrlSignatureFailure);
            }
            if list.expired(now) {
                return Some(VerifyCode::CrlExpired);
            }
            if list.lists(cert.raw_serial()) {
                return Some(VerifyCode::Revoked);
            }
        }
    }
    None
}

/// webpki refuses X.509 v1 end-entity certificates; OpenSSL takes them, and
/// Node's docs and fixtures make them (`openssl x509 -req` without
/// extensions), also under an intermediate CA. A v1 leaf is judged here by
/// walking up from it: each certificate's issuer is a trusted `ca`
/// certificate (the end of the walk) or a CA certificate among those the
/// peer sent and the `ca` intermediates; each signature is checked with the
/// level's algorithms, then each validity period. `None` when it is no v1
/// leaf or no path to a trusted issuer is found (the caller names that
/// case).
fn verify_v1_leaf(
    trust: &Trust,
    leaf: &CertificateDer<'_>,
    sent: &[CertificateDer<'_>],
    algs: &WebPkiSupportedAlgorithms,
) -> Option<Option<VerifyCode>> {
    Cert::parse(leaf).filter(Cert::is_v1)?;
    let helpers: Vec<&CertificateDer<'_>> = sent.iter().chain(trust.intermediates.iter()).collect();
    let mut path: Vec<&[u8]> = vec![leaf.as_ref()];
    let mut current: &[u8] = leaf.as_ref();
    // OpenSSL's default depth limit is 100; a real chain is a few long.
    for _ in 0..16 {
        let issuer_name = Cert::parse(current)?.issuer();
        let roots = named(trust.ca.iter().map(|c| c.as_ref()), issuer_name);
        if let Some(root) = roots.iter().find(|ca| signed_by(current, ca, algs)) {
            path.push(root);
            return Some(validity_failure(&path));
        }
        let issuer = named(helpers.iter().map(|c| c.as_ref()), issuer_name)
            .into_iter()
            .filter(|c| !path.contains(c) && is_ca(c))
            .find(|c| signed_by(current, c, algs));
        match issuer {
            Some(next) => {
                path.push(next);
                current = next;
            }
            // A trusted issuer of the leaf by that name whose key did not
            // sign it (higher up, OpenSSL finds no issuer: the caller's).
            None if !roots.is_empty() && path.len() == 1 => {
                return Some(Some(VerifyCode::BadSignature));
            }
            None => return None,
        }
    }
    None
}

/// The certificates among `certs` whose subject is `name`.
fn named<'a>(certs: impl Iterator<Item = &'a [u8]>, name: &[u8]) -> Vec<&'a [u8]> {
    certs
        .filter(|c| Cert::parse(c).is_some_and(|p| p.subject() == name))
        .collect()
}

/// Whether `cert`'s signature verifies with `issuer`'s key.
fn signed_by(cert: &[u8], issuer: &[u8], algs: &WebPkiSupportedAlgorithms) -> bool {
    let (Some(signed), Some(parts)) = (
        Cert::parse(cert).and_then(|c| c.signed()),
        Cert::parse(issuer),
    ) else {
        return false;
    };
    let Some((key_alg, key)) = parts.key_parts() else {
        return false;
    };
    algs.all
        .iter()
        .filter(|alg| {
            alg.signature_alg_id().as_ref() == signed.algorithm
                && alg.public_key_alg_id().as_ref() == key_alg
        })
        .any(|alg| {
            alg.verify_signature(key, signed.tbs, signed.signature)
                .is_ok()
        })
}

/// Whether `cert` may issue certificates, as OpenSSL's X509_check_ca sees
/// it: basicConstraints with CA set, or a self-signed v1 certificate.
fn is_ca(cert: &[u8]) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Ok((_, parsed)) = X509Certificate::from_der(cert) else {
        return false;
    };
    match parsed.basic_constraints() {
        Ok(Some(bc)) => bc.value.ca,
        Ok(None) => parsed.version().0 == 0 && parsed.subject() == parsed.issuer(),
        Err(_) => false,
    }
}

/// The first validity failure along `path` (leaf first), OpenSSL's code for
/// it; `None` when every certificate is within its period. OpenSSL looks
/// from the trusted end down, and reports the first it finds.
fn validity_failure(path: &[&[u8]]) -> Option<VerifyCode> {
    let now = x509_parser::time::ASN1Time::now();
    for cert in path.iter().rev() {
        let Some(parsed) = Cert::parse(cert) else {
            return Some(VerifyCode::Unspecified);
        };
        let validity = parsed.validity();
        if now < validity.not_before {
            return Some(VerifyCode::NotYetValid);
        }
        if now > validity.not_after {
            return Some(VerifyCode::Expired);
        }
    }
    None
}

/// Client side: accepts any chain during the handshake (it is judged later by
/// [`verify_chain`]) but checks the server's handshake signature for real.
#[derive(Debug)]
pub struct RecordingServerVerifier {
    algs: WebPkiSupportedAlgorithms,
    /// `sigalgs`: the schemes offered to the server, in order.
    schemes: Option<Vec<SignatureScheme>>,
    /// `requestOCSP`: where the stapled response is left (one connection's).
    ocsp: Option<crate::ocsp::ResponseSlot>,
}

impl RecordingServerVerifier {
    /// A verifier using `algs` for handshake signatures, offering `schemes`
    /// (all of `algs` when `None`).
    pub fn new(algs: WebPkiSupportedAlgorithms, schemes: Option<Vec<SignatureScheme>>) -> Self {
        Self {
            algs,
            schemes,
            ocsp: None,
        }
    }

    /// The same verifier, keeping the stapled OCSP response in `slot`.
    pub fn keeping_ocsp(mut self, slot: crate::ocsp::ResponseSlot) -> Self {
        self.ocsp = Some(slot);
        self
    }
}

impl ServerCertVerifier for RecordingServerVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(slot) = &self.ocsp {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(ocsp_response.to_vec());
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_signature(message, cert, dss, &self.algs, false)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_signature(message, cert, dss, &self.algs, true)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let all = self.algs.supported_schemes();
        match &self.schemes {
            Some(wanted) => wanted.iter().copied().filter(|s| all.contains(s)).collect(),
            None => all,
        }
    }
}

/// Server side, for `requestCert`: asks for a client certificate. With
/// `reject_unauthorized` an untrusted one fails the handshake, as a
/// tls.Server does (dropping the client without an alert: see
/// `Session::process`); with `mandatory` a missing one does (OpenSSL's
/// `SSL_VERIFY_FAIL_IF_NO_PEER_CERT`, an alert). A TLSSocket the application
/// made requires a certificate but leaves judging it to the application.
/// Otherwise the outcome is only recorded.
#[derive(Debug)]
pub struct ClientAuth {
    trust: Trust,
    algs: WebPkiSupportedAlgorithms,
    reject_unauthorized: bool,
    mandatory: bool,
    hints: Vec<DistinguishedName>,
}

impl ClientAuth {
    /// A verifier judging client chains against `trust`.
    pub fn new(
        trust: Trust,
        algs: WebPkiSupportedAlgorithms,
        reject_unauthorized: bool,
        mandatory: bool,
    ) -> Self {
        let hints = trust
            .ca
            .iter()
            .filter_map(|c| Cert::parse(c))
            .map(|p| DistinguishedName::from(p.subject().to_vec()))
            .collect();
        Self {
            trust,
            algs,
            reject_unauthorized,
            mandatory,
            hints,
        }
    }
}

impl ClientCertVerifier for ClientAuth {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self.reject_unauthorized {
            let mut chain = vec![end_entity.clone()];
            chain.extend(intermediates.iter().cloned());
            if let Some(code) = verify_chain(&self.trust, &chain, Role::Client, &self.algs) {
                return Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::Other(rustls::OtherError(Arc::new(ChainRejected(
                        code,
                    )))),
                ));
            }
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_signature(message, cert, dss, &self.algs, false)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_signature(message, cert, dss, &self.algs, true)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The reason a client chain was refused, carried inside a rustls error.
#[derive(Debug)]
struct ChainRejected(VerifyCode);

impl std::fmt::Display for ChainRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.message())
    }
}

impl std::error::Error for ChainRejected {}
