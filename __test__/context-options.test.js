'use strict';
// What a SecureContext carries applies to the connections that use it:
// minVersion/maxVersion, ciphers (OpenSSL cipher strings and TLS 1.3 names),
// ecdhCurve, honorCipherOrder; with Node's errors at createSecureContext.
// Differential: every case in every (server impl, client impl) pairing must
// give what node:tls on both ends gives.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const { impls, implPairs, certs, scope, withTimeout } = require('./helpers');

// Connects and reports what each end saw.
async function negotiate(t, S, C, serverOptions, clientOptions) {
  const sc = scope(t);
  let serverView;
  const { port } = await sc.server(S, { ...certs.rsa, ...serverOptions }, (s) => {
    serverView = { protocol: s.getProtocol(), cipher: s.getCipher(), eph: s.getEphemeralKeyInfo() };
    s.end();
  });
  const opts = typeof clientOptions === 'function' ? clientOptions(C) : clientOptions;
  return withTimeout(new Promise((resolve) => {
    const c = sc.connect(C, { port, host: '127.0.0.1', rejectUnauthorized: false, ...opts }, () => {
      const clientView = { protocol: c.getProtocol(), cipher: c.getCipher(), eph: c.getEphemeralKeyInfo() };
      c.resume();
      c.on('close', () => resolve({ client: clientView, server: serverView }));
    });
    c.on('error', (err) => resolve({ error: err.code }));
  }), 5000, 'negotiate');
}

