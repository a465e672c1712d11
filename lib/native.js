'use strict';
// Loads the addon and routes its events.
//
// The addon is rustls-tls.node at the package root when it was built from
// source (`npm install` in a checkout, or where no prebuilt binary fits);
// otherwise the prebuilt binary of the platform package that npm installed
// as an optional dependency (lib/prebuilt.js names it).
//
// Every native connection and server reports through one thread-safe
// function per environment, the hub, tagged with an id given here. Whether
// the hub keeps the process alive is counted here: each socket or server
// that should (open and not unref'd) holds one reference.

const fs = require('fs');
const path = require('path');
const { packageName } = require('./prebuilt');

function loadBinding() {
  const built = path.join(__dirname, '..', 'rustls-tls.node');
  if (fs.existsSync(built)) return require(built);
  const name = packageName();
  try {
    return require(name);
  } catch (err) {
    err.message = `rustls-tls: no native addon: ${built} was not built and the prebuilt package ` +
      `${name} could not be loaded (reinstall the package, or build it with cargo: ` +
      `node ${path.join(__dirname, '..', 'scripts', 'install.js')}): ${err.message}`;
    throw err;
  }
}

const binding = loadBinding();

// Event kinds sent by the connection and server tasks (src/hub.rs, `kind`).
const EV = Object.freeze({
  CONNECTED: 1,
  SECURE: 2,
  DATA: 3,
  END: 4,
  FINISHED: 5,
  DRAIN: 6,
  ERROR: 7,
  CLOSE: 8,
  CLIENT_ERROR: 9,
  CIPHERTEXT: 10,
  SHUTDOWN_OUT: 11,
  INPUT_DRAIN: 12,
  SNI: 13,
  SESSION: 14,
  NEW_SESSION: 15,
  RESUME_SESSION: 16,
  KEYLOG: 17,
  OCSP_REQUEST: 18,
  IDLE: 19,
  DROP: 20,
  ALPN: 21,
});

const handlers = new Map();
let nextId = 1;
let holds = 0;

// On the main thread, established connections are read on this thread's
// own event loop, as node:tls reads (src/poll.rs); RUSTLS_TLS_INLINE=0
// leaves every read to the TLS threads. A worker's loop must close with no
// handle of ours, so workers always leave reads to the TLS threads.
const inline = require('worker_threads').isMainThread && process.env.RUSTLS_TLS_INLINE !== '0';

const hub = new binding.EventHub((id, kind, data, info) => {
  const handler = handlers.get(id);
  if (handler !== undefined) handler(kind, data, info);
}, inline);

// An id whose events go to `handler(kind, data, info)`.
function register(handler) {
  while (handlers.has(nextId)) nextId = nextId >= 0xffffffff ? 1 : nextId + 1;
  const id = nextId;
  nextId = nextId >= 0xffffffff ? 1 : nextId + 1;
  handlers.set(id, handler);
  return id;
}

function unregister(id) {
  handlers.delete(id);
}

// Keep the process alive (`hold`) or let it go (`release`), counted.
function hold() {
  if (holds++ === 0) hub.ref();
}

function release() {
  if (--holds === 0) hub.unref();
}

module.exports = { binding, EV, hub, register, unregister, hold, release };
