'use strict';
// Node 22/24's CA API, on every Node version: tls.getCACertificates(type),
// tls.setDefaultCACertificates(certs), and the system trust store in the
// default trust when `--use-system-ca` or NODE_USE_SYSTEM_CA=1 is in effect
// (read by the addon through the `rustls-native-certs` crate).
//
// What Node returns: 'bundled' is tls.rootCertificates (the same strings);
// 'system', 'extra' and certificates given to setDefaultCACertificates()
// come back as OpenSSL writes them (PEM ending in a newline); each array is
// frozen and the same array on every call until the defaults change.

const { X509Certificate } = require('crypto');
const fs = require('fs');
const nodeTls = require('tls');
const { binding } = require('./native');
const errors = require('./errors');

const kTypes = ['default', 'system', 'bundled', 'extra'];

function hasFlag(flag) {
  return process.execArgv.includes(flag) ||
    (process.env.NODE_OPTIONS || '').split(/\s+/).includes(flag);
}

// Which stores make up the default trust, as Node decides at startup.
const useSystem = hasFlag('--use-system-ca') || process.env.NODE_USE_SYSTEM_CA === '1';
const useBundled = hasFlag('--use-bundled-ca') || !hasFlag('--use-openssl-ca');
binding.configureDefaultTrust(useBundled, useSystem || !useBundled);

const cache = new Map();

function pem(der) {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

// The certificates of a PEM text, as OpenSSL reads a CA file: blocks that
// do not parse are skipped.
function pemBlocks(text) {
  const out = [];
  const re = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
  for (const block of text.match(re) || []) {
    try {
      out.push(new X509Certificate(block).raw);
    } catch {
      // skipped, as OpenSSL's loader skips it
    }
  }
  return out;
}

function extra() {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return pemBlocks(fs.readFileSync(file, 'latin1')).map(pem);
  } catch {
    return [];
  }
}

let defaults = null;

function load(type) {
  switch (type) {
    case 'bundled': return nodeTls.rootCertificates;
    case 'system': return binding.systemCertificates().map(pem);
    case 'extra': return extra();
    default: {
      if (defaults !== null) return defaults;
      const list = [];
      if (useBundled) list.push(...getCACertificates('bundled'));
      if (useSystem) list.push(...getCACertificates('system'));
      list.push(...getCACertificates('extra'));
      return list;
    }
  }
}

function getCACertificates(type = 'default') {
  if (typeof type !== 'string') throw errors.invalidArgType('type', 'of type string', type);
  if (!kTypes.includes(type)) {
    throw errors.invalidArgValue('type', type);
  }
  // 'bundled' is tls.rootCertificates itself (already frozen), as in Node.
  if (!cache.has(type)) cache.set(type, type === 'bundled' ? nodeTls.rootCertificates : Object.freeze([...load(type)]));
  return cache.get(type);
}

// Replaces the default CA certificates for contexts made from now on that
// are given no `ca`. Duplicates are dropped; a certificate that does not
// parse fails the whole call, as in Node.
function setDefaultCACertificates(certs) {
  if (!Array.isArray(certs)) throw errors.invalidArgType('certs', 'an instance of Array', certs);
  const ders = [];
  certs.forEach((cert, i) => {
    if (typeof cert !== 'string' && !ArrayBuffer.isView(cert)) {
      throw errors.invalidArgType(`certs[${i}]`, 'of type string or an instance of ArrayBufferView', cert);
    }
    const text = typeof cert === 'string' ? cert :
      Buffer.from(cert.buffer, cert.byteOffset, cert.byteLength).toString('latin1');
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) || [];
    for (const block of blocks) {
      try {
        ders.push(new X509Certificate(block).raw);
      } catch {
        const err = errors.nodeError(Error, 'ERR_OSSL_PEM_ASN1_LIB', 'error:0488000D:PEM routines::ASN1 lib');
        err.library = 'PEM routines';
        err.reason = 'ASN1 lib';
        throw err;
      }
    }
  });
  if (ders.length === 0 && certs.length > 0) {
    throw errors.nodeError(Error, 'ERR_CRYPTO_OPERATION_FAILED',
                           'No valid certificates found in the provided array');
  }
  const seen = new Set();
  const unique = ders.filter((der) => {
    const key = der.toString('base64');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const list = unique.map(pem);
  // The defaults are the process's, as in Node: node:tls (and so https,
  // which is built on it) takes them too where it has them (Node 22.15+).
  if (typeof nodeTls.setDefaultCACertificates === 'function') nodeTls.setDefaultCACertificates(list);
  binding.setDefaultTrust(unique);
  defaults = list;
  cache.delete('default');
}

module.exports = { getCACertificates, setDefaultCACertificates };
