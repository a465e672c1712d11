'use strict';
// tls.Server: a net.Server whose listening socket and handshakes live on the
// native runtime. Each connection arrives here only once its handshake has
// finished (or failed: 'tlsClientError'), so a storm of handshakes costs the
// JavaScript thread one event per connection.

const net = require('net');
const dns = require('dns');
const util = require('util');
const native_ = require('./native');

const { binding, EV } = native_;
const errors = require('./errors');
const { contextFor, alpnList, tlsParams, isSecureContext, createSecureContext } = require('./context');
const { TLSSocket, acceptedSocket, kServerMade } = require('./socket');
const secrets = require('./secrets');
const trace = require('./trace');
const { kServerTrace } = require('./symbols');
const ocsp = require('./ocsp');
const alpn = require('./alpn');
const sessions = require('./session');
const { adoptByServer, kByServer } = require('./handle');
const { sniContext, chosenContext } = require('./keycert');
const { kEndpoints } = require('./symbols');

const kNative = Symbol('kNative');
const kContext = Symbol('kContext');
const kOptions = Symbol('kOptions');
const kMaxConnections = Symbol('kMaxConnections');
const kRefed = Symbol('kRefed');
const kClosing = Symbol('kClosing');
const kPath = Symbol('kPath');
const kClosed = Symbol('kClosed');
const kHolding = Symbol('kHolding');
// enableTrace (or --trace-tls): every connection is traced.
const kTraceAll = Symbol('kTraceAll');
const kSni = Symbol('kSni');
const kId = Symbol('kId');
const kSessionEvents = Symbol('kSessionEvents');
const kServerOptions = Symbol.for('rustls-tls.serverOptions');

function Server(options, listener) {
  if (!(this instanceof Server)) return new Server(options, listener);
  if (typeof options === 'function') {
    listener = options;
    options = {};
  } else if (options == null) {
    options = {};
  } else if (typeof options !== 'object') {
    throw errors.invalidArgType('options', 'of type object', options);
  }
  net.Server.call(this, {
    allowHalfOpen: options.allowHalfOpen,
    pauseOnConnect: options.pauseOnConnect,
    highWaterMark: options.highWaterMark,
  });
  this[kOptions] = options;
  // ALPNCallback({ servername, protocols }) chooses the protocol of each
  // client that offers some (_askAlpn); checked as Node checks it, before
  // the context.
  this.ALPNCallback = options.ALPNCallback;
  if (this.ALPNCallback && options.ALPNProtocols) {
    throw errors.nodeError(TypeError, 'ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS',
                           'The ALPNCallback and ALPNProtocols TLS options are mutually exclusive');
  }
  this[kTraceAll] = trace.serverOption(options);
  // Its sockets' option (a value that is not a boolean traces nothing).
  this[kServerTrace] = typeof options.enableTrace === 'boolean' ? options.enableTrace : undefined;
  if (options.sessionTimeout) this.sessionTimeout = options.sessionTimeout;
  if (options.ticketKeys) this.ticketKeys = options.ticketKeys;
  deriveContextOptions(this, options);
  // A falsy dhparam is not given, as Node's server copies only a set one.
  this[kContext] = contextFor({ ...options, dhparam: options.dhparam || undefined });
  this.requestCert = options.requestCert === true;
  // Node's servers prefer their own cipher order unless told otherwise.
  this.honorCipherOrder = options.honorCipherOrder === undefined ? true : Boolean(options.honorCipherOrder);
  this.rejectUnauthorized = options.rejectUnauthorized !== false;
  this.ALPNProtocols = alpnList(options.ALPNProtocols, true);
  // Checked now, so that bad versions throw from createServer as in Node.
  tlsParams({ ...options, ALPNProtocols: undefined }, require('..'));
  const timeout = options.handshakeTimeout === undefined ? 120000 : options.handshakeTimeout;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    throw errors.invalidArgType('options.handshakeTimeout', 'of type number', timeout);
  }
  this.handshakeTimeout = timeout;
  if (options.SNICallback !== undefined && typeof options.SNICallback !== 'function') {
    throw errors.invalidArgType('options.SNICallback', 'of type function', options.SNICallback);
  }
  // PSK options are checked as Node checks them, though rustls has no PSK
  // to use them for.
  if (options.pskCallback && typeof options.pskCallback !== 'function') {
    throw errors.invalidArgType('options.pskCallback', 'of type function', options.pskCallback);
  }
  if (options.pskIdentityHint && typeof options.pskIdentityHint !== 'string') {
    throw errors.invalidArgType('options.pskIdentityHint', 'of type string', options.pskIdentityHint);
  }
  this[kNative] = null;
  this[kClosed] = [];
  this[kMaxConnections] = undefined;
  this[kRefed] = true;
  this[kHolding] = false;
  this[kId] = 0;
  this[kSni] = [];
  this[kClosing] = false;
  this[kPath] = null;
  if (listener) this.on('secureConnection', listener);
  this.on('connection', onConnection);
  this[kSessionEvents] = sessions.trackSessionListeners(this, () => this[kNative]);
  secrets.watchServer(this, () => this[kNative]);
  ocsp.watchServer(this, () => this[kNative]);
}

