'use strict';
// What a TLSSocket does with its native connection's events (connected,
// secure, plaintext, end, our end finished, drain, errors, close, and the
// questions a wrapped server asks: SNICallback, ALPNCallback, sessions):
// mixed into TLSSocket (lib/socket.js), as lib/facts.js and lib/wrap.js are.

const native_ = require('./native');
const errors = require('./errors');
const { isSecureContext } = require('./context');
const secrets = require('./secrets');
const sessions = require('./session');
const keycert = require('./keycert');
const alpn = require('./alpn');
const { onClientSecure, onStandaloneSecure, onServerSecure } = require('./secure');
const {
  kNative,
  kInfo,
  kDrainCb,
  kFinalCb,
  kHeld,
  kConnectOptions,
  kSockOpts,
  kClosed,
  kEndpoints,
  kBytesRead,
  kOnEvent,
  kSetHold,
  kId,
  kPeerEnded,
  kWrapped,
  kDestroyRan,
  kWrapGone,
  kWrapFailed,
  kLeftOpen,
  kOnread,
  kFed,
  kSubmitted,
  kIdle,
  kBusy,
  kShutdownCbs,
  kWrappedIo,
  kOutputEnded,
  kFinalWaits,
  kDeliver,
} = require('./symbols');

const { EV } = native_;

class NativeEvents {
  [kOnEvent](kind, data, info) {
    switch (kind) {
      case EV.CONNECTED:
        // A connection destroyed meanwhile reports nothing more (the native
        // side may have got there before it heard of destroy()).
        if (this.destroyed) break;
        this[kEndpoints] = info;
        this.connecting = false;
        for (const apply of this[kSockOpts]) apply();
        this[kSockOpts] = [];
        this.emit('connect');
        this.emit('ready');
        break;
      case EV.SECURE:
        if (this.destroyed) break;
        if (!this[kWrapped]) this[kEndpoints] = info;
        this[kInfo] = info;
        this.connecting = false;
        if (this._tlsOptions.isServer) onServerSecure(this, info);
        else if (this[kConnectOptions].standalone) onStandaloneSecure(this, info);
        else onClientSecure(this, info);
        // The client's Finished goes once its listeners ran (src/conn.rs).
        if (!this._tlsOptions.isServer && !this.destroyed && this[kNative]) this[kNative].releaseFlight();
        break;
      case EV.CIPHERTEXT: {
        const socket = this[kWrapped];
        const native = this[kNative];
        if (!socket || socket.destroyed || socket.writableEnded) {
          // The wrapped stream is gone: nothing more can be sent.
          if (!this.destroyed) this.destroy();
          return;
        }
        this[kWrappedIo].write(data, () => native.ackOut(data.length));
        break;
      }
      case EV.SHUTDOWN_OUT:
        if (this[kWrappedIo]) {
          this[kWrappedIo].endOutput(() => {
            this[kOutputEnded] = true;
            const cb = this[kFinalWaits];
            this[kFinalWaits] = null;
            if (cb) cb();
          });
        }
        break;
      case EV.SNI:
        askSni(this, info.servername);
        break;
      case EV.ALPN:
        askAlpn(this, data, info.servername);
        break;
      case EV.IDLE:
        this[kIdle] = info.consumed === this[kFed] && info.taken === this[kSubmitted];
        this[kSetHold]();
        break;
      case EV.INPUT_DRAIN:
        if (this[kWrappedIo]) this[kWrappedIo].resume();
        break;
      case EV.KEYLOG:
        secrets.deliver(this, data);
        break;
      case EV.SESSION:
        sessions.onSession(this, data);
        break;
      case EV.NEW_SESSION:
      case EV.RESUME_SESSION:
        sessions.wrappedCacheEvent(this, this[kNative], kind, info, data);
        break;
      case EV.DATA: {
        if (this.destroyed) return;
        this[kBytesRead] += data.length;
        this._unrefTimer();
        // One 'data' per TLS record, as Node (OpenSSL's SSL_read returns a
        // record at a time): `info.records` says where each one ends when
        // the batch holds several.
        const records = info && info.records;
        let more = true;
        if (records) {
          let at = 0;
          for (const end of records) {
            if (this.destroyed) return;
            more = this[kDeliver](data.subarray(at, end)) && more;
            at = end;
          }
        } else {
          more = this[kDeliver](data);
        }
        if (!more && this[kNative]) this[kNative].readStop();
        break;
      }
      case EV.END:
        if (this.destroyed) return;
        this[kPeerEnded] = true;
        this[kSetHold]();
        if (this[kOnread]) {
          this[kOnread].end();
          break;
        }
        this.push(null);
        // As net does: with nothing buffered, 'end' follows now, even if
        // nobody reads, so that a half-closed socket can finish and close.
        this.read(0);
        if (this[kWrapGone]) process.nextTick(() => this.destroy());
        break;
      case EV.FINISHED: {
        for (const done of this[kShutdownCbs].splice(0)) done();
        // Over a wrapped stream, our end is done once that stream has
        // flushed what we gave it (SHUTDOWN_OUT ended it just before); the
        // native side is done with it, so no write is waiting on it now.
        const cb = this[kFinalCb];
        this[kFinalCb] = null;
        this[kSetHold]();
        if (cb && this[kWrappedIo] && !this[kOutputEnded]) this[kFinalWaits] = cb;
        else if (cb) cb();
        break;
      }
      case EV.DRAIN: {
        const cb = this[kDrainCb];
        this[kDrainCb] = null;
        this[kSetHold]();
        if (cb) cb();
        break;
      }
      case EV.ERROR: {
        // The wrapped socket's own failure, as it reported it.
        const err = (info.syscall && this[kWrapFailed]) || wireError(this, info);
        if (this._secureEstablished && info.reason && !info.syscall) {
          // A TLS failure after the handshake: Node emits it (as '_tlsError'
          // only while the socket keeps control) and leaves the socket to
          // the application (the native side keeps it open until destroy()).
          if (!this._hadError) {
            this._hadError = true;
            this._emitTLSError(err);
          }
        } else if (!this._tlsOptions.isServer && !this._secureEstablished && isEofBeforeSecure(info)) {
          // Node's client sees the peer's FIN as 'end' first; tls.connect()'s
          // then fails: "disconnected before secure TLS connection". A
          // TLSSocket made directly is left as it is, to be destroyed.
          this[kPeerEnded] = true;
          this.push(null);
          this.read(0);
          if (this[kConnectOptions].standalone) this[kLeftOpen] = true;
          else process.nextTick(() => this.destroy(err));
        } else if (this._secureEstablished && !this._controlReleased) {
          // As Node's onerror: after the handshake, a socket that keeps
          // control reports it as '_tlsError' only.
          this._emitTLSError(err);
          this.destroy();
        } else {
          this.destroy(err);
        }
        break;
      }
      case EV.CLOSE:
        this[kClosed] = true;
        this[kNative].releaseFlight();
        this[kSetHold]();
        native_.unregister(this[kId]);
        this.connecting = false;
        if (!this.destroyed && !this[kLeftOpen] && !this[kDestroyRan]) onNativeClosed(this);
        break;
      default:
        break;
    }
  }
}

