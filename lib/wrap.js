'use strict';
// TLS over a stream that already exists (STARTTLS, `tls.connect({ socket })`,
// `new TLSSocket(duplex)`): the stream's bytes feed the native connection,
// whose ciphertext is written back to it (lib/takeover.js reads the
// stream). Mixed into TLSSocket.prototype by lib/socket.js.

const pkg = require('./pkg');
const { binding } = require('./native');
const errors = require('./errors');
const { tlsParams } = require('./context');
const secrets = require('./secrets');
const sessions = require('./session');
const handle = require('./handle');
const { readInto } = require('./takeover');
const {
  kAttach,
  kAwaitConnect,
  kBusy,
  kClosed,
  kConnectOptions,
  kContext,
  kFed,
  kFeed,
  kFeedEnd,
  kNative,
  kPeerEnded,
  kServerOptions,
  kWrapClosed,
  kWrapEarly,
  kWrapFailed,
  kWrapGone,
  kWrapListen,
  kWrapStart,
  kWrapped,
  kWrappedIo,
} = require('./symbols');

// The package's exports (defaults such as DEFAULT_CIPHERS).

function serverTlsOptions(server) {
  if (!server || !server[kServerOptions]) return {};
  return server[kServerOptions]();
}

class WrappedStream {
  // TLS over the wrapped stream: its bytes feed the native connection, whose
  // ciphertext events are written back to it. A stream that is not yet
  // connected is waited for, as Node waits for the socket's 'connect'.
  [kWrapStart]() {
    const socket = this[kWrapped];
    if (this[kNative] || this.destroyed) return;
    if (socket.pending === true && !socket.destroyed) {
      this.connecting = true;
      if (this[kAwaitConnect]) return;
      this[kAwaitConnect] = true;
      // Node's TLSSocket then reports the stream's 'connect' as its own.
      socket.once('connect', () => {
        if (this.destroyed) return;
        this.connecting = false;
        this.emit('connect');
        this[kWrapStart]();
      });
      return;
    }
    const options = this._tlsOptions;
    const tls = pkg();
    const isServer = Boolean(options.isServer);
    const server = isServer ? (options.server || {}) : {};
    const connectOptions = this[kConnectOptions] || {};
    // A server socket made by the application judges its client's
    // certificate itself (verifyError()); only a tls.Server's own reject.
    // As in Node (OpenSSL's FAIL_IF_NO_PEER_CERT), requestCert with
    // rejectUnauthorized still fails a handshake without a certificate.
    const source = !isServer ? { ...options, ...connectOptions } :
      options[handle.kByServer] ? { ...options, ...serverTlsOptions(server) } :
        { ...options, rejectUnauthorized: false, requireClientCert: Boolean(options.rejectUnauthorized) };
    try {
      const wantsKeylog = secrets.socketWants(this) || (isServer && secrets.serverWants(server));
      this[kAttach]((hub, id) => binding.CryptoStream.wrap(
        hub, id,
        this[kContext].context,
        { ...tlsParams(source, tls), keylog: wantsKeylog, requestOcsp: !isServer && Boolean(source.requestOCSP) },
        {
          isServer,
          // A client TLSSocket made directly sends no SNI unless given one
          // by setServername(): Node's tls.connect() is what sets it.
          servername: isServer ? undefined : (connectOptions.sni || connectOptions.servername || ''),
          handshakeTimeout: isServer && server.handshakeTimeout > 0 ? Math.floor(server.handshakeTimeout) : undefined,
          sessionEvents: isServer ? sessions.sessionEvents(options.server) : undefined,
          sniCallback: isServer && typeof options.SNICallback === 'function',
          alpnCallback: isServer && typeof options.ALPNCallback === 'function',
        }));
    } catch (err) {
      process.nextTick(() => this.destroy(errors.fromNative(err)));
      return;
    }
    this.connecting = false;
    // The TLS work happens on another thread, so the native side keeps the
    // process alive while the connection is open (as a reading socket does),
    // even when the wrapped stream is paused or has no handle at all.
    // socket.unref() lets go of both.
    const early = this[kWrapEarly];
    this[kWrapEarly] = null;
    for (const chunk of early) {
      if (chunk === null) this[kFeedEnd]();
      else this[kFeed](chunk);
    }
    if (this[kWrappedIo]) this[kWrappedIo].resume();
  }

