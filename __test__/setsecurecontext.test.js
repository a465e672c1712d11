'use strict';
// server.setSecureContext(options): connections accepted afterwards are
// served with a context made from `options` (certificate, ca, versions,
// ciphers, ticket keys), those accepted before keep theirs, the server's
// own properties follow the options as in Node, and bad options throw
// synchronously with Node's codes. Differential against node:tls, in every
// pairing.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');
const { impls, implPairs, implNames, certs, FIXTURES, scope, withTimeout } = require('./helpers');

const C = (n) => fs.readFileSync(path.join(FIXTURES, 'cases', n));
const fingerprint = (pem) => new crypto.X509Certificate(pem).fingerprint256;
const which = (fp) => ({ [fingerprint(certs.rsa.cert)]: 'rsa', [fingerprint(certs.ec.cert)]: 'ec' })[fp] || fp;

function connect(sc, T, port, options) {
  return withTimeout(new Promise((resolve) => {
    let gotSession;
    const got = new Promise((r) => { gotSession = r; });
    const c = sc.connect(T, { port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...options }, () => {
      resolve({
        // Resolves with the first 'session' (TLS 1.3 tickets come after
        // the handshake; a resumed one may bring none).
        ticket: Promise.race([got, new Promise((r) => setTimeout(r, 500))]).then((x) => x || c.getSession()),
        c,
        // (node:tls's client has no certificate to show for a resumed TLS
        // 1.2 session; which the server served is what matters here.)
        cert: c.isSessionReused() ? 'resumed' : which(c.getPeerCertificate().fingerprint256),
        reused: c.isSessionReused(),
        session: c.getSession(),
      });
    });
    c.once('session', gotSession);
    c.once('error', (err) => resolve({ error: err.code }));
  }), 5000, 'connect');
}

async function swapScenario(t, S, T, serverOptions, maxVersion, next = certs.ec) {
  const sc = scope(t);
  const { server, port } = await sc.server(S, { ...certs.rsa, ...serverOptions }, (s) => {
    s.on('data', (d) => s.write(`echo:${d}`));
  });
  const out = [];
  const first = await connect(sc, T, port, { maxVersion });
  // A TLS 1.3 session arrives after the handshake (written to from the
  // next turn: node:tls loses a write made inside its 'session' event).
  if (maxVersion === 'TLSv1.3') first.session = await first.ticket;
  await new Promise(setImmediate);
  out.push(first.cert);
  const returned = server.setSecureContext({ ...next, ...serverOptions });
  out.push(returned === undefined);
  // The connection made before keeps working with what it had.
  first.c.write('old');
  const [echoed] = await withTimeout(once(first.c, 'data'), 5000, 'echo');
  out.push(String(echoed), which(first.c.getPeerCertificate().fingerprint256));
  // The session of the old context: resumed or not, as Node's.
  const second = await connect(sc, T, port, { maxVersion, session: first.session });
  if (maxVersion === 'TLSv1.3' && !second.error) second.session = await second.ticket;
  await new Promise(setImmediate);
  out.push(second.cert, second.reused);
  const third = await connect(sc, T, port, { maxVersion, session: second.session });
  out.push(third.reused);
  for (const r of [first, second, third]) r.c.destroy();
  return out;
}

