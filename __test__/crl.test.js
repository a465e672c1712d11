'use strict';
// Certificate revocation lists (`crl`), differential: each case runs with
// node:tls on both ends first (its result is asserted against what Node is
// known to give), then in every (server impl, client impl) pairing, which
// must give the same result. Both roles: a client checking a server's chain
// and a server (requestCert) checking a client's.
// Fixtures: scripts/gen-crl-cases.sh -> __test__/fixtures/crl/.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implPairs, fixture, scope, withTimeout } = require('./helpers');

const R = (name) => fixture(`crl/${name}`);
const TIMEOUT = 5000;

// What a client sees of a server: { authorized, authorizationError } with
// rejectUnauthorized: false, and { error: [code, message] } with true.
async function clientView(t, serverTls, clientTls, serverOptions, clientOptions) {
  const sc = scope(t);
  const { port } = await sc.server(serverTls, serverOptions, (s) => s.end('hi'));
  const base = { host: '127.0.0.1', port, servername: 'localhost', ...clientOptions };
  const lenient = await withTimeout(new Promise((resolve, reject) => {
    const c = clientTls.connect({ ...base, rejectUnauthorized: false }, () => {
      resolve({ authorized: c.authorized, authorizationError: c.authorizationError });
      c.destroy();
    });
    c.on('error', reject);
  }), TIMEOUT, 'lenient connect');
  const strict = await withTimeout(new Promise((resolve) => {
    const c = clientTls.connect({ ...base, rejectUnauthorized: true }, () => {
      resolve({ connected: true });
      c.destroy();
    });
    c.on('error', (err) => resolve({ error: [err.code, err.message] }));
  }), TIMEOUT, 'strict connect');
  return { ...lenient, ...strict };
}

