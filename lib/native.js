'use strict';
// Loads the addon (built by `npm install` into the package root as
// rustls-tls.node) and routes its events.
//
// Every native connection and server reports through one thread-safe
// function per environment, the hub, tagged with an id given here. Whether
// the hub keeps the process alive is counted here: each socket or server
// that should (open and not unref'd) holds one reference.

const path = require('path');

const binding = require(path.join(__dirname, '..', 'rustls-tls.node'));

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
  KEYLOG: 14,
  OCSP_REQUEST: 15,
});

const handlers = new Map();
let nextId = 1;
let holds = 0;

const hub = new binding.EventHub((id, kind, data, info) => {
  const handler = handlers.get(id);
  if (handler !== undefined) handler(kind, data, info);
});

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
