'use strict';
// tls.createSecureContext(): validates options the way Node does (throwing
// synchronously with Node's codes), normalises keys and certificates to PEM
// buffers, and hands them to Rust once. One context serves many connections.

const crypto = require('crypto');
const { binding } = require('./native');
const util = require('util');
const errors = require('./errors');
const { parseBundles } = require('./cert');
const { sessionParam } = require('./session');
// Loaded first: it tells the addon which stores the default trust holds.
require('./ca');

const kNative = Symbol('kNative');
// The certificate chains given, for getCertificate().
const kCerts = Symbol('kCerts');
// The trusted `ca` certificates, parsed lazily, to complete peer chains.
const kTrusted = Symbol('kTrusted');
const kCa = Symbol('kCa');
// Whether a key and a certificate were given (for setKeyCert()).
const kKeyCert = Symbol('kKeyCert');
// The TLS settings the context carries (versions, ciphers, sigalgs, groups,
// server cipher order), resolved when it is made, as Node resolves them.
const kTls = Symbol('kTls');

function pkgDefaults() {
  return require('..');
}

function isBytes(v) {
  return typeof v === 'string' || ArrayBuffer.isView(v);
}

function toBuffer(v) {
  if (typeof v === 'string') return Buffer.from(v);
  if (Buffer.isBuffer(v)) return v;
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

const kBytesExpected =
  'of type string or an instance of Buffer, TypedArray, or DataView';

// Node's rule for key/cert/ca/pfx: a string or buffer, or an array of them;
// falsy means "not given".
function validateBytesOption(value, name) {
  if (!value) return undefined;
  const list = Array.isArray(value) ? value : [value];
  for (const item of list) {
    if (!isBytes(item)) {
      throw errors.invalidArgType(`options.${name}`, kBytesExpected, item);
    }
  }
  return list.map(toBuffer);
}

function validateKeys(value, passphrase) {
  if (!value) return undefined;
  const inArray = Array.isArray(value);
  const list = inArray ? value : [value];
  return list.map((item) => {
    if (isBytes(item)) return decryptKey(toBuffer(item), passphrase);
    // `{ pem, passphrase }` is accepted inside an array only, as in Node.
    if (inArray && item && typeof item === 'object' && isBytes(item.pem)) {
      const pass = item.passphrase !== undefined ? item.passphrase : passphrase;
      return decryptKey(toBuffer(item.pem), pass);
    }
    // Node names the `pem` of an object in the array when it is not bytes.
    const shown = inArray && item && typeof item === 'object' && item.pem !== undefined ? item.pem : item;
    throw errors.invalidArgType('options.key', kBytesExpected, shown);
  });
}

// pfx: one or more PKCS#12 archives, each a string/buffer or, inside an
// array, `{ buf, passphrase }`.
function validatePfx(value, passphrase) {
  if (!value) return undefined;
  const inArray = Array.isArray(value);
  const list = inArray ? value : [value];
  return list.map((item) => {
    let buf = item;
    let pass = passphrase;
    if (inArray && item && typeof item === 'object' && !ArrayBuffer.isView(item)) {
      buf = item.buf;
      if (item.passphrase !== undefined) pass = item.passphrase;
    }
    if (!isBytes(buf)) throw errors.invalidArgType('options.pfx', kBytesExpected, buf);
    return { buf: toBuffer(buf), passphrase: pass === undefined ? '' : String(pass) };
  });
}

// Encrypted PEM keys (PKCS#8 `ENCRYPTED PRIVATE KEY`, or legacy
// `Proc-Type: 4,ENCRYPTED`) are decrypted with Node's crypto and handed to
// Rust as unencrypted PKCS#8.
function decryptKey(pem, passphrase) {
  const text = pem.toString('latin1');
  if (!text.includes('ENCRYPTED')) return pem;
  try {
    const key = crypto.createPrivateKey({
      key: pem, format: 'pem', passphrase: passphrase === undefined ? '' : passphrase,
    });
    return Buffer.from(key.export({ type: 'pkcs8', format: 'pem' }));
  } catch (cause) {
    const err = new Error(
      'error:1C800064:Provider routines::bad decrypt (wrong or missing passphrase for an encrypted key)');
    err.code = 'ERR_OSSL_BAD_DECRYPT';
    err.library = 'Provider routines';
    err.reason = 'bad decrypt';
    err.cause = cause;
    throw err;
  }
}

const kVersions = {
  'TLSv1': 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304,
};

function versionNumber(value, which) {
  const n = kVersions[value];
  if (n === undefined) {
    throw errors.nodeError(TypeError, 'ERR_TLS_INVALID_PROTOCOL_VERSION',
                           `${util.format('%j', value)} is not a valid ${which} TLS protocol version`);
  }
  return n;
}

// secureProtocol names (OpenSSL's methods) as version ranges.
const kMethods = {
  TLS_method: null,
  SSLv23_method: null,
  TLSv1_method: 'TLSv1',
  TLSv1_1_method: 'TLSv1.1',
  TLSv1_2_method: 'TLSv1.2',
};

function methodRange(options) {
  const method = options.secureProtocol;
  if (typeof method !== 'string') return null;
  for (const name of ['minVersion', 'maxVersion']) {
    if (options[name]) {
      throw errors.nodeError(TypeError, 'ERR_TLS_PROTOCOL_VERSION_CONFLICT',
                             `TLS protocol version ${JSON.stringify(options[name])} conflicts with secureProtocol ${JSON.stringify(method)}`);
    }
  }
  const base = method.replace(/_(server|client)_method$/, '_method');
  // Node names the SSL methods it refuses (there is no TLSv1_3_method).
  if (base === 'SSLv2_method' || base === 'SSLv3_method') {
    throw errors.nodeError(TypeError, 'ERR_TLS_INVALID_PROTOCOL_METHOD', `${base.slice(0, 5)} methods disabled`);
  }
  const version = kMethods[base];
  if (version === undefined) {
    throw errors.nodeError(TypeError, 'ERR_TLS_INVALID_PROTOCOL_METHOD', `Unknown method: ${method}`);
  }
  return version === null ? null : { minVersion: version, maxVersion: version };
}

// minVersion/maxVersion as wire numbers. rustls speaks TLS 1.2 and 1.3
// only, so a minimum below 1.2 is raised to 1.2.
function protocolRange(options, defaults) {
  const method = methodRange(options);
  if (method) options = { ...options, ...method };
  const min = versionNumber(options.minVersion || defaults.DEFAULT_MIN_VERSION, 'minimum');
  const max = versionNumber(options.maxVersion || defaults.DEFAULT_MAX_VERSION, 'maximum');
  // A range with nothing rustls speaks is kept as it is: its handshakes
  // fail as OpenSSL fails them (ERR_SSL_NO_PROTOCOLS_AVAILABLE).
  return { minVersion: Math.max(min, 0x0303), maxVersion: max };
}

// ALPNProtocols: an array of strings/buffers, or one buffer in wire format
// (length-prefixed names), as Node accepts.
function alpnList(value, ignoreOther = false) {
  if (value == null) return undefined;
  if (Array.isArray(value)) {
    return value.map((p) => {
      if (!isBytes(p)) throw errors.invalidArgType('options.ALPNProtocols', kBytesExpected, p);
      const b = toBuffer(p);
      if (b.length === 0 || b.length > 255) {
        throw errors.outOfRange('The byte length of the protocol', '<= 255', b.length);
      }
      return b;
    });
  }
  if (ArrayBuffer.isView(value)) {
    const wire = toBuffer(value);
    const out = [];
    for (let i = 0; i < wire.length;) {
      const len = wire[i];
      out.push(wire.subarray(i + 1, i + 1 + len));
      i += 1 + len;
    }
    return out;
  }
  // Node's server ignores any other value; its client hands a truthy one
  // to the native setter, which throws a plain TypeError.
  if (!value || ignoreOther) return undefined;
  throw new TypeError('Must give a Buffer as first argument');
}

function validateString(options, name) {
  const v = options[name];
  if (v !== undefined && v !== null && typeof v !== 'string') {
    throw errors.invalidArgType(`options.${name}`, 'of type string', v);
  }
}

function validateNumber(options, name) {
  const v = options[name];
  if (v !== undefined && v !== null && typeof v !== 'number') {
    throw errors.invalidArgType(`options.${name}`, 'of type number', v);
  }
}

// The type checks Node makes in createSecureContext, with its codes.
function validateContextOptions(options) {
  for (const name of ['ciphers', 'passphrase', 'sigalgs', 'privateKeyIdentifier',
    'privateKeyEngine', 'clientCertEngine', 'sessionIdContext']) {
    validateString(options, name);
  }
  // Only an absent ecdhCurve means the default; null is refused (as Node).
  if (options.ecdhCurve !== undefined && typeof options.ecdhCurve !== 'string') {
    throw errors.invalidArgType('options.ecdhCurve', 'of type string', options.ecdhCurve);
  }
  // Never used (rustls has no finite-field DHE), but checked as Node does.
  if (options.dhparam != null && !isBytes(options.dhparam)) {
    throw errors.invalidArgType('options.dhparam', kBytesExpected, options.dhparam);
  }
  validateNumber(options, 'sessionTimeout');
  const timeout = options.sessionTimeout;
  if (timeout != null && !(timeout >= 0 && timeout <= 2 ** 31 - 1)) {
    throw errors.outOfRange('options.sessionTimeout', '>= 0 && <= 2147483647', timeout);
  }
  if (options.ticketKeys != null) validateTicketKeys(options.ticketKeys);
  // OpenSSL engines (keys and client certificates held by an engine) do
  // not exist in rustls: Node's error for an OpenSSL built without them.
  // OpenSSL engines: rustls has none, so no engine can be used here. node:tls
  // answers for the running Node with its own error (the engine not found
  // by OpenSSL, engines missing from the build, privateKeyIdentifier
  // without privateKeyEngine); one it could load is refused all the same,
  // as by a Node built without engines. privateKeyEngine alone is unused
  // (and ignored) in Node too.
  if (options.clientCertEngine != null || options.privateKeyIdentifier != null) {
    require('node:tls').createSecureContext({
      clientCertEngine: options.clientCertEngine,
      privateKeyEngine: options.privateKeyEngine,
      privateKeyIdentifier: options.privateKeyIdentifier,
    });
    throw errors.nodeError(Error, 'ERR_CRYPTO_CUSTOM_ENGINE_NOT_SUPPORTED',
                           'Custom engines not supported by this OpenSSL');
  }
  for (const name of ['minVersion', 'maxVersion']) {
    const v = options[name];
    if (v !== undefined && v !== null && kVersions[v] === undefined) {
      versionNumber(v, name === 'minVersion' ? 'minimum' : 'maximum');
    }
  }
}

function validateTicketKeys(keys) {
  if (!ArrayBuffer.isView(keys)) {
    throw errors.invalidArgType('options.ticketKeys',
                                'an instance of Buffer, TypedArray, or DataView', keys);
  }
  if (keys.byteLength !== 48) {
    throw errors.nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
                           `The property 'options.ticketKeys' must be exactly 48 bytes. Received ${keys.byteLength}`);
  }
}

