'use strict';
// rustls-tls/https: node:https's API (createServer, request, get, Agent,
// globalAgent) with this package's TLS underneath. See lib/https.js.

module.exports = require('./lib/https');
