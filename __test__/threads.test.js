'use strict';
// Many connections at once on one server, over TCP and over a Unix socket.
// This package serves connections on several TLS threads, dealt out in turn
// (a server's accepted socket moves from the accepting thread to its serving
// thread), so concurrent connections land on different threads: each must
// still carry its own bytes, in order, both ways, and close cleanly.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { implPairs, impls, certs, sha256, readAll, withTimeout } = require('./helpers');

const CONNECTIONS = 24;
const SIZE = 200 * 1024;

async function echoMany(sName, cName, where) {
  const server = impls[sName].createServer(certs.ec, (s) => s.pipe(s));
  const dir = where === 'unix' ? fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-threads-')) : null;
  try {
    if (dir) server.listen(path.join(dir, 's.sock'));
    else server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const target = dir ? { path: server.address() } : { host: '127.0.0.1', port: server.address().port };
    const results = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      const payload = crypto.randomBytes(SIZE);
      const client = impls[cName].connect({ ...target, ca: certs.ca, servername: 'localhost' });
      await once(client, 'secureConnect');
      const echoed = readAll(client);
      // In pieces of every size, so that both write paths are taken.
      for (let at = 0, n = 1; at < SIZE; at += n, n = (n * 7) % 40000 + 1) {
        client.write(payload.subarray(at, at + n));
      }
      client.end();
      const got = await echoed;
      await once(client, 'close');
      return { sent: sha256(payload), got: sha256(got), length: got.length };
    }));
    for (const r of results) {
      assert.equal(r.length, SIZE);
      assert.equal(r.got, r.sent);
    }
  } finally {
    server.close();
    await once(server, 'close');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const [sName, cName] of implPairs()) {
  for (const where of ['tcp', 'unix']) {
    test(`${CONNECTIONS} concurrent echoes over ${where}: ${sName} server, ${cName} client`, { timeout: 30000 }, async () => {
      await withTimeout(echoMany(sName, cName, where), 25000, 'echoes');
    });
  }
}
