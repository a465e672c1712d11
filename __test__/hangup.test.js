'use strict';
// A client that resets the connection while the server is ending it: the
// server's socket must still close, and with it the server. The server does
// not read (its buffer is full, so the socket is not being read), so the
// reset shows first when its close_notify is sent; a rustls-tls socket once
// stayed open forever then.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implNames, certs, withTimeout, delay } = require('./helpers');
const { resetRelay } = require('./relay');

async function resetWhileEnding(tls) {
  const events = [];
  const server = tls.createServer(certs.ec, (s) => {
    events.push('open');
    s.on('error', () => {});
    s.on('close', () => events.push('close'));
    // Ends a little after the client's side was reset.
    setTimeout(() => s.end('bye\n'), 120);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // client -> relay -> server; the relay resets its server-facing socket
  // once the handshake is through.
  const relay = resetRelay(server.address().port, (reset) => setTimeout(reset, 60));
  await once(relay, 'listening');
  const client = impls.node.connect({ port: relay.address().port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' },
                                    () => client.write(Buffer.alloc(1 << 20)));
  client.on('error', () => {});
  // The reset may come before the handshake is through: the client's
  // 'error' then, and its 'close' all the same.
  await withTimeout(new Promise((resolve) => client.once('close', resolve)), 5000, 'client close');
  await delay(60);
  const closed = once(server, 'close');
  server.close();
  relay.close();
  await withTimeout(closed, 5000, 'server close after the reset connection');
  // Every server socket that opened closes too (node:tls may report it just
  // after the server); the handshake itself may lose the race with the reset.
  for (let i = 0; i < 50 && events.length === 1; i++) await delay(10);
  assert.ok(events.length === 0 || events.join() === 'open,close', events.join());
  return events.length > 0;
}

for (const name of implNames) {
  test(`${name}: a reset while the server ends its side still closes socket and server`, { timeout: 60000 }, async () => {
    let opened = 0;
    for (let i = 0; i < 15; i++) opened += await resetWhileEnding(impls[name]);
    assert.ok(opened >= 5, `the reset came after the handshake in ${opened} of 15 runs`);
  });
}
