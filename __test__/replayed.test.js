'use strict';
// Kinds of difference found by replaying public bug reports about node:tls
// differentially (the same script against node:tls and this package). Each
// test runs one scenario against every implementation (and, where both
// ends matter, every pairing) and expects node:tls's trace.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { impls, implNames, implPairs, certs, withTimeout, delay } = require('./helpers');

// Node's OpenSSL error lines start with the id of the thread that raised
// them, which differs from run to run.
const unthread = (message) => message.replace(/^[0-9A-F]{16}:error:/, 'error:');

function shape(err) {
  if (!err) return err;
  return { name: err.name, code: err.code, message: unthread(err.message), reason: err.reason, library: err.library };
}

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

async function clientError(tls, options) {
  const s = tls.connect(options);
  const [err] = await withTimeout(once(s, 'error'), 5000, 'client error');
  if (!s.closed) await once(s, 'close');
  return err;
}

// Runs `scenario(serverTls, clientTls)` in every pairing; each trace must be
// node:tls's (both ends node:tls).
async function samePairwise(scenario) {
  const traces = {};
  for (const [s, c] of implPairs()) traces[`${s}/${c}`] = await scenario(impls[s], impls[c]);
  for (const [pair, trace] of Object.entries(traces)) assert.deepEqual(trace, traces['node/node'], pair);
  return traces['node/node'];
}

