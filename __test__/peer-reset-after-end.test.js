'use strict';
// A client that writes its last message and ends, and a peer that resets
// the connection as it reads that message (a broker closing on DISCONNECT
// with our close_notify still unread sends an RST: mosquitto does). The
// client must hear the reset or the end and close, every time: an mqtt.js
// client's end() waited forever, now and then, when the reset came while
// the connection's task was sending close_notify (the JS thread's poll,
// stopped by libuv on the socket's error, was never started again).
// Differential: node:tls as the client on the same input is the expectation.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const tls = require('node:tls');
const { once } = require('node:events');
const { impls, certs, scope, withTimeout, onClose } = require('./helpers');

const ROUNDS = 40;

// A node:tls server over raw TCP sockets: each connection is reset (RST)
// as soon as the client's message arrives.
async function resettingServer(t) {
  const sc = scope(t);
  const server = net.createServer((raw) => {
    raw.on('error', () => {});
    const s = new tls.TLSSocket(raw, { isServer: true, ...certs.rsa });
    s.on('error', () => {});
    s.once('data', () => raw.resetAndDestroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  sc.servers.add(server);
  return server.address().port;
}

async function rounds(clientTls, port) {
  const codes = new Set();
  for (let i = 0; i < ROUNDS; i++) {
    const c = clientTls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    c.on('error', (e) => codes.add(e.code));
    await withTimeout(once(c, 'secureConnect'), 5000, `secureConnect ${i}`);
    const closed = onClose(c);
    c.resume();
    c.write('bye');
    c.end();
    await withTimeout(closed, 5000, `close after end, round ${i}`);
  }
  return [...codes].sort();
}

test(`a peer that resets as our last message arrives: the client closes, ${ROUNDS} rounds of each client`, async (t) => {
  const port = await resettingServer(t);
  const seen = {};
  for (const [name, clientTls] of Object.entries(impls)) seen[name] = await rounds(clientTls, port);
  for (const codes of Object.values(seen)) {
    for (const code of codes) assert.equal(code, 'ECONNRESET');
  }
});
