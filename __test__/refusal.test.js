'use strict';
// A server refuses a client with OpenSSL's alert where rustls would send
// another: a TLS 1.0/1.1 client gets protocol_version, a TLS 1.2 client
// without the certificate the server requires gets handshake_failure. The
// same on every server path: the plain handshake, and the one that reads
// the ClientHello first (SNICallback, 'newSession' / 'resumeSession'
// listeners, a wrapped server socket with SNICallback). Differential: the
// client's error (code and message) and the server's are those of a
// node:tls server, for each client.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const net = require('node:net');
const { impls, implPairs, certs, scope, withTimeout, onClose } = require('./helpers');

const modes = ['plain', 'SNICallback', 'session listeners', 'wrapped with SNICallback'];
const cases = {
  'TLS 1.1 client': { client: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } },
  'TLS 1.2 client without the required certificate': { server: { requestCert: true }, client: { maxVersion: 'TLSv1.2' } },
};

// OpenSSL's messages start with a thread-specific address.
const message = (err) => err.message.replace(/^[0-9A-F]+:error/, 'error').replace(/:\.\.\/deps\/openssl\S*:\d+:/, ':');

async function outcome(t, sName, cName, mode, kase) {
  const sc = scope(t);
  const S = impls[sName];
  const options = { ...certs.rsa, ca: certs.ca, ...kase.server };
  const out = {};
  const onError = (err) => { out.server = err.code; };
  if (mode.includes('SNICallback')) options.SNICallback = (name, cb) => cb(null, null);
  let port;
  if (mode.startsWith('wrapped')) {
    const server = net.createServer((raw) => {
      const s = new S.TLSSocket(raw, { isServer: true, SNICallback: options.SNICallback, requestCert: options.requestCert,
                                       rejectUnauthorized: true, secureContext: S.createSecureContext(options) });
      s.on('error', onError);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    sc.servers.add(server);
    port = server.address().port;
  } else {
    const made = await sc.server(S, options, (s) => s.end());
    made.server.on('tlsClientError', onError);
    if (mode === 'session listeners') {
      made.server.on('newSession', (id, data, cb) => cb());
      made.server.on('resumeSession', (id, cb) => cb(null, null));
    }
    port = made.port;
  }
  const c = sc.connect(impls[cName], { port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...kase.client });
  c.on('error', (err) => { out.client = [err.code, message(err)]; });
  await withTimeout(onClose(c), 5000, 'close');
  for (let i = 0; i < 50 && !out.server && c.connecting === false && out.client && !/PROTOCOLS_AVAILABLE/.test(out.client[0]); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}

for (const [s, c] of implPairs()) {
  if (s === 'node') continue;
  for (const mode of modes) {
    for (const [name, kase] of Object.entries(cases)) {
      test(`${name}, ${mode}: ${s} server, ${c} client`, async (t) => {
        const ours = await outcome(t, s, c, mode, kase);
        assert.deepEqual(ours, await outcome(t, 'node', c, mode, kase));
        if (c === 'node') {
          // (OpenSSL 3.5 names the handshake_failure alert SSL/TLS, 3.0 SSLV3.)
          assert.match(ours.client[0], name.startsWith('TLS 1.1') ?
            /^ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION$/ : /^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/);
        }
      });
    }
  }
}
