'use strict';
// rustls-tls/https: node:https's API over this package's TLS.
//
// Server: an http.Server that is not bound to a port itself; a tls.Server of
// this package listens instead, finishes each handshake on a TLS thread and
// hands the secured socket to the http.Server as its 'connection', which is
// how http.Server accepts any socket-like stream. Listening, closing and the
// TLS surface (addContext, ticket keys, connection counts) go to the TLS
// server; everything HTTP (timeouts, keep-alive, closeIdleConnections) is
// http.Server's own.
//
// Client: an http.Agent whose connections are this package's tls.connect(),
// keyed by the TLS options as node:https keys them, so that sockets are
// reused only by requests that would have made the same connection.

const crypto = require('crypto');
const http = require('http');
const url = require('url');
const errors = require('./errors');
const tls = require('..');

const kTls = Symbol('kTls');

// http.Server options and listener go to http.Server; TLS options to the TLS
// server, with HTTP/1.1 offered by ALPN as node:https offers it.
const kForwarded = ['keylog', 'newSession', 'resumeSession', 'OCSPRequest'];

class Server extends http.Server {
  constructor(options, requestListener) {
    if (typeof options === 'function') {
      requestListener = options;
      options = {};
    } else if (options == null) {
      options = {};
    } else if (typeof options !== 'object') {
      throw errors.invalidArgType('options', 'of type object', options);
    }
    super(options, requestListener);
    const tlsOptions = { ...options };
    if (!tlsOptions.ALPNProtocols && !tlsOptions.ALPNCallback) tlsOptions.ALPNProtocols = ['http/1.1'];
    // Node's https.Server does not half-close: a client's end() ends the reply.
    tlsOptions.allowHalfOpen = false;
    const inner = tls.createServer(tlsOptions);
    this[kTls] = inner;
    this.timeout = 0;
    inner.on('secureConnection', (socket) => {
      // What net.Server does to each socket it accepts (http.Server asks
      // for noDelay by default); these sockets were accepted natively.
      if (this.noDelay) socket.setNoDelay(true);
      if (this.keepAlive) socket.setKeepAlive(true, this.keepAliveInitialDelay * 1000);
      this.emit('connection', socket);
      this.emit('secureConnection', socket);
    });
    inner.on('tlsClientError', (err, socket) => {
      if (this.listenerCount('tlsClientError') > 0) this.emit('tlsClientError', err, socket);
    });
    inner.on('listening', () => this.emit('listening'));
    inner.on('error', (err) => this.emit('error', err));
    // http.Server's own close() stops its timers and emits 'close' on this
    // object (it holds no handle, so at once) when the TLS server has closed.
    inner.on('close', () => http.Server.prototype.close.call(this));
    // Events whose mere presence changes the handshake (the server waits
    // for 'newSession' / 'resumeSession' callbacks; 'keylog' costs work) are
    // forwarded only once the application listens for them, as a tls.Server
    // of its own would see them.
    const forwarded = new Set();
    this.on('newListener', (event) => {
      if (!kForwarded.includes(event) || forwarded.has(event)) return;
      forwarded.add(event);
      inner.on(event, (...args) => this.emit(event, ...args));
    });
  }

  listen(...args) {
    this[kTls].listen(...args);
    return this;
  }