// The native connection is gone while the stream is still open: nothing more
// will arrive or leave. Writes still waiting can never be sent, so the
// socket is destroyed; otherwise the readable side ends as on EOF (the peer
// hung up), and the stream closes the usual way (at once when both sides
// are already done).
function onNativeClosed(socket) {
  const writesWaiting = socket[kDrainCb] || socket[kFinalCb] || socket[kHeld].length > 0 ||
    (socket.writableLength > 0 && !socket.writableFinished);
  if (writesWaiting || (socket.readableEnded && socket.writableFinished)) {
    socket.destroy();
    return;
  }
  if (!socket[kPeerEnded]) {
    socket[kPeerEnded] = true;
    socket.push(null);
    socket.read(0);
  }
}

// A wrapped server's SNICallback(servername, cb), as Node's loadSNI: an
// error destroys the socket with it, a SecureContext serves the handshake,
// null or undefined leaves the socket's own; a second call is an error.
function askSni(socket, servername) {
  let answered = false;
  const answer = (err, context) => {
    const native = socket[kNative];
    if (answered) {
      socket.destroy(errors.nodeError(Error, 'ERR_MULTIPLE_CALLBACK', 'Callback called multiple times'));
      return;
    }
    answered = true;
    if (!err && context != null && !isSecureContext(context)) err = new TypeError('Invalid SNI context');
    // setKeyCert() in the callback has its say (lib/keycert.js).
    if (!err && (context == null || isSecureContext(context))) context = keycert.sniContext(socket, context);
    if (native) {
      socket[kBusy]();
      native.answerSni(err || context == null ? null : context.context, Boolean(err));
    }
    if (err) socket.destroy(err);
  };
  try {
    socket._tlsOptions.SNICallback.call(socket, servername, answer);
  } catch (err) {
    if (!answered) answer(err);
  }
}

// A wrapped server's ALPNCallback (lib/alpn.js): a throw, or a protocol the
// client did not offer, destroys the socket with that error (the handshake
// ends without an alert); undefined refuses the client with an alert.
function askAlpn(socket, wire, servername) {
  const { protocol, error } = alpn.choose(socket._tlsOptions.ALPNCallback, socket, wire, servername);
  const native = socket[kNative];
  if (native) {
    socket[kBusy]();
    native.answerAlpn(error ? null : protocol, Boolean(error));
  }
  if (error) socket.destroy(error);
}

function isEofBeforeSecure(info) {
  return info.code === 'ECONNRESET' && !info.syscall && /^Client network socket disconnected/.test(info.message);
}

// An error from the wire, with the context Node attaches to it: only a
// failed connect names the address ("read ECONNRESET" names none).
function wireError(socket, info) {
  const opts = socket[kConnectOptions];
  if (info.code === 'ECONNRESET' && !info.syscall && opts) {
    const err = errors.withCode(Error, 'ECONNRESET', info.message);
    err.path = opts.path;
    err.host = opts.host;
    err.port = opts.port;
    err.localAddress = opts.localAddress;
    return err;
  }
  const where = opts && info.syscall === 'connect' ? (opts.path ? { path: opts.path } : opts.where) : undefined;
  return errors.tlsError(info, where);
}

module.exports = { NativeEvents };
