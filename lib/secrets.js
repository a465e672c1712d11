'use strict';
// A connection's secrets as Node hands them out: the 'keylog' event (NSS
// key-log lines, also written to the file named by --tls-keylog) and
// exportKeyingMaterial() (RFC 5705 / RFC 8446 exporters).
//
// Key logging costs a copy of the TLS configuration per connection, so the
// native side logs only for connections someone listens to: a client socket
// with a 'keylog' listener when its handshake starts, a server with one (or
// --tls-keylog) when a connection arrives.

const fs = require('fs');
const errors = require('./errors');

let keylogFile;
// --tls-keylog=FILE (or --tls-keylog FILE), from the command line or
// NODE_OPTIONS, as Node reads it.
function tlsKeylogFile() {
  if (keylogFile !== undefined) return keylogFile;
  keylogFile = null;
  const fromOptions = (process.env.NODE_OPTIONS || '').split(/\s+/).filter(Boolean);
  for (const args of [fromOptions, process.execArgv]) {
    for (let i = 0; i < args.length; i++) {
      if (args[i].startsWith('--tls-keylog=')) keylogFile = args[i].slice('--tls-keylog='.length);
      else if (args[i] === '--tls-keylog' && i + 1 < args.length) keylogFile = args[++i];
    }
  }
  return keylogFile;
}

let warnedFile = false;
let warnedWrite = false;

// Every socket appends its lines to the --tls-keylog file, as in Node.
function install(socket) {
  const file = tlsKeylogFile();
  if (!file) return;
  if (!warnedFile) {
    warnedFile = true;
    process.emitWarning('Using --tls-keylog makes TLS connections insecure ' +
      `by writing secret key material to file ${file}`);
  }
  socket.on('keylog', (line) => {
    fs.appendFile(file, line, { mode: 0o600 }, (err) => {
      if (err && !warnedWrite) {
        warnedWrite = true;
        process.emitWarning(`Failed to write TLS keylog (this warning will not be repeated): ${err}`);
      }
    });
  });
}

// Whether a client socket's connection should log its secrets.
function socketWants(socket) {
  return socket.listenerCount('keylog') > 0;
}

// Whether a server's new connections should log theirs.
function serverWants(server) {
  const listened = server && typeof server.listenerCount === 'function' && server.listenerCount('keylog') > 0;
  return listened || Boolean(tlsKeylogFile());
}

// A server starts logging when its first 'keylog' listener is added (the
// listener may come after listen(), before the connections it is for).
function watchServer(server, native) {
  server.on('newListener', (event) => {
    if (event === 'keylog') {
      const n = native();
      if (n) n.setKeylog(true);
    }
  });
}

// One line: 'keylog' on the socket and, for a server's socket, on the
// server with the socket.
function deliver(socket, line) {
  socket.emit('keylog', line);
  const server = socket.server;
  if (server && typeof server.emit === 'function' && server.listenerCount('keylog') > 0) {
    server.emit('keylog', line, socket);
  }
}

// The labels TLS 1.2 derives its own keys with (RFC 5705 section 4).
const kReservedLabels = ['client finished', 'server finished', 'master secret',
  'extended master secret', 'key expansion'].map((l) => Buffer.from(l));

function validateUint32(value, name) {
  if (typeof value !== 'number') throw errors.invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw errors.outOfRange(name, 'an integer', value);
  if (value < 1 || value > 4294967295) throw errors.outOfRange(name, '>= 1 && <= 4294967295', value);
}

// socket.exportKeyingMaterial(length, label[, context]) with Node's checks.
function exportKeyingMaterial(socket, native, length, label, context) {
  validateUint32(length, 'length');
  if (typeof label !== 'string') throw errors.invalidArgType('label', 'of type string', label);
  if (context !== undefined && !ArrayBuffer.isView(context)) {
    throw errors.invalidArgType('context', 'an instance of Buffer, TypedArray, or DataView', context);
  }
  const state = () => errors.nodeError(Error, 'ERR_TLS_INVALID_STATE',
                                       'TLS socket connection must be securely established');
  if (!socket._secureEstablished || !native) throw state();
  const labelBytes = Buffer.from(label);
  if (socket.getProtocol() === 'TLSv1.2' && kReservedLabels.some((r) => labelBytes.length >= r.length &&
      labelBytes.subarray(0, r.length).equals(r))) {
    // OpenSSL refuses labels that begin with one TLS 1.2 uses itself.
    throw errors.withCode(Error, 'ERR_SSL_TLS_ILLEGAL_EXPORTER_LABEL',
                          'error:0A00016F:SSL routines::tls illegal exporter label',
                          { library: 'SSL routines', reason: 'tls illegal exporter label' });
  }
  const ctx = context === undefined ? undefined :
    Buffer.from(context.buffer, context.byteOffset, context.byteLength);
  let out;
  try {
    out = native.exportKeyingMaterial(length, labelBytes, ctx);
  } catch (err) {
    throw errors.fromNative(err);
  }
  if (out == null) throw state();
  return out;
}

module.exports = { install, socketWants, serverWants, watchServer, deliver, exportKeyingMaterial, tlsKeylogFile };