// A stream handed to the server with `server.emit('connection', stream)`
// (the server's own sockets never arrive this way): TLS over it.
function onConnection(stream) {
  if (!stream || stream instanceof TLSSocket) return;
  stream.server = this;
  const socket = new TLSSocket(stream, {
    isServer: true,
    server: this,
    secureContext: this[kContext],
    highWaterMark: this.highWaterMark,
    SNICallback: this[kOptions].SNICallback,
    [kByServer]: true,
  });
  adoptByServer(socket, this);
}
Object.setPrototypeOf(Server.prototype, net.Server.prototype);
Object.setPrototypeOf(Server, net.Server);

Object.defineProperty(Server.prototype, 'maxConnections', {
  configurable: true,
  enumerable: true,
  get() { return this[kMaxConnections]; },
  set(value) {
    this[kMaxConnections] = value;
    if (this[kNative]) this[kNative].setMaxConnections(limitOf(value));
  },
});

Object.defineProperty(Server.prototype, 'listening', {
  configurable: true,
  enumerable: true,
  get() { return this[kNative] !== null; },
});

// The doc's `server.connections`: live connections.
Object.defineProperty(Server.prototype, 'connections', {
  configurable: true,
  enumerable: false,
  get() { return this._connections; },
});

function limitOf(value) {
  return typeof value === 'number' && value > 0 ? Math.min(Math.floor(value), 2 ** 32 - 1) : 0;
}

// listen(port[, host][, backlog][, cb]), listen(path[, backlog][, cb]),
// listen(options[, cb]) -> options, cb
function normalizeListenArgs(args) {
  const cb = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
  const rest = cb ? args.slice(0, -1) : args;
  const first = rest[0];
  if (first !== null && typeof first === 'object') return [{ ...first }, cb];
  const options = {};
  if (typeof first === 'string' && Number.isNaN(Number(first))) {
    options.path = first;
    if (typeof rest[1] === 'number') options.backlog = rest[1];
  } else {
    options.port = first;
    if (typeof rest[1] === 'string') {
      options.host = rest[1];
      if (typeof rest[2] === 'number') options.backlog = rest[2];
    } else if (typeof rest[1] === 'number') {
      options.backlog = rest[1];
    }
  }
  return [options, cb];
}

Server.prototype.listen = function listen(...args) {
  const [options, cb] = normalizeListenArgs(args);
  if (this[kNative]) {
    throw errors.nodeError(Error, 'ERR_SERVER_ALREADY_LISTEN',
                           'Listen method has been called more than once without closing.');
  }
  if (cb) this.once('listening', cb);
  let port = options.port === undefined || options.port === null ? 0 : options.port;
  if (options.path === undefined) {
    const n = typeof port === 'string' && port.trim() !== '' ? Number(port) : port;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
      throw errors.nodeError(RangeError, 'ERR_SOCKET_BAD_PORT',
                             `options.port should be >= 0 and < 65536. Received ${util.inspect(port)}.`);
    }
    port = n;
  }
  this[kClosing] = false;
  const bind = (host) => this._bind({ ...options, host, port });
  if (options.path !== undefined || !options.host || net.isIP(options.host)) {
    bind(options.host);
  } else {
    dns.lookup(options.host, (err, address) => {
      if (err) this.emit('error', err);
      else bind(address);
    });
  }
  return this;
};

