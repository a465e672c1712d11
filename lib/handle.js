'use strict';
// The de facto surface of a TLSSocket: what libraries reach for past the
// documented API, shaped as Node's lib/_tls_wrap.js gives it.
//
// - `socket._handle` and `socket.ssl` are Node's native TLSWrap. Drivers call
//   `verifyError()` on it (mysql, smtp-server), `getSession()`, and a few
//   other getters; here it is a small JavaScript object answering from the
//   facts the native connection reported. It is set from construction until
//   the socket is destroyed, then null, as in Node.
// - "Control": until `_releaseControl()`, a TLSSocket listens to its own
//   'error' with `_tlsError`, which re-emits the error as '_tlsError'; an
//   error the TLS layer reports while control is held (`_emitTLSError`) goes
//   to '_tlsError' only. `tls.connect()` releases control at once, a
//   tls.Server at 'secure'; a socket made with `new TLSSocket()` keeps it,
//   so the application (or the library that made it) decides.
// - A tls.Server's own sockets report what goes wrong before they are handed
//   over to the server, as 'tlsClientError' (`adoptByServer`).

const { AsyncResource } = require('async_hooks');
const errors = require('./errors');

const kOwner = Symbol('kOwner');
const kErrorEmitted = Symbol('kErrorEmitted');
const kShutdownReqs = Symbol('kShutdownReqs');
// What a socket provides to its handle (lib/socket.js implements them):
// the facts of its handshake (null before), a TLS shutdown with a callback,
// and a pause of its reading.
const kFacts = Symbol('kFacts');
const kShutdown = Symbol('kShutdown');
const kReadStop = Symbol('kReadStop');
// An option of the sockets a tls.Server makes for connections it is handed.
const kByServer = Symbol('kByServer');

// Node's verifyError() when there is no peer certificate to judge
// (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT; see TLSWrap::VerifyError).
const kNoPeerCert = 'UNABLE_TO_GET_ISSUER_CERT';
const kNoPeerCertMessage = 'unable to get issuer certificate';

// `socket._handle` / `socket.ssl`: a stand-in for Node's TLSWrap that
// answers from its socket.
const kAsyncResource = Symbol('kAsyncResource');

class TLSHandle {
  constructor(owner, secureContext, parent) {
    this[kOwner] = owner;
    this[kShutdownReqs] = [];
    // TLSWrap's own fields, read by some code: the context, the wrapped
    // stream, and whether it is reading.
    this._secureContext = secureContext;
    this._parentWrap = parent || null;
    this._parent = parent && parent._handle ? parent._handle : null;
    this.reading = false;
  }

  // The verification of the peer's chain (not its name): null when it
  // passed, otherwise an Error with OpenSSL's code and message.
  verifyError() {
    const facts = this[kOwner][kFacts]();
    if (!facts || !facts.peerCerts || facts.peerCerts.length === 0) {
      return errors.verifyError(kNoPeerCert, kNoPeerCertMessage);
    }
    if (facts.verifyCode) return errors.verifyError(facts.verifyCode, facts.verifyMessage);
    return null;
  }

  getServername() {
    const owner = this[kOwner];
    if (owner._tlsOptions && owner._tlsOptions.isServer) {
      const facts = owner[kFacts]();
      return (facts && facts.servername) || false;
    }
    return owner.servername || false;
  }

  getALPNNegotiatedProtocol() {
    const facts = this[kOwner][kFacts]();
    return (facts && facts.alpn) || false;
  }

  // The descriptor of the socket under TLS when JavaScript can see it (a
  // wrapped net.Socket), else -1 as for a handle without one.
  get fd() {
    const parent = this._parent;
    return parent && typeof parent.fd === 'number' ? parent.fd : -1;
  }

  // Bytes handed to the socket that the TLS layer has not yet taken.
  get writeQueueSize() {
    return this[kOwner].writableLength;
  }

  get bytesRead() {
    return this[kOwner].bytesRead;
  }

  get bytesWritten() {
    return this[kOwner].bytesWritten;
  }

  // Starts a client's handshake (what `_start()` calls in Node).
  start() {
    this[kOwner]._start();
  }

  // Sends close_notify and ends our side; `req.oncomplete(status)` once done.
  shutdown(req) {
    const owner = this[kOwner];
    this[kShutdownReqs].push(req);
    owner[kShutdown](() => {
      const reqs = this[kShutdownReqs];
      this[kShutdownReqs] = [];
      for (const r of reqs) {
        if (r && typeof r.oncomplete === 'function') r.oncomplete(0);
      }
    });
    return 0;
  }

