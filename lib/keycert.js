'use strict';
// tlsSocket.setKeyCert(context): the key and certificate a server socket
// answers its client's ClientHello with, as Node's (lib/_tls_wrap.js):
// - a destroyed socket has no handle and ignores the call altogether;
// - otherwise `context` becomes a SecureContext first (createSecureContext's
//   errors), and a client socket then ignores it;
// - a context without both fails as OpenSSL's SSL_use_certificate /
//   SSL_use_PrivateKey do in Node;
// - inside SNICallback (called with the socket as `this`) it is what the
//   callback's `cb(null)` serves (and more, see sniContext()); on a server socket over a wrapped stream
//   it serves the ClientHello not yet answered; after the handshake it
//   changes nothing.

const errors = require('./errors');

const kChosen = Symbol('kKeyCertChosen');

// Two things follow the OpenSSL Node runs on. With 3.5 and later (Node 24),
// a context without a key and certificate leaves no OpenSSL error, so Node
// throws its bare 'SetKeyCert', and a context SNICallback gives replaces
// setKeyCert's certificate; with 3.0 (Node 20, 22) the error is
// ERR_SSL_PASSED_A_NULL_PARAMETER and setKeyCert's certificate stays.
const [sslMajor, sslMinor] = String(process.versions.openssl || '3.5').split('.').map(Number);
const kOpenSSL35 = sslMajor > 3 || (sslMajor === 3 && sslMinor >= 5);
// And an SNICallback context without a certificate: before 3.5 setting it
// fails ("passed a null parameter"); 3.5 goes on and finds no signature
// algorithm (src/refusal.rs).
require('./native').binding.setNullParameterWording(!kOpenSSL35);

function setKeyCert(socket, native, context) {
  if (socket.destroyed) return;
  const { isSecureContext, createSecureContext, kKeyCert } = require('./context');
  const secureContext = isSecureContext(context) ? context : createSecureContext(context);
  // (A tls.Server's sockets are the server's; others say so in options.)
  const isServer = Boolean(socket._tlsOptions && socket._tlsOptions.isServer) || socket.server != null;
  if (!isServer) return;
  const given = secureContext[kKeyCert] || { key: true, cert: true };
  if ((!given.key || !given.cert) && kOpenSSL35) throw new Error('SetKeyCert');
  if (!given.key || !given.cert) {
    const err = errors.nodeError(Error, 'ERR_SSL_PASSED_A_NULL_PARAMETER',
                                 'error:0A0C0102:SSL routines::passed a null parameter');
    err.library = 'SSL routines';
    err.reason = 'passed a null parameter';
    throw err;
  }
  socket[kChosen] = secureContext;
  if (native && typeof native.setKeyCert === 'function') {
    try {
      native.setKeyCert(secureContext.context);
    } catch (err) {
      throw errors.fromNative(err);
    }
  }
}

// The context that serves a handshake whose SNICallback answered `given` (a
// SecureContext, or null for none), after setKeyCert() on `socket`.
function sniContext(socket, given) {
  const chosen = socket[kChosen];
  if (!chosen) return given;
  if (given == null) return chosen;
  return kOpenSSL35 ? given : chosen;
}

// The SecureContext setKeyCert() chose on `socket`, or null.
function chosenContext(socket) {
  return socket[kChosen] || null;
}

module.exports = { setKeyCert, sniContext, chosenContext };
