// The ESM entry of rustls-tls: the CommonJS module (index.js) as the default
// export, and each of its exports by name, as `node:tls` offers them (Node
// 24's newer names included: undefined until the package has them):
//
//   import tls, { connect, createServer } from 'rustls-tls';

import tls from './index.js';

export default tls;
export const {
  CLIENT_RENEG_LIMIT,
  CLIENT_RENEG_WINDOW,
  DEFAULT_CIPHERS,
  DEFAULT_ECDH_CURVE,
  DEFAULT_MIN_VERSION,
  DEFAULT_MAX_VERSION,
  getCiphers,
  rootCertificates,
  convertALPNProtocols,
  checkServerIdentity,
  createSecureContext,
  SecureContext,
  TLSSocket,
  Server,
  createServer,
  connect,
  createSecurePair,
  getCACertificates,
  setDefaultCACertificates,
  getCertificateCompressionAlgorithms,
  CryptoStream,
} = tls;
