'use strict';
// TLSSocket as a stream and as a net.Socket: backpressure, half-close,
// 'close' once, encodings, pipe, byte counters, addresses, timeouts, cipher
// and ALPN. Every case runs for each (server impl, client impl) pair.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { once } = require('node:events');
const { Readable, Writable, getDefaultHighWaterMark } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const {
  impls,
  implPairs,
  certs,
  scope,
  sha256,
  delay,
  readAll,
  readBytes,
  onClose,
  withTimeout,
  recordEvents,
} = require('./helpers');

const clientBase = (port) => ({ port, host: '127.0.0.1', ca: certs.ca });

/** Server + connected client; resolves { server, port, client, serverSock }. */
async function pair(sc, sName, cName, { serverOpts = {}, clientOpts = {}, onServerSock } = {}) {
  let gotServerSock;
  const serverSockP = new Promise((resolve) => (gotServerSock = resolve));
  const { server, port } = await sc.server(impls[sName], { ...certs.ec, ...serverOpts }, (s) => {
    if (onServerSock) onServerSock(s);
    gotServerSock(s);
  });
  const client = await sc.connected(impls[cName], { ...clientBase(port), ...clientOpts });
  const serverSock = await withTimeout(serverSockP, 5000, 'secureConnection');
  return { server, port, client, serverSock };
}

// IANA → OpenSSL names of the TLS 1.2 suites both stacks offer by default.
const OPENSSL_NAMES = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

