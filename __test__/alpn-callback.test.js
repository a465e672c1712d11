'use strict';
// The server's ALPNCallback option (Node docs, tls.createServer()): called
// with { servername, protocols } for each client that offers ALPN; the
// protocol it returns is selected, `undefined` refuses the client with a
// no_application_protocol alert, and a callback that throws or returns a
// protocol the client did not offer drops the client (its error to
// 'tlsClientError'). Differential: each pairing against node:tls on both
// ends.

const { test } = require('node:test');
const net = require('node:net');
const { X509Certificate } = require('node:crypto');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, onClose, delay } = require('./helpers');

const scenarios = {
  'second preference': { alpn: ['a', 'b', 'c'], pick: (p) => p[1] },
  'undefined refuses': { alpn: ['a'], pick: (p) => p[1], servername: null },
  'not offered': { alpn: ['http/1', 'h2'], pick: () => 'http/5' },
  'no ALPN from the client': { alpn: undefined, pick: () => 'x' },
  'the callback throws': { alpn: ['a'], pick: () => { throw new RangeError('boom'); } },
};

async function outcome(sName, cName, { alpn, pick, servername = 'localhost' }, t) {
  const sc = scope(t);
  const out = { calls: [] };
  const { server, port } = await sc.server(impls[sName], {
    ...certs.rsa,
    ALPNCallback: (arg) => {
      out.calls.push(arg);
      return pick(arg.protocols);
    },
  }, (s) => {
    out.server = s.alpnProtocol;
    s.end();
  });
  server.on('tlsClientError', (e) => {
    out.serverError = e.code === undefined ? e.message : e.code;
  });
  return connectAndWait(sc, cName, port, { alpn, servername }, out);
}

// A client of `cName` offering `alpn`: its outcome goes into `out`, which is
// returned once the client closed and the server side has spoken.
async function connectAndWait(sc, cName, port, { alpn, servername }, out) {
  const c = sc.connect(impls[cName], {
    port, host: '127.0.0.1', ca: certs.ca, ALPNProtocols: alpn,
    ...(servername ? { servername } : { rejectUnauthorized: false }),
  });
  c.on('error', (e) => { out.clientError = e.code; });
  c.on('secureConnect', () => { out.client = c.alpnProtocol; });
  await onClose(c);
  // The server's side of a refusal may come a moment after the client's.
  for (let i = 0; i < 50 && out.server === undefined && out.serverError === undefined; i++) await delay(10);
  return out;
}

for (const [sName, cName] of implPairs()) {
  test(`ALPNCallback: ${sName} server, ${cName} client, as node:tls`, async (t) => {
    for (const [label, scenario] of Object.entries(scenarios)) {
      const got = await outcome(sName, cName, scenario, t);
      const want = await outcome('node', 'node', scenario, t);
      assert.deepEqual(got, want, label);
    }
  });
}