for (const [s, c] of implPairs()) {
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3']) {
    test(`setSecureContext swaps the certificate of new connections, ${maxVersion}: ${s} server, ${c} client`,
         async (t) => {
           const r = await swapScenario(t, impls[s], impls[c], {}, maxVersion);
           assert.deepEqual(r, ['rsa', true, 'echo:old', 'rsa', 'ec', false, true]);
           assert.deepEqual(r, await swapScenario(t, impls.node, impls.node, {}, maxVersion));
         });
    // The same certificate again: a new context has new ticket keys unless
    // the server was made with its own, which every context then gets.
    // (Swapping to another key type as well, OpenSSL resumes a TLS 1.2
    // session with its old suite; rustls does not, as the suite would now
    // be another.)
    test(`setSecureContext keeps the ticketKeys the server was made with, ${maxVersion}: ${s} server, ${c} client`,
         async (t) => {
           const ticketKeys = crypto.randomBytes(48);
           const kept = await swapScenario(t, impls[s], impls[c], { ticketKeys }, maxVersion, certs.rsa);
           assert.deepEqual(kept, ['rsa', true, 'echo:old', 'rsa', 'resumed', true, true]);
           const fresh = await swapScenario(t, impls[s], impls[c], {}, maxVersion, certs.rsa);
           assert.deepEqual(fresh, ['rsa', true, 'echo:old', 'rsa', 'rsa', false, true]);
           assert.deepEqual([kept, fresh], [
             await swapScenario(t, impls.node, impls.node, { ticketKeys }, maxVersion, certs.rsa),
             await swapScenario(t, impls.node, impls.node, {}, maxVersion, certs.rsa),
           ]);
         });
  }

  test(`setSecureContext: the new ca judges client certificates: ${s} server, ${c} client`, async (t) => {
    async function run(S, T) {
      const sc = scope(t);
      const seen = [];
      const { server, port } = await sc.server(S, { ...certs.rsa, ca: certs.ca, requestCert: true, rejectUnauthorized: false },
        (sock) => { seen.push([sock.authorized, sock.authorizationError || null]); sock.end(); });
      const client = { ...certs.client };
      const a = await connect(sc, T, port, client);
      server.setSecureContext({ ...certs.rsa, ca: C('caflag-cert.pem') });
      const b = await connect(sc, T, port, client);
      // requestCert and rejectUnauthorized are the server's, not the context's.
      server.rejectUnauthorized = true;
      server.setSecureContext({ ...certs.rsa, ca: C('caflag-cert.pem'), requestCert: false });
      const d = await connect(sc, T, port, client);
      if (d.c) await withTimeout(once(d.c, 'close'), 5000, 'close');
      for (const r of [a, b]) r.c && r.c.destroy();
      return { seen, errored: [a.error || null, b.error || null], requestCert: server.requestCert };
    }
    const r = await run(impls[s], impls[c]);
    assert.deepEqual(r, await run(impls.node, impls.node));
    assert.deepEqual(r.seen[0], [true, null]);
    assert.equal(r.seen[1][0], false);
  });
}

for (const name of implNames) {
  test(`${name}: setSecureContext sets the server's properties as Node's`, () => {
    const pick = (server) => Object.fromEntries(['key', 'cert', 'ca', 'pfx', 'passphrase', 'ciphers', 'minVersion',
      'maxVersion', 'sigalgs', 'ecdhCurve', 'honorCipherOrder', 'secureOptions', 'sessionIdContext', 'ticketKeys',
      'sessionTimeout', 'crl', 'dhparam', 'secureProtocol'].map((k) => [k, server[k]]));
    const run = (T) => {
      const server = T.createServer({ ...certs.rsa, ca: certs.ca, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', sessionTimeout: 30 });
      const made = pick(server);
      server.setSecureContext({ ...certs.ec, minVersion: 'TLSv1.3', honorCipherOrder: false, sessionIdContext: 'abc' });
      const swapped = pick(server);
      return { made, swapped, shared: typeof server._sharedCreds.context.getTicketKeys };
    };
    assert.deepEqual(run(impls[name]), run(impls.node));
  });

  test(`${name}: setSecureContext throws for bad options with Node's codes, and keeps the old context`, async (t) => {
    const codes = (T) => {
      const server = T.createServer(certs.rsa);
      const before = server._sharedCreds;
      const out = [];
      for (const bad of [undefined, null, 'x', 1, [], { key: 'garbage', cert: certs.ec.cert },
        { ...certs.ec, ciphers: 'NOPE' }, { ...certs.ec, minVersion: 'TLSv9' }, { ...certs.ec, ca: 1 },
        { ...certs.ec, ticketKeys: Buffer.alloc(3) }]) {
        try {
          server.setSecureContext(bad);
          out.push('no throw');
        } catch (err) {
          out.push(`${err.name}:${err.code}`);
        }
      }
      out.push(server._sharedCreds === before);
      return out;
    };
    assert.deepEqual(codes(impls[name]), codes(impls.node));
    // Before listen() too: the first connection gets the new certificate.
    const sc = scope(t);
    const server = impls[name].createServer(certs.rsa, (s) => s.end());
    server.setSecureContext(certs.ec);
    sc.servers.add(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const r = await connect(sc, impls.node, server.address().port, {});
    assert.equal(r.cert, 'ec');
    r.c.destroy();
  });
}
