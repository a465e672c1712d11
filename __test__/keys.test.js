'use strict';
// Keys and certificates in every form Node takes, differential against
// node:tls: PEM keys (PKCS#1, PKCS#8, SEC1, encrypted PKCS#8, legacy encrypted
// PEM) as server keys, `key` as an array of { pem, passphrase }, RSA+ECDSA
// pairs chosen by the client's capabilities, wrong passphrases, `pfx`, and a
// seeded fuzz test of malformed key/cert/ca/pfx input run in a child process
// per implementation (a crash or hang is detected, not suffered).
// Fixtures: scripts/gen-cert-cases.sh -> __test__/fixtures/cases/.

const FUZZ_PER_FIELD = 100;
const KEYS_FUZZ_CHILD = process.env.KEYS_FUZZ_CHILD;
if (KEYS_FUZZ_CHILD) {
  // Child mode: `KEYS_FUZZ_CHILD=<module path> node keys.test.js`.
  runFuzzChild(KEYS_FUZZ_CHILD);
  return;
}

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { impls, implNames, implPairs, implPath, fixture, scope, withTimeout, FIXTURES } = require('./helpers');

const C = (name) => fixture(`cases/${name}`);
const PASS = () => C('PASSPHRASE').toString();

// ---------------------------------------------------------------------------
// 1. Every key form as a server key: connect and exchange a line.
// ---------------------------------------------------------------------------

const rsaCert = () => C('valid-chain.pem');
const ecCert = () => C('ec256-chain.pem');

const keyForms = {
  'RSA PKCS#1 PEM (string)': () => ({ key: C('key-rsa-pkcs1.pem').toString(), cert: rsaCert() }),
  'RSA PKCS#8 PEM (Buffer)': () => ({ key: C('key-rsa-pkcs8.pem'), cert: rsaCert() }),
  'RSA encrypted PKCS#8 + passphrase': () => ({ key: C('key-rsa-pkcs8-enc.pem'), passphrase: PASS(), cert: rsaCert() }),
  'RSA legacy encrypted PEM (-aes256) + passphrase': () => ({ key: C('key-rsa-legacy-enc.pem'), passphrase: PASS(), cert: rsaCert() }),
  'key: [{ pem, passphrase }] (encrypted PKCS#8)': () => ({ key: [{ pem: C('key-rsa-pkcs8-enc.pem'), passphrase: PASS() }], cert: rsaCert() }),
  'key: [{ pem, passphrase }] overrides a wrong top-level passphrase': () => ({
    key: [{ pem: C('key-rsa-legacy-enc.pem').toString(), passphrase: PASS() }], passphrase: 'wrong', cert: rsaCert() }),
  'key: [{ pem }] inherits the top-level passphrase': () => ({ key: [{ pem: C('key-rsa-pkcs8-enc.pem') }], passphrase: PASS(), cert: rsaCert() }),
  'key: [Buffer] (unencrypted PKCS#1)': () => ({ key: [C('key-rsa-pkcs1.pem')], cert: [rsaCert()] }),
  'EC P-256 SEC1 PEM': () => ({ key: C('key-ec-sec1.pem'), cert: ecCert() }),
  'EC P-256 PKCS#8 PEM': () => ({ key: C('key-ec-pkcs8.pem'), cert: ecCert() }),
  'EC P-384 SEC1 PEM': () => ({ key: C('ec384-key.pem'), cert: C('ec384-chain.pem') }),
  'pfx (PKCS#12) + passphrase': () => ({ pfx: C('valid.pfx'), passphrase: PASS() }),
  'pfx: [{ buf, passphrase }]': () => ({ pfx: [{ buf: C('valid.pfx'), passphrase: PASS() }] }),
};

