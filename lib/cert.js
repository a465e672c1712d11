'use strict';
// Peer certificate objects, as `getPeerCertificate()` returns them. They are
// built from the DER that rustls hands over by Node's own public
// `crypto.X509Certificate#toLegacyObject()`, so every field (dates,
// fingerprints, `subjectaltname`, RDN arrays) is Node's byte for byte; this
// file links the chain. Like OpenSSL's verified chain, the chain continues
// past what the peer sent into the trusted `ca` certificates.

const { X509Certificate } = require('crypto');

const kPemCert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

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

// Every certificate in PEM bundles (`ca` as given), parsed once.
function parseBundles(bundles) {
  const out = [];
  for (const b of bundles || []) {
    const text = Buffer.isBuffer(b) ? b.toString('latin1') : String(b);
    const pems = text.match(kPemCert) || [b];
    for (const pem of pems) {
      try {
        out.push(new X509Certificate(pem));
      } catch {
        // Not a certificate: createSecureContext already judged it.
      }
    }
  }
  return out;
}

// The chain the peer sent, leaf first, extended with trusted issuers.
function fullChain(chain, trusted) {
  const certs = parse(chain);
  for (let last = certs[certs.length - 1]; last && !last.checkIssued(last);) {
    const issuer = (trusted || []).find((ca) => last.checkIssued(ca) && !certs.includes(ca));
    if (!issuer) break;
    certs.push(issuer);
    last = issuer;
  }
  return certs;
}

// `getPeerCertificate(detailed)`. With `detailed`, each object links to its
// issuer through `issuerCertificate`; a self-issued root links to itself.
function peerCertificate(chain, detailed, trusted) {
  const certs = detailed ? fullChain(chain, trusted) : parse(chain && chain.slice(0, 1));
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

// `getPeerX509Certificate()`: the leaf as a `crypto.X509Certificate`, its
// `issuerCertificate` linked through the chain (extended into `trusted`
// when given), as Node does.
function peerX509(chain, trusted) {
  const certs = trusted ? fullChain(chain, trusted) : parse(chain);
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i].checkIssued(certs[i + 1])) break;
    Object.defineProperty(certs[i], 'issuerCertificate', {
      value: certs[i + 1], configurable: true, enumerable: false,
    });
  }
  return certs[0];
}

module.exports = { peerCertificate, peerX509, parseBundles };