// tls.convertALPNProtocols(protocols, out): the wire form (length-prefixed
// names) in `out.ALPNProtocols`, always a fresh copy.
function convertALPNProtocols(protocols, out) {
  if (Array.isArray(protocols)) {
    const parts = protocols.map((p, i) => {
      const b = Buffer.from(String(p));
      if (b.length > 255) {
        throw errors.nodeError(RangeError, 'ERR_OUT_OF_RANGE',
                               `The byte length of the protocol at index ${i} exceeds the maximum length. It must be <= 255. Received ${b.length}`);
      }
      return Buffer.concat([Buffer.from([b.length]), b]);
    });
    out.ALPNProtocols = Buffer.concat(parts);
  } else if (ArrayBuffer.isView(protocols)) {
    out.ALPNProtocols = Buffer.from(
      Buffer.from(protocols.buffer, protocols.byteOffset, protocols.byteLength));
  }
}

// The per-connection TLS parameters the native side takes, from Node-style
// options (`defaults` holds DEFAULT_MIN_VERSION / DEFAULT_MAX_VERSION). What
// a SecureContext carries comes from the context given as
// `options.secureContext`, as in Node, where those options live in the
// context and a connection's own are not consulted.
function tlsParams(options, defaults) {
  const ctx = options.secureContext;
  const own = ctx && ctx[kTls];
  const source = own || options;
  const range = own ? own.range : protocolRange(options, defaults);
  return {
    alpn: alpnList(options.ALPNProtocols),
    minVersion: range.minVersion,
    maxVersion: range.maxVersion,
    requestCert: Boolean(options.requestCert),
    rejectUnauthorized: options.rejectUnauthorized !== false,
    requireClientCert: options.requireClientCert,
    // A server passes its own (true unless told otherwise, as in Node);
    // otherwise the context's.
    honorCipherOrder: typeof options.honorCipherOrder === 'boolean' ?
      options.honorCipherOrder : Boolean(source.honorCipherOrder),
    ciphers: typeof source.ciphers === 'string' && source.ciphers ? source.ciphers : defaults.DEFAULT_CIPHERS,
    sigalgs: typeof source.sigalgs === 'string' ? source.sigalgs : undefined,
    ecdhCurve: typeof source.ecdhCurve === 'string' ? source.ecdhCurve :
      (defaults.DEFAULT_ECDH_CURVE || 'auto'),
    session: sessionParam(options.session),
  };
}

