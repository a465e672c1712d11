'use strict';
// The package seen from ESM, through package.json "exports": named imports
// for every export node:tls has, the default export being the CommonJS module
// object itself, and the subpaths ./register, ./https and ./package.json.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const nodeTls = require('node:tls');
const { ROOT } = require('./helpers');

const pkg = require(ROOT);

test("import * from 'rustls-tls': every name node:tls exports, the same values as require()", async () => {
  const ns = await import('rustls-tls');
  assert.equal(ns.default, pkg, 'the default export is the module object require() returns');
  for (const name of Object.keys(nodeTls)) {
    assert.ok(name in ns, `named export ${name} (node:tls has it)`);
  }
  for (const name of Object.keys(pkg)) {
    assert.ok(name in ns, `named export ${name} (the package has it)`);
    if (name === 'rootCertificates') assert.deepEqual(ns[name], pkg[name]);
    else assert.equal(ns[name], pkg[name], name);
  }
  assert.equal(typeof ns.connect, 'function');
  assert.equal(typeof ns.createServer, 'function');
  assert.ok(ns.rootCertificates.length > 100);
});

test('named imports in an ESM module compile (the CommonJS lexer is not relied on)', async () => {
  const src = "import tls, { connect, createServer, TLSSocket, createSecureContext, checkServerIdentity, " +
    "rootCertificates, DEFAULT_MIN_VERSION, Server, SecureContext, getCiphers } from 'rustls-tls';" +
    'export default [tls, connect, createServer, TLSSocket, createSecureContext, checkServerIdentity, ' +
    'rootCertificates, DEFAULT_MIN_VERSION, Server, SecureContext, getCiphers];';
  // A data: URL cannot resolve a bare name; resolve it first as a file URL.
  const url = require('node:url').pathToFileURL(require.resolve('rustls-tls')).href.replace(/index\.js$/, 'index.mjs');
  const mod = await import(`data:text/javascript,${encodeURIComponent(src.replace("'rustls-tls'", JSON.stringify(url)))}`);
  const [tls, connect, ...rest] = mod.default;
  assert.equal(tls, pkg);
  assert.equal(connect, pkg.connect);
  assert.ok(rest.every((v) => v !== undefined));
});

test('exports map: ./register, ./https, ./package.json resolve; internals do not', async () => {
  assert.equal(require.resolve('rustls-tls/register'), require('node:path').join(ROOT, 'register.js'));
  assert.equal(require('rustls-tls/package.json').name, 'rustls-tls');
  const https = await import('rustls-tls/https');
  assert.equal(https.default, require('rustls-tls/https'));
  for (const name of ['Agent', 'globalAgent', 'Server', 'createServer', 'request', 'get']) {
    assert.equal(typeof https[name], name === 'globalAgent' ? 'object' : 'function', name);
    assert.equal(https[name], https.default[name], name);
  }
  assert.throws(() => require.resolve('rustls-tls/lib/socket.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});
