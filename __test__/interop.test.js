'use strict';
// Interop matrix: {server impl} x {client impl} x {EC P-256, RSA 2048 leaf}
// x {TLSv1.2, TLSv1.3}. 4 MiB go each way at the same time; both ends compare
// what they received with what the peer sent by sha256, and agree on the
// protocol and cipher.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, sha256, readAll, writeChunked, withTimeout } = require('./helpers');

const SIZE = 4 * 1024 * 1024;
const upload = crypto.randomBytes(SIZE);
const download = crypto.randomBytes(SIZE);
const UP_HASH = sha256(upload);
const DOWN_HASH = sha256(download);

async function transfer(t, sName, cName, { cert, serverOpts = {}, clientOpts = {} }) {
  const sc = scope(t);
  const serverSide = {};
  const serverDone = new Promise((resolve, reject) => {
    serverSide.resolve = resolve;
    serverSide.reject = reject;
  });
  // allowHalfOpen on both ends: each side ends its writable when it has sent
  // its 4 MiB and keeps reading until the peer's end (with the default
  // allowHalfOpen:false, the first 'end' would close the other direction).
  const { port } = await sc.server(impls[sName], { ...certs[cert], allowHalfOpen: true, ...serverOpts }, (s) => {
    s.on('error', serverSide.reject);
    const protocol = s.getProtocol();
    const cipher = s.getCipher();
    const received = readAll(s);
    writeChunked(s, download, 100 * 1024)
      .then(() => s.end())
      .catch(serverSide.reject);
    received.then(
      (buf) =>
        serverSide.resolve({
          hash: sha256(buf),
          length: buf.length,
          protocol,
          cipher,
          bytesRead: s.bytesRead,
        }),
      serverSide.reject,
    );
  });
  const client = await sc.connected(impls[cName], {
    port,
    host: '127.0.0.1', // checked against the leaf's IP:127.0.0.1 SAN
    ca: certs.ca,
    allowHalfOpen: true,
    ...clientOpts,
  });
  assert.equal(client.authorized, true, `authorizationError: ${client.authorizationError}`);
  const protocol = client.getProtocol();
  const cipher = client.getCipher();
  const clientReceived = readAll(client);
  const closed = once(client, 'close');
  await writeChunked(client, upload, 64 * 1024 + 7);
  client.end();
  const got = await withTimeout(clientReceived, 20000, 'client receives 4 MiB');
  const srv = await withTimeout(serverDone, 20000, 'server receives 4 MiB');
  await withTimeout(closed, 5000, 'client close');
  return {
    client: {
      hash: sha256(got),
      length: got.length,
      protocol,
      cipher,
      bytesWritten: client.bytesWritten,
    },
    server: srv,
  };
}

for (const [sName, cName] of implPairs()) {
  describe(`interop: ${sName} server <-> ${cName} client`, () => {
    for (const cert of ['ec', 'rsa']) {
      for (const version of ['TLSv1.2', 'TLSv1.3']) {
        test(`${cert} cert, client pinned to ${version}: 4 MiB each way`, { timeout: 30000 }, async (t) => {
          const r = await transfer(t, sName, cName, {
            cert,
            clientOpts: { minVersion: version, maxVersion: version },
          });
          assert.equal(r.server.length, SIZE);
          assert.equal(r.server.hash, UP_HASH);
          assert.equal(r.client.length, SIZE);
          assert.equal(r.client.hash, DOWN_HASH);
          assert.equal(r.client.protocol, version);
          assert.equal(r.server.protocol, version);
          assert.deepEqual(r.client.cipher, r.server.cipher);
          assert.equal(r.client.cipher.version, version);
          // node:tls counts cleartext bytes on a TLSSocket.
          assert.equal(r.client.bytesWritten, SIZE);
          assert.equal(r.server.bytesRead, SIZE);
        });
      }
    }

    test('server pinned to TLSv1.2 (maxVersion), client defaults: both say TLSv1.2', { timeout: 30000 }, async (t) => {
      const r = await transfer(t, sName, cName, { cert: 'ec', serverOpts: { maxVersion: 'TLSv1.2' } });
      assert.equal(r.server.hash, UP_HASH);
      assert.equal(r.client.hash, DOWN_HASH);
      assert.equal(r.client.protocol, 'TLSv1.2');
      assert.equal(r.server.protocol, 'TLSv1.2');
    });

    test('defaults on both ends negotiate TLSv1.3', { timeout: 30000 }, async (t) => {
      const r = await transfer(t, sName, cName, { cert: 'rsa' });
      assert.equal(r.server.hash, UP_HASH);
      assert.equal(r.client.hash, DOWN_HASH);
      assert.equal(r.client.protocol, 'TLSv1.3');
      assert.equal(r.server.protocol, 'TLSv1.3');
    });

    test('client minVersion TLSv1.3 vs server maxVersion TLSv1.2: handshake fails on both ends', async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], { ...certs.ec, maxVersion: 'TLSv1.2' }, () => {
        assert.fail('secureConnection must not happen');
      });
      const serverErr = once(server, 'tlsClientError');
      const client = sc.connect(impls[cName], {
        port,
        host: '127.0.0.1',
        ca: certs.ca,
        minVersion: 'TLSv1.3',
      });
      client.on('secureConnect', () => assert.fail('secureConnect must not happen'));
      const [err] = await withTimeout(once(client, 'error'), 5000, 'client error');
      assert.ok(err instanceof Error);
      assert.match(err.code, /^ERR_SSL_/);
      const [serr] = await withTimeout(serverErr, 5000, 'tlsClientError');
      assert.ok(serr instanceof Error);
      assert.match(serr.code, /^(ERR_SSL_|ECONNRESET$)/);
    });
  });
}
