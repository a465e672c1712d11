'use strict';
// The client's way to a TLS connection: tls.connect()'s arguments and
// options as Node normalises them, the DNS lookup, and the native connect;
// new TLSSocket(null, options).connect() goes the same way (openTransport).

const pkg = require('./pkg');
const net = require('net');
const dns = require('dns');
const util = require('util');
const { binding } = require('./native');
const errors = require('./errors');
const { contextFor, tlsParams } = require('./context');
const sessions = require('./session');
const secrets = require('./secrets');
const { kConnectOptions, kContext, kAttach, kWrapStart } = require('./symbols');

// TLSSocket, taken when first needed: socket.js requires this file.
const socketModule = () => require('./socket');

const debug = util.debuglog('tls');

let warnedIpServername = false;
let warnedInsecure = false;

function rejectUnauthorizedDefault() {
  const insecure = process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0';
  if (insecure && !warnedInsecure) {
    warnedInsecure = true;
    process.emitWarning(
      "Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' " +
      'makes TLS connections and HTTPS requests insecure by disabling ' +
      'certificate verification.');
  }
  return !insecure;
}

function isPipeName(s) {
  return typeof s === 'string' && Number.isNaN(Number(s));
}

// connect(options[, cb]), connect(port[, host][, options][, cb]),
// connect(path[, options][, cb]) -> [options, cb]
// As Node: an options object second (or else third) is merged over what the
// first arguments said, so its port and host win.
function normalizeConnectArgs(args) {
  let options = {};
  const cb = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    options = { ...first };
  } else if (isPipeName(first)) {
    options.path = first;
  } else {
    options.port = first;
    if (typeof args[1] === 'string') options.host = args[1];
  }
  const isObject = (a) => a !== null && typeof a === 'object';
  if (isObject(args[1])) Object.assign(options, args[1]);
  else if (isObject(args[2])) Object.assign(options, args[2]);
  return [options, cb];
}

const kAssertsIdentityCheck = Number(process.versions.node.split('.')[0]) < 21;

function validatePort(port) {
  const n = typeof port === 'string' && port.trim() !== '' ? Number(port) : port;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw errors.nodeError(RangeError, 'ERR_SOCKET_BAD_PORT',
                           `Port should be >= 0 and < 65536.${errors.describeReceived(port)}.`);
  }
  return n;
}

