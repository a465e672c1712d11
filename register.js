'use strict';
// rustls-tls/register: makes unchanged code use this package for `tls`.
//
//   node --require rustls-tls/register app.js
//   node --import rustls-tls/register app.mjs
//   NODE_OPTIONS='--require rustls-tls/register' npm start
//
// Every `require('tls')` / `require('node:tls')` (a Module._load hook) and
// every `import ... from 'tls'` / `'node:tls'` (module.register() resolve
// hooks, Node >= 20.6) made by the application or its dependencies gets
// this package, the same module object as `require('rustls-tls')`. The
// package's own files keep Node's `tls` (they reuse parts of it), and so do
// Node's built-in modules (`https`, `http2`, the global `fetch`), which load
// Node's internal TLS without going through either hook.

const { install } = require('./lib/register');

install();