/** Server echoes one line back as `pong:<line>`; resolves with what the client saw. */
async function exchangeLine(t, sName, cName, serverOptions, clientExtra = {}) {
  const sc = scope(t);
  let server;
  try {
    server = await sc.server(impls[sName], serverOptions, (s) => {
      s.setEncoding('utf8');
      s.once('data', (line) => s.end(`pong:${line}`));
    });
  } catch (err) {
    return { serverThrew: err.code || err.message };
  }
  const sock = sc.connect(impls[cName], {
    port: server.port, host: '127.0.0.1', ca: C('root-cert.pem'), servername: 'localhost', ...clientExtra,
  });
  sock.setEncoding('utf8');
  const out = { error: null, reply: '' };
  await withTimeout(new Promise((resolve) => {
    sock.on('secureConnect', () => {
      out.authorized = sock.authorized;
      const peer = sock.getPeerCertificate();
      out.peerKey = peer.asn1Curve || (peer.modulus ? `RSA-${peer.bits}` : undefined);
      sock.write('ping\n');
    });
    sock.on('data', (d) => { out.reply += d; });
    sock.on('error', (err) => { if (!out.error) out.error = err.code; });
    sock.on('close', resolve);
  }), 5000, `${sName}->${cName}`);
  return out;
}

describe('key forms as a server key', () => {
  for (const [form, opts] of Object.entries(keyForms)) {
    describe(form, () => {
      for (const [s, c] of implPairs()) {
        test(`server ${s}, client ${c}: exchanges a line`, async (t) => {
          const r = await exchangeLine(t, s, c, opts());
          assert.deepStrictEqual(r, {
            error: null, reply: 'pong:ping\n', authorized: true,
            peerKey: form.startsWith('EC P-256') ? 'prime256v1' : form.startsWith('EC P-384') ? 'secp384r1' : 'RSA-2048',
          });
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------
// 2. RSA and ECDSA pairs at once, chosen by the client's capabilities.
// ---------------------------------------------------------------------------

const dualServer = () => ({
  key: [C('key-rsa-pkcs8.pem'), C('key-ec-sec1.pem')],
  cert: [rsaCert(), ecCert()],
});

const dualClients = {
  'default client, TLS 1.3': {},
  'default client, TLS 1.2': { maxVersion: 'TLSv1.2' },
  'sigalgs ECDSA only, TLS 1.3': { sigalgs: 'ecdsa_secp256r1_sha256', known: 'prime256v1' },
  'sigalgs RSA only, TLS 1.3': { sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256', known: 'RSA-2048' },
  'ciphers ECDHE-ECDSA only, TLS 1.2': { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', known: 'prime256v1' },
  'ciphers ECDHE-RSA only, TLS 1.2': { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', known: 'RSA-2048' },
};

describe('RSA + ECDSA pairs: key: [rsa, ec], cert: [rsa, ec]', () => {
  for (const [label, { known, ...clientOpts }] of Object.entries(dualClients)) {
    describe(label, () => {
      const memo = {};
      const base = (t) => (memo.p ||= exchangeLine(t, 'node', 'node', dualServer(), clientOpts));
      test('node:tls -> node:tls', async (t) => {
        const r = await base(t);
        assert.equal(r.error, null);
        assert.equal(r.reply, 'pong:ping\n');
        if (known) assert.equal(r.peerKey, known);
        t.diagnostic(`node:tls serves ${r.peerKey}`);
      });
      for (const [s, c] of implPairs()) {
        if (s === 'node' && c === 'node') continue;
        test(`server ${s}, client ${c} = node:tls`, async (t) => {
          const expected = await base(t);
          const actual = await exchangeLine(t, s, c, dualServer(), clientOpts);
          assert.deepStrictEqual(actual, expected);
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------
// 3. Bad passphrases, mismatched pairs, pfx errors: thrown synchronously by
//    createSecureContext and createServer, with node:tls's code.
// ---------------------------------------------------------------------------

// A PKCS#12 archive sealed as OpenSSL 1.x did (`-legacy`: RC2-40 for the
// certificates), which OpenSSL 3's default provider cannot open.
let legacyPfx = null;
function rc2Pfx() {
  if (legacyPfx === null) {
    const fs = require('node:fs');
    const os = require('node:os');
    const path = require('node:path');
    const { execFileSync } = require('node:child_process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-legacy-pfx-'));
    const out = path.join(dir, 'legacy.pfx');
    execFileSync('openssl', ['pkcs12', '-export', '-legacy', '-in', path.join(FIXTURES, 'rsa-cert.pem'),
      '-inkey', path.join(FIXTURES, 'rsa-key.pem'), '-passout', 'pass:sample', '-out', out], { stdio: 'pipe' });
    legacyPfx = fs.readFileSync(out);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return legacyPfx;
}

const badInputs = {
  'pfx sealed with RC2 (openssl pkcs12 -legacy)': () => ({ pfx: rc2Pfx(), passphrase: 'sample' }),
  'pfx sealed with RC2, wrong passphrase': () => ({ pfx: rc2Pfx(), passphrase: 'wrong' }),
  'encrypted PKCS#8, wrong passphrase': () => ({ key: C('key-rsa-pkcs8-enc.pem'), passphrase: 'wrong', cert: rsaCert() }),
  'encrypted PKCS#8, no passphrase': () => ({ key: C('key-rsa-pkcs8-enc.pem'), cert: rsaCert() }),
  'legacy encrypted PEM, wrong passphrase': () => ({ key: C('key-rsa-legacy-enc.pem'), passphrase: 'wrong', cert: rsaCert() }),
  'legacy encrypted PEM, no passphrase': () => ({ key: C('key-rsa-legacy-enc.pem'), cert: rsaCert() }),
  'key: [{ pem, passphrase: wrong }]': () => ({ key: [{ pem: C('key-rsa-pkcs8-enc.pem'), passphrase: 'wrong' }], passphrase: PASS(), cert: rsaCert() }),
  'RSA key that does not match its RSA certificate': () => ({ key: C('selfsigned-key.pem'), cert: rsaCert() }),
  'pfx, wrong passphrase': () => ({ pfx: C('valid.pfx'), passphrase: 'wrong' }),
  'pfx, no passphrase': () => ({ pfx: C('valid.pfx') }),
  'pfx, not PKCS#12': () => ({ pfx: Buffer.from('not a pfx') }),
  'cert: CERTIFICATE armor around bytes that are not DER': () => ({
    key: C('valid-key.pem'),
    cert: `-----BEGIN CERTIFICATE-----\n${Buffer.from('not a certificate at all, just text '.repeat(4)).toString('base64')}\n-----END CERTIFICATE-----\n`,
  }),
  'key: not PEM': () => ({ key: 'not a key', cert: rsaCert() }),
  'cert: not PEM': () => ({ key: C('valid-key.pem'), cert: 'not a cert' }),
  'key: a number': () => ({ key: 42, cert: rsaCert() }),
  'cert: an object': () => ({ key: C('valid-key.pem'), cert: {} }),
  'ca: a number': () => ({ ca: 7 }),
  'passphrase: a number': () => ({ key: C('key-rsa-pkcs8-enc.pem'), passphrase: 1, cert: rsaCert() }),
};

function thrownShape(fn) {
  try {
    const r = fn();
    if (r && typeof r.close === 'function') r.close();
    return { thrown: false };
  } catch (err) {
    return { thrown: true, isError: err instanceof Error, code: err.code, message: err.message };
  }
}

describe('bad keys and passphrases throw with node:tls\'s code', () => {
  for (const [label, opts] of Object.entries(badInputs)) {
    for (const fn of ['createSecureContext', 'createServer']) {
      test(`${label}: ${fn}`, (t) => {
        const results = {};
        for (const name of implNames) results[name] = thrownShape(() => impls[name][fn](opts()));
        if (results.node) {
          t.diagnostic(`node:tls: ${results.node.thrown ? `throws code=${results.node.code} ${JSON.stringify(results.node.message)}` : 'accepts'}`);
        }
        for (const [name, r] of Object.entries(results)) {
          if (name === 'node') continue;
          t.diagnostic(`${name}: ${r.thrown ? `throws code=${r.code} ${JSON.stringify(r.message)}` : 'accepts'}`);
          if (results.node.thrown && results.node.code === undefined) {
            // node:tls throws a few OpenSSL errors (pfx) with no code at all;
            // here every bad input carries one, and the same OpenSSL reason.
            assert.deepStrictEqual({ thrown: r.thrown, isError: r.isError }, { thrown: true, isError: true });
            assert.match(r.code, /^ERR_OSSL_[A-Z0-9_]+$/);
            assert.ok(r.message.includes(results.node.message), `${r.message} vs ${results.node.message}`);
            continue;
          }
          // Same outcome and code as node:tls; the message may add words.
          assert.deepStrictEqual(
            { thrown: r.thrown, isError: r.isError, code: r.code },
            { thrown: results.node.thrown, isError: results.node.isError, code: results.node.code },
          );
        }
      });
    }
  }
});

// ---------------------------------------------------------------------------
// 4. Fuzz: random bytes and mangled PEM/DER as key, cert, ca, pfx. Each case
//    either succeeds or throws an Error with a string code (node:tls throws
//    code-less errors for some pfx input; matching that is accepted), never
//    crashes or hangs. One child process per implementation.
// ---------------------------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzInputs(fs, path) {
  const dir = path.join(__dirname, 'fixtures', 'cases');
  const read = (n) => fs.readFileSync(path.join(dir, n));
  const pems = {
    key: ['valid-key.pem', 'key-rsa-pkcs1.pem', 'key-ec-sec1.pem', 'key-ec-pkcs8.pem', 'key-rsa-pkcs8-enc.pem', 'key-rsa-legacy-enc.pem'].map(read),
    cert: ['valid-cert.pem', 'valid-chain.pem', 'ec256-cert.pem', 'v1-cert.pem'].map(read),
    ca: ['root-cert.pem', 'valid-chain-root.pem', 'inter-cert.pem'].map(read),
    pfx: [read('valid.pfx')],
  };
  const derOf = (pem) => {
    const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(pem.toString('latin1'));
    return m ? Buffer.from(m[1].replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') : pem;
  };
  const cases = [];
  ['key', 'cert', 'ca', 'pfx'].forEach((field, fi) => {
    const rnd = mulberry32(0x5eed0000 + fi);
    const int = (n) => Math.floor(rnd() * n);
    const pick = (arr) => arr[int(arr.length)];
    const randomBytes = (n) => Buffer.from(Array.from({ length: n }, () => int(256)));
    const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (let i = 0; i < FUZZ_PER_FIELD; i++) {
      const src = pick(pems[field]);
      const isPem = field !== 'pfx';
      let value;
      let kind;
      switch (i % 10) {
        case 0: kind = 'random bytes'; value = randomBytes(int(2048)); break;
        case 1: kind = 'truncated'; value = isPem ? src.toString().slice(0, int(src.length)) : src.subarray(0, int(src.length)); break;
        case 2: { kind = 'byte flipped'; value = Buffer.from(src); const at = int(value.length); value[at] ^= 1 << int(8); break; }
        case 3: kind = 'DER truncated'; { const der = isPem ? derOf(src) : src; value = der.subarray(0, int(der.length + 1)); } break;
        case 4: {
          kind = 'armor with random base64';
          const label = pick(['CERTIFICATE', 'PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'X509 CRL', 'PKCS12']);
          const body = Array.from({ length: int(1200) }, () => b64[int(64)]).join('').replace(/(.{64})/g, '$1\n');
          value = `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
          break;
        }
        case 5: kind = 'DER with random tail'; value = Buffer.concat([(isPem ? derOf(src) : src).subarray(0, int(400)), randomBytes(int(200))]); break;
        case 6: kind = 'array with a truncated element'; value = [src, src.subarray(0, int(src.length))]; break;
        case 7: {
          kind = 'PEM with a mangled base64 body';
          const s = src.toString('latin1').split('');
          for (let k = 0; k < 1 + int(8); k++) { const at = 30 + int(Math.max(1, s.length - 60)); s[at] = pick([b64[int(64)], '=', '-', '\n', '\0']); }
          value = s.join('');
          break;
        }
        case 8: kind = 'random latin1 string'; value = randomBytes(int(600)).toString('latin1'); break;
        default: kind = 'concatenation of two truncations'; value = Buffer.concat([src.subarray(0, int(src.length)), pick(pems[field]).subarray(int(src.length))]);
      }
      cases.push({ field, kind, index: i, value, viaServer: i % 7 === 0 });
    }
  });
  return cases;
}

function fuzzOptions(c, read) {
  switch (c.field) {
    case 'key': return { key: c.value, cert: read('valid-cert.pem'), passphrase: 'rustls-tls case passphrase' };
    case 'cert': return { key: read('valid-key.pem'), cert: c.value };
    case 'ca': return { ca: c.value };
    default: return { pfx: c.value, passphrase: 'rustls-tls case passphrase' };
  }
}

function runFuzzChild(modulePath) {
  const fs = require('node:fs');
  const path = require('node:path');
  const tls = require(modulePath);
  const dir = path.join(__dirname, 'fixtures', 'cases');
  const read = (n) => fs.readFileSync(path.join(dir, n));
  const results = [];
  for (const c of fuzzInputs(fs, path)) {
    const opts = fuzzOptions(c, read);
    let r;
    try {
      if (c.viaServer) tls.createServer(opts).close();
      else tls.createSecureContext(opts);
      r = { ok: true };
    } catch (err) {
      r = { ok: false, isError: err instanceof Error, code: err && err.code, message: String(err && err.message).slice(0, 120) };
    }
    results.push({ field: c.field, kind: c.kind, index: c.index, ...r });
  }
  process.stdout.write(JSON.stringify(results));
}

function spawnFuzz(name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [__filename], { env: { ...process.env, KEYS_FUZZ_CHILD: implPath(name) } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, out, err });
    });
  });
}

describe('fuzz: malformed key, cert, ca, pfx', () => {
  const runs = {};
  const run = (name) => (runs[name] ||= spawnFuzz(name));

  for (const name of implNames) {
    test(`${name}: ${FUZZ_PER_FIELD * 4} inputs, no crash, no hang, errors with codes`, async (t) => {
      const { status, signal, out, err } = await run(name);
      assert.equal(signal, null, `child killed by ${signal} (hang or crash); stderr: ${err.slice(-2000)}`);
      assert.equal(status, 0, `child exited ${status}; stderr: ${err.slice(-2000)}`);
      const results = JSON.parse(out);
      assert.equal(results.length, FUZZ_PER_FIELD * 4);
      const nodeResults = name === 'node' || !impls.node ? null : JSON.parse((await run('node')).out);
      const bad = [];
      const counts = {};
      results.forEach((r, i) => {
        const key = `${r.field}:${r.ok ? 'ok' : r.code || 'no code'}`;
        counts[key] = (counts[key] || 0) + 1;
        if (r.ok) return;
        if (!r.isError) bad.push(`${r.field} #${r.index} (${r.kind}): threw a non-Error`);
        else if (typeof r.code !== 'string') {
          // node:tls itself throws code-less errors for some pfx input.
          const n = nodeResults && nodeResults[i];
          const nodeToo = name === 'node' || (n && !n.ok && typeof n.code !== 'string');
          if (!nodeToo) bad.push(`${r.field} #${r.index} (${r.kind}): no code: ${r.message}`);
        }
      });
      t.diagnostic(`outcomes: ${JSON.stringify(counts)}`);
      if (name === 'node') {
        const codeless = results.filter((r) => !r.ok && typeof r.code !== 'string');
        t.diagnostic(`node:tls code-less errors: ${codeless.length} (${[...new Set(codeless.map((r) => `${r.field}: ${r.message}`))].join('; ')})`);
        return;
      }
      assert.deepStrictEqual(bad, []);
    });
  }

  if (impls.node) {
    for (const name of implNames.filter((n) => n !== 'node')) {
      test(`${name}: agrees with node:tls on accept/throw (reported)`, async (t) => {
        const mine = JSON.parse((await run(name)).out);
        const node = JSON.parse((await run('node')).out);
        const diff = {};
        mine.forEach((r, i) => {
          const n = node[i];
          const a = r.ok ? 'ok' : r.code || 'no code';
          const b = n.ok ? 'ok' : n.code || 'no code';
          if (a !== b) {
            const k = `${r.field} (${r.kind}): node ${b} / ${name} ${a}`;
            diff[k] = (diff[k] || 0) + 1;
          }
        });
        // Informational: which inputs the two judge differently.
        t.diagnostic(`differences (count): ${JSON.stringify(diff)}`);
        const acceptDiff = mine.filter((r, i) => r.ok !== node[i].ok).length;
        t.diagnostic(`accept/throw disagreements: ${acceptDiff} of ${mine.length}`);
      });
    }
  }
});
