'use strict';
// X.509 v1 leaf certificates signed by a CA: what `openssl x509 -req`
// without extensions makes, and what several of Node's own fixtures are.
// webpki refuses v1 leaves; OpenSSL verifies them against the CA. Judged as
// node:tls judges them, in every pairing and in both roles (a server's
// certificate, a client's certificate under requestCert).

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { impls, implPairs, scope, withTimeout } = require('./helpers');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-v1-'));
const pem = {};

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

before(() => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca-cert.pem',
    '-days', '3650', '-subj', '/CN=v1 test root');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-key.pem', '-out', 'other-cert.pem',
    '-days', '3650', '-subj', '/CN=v1 test root');
  for (const name of ['leaf', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`,
      '-subj', '/CN=localhost');
    // No -extfile: an X.509 v1 certificate.
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca-cert.pem', '-CAkey', 'ca-key.pem',
      '-CAcreateserial', '-days', '3650', '-sha256', '-out', `${name}-cert.pem`);
  }
  // A v1 root (the doc's -signkey recipe) and a leaf it signs.
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'v1root-key.pem', '-out', 'v1root.csr',
    '-subj', '/CN=v1 root');
  openssl('x509', '-req', '-in', 'v1root.csr', '-signkey', 'v1root-key.pem', '-days', '3650',
    '-out', 'v1root-cert.pem');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'v1root-cert.pem', '-CAkey', 'v1root-key.pem',
    '-CAcreateserial', '-days', '3650', '-sha256', '-out', 'v1leaf-cert.pem');
  // An intermediate CA (v3, CA:TRUE) under the root, and v1 leaves it signs
  // (as Node's agent10 fixture is made).
  fs.writeFileSync(path.join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'inter-key.pem', '-out', 'inter.csr',
    '-subj', '/CN=v1 test intermediate');
  openssl('x509', '-req', '-in', 'inter.csr', '-CA', 'ca-cert.pem', '-CAkey', 'ca-key.pem',
    '-CAcreateserial', '-days', '3650', '-sha256', '-extfile', 'ca.ext', '-out', 'inter-cert.pem');
  for (const name of ['leaf', 'client']) {
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'inter-cert.pem', '-CAkey', 'inter-key.pem',
      '-CAcreateserial', '-days', '3650', '-sha256', '-out', `${name}-via-inter-cert.pem`);
  }
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.pem')) pem[f.slice(0, -4)] = fs.readFileSync(path.join(dir, f));
  const text = execFileSync('openssl', ['x509', '-in', path.join(dir, 'leaf-cert.pem'), '-noout', '-text']).toString();
  assert.match(text, /Version: 1 \(0x0\)/);
});

async function judge(sName, cName, ca, t) {
  const sc = scope(t);
  let serverSaw;
  const { port } = await sc.server(impls[sName], {
    key: pem['leaf-key'], cert: pem['leaf-cert'], ca, requestCert: true, rejectUnauthorized: false,
  }, (s) => {
    serverSaw = { authorized: s.authorized, authorizationError: s.authorizationError };
    s.end();
  });
  const c = sc.connect(impls[cName], {
    port, host: '127.0.0.1', servername: 'localhost', ca, rejectUnauthorized: false,
    key: pem['client-key'], cert: pem['client-cert'],
  });
  await withTimeout(once(c, 'secureConnect'), 5000, `${sName}->${cName}`);
  await withTimeout(once(c, 'close'), 5000, 'close');
  return { client: { authorized: c.authorized, authorizationError: c.authorizationError }, server: serverSaw };
}

for (const [sName, cName] of implPairs()) {
  test(`v1 leaves signed by a trusted CA: ${sName} server, ${cName} client`, async (t) => {
    const trusted = await judge(sName, cName, pem['ca-cert'], t);
    assert.deepEqual(trusted, {
      client: { authorized: true, authorizationError: null },
      server: { authorized: true, authorizationError: null },
    });
    // A CA with the same name but another key: the signature does not verify.
    const forged = await judge(sName, cName, pem['other-cert'], t);
    assert.deepEqual(forged, await judge('node', 'node', pem['other-cert'], t));
    assert.equal(forged.client.authorized, false);
  });
}

for (const [sName, cName] of implPairs()) {
  test(`a chain ending in an untrusted v1 root it sends: ${sName} server, ${cName} client`, async (t) => {
    const sc = scope(t);
    const { port } = await sc.server(impls[sName], {
      key: pem['leaf-key'], cert: Buffer.concat([pem['v1leaf-cert'], pem['v1root-cert']]),
    }, (s) => s.end());
    const c = sc.connect(impls[cName], { port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
    await withTimeout(once(c, 'secureConnect'), 5000, 'secureConnect');
    assert.equal(c.authorizationError, 'SELF_SIGNED_CERT_IN_CHAIN');
  });
}

// Both ends send a v1 leaf and the intermediate that signed it; each trusts
// the root alone (or the root and the intermediate, sending the leaf alone).
async function judgeChain(sName, cName, { send, ca }, t) {
  const sc = scope(t);
  const chain = (name) => (send === 'chain' ?
    Buffer.concat([pem[`${name}-via-inter-cert`], pem['inter-cert']]) : pem[`${name}-via-inter-cert`]);
  let serverSaw;
  const { port } = await sc.server(impls[sName], {
    key: pem['leaf-key'], cert: chain('leaf'), ca, requestCert: true, rejectUnauthorized: false,
  }, (s) => {
    serverSaw = { authorized: s.authorized, authorizationError: s.authorizationError };
    s.end();
  });
  const c = sc.connect(impls[cName], {
    port, host: '127.0.0.1', servername: 'localhost', ca, rejectUnauthorized: false,
    key: pem['client-key'], cert: chain('client'),
  });
  await withTimeout(once(c, 'secureConnect'), 5000, `${sName}->${cName}`);
  await withTimeout(once(c, 'close'), 5000, 'close');
  return { client: { authorized: c.authorized, authorizationError: c.authorizationError }, server: serverSaw };
}

for (const [sName, cName] of implPairs()) {
  test(`v1 leaves under an intermediate CA: ${sName} server, ${cName} client`, async (t) => {
    const ok = { authorized: true, authorizationError: null };
    assert.deepEqual(await judgeChain(sName, cName, { send: 'chain', ca: pem['ca-cert'] }, t),
                     { client: ok, server: ok });
    assert.deepEqual(
      await judgeChain(sName, cName, { send: 'leaf', ca: [pem['ca-cert'], pem['inter-cert']] }, t),
      { client: ok, server: ok });
    // The intermediate neither sent nor known: as node:tls judges it.
    const missing = await judgeChain(sName, cName, { send: 'leaf', ca: pem['ca-cert'] }, t);
    assert.deepEqual(missing, await judgeChain('node', 'node', { send: 'leaf', ca: pem['ca-cert'] }, t));
    assert.equal(missing.client.authorized, false);
    // Under another root of the same name: the signature does not verify.
    const forged = await judgeChain(sName, cName, { send: 'chain', ca: pem['other-cert'] }, t);
    assert.deepEqual(forged, await judgeChain('node', 'node', { send: 'chain', ca: pem['other-cert'] }, t));
    assert.equal(forged.client.authorized, false);
  });
}
