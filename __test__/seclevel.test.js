'use strict';
// OpenSSL's security level decides which RSA keys a context takes. Node 24
// (OpenSSL 3.5) refuses RSA keys under 2048 bits; Node 20 and 22 (OpenSSL
// 3.0) take 1024-bit ones; `@SECLEVEL=n` in `ciphers` sets the level either
// way. Differential: whatever Node runs this, node:tls's answer on the same
// Node is the expectation, for a 1024-bit CA (chain verification on both
// ends) and a 1024-bit server key (signing), in every pairing.
//
// The weak certificates are made here with the openssl CLI (commands below),
// so that no weak key sits among the fixtures.

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { impls, implPairs, scope, withTimeout } = require('./helpers');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-seclevel-'));
const pem = {};

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

before(() => {
  // A 1024-bit root, a 2048-bit leaf it signs (SAN localhost), and a
  // self-signed 1024-bit leaf.
  openssl('req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', 'weakca-key.pem',
    '-out', 'weakca-cert.pem', '-days', '3650', '-subj', '/CN=weak root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf-key.pem', '-out', 'leaf.csr',
    '-subj', '/CN=localhost');
  fs.writeFileSync(path.join(dir, 'leaf.ext'),
    'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'weakca-cert.pem', '-CAkey', 'weakca-key.pem',
    '-CAcreateserial', '-days', '3650', '-sha256', '-extfile', 'leaf.ext', '-out', 'leaf-cert.pem');
  openssl('req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', 'weak-key.pem',
    '-out', 'weak-cert.pem', '-days', '3650', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost');
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.pem')) pem[f.slice(0, -4)] = fs.readFileSync(path.join(dir, f));
});

// What createServer does with the options: the error code it throws, or null.
function thrown(tls, options) {
  try {
    tls.createSecureContext(options);
    return null;
  } catch (err) {
    return err.code;
  }
}

test('a 1024-bit server key: accepted or refused as node:tls on this Node, @SECLEVEL either way', () => {
  const results = {};
  for (const [name, tls] of Object.entries(impls)) {
    results[name] = {
      plain: thrown(tls, { key: pem['weak-key'], cert: pem['weak-cert'] }),
      level0: thrown(tls, { key: pem['weak-key'], cert: pem['weak-cert'], ciphers: 'DEFAULT:@SECLEVEL=0' }),
      level1: thrown(tls, { key: pem['weak-key'], cert: pem['weak-cert'], ciphers: 'DEFAULT:@SECLEVEL=1' }),
      level2: thrown(tls, { key: pem['weak-key'], cert: pem['weak-cert'], ciphers: 'DEFAULT:@SECLEVEL=2' }),
    };
  }
  assert.equal(results.rustls.level2, 'ERR_SSL_EE_KEY_TOO_SMALL');
  assert.equal(results.rustls.level1, null);
  assert.deepEqual(results.rustls, results.node);
});

// A connection to a server whose chain is signed by the 1024-bit root, the
// client trusting that root; `level` is the client's @SECLEVEL (or none).
async function chainResult(sName, cName, level, t) {
  const sc = scope(t);
  const { port } = await sc.server(impls[sName], { key: pem['leaf-key'], cert: pem['leaf-cert'] },
    (s) => s.end('hi'));
  const options = { port, host: '127.0.0.1', servername: 'localhost', ca: pem['weakca-cert'], rejectUnauthorized: false };
  if (level !== undefined) options.ciphers = `DEFAULT:@SECLEVEL=${level}`;
  const c = sc.connect(impls[cName], options);
  const [what] = await withTimeout(Promise.race([once(c, 'secureConnect').then(() => ['secure']), once(c, 'error')]),
    5000, `${sName}->${cName}`);
  if (what !== 'secure') return { error: what.code };
  return { authorized: c.authorized, authorizationError: c.authorizationError };
}

for (const [sName, cName] of implPairs()) {
  test(`a chain signed by a 1024-bit CA: ${sName} server, ${cName} client, as node:tls judges it`, async (t) => {
    for (const level of [undefined, 1, 2]) {
      const ours = await chainResult(sName, cName, level, t);
      const theirs = await chainResult(sName, 'node', level, t);
      assert.deepEqual(ours, theirs, `@SECLEVEL=${level}`);
    }
    assert.deepEqual(await chainResult(sName, cName, 1, t), { authorized: true, authorizationError: null });
    assert.deepEqual(await chainResult(sName, cName, 2, t),
      { authorized: false, authorizationError: 'UNSPECIFIED' });
  });
}

test('a server with a 1024-bit key at @SECLEVEL=1 completes handshakes (TLS 1.2 and 1.3)', async (t) => {
  const sc = scope(t);
  for (const [sName, cName] of implPairs()) {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3']) {
      const { port } = await sc.server(impls[sName],
        { key: pem['weak-key'], cert: pem['weak-cert'], ciphers: 'DEFAULT:@SECLEVEL=1' }, (s) => s.end('hello'));
      const c = sc.connect(impls[cName], {
        port, host: '127.0.0.1', ca: pem['weak-cert'], servername: 'localhost', maxVersion,
        ciphers: 'DEFAULT:@SECLEVEL=1',
      });
      let data = '';
      c.setEncoding('utf8').on('data', (d) => { data += d; });
      await withTimeout(once(c, 'end'), 5000, `${sName}->${cName} ${maxVersion}`);
      assert.equal(data, 'hello', `${sName}->${cName} ${maxVersion}`);
      assert.equal(c.getProtocol(), maxVersion);
      assert.equal(c.authorized, true, `${sName}->${cName} ${maxVersion}: ${c.authorizationError}`);
    }
  }
});
