'use strict';
// Servers on Unix-domain sockets: listen(path), connect({ path }), and a
// server closed from its own 'secureConnection' handler that still sees its
// connection through to the end (a runtime thread once spun on the closed
// listener and stalled every connection).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { implPairs, impls, certs, withTimeout } = require('./helpers');

for (const [sName, cName] of implPairs()) {
  test(`unix socket: ${sName} server closed at secureConnection, ${cName} client`, { timeout: 30000 }, async () => {
    // Repeated: the stall it guards against came in about half of the runs.
    for (let i = 0; i < 5; i++) await closedAtSecureConnection(sName, cName);
  });
}

async function closedAtSecureConnection(sName, cName) {
  {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-unix-'));
    const sock = path.join(dir, 's.sock');
    const log = [];
    const server = impls[sName].createServer(certs.ec, (s) => {
      log.push('secureConnection');
      s.on('end', () => log.push('server end'));
      server.close();
    });
    try {
      const serverClosed = once(server, 'close');
      server.listen(sock);
      await once(server, 'listening');
      assert.equal(server.address(), sock);
      const client = impls[cName].connect({ path: sock, ca: certs.ca, servername: 'localhost' });
      await withTimeout(once(client, 'secureConnect'), 5000, 'secureConnect');
      assert.equal(client.authorized, true);
      client.end();
      await withTimeout(once(client, 'close'), 5000, 'client close');
      await withTimeout(serverClosed, 5000, 'server close');
      assert.deepEqual(log, ['secureConnection', 'server end']);
      assert.equal(fs.existsSync(sock), false, 'the socket file is removed at close');
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
