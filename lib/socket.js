'use strict';
// TLSSocket: a net.Socket whose bytes are carried by a native connection.
//
// Data flow. The native side (src/conn.rs) owns the TCP socket and the
// rustls connection on a tokio worker. Decrypted data arrives in batches
// (one event per batch; lib/native-events.js handles the native side's
// events) and is pushed into the Readable side; when
// push() says the buffer is full we tell the native side to stop reading
// the socket, and _read() resumes it. Writes are handed over per _writev
// batch; the native side says how much it has queued, and when that passes
// its high-water mark the write callback is held until it reports 'drain'.
// So neither direction buffers without bound, and no call ever waits for
// the other thread.
//
// Policy lives in JavaScript, as in Node: certificate verification results
// arrive as facts, and lib/secure.js decides (rejectUnauthorized, checkServerIdentity)
// whether the connection stands. Until it does, writes are held back, so no
// application data reaches a peer that is about to be rejected.

const pkg = require('./pkg');
const net = require('net');
const util = require('util');
const native_ = require('./native');

const errors = require('./errors');
const { contextFor, alpnList, tlsParams } = require('./context');
const { ConnectionFacts } = require('./facts');
const { completeHeldWrites, finishHeldWrites } = require('./held');
const { WrappedStream } = require('./wrap');
const secrets = require('./secrets');
const trace = require('./trace');
const { isOnread, OnreadSink } = require('./onread');
const sessions = require('./session');
const handle = require('./handle');
const keycert = require('./keycert');
const { connect, openTransport, validateTarget } = require('./connect');
const { NativeEvents } = require('./native-events');

const {
  kNative,
  kInfo,
  kHeld,
  kDrainCb,
  kFinalCb,
  kConnectOptions,
  kRefed,
  kSockOpts,
  kClosed,
  kEndpoints,
  kBytesRead,
  kBytesWritten,
  kOnEvent,
  kContext,
  kAttach,
  kSetHold,
  kHolding,
  kId,
  kPeerEnded,
  kWrapped,
  kWrapStart,
  kDestroyRan,
  kTrace,
  kServerTrace,
  kWrapClosed,
  kWrapListen,
  kRejected,
  kOnread,
  kFed,
  kSubmitted,
  kIdle,
  kBusy,
  kShutdownCbs,
  kWrappedIo,
  kDeliver,
  kPairNamesServer,
} = require('./symbols');

const debug = util.debuglog('tls');

// Options of a socket a tls.Server makes, which needs no context of its own
// (an accepted connection is given the server's; a stand-in has none).
const kServerMade = Symbol('kServerMade');

// Over a wrapped stream: input bytes fed and writes made to the native side,
// and whether it last said it had consumed exactly those (idle).

function noop() {}

function emitClose(socket, hadError) {
  socket.emit('close', hadError);
}

