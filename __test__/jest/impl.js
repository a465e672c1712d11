'use strict';
// The implementation under test inside jest: the package by default;
// TLS_IMPL=node runs the same files against node:tls (for comparison).
const fs = require('node:fs');
const path = require('node:path');

const tls = process.env.TLS_IMPL === 'node' ? require('node:tls') : require('../..');
const fx = (name) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', name));

module.exports = { tls, fx };
