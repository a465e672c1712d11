'use strict';
// OCSP stapling, differential: a server's 'OCSPRequest' (certificate and
// issuer as DER Buffers, and a callback that may answer later) staples what
// the callback gives; a client with requestOCSP hears it as 'OCSPResponse'
// (null when nothing was stapled) before 'secureConnect'. Every (server
// impl, client impl) pairing must see what node:tls on both ends sees, with
// one known difference: a rustls client always asks for a staple (rustls
// sends status_request in every ClientHello), so servers consult their
// 'OCSPRequest' listener for it even without requestOCSP.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const { X509Certificate } = require('node:crypto');
const { impls, implPairs, certs, scope, withTimeout } = require('./helpers');

async function run(t, S, C, { requestOCSP, response, fail }) {
  const sc = scope(t);
  const events = [];
  let seen;
  const { server, port } = await sc.server(S, { ...certs.rsa, ca: certs.ca }, (s) => s.end());
  server.on('OCSPRequest', (cert, issuer, callback) => {
    events.push('OCSPRequest');
    seen = { cert, issuer };
    // Answered later, to show that asynchronous answers work.
    setTimeout(() => callback(fail ? new Error('no OCSP today') : null,
                              response === undefined ? null : Buffer.from(response)), 30);
  });
  server.on('tlsClientError', (err) => events.push(`tlsClientError:${err.message}`));
  const c = sc.connect(C, { port, host: '127.0.0.1', rejectUnauthorized: false, requestOCSP },
                       () => events.push('secureConnect'));
  c.on('OCSPResponse', (r) => events.push(['OCSPResponse', r === null ? null : Buffer.from(r).toString()]));
  c.on('error', () => events.push('client error'));
  c.resume();
  await withTimeout(new Promise((resolve) => c.on('close', resolve)), 5000, 'close');
  return { events, seen };
}

describe('OCSP stapling', () => {
  const cases = [
    { name: 'a response is stapled', opts: { requestOCSP: true, response: 'hello world' },
      expect: ['OCSPRequest', ['OCSPResponse', 'hello world'], 'secureConnect'] },
    { name: 'no response: the client hears null', opts: { requestOCSP: true },
      expect: ['OCSPRequest', ['OCSPResponse', null], 'secureConnect'] },
    { name: 'a client that does not ask hears nothing', opts: { requestOCSP: false, response: 'x' },
      expect: ['secureConnect'], rustlsClient: ['OCSPRequest', 'secureConnect'] },
  ];
  for (const c of cases) {
    for (const [s, cl] of implPairs()) {
      test(`${c.name}: ${s} server, ${cl} client`, async (t) => {
        const r = await run(t, impls[s], impls[cl], c.opts);
        assert.deepEqual(r.events, cl === 'rustls' && c.rustlsClient ? c.rustlsClient : c.expect);
        if (r.seen) {
          // The server's certificate and the CA that issued it.
          const leaf = new X509Certificate(r.seen.cert);
          assert.ok(leaf.checkIssued(new X509Certificate(r.seen.issuer)));
          assert.equal(leaf.raw.equals(new X509Certificate(certs.rsa.cert).raw), true);
        }
      });
    }
  }
  for (const [name, tls] of Object.entries(impls)) {
    test(`${name} server: an error from the callback drops the client (tlsClientError)`, async (t) => {
      const r = await run(t, tls, impls.node, { requestOCSP: true, fail: true });
      assert.deepEqual(r.events.filter((e) => e !== 'client error'),
                       ['OCSPRequest', 'tlsClientError:no OCSP today']);
    });
  }
  if (impls.rustls) {
    test('rustls server: no listener, no consultation (the handshake is not held)', async (t) => {
      const sc = scope(t);
      const { port } = await sc.server(impls.rustls, certs.rsa, (s) => s.end());
      const c = await sc.connected(impls.rustls, { port, host: '127.0.0.1', rejectUnauthorized: false, requestOCSP: true });
      c.destroy();
    });
  }
});
