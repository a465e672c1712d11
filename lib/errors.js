'use strict';
// Node-shaped errors. Every error a user sees is built here, in JavaScript,
// so that it belongs to the user's realm (`instanceof Error` holds under
// jest too). Rust reports a code and facts; this file adds Node's wording.

const os = require('os');
const util = require('util');

const kIsNodeError = Symbol('kIsNodeError');

function withCode(Base, code, message, props) {
  const err = new Base(message);
  err.code = code;
  if (props) Object.assign(err, props);
  return err;
}

// Node prints such errors as `TypeError [CODE]: message`.
function nodeError(Base, code, message) {
  const err = new Base(message);
  Object.defineProperty(err, 'name', {
    value: `${Base.name} [${code}]`, configurable: true, writable: true,
  });
  // Touch the stack so the name with the code is captured, then restore.
  void err.stack;
  delete err.name;
  err.code = code;
  err[kIsNodeError] = true;
  return err;
}

function describeReceived(value) {
  if (value == null) return ` Received ${value}`;
  if (typeof value === 'function') {
    // Node names an anonymous function by its empty name.
    return ` Received function ${value.name}`;
  }
  if (typeof value === 'object') {
    if (value.constructor && value.constructor.name) {
      return ` Received an instance of ${value.constructor.name}`;
    }
    return ` Received ${util.inspect(value, { depth: -1 })}`;
  }
  let shown = util.inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof value} (${shown})`;
}

function invalidArgType(name, expected, value) {
  const what = name.includes('.') ? 'property' : 'argument';
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE',
                   `The "${name}" ${what} must be ${expected}.${describeReceived(value)}`);
}

function invalidArgValue(name, value, reason = 'is invalid') {
  const what = name.includes('.') ? 'property' : 'argument';
  let shown = util.inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
                   `The ${what} '${name}' ${reason}. Received ${shown}`);
}

function outOfRange(name, range, value) {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE',
                   `The value of "${name}" is out of range. It must be ${range}. Received ${util.inspect(value)}`);
}

// An error thrown by the addon carries "code\0message\0reason\0syscall".
function fromNative(err) {
  if (!err || typeof err.message !== 'string' || !err.message.includes('\0')) {
    return err;
  }
  const [code, message, reason, syscall] = err.message.split('\0');
  return tlsError({ code, message, reason, syscall });
}

const systemErrors = util.getSystemErrorMap();

// A socket error, worded as libuv/Node word them:
// "connect ECONNREFUSED 127.0.0.1:443", "listen EADDRINUSE: address already in use :::8000".
function systemError(code, syscall, where = {}, withDescription = false) {
  const errno = os.constants.errno[code];
  const description = errno && systemErrors.get(-errno);
  let message = `${syscall} ${code}`;
  if (withDescription && description) message += `: ${description[1]}`;
  if (where.path) message += ` ${where.path}`;
  else if (where.address !== undefined) {
    message += ` ${where.address}${where.port !== undefined ? `:${where.port}` : ''}`;
  }
  const err = new Error(message);
  if (errno) err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (where.path) err.address = where.path;
  else if (where.address !== undefined) {
    err.address = where.address;
    if (where.port !== undefined) err.port = where.port;
  }
  return err;
}

// An error reported by the connection task: TLS alerts and failures get
// OpenSSL's shape (`library`, `reason`, `code`), socket errors Node's.
// OpenSSL 3.2 renamed the alerts it once called "sslv3 alert ..." to
// "ssl/tls alert ..."; Node's codes follow the OpenSSL it is built with.
const [kOsslMajor, kOsslMinor] = process.versions.openssl.split('.').map(Number);
const kSslTlsAlerts = kOsslMajor > 3 || (kOsslMajor === 3 && kOsslMinor >= 2);

// OpenSSL's reason codes (SSL_R_*, library 20 = 0x0A), for the messages
// OpenSSL prints: "error:0A00010B:SSL routines::wrong version number".
// A received alert is reason 1000 + the alert's number (RFC 8446, 6.2).
const kReasonCodes = new Map([
  ['certificate verify failed', 0x86], ['http request', 0x9c], ['https proxy request', 0x9b],
  ['length too short', 0xa0], ['no shared cipher', 0xc1], ['peer did not return a certificate', 0xc7],
  ['no application protocol', 0xeb], ['unexpected message', 0xf4], ['unsupported protocol', 0x102],
  ['wrong version number', 0x10b], ['decryption failed or bad record mac', 0x119], ['bad extension', 0x6e],
  ['no suitable signature algorithm', 0x76], ['wrong ssl version', 0x10a],
]);
const kAlertNumbers = new Map([
  ['unexpected message', 10], ['bad record mac', 20], ['record overflow', 22], ['handshake failure', 40],
  ['bad certificate', 42], ['unsupported certificate', 43], ['certificate revoked', 44],
  ['certificate expired', 45], ['certificate unknown', 46], ['illegal parameter', 47], ['unknown ca', 48],
  ['access denied', 49], ['decode error', 50], ['decrypt error', 51], ['protocol version', 70],
  ['insufficient security', 71], ['internal error', 80], ['inappropriate fallback', 86],
  ['user cancelled', 90], ['missing extension', 109], ['unsupported extension', 110],
  ['unrecognized name', 112], ['certificate required', 116], ['no application protocol', 120],
]);

// Where OpenSSL raises each error, as its printed error line names it (the
// function, the source file and line of the OpenSSL that Node is built with:
// 3.0 in Node 20 and 22, 3.5 in Node 24). Node's TLS errors carry that line.
const kOpensslSince32 = kSslTlsAlerts;
const kRaisedAt = new Map(Object.entries({
  'http request': kOpensslSince32 ?
    ['tls_validate_record_header', 'ssl/record/methods/tlsany_meth.c', 68] :
    ['ssl3_get_record', 'ssl/record/ssl3_record.c', 341],
  'https proxy request': kOpensslSince32 ?
    ['tls_validate_record_header', 'ssl/record/methods/tlsany_meth.c', 72] :
    ['ssl3_get_record', 'ssl/record/ssl3_record.c', 345],
  'wrong version number': kOpensslSince32 ?
    ['tls_validate_record_header', 'ssl/record/methods/tlsany_meth.c', 77] :
    ['ssl3_get_record', 'ssl/record/ssl3_record.c', 350],
  'no shared cipher': ['tls_post_process_client_hello', 'ssl/statem/statem_srvr.c', kOpensslSince32 ? 2361 : 2226],
  'peer did not return a certificate':
    ['tls_process_client_certificate', 'ssl/statem/statem_srvr.c', kOpensslSince32 ? 3764 : 3517],
  'no application protocol': ['tls_handle_alpn', 'ssl/statem/statem_srvr.c', kOpensslSince32 ? 2303 : 2172],
  'unexpected message':
    ['ossl_statem_client_read_transition', 'ssl/statem/statem_clnt.c', kOpensslSince32 ? 423 : 396],
  'unsupported protocol':
    ['tls_early_post_process_client_hello', 'ssl/statem/statem_srvr.c', kOpensslSince32 ? 1780 : 1664],
  'no suitable signature algorithm': ['tls_choose_sigalg', 'ssl/t1_lib.c', kOpensslSince32 ? 4607 : 3242],
}));
const kAlertRaisedAt = ['ssl3_read_bytes', 'ssl/record/rec_layer_s3.c', kOpensslSince32 ? 918 : 1601];

// OpenSSL starts each printed error line with the id of the thread that
// raised it (pthread_self's bytes in hex); Node's errors come from its main
// thread, one id per process.
let threadTag;
function opensslThread() {
  if (threadTag === undefined) {
    const id = Buffer.alloc(8);
    id.writeUIntLE(0x7f0000000000 + (process.pid % 0xffffff) * 0x1000 + 0x7c0, 0, 6);
    threadTag = id.toString('hex').toUpperCase();
  }
  return threadTag;
}

// OpenSSL's message for a TLS failure, as Node's TLS errors word it:
// "<thread>:error:0A00010B:SSL routines:<function>:wrong version number:<file>:<line>:\n",
// or the short form ("error:0A00010B:SSL routines::wrong version number")
// where it is not known where OpenSSL raises the error.
function opensslMessage(reason) {
  const alert = /^(?:sslv3|ssl\/tls|tlsv1|tlsv13) (?:alert )?(.*)$/.exec(reason);
  const number = alert ? kAlertNumbers.get(alert[1]) : undefined;
  const code = number !== undefined ? 1000 + number : kReasonCodes.get(reason);
  if (code === undefined) return null;
  const hex = (0x0a000000 + code).toString(16).toUpperCase().padStart(8, '0');
  const at = number !== undefined ? kAlertRaisedAt : kRaisedAt.get(reason);
  const tail = number !== undefined ? `SSL alert number ${number}` : '';
  if (!at) return `error:${hex}:SSL routines::${reason}` + (tail ? `:${tail}` : '');
  const [fn, file, line] = at;
  return `${opensslThread()}:error:${hex}:SSL routines:${fn}:${reason}:` +
    `../deps/openssl/openssl/${file}:${line}:${tail}\n`;
}

function tlsError(info, where) {
  if (info.syscall) return systemError(info.code, info.syscall, where);
  let { code, message, reason } = info;
  if (kSslTlsAlerts && reason && reason.startsWith('sslv3 alert ')) {
    const renamed = `ssl/tls alert ${reason.slice('sslv3 alert '.length)}`;
    message = message.replace(reason, renamed);
    code = `ERR_SSL_${renamed.toUpperCase().replace(/ /g, '_')}`;
    reason = renamed;
  }
  if (reason && (message === reason || message.startsWith(`${reason} (`))) {
    message = opensslMessage(reason) || message;
  }
  const err = new Error(message);
  if (reason) {
    // OpenSSL's message names the library that raised it.
    const raisedBy = /^error:[0-9A-F]{8}:([^:]+):/.exec(message);
    err.library = raisedBy ? raisedBy[1] : 'SSL routines';
    err.reason = reason;
  }
  // OpenSSL's empty error (a bad sigalgs list) carries no code in Node.
  if (code) err.code = code;
  return err;
}

// Node versions that have --use-system-ca add a hint to the verify errors
// a locally installed root would cure (Node 24: these three; not
// UNABLE_TO_GET_ISSUER_CERT_LOCALLY nor SELF_SIGNED_CERT_IN_CHAIN); so do
// we, on those versions.
const kSystemCaHint = process.allowedNodeEnvironmentFlags.has('--use-system-ca') ?
  '; if the root CA is installed locally, try running Node.js with --use-system-ca' : '';
const kHinted = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT',
]);

// A certificate verification failure, as Node's `verifyError()` gives it.
function verifyError(code, message) {
  return withCode(Error, code, kHinted.has(code) ? message + kSystemCaHint : message);
}

module.exports = {
  kSslTlsAlerts,
  nodeError,
  describeReceived,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  fromNative,
  systemError,
  tlsError,
  verifyError,
  withCode,
};
