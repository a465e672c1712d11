'use strict';
// Peer certificate objects, as `getPeerCertificate()` returns them. They are
// built from the DER that rustls hands over by Node's own public
// `crypto.X509Certificate#toLegacyObject()`, so every field (dates,
// fingerprints, `subjectaltname`, RDN arrays) is Node's byte for byte; this
// file only links the chain.

const { X509Certificate } = require('crypto');

function parse(chain) {
  const out = [];
  for (const der of chain || []) {
    try {
      out.push(new X509Certificate(der));
    } catch {
      break;
    }
  }
  return out;
}

// `getPeerCertificate(detailed)` over DER buffers, leaf first. With
// `detailed`, each object links to its issuer through `issuerCertificate`;
// a self-issued last certificate links to itself, as in Node.
function peerCertificate(chain, detailed) {
  const certs = parse(chain);
  if (certs.length === 0) return {};
  const objects = certs.map((c) => c.toLegacyObject());
  if (detailed) {
    for (let i = 0; i < certs.length; i++) {
      const next = certs[i + 1];
      if (next && certs[i].checkIssued(next)) {
        objects[i].issuerCertificate = objects[i + 1];
      } else {
        if (certs[i].checkIssued(certs[i])) objects[i].issuerCertificate = objects[i];
        break;
      }
    }
  }
  return objects[0];
}

// `getPeerX509Certificate()`: the leaf as a `crypto.X509Certificate`.
function peerX509(chain) {
  return parse(chain && chain.slice(0, 1))[0];
}

module.exports = { peerCertificate, peerX509 };