const cases = [
  { name: 'secureContext with maxVersion TLSv1.2 and one suite',
    server: {},
    client: (C) => ({ secureContext: C.createSecureContext({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }) }),
    expect: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384' } },
  { name: 'connection options beside a secureContext are not consulted',
    server: {},
    client: (C) => ({ maxVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256',
                      secureContext: C.createSecureContext({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }) }),
    expect: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' } },
  { name: 'server maxVersion TLSv1.2, alias rule list on the client',
    server: { maxVersion: 'TLSv1.2' },
    client: { ciphers: 'ECDHE+AESGCM:!AES128:!ECDSA' },
    expect: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384' } },
  { name: 'TLS 1.3 suite names alone: TLS 1.3 with that suite',
    server: {},
    client: { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' },
    expect: { protocol: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256' } },
  { name: 'server ciphers restrict TLS 1.3 suites too',
    server: { ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256' },
    client: {},
    expect: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } },
  { name: 'honorCipherOrder: the server\'s order wins (TLS 1.2)',
    server: { maxVersion: 'TLSv1.2', honorCipherOrder: true,
              ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384' },
    client: { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' },
    expect: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' } },
  { name: 'a server honours its own order by default (TLS 1.2)',
    server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384' },
    client: { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' },
    expect: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' } },
  { name: 'honorCipherOrder: false, the client\'s order wins (TLS 1.2)',
    server: { maxVersion: 'TLSv1.2', honorCipherOrder: false,
              ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384' },
    client: { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' },
    expect: { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384' } },
  { name: 'ecdhCurve P-384 on the client (TLS 1.3)',
    server: {},
    client: { ecdhCurve: 'P-384' },
    expect: { protocol: 'TLSv1.3', eph: { type: 'ECDH', name: 'secp384r1', size: 384 } } },
  { name: 'ecdhCurve prime256v1 on the server (TLS 1.2)',
    server: { ecdhCurve: 'prime256v1', maxVersion: 'TLSv1.2' },
    client: {},
    expect: { protocol: 'TLSv1.2', eph: { type: 'ECDH', name: 'prime256v1', size: 256 } } },
  { name: 'ecdhCurve list X25519:P-256 on both',
    server: { ecdhCurve: 'X25519:P-256' },
    client: { ecdhCurve: 'X25519:P-256' },
    expect: { protocol: 'TLSv1.3', eph: { type: 'ECDH', name: 'X25519', size: 253 } } },
  { name: 'no common group', server: { ecdhCurve: 'P-384' }, client: { ecdhCurve: 'X25519' },
    expect: 'error' },
  { name: 'no common TLS 1.2 suite', server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' },
    client: { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }, expect: 'error' },
];

function pick(r, expect) {
  if (r.error) return 'error';
  const out = { protocol: r.client.protocol };
  if (expect.cipher) out.cipher = r.client.cipher.name;
  if (expect.eph) out.eph = r.client.eph;
  return out;
}

describe('SecureContext options reach the connection', () => {
  for (const c of cases) {
    for (const [s, cl] of implPairs()) {
      test(`${c.name}: ${s} server, ${cl} client`, async (t) => {
        const r = await negotiate(t, impls[s], impls[cl], c.server, c.client);
        assert.deepEqual(pick(r, c.expect), c.expect);
        if (!r.error) {
          // getCipher()'s shape, and the server's view of the same facts.
          assert.deepEqual(Object.keys(r.client.cipher), ['name', 'standardName', 'version']);
          assert.equal(r.client.cipher.version, r.client.protocol);
          assert.deepEqual(r.server.cipher, r.client.cipher);
          assert.equal(r.server.protocol, r.client.protocol);
          assert.equal(r.server.eph, null);
        }
      });
    }
  }
});

describe('createSecureContext checks', () => {
  const shape = (tls, options) => {
    try {
      tls.createSecureContext(options);
      return 'ok';
    } catch (err) {
      return [err.name, err.code, err.message];
    }
  };
  const inputs = [
    { ciphers: 'FOOBARBAZ' }, { ciphers: 'aes256-sha' }, { ciphers: 'TLS_not_a_cipher' },
    { ciphers: 'TLS_AES_128_GCM_SHA256:FOO' }, { ciphers: '!ALL' }, { ciphers: ':' },
    { ciphers: 'HIGH:!aNULL' }, { ciphers: 'AES128-SHA256' }, { ciphers: '' },
    { ecdhCurve: 'foo' }, { ecdhCurve: 'P-256:foo' }, { ecdhCurve: 'auto' }, { ecdhCurve: 'X25519:P-256' },
    { ecdhCurve: 42 }, { sigalgs: '' }, { ciphers: 42 },
    { sigalgs: 'foo' }, { sigalgs: 'RSA-PSS+SHA256:foo' }, { sigalgs: 'RSA+SHA256:rsa_pss_rsae_sha256:ed448' },
  ];
  for (const [name, tls] of Object.entries(impls)) {
    test(`${name}: Node's errors`, () => {
      const got = inputs.map((o) => shape(tls, o));
      const codes = got.map((g) => (g === 'ok' ? 'ok' : g[1]));
      assert.deepEqual(codes, [
        'ERR_SSL_NO_CIPHER_MATCH', 'ERR_SSL_NO_CIPHER_MATCH', 'ERR_SSL_NO_CIPHER_MATCH',
        'ERR_SSL_NO_CIPHER_MATCH', 'ERR_SSL_NO_CIPHER_MATCH', 'ERR_INVALID_ARG_VALUE',
        'ok', 'ok', 'ok',
        'ERR_CRYPTO_OPERATION_FAILED', 'ERR_CRYPTO_OPERATION_FAILED', 'ok', 'ok',
        'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE',
        // OpenSSL's empty error, without a code, as Node throws it.
        undefined, undefined, 'ok',
      ]);
    });
  }
  test('the messages are node:tls\'s', { skip: !(impls.node && impls.rustls) && 'needs both' }, () => {
    for (const o of inputs) {
      const n = shape(impls.node, o);
      const r = shape(impls.rustls, o);
      if (n === 'ok') assert.equal(r, 'ok');
      else assert.deepEqual(r.slice(1), n.slice(1), JSON.stringify(o));
    }
  });
});

describe('secureContext.context methods', () => {
  for (const [s, c] of implPairs()) {
    test(`addCACert() trusts a CA from then on, for that context only: ${s} server, ${c} client`, async (t) => {
      const sc = scope(t);
      const C = impls[c];
      const { port } = await sc.server(impls[s], certs.rsa, (sock) => sock.end());
      const attempt = (secureContext) => withTimeout(new Promise((resolve) => {
        const sock = sc.connect(C, { port, host: '127.0.0.1', servername: 'localhost', secureContext }, () => {
          resolve('ok');
          sock.destroy();
        });
        sock.on('error', (err) => resolve(err.code));
      }), 5000, 'connect');
      const without = C.createSecureContext({});
      const withCa = C.createSecureContext({});
      withCa.context.addCACert(certs.ca);
      assert.equal(await attempt(without), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      assert.equal(await attempt(withCa), 'ok');
    });

    test(`setCiphers() changes the TLS 1.2 suites of later connections: ${s} server, ${c} client`, async (t) => {
      const C = impls[c];
      const secureContext = C.createSecureContext({ maxVersion: 'TLSv1.2' });
      secureContext.context.setCiphers('ECDHE-RSA-AES256-GCM-SHA384');
      const r = await negotiate(t, impls[s], C, {}, { secureContext });
      assert.equal(r.client.cipher.name, 'ECDHE-RSA-AES256-GCM-SHA384');
    });
  }
});

describe('a version range with nothing in it', () => {
  async function outcome(t, S, C, serverOptions, clientOptions) {
    const sc = scope(t);
    const out = {};
    const { server, port } = await sc.server(S, { ...certs.rsa, ...serverOptions }, (s) => s.end());
    server.on('tlsClientError', (err) => { out.server = err.code; });
    await withTimeout(new Promise((resolve) => {
      const c = sc.connect(C, { port, host: '127.0.0.1', rejectUnauthorized: false, ...clientOptions },
                           () => { out.client = c.getProtocol(); c.destroy(); });
      c.on('error', (err) => { out.client = err.code; });
      c.on('close', resolve);
    }), 5000, 'close');
    for (let i = 0; i < 50 && serverOptions.maxVersion && !out.server; i++) await new Promise((r) => setTimeout(r, 10));
    return out;
  }
  for (const [s, c] of implPairs()) {
    test(`client maxVersion TLSv1.1: no protocols available: ${s} server, ${c} client`, async (t) => {
      const r = await outcome(t, impls[s], impls[c], {}, { maxVersion: 'TLSv1.1' });
      assert.equal(r.client, 'ERR_SSL_NO_PROTOCOLS_AVAILABLE');
    });
    test(`client minVersion above maxVersion: no protocols available: ${s} server, ${c} client`, async (t) => {
      const r = await outcome(t, impls[s], impls[c], {}, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' });
      assert.equal(r.client, 'ERR_SSL_NO_PROTOCOLS_AVAILABLE');
    });
    test(`server maxVersion TLSv1.1: each handshake refused with protocol_version: ${s} server, ${c} client`, async (t) => {
      const r = await outcome(t, impls[s], impls[c], { maxVersion: 'TLSv1.1' }, {});
      assert.deepEqual(r, { server: 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', client: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    });
  }
});

describe('@SECLEVEL glued to a rule, as OpenSSL reads it', () => {
  for (const [name, tls] of Object.entries(impls)) {
    test(`${name}: 'ALL@SECLEVEL=0' and 'DEFAULT@SECLEVEL=1' are taken`, () => {
      tls.createSecureContext({ ciphers: 'ALL@SECLEVEL=0' });
      tls.createSecureContext({ ciphers: 'DEFAULT@SECLEVEL=1' });
    });
  }
});

describe("addContext(): the chosen context's ca judges client certificates", () => {
  for (const [s, c] of implPairs()) {
    test(`${s} server, ${c} client`, async (t) => {
      const sc = scope(t);
      const S = impls[s];
      const seen = [];
      const { server, port } = await sc.server(S, { ...certs.rsa, requestCert: true, rejectUnauthorized: false },
                                               (sock) => { seen.push([sock.servername, sock.authorized]); sock.end(); });
      const attempt = (servername) => withTimeout(new Promise((resolve) => {
        const sock = sc.connect(impls[c], { port, host: '127.0.0.1', servername, rejectUnauthorized: false,
                                            ...certs.client }, () => sock.resume());
        sock.on('close', resolve);
      }), 5000, 'connect');
      await attempt('a.example.com');
      server.addContext('*.example.com', S.createSecureContext({ ...certs.rsa, ca: certs.ca }));
      await attempt('b.example.com');
      await attempt('other.test');
      assert.deepEqual(seen, [['a.example.com', false], ['b.example.com', true], ['other.test', false]]);
    });
  }
});

describe('rejectUnauthorized: undefined is not false', () => {
  for (const [s, c] of implPairs()) {
    test(`an untrusted server is refused: ${s} server, ${c} client`, async (t) => {
      const sc = scope(t);
      const { port } = await sc.server(impls[s], certs.rsa, (sock) => sock.end('ng'));
      const outcome = await withTimeout(new Promise((resolve) => {
        const sock = sc.connect(impls[c], { port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: undefined },
                                () => resolve('connected'));
        sock.on('error', (err) => resolve(err.code));
      }), 5000, 'connect');
      assert.equal(outcome, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    });
  }
});
