'use strict';
// Small, fast versions of the bounds `npm run stress` measures at scale
// (STRESS.md): a peer that never reads holds the writer back and makes
// neither side buffer without bound, in every pairing and both directions;
// a stalled handshake is closed when handshakeTimeout fires.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { impls, implNames, implPairs, certs, scope, delay, onClose, withTimeout } = require('./helpers');

const CHUNK = Buffer.alloc(64 * 1024, 'w');
const OFFERED = 64 * 1024 * 1024;
/** What a writer may get accepted before write() returns false: socket buffers on both ends and the queues in between. */
const ACCEPTED_MAX = 32 * 1024 * 1024;
/** What a stream that is never read may hold: its high-water mark, plus this package's credit of plaintext in flight to JS (1 MiB) and one batch. */
const READABLE_MAX = 2 * 1024 * 1024;

/** Writes up to OFFERED bytes as write() allows; resolves with what was accepted once write() says false and 'drain' stays away for `quietMs`. */
function writeUntilHeld(socket, quietMs) {
  return new Promise((resolve) => {
    let accepted = 0;
    const fill = () => {
      while (accepted < OFFERED) {
        accepted += CHUNK.length;
        if (!socket.write(CHUNK)) {
          const timer = setTimeout(() => {
            socket.removeListener('drain', fill);
            resolve({ accepted, held: true });
          }, quietMs);
          socket.once('drain', () => {
            clearTimeout(timer);
            fill();
          });
          return;
        }
      }
      resolve({ accepted, held: false });
    };
    fill();
  });
}

for (const [sName, cName] of implPairs()) {
  describe(`a peer that never reads: ${sName} server, ${cName} client`, () => {
    test('server writing to a client that never reads is held back; the client buffers a bounded amount', async (t) => {
      const sc = scope(t);
      let written;
      const { port } = await sc.server(impls[sName], certs.ec, (s) => {
        written = writeUntilHeld(s, 300);
      });
      const client = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
      while (!written) await delay(5);
      const { accepted, held } = await withTimeout(written, 20000, 'writer held back');
      assert.equal(held, true, `write() never returned false for good (accepted ${accepted} bytes)`);
      assert.ok(accepted < ACCEPTED_MAX, `write() accepted ${accepted} bytes`);
      assert.ok(client.readableLength <= READABLE_MAX, `the client buffered ${client.readableLength} bytes`);
    });

    test('client writing to a server that never reads is held back; the server buffers a bounded amount', async (t) => {
      const sc = scope(t);
      let serverSide;
      const { port } = await sc.server(impls[sName], certs.ec, (s) => {
        serverSide = s;
      });
      const client = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
      const { accepted, held } = await withTimeout(writeUntilHeld(client, 300), 20000, 'writer held back');
      assert.equal(held, true, `write() never returned false for good (accepted ${accepted} bytes)`);
      assert.ok(accepted < ACCEPTED_MAX, `write() accepted ${accepted} bytes`);
      assert.ok(serverSide, 'the server saw the connection');
      assert.ok(serverSide.readableLength <= READABLE_MAX, `the server buffered ${serverSide.readableLength} bytes`);
    });
  });
}

for (const name of implNames) {
  describe(`handshakeTimeout without a tlsClientError listener: ${name}`, () => {
    // node:tls only reports the timeout (its _handleTimeout emits and
    // nothing else) and leaves the socket open; this package aborts the
    // connection, as the handshakeTimeout documentation says.
    const closes = name !== 'node';
    test(`a client that sends nothing is ${closes ? 'closed' : 'left open'} when the timeout fires`, async (t) => {
      const sc = scope(t);
      const { port } = await sc.server(impls[name], { ...certs.ec, handshakeTimeout: 200 }, () => assert.fail('no secureConnection'));
      const raw = net.connect(port, '127.0.0.1');
      sc.sockets.add(raw);
      raw.on('error', () => {});
      raw.resume();
      await once(raw, 'connect');
      const start = Date.now();
      const closed = onClose(raw).then(() => Date.now() - start);
      const result = await Promise.race([closed, delay(1500).then(() => 'open')]);
      if (closes) {
        assert.notEqual(result, 'open', 'the stalled connection was still open 1.5 s later');
        assert.ok(result >= 150, `closed after ${result} ms, before the timeout`);
      } else {
        assert.equal(result, 'open');
      }
    });
  });
}