// Node's checks of ciphers, sigalgs and ecdhCurve (lib/internal/tls/
// secure-context.js), then OpenSSL's (through the addon): what the context
// will carry.
function contextTls(options) {
  const defaults = pkgDefaults();
  const ciphers = options.ciphers || defaults.DEFAULT_CIPHERS;
  const parts = String(ciphers).split(':').filter((c) => c.length > 0);
  if (parts.length === 0) {
    throw errors.invalidArgValue('options.ciphers', String(ciphers).split(':'));
  }
  if (options.sigalgs === '') throw errors.invalidArgValue('options.sigalgs', '');
  const ecdhCurve = options.ecdhCurve === undefined ? (defaults.DEFAULT_ECDH_CURVE || 'auto') : options.ecdhCurve;
  if (typeof ecdhCurve !== 'string') {
    throw errors.invalidArgType('options.ecdhCurve', 'of type string', ecdhCurve);
  }
  try {
    binding.checkTlsOptions(ciphers, ecdhCurve, typeof options.sigalgs === 'string' ? options.sigalgs : undefined);
  } catch (err) {
    throw errors.fromNative(err);
  }
  return {
    range: protocolRange(options, defaults),
    ciphers,
    sigalgs: typeof options.sigalgs === 'string' ? options.sigalgs : undefined,
    ecdhCurve,
    honorCipherOrder: Boolean(options.honorCipherOrder),
  };
}

