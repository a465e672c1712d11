'use strict';
// tls.createSecurePair(): the module doc's STARTTLS interface. `encrypted` is
// one end of an in-memory stream pair (pipe it to a socket); `cleartext` is a
// TLSSocket over the other end. Deprecated in Node (DEP0064) in favour of
// TLSSocket, and built here the same way.

const { Duplex } = require('stream');
const EventEmitter = require('events');
const errors = require('./errors');
const { SecureContext } = require('./context');
const { TLSSocket } = require('./socket');

const kPeer = Symbol('kPeer');
const kWaiting = Symbol('kWaiting');

// One end of a pair: what is written here is read at the other end.
class PairEnd extends Duplex {
  constructor() {
    super();
    this[kPeer] = null;
    this[kWaiting] = null;
  }

  _read() {
    const cb = this[kPeer] && this[kPeer][kWaiting];
    if (cb) {
      this[kPeer][kWaiting] = null;
      cb();
    }
  }

  _write(chunk, encoding, cb) {
    // The callback waits until the other end wants more, so backpressure
    // passes through the pair.
    if (this[kPeer].push(chunk)) cb();
    else this[kWaiting] = cb;
  }

  _final(cb) {
    this[kPeer].push(null);
    cb();
  }

  // Like a socket whose peer went away: the other end reads what was
  // already delivered, then the end of the stream.
  _destroy(err, cb) {
    const peer = this[kPeer];
    if (peer && !peer.destroyed && !this.writableFinished) peer.push(null);
    this[kWaiting] = null;
    cb(err);
  }
}

function duplexPair() {
  const a = new PairEnd();
  const b = new PairEnd();
  a[kPeer] = b;
  b[kPeer] = a;
  return [a, b];
}

class SecurePair extends EventEmitter {
  constructor(secureContext, isServer, requestCert, rejectUnauthorized, options) {
    super();
    const [encrypted, inner] = duplexPair();
    this.server = options && options.server;
    this.credentials = secureContext;
    this.encrypted = encrypted;
    this.cleartext = new TLSSocket(inner, {
      ...options,
      secureContext,
      isServer: Boolean(isServer),
      requestCert: Boolean(requestCert),
      rejectUnauthorized: Boolean(rejectUnauthorized),
      // Its servername option names the server (SNI), as before.
      [Symbol.for('rustls-tls.pairNamesServer')]: true,
    });
    // The module doc's pair reports its peer's verification: `authorized`
    // and `authorizationError` from the handle's verifyError(), and with
    // rejectUnauthorized an unverified peer is dropped.
    const cleartext = this.cleartext;
    cleartext.once('secure', () => {
      if (isServer && !requestCert) {
        this.emit('secure');
        return;
      }
      const err = cleartext.ssl ? cleartext.ssl.verifyError() : null;
      cleartext.authorized = !err;
      cleartext.authorizationError = err ? err.code : null;
      if (err && rejectUnauthorized) {
        cleartext.destroy(err);
        return;
      }
      this.emit('secure');
    });
    // As the module doc has it, a client pair starts its handshake by
    // itself once wired (Node's waits for a first write).
    if (!isServer) process.nextTick(() => this.cleartext._start());
  }

  destroy() {
    this.cleartext.destroy();
    this.encrypted.destroy();
  }
}

let warned = false;

function createSecurePair(context, isServer, requestCert, rejectUnauthorized, options) {
  if (!warned) {
    warned = true;
    process.emitWarning('tls.createSecurePair() is deprecated. Please use ' +
                        'tls.TLSSocket instead.', 'DeprecationWarning', 'DEP0064');
  }
  // As in Node, no context (undefined or null) means a default one.
  if (context == null) context = new SecureContext();
  if (!(context instanceof SecureContext)) {
    throw errors.nodeError(TypeError, 'ERR_TLS_INVALID_CONTEXT', 'context must be a SecureContext');
  }
  return new SecurePair(context, isServer, requestCert, rejectUnauthorized, options);
}

module.exports = { createSecurePair, SecurePair, duplexPair };
