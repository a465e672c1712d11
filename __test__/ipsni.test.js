'use strict';
// An IP address as `servername`. OpenSSL sends it in the server_name
// extension (RFC 6066 forbids it; Node only warns, DEP0123) and a Node
// server reports it as `servername` and asks SNICallback about it. rustls
// ignores such a name when it receives one, so this package's server reads
// it from the ClientHello's bytes itself. rustls will not send one either
// (its ClientHello takes DNS names only, and a ClientHello cannot be
// rewritten under the handshake's transcript): a client of this package
// sends no SNI for an IP address, which the README lists as a difference.
// Its checkServerIdentity still gets the address, as Node's does. A context
// added for an address (`addContext('127.0.0.1', ...)`) serves a client that
// names it, as in Node.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, withTimeout } = require('./helpers');

async function observe(t, sName, cName, servername, { sni = false, wrapped = false } = {}) {
  const sc = scope(t);
  const S = impls[sName];
  const seen = { asked: [] };
  const options = { ...certs.rsa };
  if (sni) {
    options.SNICallback = (name, cb) => {
      seen.asked.push(name);
      cb(null, null);
    };
  }
  const onSecure = (s) => {
    seen.server = s.servername;
    s.end();
  };
  let server;
  let port;
  if (wrapped) {
    // A server socket over a net.Socket, as STARTTLS servers make them.
    server = require('node:net').createServer((raw) => {
      const s = new S.TLSSocket(raw, { isServer: true, ...(sni ? { SNICallback: options.SNICallback } : {}),
                                       secureContext: S.createSecureContext(certs.rsa) });
      s.on('secure', () => onSecure(s));
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    sc.servers.add(server);
    port = server.address().port;
  } else {
    ({ server, port } = await sc.server(S, options, onSecure));
  }
  const c = sc.connect(impls[cName], {
    port, host: '127.0.0.1', servername, ca: certs.ca,
    checkServerIdentity: (host) => {
      seen.checked = host;
      return undefined;
    },
  });
  await withTimeout(once(c, 'secureConnect'), 5000, 'secureConnect');
  seen.client = [c.servername, c.authorized];
  await withTimeout(once(c, 'close'), 5000, 'close');
  return seen;
}

// A warning nobody asked for would go to stderr: the tests expect DEP0123.
process.on('warning', () => {});

for (const [s, c] of implPairs()) {
  for (const servername of ['127.0.0.1', '::1']) {
    for (const mode of [{}, { sni: true }, { wrapped: true }, { wrapped: true, sni: true }]) {
      const label = `${servername}${mode.sni ? ', SNICallback' : ''}${mode.wrapped ? ', wrapped server socket' : ''}`;
      test(`servername ${label}: ${s} server, ${c} client`, async (t) => {
        const ours = await observe(t, s, c, servername, mode);
        // The server reports what node:tls's server reports for this client.
        assert.deepEqual(ours, await observe(t, 'node', c, servername, mode));
        // The client sees what node:tls's client sees.
        const node = await observe(t, s, 'node', servername, mode);
        assert.deepEqual([ours.client, ours.checked], [node.client, node.checked]);
        assert.deepEqual(ours.client, [servername, true]);
        if (c === 'node') {
          assert.equal(ours.server, servername);
          assert.deepEqual(ours.asked, mode.sni ? [servername] : []);
        } else {
          // The difference rustls imposes: no SNI for an IP address.
          assert.equal(ours.server, false);
        }
      });
    }
  }
}

for (const [s, c] of implPairs()) {
  test(`addContext for an IP address: ${s} server, ${c} client`, async (t) => {
    async function run(S, C) {
      const sc = scope(t);
      const { server, port } = await sc.server(S, { ...certs.rsa, requestCert: true, rejectUnauthorized: false }, (sock) => {
        seen.push([sock.servername, sock.authorized]);
        sock.end();
      });
      // The address's context has the ca that judges client certificates.
      server.addContext('127.0.0.1', { ...certs.ec, ca: certs.ca });
      const seen = [];
      const got = [];
      for (const servername of ['127.0.0.1', 'localhost']) {
        const cl = sc.connect(C, { port, host: '127.0.0.1', servername, rejectUnauthorized: false, ...certs.client });
        await withTimeout(once(cl, 'secureConnect'), 5000, servername);
        got.push(cl.getPeerCertificate().fingerprint256 === new (require('node:crypto').X509Certificate)(certs.ec.cert)
          .fingerprint256 ? 'ec' : 'rsa');
        cl.resume();
        await withTimeout(once(cl, 'close'), 5000, 'close');
      }
      return { got, seen };
    }
    const ours = await run(impls[s], impls[c]);
    const node = await run(impls.node, impls[c]);
    assert.deepEqual(ours, node);
    if (c === 'node') assert.deepEqual(ours, { got: ['ec', 'rsa'], seen: [['127.0.0.1', true], ['localhost', false]] });
  });
}