// OpenSSL's security level, which sets the smallest RSA key a context takes:
// `@SECLEVEL=n` in `ciphers` when given (OpenSSL's syntax), else the running
// Node's default: level 2 (2048-bit RSA) with OpenSSL 3.5 and later, as in
// Node 24; level 1 (1024-bit) with OpenSSL 3.0, as in Node 20 and 22.
const [sslMajor, sslMinor] = String(process.versions.openssl || '3.5').split('.').map(Number);
const kDefaultSecurityLevel = sslMajor > 3 || (sslMajor === 3 && sslMinor >= 5) ? 2 : 1;

function securityLevel(ciphers) {
  const m = typeof ciphers === 'string' ? /@SECLEVEL=(\d)/.exec(ciphers) : null;
  return m ? Number(m[1]) : kDefaultSecurityLevel;
}

// Node's default sessionIdContext: from the command line, so that the
// servers of one program (and its cluster workers) share it.
let defaultIdContext = null;
function sessionIdContext(options) {
  if (typeof options.sessionIdContext === 'string') {
    const given = Buffer.from(options.sessionIdContext);
    if (given.length > 32) {
      // Node throws OpenSSL's error, a TypeError without a code; ours has
      // one, named as Node names OpenSSL's reasons.
      const err = errors.nodeError(TypeError, 'ERR_SSL_SSL_SESSION_ID_CONTEXT_TOO_LONG',
                                   'error:0A000111:SSL routines:SSL_CTX_set_session_id_context:ssl session id context too long');
      err.reason = 'ssl session id context too long';
      throw err;
    }
    return given;
  }
  if (defaultIdContext === null) {
    defaultIdContext = Buffer.from(
      crypto.createHash('sha1').update(process.argv.join(' ')).digest('hex').slice(0, 32));
  }
  return defaultIdContext;
}