class TLSSocket extends net.Socket {
  constructor(socket, options) {
    options = { ...options };
    super({
      allowHalfOpen: Boolean(socket ? socket.allowHalfOpen : options.allowHalfOpen),
      highWaterMark: options.highWaterMark,
    });
    this[kTrace] = trace.socketOption(options);
    // `onread` applies to a socket that owns its connection (as in Node).
    this[kOnread] = !socket && isOnread(options.onread) ? new OnreadSink(this, options.onread) : null;
    this.encrypted = true;
    this.authorized = false;
    this.authorizationError = null;
    this.alpnProtocol = null;
    this.servername = null;
    this._secureEstablished = false;
    this.secureConnecting = true;
    this._tlsOptions = options;
    this[kNative] = null;
    this[kInfo] = null;
    this[kHeld] = [];
    this[kDrainCb] = null;
    this[kFinalCb] = null;
    this[kRefed] = true;
    this[kHolding] = false;
    this[kFed] = 0;
    this[kSubmitted] = 0;
    this[kIdle] = false;
    this[kId] = 0;
    this[kSockOpts] = [];
    this[kClosed] = false;
    this[kEndpoints] = null;
    this[kBytesRead] = 0;
    this[kBytesWritten] = 0;
    this[kContext] = null;
    this[kWrapped] = null;
    this[kShutdownCbs] = [];
    // Until released (lib/handle.js), errors are also '_tlsError' and an
    // 'error' nobody listens to does not throw.
    this._controlReleased = false;
    this.on('error', this._tlsError);
    if (options.ALPNProtocols !== undefined) alpnList(options.ALPNProtocols);
    if (options.SNICallback !== undefined && typeof options.SNICallback !== 'function') {
      throw errors.invalidArgType('options.SNICallback', 'of type function', options.SNICallback);
    }
    // Checked as Node checks them (rustls has no PSK to use them for).
    if (options.pskCallback) {
      if (typeof options.pskCallback !== 'function') {
        throw errors.invalidArgType('pskCallback', 'of type function', options.pskCallback);
      }
      if (options.pskIdentityHint && typeof options.pskIdentityHint !== 'string') {
        throw errors.invalidArgType('options.pskIdentityHint', 'of type string', options.pskIdentityHint);
      }
    }
    // `signal`: aborting it destroys the socket with an AbortError ('error',
    // then 'close' with hadError), at once when it is already aborted.
    // Attached once the socket is whole, not in the stream constructor.
    if (options.signal !== undefined && options.signal !== null) {
      require('stream').addAbortSignal(options.signal, this);
    }
    if (!options.isServer && options.session) sessions.setGivenSession(this, sessions.sessionParam(options.session));
    secrets.install(this);
    if (socket) {
      if (typeof socket.on !== 'function' || typeof socket.write !== 'function') {
        throw errors.invalidArgType('socket', 'an instance of stream.Duplex', socket);
      }
      this[kWrapped] = socket;
      // As in Node: the socket's activity refreshes its timer, and
      // destroying TLS clears it (net.Socket walks `_parent`).
      if (socket instanceof net.Socket) this._parent = socket;
      this[kContext] = contextFor(options);
      this[kWrapListen]();
      if (options.isServer) {
        this.server = this._server = options.server || null;
        this[kWrapStart]();
      } else if (!options[kConnectOptions]) {
        // A client TLSSocket made directly starts its handshake on _start()
        // or on its first write, as Node's does, and leaves judging the
        // server's certificate to its application (ssl.verifyError()).
        // Node's constructor sends no SNI of its own (setServername() does);
        // a secure pair names its server as before.
        this[kConnectOptions] = {
          servername: options[kPairNamesServer] ? options.servername : undefined,
          standalone: true,
        };
      }
    } else {
      // Without a stream, Node's socket waits for a connection of its own
      // (connect(), or the one tls.connect() opens): 'opening' until then.
      this.connecting = true;
      // Made directly, it has its context from the start, as Node's (bad
      // options throw here, not at connect()); a server's sockets and
      // tls.connect()'s are given theirs.
      if (!options.isServer && !options[kConnectOptions] && !options[kServerMade]) this[kContext] = contextFor(options);
      else if (options.secureContext) contextFor(options);
    }
    this._handle = this.ssl = new handle.TLSHandle(this, this[kContext] || options.secureContext, socket);
  }

  // Creates the native connection with `make(hub, id)`, its events routed
  // here, and holds the process open for it unless unref'd.
  [kAttach](make) {
    const id = native_.register((kind, data, info) => this[kOnEvent](kind, data, info));
    let native;
    try {
      native = make(native_.hub, id);
    } catch (err) {
      native_.unregister(id);
      throw err;
    }
    this[kId] = id;
    this[kNative] = native;
    if (this[kTrace]) trace.enable(native);
    this[kSetHold]();
    return native;
  }

  // Holds the process open while the native connection is open and this
  // socket is ref'd (as an active libuv handle does).
  // The native side has work from us (over a wrapped stream): hold the
  // process until it says it is idle again.
  [kBusy]() {
    if (this[kIdle]) {
      this[kIdle] = false;
      this[kSetHold]();
    }
  }

  // A connection that owns its socket holds the process while open, as a
  // reading socket does. Over a wrapped stream, the stream is what Node
  // would wait on: the native side holds the process only while it has
  // work (the handshake, input fed, writes made) and lets go when idle, so
  // that a program over an in-memory Duplex exits as under Node.
  [kSetHold]() {
    // After the peer's end, a socket left half open holds the process only
    // while a write or our end is under way: libuv stops reading at end of
    // stream, and a handle that neither reads nor writes lets the loop end.
    const halfOpen = this[kPeerEnded] && !this[kDrainCb] && !this[kFinalCb];
    const want = this[kRefed] && this[kNative] !== null && !this[kClosed] && !this.destroyed &&
      !this[kIdle] && !halfOpen;
    if (want && !this[kHolding]) native_.hold();
    else if (!want && this[kHolding]) native_.release();
    this[kHolding] = want;
  }