// Where to connect, checked as net.Socket#connect() checks it, in its
// order: a port or a path must be given; a path is a string; then the local
// address, local port, port, happy-eyeballs options and (for a host name)
// the lookup function. Returns the port to use (a path of '' connects by
// port, 0 when none is given, as net does).
function validateTarget(options) {
  if (options.port === undefined && options.path == null) {
    throw errors.nodeError(TypeError, 'ERR_MISSING_ARGS',
                           'The "options" or "port" or "path" argument must be specified');
  }
  if (options.path) {
    if (typeof options.path !== 'string') {
      throw errors.invalidArgType('options.path', 'of type string', options.path);
    }
    return options.port;
  }
  const { localAddress, localPort, port } = options;
  if (localAddress && !net.isIP(localAddress)) {
    throw errors.nodeError(TypeError, 'ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${localAddress}`);
  }
  if (localPort && typeof localPort !== 'number') {
    throw errors.invalidArgType('options.localPort', 'of type number', localPort);
  }
  if (port !== undefined && typeof port !== 'number' && typeof port !== 'string') {
    throw errors.invalidArgType('options.port', 'one of type number or string', port);
  }
  const checked = port === undefined ? 0 : validatePort(port);
  if (options.autoSelectFamily != null && typeof options.autoSelectFamily !== 'boolean') {
    throw errors.invalidArgType('options.autoSelectFamily', 'of type boolean', options.autoSelectFamily);
  }
  const attempt = options.autoSelectFamilyAttemptTimeout;
  if (attempt != null) {
    if (typeof attempt !== 'number') {
      throw errors.invalidArgType('options.autoSelectFamilyAttemptTimeout', 'of type number', attempt);
    }
    if (!Number.isInteger(attempt)) {
      throw errors.outOfRange('options.autoSelectFamilyAttemptTimeout', 'an integer', attempt);
    }
    if (attempt < 1 || attempt > 2 ** 31 - 1) {
      throw errors.outOfRange('options.autoSelectFamilyAttemptTimeout', `>= 1 && <= ${2 ** 31 - 1}`, attempt);
    }
  }
  if (!net.isIP(options.host || 'localhost') && options.lookup != null &&
      typeof options.lookup !== 'function') {
    throw errors.invalidArgType('options.lookup', 'of type function', options.lookup);
  }
  return checked;
}

// minDHSize is checked as Node checks it, though it limits nothing here
// (rustls has no finite-field DHE): Node 20 asserts it is a positive number
// (an internal assertion); Node 21 and later validate it.
function checkMinDHSize(value) {
  if (typeof value === 'number' && value >= 1) return;
  if (kAssertsIdentityCheck) {
    const what = typeof value === 'number' ? 'is not a positive number' : 'is not a number';
    throw errors.withCode(Error, 'ERR_INTERNAL_ASSERTION',
                          `options.minDHSize ${what}: ${String(value)}\n` +
                          'This is caused by either a bug in Node.js or incorrect usage of Node.js internals.\n' +
                          'Please open an issue with this stack trace at https://github.com/nodejs/node/issues\n');
  }
  if (typeof value !== 'number') throw errors.invalidArgType('options.minDHSize', 'of type number', value);
  throw errors.outOfRange('options.minDHSize', '>= 1', value);
}

function connect(...args) {
  const tls = pkg();
  const [userOptions, cb] = normalizeConnectArgs(args);
  const options = {
    rejectUnauthorized: rejectUnauthorizedDefault(),
    ciphers: tls.DEFAULT_CIPHERS,
    checkServerIdentity: tls.checkServerIdentity,
    minDHSize: 1024,
    ...userOptions,
  };
  // Only an explicit false turns verification off (`undefined` given as a
  // value does not), as in Node.
  options.rejectUnauthorized = options.rejectUnauthorized !== false;
  if (typeof options.checkServerIdentity !== 'function') {
    // Node 20 asserted it (an internal assertion); Node 21 and later validate it.
    if (kAssertsIdentityCheck) {
      throw errors.withCode(Error, 'ERR_INTERNAL_ASSERTION',
                            'This is caused by either a bug in Node.js or incorrect usage of Node.js internals.\n' +
                            'Please open an issue with this stack trace at https://github.com/nodejs/node/issues\n');
    }
    throw errors.invalidArgType('options.checkServerIdentity', 'of type function',
                                options.checkServerIdentity);
  }
  checkMinDHSize(options.minDHSize);
  if (options.servername !== undefined && typeof options.servername !== 'string') {
    // Node's setServername(name) is what refuses it.
    throw errors.invalidArgType('name', 'of type string', options.servername);
  }
  if (options.servername && net.isIP(options.servername) && !warnedIpServername) {
    warnedIpServername = true;
    process.emitWarning(
      'Setting the TLS ServerName to an IP address is not permitted by ' +
      'RFC 6066. This will be ignored in a future version.',
      'DeprecationWarning', 'DEP0123');
  }
  const params = tlsParams(options, tls);
  // As in Node, the context comes from the module's createSecureContext (a
  // program may replace it), before the port is looked at.
  const context = options.secureContext ? contextFor(options) :
    contextFor({ secureContext: tls.createSecureContext(options) });
  // As in Node, only a non-empty path means a Unix socket: https.Agent hands
  // over `path: null` for TCP.
  if (!options.socket) options.port = validateTarget(options);

  const host = options.host || 'localhost';
  // Node sends the SNI extension only when told a servername: `host` alone
  // names no server (https.Agent and undici pass servername themselves).
  const sni = options.servername || '';
  options.sni = sni;
  const socket = new (socketModule().TLSSocket)(options.socket || null, {
    ...options,
    isServer: false,
    secureContext: context,
    [kConnectOptions]: options,
  });
  socket[kConnectOptions] = options;
  socket[kContext] = context;
  if (params.session) sessions.setGivenSession(socket, params.session);
  socket._releaseControl();
  // Over a stream the application gave, connecting is that stream's (a
  // net.Socket still connecting, or one without a handle yet); a plain
  // Duplex is not connecting at all.
  const given = options.socket;
  socket.connecting = !given ? true :
    given instanceof net.Socket ? Boolean(given.connecting || !given._handle) : false;
  if (cb) socket.once('secureConnect', cb);
  if (options.timeout) socket.setTimeout(options.timeout);
  if (options.noDelay) socket.setNoDelay(true);
  if (options.keepAlive) socket.setKeepAlive(true, options.keepAliveInitialDelay);
  if (options.socket) {
    process.nextTick(() => socket[kWrapStart]());
  } else {
    openTransport(socket, options, params, context, host, sni);
  }
  return socket;
}

// Opens the TCP (or Unix) connection of a client socket and its native TLS
// connection: after a DNS lookup unless `host` is an address.
function openTransport(socket, options, params, context, host, sni) {
  const start = (target) => {
    if (socket.destroyed) return;
    // setSession() may have been called since connect().
    params.session = options.session === undefined ? params.session : sessions.sessionParam(options.session);
    try {
      const p = { ...params, keylog: secrets.socketWants(socket), requestOcsp: Boolean(options.requestOCSP) };
      socket[kAttach]((hub, id) => binding.CryptoStream.connect(hub, id, context.context, p, target));
    } catch (err) {
      socket.destroy(errors.fromNative(err));
    }
  };

  if (options.path) {
    process.nextTick(start, { path: String(options.path), servername: sni });
  } else if (net.isIP(host)) {
    options.where = { address: host, port: options.port };
    process.nextTick(start, { addresses: [host], port: options.port, servername: sni });
  } else {
    const lookup = options.lookup || dns.lookup;
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const dnsOptions = { family, hints: options.hints || 0, all: true };
    debug('lookup', host, dnsOptions);
    lookup(host, dnsOptions, (err, addresses, fam) => {
      if (err) {
        socket.destroy(err);
        return;
      }
      const list = Array.isArray(addresses) ?
        addresses.map((a) => a.address) :
        [addresses].filter((a) => typeof a === 'string' && (fam === undefined || net.isIP(a)));
      if (list.length === 0) {
        socket.destroy(errors.withCode(Error, 'ENOTFOUND', `getaddrinfo ENOTFOUND ${host}`));
        return;
      }
      options.where = { address: list[list.length - 1], port: options.port };
      start({ addresses: list, port: options.port, servername: sni });
    });
  }
}

module.exports = { connect, openTransport, validatePort, validateTarget };
