'use strict';
// server.addContext(hostname, context): the certificate a client gets follows
// the SNI name it sends (`*` within one label, last match wins), and the
// server socket reports that name in `servername`. Differential: the same
// scenario on node:tls and rustls-tls, for both client implementations.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');
const { impls, implPairs, certs, FIXTURES, scope, withTimeout } = require('./helpers');

const C = (n) => fs.readFileSync(path.join(FIXTURES, 'cases', n));

async function seen(sName, cName, t) {
  const sc = scope(t);
  const names = [];
  const { server, port } = await sc.server(impls[sName], certs.rsa, (s) => s.end());
  server.addContext('*.example.test', { key: C('wildcard-key.pem'), cert: C('wildcard-cert.pem') });
  server.addContext('other.example', impls[sName].createSecureContext({
    key: C('wronghost-key.pem'), cert: C('wronghost-cert.pem'),
  }));
  const out = {};
  for (const servername of ['localhost', 'a.example.test', 'a.b.example.test', 'other.example']) {
    const accepted = once(server, 'secureConnection');
    const c = sc.connect(impls[cName], { port, host: '127.0.0.1', servername, rejectUnauthorized: false });
    await withTimeout(once(c, 'secureConnect'), 5000, servername);
    names.push((await withTimeout(accepted, 5000, `${servername} accepted`))[0].servername);
    out[servername] = c.getPeerCertificate().subject.CN;
    c.destroy();
  }
  return { out, names };
}

for (const [sName, cName] of implPairs()) {
  test(`addContext: ${sName} server, ${cName} client`, async (t) => {
    const r = await seen(sName, cName, t);
    assert.deepEqual(r.out, {
      localhost: 'localhost',
      'a.example.test': '*.example.test',
      'a.b.example.test': 'localhost',
      'other.example': 'other.example',
    });
    assert.deepEqual(r.names, ['localhost', 'a.example.test', 'a.b.example.test', 'other.example']);
  });
}

test('addContext without a servername throws ERR_TLS_REQUIRED_SERVER_NAME', () => {
  for (const tls of Object.values(impls)) {
    const server = tls.createServer(certs.rsa);
    for (const bad of ['', undefined]) {
      assert.throws(() => server.addContext(bad, {}), { code: 'ERR_TLS_REQUIRED_SERVER_NAME' });
    }
  }
});

// SNICallback(servername, cb): the context it calls back with serves the
// connection (null: the server's own); an error, or something that is not a
// SecureContext, drops the connection: 'tlsClientError' on the server with
// that error and the servername, ECONNRESET on the client.
async function withCallback(sName, cName, t, decide) {
  const sc = scope(t);
  const tls = impls[sName];
  const wildcard = tls.createSecureContext({ key: C('wildcard-key.pem'), cert: C('wildcard-cert.pem') });
  const asked = [];
  const clientErrors = [];
  const { server, port } = await sc.server(tls, {
    ...certs.rsa,
    SNICallback: (servername, cb) => {
      asked.push(servername);
      decide(servername, cb, wildcard);
    },
  }, (s) => s.end());
  server.on('tlsClientError', (err, socket) => clientErrors.push([err.message, socket.servername]));
  const out = {};
  for (const servername of ['localhost', 'a.example.test']) {
    const c = sc.connect(impls[cName], { port, host: '127.0.0.1', servername, rejectUnauthorized: false });
    const r = await withTimeout(new Promise((resolve) => {
      c.once('secureConnect', () => resolve(c.getPeerCertificate().subject.CN));
      c.once('error', (err) => resolve(`error ${err.code}`));
    }), 5000, servername);
    out[servername] = r;
    // Let the server finish its side before the next connection.
    c.end();
    await withTimeout(once(c, 'close'), 5000, `${servername} close`);
  }
  await withTimeout(new Promise((r) => setTimeout(r, 50)), 1000, 'settle');
  return { out, asked, clientErrors };
}

for (const [sName, cName] of implPairs()) {
  test(`SNICallback chooses the context: ${sName} server, ${cName} client`, async (t) => {
    const r = await withCallback(sName, cName, t, (name, cb, wildcard) =>
      setImmediate(() => cb(null, name.endsWith('.example.test') ? wildcard : null)));
    assert.deepEqual(r.out, { localhost: 'localhost', 'a.example.test': '*.example.test' });
    assert.deepEqual(r.asked, ['localhost', 'a.example.test']);
    assert.deepEqual(r.clientErrors, []);
  });

  test(`SNICallback failures drop the connection: ${sName} server, ${cName} client`, async (t) => {
    const r = await withCallback(sName, cName, t, (name, cb) =>
      (name === 'localhost' ? cb(new Error('no such host')) : cb(null, {})));
    assert.deepEqual(r.out, { localhost: 'error ECONNRESET', 'a.example.test': 'error ECONNRESET' });
    assert.deepEqual(r.clientErrors, [
      ['no such host', 'localhost'],
      ['Invalid SNI context', 'a.example.test'],
    ]);
  });
}

// SNICallback answering with a context that has no certificate: the
// server's own certificate serves, as in Node; a server without one fails
// as Node with OpenSSL before 3.5 (Node 20, 22) fails setting the context
// ("passed a null parameter"), or as 3.5 (Node 24) finding no signature
// algorithm; the client hears handshake_failure. Compared with node:tls on
// the running Node.
for (const [sName, cName] of implPairs()) {
  test(`SNICallback with a certificate-less context, as node:tls: ${sName} server, ${cName} client`, async (t) => {
    const run = async (serverImpl, clientImpl, own) => {
      const sc = scope(t);
      const out = {};
      const { server, port } = await sc.server(impls[serverImpl], {
        ...(own ? certs.rsa : {}),
        SNICallback: (name, cb) => cb(null, impls[serverImpl].createSecureContext()),
      }, () => { out.secure = true; });
      server.on('tlsClientError', (e) => { out.server = { code: e.code, reason: e.reason }; });
      const c = sc.connect(impls[clientImpl], { port, host: '127.0.0.1', servername: 'any.name', rejectUnauthorized: false });
      out.client = await new Promise((resolve) => c.on('error', (e) => resolve(e.code)).on('secureConnect', () => resolve('secure')));
      for (let i = 0; i < 50 && !out.server && !out.secure; i++) await new Promise((r) => setTimeout(r, 10));
      return out;
    };
    for (const own of [true, false]) {
      assert.deepEqual(await run(sName, cName, own), await run('node', 'node', own), own ? 'own certificate' : 'none');
    }
    assert.deepEqual(await run(sName, cName, true), { client: 'secure', secure: true });
  });
}