  resume() {
    super.resume();
    const sink = this[kOnread];
    if (sink) {
      sink.flush();
      if (sink.queue.length === 0 && this[kNative] && !this[kClosed]) this[kNative].readStart();
    }
    return this;
  }

  // Hands decrypted bytes to the reader; false when it wants no more now.
  [kDeliver](chunk) {
    return this[kOnread] ? this[kOnread].deliver(chunk) : this.push(chunk);
  }

  _read() {
    const native = this[kNative];
    if (native && !this[kClosed]) native.readStart();
  }

  // For the handle (lib/handle.js): the handshake's facts, a TLS shutdown
  // (close_notify) with a callback, and a pause of reading.
  [handle.kFacts]() {
    return this[kInfo];
  }

  [handle.kShutdown](cb) {
    const native = this[kNative];
    if (!native || this[kClosed]) {
      process.nextTick(cb);
      return;
    }
    this[kShutdownCbs].push(cb);
    this[kSubmitted]++;
    this[kBusy]();
    native.end();
  }

  [handle.kReadStop]() {
    const native = this[kNative];
    if (native && !this[kClosed]) native.readStop();
  }

  _write(chunk, encoding, cb) {
    this._writev([{ chunk, encoding }], cb);
  }

  // `new TLSSocket(null, options).connect(port[, host])` (net.Socket's
  // signatures): a client over a connection of its own, as Node's
  // TLSSocket over a fresh TCP handle. It emits 'connect' then 'secure'
  // (no 'secureConnect'); trusting the server is the application's call
  // (`ssl.verifyError()`), as for any TLSSocket made directly.
  connect(...args) {
    if (this[kWrapped] || this[kNative] || this._tlsOptions.isServer) {
      return super.connect(...args);
    }
    const [options, cb] = net._normalizeArgs(args);
    options.port = validateTarget(options);
    const tls = pkg();
    const source = { ...this._tlsOptions, ...options };
    const params = tlsParams(source, tls);
    const context = this[kContext] || contextFor(source);
    const host = options.host || 'localhost';
    const sni = source.servername || '';
    this[kContext] = context;
    this[kConnectOptions] = { ...source, servername: source.servername, sni, standalone: true };
    this.connecting = true;
    if (typeof cb === 'function') this.once('connect', cb);
    openTransport(this, this[kConnectOptions], params, context, host, sni);
    return this;
  }

  // Starts the handshake of a client TLSSocket made over an existing stream
  // (tls.connect() does this itself).
  _start() {
    if (this[kWrapped] && !this[kNative]) this[kWrapStart]();
  }

  _writev(chunks, cb) {
    if (!this._secureEstablished) {
      const run = () => this._writev(chunks, cb);
      run.writeCb = cb;
      run.bytes = chunks.reduce((n, { chunk, encoding }) => n + byteLength(chunk, encoding), 0);
      this[kHeld].push(run);
      this._start();
      return;
    }
    const native = this[kNative];
    if (!native || this[kClosed]) {
      cb(errors.nodeError(Error, 'ERR_STREAM_DESTROYED',
                          'Cannot call write after a stream was destroyed'));
      return;
    }
    let ok;
    this[kSubmitted]++;
    this[kBusy]();
    if (chunks.length === 1) {
      const { chunk, encoding } = chunks[0];
      const form = typeof chunk === 'string' ? nativeForm(encoding) : undefined;
      if (typeof chunk !== 'string') {
        ok = native.write(chunk);
        this[kBytesWritten] += chunk.length;
      } else if (form) {
        // Encoded by the native side: no Buffer made for it (an HTTP
        // response's head and body are one such string).
        ok = native.writeString(chunk, form === 'latin1');
        this[kBytesWritten] += byteLength(chunk, form);
      } else {
        const buf = Buffer.from(chunk, encoding);
        ok = native.write(buf);
        this[kBytesWritten] += buf.length;
      }
    } else {
      // Strings the native side encodes go as they are (Latin-1 ones marked
      // by their bit of `latin1`, for the first 31), others as Buffers.
      const list = new Array(chunks.length);
      let latin1 = 0;
      let bytes = 0;
      for (let i = 0; i < chunks.length; i++) {
        const { chunk, encoding } = chunks[i];
        const form = typeof chunk === 'string' && i < 31 ? nativeForm(encoding) : undefined;
        if (typeof chunk === 'string' && !form) {
          list[i] = Buffer.from(chunk, encoding);
          bytes += list[i].length;
        } else {
          list[i] = chunk;
          bytes += byteLength(chunk, form);
          if (form === 'latin1') latin1 |= 1 << i;
        }
      }
      ok = native.writev(list, latin1);
      this[kBytesWritten] += bytes;
    }
    this._unrefTimer();
    // Complete on the next tick even when there is room: writes made in the
    // meantime gather into one _writev, and `bufferSize` reads as in Node.
    if (ok) {
      process.nextTick(cb);
    } else {
      this[kDrainCb] = cb;
      this[kSetHold]();
    }
  }

