'use strict';
// Certificate objects, differential: getPeerCertificate(), getPeerCertificate(true)
// (issuerCertificate chain, self-referencing root), getCertificate(),
// getPeerX509Certificate() and getX509Certificate() on both ends of a
// connection, field for field against what node:tls gives for the same
// certificates (node:tls on both ends computes the expectation).
// Fixtures: scripts/gen-cert-cases.sh -> __test__/fixtures/cases/.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const { X509Certificate } = require('node:crypto');
const { impls, implPairs, fixture, scope, withTimeout } = require('./helpers');

const C = (name) => fixture(`cases/${name}`);

const scenarios = [
  { name: 'RSA leaf + intermediate, root in ca',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'RSA leaf + intermediate + root sent',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain-root.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'RSA leaf only, intermediate and root in ca',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-cert.pem') }),
    client: () => ({ ca: [C('root-cert.pem'), C('inter-cert.pem')], servername: 'localhost' }) },
  { name: 'RSA leaf only, intermediate unknown (unverified)',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-cert.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'leaf + intermediate, no trusted root (default roots)',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem') }),
    client: () => ({ servername: 'localhost' }) },
  { name: 'EC P-256 leaf + intermediate',
    server: () => ({ key: C('ec256-key.pem'), cert: C('ec256-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'EC P-384 leaf + intermediate',
    server: () => ({ key: C('ec384-key.pem'), cert: C('ec384-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'SAN with IP only',
    server: () => ({ key: C('ip-key.pem'), cert: C('ip-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem') }) },
  { name: 'wildcard SAN',
    server: () => ({ key: C('wildcard-key.pem'), cert: C('wildcard-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'foo.example.test' }) },
  { name: 'X.509 v1 self-signed, itself as ca',
    server: () => ({ key: C('v1-key.pem'), cert: C('v1-cert.pem') }),
    client: () => ({ ca: C('v1-cert.pem'), servername: 'localhost' }) },
  { name: 'self-signed v3 leaf, untrusted',
    server: () => ({ key: C('selfsigned-key.pem'), cert: C('selfsigned-cert.pem') }),
    client: () => ({ servername: 'localhost' }) },
  { name: 'expired leaf + intermediate',
    server: () => ({ key: C('expired-key.pem'), cert: C('expired-chain.pem') }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost' }) },
  { name: 'client certificate (server requestCert), RSA chain',
    server: () => ({ key: C('valid-key.pem'), cert: C('valid-chain.pem'), ca: C('root-cert.pem'), requestCert: true }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost', key: C('client-key.pem'), cert: C('client-cert.pem') }) },
  { name: 'client certificate, EC server, untrusted client',
    server: () => ({ key: C('ec256-key.pem'), cert: C('ec256-chain.pem'), ca: C('root-cert.pem'), requestCert: true, rejectUnauthorized: false }),
    client: () => ({ ca: C('root-cert.pem'), servername: 'localhost', key: C('client-untrusted-key.pem'), cert: C('client-untrusted-cert.pem') }) },
];

// getPeerCertificate(true) as a list: each object without issuerCertificate,
// plus where its issuerCertificate points ('next', 'self', or absent).
function flattenDetailed(obj) {
  const out = [];
  const seen = new Set();
  for (let o = obj; o && !seen.has(o); o = o.issuerCertificate) {
    seen.add(o);
    const copy = Object.create(Object.getPrototypeOf(o));
    for (const k of Object.keys(o)) if (k !== 'issuerCertificate') copy[k] = o[k];
    out.push({
      cert: copy,
      hasIssuerCertificate: 'issuerCertificate' in o,
      issuerIs: o.issuerCertificate === undefined ? 'none' : o.issuerCertificate === o ? 'self' : 'next',
    });
  }
  return out;
}

function describeX509(x) {
  if (x === undefined || x === null) return x;
  const out = {
    isX509Certificate: x instanceof X509Certificate,
    raw: x.raw,
    subject: x.subject,
    issuer: x.issuer,
    subjectAltName: x.subjectAltName,
    infoAccess: x.infoAccess,
    validFrom: x.validFrom,
    validTo: x.validTo,
    fingerprint: x.fingerprint,
    fingerprint256: x.fingerprint256,
    fingerprint512: x.fingerprint512,
    serialNumber: x.serialNumber,
    ca: x.ca,
    keyUsage: x.keyUsage,
    publicKeyType: x.publicKey.asymmetricKeyType,
    text: x.toString(),
    legacy: x.toLegacyObject(),
  };
  // issuerCertificate: the issuers Node links (their raw bytes).
  const chain = [];
  const seen = new Set([x]);
  for (let i = x.issuerCertificate; i && !seen.has(i); i = i.issuerCertificate) {
    seen.add(i);
    chain.push(`${i.subject.replace(/\n/g, '/')} ${i.fingerprint256}`);
  }
  out.issuerChain = chain;
  return out;
}

// Where two values differ, as a list of 'path: actual vs expected' lines
// (readable where deepStrictEqual's diff of Buffers is not).
function diffPaths(a, b, path = '', out = [], seen = new Map()) {
  if (out.length >= 12) return out;
  const show = (v) => {
    if (Buffer.isBuffer(v)) return `Buffer(${v.length})`;
    if (v && typeof v === 'object') return Array.isArray(v) ? `Array(${v.length})` : 'object';
    return JSON.stringify(v);
  };
  if (Object.is(a, b)) return out;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    out.push(`${path || '(value)'}: ${show(a)} vs ${show(b)}`);
    return out;
  }
  if (seen.get(a) === b) return out;
  seen.set(a, b);
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    if (!(Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b))) out.push(`${path}: ${show(a)} vs ${show(b)} (bytes differ)`);
    return out;
  }
  const pa = Object.getPrototypeOf(a);
  const pb = Object.getPrototypeOf(b);
  if (pa !== pb) {
    const name = (p) => (p === null ? 'null' : (p.constructor && p.constructor.name) || 'object');
    out.push(`${path || '(value)'}: prototype ${name(pa)} vs ${name(pb)}`);
  }
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const p = `${path}.${k}`;
    if (!(k in a)) out.push(`${p}: missing vs ${show(b[k])}`);
    else if (!(k in b)) out.push(`${p}: ${show(a[k])} vs missing`);
    else diffPaths(a[k], b[k], p, out, seen);
  }
  return out;
}

function observe(sock) {
  const detailed = sock.getPeerCertificate(true);
  return {
    'getPeerCertificate()': sock.getPeerCertificate(),
    'getPeerCertificate(true) (flattened)': flattenDetailed(detailed),
    'getPeerCertificate(true)': detailed,
    'getPeerX509Certificate()': describeX509(sock.getPeerX509Certificate()),
    'getCertificate()': sock.getCertificate(),
    'getX509Certificate()': describeX509(sock.getX509Certificate()),
    authorized: sock.authorized,
  };
}

async function run(t, sName, cName, sc0) {
  const sc = scope(t);
  let resolveServer;
  const serverSeen = new Promise((resolve) => { resolveServer = resolve; });
  const { port } = await sc.server(impls[sName], sc0.server(), (s) => {
    resolveServer(observe(s));
    s.end();
  });
  const client = await sc.connected(impls[cName], {
    port, host: '127.0.0.1', rejectUnauthorized: false, ...sc0.client(),
  });
  const clientSide = observe(client);
  const serverSide = await withTimeout(serverSeen, 5000, 'server secureConnection');
  client.destroy();
  return { client: clientSide, server: serverSide };
}

for (const sc0 of scenarios) {
  describe(`certificate objects: ${sc0.name}`, () => {
    const memo = {};
    const base = (t) => (memo.p ||= run(t, 'node', 'node', sc0));

    test('node:tls -> node:tls sanity', async (t) => {
      const r = await base(t);
      assert.ok(r.client['getPeerCertificate()'].raw);
      const flat = r.client['getPeerCertificate(true) (flattened)'];
      assert.ok(flat.length >= 1);
    });

    for (const [s, c] of implPairs()) {
      if (s === 'node' && c === 'node') continue;
      test(`server ${s}, client ${c}: same objects as node:tls`, async (t) => {
        const expected = await base(t);
        const actual = await run(t, s, c, sc0);
        const diffs = [];
        for (const side of ['client', 'server']) {
          for (const key of Object.keys(expected[side])) {
            try {
              assert.deepStrictEqual(actual[side][key], expected[side][key]);
            } catch (err) {
              const paths = diffPaths(actual[side][key], expected[side][key]);
              diffs.push(`${side} ${key} (actual vs expected):\n  ${paths.length ? paths.join('\n  ') : err.message}`);
            }
          }
        }
        assert.equal(diffs.length, 0, `differs from node:tls in:\n${diffs.join('\n\n')}`);
      });
    }
  });
}

// The formats the differential tests above compare, pinned on node:tls so a
// fixture change that made them vacuous would show.
test('getPeerCertificate() field formats (node:tls facts this suite relies on)', async (t) => {
  const r = await run(t, 'node', 'node', scenarios[0]);
  const peer = r.client['getPeerCertificate()'];
  assert.match(peer.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.match(peer.valid_from, /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT$/);
  assert.equal(peer.subjectaltname, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.equal(peer.bits, 2048);
});

// A client's own certificate is its context's from construction, as Node's
// handle has it: before the connection too; {} without one; null once
// destroyed.
test('getCertificate() and getX509Certificate() before the handshake and after destroy()', () => {
  const shape = (tls, options) => {
    const s = tls.connect({ port: 1, host: '127.0.0.1', ...options });
    s.on('error', () => {});
    const before = s.getCertificate();
    const x509 = s.getX509Certificate();
    s.destroy();
    const standalone = new tls.TLSSocket(null, options).getCertificate();
    return {
      before: before && (before.subject ? before.subject.CN : Object.keys(before).length),
      x509: x509 && x509.subject,
      standalone: standalone && (standalone.subject ? standalone.subject.CN : Object.keys(standalone).length),
      destroyed: s.getCertificate(),
      destroyedX509: s.getX509Certificate(),
    };
  };
  for (const options of [{ key: fixture('client-key.pem'), cert: fixture('client-cert.pem') }, {}]) {
    const expected = shape(impls.node || require('node:tls'), options);
    for (const [name, tls] of Object.entries(impls)) assert.deepEqual(shape(tls, options), expected, name);
  }
});
