'use strict';
// tlsSocket.setKeyCert(context): the key and certificate a server socket
// serves, in every state, as node:tls: in SNICallback (called with the
// socket as `this`), before the handshake of a server socket over a wrapped
// stream, after 'secure' (accepted, changes nothing), after 'close' (ignored
// altogether), on a client (checked, then ignored); with Node's errors for
// bad arguments and for a context without a key or a certificate.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, withTimeout, onClose } = require('./helpers');

const [sslMajor, sslMinor] = process.versions.openssl.split('.').map(Number);
const kOpenSSL35 = sslMajor > 3 || (sslMajor === 3 && sslMinor >= 5);
const fingerprint = (pem) => new crypto.X509Certificate(pem).fingerprint256;
const which = (cert) => ({ [fingerprint(certs.rsa.cert)]: 'rsa', [fingerprint(certs.ec.cert)]: 'ec' })[cert && cert.fingerprint256] ||
  'none';
const attempt = (fn) => {
  try {
    return `returned ${fn()}`;
  } catch (err) {
    return `${err.name}: ${err.code} ${err.message}`;
  }
};

async function served(sc, T, port) {
  const c = sc.connect(T, { port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
  await withTimeout(once(c, 'secureConnect'), 5000, 'secureConnect');
  const cert = which(c.getPeerCertificate());
  c.destroy();
  return cert;
}

async function tlsServerStates(t, S, C) {
  const sc = scope(t);
  const out = {};
  const { server, port } = await sc.server(S, {
    ...certs.rsa,
    SNICallback(name, cb) {
      out.thisIsSocket = this instanceof S.TLSSocket;
      // The socket is the client's: its addresses are there already.
      out.sniSocket = [this.remoteAddress, this.remoteFamily, typeof this.remotePort, this.localPort === port,
        this.server === server];
      out.inSni = attempt(() => this.setKeyCert(certs.ec));
      // With OpenSSL 3.0 (Node 20, 22), setKeyCert's choice serves even
      // when cb gives another context; with 3.5 (Node 24), cb's does.
      cb(null, name === 'override.test' ? S.createSecureContext(certs.rsa) : null);
    },
  }, (s) => {
    out.afterSecure = [certs.ec, 'x', null, {}, { key: certs.ec.key }, S.createSecureContext(certs.ec)]
      .map((arg) => attempt(() => s.setKeyCert(arg)));
    s.end();
    s.on('close', () => {
      out.afterClose = [certs.ec, 'x'].map((arg) => attempt(() => s.setKeyCert(arg)));
    });
  });
  out.served = await served(sc, C, port);
  const c = sc.connect(C, { port, host: '127.0.0.1', servername: 'override.test', rejectUnauthorized: false });
  out.client = [attempt(() => c.setKeyCert(certs.ec)), attempt(() => c.setKeyCert('x')), attempt(() => c.setKeyCert({}))];
  await withTimeout(once(c, 'secureConnect'), 5000, 'override');
  out.overridden = which(c.getPeerCertificate());
  out.clientAfter = [attempt(() => c.setKeyCert(certs.ec)), attempt(() => c.setKeyCert(1))];
  c.resume();
  await withTimeout(onClose(c), 5000, 'close');
  for (let i = 0; i < 50 && !out.afterClose; i++) await new Promise((r) => setTimeout(r, 10));
  return out;
}

async function wrappedStates(t, S, C, sni) {
  const sc = scope(t);
  const out = {};
  const server = net.createServer((raw) => {
    const s = new S.TLSSocket(raw, {
      isServer: true,
      secureContext: S.createSecureContext(certs.rsa),
      SNICallback: sni ? function(name, cb) {
        out.inSni = attempt(() => this.setKeyCert(certs.ec));
        cb(null);
      } : undefined,
    });
    if (!sni) out.before = [{}, certs.ec].map((arg) => attempt(() => s.setKeyCert(arg)));
    s.on('error', () => {});
    s.on('secure', () => s.end());
  });
  sc.servers.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  out.served = await served(sc, C, server.address().port);
  return out;
}

for (const [s, c] of implPairs()) {
  test(`setKeyCert on a tls.Server's sockets and in its SNICallback: ${s} server, ${c} client`, async (t) => {
    const ours = await tlsServerStates(t, impls[s], impls[c]);
    assert.equal(ours.served, 'ec');
    assert.equal(ours.overridden, kOpenSSL35 ? 'rsa' : 'ec');
    assert.deepEqual(ours, await tlsServerStates(t, impls.node, impls.node));
  });
  for (const sni of [false, true]) {
    test(`setKeyCert on a server socket over a net.Socket${sni ? ', in SNICallback' : ', before its handshake'}: ` +
         `${s} server, ${c} client`, async (t) => {
      const ours = await wrappedStates(t, impls[s], impls[c], sni);
      assert.equal(ours.served, 'ec');
      assert.deepEqual(ours, await wrappedStates(t, impls.node, impls.node, sni));
    });
  }
}
