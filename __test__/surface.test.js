'use strict';
// The small exports of the module, differential: the constants, the ALPN
// helper, tls.DEFAULT_CIPHERS read by contexts made after it is assigned,
// and server.ref()/unref(). Rows of COMPAT.md link here.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, differential, withTimeout } = require('./helpers');

test('constants: the same values as node:tls', async () => {
  await differential((name, tls) => ({
    DEFAULT_ECDH_CURVE: tls.DEFAULT_ECDH_CURVE,
    DEFAULT_MIN_VERSION: tls.DEFAULT_MIN_VERSION,
    DEFAULT_MAX_VERSION: tls.DEFAULT_MAX_VERSION,
    CLIENT_RENEG_LIMIT: tls.CLIENT_RENEG_LIMIT,
    CLIENT_RENEG_WINDOW: tls.CLIENT_RENEG_WINDOW,
  }));
});

test('convertALPNProtocols: the same wire bytes, into the same property', async () => {
  await differential((name, tls) => {
    const out = [];
    for (const protocols of [['h2', 'http/1.1'], ['x'], Buffer.from('\x02h2'), new Uint8Array([1, 97])]) {
      const target = {};
      const ret = tls.convertALPNProtocols(protocols, target);
      out.push({ ret, value: target.ALPNProtocols && [...target.ALPNProtocols] });
    }
    return out;
  });
});

test('server.ref() and unref() return the server', async () => {
  await differential((name, tls) => {
    const server = tls.createServer(certs.rsa);
    return { unref: server.unref() === server, ref: server.ref() === server };
  });
});

for (const [s, c] of implPairs()) {
  test(`tls.DEFAULT_CIPHERS assigned: later contexts use it: ${s} server, ${c} client`, async (t) => {
    const sc = scope(t);
    const client = impls[c];
    const saved = client.DEFAULT_CIPHERS;
    client.DEFAULT_CIPHERS = 'ECDHE-RSA-AES256-GCM-SHA384';
    t.after(() => { client.DEFAULT_CIPHERS = saved; });
    const { port } = await sc.server(impls[s], { ...certs.rsa, maxVersion: 'TLSv1.2' });
    const socket = sc.track(client.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }));
    await withTimeout(once(socket, 'secureConnect'), 5000, 'secureConnect');
    assert.deepEqual(
      { name: socket.getCipher().name, version: socket.getProtocol() },
      { name: 'ECDHE-RSA-AES256-GCM-SHA384', version: 'TLSv1.2' });
  });
}