test('a TLS failure carries the OpenSSL error line Node prints: thread, function, file and line', async () => {
  const server = net.createServer((c) => {
    c.on('error', () => {});
    c.once('data', () => c.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  });
  const port = await listen(server);
  try {
    const seen = {};
    for (const name of implNames) {
      const err = await clientError(impls[name], { port, host: '127.0.0.1' });
      assert.match(err.message, /^[0-9A-F]{16}:error:0A00010B:SSL routines:\w+:wrong version number:\.\.\/deps\/openssl\/openssl\/ssl\/[\w/]+\.c:\d+:\n$/);
      seen[name] = shape(err);
    }
    for (const name of implNames) assert.deepEqual(seen[name], seen.node, name);
  } finally {
    server.close();
  }
});

test('a handshake failure and the alert it sends: the same errors on both ends, in every pairing', async () => {
  const trace = await samePairwise(async (serverTls, clientTls) => {
    const server = serverTls.createServer({ ...certs.rsa, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    let serverError;
    server.on('tlsClientError', (e) => { serverError = shape(e); });
    const port = await listen(server);
    const err = await clientError(clientTls, { port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', maxVersion: 'TLSv1.2' });
    for (let i = 0; i < 50 && !serverError; i++) await delay(10);
    server.close();
    return { server: serverError, client: shape(err) };
  });
  assert.equal(trace.server.code, 'ERR_SSL_NO_SHARED_CIPHER');
  assert.match(trace.client.message, /:SSL alert number 40\n$/);
});

test('SNI is sent only when servername is given; a client\'s servername is null until secure, then the name sent or false', async () => {
  const cases = [{ host: '127.0.0.1' }, { host: 'localhost' }, { host: '127.0.0.1', servername: 'localhost' }, { host: 'localhost', servername: '' }];
  const trace = await samePairwise(async (serverTls, clientTls) => {
    const out = [];
    const server = serverTls.createServer(certs.rsa, (c) => { out.push(['server saw', c.servername]); c.end(); });
    const port = await listen(server);
    for (const options of cases) {
      const s = clientTls.connect({ port, ca: certs.ca, checkServerIdentity: () => undefined, ...options });
      out.push(['before', s.servername]);
      await once(s, 'secureConnect');
      out.push(['after', s.servername]);
      s.resume();
      await once(s, 'close');
    }
    server.close();
    return out;
  });
  assert.deepEqual(trace.filter((t) => t[0] === 'server saw').map((t) => t[1]), [false, false, 'localhost', false]);
});

test('a client that rejects the server never completes the handshake for it: the server hears a hang-up', async () => {
  const trace = await samePairwise(async (serverTls, clientTls) => {
    const out = [];
    const server = serverTls.createServer(certs.rsa, (c) => { out.push('secureConnection'); c.on('error', () => {}); });
    server.on('tlsClientError', (e) => out.push(['tlsClientError', shape(e)]));
    const port = await listen(server);
    // The certificate is for localhost: a wrong name fails the check.
    const err = await clientError(clientTls, { port, host: '127.0.0.1', ca: certs.ca, servername: 'example.com' });
    out.push(['client', err.code]);
    const s = clientTls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' }, () => s.destroy());
    await once(s, 'close');
    for (let i = 0; i < 50 && out.length < 4; i++) await delay(10);
    await delay(50);
    server.close();
    // Server and client events interleave as the threads run: the set counts.
    return out.map((t) => JSON.stringify(t)).sort();
  });
  assert.deepEqual(trace.map((t) => JSON.parse(t)), [
    ['client', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['tlsClientError', { name: 'Error', code: 'ECONNRESET', message: 'socket hang up' }],
    ['tlsClientError', { name: 'Error', code: 'ECONNRESET', message: 'socket hang up' }],
  ]);
});

test('options Node refuses synchronously: the same errors', () => {
  const tries = {
    badPort: (tls) => tls.connect({ port: -1 }),
    portString: (tls) => tls.connect({ port: 'abc' }),
    minVersion: (tls) => tls.connect({ port: 1, minVersion: 'TLSv9' }),
    alpn: (tls) => tls.connect({ port: 1, ALPNProtocols: 1 }),
    checkServerIdentity: (tls) => tls.connect({ port: 1, checkServerIdentity: 1 }),
    minDHSizeZero: (tls) => tls.connect({ port: 1, minDHSize: 0 }),
    minDHSizeString: (tls) => tls.connect({ port: 1, minDHSize: '1' }),
    minDHSizeUndefined: (tls) => tls.connect({ port: 1, minDHSize: undefined }),
    key: (tls) => tls.createSecureContext({ key: 'nope' }),
    cert: (tls) => tls.createSecureContext({ cert: 'nope' }),
  };
  for (const [what, f] of Object.entries(tries)) {
    const seen = {};
    for (const name of implNames) {
      try {
        const r = f(impls[name]);
        r.on('error', () => {});
        r.destroy();
        seen[name] = 'no error';
      } catch (err) {
        seen[name] = { ...shape(err), message: err.message };
      }
    }
    for (const name of implNames) assert.deepEqual(seen[name], seen.node, `${what}: ${name}`);
  }
});

test('a server ignores an ALPNProtocols value that is no list, as Node', () => {
  for (const name of implNames) {
    const server = impls[name].createServer({ ...certs.rsa, ALPNProtocols: 5 });
    assert.equal(server.ALPNProtocols, undefined, name);
  }
});

test('getFinished(), getPeerFinished() and getSharedSigalgs() give null once closed', async () => {
  const seen = {};
  for (const name of implNames) {
    const tls = impls[name];
    const server = tls.createServer(certs.rsa, (c) => c.end());
    const port = await listen(server);
    const s = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    s.resume();
    await once(s, 'close');
    seen[name] = [s.getFinished(), s.getPeerFinished(), s.getSharedSigalgs()];
    server.close();
  }
  for (const name of implNames) assert.deepEqual(seen[name], [null, null, null], name);
});

test('an SNICallback answering with something that is no SecureContext: TypeError to tlsClientError', async () => {
  const seen = {};
  for (const name of implNames) {
    const tls = impls[name];
    const server = tls.createServer({ ...certs.rsa, SNICallback: (n, cb) => cb(null, { key: certs.rsa.key }) });
    const errs = [];
    server.on('tlsClientError', (e) => errs.push(`${e.name}: ${e.message}`));
    const port = await listen(server);
    await clientError(tls, { port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    for (let i = 0; i < 50 && errs.length === 0; i++) await delay(10);
    server.close();
    seen[name] = errs;
  }
  for (const name of implNames) assert.deepEqual(seen[name], ['TypeError: Invalid SNI context'], name);
});

test('renegotiate(): bad arguments throw, TLS 1.3 refuses it for its version', async () => {
  const seen = {};
  for (const name of implNames) {
    const tls = impls[name];
    const server = tls.createServer(certs.rsa, (c) => c.resume());
    const port = await listen(server);
    const s = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    await once(s, 'secureConnect');
    const out = [];
    for (const bad of [null, 'x', []]) {
      try { s.renegotiate(bad); } catch (e) { out.push(shape(e)); }
    }
    try { s.renegotiate({}, 5); } catch (e) { out.push(shape(e)); }
    const [err] = await new Promise((resolve) => out.push(s.renegotiate({}, (...a) => resolve(a))));
    out.push(shape(err));
    s.destroy();
    await once(s, 'close');
    out.push(s.renegotiate({}));
    server.close();
    seen[name] = out;
  }
  for (const name of implNames) assert.deepEqual(seen[name], seen.node, name);
});

test('ALPNCallback with ALPNProtocols is refused before the keys are read', () => {
  for (const name of implNames) {
    assert.throws(() => impls[name].createServer({ key: 'bad', ALPNCallback: () => 'a', ALPNProtocols: ['a'] }),
                  { name: 'TypeError', code: 'ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS' }, name);
  }
});

test('before its handshake a socket reports TLSv1.3 as protocol and its queue as bufferSize, whatever maxVersion', async () => {
  const seen = {};
  for (const name of implNames) {
    const server = net.createServer((c) => c.destroy());
    const port = await listen(server);
    const s = impls[name].connect({ port, host: '127.0.0.1', maxVersion: 'TLSv1.2' });
    s.on('error', () => {});
    s.write('abc');
    seen[name] = [s.getProtocol(), s.bufferSize];
    s.destroy();
    seen[name].push(s.bufferSize);
    await once(s, 'close');
    server.close();
  }
  for (const name of implNames) assert.deepEqual(seen[name], ['TLSv1.3', 3, undefined], name);
});

test('exportKeyingMaterial() after close fails as Node\'s (its handle is gone)', async () => {
  const seen = {};
  for (const name of implNames) {
    const tls = impls[name];
    const server = tls.createServer(certs.rsa, (c) => c.end());
    const port = await listen(server);
    const s = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    s.resume();
    await once(s, 'close');
    try { s.exportKeyingMaterial(8, 'label'); } catch (e) { seen[name] = shape(e); }
    server.close();
  }
  for (const name of implNames) assert.deepEqual(seen[name], seen.node, name);
});

test('a server without a certificate: no suitable signature algorithm, and the client hears handshake_failure, in every pairing', async () => {
  const trace = await samePairwise(async (serverTls, clientTls) => {
    const server = serverTls.createServer({});
    let serverError;
    server.on('tlsClientError', (e) => { serverError = shape(e); });
    const port = await listen(server);
    const err = await clientError(clientTls, { port, host: '127.0.0.1', rejectUnauthorized: false });
    for (let i = 0; i < 50 && !serverError; i++) await delay(10);
    server.close();
    return { server: serverError, client: shape(err) };
  });
  assert.equal(trace.server.code, 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM');
  assert.match(trace.client.message, /:SSL alert number 40\n$/);
});

test("maxConnections: a refused connection is reported by 'drop', with its addresses", async () => {
  const seen = {};
  for (const name of implNames) {
    const tls = impls[name];
    const server = tls.createServer(certs.rsa, (c) => c.resume());
    server.maxConnections = 1;
    const drops = [];
    server.on('drop', (d) => drops.push(d));
    const port = await listen(server);
    const a = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    await once(a, 'secureConnect');
    const b = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    let bPort;
    b.on('connect', () => { bPort = b.localPort; });
    await new Promise((resolve) => b.on('error', () => {}).on('close', resolve));
    for (let i = 0; i < 50 && drops.length === 0; i++) await delay(10);
    a.destroy();
    server.close();
    assert.equal(drops.length, 1, name);
    const [d] = drops;
    assert.equal(d.remotePort, bPort, name);
    assert.equal(d.localPort, port, name);
    seen[name] = [Object.getPrototypeOf(d), Object.keys(d), d.localAddress, d.localFamily, d.remoteAddress, d.remoteFamily];
  }
  for (const name of implNames) assert.deepEqual(seen[name], seen.node, name);
});

test('a CA-issued server certificate given as ca is no trust anchor (OpenSSL without partial chains)', async () => {
  const seen = {};
  for (const name of implNames) {
    const tls = impls[name];
    const out = [];
    for (const chain of [certs.rsa.cert, Buffer.concat([certs.rsa.cert, certs.ca])]) {
      const server = tls.createServer({ key: certs.rsa.key, cert: chain }, (c) => c.end());
      const port = await listen(server);
      const s = tls.connect({ port, host: '127.0.0.1', ca: [certs.rsa.cert], servername: 'localhost', rejectUnauthorized: false });
      await once(s, 'secureConnect');
      out.push([s.authorized, s.authorizationError]);
      s.destroy();
      server.close();
    }
    // A self-signed certificate given as ca is trusted, as in Node.
    const server = tls.createServer(certs.doc, (c) => c.end());
    const port = await listen(server);
    const s = tls.connect({ port, host: '127.0.0.1', ca: [certs.doc.cert], servername: 'localhost' });
    await once(s, 'secureConnect');
    out.push([s.authorized, s.authorizationError]);
    s.destroy();
    server.close();
    seen[name] = out;
  }
  for (const name of implNames) {
    assert.deepEqual(seen[name], [[false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'], [false, 'SELF_SIGNED_CERT_IN_CHAIN'], [true, null]], name);
  }
});
