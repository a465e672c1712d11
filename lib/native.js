'use strict';
// Loads the addon. `npm install` builds it (scripts/install.js) into the
// package root as rustls-tls.node.

const path = require('path');

const binding = require(path.join(__dirname, '..', 'rustls-tls.node'));

// Event kinds sent by the connection and server tasks (src/lib.rs, `kind`).
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
});

module.exports = { binding, EV };
