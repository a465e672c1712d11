'use strict';
// What a TLS socket knows of its connection, asked from JavaScript: the
// peer's and its own certificates, protocol, cipher, key exchange, session.
// They answer as Node's do from its handle: it lives from construction
// until destroy() (so null after it), and before the handshake has finished
// it knows no peer ({}), no cipher (undefined), and the highest version it
// offers. Mixed into TLSSocket.prototype by lib/socket.js.

const { kCerts, trustedCerts } = require('./context');
const { peerCertificate, peerX509 } = require('./cert');
const sessions = require('./session');
const { kInfo, kContext } = require('./symbols');

// The key exchange as Node describes it (the native side names the group
// as OpenSSL does, with its type and size): an elliptic curve with its size
// in bits; any other group (the ML-KEM hybrids) as Node 24 reports one, a
// 'TLSGroup' with no size ({} before 24).
// Before the key exchange: {} up to Node 22, the three keys unset on 24
// (where a hybrid group is a 'TLSGroup'; Node 22 describes none: {}).
const kNodeMajor = Number(process.versions.node.split('.')[0]);
const kNoKeyInfo = kNodeMajor >= 24 ?
  () => ({ type: undefined, name: undefined, size: undefined }) : () => ({});

function ephemeralKeyInfo({ group, groupType, groupSize }) {
  if (groupType === 'ECDH') return { type: groupType, name: group, size: groupSize };
  return kNodeMajor >= 24 ? { type: groupType || 'TLSGroup', name: group, size: undefined } : {};
}

// Our certificates: `cert` as given, or those of a `pfx`.
function ownCerts(context) {
  if (!context) return null;
  const certs = context[kCerts];
  return certs && certs.length > 0 ? certs : context.context.ownCertificates();
}

class ConnectionFacts {
  getPeerCertificate(detailed) {
    if (this.destroyed) return null;
    if (!this[kInfo]) return {};
    return peerCertificate(this[kInfo].peerCerts, detailed, trustedCerts(this[kContext]));
  }

  getPeerX509Certificate() {
    if (!this[kInfo] || this.destroyed) return undefined;
    // The chain as the peer sent it, on both ends (Node links issuers from
    // SSL_get_peer_cert_chain; getPeerCertificate(true) is what reaches
    // into the trusted ca).
    return peerX509(this[kInfo].peerCerts);
  }

  // Our own certificate (the first chain's leaf): the context's from the
  // start, before the handshake too, as Node's handle knows it.
  getCertificate() {
    if (this.destroyed) return null;
    const certs = ownCerts(this[kContext]);
    if (!certs || certs.length === 0) return {};
    return peerCertificate([certs[0]], false);
  }

  getX509Certificate() {
    const certs = ownCerts(this[kContext]);
    if (this.destroyed || !certs || certs.length === 0) return undefined;
    return peerX509([certs[0]]);
  }

  getProtocol() {
    if (this.destroyed) return null;
    if (this[kInfo]) return this[kInfo].protocol;
    // OpenSSL names its method's highest version before a handshake,
    // whatever maxVersion says.
    return 'TLSv1.3';
  }

  getCipher() {
    if (this.destroyed) return null;
    const info = this[kInfo];
    if (!info || !info.cipher) return undefined;
    return { name: info.cipher, standardName: info.cipherStandard, version: info.protocol };
  }

  // Node reports the key exchange on the client only (null on a server).
  getEphemeralKeyInfo() {
    if (this.destroyed || this._tlsOptions.isServer || this.server) return null;
    const info = this[kInfo];
    if (!info || !info.group) return kNoKeyInfo();
    return ephemeralKeyInfo(info);
  }

  // Like Node's handle proxies, these give null once the socket is gone.
  getSession() {
    return this.destroyed ? null : sessions.getSession(this, this[kInfo]);
  }

  isSessionReused() {
    return this.destroyed ? null : sessions.isSessionReused(this[kInfo]);
  }

  getTLSTicket() {
    if (this.destroyed) return null;
    return sessions.getTLSTicket(this, this[kInfo], Boolean(this._tlsOptions.isServer || this.server));
  }

  // Like Node's handle proxies, these give null once the socket is gone.
  getSharedSigalgs() {
    return this.destroyed ? null : [];
  }

  getFinished() {
    return this.destroyed ? null : undefined;
  }

  getPeerFinished() {
    return this.destroyed ? null : undefined;
  }
}

module.exports = { ConnectionFacts };