// What a server with requestCert sees of a client: with
// rejectUnauthorized: false, the socket's { authorized, authorizationError };
// with true, whether the client got through.
async function serverView(t, serverTls, clientTls, serverOptions, clientOptions) {
  const sc = scope(t);
  const out = {};
  for (const rejectUnauthorized of [false, true]) {
    const server = serverTls.createServer({ ...serverOptions, requestCert: true, rejectUnauthorized });
    sc.servers.add(server);
    const seen = new Promise((resolve) => {
      server.on('secureConnection', (s) => {
        resolve({ authorized: s.authorized, authorizationError: s.authorizationError });
        s.end('hi');
      });
      server.on('tlsClientError', () => resolve({ refused: true }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = sc.connect(clientTls, {
      host: '127.0.0.1', port: server.address().port, servername: 'localhost',
      ca: R('root-cert.pem'), ...clientOptions,
    });
    c.resume();
    const result = await withTimeout(seen, TIMEOUT, 'server view');
    c.destroy();
    out[rejectUnauthorized ? 'strict' : 'lenient'] = result;
  }
  return out;
}

const revoked = (code, message) => ({
  authorized: false, authorizationError: code, error: [code, message],
});
const ok = { authorized: true, authorizationError: null, connected: true };

// Server certificates checked by a client.
const clientCases = [
  { name: 'leaf <- inter, not revoked, CRLs of inter and root', expect: ok,
    server: { key: 'good-key.pem', cert: 'good-chain.pem' },
    crl: () => [R('root.crl.pem'), R('inter.crl.pem')] },
  { name: 'leaf <- inter, revoked by inter', expect: revoked('CERT_REVOKED', 'certificate revoked'),
    server: { key: 'revoked-key.pem', cert: 'revoked-chain.pem' },
    crl: () => [R('root.crl.pem'), R('inter.crl.pem')] },
  // As in Node, one entry gives one CRL (its first): inter's CRL, second in
  // the bundle, is not read.
  { name: 'leaf <- inter, revoked; both CRLs in one PEM string (only the first is read)',
    expect: revoked('UNABLE_TO_GET_CRL', 'unable to get certificate CRL'),
    server: { key: 'revoked-key.pem', cert: 'revoked-chain.pem' },
    crl: () => R('all.crl.pem').toString() },
  { name: 'leaf <- root, revoked by root (single Buffer)', expect: revoked('CERT_REVOKED', 'certificate revoked'),
    server: { key: 'direct-revoked-key.pem', cert: 'direct-revoked-cert.pem' },
    crl: () => R('root.crl.pem') },
  { name: 'leaf <- root, not revoked (single string)', expect: ok,
    server: { key: 'direct-good-key.pem', cert: 'direct-good-cert.pem' },
    crl: () => R('root.crl.pem').toString() },
  { name: 'intermediate revoked by root', expect: revoked('CERT_REVOKED', 'certificate revoked'),
    server: { key: 'good-key.pem', cert: 'good-chain.pem' },
    crl: () => [R('root-revokes-inter.crl.pem'), R('inter.crl.pem')] },
  { name: 'no CRL from the intermediate (every level is checked)',
    expect: revoked('UNABLE_TO_GET_CRL', 'unable to get certificate CRL'),
    server: { key: 'good-key.pem', cert: 'good-chain.pem' },
    crl: () => [R('root.crl.pem')] },
  { name: 'no CRL from the root (the root is checked too)',
    expect: revoked('UNABLE_TO_GET_CRL', 'unable to get certificate CRL'),
    server: { key: 'good-key.pem', cert: 'good-chain.pem' },
    crl: () => [R('inter.crl.pem')] },
  { name: 'only a CRL from an unrelated CA', expect: revoked('UNABLE_TO_GET_CRL', 'unable to get certificate CRL'),
    server: { key: 'direct-good-key.pem', cert: 'direct-good-cert.pem' },
    crl: () => [R('other.crl.pem')] },
  { name: 'the root\'s CRL has expired', expect: revoked('CRL_HAS_EXPIRED', 'CRL has expired'),
    server: { key: 'direct-good-key.pem', cert: 'direct-good-cert.pem' },
    crl: () => [R('root-expired.crl.pem')] },
  { name: 'no crl: a revoked certificate goes unnoticed', expect: ok,
    server: { key: 'revoked-key.pem', cert: 'revoked-chain.pem' },
    crl: () => undefined },
];

describe('crl on a client', () => {
  for (const c of clientCases) {
    describe(c.name, () => {
      const serverOptions = () => ({ key: R(c.server.key), cert: R(c.server.cert) });
      const clientOptions = () => ({ ca: R('root-cert.pem'), crl: c.crl() });
      let baseline;
      test('node:tls -> node:tls gives the known result', { skip: !impls.node && 'node:tls not loaded' }, async (t) => {
        baseline = await clientView(t, impls.node, impls.node, serverOptions(), clientOptions());
        assert.deepEqual(baseline, c.expect);
      });
      for (const [s, cl] of implPairs()) {
        if (s === 'node' && cl === 'node') continue;
        test(`${s} server -> ${cl} client`, async (t) => {
          const r = await clientView(t, impls[s], impls[cl], serverOptions(), clientOptions());
          assert.deepEqual(r, c.expect);
        });
      }
    });
  }
});

// Client certificates checked by a server (requestCert).
const serverCases = [
  { name: 'client cert not revoked', client: 'client-good',
    expect: { lenient: { authorized: true, authorizationError: null }, strict: { authorized: true, authorizationError: null } } },
  { name: 'client cert revoked', client: 'client-revoked',
    expect: { lenient: { authorized: false, authorizationError: 'CERT_REVOKED' }, strict: { refused: true } } },
];

describe('crl on a server (requestCert)', () => {
  for (const c of serverCases) {
    for (const [s, cl] of implPairs()) {
      test(`${c.name}: ${s} server <- ${cl} client`, async (t) => {
        const r = await serverView(t, impls[s], impls[cl], {
          key: R('direct-good-key.pem'), cert: R('direct-good-cert.pem'),
          ca: R('root-cert.pem'), crl: R('root.crl.pem'),
        }, { key: R(`${c.client}-key.pem`), cert: R(`${c.client}-cert.pem`) });
        assert.deepEqual(r, c.expect);
      });
    }
  }
});

describe('crl option checks', () => {
  for (const [name, tls] of Object.entries(impls)) {
    test(`${name}: a CRL that does not parse throws ERR_CRYPTO_OPERATION_FAILED`, () => {
      for (const bad of ['not a crl', Buffer.from('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'),
        [R('root.crl.pem'), 'garbage']]) {
        assert.throws(() => tls.createSecureContext({ crl: bad }), (err) => {
          assert.equal(err.code, 'ERR_CRYPTO_OPERATION_FAILED');
          assert.equal(err.message, 'Failed to parse CRL');
          return true;
        });
      }
    });
    test(`${name}: a crl of the wrong type throws ERR_INVALID_ARG_TYPE`, () => {
      for (const bad of [42, { pem: 'x' }, [true]]) {
        assert.throws(() => tls.createSecureContext({ crl: bad }), { code: 'ERR_INVALID_ARG_TYPE' });
      }
    });
    test(`${name}: crl on a SecureContext given as secureContext applies`, async (t) => {
      const { server } = await scope(t).server(tls, { key: R('revoked-key.pem'), cert: R('revoked-chain.pem') },
                                               (s) => s.end());
      const secureContext = tls.createSecureContext({ ca: R('root-cert.pem'), crl: [R('root.crl.pem'), R('inter.crl.pem')] });
      const err = await withTimeout(new Promise((resolve) => {
        const c = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', secureContext },
                              () => resolve(null));
        c.on('error', resolve);
      }), TIMEOUT, 'connect');
      assert.equal(err && err.code, 'CERT_REVOKED');
    });
  }
  if (impls.rustls) {
    test('rustls: DER CRLs work as PEM ones do', async (t) => {
      const r = await clientView(t, impls.rustls, impls.rustls,
                                 { key: R('revoked-key.pem'), cert: R('revoked-chain.pem') },
                                 { ca: R('root-cert.pem'), crl: [R('root.crl.der'), R('inter.crl.der')] });
      assert.deepEqual(r, revoked('CERT_REVOKED', 'certificate revoked'));
      const good = await clientView(t, impls.rustls, impls.rustls,
                                    { key: R('good-key.pem'), cert: R('good-chain.pem') },
                                    { ca: R('root-cert.pem'), crl: [R('root.crl.der'), R('inter.crl.der')] });
      assert.deepEqual(good, ok);
    });
  }
});