class SecureContext {
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw errors.invalidArgType('options', 'of type object', options);
    }
    validateContextOptions(options);
    // Node checks ca, then cert, then key.
    const ca = validateBytesOption(options.ca, 'ca');
    const cert = validateBytesOption(options.cert, 'cert');
    const key = validateKeys(options.key, options.passphrase);
    const pfx = validatePfx(options.pfx, options.passphrase);
    const crl = validateBytesOption(options.crl, 'crl');
    const tlsSettings = contextTls(options);
    try {
      this[kNative] = new binding.NativeContext({
        cert, key, ca, pfx, crl, securityLevel: securityLevel(options.ciphers),
        ticketKeys: options.ticketKeys == null ? undefined :
          Buffer.from(options.ticketKeys.buffer, options.ticketKeys.byteOffset, options.ticketKeys.byteLength),
        sessionTimeout: options.sessionTimeout == null ? undefined : Math.floor(options.sessionTimeout),
        sessionIdContext: sessionIdContext(options),
        noTicket: ((options.secureOptions || 0) & crypto.constants.SSL_OP_NO_TICKET) !== 0,
        allowPartialTrustChain: Boolean(options.allowPartialTrustChain),
      });
    } catch (err) {
      throw errors.fromNative(err);
    }
    // Node exposes the OpenSSL handle as `.context`; ours is the parsed
    // native context.
    this.context = this[kNative];
    nativeContexts.add(this[kNative]);
    this[kCerts] = cert || [];
    this[kCa] = ca;
    this[kTls] = tlsSettings;
    this[kKeyCert] = { key: Boolean(key || pfx), cert: Boolean(cert || pfx) };
    this.context[kOwner] = this;
  }
}

// The SecureContext a native context belongs to.
const kOwner = Symbol('kOwner');

// Node's `secureContext.context` methods that libraries call directly.
Object.defineProperties(binding.NativeContext.prototype, {
  // addCACert(cert): trusts `cert` (PEM, one or more) too, from now on.
  addCACert: {
    configurable: true,
    writable: true,
    value: function addCACert(cert) {
      if (!isBytes(cert)) throw errors.invalidArgType('cert', kBytesExpected, cert);
      const pem = toBuffer(cert);
      try {
        this.addCaCert(pem);
      } catch (err) {
        throw errors.fromNative(err);
      }
      const owner = this[kOwner];
      if (owner) {
        owner[kCa] = [...(owner[kCa] || []), pem];
        owner[kTrusted] = undefined;
      }
    },
  },
  // setCiphers(ciphers): the TLS 1.2 cipher list (OpenSSL's
  // SSL_CTX_set_cipher_list); the TLS 1.3 suites stay as they are.
  setCiphers: {
    configurable: true,
    writable: true,
    value: function setCiphers(ciphers) {
      if (typeof ciphers !== 'string') throw errors.invalidArgType('ciphers', 'of type string', ciphers);
      const owner = this[kOwner];
      const settings = owner && owner[kTls];
      if (!settings) return;
      const tls13 = settings.ciphers.split(':').filter((c) => c.startsWith('TLS_'));
      const next = [...tls13, ...ciphers.split(':').filter((c) => c && !c.startsWith('TLS_'))].join(':');
      try {
        binding.checkTlsOptions(next || settings.ciphers, undefined, undefined);
      } catch (err) {
        throw errors.fromNative(err);
      }
      if (next) settings.ciphers = next;
    },
  },
});

// Node's native context has an `_external` accessor that only its own
// instances answer (an object inheriting from one throws a TypeError); code
// that probes for a native context reads it.
const nativeContexts = new WeakSet();
Object.defineProperty(binding.NativeContext.prototype, '_external', {
  configurable: true,
  enumerable: false,
  get() {
    if (!nativeContexts.has(this)) throw new TypeError('Illegal invocation');
    return this;
  },
});

// The `ca` certificates as X509Certificate objects (parsed on first use).
function trustedCerts(context) {
  if (!context) return [];
  if (!context[kTrusted]) context[kTrusted] = parseBundles(context[kCa]);
  return context[kTrusted];
}

// Node takes any falsy `options` (null included) as none.
function createSecureContext(options) {
  return new SecureContext(options || undefined);
}

// A SecureContext of this package (what `secureContext` and SNICallback take).
function isSecureContext(value) {
  return value instanceof SecureContext ||
    (value != null && value.context instanceof binding.NativeContext);
}

// The context a connection uses: the one given, or one made from options.
function contextFor(options) {
  const given = options.secureContext;
  if (given) {
    if (isSecureContext(given)) return given;
    throw errors.nodeError(TypeError, 'ERR_TLS_INVALID_CONTEXT', 'context must be a SecureContext');
  }
  return new SecureContext(options);
}

module.exports = {
  SecureContext,
  isSecureContext,
  tlsParams,
  convertALPNProtocols,
  validateTicketKeys,
  createSecureContext,
  contextFor,
  protocolRange,
  alpnList,
  kNative,
  kCerts,
  kKeyCert,
  trustedCerts,
};
