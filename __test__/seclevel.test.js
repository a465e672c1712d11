'use strict';
// OpenSSL's security level, as `@SECLEVEL=n` in `ciphers` sets it. At the
// default (level 2, Node 24's) a chain whose CA signs with a 1024-bit RSA
// key is refused; a context given '@SECLEVEL=1' (or 0) accepts it, so that
// an old internal CA can still be used deliberately. Differential against
// node:tls with the level given explicitly (Node 20's own default is 1).
// Fixtures: scripts/gen-seclevel-cases.sh -> __test__/fixtures/seclevel/.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const { impls, implPairs, fixture, certs, scope, withTimeout } = require('./helpers');

const W = (name) => fixture(`seclevel/${name}`);

async function clientView(t, S, C, clientOptions) {
  const sc = scope(t);
  const { port } = await sc.server(S, { key: W('leaf-key.pem'), cert: W('leaf-cert.pem') }, (s) => s.end());
  return withTimeout(new Promise((resolve) => {
    const c = sc.connect(C, { port, host: '127.0.0.1', servername: 'localhost', ca: W('ca1024-cert.pem'),
                              ...clientOptions }, () => {
      resolve({ authorized: c.authorized, authorizationError: c.authorizationError });
      c.destroy();
    });
    c.on('error', (err) => resolve({ error: err.code }));
  }), 5000, 'connect');
}

describe('@SECLEVEL', () => {
  for (const level of [1, 0]) {
    for (const [s, c] of implPairs()) {
      test(`a 1024-bit CA is accepted at @SECLEVEL=${level}: ${s} server, ${c} client`, async (t) => {
        const r = await clientView(t, impls[s], impls[c], { ciphers: `DEFAULT:@SECLEVEL=${level}` });
        assert.deepEqual(r, { authorized: true, authorizationError: null });
      });
    }
  }
  if (impls.rustls) {
    for (const s of Object.keys(impls)) {
      test(`a 1024-bit CA is refused at the default level: ${s} server, rustls client`, async (t) => {
        const r = await clientView(t, impls[s], impls.rustls, { rejectUnauthorized: false });
        assert.deepEqual(r, { authorized: false, authorizationError: 'CA_KEY_TOO_SMALL' });
        const strict = await clientView(t, impls[s], impls.rustls, {});
        assert.deepEqual(strict, { error: 'CA_KEY_TOO_SMALL' });
      });
    }
  }
  for (const [name, tls] of Object.entries(impls)) {
    test(`${name}: @SECLEVEL in ciphers is taken with other rules`, () => {
      tls.createSecureContext({ ciphers: 'HIGH:@SECLEVEL=1' });
      tls.createSecureContext({ ciphers: 'DEFAULT:@SECLEVEL=0' });
    });
  }
  if (impls.rustls) {
    test('rustls: a 1024-bit key of our own: refused by default, and still at @SECLEVEL=0 (aws-lc-rs)', () => {
      const own = { key: fixture('cases/rsa1024-key.pem'), cert: fixture('cases/rsa1024-cert.pem') };
      assert.throws(() => impls.rustls.createSecureContext(own), { code: 'ERR_SSL_EE_KEY_TOO_SMALL', message: /key too small/ });
      assert.throws(() => impls.rustls.createSecureContext({ ...own, ciphers: 'DEFAULT:@SECLEVEL=0' }),
                    { code: 'ERR_SSL_EE_KEY_TOO_SMALL', message: /@SECLEVEL allows it/ });
      // A 2048-bit key is unaffected.
      impls.rustls.createSecureContext({ ...certs.rsa, ciphers: 'DEFAULT:@SECLEVEL=0' });
    });
  }
});