Server.prototype._bind = function _bind(options) {
  const opts = this[kOptions];
  const holder = {};
  const id = native_.register((kind, data, info) => this._onNativeEvent(holder.native, kind, info, data));
  try {
    holder.native = this[kNative] = binding.TlsServer.listen(
      native_.hub, id,
      this[kContext].context,
      this._tlsParams(),
      {
        host: options.host,
        port: options.port,
        path: options.path === undefined ? undefined : String(options.path),
        backlog: options.backlog,
        ipv6Only: Boolean(options.ipv6Only),
        sniCallback: typeof opts.SNICallback === 'function',
        keylog: secrets.serverWants(this),
        ocsp: ocsp.serverWants(this),
        alpnCallback: typeof this.ALPNCallback === 'function',
        trace: this[kTraceAll],
        handshakeTimeout: Math.max(0, Math.floor(this.handshakeTimeout)),
      });
  } catch (err) {
    native_.unregister(id);
    const info = errors.fromNative(err);
    const address = options.path !== undefined ? { path: options.path } :
      { address: options.host || '::', port: options.port };
    const e = info.syscall ? errors.systemError(info.code, info.syscall, address, true) : info;
    process.nextTick(() => this.emit('error', e));
    return;
  }
  this[kPath] = options.path === undefined ? null : String(options.path);
  if (this[kMaxConnections] !== undefined) {
    this[kNative].setMaxConnections(limitOf(this[kMaxConnections]));
  }
  this[kId] = id;
  this[kSessionEvents]();
  for (const [hostname, context] of this[kSni]) this[kNative].addContext(hostname, context.context);
  this._setHold();
  process.nextTick(() => this.emit('listening'));
};

// The properties Node's server keeps from the options its context is made
// of (set by its constructor and by setSecureContext()); returns the options
// for that context. A falsy option is unset, as in Node; `ticketKeys` and
// `sessionTimeout` given once stay.
const kContextKeys = ['pfx', 'key', 'passphrase', 'cert', 'clientCertEngine', 'ca', 'minVersion', 'maxVersion',
  'secureProtocol', 'crl', 'ciphers', 'dhparam'];
let defaultIdContext;
function deriveContextOptions(server, options) {
  for (const name of kContextKeys) server[name] = options[name] ? options[name] : undefined;
  server.sigalgs = options.sigalgs;
  server.ecdhCurve = options.ecdhCurve;
  server.honorCipherOrder = options.honorCipherOrder === undefined ? true : Boolean(options.honorCipherOrder);
  server.secureOptions = options.secureOptions || undefined;
  if (options.sessionIdContext) {
    server.sessionIdContext = options.sessionIdContext;
  } else {
    defaultIdContext ??= require('crypto').createHash('sha1').update(process.argv.join(' ')).digest('hex').slice(0, 32);
    server.sessionIdContext = defaultIdContext;
  }
  if (options.sessionTimeout) server.sessionTimeout = options.sessionTimeout;
  if (options.ticketKeys) server.ticketKeys = options.ticketKeys;
  server.privateKeyIdentifier = options.privateKeyIdentifier;
  server.privateKeyEngine = options.privateKeyEngine;
  const out = { sigalgs: server.sigalgs, ecdhCurve: server.ecdhCurve, honorCipherOrder: server.honorCipherOrder };
  for (const name of [...kContextKeys, 'secureOptions', 'sessionIdContext', 'sessionTimeout', 'ticketKeys',
    'privateKeyIdentifier', 'privateKeyEngine']) {
    out[name] = server[name];
  }
  return out;
}

// server.setSecureContext(options): a new context, made as the constructor
// makes it, for the connections accepted from now on; those already
// accepted keep theirs. Bad options throw here, as createSecureContext's.
Server.prototype.setSecureContext = function setSecureContext(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw errors.invalidArgType('options', 'of type object', options);
  }
  this._sharedCreds = createSecureContext(deriveContextOptions(this, options));
};

