'use strict';
// Node 22/24's CA API on every Node version: tls.getCACertificates(type),
// tls.setDefaultCACertificates(certs), the system store in the default
// trust (NODE_USE_SYSTEM_CA=1 / --use-system-ca, read through
// rustls-native-certs), and allowPartialTrustChain. Where the running
// node:tls has the API too (Node 22.15+ / 24), results are compared with it.
// Scenarios that change process-wide defaults run in child processes.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { X509Certificate } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const nodeTls = require('node:tls');
const { impls, certs, scope, FIXTURES, ROOT } = require('./helpers');

const tls = impls.rustls;
const C = (n) => fs.readFileSync(path.join(FIXTURES, 'cases', n));
const nodeHasApi = typeof nodeTls.getCACertificates === 'function';
const caPem = new X509Certificate(certs.ca).toString();

function errorOf(fn) {
  try {
    fn();
    return null;
  } catch (err) {
    return { name: err.name, code: err.code, message: err.message.split('\n')[0] };
  }
}

test('getCACertificates: types, caching and errors', () => {
  const bundled = tls.getCACertificates('bundled');
  assert.deepEqual(bundled, nodeTls.rootCertificates);
  assert.ok(Object.isFrozen(bundled));
  assert.equal(tls.getCACertificates('bundled'), bundled);
  // The very array tls.rootCertificates is (Node 24 returns it).
  assert.equal(bundled, tls.rootCertificates);
  assert.equal(tls.getCACertificates(), tls.getCACertificates('default'));
  assert.ok(Array.isArray(tls.getCACertificates('system')));
  const errors = [errorOf(() => tls.getCACertificates('foo')), errorOf(() => tls.getCACertificates(1))];
  assert.deepEqual(errors, [
    { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: "The argument 'type' is invalid. Received 'foo'" },
    { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "type" argument must be of type string. Received type number (1)' },
  ]);
  if (nodeHasApi) {
    assert.deepEqual(errors, [errorOf(() => nodeTls.getCACertificates('foo')), errorOf(() => nodeTls.getCACertificates(1))]);
    for (const type of ['bundled', 'extra']) {
      assert.deepEqual(tls.getCACertificates(type), nodeTls.getCACertificates(type), type);
    }
  }
});

// Runs `code` in a child process with `env`, the package as `tls`; returns
// what it prints as JSON.
function child(code, env = {}, execArgv = []) {
  const script = `const tls = require(${JSON.stringify(ROOT)});\n${code}`;
  const base = { ...process.env };
  delete base.NODE_EXTRA_CA_CERTS;
  delete base.NODE_USE_SYSTEM_CA;
  const out = execFileSync(process.execPath, [...execArgv, '-e', script], {
    env: { ...base, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

// Prints whether a client given no `ca` trusts a server whose certificate
// the fixtures' CA signed.
const TRUSTS = `
const fs = require('fs');
const key = fs.readFileSync(${JSON.stringify(path.join(FIXTURES, 'ec-key.pem'))});
const cert = fs.readFileSync(${JSON.stringify(path.join(FIXTURES, 'ec-cert.pem'))});
const srv = tls.createServer({ key, cert }, (s) => s.end());
srv.listen(0, '127.0.0.1', () => {
  const c = tls.connect({ port: srv.address().port, host: '127.0.0.1', servername: 'localhost' }, () => {
    out.trusted = c.authorized; c.destroy(); srv.close(); console.log(JSON.stringify(out));
  });
  c.on('error', (e) => { out.trusted = e.code; srv.close(); console.log(JSON.stringify(out)); });
});`;

test('NODE_EXTRA_CA_CERTS: getCACertificates(\'extra\') and the default list', () => {
  const r = child(`const out = { extra: tls.getCACertificates('extra'), last: tls.getCACertificates().slice(-1),
    n: tls.getCACertificates().length - tls.getCACertificates('bundled').length };${TRUSTS}`,
  { NODE_EXTRA_CA_CERTS: path.join(FIXTURES, 'ca-cert.pem') });
  assert.deepEqual(r, { extra: [caPem], last: [caPem], n: 1, trusted: true });
});

test('the system store: NODE_USE_SYSTEM_CA=1 (and --use-system-ca where Node knows it) adds it to the default trust', () => {
  const system = { SSL_CERT_FILE: path.join(FIXTURES, 'ca-cert.pem'), SSL_CERT_DIR: path.join(FIXTURES, 'none') };
  const code = `const out = { system: tls.getCACertificates('system'), inDefault: tls.getCACertificates().includes(${JSON.stringify(caPem)}) };${TRUSTS}`;
  assert.deepEqual(child(code, system), { system: [caPem], inDefault: false, trusted: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  assert.deepEqual(child(code, { ...system, NODE_USE_SYSTEM_CA: '1' }), { system: [caPem], inDefault: true, trusted: true });
  if (process.allowedNodeEnvironmentFlags.has('--use-system-ca')) {
    assert.deepEqual(child(code, system, ['--use-system-ca']), { system: [caPem], inDefault: true, trusted: true });
  }
});

test('setDefaultCACertificates: later contexts without ca trust exactly these', () => {
  const other = new X509Certificate(C('other-root-cert.pem')).toString();
  const r = child(`const out = {};
    tls.setDefaultCACertificates([${JSON.stringify(caPem)}, Buffer.from(${JSON.stringify(caPem)}), ${JSON.stringify(other)}]);
    out.list = tls.getCACertificates();
    out.same = tls.getCACertificates() === out.list;
    ${TRUSTS}`);
  assert.deepEqual(r, { list: [caPem, other], same: true, trusted: true });
  const empty = child(`const out = {}; tls.setDefaultCACertificates([]); out.list = tls.getCACertificates();${TRUSTS}`);
  assert.deepEqual(empty, { list: [], trusted: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
});

test('setDefaultCACertificates: argument errors as Node 24', () => {
  const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
  const cases = ['x', [1], ['garbage'], [broken]];
  const ours = cases.map((c) => errorOf(() => tls.setDefaultCACertificates(c)));
  assert.deepEqual(ours, [
    { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "certs" argument must be an instance of Array. Received type string (\'x\')' },
    { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "certs[0]" argument must be of type string or an instance of ArrayBufferView. Received type number (1)' },
    { name: 'Error', code: 'ERR_CRYPTO_OPERATION_FAILED', message: 'No valid certificates found in the provided array' },
    { name: 'Error', code: 'ERR_OSSL_PEM_ASN1_LIB', message: 'error:0488000D:PEM routines::ASN1 lib' },
  ]);
  if (typeof nodeTls.setDefaultCACertificates === 'function') {
    const theirs = cases.map((c) => errorOf(() => nodeTls.setDefaultCACertificates(c)));
    assert.deepEqual(ours.map((e) => e.code), theirs.map((e) => e.code));
  }
});

for (const name of Object.keys(impls)) {
  test(`allowPartialTrustChain: an intermediate in ca is a trust anchor only when allowed (${name} client)`, async (t) => {
    const sc = scope(t);
    const results = {};
    for (const [label, cert] of [['leaf', 'valid-cert.pem'], ['chain', 'valid-chain.pem']]) {
      const { port } = await sc.server(impls.rustls, { key: C('valid-key.pem'), cert: C(cert) }, (s) => s.end());
      for (const allow of [false, true]) {
        const outcome = await new Promise((resolve) => {
          const c = sc.connect(impls[name], {
            port, host: '127.0.0.1', servername: 'localhost', ca: [C('inter-cert.pem')], allowPartialTrustChain: allow,
          }, () => resolve(c.authorized));
          c.on('error', (e) => resolve(e.code));
        });
        results[`${label} ${allow}`] = outcome;
      }
    }
    assert.deepEqual(results, {
      'leaf false': 'UNABLE_TO_GET_ISSUER_CERT',
      'leaf true': true,
      'chain false': 'UNABLE_TO_GET_ISSUER_CERT',
      'chain true': true,
    });
  });
}
