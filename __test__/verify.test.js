'use strict';
// Certificate verification, differential: every case runs with node:tls on
// both ends first (the expectation), then for every (server impl, client impl)
// pair, once with the client's defaults (rejectUnauthorized: true) and once
// with rejectUnauthorized: false. The observable result (events, err.code,
// err.message, ERR_TLS_CERT_ALTNAME_INVALID's reason/host/cert, authorized,
// authorizationError, application data) must equal node:tls's.
// Fixtures: scripts/gen-cert-cases.sh -> __test__/fixtures/cases/.
//
// CASES_TABLE=1 prints a summary table of every observed result at the end.

const { test, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { impls, implPairs, implPath, fixture, scope, withTimeout, FIXTURES } = require('./helpers');

const C = (name) => fixture(`cases/${name}`);
const CASES = path.join(FIXTURES, 'cases');
const TIMEOUT = 5000;

// ---------------------------------------------------------------------------
// The cases. `server`: createServer options; `client`: connect options (host
// is 127.0.0.1 unless given); `code`: what Node is known to give (null: the
// connection is authorized), asserted on the node:tls -> node:tls baseline.
// ---------------------------------------------------------------------------
const cases = [
  { name: 'valid chain, servername localhost', code: null,
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'valid chain, IP host (SAN IP:127.0.0.1)', code: null,
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem') }) },
  { name: 'valid chain, servername LOCALHOST. (case, trailing dot)', code: null,
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'LOCALHOST.' }) },
  { name: 'valid chain, servername 127.0.0.2 (IP not in SAN)', code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: '127.0.0.2' }) },
  { name: 'valid chain, ca as array [other root, root]', code: null,
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ ca: [C('other-root-cert.pem'), C('root-cert.pem').toString()], servername: 'localhost' }) },
  { name: 'valid chain, ca as one PEM string with two roots', code: null,
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ ca: `${C('other-root-cert.pem')}${C('root-cert.pem')}`, servername: 'localhost' }) },
  // An array in `cert` is one chain per key, not one chain: the intermediate
  // is matched against the key, which OpenSSL refuses.
  { name: 'cert as array [leaf, intermediate] (not a chain)', throws: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH',
    server: () => ({ key: C('valid-key.pem'), cert: [C('valid-cert.pem'), C('inter-cert.pem')] }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'intermediate missing (leaf only)', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-cert.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'intermediate in client ca instead of sent', code: null,
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-cert.pem') }),
    client: () => ({ ca: [C('root-cert.pem'), C('inter-cert.pem')], servername: 'localhost' }) },
  // OpenSSL completes a server's chain from the server's own `ca` store.
  { name: 'server sends leaf only, intermediate in the server ca (auto chain)', code: null,
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-cert.pem'), ca: [C('inter-cert.pem'), C('root-cert.pem')] }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'leaf expired', code: 'CERT_HAS_EXPIRED',
    server: () => ({ key: C('expired-key.pem'), cert: C('expired-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'leaf expired and wrong host (verify error wins)', code: 'CERT_HAS_EXPIRED',
    server: () => ({ key: C('expired-key.pem'), cert: C('expired-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'nothere.test' }) },
  { name: 'leaf not yet valid', code: 'CERT_NOT_YET_VALID',
    server: () => ({ key: C('notyet-key.pem'), cert: C('notyet-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'wrong host name (SAN DNS:other.example)', code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    server: () => ({ key: C('wronghost-key.pem'), cert: C('wronghost-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'wrong host name, IP host', code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    server: () => ({ key: C('wronghost-key.pem'), cert: C('wronghost-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem') }) },
  { name: 'leaf from an untrusted CA (leaf only)', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    server: () => ({ key: C('untrusted-key.pem'), cert: C('untrusted-cert.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'leaf from an untrusted CA, its root sent too', code: 'SELF_SIGNED_CERT_IN_CHAIN',
    server: () => ({ key: C('untrusted-key.pem'), cert: Buffer.concat([C('untrusted-cert.pem'), C('other-root-cert.pem')]) }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'leaf+intermediate against the default roots', code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ servername: 'localhost' }) },
  { name: 'leaf+intermediate against another root', code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ ca: C('other-root-cert.pem'), servername: 'localhost' }) },
  { name: 'self-signed leaf, no ca', code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    server: () => ({ key: C('selfsigned-key.pem'), cert: C('selfsigned-cert.pem') }),
    client: () => ({ servername: 'localhost' }) },
  { name: 'self-signed leaf, itself as ca', code: null,
    server: () => ({ key: C('selfsigned-key.pem'), cert: C('selfsigned-cert.pem') }),
    client: () => ({ ca: C('selfsigned-cert.pem'), servername: 'localhost' }) },
  { name: 'self-signed leaf, other ca', code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    server: () => ({ key: C('selfsigned-key.pem'), cert: C('selfsigned-cert.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'self-signed leaf, itself as ca, wrong host', code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    server: () => ({ key: C('selfsigned-key.pem'), cert: C('selfsigned-cert.pem') }),
    client: () => ({ ca: C('selfsigned-cert.pem'), servername: 'other.test' }) },
  { name: 'chain with its self-signed root, default roots', code: 'SELF_SIGNED_CERT_IN_CHAIN',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain-root.pem') }),
    client: () => ({ servername: 'localhost' }) },
  { name: 'chain with its self-signed root, root in ca', code: null,
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain-root.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'IP SAN only, IP host', code: null,
    server: () => ({ key: C('ip-key.pem'), cert: C('ip-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem') }) },
  { name: 'IP SAN only, servername localhost', code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    server: () => ({ key: C('ip-key.pem'), cert: C('ip-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'wildcard, foo.example.test', code: null,
    server: () => ({ key: C('wildcard-key.pem'), cert: C('wildcard-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'foo.example.test' }) },
  { name: 'wildcard, FOO.Example.Test', code: null,
    server: () => ({ key: C('wildcard-key.pem'), cert: C('wildcard-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'FOO.Example.Test' }) },
  { name: 'wildcard, a.b.example.test', code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    server: () => ({ key: C('wildcard-key.pem'), cert: C('wildcard-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'a.b.example.test' }) },
  { name: 'wildcard, example.test', code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    server: () => ({ key: C('wildcard-key.pem'), cert: C('wildcard-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'example.test' }) },
  { name: 'X.509 v1 self-signed, no ca', code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    server: () => ({ key: C('v1-key.pem'), cert: C('v1-cert.pem') }),
    client: () => ({ servername: 'localhost' }) },
  { name: 'X.509 v1 self-signed, itself as ca (CN fallback)', code: null,
    server: () => ({ key: C('v1-key.pem'), cert: C('v1-cert.pem') }),
    client: () => ({ ca: C('v1-cert.pem'), servername: 'localhost' }) },
  { name: 'X.509 v1 self-signed, itself as ca, IP host', code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    server: () => ({ key: C('v1-key.pem'), cert: C('v1-cert.pem') }),
    client: () => ({ ca: C('v1-cert.pem') }) },
  { name: 'CA-flagged self-signed as server cert, no ca', code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    server: () => ({ key: C('caflag-key.pem'), cert: C('caflag-cert.pem') }),
    client: () => ({ servername: 'localhost' }) },
  { name: 'CA-flagged self-signed as server cert, itself as ca', code: null,
    server: () => ({ key: C('caflag-key.pem'), cert: C('caflag-cert.pem') }),
    client: () => ({ ca: C('caflag-cert.pem'), servername: 'localhost' }) },
  { name: 'EC P-256 leaf chain', code: null,
    server: () => ({ key: C('ec256-key.pem'), cert: C('ec256-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'EC P-384 leaf chain', code: null,
    server: () => ({ key: C('ec384-key.pem'), cert: C('ec384-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'checkServerIdentity override accepts a wrong host', code: null,
    server: () => ({ key: C('wronghost-key.pem'), cert: C('wronghost-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost', checkServerIdentity: () => undefined }) },
  { name: 'checkServerIdentity override returns its own error', code: 'CUSTOM_IDENTITY',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({
      ca: C('root-cert.pem'),
      servername: 'localhost',
      checkServerIdentity: (host, cert) =>
        Object.assign(new Error(`refused ${host} ${cert.subject.CN}`), { code: 'CUSTOM_IDENTITY' }),
    }) },
];

// ---------------------------------------------------------------------------
// Running one connection and describing what the client saw.
// ---------------------------------------------------------------------------

function describeError(err) {
  if (!err) return null;
  const out = { code: err.code, message: err.message, isError: err instanceof Error };
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    out.reason = err.reason;
    out.host = err.host;
    out.hasCert = !!err.cert && typeof err.cert === 'object';
    out.certSubjectCN = err.cert && err.cert.subject && err.cert.subject.CN;
  }
  return out;
}

async function runClient(t, sName, cName, kase, rejectUnauthorized) {
  const sc = scope(t);
  let port;
  try {
    // The client may reject and reset the connection while the server
    // writes: either implementation may then see EPIPE/ECONNRESET on its
    // socket, which is not what these cases test.
    ({ port } = await sc.server(impls[sName], kase.server(), (s) => {
      s.on('error', () => {});
      s.end('hello\n');
    }));
  } catch (err) {
    return { serverThrew: { code: err.code, message: err.message } };
  }
  const opts = { port, host: '127.0.0.1', ...kase.client() };
  if (rejectUnauthorized === false) opts.rejectUnauthorized = false;
  const sock = sc.connect(impls[cName], opts);
  sock.setEncoding('utf8');
  const result = { events: [], error: null, data: '' };
  await withTimeout(new Promise((resolve) => {
    sock.on('secureConnect', () => {
      result.events.push('secureConnect');
      result.authorized = sock.authorized;
      result.authorizationError = sock.authorizationError;
    });
    sock.on('data', (d) => { result.data += d; });
    sock.on('error', (err) => {
      result.events.push('error');
      if (!result.error) result.error = describeError(err);
    });
    sock.on('close', () => { result.events.push('close'); resolve(); });
  }), TIMEOUT, `${sName}->${cName} ${kase.name}`);
  // 'data' may or may not be seen before an 'error'; what matters is that a
  // rejected connection delivers no application data.
  result.events = result.events.filter((e, i, a) => a.indexOf(e) === i);
  return result;
}

// Expectations computed with node:tls on both ends, once per case and mode.
const baselines = new Map();
function baseline(t, kase, mode) {
  const key = `${kase.name}|${mode}`;
  if (!baselines.has(key)) {
    baselines.set(key, runClient(t, 'node', 'node', kase, mode === 'rejectUnauthorized:false' ? false : true));
  }
  return baselines.get(key);
}

const table = [];
function summarize(r) {
  if (r.serverThrew) return `server threw ${r.serverThrew.code}`;
  if (r.error) return `error ${r.error.code}`;
  if (r.authorized) return 'authorized';
  return `connected, authorizationError=${r.authorizationError}`;
}

const MODES = ['default', 'rejectUnauthorized:false'];

for (const kase of cases) {
  describe(`verify: ${kase.name}`, () => {
    for (const mode of MODES) {
      test(`${mode}: node:tls -> node:tls gives the known result`, async (t) => {
        const base = await baseline(t, kase, mode);
        if (kase.throws) {
          assert.equal(base.serverThrew && base.serverThrew.code, kase.throws);
        } else if (mode === 'default') {
          if (kase.code === null) {
            assert.equal(base.error, null, `unexpected error ${base.error && base.error.code}`);
            assert.equal(base.authorized, true);
            assert.equal(base.data, 'hello\n');
          } else {
            assert.equal(base.error && base.error.code, kase.code);
            assert.equal(base.data, '');
            assert.ok(!base.events.includes('secureConnect'));
          }
        } else {
          assert.equal(base.error, null);
          assert.equal(base.authorized, kase.code === null);
          assert.equal(base.authorizationError, kase.code === null ? null : kase.code);
          assert.equal(base.data, 'hello\n');
        }
      });
      for (const [s, c] of implPairs()) {
        if (s === 'node' && c === 'node') continue;
        test(`${mode}: server ${s}, client ${c} = node:tls`, async (t) => {
          const expected = await baseline(t, kase, mode);
          const actual = await runClient(t, s, c, kase, mode === 'default' ? undefined : false);
          table.push({ case: kase.name, mode, pair: `${s}->${c}`, expected: summarize(expected), actual: summarize(actual) });
          assert.deepStrictEqual(actual, expected);
        });
      }
    }
  });
}

// ---------------------------------------------------------------------------
// Client certificates: server requestCert (+ rejectUnauthorized), ca = root.
// ---------------------------------------------------------------------------

const clientCertVariants = {
  'no cert': () => ({}),
  'trusted cert': () => ({ key: C('client-key.pem'), cert: C('client-cert.pem') }),
  'untrusted cert': () => ({ key: C('client-untrusted-key.pem'), cert: C('client-untrusted-cert.pem') }),
};

async function runClientAuth(t, sName, cName, { serverReject, variant, version, serverCa = 'root-cert.pem' }) {
  const sc = scope(t);
  const serverSeen = {};
  let serverSettled;
  const serverDone = new Promise((resolve) => { serverSettled = resolve; });
  const { server, port } = await sc.server(impls[sName], {
    key: C('valid-key.pem'),
    cert: C('valid-chain.pem'),
    ca: C(serverCa),
    requestCert: true,
    rejectUnauthorized: serverReject,
  }, (s) => {
    const peer = s.getPeerCertificate();
    serverSeen.secureConnection = {
      authorized: s.authorized,
      authorizationError: s.authorizationError,
      peerSubject: peer && peer.subject ? { ...peer.subject } : peer,
      peerIssuerCN: peer && peer.issuer ? peer.issuer.CN : undefined,
    };
    s.end('hello\n');
    serverSettled();
  });
  server.on('tlsClientError', (err) => {
    serverSeen.tlsClientError = err.code;
    serverSettled();
  });
  const sock = sc.connect(impls[cName], {
    port,
    host: '127.0.0.1',
    ca: C('root-cert.pem'),
    servername: 'localhost',
    minVersion: version,
    maxVersion: version,
    ...clientCertVariants[variant](),
  });
  sock.setEncoding('utf8');
  const client = { secureConnect: false, protocol: null, error: null, data: '' };
  await withTimeout(new Promise((resolve) => {
    sock.on('secureConnect', () => {
      client.secureConnect = true;
      client.protocol = sock.getProtocol();
    });
    sock.on('data', (d) => { client.data += d; });
    sock.on('error', (err) => { if (!client.error) client.error = err.code; });
    sock.on('close', resolve);
  }), TIMEOUT, `client auth ${sName}->${cName}`);
  // The server hears of a failed handshake on its own schedule; give it a
  // moment (resolves at once when it already has).
  await Promise.race([serverDone, new Promise((r) => setTimeout(r, 500))]);
  return { client, server: serverSeen };
}

for (const version of ['TLSv1.3', 'TLSv1.2']) {
  for (const serverReject of [true, false]) {
    for (const variant of Object.keys(clientCertVariants)) {
      const label = `client cert: ${version}, server rejectUnauthorized=${serverReject}, client ${variant}`;
      describe(label, () => {
        const memo = {};
        const base = (t) => (memo.p ||= runClientAuth(t, 'node', 'node', { serverReject, variant, version }));
        test('node:tls -> node:tls gives the known result', async (t) => {
          const r = await base(t);
          if (variant === 'trusted cert') {
            assert.equal(r.server.secureConnection.authorized, true);
            assert.equal(r.client.data, 'hello\n');
          } else if (!serverReject) {
            assert.equal(r.server.secureConnection.authorized, false);
            assert.equal(typeof r.server.secureConnection.authorizationError, 'string');
          } else {
            assert.equal(r.server.secureConnection, undefined);
            assert.equal(r.client.data, '');
            if (variant === 'no cert' && version === 'TLSv1.3') {
              assert.equal(r.client.error, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
            }
          }
        });
        for (const [s, c] of implPairs()) {
          if (s === 'node' && c === 'node') continue;
          test(`server ${s}, client ${c} = node:tls`, async (t) => {
            const expected = await base(t);
            const actual = await runClientAuth(t, s, c, { serverReject, variant, version });
            const sum = (r) => `server ${r.server.tlsClientError ? `tlsClientError ${r.server.tlsClientError}` : r.server.secureConnection ? `authorized=${r.server.secureConnection.authorized} ${r.server.secureConnection.authorizationError || ''}` : 'nothing'}; client ${r.client.error || (r.client.data ? 'data' : 'no data')}`;
            const want = structuredClone(expected);
            table.push({ case: label, mode: '', pair: `${s}->${c}`, expected: sum(want), actual: sum(actual) });
            assert.deepStrictEqual(actual, want);
          });
        }
      });
    }
  }
}

// OpenSSL completes a client's own chain from the client's `ca` store: a
// client cert issued by the root goes out as [client, root], so a server that
// trusts another root reports SELF_SIGNED_CERT_IN_CHAIN, not
// UNABLE_TO_VERIFY_LEAF_SIGNATURE.
describe('client cert: own chain completed from the client ca (server trusts another root)', () => {
  const opts = { serverReject: false, variant: 'trusted cert', version: 'TLSv1.3', serverCa: 'other-root-cert.pem' };
  const memo = {};
  const base = (t) => (memo.p ||= runClientAuth(t, 'node', 'node', opts));
  test('node:tls -> node:tls gives the known result', async (t) => {
    const r = await base(t);
    assert.equal(r.server.secureConnection.authorizationError, 'SELF_SIGNED_CERT_IN_CHAIN');
  });
  for (const [s, c] of implPairs()) {
    if (s === 'node' && c === 'node') continue;
    test(`server ${s}, client ${c} = node:tls`, async (t) => {
      const expected = await base(t);
      const actual = await runClientAuth(t, s, c, opts);
      const sum = (r) => `server authorizationError=${r.server.secureConnection && r.server.secureConnection.authorizationError}`;
      table.push({ case: 'client cert chain completed from client ca', mode: '', pair: `${s}->${c}`, expected: sum(expected), actual: sum(actual) });
      assert.deepStrictEqual(actual, expected);
    });
  }
});

// ---------------------------------------------------------------------------
// Weak keys: RSA 1024. Node 24 refuses them (ERR_SSL_EE_KEY_TOO_SMALL);
// Node 20/22 accept them. The package follows the Node it runs on (see
// seclevel.test.js for @SECLEVEL and chains), so node:tls is the expectation.
// ---------------------------------------------------------------------------

describe('RSA 1024-bit key', () => {
  const opts = () => ({ key: C('rsa1024-key.pem'), cert: C('rsa1024-cert.pem') });
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  const outcome = (tls, fn) => {
    try {
      const r = tls[fn](opts());
      if (r && typeof r.close === 'function') r.close();
      return null;
    } catch (err) {
      return { isError: err instanceof Error, code: err.code, sizes: /2048/.test(err.message) };
    }
  };

  for (const fn of ['createSecureContext', 'createServer']) {
    test(`${fn}: accepted or refused as node:tls on this Node`, () => {
      const ours = outcome(impls.rustls, fn);
      if (nodeMajor >= 24) assert.deepEqual(ours, { isError: true, code: 'ERR_SSL_EE_KEY_TOO_SMALL', sizes: true });
      if (impls.node) {
        const theirs = outcome(impls.node, fn);
        assert.deepEqual(ours && ours.code, theirs && theirs.code);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Trust store: rootCertificates, NODE_EXTRA_CA_CERTS (read at start-up, so
// the client runs in a child process).
// ---------------------------------------------------------------------------

test('rootCertificates equals node:tls', () => {
  for (const [name, tls] of Object.entries(impls)) {
    assert.ok(Array.isArray(tls.rootCertificates), name);
    assert.ok(Object.isFrozen(tls.rootCertificates), `${name}: frozen`);
    assert.deepStrictEqual(tls.rootCertificates, impls.node.rootCertificates, name);
  }
});

function childConnect(impl, port, env) {
  const code = `
    const tls = require(${JSON.stringify(implPath(impl))});
    const s = tls.connect({ port: ${port}, host: '127.0.0.1', servername: 'localhost' });
    s.on('secureConnect', () => { console.log(JSON.stringify({ authorized: s.authorized })); s.destroy(); });
    s.on('error', (e) => { console.log(JSON.stringify({ error: e.code })); });
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (status !== 0) reject(new Error(`child exited ${status} ${signal}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

describe('NODE_EXTRA_CA_CERTS', () => {
  for (const [s] of implPairs().filter(([, c]) => c === 'node')) {
    for (const c of Object.keys(impls)) {
      test(`server ${s}, client ${c} in a child with NODE_EXTRA_CA_CERTS=root`, async (t) => {
        const sc = scope(t);
        const { port } = await sc.server(impls[s], { key: C('valid-key.pem'), cert: C('valid-chain.pem') },
          (sock) => sock.end());
        const withExtra = await childConnect(c, port, { NODE_EXTRA_CA_CERTS: path.join(CASES, 'root-cert.pem') });
        const without = await childConnect(c, port, { NODE_EXTRA_CA_CERTS: '' });
        table.push({ case: 'NODE_EXTRA_CA_CERTS', mode: '', pair: `${s}->${c}`, expected: 'authorized / UNABLE_TO_GET_ISSUER_CERT_LOCALLY', actual: `${withExtra.error || 'authorized'} / ${without.error || 'authorized'}` });
        assert.deepStrictEqual(withExtra, { authorized: true });
        assert.deepStrictEqual(without, { error: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
      });
    }
  }
});

after(() => {
  if (!process.env.CASES_TABLE) return;
  const lines = table.map((r) => `${r.case} | ${r.mode} | ${r.pair} | ${r.expected} | ${r.actual}${r.expected === r.actual ? '' : '  <-- DIFF'}`);
  process.stderr.write(`\n${lines.join('\n')}\n`);
});