// The server's SecureContext (Node's name); setting it serves new
// connections with another.
Object.defineProperty(Server.prototype, '_sharedCreds', {
  configurable: true,
  enumerable: false,
  get() { return this[kContext]; },
  set(context) {
    if (!isSecureContext(context)) {
      throw errors.nodeError(TypeError, 'ERR_TLS_INVALID_CONTEXT', 'context must be a SecureContext');
    }
    this[kContext] = context;
    if (this[kNative]) {
      try {
        this[kNative].setContext(context.context, this._tlsParams());
      } catch (err) {
        throw errors.fromNative(err);
      }
    }
  },
});

// The native TLS parameters of this server's connections.
Server.prototype._tlsParams = function _tlsParams() {
  return tlsParams({ ...this[kOptions], ...this[kServerOptions](), secureContext: this[kContext] }, require('..'));
};

// TLS settings for sockets this server wraps (lib/socket.js).
Server.prototype[kServerOptions] = function serverOptions() {
  const opts = this[kOptions];
  return {
    ALPNProtocols: this.ALPNProtocols,
    requestCert: this.requestCert,
    rejectUnauthorized: this.rejectUnauthorized,
    minVersion: opts.minVersion,
    secureProtocol: opts.secureProtocol,
    maxVersion: opts.maxVersion,
    ciphers: opts.ciphers,
    sigalgs: opts.sigalgs,
    honorCipherOrder: this.honorCipherOrder,
  };
};

// Events of a native listener, which may be closed already: handshakes that
// were under way when close() was called still deliver their connections.
Server.prototype._onNativeEvent = function _onNativeEvent(native, kind, info, data) {
  if (kind === EV.SECURE) {
    const conn = native && native.take(info.id);
    if (!conn) {
      this._maybeEmitClose();
      return;
    }
    const socket = acceptedSocket(this, conn, info, this[kContext]);
    this._connections++;
    socket.once('close', () => {
      this._connections--;
      this._maybeEmitClose();
    });
    socket.emit('secure');
    // The raw connection is not visible to JavaScript (Rust accepted it and
    // ran its handshake); 'connection' carries the TLS socket instead.
    this.emit('connection', socket);
    this.emit('secureConnection', socket);
    // After close(), this may have been the last handshake holding on.
    if (!this[kNative]) this._maybeEmitClose();
  } else if (kind === EV.CLIENT_ERROR) {
    // A failed SNICallback, resumeSession or OCSPRequest callback was
    // reported when the callback failed.
    const reported = ['ERR_TLS_SNI_CALLBACK', 'ERR_TLS_SESSION_CALLBACK', 'ERR_TLS_OCSP_CALLBACK', 'ERR_TLS_ALPN_CALLBACK'];
    if (!reported.includes(info.code)) {
      this._clientError(errors.tlsError(info), info);
    }
    this._maybeEmitClose();
  } else if (kind === EV.DROP) {
    // Refused for maxConnections; net's 'drop' says who it was.
    const family = (address) => (net.isIPv6(address) ? 'IPv6' : 'IPv4');
    this.emit('drop', {
      __proto__: null,
      localAddress: info.localAddress,
      localPort: info.localPort,
      localFamily: info.localAddress && family(info.localAddress),
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
      remoteFamily: info.remoteFamily,
    });
  } else if (kind === EV.SNI) {
    this._askSni(native, info);
  } else if (kind === EV.ALPN) {
    this._askAlpn(native, data, info);
  } else if (kind === EV.OCSP_REQUEST) {
    ocsp.onRequest(this, native, data, info);
  } else if (kind === EV.NEW_SESSION) {
    sessions.emitNewSession(this, native, info, data);
  } else if (kind === EV.RESUME_SESSION) {
    sessions.emitResumeSession(this, native, info, (err) => {
      native.answerSession(info.id, null, true);
      this._clientError(err, info);
    });
  }
};