  // Input for the native connection over a wrapped stream, counted for the
  // idle reports; false: stop reading for now.
  [kFeed](chunk) {
    const native = this[kNative];
    if (!native || this[kClosed]) return true;
    this[kFed] += chunk.length;
    this[kBusy]();
    return native.feed(chunk);
  }

  // The wrapped stream ended: one more unit of input for the idle count,
  // so that the process is held until the native side has taken it (it
  // may have been idle, and nothing else keeps the loop alive meanwhile).
  [kFeedEnd]() {
    const native = this[kNative];
    if (!native || this[kClosed]) return;
    this[kFed] += 1;
    this[kBusy]();
    native.feedEnd();
  }

  // TLS takes the wrapped stream over from the start, as Node reads it from
  // the next tick on (lib/takeover.js): what it sends before the handshake
  // starts is kept for it, and a net.Socket's failures and hang-ups are
  // this socket's.
  [kWrapListen]() {
    const socket = this[kWrapped];
    this[kWrapEarly] = [];
    // TLS decides when the wrapped stream's writable side ends (after
    // close_notify), as in Node, where the TLS socket takes over the stream:
    // left to itself, a socket that does not allow half-open ends as soon as
    // its peer does, and what TLS still has to send (session tickets, the
    // answer to a request, close_notify) would find it ended.
    if (socket.allowHalfOpen === false) socket.allowHalfOpen = true;
    let ended = false;
    const feed = (chunk) => {
      if (!this[kWrapEarly]) return this[kFeed](chunk);
      this[kWrapEarly].push(chunk);
      // Bytes from the server start a client's handshake, as reading them
      // does OpenSSL's.
      if (!this._tlsOptions.isServer && !this.destroyed) this._start();
      return true;
    };
    const end = () => {
      ended = true;
      if (!this[kWrapEarly]) {
        this[kFeedEnd]();
        return;
      }
      this[kWrapEarly].push(null);
      if (!this[kPeerEnded] && !this.destroyed) {
        // Ended before any handshake: Node's socket reads the end of
        // stream all the same.
        this[kPeerEnded] = true;
        this.push(null);
        this.read(0);
      }
    };
    // A taken-over net.Socket's failure is this socket's own read or write
    // failure (Node's TLS reads its handle): destroy(err), whether or not
    // control is released ('_tlsError' follows from its listener). A plain
    // stream's failure is its own, and this socket just closes with it.
    // A read failure (a reset) goes to the native side behind the bytes
    // read before it: Node's TLS reads the socket itself, so an alert its
    // peer sent just before resetting is what it reports.
    const fail = (err) => {
      const native = this[kNative];
      const inBand = native && !this[kClosed] && !this[kWrapEarly] && !this.destroyed &&
        err && err.syscall === 'read' && Number.isInteger(err.errno) && err.errno < 0;
      if (!inBand) {
        this.destroy(err);
        return;
      }
      this[kWrapFailed] = err;
      this[kBusy]();
      native.feedError(-err.errno);
    };
    // An error the application raised on the stream it gave: reported by
    // this socket too, as Node's TLS socket listens for the stream's errors;
    // the stream's close then closes this one.
    const raised = (err) => {
      if (!this.destroyed) this._emitTLSError(err);
    };
    this[kWrappedIo] = readInto(socket, feed, end, fail, raised);
    // A stream already torn down may have reported its 'close' already.
    if (socket.destroyed) this[kWrapClosed] = true;
    socket.on('close', () => {
      this[kWrapClosed] = true;
      // A stream that was torn down takes this socket with it at once, as
      // in Node. One that ended cleanly may still hold our peer's last
      // records (close_notify) in the native queue: it takes this socket
      // once our peer's end has been delivered ('end', then 'close').
      if (this.destroyed || this[kWrapFailed]) return;
      if (!ended || this[kPeerEnded] || !this[kNative]) this.destroy();
      else this[kWrapGone] = true;
    });
  }
}

module.exports = { WrappedStream };