for (const [sName, cName] of implPairs()) {
  describe(`streams: ${sName} server, ${cName} client`, () => {
    // -------------------------------------------------------------------
    // Backpressure
    // -------------------------------------------------------------------
    test('write() returns false past the high-water mark, then drain', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      const received = readBytes(serverSock, 1024 * 1024);
      const big = crypto.randomBytes(1024 * 1024);
      // 16 KiB on Node 20, 64 KiB from Node 22: whatever net.Socket uses.
      assert.equal(client.writableHighWaterMark, getDefaultHighWaterMark(false));
      assert.equal(client.write(big), false);
      await withTimeout(once(client, 'drain'), 5000, 'drain');
      assert.equal(sha256(await withTimeout(received, 5000, 'server read')), sha256(big));
      // Below the high-water mark write() says true.
      assert.equal(client.write(Buffer.alloc(100)), true);
    });

    test('a paused reader stops a fast writer (bounded buffering), resume delivers all', { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      serverSock.pause();
      const chunk = crypto.randomBytes(64 * 1024);
      const LIMIT = 64 * 1024 * 1024; // far more than socket buffers hold
      let written = 0;
      let stalled = false;
      while (written < LIMIT) {
        const ok = client.write(chunk);
        written += chunk.length;
        if (!ok) {
          // While the reader stays paused, 'drain' must eventually stop coming.
          const drained = await Promise.race([
            once(client, 'drain').then(() => true),
            delay(400).then(() => false),
          ]);
          if (!drained) {
            stalled = true;
            break;
          }
        }
      }
      assert.ok(stalled, `writer was never stopped: ${written} bytes accepted with the reader paused`);
      if (process.env.TEST_VERBOSE) console.log(`writer stalled after ${written} bytes`);
      // It stays stopped while the reader stays paused.
      let lateDrain = false;
      client.once('drain', () => (lateDrain = true));
      await delay(300);
      assert.equal(lateDrain, false, 'drain while the reader is still paused');
      assert.ok(client.writableLength > 0);
      // The paused server side did not swallow everything into memory either.
      assert.ok(
        serverSock.readableLength < 16 * 1024 * 1024,
        `paused reader buffered ${serverSock.readableLength} bytes`,
      );
      // Resume: everything written arrives, in order.
      const expected = written;
      const hash = crypto.createHash('sha256');
      let got = 0;
      const all = new Promise((resolve) => {
        serverSock.on('data', (d) => {
          hash.update(d);
          got += d.length;
          if (got >= expected) resolve();
        });
      });
      serverSock.resume();
      await withTimeout(once(client, 'drain'), 10000, 'drain after resume');
      await withTimeout(all, 10000, `all ${expected} bytes after resume (got ${got})`);
      assert.equal(got, expected);
      const ref = crypto.createHash('sha256');
      for (let i = 0; i < expected / chunk.length; i++) ref.update(chunk);
      assert.equal(hash.digest('hex'), ref.digest('hex'));
    });

    // Small writes are encrypted and sent from the JS thread when nothing is
    // queued ahead of them; large ones, and any behind a queue, go through
    // the connection's task. Written one per tick (so that each reaches the
    // socket alone) while the reader stalls, so that the socket and the
    // queue fill and drain, the bytes must keep their order, and end() must
    // come after all of them.
    test('mixed small and large writes under backpressure arrive whole and in order', { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      const sizes = [];
      let seed = 7;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      for (let total = 0; total < 6 * 1024 * 1024;) {
        const r = rand();
        const size = r < 0.7 ? 1 + Math.floor(rand() * 2048) : r < 0.9 ? 16384 + Math.floor(rand() * 50000) : 200000;
        sizes.push(size);
        total += size;
      }
      const chunks = sizes.map((n) => crypto.randomBytes(n));
      const expected = Buffer.concat(chunks);
      const got = [];
      serverSock.pause();
      setTimeout(() => serverSock.resume(), 200);
      serverSock.on('data', (d) => {
        got.push(d);
        if (got.length % 5 === 0) {
          serverSock.pause();
          setTimeout(() => serverSock.resume(), 10);
        }
      });
      const ended = once(serverSock, 'end');
      let i = 0;
      let held = 0;
      const next = () => {
        if (i === chunks.length) return client.end();
        if (client.write(chunks[i++])) return setImmediate(next);
        held++;
        client.once('drain', next);
      };
      next();
      await withTimeout(ended, 25000, 'server end');
      const received = Buffer.concat(got);
      assert.ok(held > 0, 'the writer was held back at least once');
      assert.equal(received.length, expected.length);
      assert.equal(sha256(received), sha256(expected));
    });

    test('server writing to a paused client is stopped too', { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      client.pause();
      const chunk = Buffer.alloc(64 * 1024, 7);
      let written = 0;
      let stalled = false;
      while (written < 64 * 1024 * 1024) {
        written += chunk.length;
        if (!serverSock.write(chunk)) {
          const drained = await Promise.race([
            once(serverSock, 'drain').then(() => true),
            delay(400).then(() => false),
          ]);
          if (!drained) {
            stalled = true;
            break;
          }
        }
      }
      assert.ok(stalled, `server writer never stopped: ${written} bytes`);
      const all = readBytes(client, written);
      client.resume();
      assert.equal((await withTimeout(all, 10000, 'client reads all')).length, written);
    });

    // -------------------------------------------------------------------
    // Half-close and 'close'
    // -------------------------------------------------------------------
    test('allowHalfOpen:true: server end() -> client end, client can still write back', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName, {
        serverOpts: { allowHalfOpen: true },
        clientOpts: { allowHalfOpen: true },
      });
      const cEvents = recordEvents(client, ['end', 'finish', 'close', 'error']);
      const sEvents = recordEvents(serverSock, ['end', 'finish', 'close', 'error']);
      const closed = Promise.all([onClose(client), onClose(serverSock)]);
      const clientGot = readAll(client);
      serverSock.end('bye from server');
      assert.equal((await withTimeout(clientGot, 5000, 'client end')).toString(), 'bye from server');
      assert.equal(client.writable, true);
      assert.equal(client.writableEnded, false);
      const serverGot = readAll(serverSock);
      await delay(50);
      client.write('still ');
      client.end('talking');
      assert.equal((await withTimeout(serverGot, 5000, 'server end')).toString(), 'still talking');
      await withTimeout(closed, 5000, 'close');
      await delay(50);
      assert.deepEqual(cEvents, ['end', 'finish', 'close:false']);
      assert.deepEqual(sEvents, ['finish', 'end', 'close:false']);
    });

    test('allowHalfOpen:false (default): server end() -> client ends its side too', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName, {
        serverOpts: { allowHalfOpen: true },
      });
      const cEvents = recordEvents(client, ['end', 'finish', 'close', 'error']);
      const clientClosed = onClose(client);
      const serverGot = readAll(serverSock);
      const clientGot = readAll(client);
      serverSock.end('bye');
      assert.equal((await withTimeout(clientGot, 5000, 'client end')).toString(), 'bye');
      // The client never called end(); its side is ended for it.
      assert.equal((await withTimeout(serverGot, 5000, 'server end')).toString(), '');
      await withTimeout(clientClosed, 5000, 'client close');
      await delay(50);
      assert.deepEqual(cEvents, ['end', 'finish', 'close:false']);
      assert.equal(client.writableEnded, true);
    });

    test("'close' is emitted exactly once on end, destroy and destroy(err)", async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], certs.ec, (s) => s.resume());
      const results = [];
      for (const how of ['end', 'destroy', 'destroyErr', 'serverDestroy']) {
        const serverSockP = once(server, 'secureConnection');
        const client = await sc.connected(impls[cName], clientBase(port));
        const [serverSock] = await serverSockP;
        const cEvents = recordEvents(client, ['end', 'close', 'error']);
        const sEvents = recordEvents(serverSock, ['end', 'close', 'error']);
        const closed = Promise.all([onClose(client), onClose(serverSock)]);
        client.resume();
        if (how === 'end') client.end();
        if (how === 'destroy') client.destroy();
        if (how === 'destroyErr') client.destroy(Object.assign(new Error('boom'), { code: 'EBOOM' }));
        if (how === 'serverDestroy') serverSock.destroy();
        await withTimeout(closed, 5000, `close after ${how}`);
        await delay(100);
        results.push({ how, client: cEvents, server: sEvents });
      }
      const count = (evs) => evs.filter((e) => e.startsWith('close')).length;
      for (const r of results) {
        assert.equal(count(r.client), 1, `client close count after ${r.how}: ${r.client}`);
        assert.equal(count(r.server), 1, `server close count after ${r.how}: ${r.server}`);
      }
      assert.deepEqual(results.find((r) => r.how === 'destroyErr').client, ['error:EBOOM', 'close:true']);
      assert.deepEqual(results.find((r) => r.how === 'destroy').client, ['close:false']);
      assert.deepEqual(results.find((r) => r.how === 'end').client, ['end', 'close:false']);
    });

    // -------------------------------------------------------------------
    // Encodings and pipe
    // -------------------------------------------------------------------
    test('setEncoding: strings, multi-byte characters split across writes decode whole', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      assert.equal(client.setEncoding('utf8'), client);
      const euro = Buffer.from('€ ünïcödé ✓', 'utf8');
      const chunks = [];
      client.on('data', (d) => chunks.push(d));
      const ended = once(client, 'end');
      serverSock.write(euro.subarray(0, 1));
      await delay(30);
      serverSock.write(euro.subarray(1, 4));
      await delay(30);
      serverSock.end(euro.subarray(4));
      await withTimeout(ended, 5000, 'end');
      assert.ok(chunks.every((c) => typeof c === 'string'));
      assert.equal(chunks.join(''), '€ ünïcödé ✓');
    });

    test('setEncoding("hex") on the server side', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      serverSock.setEncoding('hex');
      const got = readBytes(serverSock, 8);
      client.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
      assert.equal(await withTimeout(got, 5000, 'hex'), 'deadbeef');
    });

    test('write(string, encoding): the bytes Buffer.from makes, counted in bytesWritten', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      // Multi-byte and astral characters, a lone surrogate (written as
      // U+FFFD in UTF-8), code units above 0xff (their low byte in latin1).
      const text = 'héllo ✓ 😀 \ud800 end';
      const writes = [
        [text, 'utf8'], [text, 'utf-8'], [text, undefined], [text, 'latin1'], [text, 'binary'],
        ['68656c6c6f', 'hex'], ['aGVsbG8=', 'base64'], [text, 'ucs2'], [text, 'ascii'],
      ];
      const expected = Buffer.concat(writes.map(([str, enc]) => Buffer.from(str, enc)));
      const got = readBytes(serverSock, expected.length);
      for (const [str, enc] of writes) {
        // One write per loop turn: each reaches _writev alone.
        client.write(str, enc);
        await delay(1);
      }
      assert.deepEqual(await withTimeout(got, 5000, 'string writes'), expected);
      assert.equal(client.bytesWritten, expected.length);
      // Strings gathered into one writev (corked) arrive the same.
      const back = readBytes(client, expected.length);
      serverSock.cork();
      for (const [str, enc] of writes) serverSock.write(str, enc);
      serverSock.uncork();
      assert.deepEqual(await withTimeout(back, 5000, 'corked string writes'), expected);
      assert.equal(serverSock.bytesWritten, expected.length);
      // A batch longer than 31 chunks, encodings alternating.
      const many = Array.from({ length: 40 }, (_, i) => [`${text}${i}`, i % 2 ? 'latin1' : 'utf8']);
      const manyBytes = Buffer.concat(many.map(([str, enc]) => Buffer.from(str, enc)));
      const more = readBytes(client, manyBytes.length);
      serverSock.cork();
      for (const [str, enc] of many) serverSock.write(str, enc);
      serverSock.uncork();
      assert.deepEqual(await withTimeout(more, 5000, 'long corked batch'), manyBytes);
      assert.equal(serverSock.bytesWritten, expected.length + manyBytes.length);
    });

    test('pipe: Readable -> client, server echoes with s.pipe(s), client -> Writable', async (t) => {
      const sc = scope(t);
      const { client } = await pair(sc, sName, cName, {
        onServerSock: (s) => s.pipe(s),
      });
      const data = crypto.randomBytes(1024 * 1024 + 3);
      const parts = [];
      for (let i = 0; i < data.length; i += 10000) parts.push(data.subarray(i, i + 10000));
      const chunks = [];
      const sink = new Writable({
        write(chunk, _enc, cb) {
          chunks.push(chunk);
          cb();
        },
      });
      const out = pipeline(client, sink);
      Readable.from(parts).pipe(client);
      await withTimeout(out, 10000, 'echo pipeline');
      assert.equal(sha256(Buffer.concat(chunks)), sha256(data));
    });

    // -------------------------------------------------------------------
    // net.Socket surface
    // -------------------------------------------------------------------
    test('bytesRead / bytesWritten count application bytes', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      assert.equal(client.bytesWritten, 0);
      assert.equal(client.bytesRead, 0);
      const got = readBytes(serverSock, 12345);
      client.write(Buffer.alloc(12345, 1));
      await withTimeout(got, 5000, 'server read');
      const back = readBytes(client, 678);
      serverSock.write(Buffer.alloc(678, 2));
      await withTimeout(back, 5000, 'client read');
      assert.equal(client.bytesWritten, 12345);
      assert.equal(serverSock.bytesRead, 12345);
      assert.equal(serverSock.bytesWritten, 678);
      assert.equal(client.bytesRead, 678);
    });

    test('remoteAddress/remotePort/remoteFamily/localAddress/localPort/address()', async (t) => {
      const sc = scope(t);
      const { server, port, client, serverSock } = await pair(sc, sName, cName);
      assert.deepEqual(server.address(), { address: '127.0.0.1', family: 'IPv4', port });
      assert.equal(client.remoteAddress, '127.0.0.1');
      assert.equal(client.remotePort, port);
      assert.equal(client.remoteFamily, 'IPv4');
      assert.equal(client.localAddress, '127.0.0.1');
      assert.equal(typeof client.localPort, 'number');
      assert.deepEqual(client.address(), { address: '127.0.0.1', family: 'IPv4', port: client.localPort });
      assert.equal(serverSock.localPort, port);
      assert.equal(serverSock.localAddress, '127.0.0.1');
      assert.equal(serverSock.remotePort, client.localPort);
      assert.equal(serverSock.remoteAddress, '127.0.0.1');
      assert.equal(serverSock.remoteFamily, 'IPv4');
      assert.deepEqual(serverSock.address(), { address: '127.0.0.1', family: 'IPv4', port });
      assert.equal(serverSock.encrypted, true);
      assert.equal(client.encrypted, true);
    });

    test('setTimeout: idle socket emits timeout (and is not destroyed); activity defers it; 0 disables', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      serverSock.resume();
      const start = Date.now();
      assert.equal(client.setTimeout(150), client);
      await withTimeout(once(client, 'timeout'), 3000, 'timeout');
      assert.ok(Date.now() - start >= 140, `timeout too early: ${Date.now() - start} ms`);
      assert.equal(client.destroyed, false);
      // Writing keeps it from timing out.
      let timeouts = 0;
      client.on('timeout', () => timeouts++);
      for (let i = 0; i < 6; i++) {
        client.write('x');
        await delay(50);
      }
      assert.equal(timeouts, 0);
      // setTimeout(0) disables it; callback form adds a one-time listener.
      client.setTimeout(0);
      await delay(250);
      assert.equal(timeouts, 0);
      let cbCalled = false;
      client.setTimeout(100, () => (cbCalled = true));
      await delay(300);
      assert.equal(cbCalled, true);
      assert.equal(client.destroyed, false);
      const got = readBytes(serverSock, 'still usable'.length);
      client.write('still usable');
      assert.equal((await withTimeout(got, 3000, 'data after timeout')).toString(), 'still usable');
    });

    test('connect({timeout}) sets the idle timeout', async (t) => {
      const sc = scope(t);
      const { client } = await pair(sc, sName, cName, { clientOpts: { timeout: 150 } });
      assert.equal(client.timeout, 150);
      await withTimeout(once(client, 'timeout'), 3000, 'timeout');
    });

    test('setNoDelay / setKeepAlive return the socket', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName);
      assert.equal(client.setNoDelay(true), client);
      assert.equal(client.setKeepAlive(true, 1000), client);
      assert.equal(serverSock.setNoDelay(), serverSock);
      assert.equal(serverSock.setKeepAlive(false), serverSock);
    });

    // -------------------------------------------------------------------
    // Cipher, protocol, ALPN
    // -------------------------------------------------------------------
    for (const version of ['TLSv1.2', 'TLSv1.3']) {
      for (const cert of ['ec', 'rsa']) {
        test(`getCipher() shape, ${version}, ${cert}`, async (t) => {
          const sc = scope(t);
          const { client, serverSock } = await pair(sc, sName, cName, {
            serverOpts: { ...certs[cert] },
            clientOpts: { maxVersion: version },
          });
          const c = client.getCipher();
          assert.deepEqual(Object.keys(c).sort(), ['name', 'standardName', 'version']);
          assert.deepEqual(serverSock.getCipher(), c);
          assert.equal(c.version, version);
          assert.match(c.standardName, /^TLS_/);
          if (version === 'TLSv1.3') {
            assert.equal(c.name, c.standardName);
            assert.match(c.name, /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/);
          } else {
            assert.equal(c.name, OPENSSL_NAMES[c.standardName], `OpenSSL name of ${c.standardName}`);
            assert.ok(c.standardName.includes(cert === 'ec' ? '_ECDSA_' : '_RSA_'));
          }
          assert.equal(client.getProtocol(), version);
          assert.equal(serverSock.getProtocol(), version);
        });
      }
    }

    test('ALPN: server [h2, http/1.1], client [http/1.1] -> both http/1.1', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName, {
        serverOpts: { ALPNProtocols: ['h2', 'http/1.1'] },
        clientOpts: { ALPNProtocols: ['http/1.1'] },
      });
      assert.equal(client.alpnProtocol, 'http/1.1');
      assert.equal(serverSock.alpnProtocol, 'http/1.1');
    });

    test('ALPN: server preference order wins', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName, {
        serverOpts: { ALPNProtocols: ['h2', 'http/1.1'] },
        clientOpts: { ALPNProtocols: ['http/1.1', 'h2'] },
      });
      assert.equal(client.alpnProtocol, 'h2');
      assert.equal(serverSock.alpnProtocol, 'h2');
    });

    test('ALPN: none offered -> alpnProtocol false on both ends', async (t) => {
      const sc = scope(t);
      const { client, serverSock } = await pair(sc, sName, cName, {
        serverOpts: { ALPNProtocols: ['h2'] },
      });
      assert.equal(client.alpnProtocol, false);
      assert.equal(serverSock.alpnProtocol, false);
    });

    test('ALPN: no overlap -> handshake fails with no_application_protocol', async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], { ...certs.ec, ALPNProtocols: ['h2'] }, () =>
        assert.fail('secureConnection must not happen'),
      );
      const serverErr = once(server, 'tlsClientError');
      const client = sc.connect(impls[cName], { ...clientBase(port), ALPNProtocols: ['spdy/1'] });
      const [err] = await withTimeout(once(client, 'error'), 5000, 'client error');
      assert.equal(err.code, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
      const [serr] = await withTimeout(serverErr, 5000, 'tlsClientError');
      assert.equal(serr.code, 'ERR_SSL_NO_APPLICATION_PROTOCOL');
    });

    test('servername: explicit servername is sent as SNI; none for an IP host', async (t) => {
      // (node:tls sends SNI only when `servername` is given: with host
      // 'localhost' alone the server sees false. Not asserted here.)
      const sc = scope(t);
      const names = [];
      const { port } = await sc.server(impls[sName], certs.ec, (s) => names.push(s.servername));
      const a = await sc.connected(impls[cName], { port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca });
      await delay(50);
      const b = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      await delay(50);
      assert.deepEqual(names, ['localhost', false]);
      assert.equal(a.servername, 'localhost');
      assert.equal(a.authorized, true);
      assert.equal(b.authorized, true);
    });
  });
}