// With captureRejections, an async 'secureConnection' listener that rejects
// destroys that socket with the error (as Node's tls.Server does); other
// events are net.Server's business.
Server.prototype[Symbol.for('nodejs.rejection')] = function onRejection(err, event, sock) {
  if (event === 'secureConnection') sock.destroy(err);
  else net.Server.prototype[Symbol.for('nodejs.rejection')].call(this, err, event, sock);
};

// Server.prototype.setOptions() (DEP0122): sets the options it names on the
// server; like the constructor's, they take effect at listen().
Server.prototype.setOptions = util.deprecate(function setOptions(options) {
  if (options.requestCert !== undefined) this.requestCert = options.requestCert === true;
  if (options.rejectUnauthorized !== undefined) this.rejectUnauthorized = options.rejectUnauthorized !== false;
  if (options.clientCertEngine !== undefined) this.clientCertEngine = options.clientCertEngine;
  Object.assign(this[kOptions], options);
}, 'Server.prototype.setOptions() is deprecated', 'DEP0122');

// 'tlsClientError' with a stand-in socket for a connection JS never had.
Server.prototype._clientError = function _clientError(err, info, servername) {
  const socket = new TLSSocket(null, { [kServerMade]: true });
  socket.server = socket._server = this;
  if (servername !== undefined) socket.servername = servername;
  socket._getpeername = () => ({
    address: info.remoteAddress, family: info.remoteFamily, port: info.remotePort,
  });
  // Node emits 'connection' for every TCP connection it accepts, before any
  // handshake; here a connection is announced with its handshake, so one
  // that never completes it is announced now, as it goes.
  this.emit('connection', socket);
  socket.destroy();
  this.emit('tlsClientError', err, socket);
};

// SNICallback(servername, cb): cb(err) drops the connection without an
// alert ('tlsClientError' with err), cb(null, secureContext) serves it with
// that context, cb(null, null) with the server's own; anything else is an
// invalid context, as in Node.
// As in Node, the callback runs with the server socket as `this`: here a
// stand-in for the connection JavaScript does not have yet, whose
// setKeyCert() chooses what `cb(null)` serves.
Server.prototype._askSni = function _askSni(native, info) {
  const servername = info.servername;
  const socket = new TLSSocket(null, { isServer: true });
  socket.server = socket._server = this;
  socket[kEndpoints] = info;
  let answered = false;
  const answer = (err, context) => {
    if (answered) return;
    answered = true;
    // setKeyCert() in the callback has its say (lib/keycert.js).
    if (!err && (context == null || isSecureContext(context))) context = sniContext(socket, context);
    socket.destroy();
    if (!err && context != null && !isSecureContext(context)) {
      err = new TypeError('Invalid SNI context');
    }
    if (err) {
      native.answerSni(info.id, null, true);
      this._clientError(err, info, servername);
      return;
    }
    native.answerSni(info.id, context ? context.context : null, false);
  };
  try {
    this[kOptions].SNICallback.call(socket, servername, answer);
  } catch (err) {
    answer(err);
  }
};

// ALPNCallback (lib/alpn.js): its choice is selected; `undefined` refuses
// the client with a no_application_protocol alert (ERR_SSL_NO_APPLICATION_
// PROTOCOL to 'tlsClientError'); a callback that throws or names a protocol
// the client did not offer drops the client without an alert, its error to
// 'tlsClientError': as Node 20.20 and 24 do.
// As in Node, the callback runs with the server socket as `this` (here a
// stand-in, as for SNICallback), whose setKeyCert() chooses the certificate
// served (an ACME TLS-ALPN-01 responder does).
Server.prototype._askAlpn = function _askAlpn(native, wire, info) {
  const socket = new TLSSocket(null, { isServer: true });
  socket.server = socket._server = this;
  socket[kEndpoints] = info;
  const { protocol, error } = alpn.choose(this.ALPNCallback, socket, wire, info.servername);
  const chosen = chosenContext(socket);
  socket.destroy();
  native.answerAlpn(info.id, error ? null : protocol, Boolean(error), error || !chosen ? null : chosen.context);
  if (error) this._clientError(error, info, info.servername);
};