  close(cb) {
    if (typeof cb === 'function') {
      if (!this.listening) {
        this.once('close', () => cb(errors.nodeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      } else {
        this.once('close', cb);
      }
    }
    this.closeIdleConnections();
    this[kTls].close();
    return this;
  }

  address() {
    return this[kTls].address();
  }

  getConnections(cb) {
    this[kTls].getConnections(cb);
    return this;
  }

  ref() {
    this[kTls].ref();
    return this;
  }

  unref() {
    this[kTls].unref();
    return this;
  }

  get listening() {
    return this[kTls].listening;
  }

  get maxConnections() {
    return this[kTls].maxConnections;
  }

  set maxConnections(value) {
    // http.Server's constructor sets this before the TLS server exists.
    if (this[kTls]) this[kTls].maxConnections = value;
  }

  addContext(hostname, context) {
    this[kTls].addContext(hostname, context);
    return this;
  }

  setTicketKeys(keys) {
    this[kTls].setTicketKeys(keys);
  }

  getTicketKeys() {
    return typeof this[kTls].getTicketKeys === 'function' ? this[kTls].getTicketKeys() : undefined;
  }

  setSecureContext(options) {
    if (typeof this[kTls].setSecureContext !== 'function') {
      throw errors.nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The setSecureContext() method is not implemented');
    }
    this[kTls].setSecureContext(options);
  }

  /** The TLS server this HTTPS server listens with (this package's tls.Server). */
  get tlsServer() {
    return this[kTls];
  }
}

function createServer(options, requestListener) {
  return new Server(options, requestListener);
}

// The TLS options that make two connections different (node:https's list,
// Node 24's additions included): a pooled socket is only handed to a request
// that would have made the same connection.
const kNameOptions = [
  'ca', 'cert', 'clientCertEngine', 'ciphers', 'key', 'pfx', 'passphrase', 'rejectUnauthorized',
  'servername', 'minVersion', 'maxVersion', 'secureProtocol', 'crl', 'honorCipherOrder',
  'ecdhCurve', 'dhparam', 'secureOptions', 'sessionIdContext', 'sigalgs',
  'privateKeyIdentifier', 'privateKeyEngine', 'secureContext', 'allowPartialTrustChain',
  'ALPNProtocols', 'certificateCompression', 'minDHSize', 'pskCallback', 'requestOCSP',
  'checkServerIdentity',
];

// Strings and numbers stand for themselves; bytes by their digest; any other
// object (a SecureContext, a function) by its identity.
// A digest is kept per Buffer with a copy of the bytes it was taken of: an
// agent names every request (getName), and comparing ~1 KiB costs far less
// than hashing it again; a Buffer changed since is hashed anew.
const objectIds = new WeakMap();
const digests = new WeakMap();
let nextObjectId = 1;
function optionKey(value) {
  if (typeof value !== 'object' && typeof value !== 'function') return String(value);
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const known = digests.get(value);
    if (known && Buffer.compare(known.bytes, bytes) === 0) return known.digest;
    const digest = crypto.createHash('sha256').update(bytes).digest('base64');
    digests.set(value, { bytes: Buffer.from(bytes), digest });
    return digest;
  }
  if (Array.isArray(value)) return `[${value.map(optionKey).join(',')}]`;
  if (!objectIds.has(value)) objectIds.set(value, nextObjectId++);
  return `#${objectIds.get(value)}`;
}

class Agent extends http.Agent {
  constructor(options) {
    super(options);
    this.defaultPort = 443;
    this.protocol = 'https:';
    this.maxCachedSessions = this.options.maxCachedSessions;
    if (this.maxCachedSessions === undefined) this.maxCachedSessions = 100;
    this._sessionCache = { map: {}, list: [] };
  }

  // createConnection(options[, cb]) as http.Agent calls it, or the older
  // createConnection(port[, host][, options]).
  createConnection(port, host, options) {
    if (port !== null && typeof port === 'object') {
      options = port;
    } else if (host !== null && typeof host === 'object') {
      options = { ...host };
    } else if (options === null || typeof options !== 'object') {
      options = {};
    } else {
      options = { ...options };
    }
    if (typeof port === 'number') options.port = port;
    if (typeof host === 'string') options.host = host;
    if (options._agentKey) {
      const session = this._getSession(options._agentKey);
      if (session) options = { session, ...options };
    }
    const socket = tls.connect(options);
    if (options._agentKey) {
      socket.on('session', (session) => this._cacheSession(options._agentKey, session));
      socket.once('close', (hadError) => {
        if (hadError) this._evictSession(options._agentKey);
      });
    }
    return socket;
  }

  getName(options = {}) {
    let name = super.getName(options);
    for (const key of kNameOptions) {
      name += ':';
      const value = options[key];
      if (key === 'servername' && value === options.host) continue;
      if (value !== undefined && value !== null && value !== '') name += optionKey(value);
    }
    return name;
  }

  _getSession(key) {
    return this._sessionCache.map[key];
  }

  _cacheSession(key, session) {
    if (this.maxCachedSessions === 0) return;
    const cache = this._sessionCache;
    if (cache.map[key]) {
      cache.map[key] = session;
      return;
    }
    if (cache.list.length >= this.maxCachedSessions) {
      delete cache.map[cache.list.shift()];
    }
    cache.list.push(key);
    cache.map[key] = session;
  }

  _evictSession(key) {
    const cache = this._sessionCache;
    const at = cache.list.indexOf(key);
    if (at === -1) return;
    cache.list.splice(at, 1);
    delete cache.map[key];
  }
}

const globalAgent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });

// request(url[, options][, cb]), request(options[, cb]), as node:https.
function request(...args) {
  let options = {};
  if (typeof args[0] === 'string') {
    options = url.urlToHttpOptions(new URL(args.shift()));
  } else if (args[0] instanceof URL) {
    options = url.urlToHttpOptions(args.shift());
  }
  if (args[0] && typeof args[0] !== 'function') Object.assign(options, args.shift());
  options._defaultAgent = module.exports.globalAgent;
  return new http.ClientRequest(options, ...args);
}

function get(...args) {
  const req = request(...args);
  req.end();
  return req;
}

module.exports = { Agent, globalAgent, Server, createServer, request, get };
