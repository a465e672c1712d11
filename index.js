'use strict';
// rustls-tls: Node's `tls` module on rustls and tokio.
//
//   const tls = require('rustls-tls'); // instead of require('tls')
//
// The same functions, classes, options, events and error codes as Node's
// `tls`; the TLS itself (handshakes, records, certificate checks, socket
// I/O) runs in Rust on a tokio runtime, off the JavaScript thread.

const nodeTls = require('node:tls');
const { SecureContext, createSecureContext, convertALPNProtocols } = require('./lib/context');
const { TLSSocket, connect } = require('./lib/socket');
const { Server, createServer } = require('./lib/server');
const { createSecurePair } = require('./lib/securepair');
const { getCACertificates, setDefaultCACertificates } = require('./lib/ca');

// The cipher suites rustls offers, in Node's `getCiphers()` spelling.
const kCiphers = [
  'tls_aes_256_gcm_sha384',
  'tls_aes_128_gcm_sha256',
  'tls_chacha20_poly1305_sha256',
  'ecdhe-ecdsa-aes256-gcm-sha384',
  'ecdhe-ecdsa-aes128-gcm-sha256',
  'ecdhe-ecdsa-chacha20-poly1305',
  'ecdhe-rsa-aes256-gcm-sha384',
  'ecdhe-rsa-aes128-gcm-sha256',
  'ecdhe-rsa-chacha20-poly1305',
];

module.exports = {
  CLIENT_RENEG_LIMIT: 3,
  CLIENT_RENEG_WINDOW: 600,
  // Node's defaults, as its command line set them (--tls-cipher-list,
  // --tls-min-v1.x, --tls-max-v1.x): the same strings a program reads from
  // node:tls. The cipher list is OpenSSL's syntax; contexts keep the suites
  // rustls speaks from it, and versions below TLSv1.2 count as TLSv1.2.
  DEFAULT_CIPHERS: nodeTls.DEFAULT_CIPHERS,
  DEFAULT_ECDH_CURVE: nodeTls.DEFAULT_ECDH_CURVE,
  DEFAULT_MIN_VERSION: nodeTls.DEFAULT_MIN_VERSION,
  DEFAULT_MAX_VERSION: nodeTls.DEFAULT_MAX_VERSION,
  getCiphers: () => kCiphers.slice(),
  // Host name checks are JavaScript policy in Node; we use Node's own, so
  // that every edge (wildcards, IP SANs, CN fallback) is exactly Node's.
  checkServerIdentity: nodeTls.checkServerIdentity,
  connect,
  convertALPNProtocols,
  createServer,
  createSecureContext,
  createSecurePair,
  getCACertificates,
  setDefaultCACertificates,
  SecureContext,
  Server,
  TLSSocket,
  // The module doc's name for the cleartext stream tls.connect() returns.
  CryptoStream: TLSSocket,
};

// The default trust store as PEM strings, read-only as in Node.
Object.defineProperty(module.exports, 'rootCertificates', {
  configurable: false,
  enumerable: true,
  get: () => nodeTls.rootCertificates,
});