  _final(cb) {
    const wrapped = this[kWrapped];
    if (!this[kNative] && wrapped && this[kConnectOptions] && this[kConnectOptions].standalone) {
      // A client TLSSocket made directly whose handshake never started:
      // as in Node, ending it starts nothing and just ends the stream.
      this[kWrappedIo].endOutput(noop);
      process.nextTick(cb);
      return;
    }
    if (!this._secureEstablished) {
      // Node's TLS layer takes end() as soon as the transport is connected,
      // so 'finish' comes then; close_notify follows the handshake.
      this[kHeld].push(() => this._final(noop));
      this._start();
      if (this.connecting) this.once('connect', () => process.nextTick(cb));
      else process.nextTick(cb);
      return;
    }
    const native = this[kNative];
    if (!native || this[kClosed]) return cb();
    // Sent by this thread now, as Node shuts its socket down; 'finish'
    // follows once this loop turn's I/O is handled, as Node's shutdown
    // request completes on a later turn (not within this turn's ticks).
    if (!this[kWrappedIo] && native.endNow()) {
      setImmediate(cb);
      return;
    }
    this[kFinalCb] = cb;
    this[kSetHold]();
    this[kSubmitted]++;
    this[kBusy]();
    native.end();
  }

  _destroy(err, cb) {
    debug('destroy', err && err.code);
    this[kDestroyRan] = true;
    const connecting = this.connecting;
    const heldWrites = this[kHeld].map((run) => run.writeCb).filter(Boolean);
    for (const run of this[kHeld]) this[kBytesWritten] += run.bytes || 0;
    this.connecting = false;
    this._handle = null;
    this.ssl = null;
    this[kShutdownCbs] = [];
    const native = this[kNative];
    if (native && !this[kClosed]) native.destroy();
    this[kSetHold]();
    const wrapped = this[kWrapped];
    const closingWrapped = wrapped && !wrapped.destroyed;
    if (closingWrapped) wrapped.destroy();
    this[kHeld] = [];
    this[kDrainCb] = null;
    this[kFinalCb] = null;
    cb(err);
    const rejected = this[kRejected];
    const failHeld = () => {
      if (heldWrites.length > 0) completeHeldWrites(this, heldWrites, connecting, rejected);
    };
    if (wrapped instanceof net.Socket && !this[kWrapClosed]) {
      // As in Node, where closing TLS closes the socket it took over and
      // reports its own 'close' from there: the socket's 'close' first.
      wrapped.once('close', () => {
        emitClose(this, Boolean(err));
        if (connecting) failHeld();
      });
      if (!connecting) failHeld();
      return;
    }
    // Node emits it once the handle has closed, a loop turn later; the
    // writes its TLS layer had taken complete as that close cancels them.
    setImmediate(() => {
      if (!connecting && heldWrites.length > 0) finishHeldWrites(this, heldWrites, rejected);
      emitClose(this, Boolean(err));
    });
    if (connecting) failHeld();
  }

  _onTimeout() {
    if (!this.destroyed) super._onTimeout();
  }

  // Releases writes held until the connection is established and trusted.
  _releaseHeld() {
    const held = this[kHeld];
    this[kHeld] = [];
    for (const run of held) run();
  }

  // Node's: no handle (destroyed) or still connecting.
  get pending() {
    return this.destroyed || this.connecting || (!this[kNative] && !this[kWrapped]);
  }

  // Node's TLS socket has its handle from the start (connecting included)
  // until destroyed.
  get bufferSize() {
    return this.destroyed ? undefined : this.writableLength;
  }

  get bytesRead() {
    return this[kBytesRead];
  }

  // As net counts: what was written, including what still waits in the
  // stream or for the handshake.
  get bytesWritten() {
    let bytes = this[kBytesWritten];
    for (const run of this[kHeld]) bytes += run.bytes || 0;
    for (const { chunk, encoding } of this.writableBuffer) bytes += byteLength(chunk, encoding);
    return bytes;
  }