  readStart() {
    this[kOwner]._read();
    return 0;
  }

  readStop() {
    this[kOwner][kReadStop]();
    return 0;
  }

  // Nothing native to free: the connection goes with its socket.
  destroySSL() {}

  // The handle's async id, as node:http's keep-alive reuse asks for it
  // (`_http_client.js` responseKeepAlive): an async resource of its own,
  // made when first asked.
  getAsyncId() {
    if (!this[kAsyncResource]) this[kAsyncResource] = new AsyncResource('TLSWRAP');
    return this[kAsyncResource].asyncId();
  }

  getpeername(out) {
    const name = this[kOwner]._getpeername();
    if (out && name.address !== undefined) Object.assign(out, name);
    return 0;
  }

  getsockname(out) {
    const name = this[kOwner]._getsockname();
    if (out && name.address !== undefined) Object.assign(out, name);
    return 0;
  }

  ref() {
    this[kOwner].ref();
  }

  unref() {
    this[kOwner].unref();
  }

  setNoDelay(enable) {
    this[kOwner].setNoDelay(enable);
    return 0;
  }

  setKeepAlive(enable, delay) {
    this[kOwner].setKeepAlive(enable, delay);
    return 0;
  }
}

// Methods of the handle that are the socket's own under the same name.
for (const name of [
  'getPeerCertificate', 'getCertificate', 'getPeerX509Certificate', 'getX509Certificate',
  'getSession', 'isSessionReused', 'getTLSTicket', 'getCipher', 'getProtocol',
  'getEphemeralKeyInfo', 'getSharedSigalgs', 'getFinished', 'getPeerFinished',
  'setSession', 'setServername', 'setMaxSendFragment', 'exportKeyingMaterial',
  'enableTrace', 'renegotiate',
]) {
  TLSHandle.prototype[name] = function proxied(...args) {
    const owner = this[kOwner];
    if (typeof owner[name] !== 'function') return undefined;
    return owner[name](...args);
  };
}

// Node's TLSSocket.prototype methods about control, added to ours.
const controlMethods = {
  // The 'error' listener a TLSSocket holds while it keeps control.
  _tlsError(err) {
    this.emit('_tlsError', err);
    if (this._controlReleased) return err;
    return null;
  },

  // An error of the TLS layer: 'error' only once control is released.
  _emitTLSError(err) {
    const e = this._tlsError(err);
    if (e) this.emit('error', e);
  },

  _releaseControl() {
    if (this._controlReleased) return false;
    this._controlReleased = true;
    this.removeListener('error', this._tlsError);
    return true;
  },

  // Frees the TLS state early; the socket goes on as it was.
  _destroySSL() {
    if (!this.ssl) return;
    this.ssl.destroySSL();
    this.ssl = null;
  },
};

// Gives `proto` (TLSSocket.prototype) the control methods above.
function installControl(proto) {
  for (const [name, fn] of Object.entries(controlMethods)) {
    Object.defineProperty(proto, name, {
      configurable: true, writable: true, enumerable: false, value: fn,
    });
  }
}

// A socket a tls.Server made for a connection it was handed: until the
// server takes it ('secureConnection'), what goes wrong is the server's
// 'tlsClientError', once; a close without an error before then is a
// "socket hang up".
function adoptByServer(socket, server) {
  socket[kErrorEmitted] = false;
  const report = (err) => {
    if (socket._controlReleased || socket[kErrorEmitted]) return;
    socket[kErrorEmitted] = true;
    server.emit('tlsClientError', err, socket);
  };
  socket.on('_tlsError', report);
  socket.on('error', report);
  socket.on('close', (hadError) => {
    if (hadError) return;
    const err = errors.withCode(Error, 'ECONNRESET', 'socket hang up');
    report(err);
  });
}

// A handshake failure of a server socket found outside the socket's own
// events (a session cache callback's error): 'tlsClientError', once, as
// adoptByServer reports it, so that the close that follows is no second one.
function serverClientError(socket, server, err) {
  if (socket[kErrorEmitted] === true || socket._controlReleased) return;
  if (socket[kErrorEmitted] === false) socket[kErrorEmitted] = true;
  server.emit('tlsClientError', err, socket);
}

module.exports = {
  TLSHandle, installControl, adoptByServer, serverClientError, kByServer, kFacts, kShutdown, kReadStop,
};