// Holds the process open while listening and ref'd, as a listening handle
// does, and after close() until the handshakes under way have reported
// (their connections are the server's, as accepted sockets are in Node).
Server.prototype._setHold = function _setHold() {
  const want = this[kRefed] && (this[kNative] !== null || this[kClosed].length > 0);
  if (want && !this[kHolding]) native_.hold();
  else if (!want && this[kHolding]) native_.release();
  this[kHolding] = want;
};

Server.prototype._maybeEmitClose = function _maybeEmitClose() {
  this[kClosed] = this[kClosed].filter((n) => n.handshaking > 0);
  this._setHold();
  if (this[kClosing] && this._connections === 0 && this[kClosed].length === 0) {
    this[kClosing] = false;
    // No listener left and no handshake under way: no more events.
    if (!this[kNative] && this[kId]) {
      native_.unregister(this[kId]);
      this[kId] = 0;
    }
    process.nextTick(() => this.emit('close'));
  }
};

Server.prototype.address = function address() {
  const native = this[kNative];
  if (!native) return null;
  return this[kPath] !== null ? this[kPath] : native.address();
};

Server.prototype.close = function close(cb) {
  if (typeof cb === 'function') {
    if (!this[kNative]) {
      this.once('close', () => cb(errors.nodeError(Error, 'ERR_SERVER_NOT_RUNNING',
                                                     'Server is not running.')));
    } else {
      this.once('close', cb);
    }
  }
  if (this[kNative]) {
    this[kNative].close();
    this[kClosed].push(this[kNative]);
    this[kNative] = null;
    this._setHold();
  }
  this[kClosing] = true;
  this._maybeEmitClose();
  return this;
};

// As Node counts them: every connection accepted and not yet closed, those
// still in their handshake (which JavaScript has no socket for yet)
// included, on this listener and on those closed before.
Server.prototype.getConnections = function getConnections(cb) {
  let count = this._connections;
  for (const native of [this[kNative], ...this[kClosed]]) if (native) count += native.handshaking;
  process.nextTick(cb, null, count);
  return this;
};

Server.prototype.ref = function ref() {
  this[kRefed] = true;
  this._setHold();
  return this;
};

Server.prototype.unref = function unref() {
  this[kRefed] = false;
  this._setHold();
  return this;
};

// Clients whose SNI name matches `hostname` (`*` within one label) get the
// certificate of `context` (a SecureContext or its options); the last added
// match wins, as in Node.
Server.prototype.addContext = function addContext(hostname, context) {
  if (!hostname) {
    throw errors.nodeError(Error, 'ERR_TLS_REQUIRED_SERVER_NAME',
                           '"servername" is required parameter for Server.addContext');
  }
  if (typeof hostname !== 'string') throw errors.invalidArgType('servername', 'of type string', hostname);
  const secureContext = isSecureContext(context) ? context : createSecureContext(context || {});
  this[kSni].push([hostname, secureContext]);
  if (this[kNative]) this[kNative].addContext(hostname, secureContext.context);
  return this;
};

// The 48 bytes this server's session tickets are sealed with.
Server.prototype.getTicketKeys = function getTicketKeys() {
  return this[kContext].context.getTicketKeys();
};

// New ticket keys, in force at once: tickets sealed with the old ones no
// longer resume. Node's argument checks and errors.
Server.prototype.setTicketKeys = function setTicketKeys(keys) {
  if (!ArrayBuffer.isView(keys)) {
    throw errors.invalidArgType('buffer', 'an instance of Buffer, TypedArray, or DataView', keys);
  }
  if (keys.byteLength !== 48) {
    throw errors.nodeError(Error, 'ERR_INTERNAL_ASSERTION',
                           'Session ticket keys must be a 48-byte buffer\n' +
                           'This is caused by either a bug in Node.js or incorrect usage of Node.js internals.\n' +
                           'Please open an issue with this stack trace at https://github.com/nodejs/node/issues\n');
  }
  this[kContext].context.setTicketKeys(Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength));
};

function createServer(options, listener) {
  return new Server(options, listener);
}

module.exports = { Server, createServer };
