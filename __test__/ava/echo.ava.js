'use strict';
// ava runs each file in a worker thread: the addon, its TLS threads and
// its events must work there as on the main thread.
const test = require('ava');
const crypto = require('node:crypto');
const { isMainThread } = require('node:worker_threads');
const { once } = require('node:events');
const nodeTls = require('node:tls');
const { tls, certs, listen, readAll, closeServer } = require('./shared');

test('runs in a worker thread', (t) => {
  t.false(isMainThread);
});

for (const [sName, server] of [['rustls', tls], ['node', nodeTls]]) {
  for (const [cName, client] of [['rustls', tls], ['node', nodeTls]]) {
    test(`echo of 256 KiB: ${sName} server, ${cName} client`, async (t) => {
      const srv = server.createServer(certs.ec, (s) => s.pipe(s));
      const port = await listen(srv);
      try {
        const payload = crypto.randomBytes(256 * 1024);
        const c = client.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
        await once(c, 'secureConnect');
        t.true(c.authorized);
        t.is(c.getProtocol(), 'TLSv1.3');
        const got = readAll(c);
        c.end(payload);
        t.true((await got).equals(payload));
      } finally {
        await closeServer(srv);
      }
    });
  }
}

test('32 connections at once, each its own bytes', async (t) => {
  const srv = tls.createServer(certs.rsa, (s) => s.pipe(s));
  const port = await listen(srv);
  try {
    const sums = await Promise.all(Array.from({ length: 32 }, async (_, i) => {
      const c = tls.connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
      await once(c, 'secureConnect');
      const got = readAll(c);
      c.end(Buffer.alloc(10000 + i, i));
      const buf = await got;
      return buf.length === 10000 + i && buf.every((b) => b === i);
    }));
    t.deepEqual(sums, Array(32).fill(true));
  } finally {
    await closeServer(srv);
  }
});

test('verification errors keep their codes inside the worker', async (t) => {
  const srv = tls.createServer(certs.rsa, (s) => s.end());
  srv.on('tlsClientError', () => {});
  const port = await listen(srv);
  try {
    const c = tls.connect({ port, host: '127.0.0.1', servername: 'localhost' });
    const [err] = await once(c, 'error');
    t.true(err instanceof Error);
    t.is(err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  } finally {
    await closeServer(srv);
  }
});
