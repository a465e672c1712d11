'use strict';
// enableTrace(): the protocol trace of a connection on stderr (the records
// are cut and described natively, src/trace.rs), from the `enableTrace`
// option of a socket or server, from `--trace-tls`, or from the method.
// As in Node, `--trace-tls` warns once, when the first TLS socket is made,
// that the log can expose sensitive data (the option and the method do not).

const errors = require('./errors');
const { binding } = require('./native');

// OpenSSL 3.2 and later label records "Sent TLS Record".
const [sslMajor, sslMinor] = String(process.versions.openssl || '3.5').split('.').map(Number);
binding.setTraceLabels(sslMajor > 3 || (sslMajor === 3 && sslMinor >= 2));

function hasFlag(list) {
  return list.some((arg) => arg === '--trace-tls');
}

/** `--trace-tls` is on: in the process's own flags or NODE_OPTIONS. */
const traceTls = hasFlag(process.execArgv) ||
  hasFlag((process.env.NODE_OPTIONS || '').split(/\s+/));

let warned = false;

function warnOnce(message) {
  if (warned) return;
  warned = true;
  process.emitWarning(message);
}

/**
 * The `enableTrace` option of a TLSSocket as Node reads it: a boolean, or
 * `--trace-tls` when absent (null or undefined); otherwise throws
 * ERR_INVALID_ARG_TYPE.
 */
function socketOption(options) {
  const value = options ? options.enableTrace : undefined;
  if (value == null) {
    if (traceTls) warnOnce('Enabling --trace-tls can expose sensitive data in the resulting log.');
    return traceTls;
  }
  if (typeof value !== 'boolean') throw errors.invalidArgType('options.enableTrace', 'of type boolean', value);
  return value;
}

/**
 * A server's `enableTrace` option: its connections are traced from their
 * first byte. Node does not check it when the server is made; only `true`
 * traces (or `--trace-tls` when it is absent).
 */
function serverOption(options) {
  const value = options ? options.enableTrace : undefined;
  return value == null ? traceTls : value === true;
}

/** Starts the trace of a native connection. */
function enable(native) {
  native.enableTrace();
}

module.exports = { socketOption, serverOption, enable };