// A server TLSSocket over a TCP socket it was handed (as a STARTTLS server
// makes one), with ALPNCallback in its options.
async function outcomeWrapped(sName, cName, { alpn, pick, servername = 'localhost' }, t) {
  const sc = scope(t);
  const out = { calls: [] };
  const server = net.createServer((raw) => {
    const s = new impls[sName].TLSSocket(raw, {
      isServer: true,
      ...certs.rsa,
      ALPNCallback: (arg) => {
        out.calls.push(arg);
        return pick(arg.protocols);
      },
    });
    s.on('secure', () => {
      out.server = s.alpnProtocol;
      s.end();
    });
    s.on('error', (e) => { out.serverError = e.code === undefined ? e.message : e.code; });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  sc.servers.add(server);
  return connectAndWait(sc, cName, server.address().port, { alpn, servername }, out);
}

for (const [sName, cName] of implPairs()) {
  test(`ALPNCallback of a server TLSSocket over a socket: ${sName} server, ${cName} client, as node:tls`, async (t) => {
    for (const [label, scenario] of Object.entries(scenarios)) {
      const got = await outcomeWrapped(sName, cName, scenario, t);
      const want = await outcomeWrapped('node', 'node', scenario, t);
      assert.deepEqual(got, want, label);
    }
  });
}

test('ALPNCallback: what the callback saw and chose (node:tls and this package agree above)', async (t) => {
  const got = await outcome('rustls', 'rustls', scenarios['second preference'], t);
  assert.deepEqual(got, {
    calls: [{ servername: 'localhost', protocols: ['a', 'b', 'c'] }], client: 'b', server: 'b',
  });
  const refused = await outcome('rustls', 'rustls', scenarios['undefined refuses'], t);
  assert.deepEqual(refused, {
    calls: [{ servername: false, protocols: ['a'] }],
    serverError: 'ERR_SSL_NO_APPLICATION_PROTOCOL',
    clientError: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
  });
  const invalid = await outcome('rustls', 'rustls', scenarios['not offered'], t);
  assert.equal(invalid.serverError, 'ERR_TLS_ALPN_CALLBACK_INVALID_RESULT');
  assert.equal(invalid.clientError, 'ECONNRESET');
  // An ALPNCallback with ALPNProtocols is refused, as in Node.
  assert.throws(() => impls.rustls.createServer({ ALPNCallback: () => 'a', ALPNProtocols: ['b'] }),
                { code: 'ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS' });
});

// As in Node, ALPNCallback runs with the server socket as `this`, and its
// setKeyCert() chooses the certificate the handshake serves (an ACME
// TLS-ALPN-01 responder answers 'acme-tls/1' with its validation
// certificate this way).
for (const [sName, cName] of implPairs()) {
  test(`ALPNCallback: this.setKeyCert() chooses the certificate served: ${sName} server, ${cName} client`, async (t) => {
    const sc = scope(t);
    const seen = {};
    const { port } = await sc.server(impls[sName], {
      ...certs.rsa,
      ALPNCallback({ protocols }) {
        seen.thisIsSocket = this instanceof impls[sName].TLSSocket;
        this.setKeyCert(impls[sName].createSecureContext(certs.ec));
        return protocols[0];
      },
    }, (s) => s.end());
    const c = sc.connect(impls[cName], {
      port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ALPNProtocols: ['acme-tls/1'],
    });
    await once(c, 'secureConnect');
    seen.alpn = c.alpnProtocol;
    seen.served = c.getPeerX509Certificate().raw.equals(new X509Certificate(certs.ec.cert).raw) ? 'ec' : 'other';
    assert.deepEqual(seen, { thisIsSocket: true, alpn: 'acme-tls/1', served: 'ec' });
  });
}

// The same over a wrapped stream: a server TLSSocket made from a TCP socket
// (as a STARTTLS server makes one), its ALPNCallback's this.setKeyCert().
for (const [sName, cName] of implPairs()) {
  test(`ALPNCallback of a server TLSSocket over a socket: this.setKeyCert() chooses the certificate: ${sName} server, ${cName} client`, async (t) => {
    const sc = scope(t);
    const seen = {};
    const server = net.createServer((raw) => {
      const s = new impls[sName].TLSSocket(raw, {
        isServer: true,
        ...certs.rsa,
        ALPNCallback({ protocols }) {
          seen.thisIsSocket = this === s;
          this.setKeyCert(impls[sName].createSecureContext(certs.ec));
          return protocols[0];
        },
      });
      s.on('secure', () => s.end());
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    sc.servers.add(server);
    const c = sc.connect(impls[cName], {
      port: server.address().port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ALPNProtocols: ['acme-tls/1'],
    });
    await once(c, 'secureConnect');
    seen.alpn = c.alpnProtocol;
    seen.served = c.getPeerX509Certificate().raw.equals(new X509Certificate(certs.ec.cert).raw) ? 'ec' : 'other';
    assert.deepEqual(seen, { thisIsSocket: true, alpn: 'acme-tls/1', served: 'ec' });
  });
}
