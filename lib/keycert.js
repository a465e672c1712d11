'use strict';
// tlsSocket.setKeyCert(context): the key and certificate a server socket
// answers its client's ClientHello with, as Node's (lib/_tls_wrap.js):
// - a destroyed socket has no handle and ignores the call altogether;
// - otherwise `context` becomes a SecureContext first (createSecureContext's
//   errors), and a client socket then ignores it;
// - a context without both fails as OpenSSL's SSL_use_certificate /
//   SSL_use_PrivateKey do in Node;
// - inside SNICallback (called with the socket as `this`) it is what the
//   callback's `cb(null)` serves; on a server socket over a wrapped stream
//   it serves the ClientHello not yet answered; after the handshake it
//   changes nothing.

const errors = require('./errors');

const kChosen = Symbol('kKeyCertChosen');

function setKeyCert(socket, native, context) {
  if (socket.destroyed) return;
  const { isSecureContext, createSecureContext, kKeyCert } = require('./context');
  const secureContext = isSecureContext(context) ? context : createSecureContext(context);
  // (A tls.Server's sockets are the server's; others say so in options.)
  const isServer = Boolean(socket._tlsOptions && socket._tlsOptions.isServer) || socket.server != null;
  if (!isServer) return;
  const given = secureContext[kKeyCert] || { key: true, cert: true };
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

// The context setKeyCert() chose for `socket`, if any.
function chosenKeyCert(socket) {
  return socket ? socket[kChosen] : undefined;
}

module.exports = { setKeyCert, chosenKeyCert };
