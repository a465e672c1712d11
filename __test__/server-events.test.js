'use strict';
// A tls.Server's 'connection' event comes once for every TCP connection,
// handshake or not, before its 'tlsClientError' when the handshake fails (a
// client that refuses the certificate, bytes that are not TLS), and a
// listener that closes the server there lets it close: as node:tls.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { impls, certs, withTimeout } = require('./helpers');

async function events(tls, client) {
  const trace = [];
  const server = tls.createServer(certs.rsa, () => trace.push('secureConnection'));
  server.on('connection', () => {
    trace.push('connection');
    server.close();
  });
  server.on('tlsClientError', (err) => trace.push(`tlsClientError ${err.code}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const closed = once(server, 'close');
  await client(server.address().port);
  await withTimeout(closed, 5000, 'server close');
  return trace;
}

const clients = {
  'a client refusing the certificate': (port) => new Promise((resolve) => {
    const c = impls.node.connect({ port, host: '127.0.0.1', rejectUnauthorized: true });
    c.on('error', () => {});
    c.on('close', resolve);
  }),
  'a client sending bytes that are not TLS': (port) => new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.end('hello\n'));
    c.on('error', () => {});
    c.resume();
    c.on('close', resolve);
  }),
};

for (const [what, client] of Object.entries(clients)) {
  test(`server 'connection' with ${what}: once, before tlsClientError, and close() in it closes the server`, async () => {
    const expected = await events(impls.node, client);
    assert.equal(expected[0], 'connection');
    assert.deepEqual(await events(impls.rustls, client), expected);
  });
}