  // As net's: the peer's address is remembered once read, and what was not
  // read before destroy() is gone with the handle.
  _getpeername() {
    if (this._peername) return this._peername;
    if (this.destroyed) return {};
    let name = {};
    const w = this[kWrapped];
    if (w) {
      if (w.remoteAddress !== undefined) {
        name = { address: w.remoteAddress, family: w.remoteFamily, port: w.remotePort };
      }
    } else {
      const e = this[kEndpoints];
      if (e && e.remoteAddress != null) {
        name = { address: e.remoteAddress, family: e.remoteFamily, port: e.remotePort };
      }
    }
    if (name.address !== undefined) this._peername = name;
    return name;
  }

  // As net's: gone with the handle; otherwise remembered once read, even
  // when read while the wrapped socket was still connecting (then empty).
  _getsockname() {
    if (this.destroyed) return {};
    if (this._sockname) return this._sockname;
    const name = this.#sockname();
    if (name.address !== undefined || (this[kWrapped] && this[kWrapped].pending === true)) this._sockname = name;
    return name;
  }

  #sockname() {
    const w = this[kWrapped];
    if (w) {
      if (typeof w.address === 'function') return w.address() || {};
      return {};
    }
    const e = this[kEndpoints];
    if (!e || e.localAddress == null) return {};
    return {
      address: e.localAddress,
      family: e.localAddress.includes(':') ? 'IPv6' : 'IPv4',
      port: e.localPort,
    };
  }

  address() {
    return this._getsockname();
  }

  setNoDelay(noDelay = true) {
    const w = this[kWrapped];
    if (w) {
      if (typeof w.setNoDelay === 'function') w.setNoDelay(noDelay);
      return this;
    }
    const apply = () => this[kNative] && this[kNative].setNoDelay(Boolean(noDelay));
    if (this.connecting || !this[kNative]) this[kSockOpts].push(apply);
    else apply();
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0) {
    const w = this[kWrapped];
    if (w) {
      if (typeof w.setKeepAlive === 'function') w.setKeepAlive(enable, initialDelay);
      return this;
    }
    const delay = Math.max(0, Math.trunc(Number(initialDelay) || 0));
    const apply = () => this[kNative] && this[kNative].setKeepAlive(Boolean(enable), delay);
    if (this.connecting || !this[kNative]) this[kSockOpts].push(apply);
    else apply();
    return this;
  }

  ref() {
    this[kRefed] = true;
    if (this[kWrapped] instanceof net.Socket) this[kWrapped].ref();
    this[kSetHold]();
    return this;
  }

  unref() {
    this[kRefed] = false;
    if (this[kWrapped] instanceof net.Socket) this[kWrapped].unref();
    this[kSetHold]();
    return this;
  }

  // Records of at most `size` plaintext bytes from now on; true when `size`
  // is within TLS's limits (512 to 16384), as in Node.
  setMaxSendFragment(size) {
    if (typeof size !== 'number') throw errors.invalidArgType('size', 'of type number', size);
    if (!Number.isInteger(size)) {
      throw errors.outOfRange('size', 'an integer', size);
    }
    if (size < -(2 ** 31) || size > 2 ** 31 - 1) {
      throw errors.outOfRange('size', '>= -2147483648 && <= 2147483647', size);
    }
    if (size < 512 || size > 16384) return false;
    if (this[kNative]) this[kNative].setMaxSendFragment(size);
    return true;
  }

  exportKeyingMaterial(length, label, context) {
    if (this._secureEstablished && this.destroyed && typeof length === 'number' && typeof label === 'string') {
      // Node asks its handle, gone once destroyed.
      throw new TypeError("Cannot read properties of null (reading 'exportKeyingMaterial')");
    }
    return secrets.exportKeyingMaterial(this, this[kNative], length, label, context);
  }

  // Sets the SNI name a client sends (before its handshake starts).
  setServername(name) {
    if (typeof name !== 'string') throw errors.invalidArgType('name', 'of type string', name);
    if (this._tlsOptions.isServer) {
      throw errors.nodeError(Error, 'ERR_TLS_SNI_FROM_SERVER',
                             'Cannot issue SNI from a TLS server-side socket');
    }
    if (this[kConnectOptions] && !this[kNative]) this[kConnectOptions].servername = name;
  }

  // The key and certificate a server socket serves (lib/keycert.js).
  setKeyCert(context) {
    keycert.setKeyCert(this, this[kNative], context);
  }

  // A client's session to offer, before its handshake starts.
  setSession(session) {
    const buf = sessions.sessionParam(session, false);
    // Node 22 and later: setSession(undefined) sets nothing.
    if (buf === undefined) return;
    sessions.setGivenSession(this, buf);
    if (this[kConnectOptions]) this[kConnectOptions].session = buf;
  }

  disableRenegotiation() {}

  // The records of the connection are traced on stderr from now on
  // (lib/trace.js); nothing once it is closed, as Node without a handle.
  enableTrace() {
    this[kTrace] = true;
    const native = this[kNative];
    if (native && !this[kClosed]) trace.enable(native);
  }

  // rustls never renegotiates. TLS 1.3 has no renegotiation at all: there
  // the error is OpenSSL's, as in Node.
  renegotiate(options, callback) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw errors.invalidArgType('options', 'of type object', options);
    }
    if (callback !== undefined && typeof callback !== 'function') {
      throw errors.invalidArgType('callback', 'of type function', callback);
    }
    if (this.destroyed) return undefined;
    const err = this.getProtocol() === 'TLSv1.3' && this._secureEstablished ?
      errors.tlsError({ code: 'ERR_SSL_WRONG_SSL_VERSION', message: 'wrong ssl version', reason: 'wrong ssl version' }) :
      errors.nodeError(Error, 'ERR_TLS_RENEGOTIATION_DISABLED', 'TLS session renegotiation disabled for this socket');
    if (callback) process.nextTick(callback, err);
    return false;
  }
}

// Methods kept in files of their own concern, on the socket's prototype as
// its own (string and symbol keys alike).
function mixIn(target, source) {
  for (const key of Reflect.ownKeys(source.prototype)) {
    if (key === 'constructor') continue;
    Object.defineProperty(target.prototype, key, Object.getOwnPropertyDescriptor(source.prototype, key));
  }
}
mixIn(TLSSocket, ConnectionFacts);
mixIn(TLSSocket, NativeEvents);
mixIn(TLSSocket, WrappedStream);

// How the native side encodes a string written in `encoding` ('utf8' or
// 'latin1', as Buffer.from would); undefined for the encodings it leaves to
// Buffer.from here.
function nativeForm(encoding) {
  if (encoding === 'utf8' || encoding === 'utf-8') return 'utf8';
  if (encoding === 'latin1' || encoding === 'binary') return 'latin1';
  return undefined;
}

function byteLength(chunk, encoding) {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
}

// The TLS settings a server gives the sockets it wraps.

// Server-side sockets carry a listener of their own, as in Node, so that a
// client resetting an established connection cannot take down a server that
// added none (the doc's echo server adds none). The socket is destroyed all
// the same and user listeners still see the error.
function onServerSocketError() {}

// Server side: wraps a session whose handshake finished on the runtime.
function acceptedSocket(server, native, info, context) {
  const socket = new TLSSocket(null, {
    [kServerMade]: true,
    allowHalfOpen: server.allowHalfOpen,
    highWaterMark: server.highWaterMark,
    enableTrace: server[kServerTrace],
  });
  socket.server = server;
  socket._server = server;
  socket[kInfo] = info;
  socket[kEndpoints] = info;
  socket[kContext] = context;
  socket.connecting = false;
  socket._secureEstablished = true;
  socket.secureConnecting = false;
  socket._releaseControl();
  socket.ssl._secureContext = context;
  socket.alpnProtocol = info.alpn || false;
  socket.servername = info.servername || false;
  if (server.requestCert) {
    socket.authorized = !info.verifyCode;
    socket.authorizationError = info.verifyCode || null;
  }
  // Node's server socket had its handshake timer, cleared once secure.
  if (server.handshakeTimeout > 0) socket.timeout = 0;
  socket.on('error', onServerSocketError);
  // pauseOnConnect: the socket starts paused (Node's pauseOnCreate).
  if (server.pauseOnConnect) socket.pause();
  socket[kAttach]((hub, id) => {
    native.start(hub, id);
    return native;
  });
  // The handshake ran before JavaScript had the socket: its key-log lines
  // come now, before 'secure'.
  if (info.keylog) for (const line of info.keylog) secrets.deliver(socket, line);
  return socket;
}

handle.installControl(TLSSocket.prototype);

module.exports = {
  TLSSocket,
  connect,
  acceptedSocket,
  kServerMade,
  kNative,
};
