'use strict';
// Errors and bad input: refused and reset connections, synchronous option
// errors, garbage and stalled clients, listen errors, close(), maxConnections,
// getConnections(), and processes that must exit by themselves.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');
const {
  impls,
  implNames,
  implPairs,
  implPath,
  certs,
  scope,
  delay,
  onClose,
  closedPort,
  recordEvents,
  withTimeout,
  errorShape,
  FIXTURES,
} = require('./helpers');

const node = require('node:tls');

/** A raw TCP client; resolves when connected. */
async function rawClient(sc, port) {
  const sock = net.connect(port, '127.0.0.1');
  sc.sockets.add(sock);
  sock.on('error', () => {});
  await once(sock, 'connect');
  return sock;
}

for (const cName of implNames) {
  describe(`client errors: ${cName}`, () => {
    test('ECONNREFUSED on a closed port: error then close(true), no secureConnect', async (t) => {
      const sc = scope(t);
      const port = await closedPort();
      const client = sc.connect(impls[cName], { port, host: '127.0.0.1' });
      const events = recordEvents(client, ['secureConnect', 'error', 'close']);
      const [err] = await withTimeout(once(client, 'error'), 5000, 'error');
      await withTimeout(onClose(client), 5000, 'close');
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'ECONNREFUSED');
      assert.equal(err.errno, -111 /* Linux */);
      assert.equal(err.syscall, 'connect');
      assert.equal(err.address, '127.0.0.1');
      assert.equal(err.port, port);
      assert.equal(err.message, `connect ECONNREFUSED 127.0.0.1:${port}`);
      await delay(20);
      assert.deepEqual(events, ['error:ECONNREFUSED', 'close:true']);
    });

    test('connection refused reaches the connect callback never, and the process keeps running', async (t) => {
      const sc = scope(t);
      const port = await closedPort();
      let called = false;
      const client = sc.track(impls[cName].connect(port, '127.0.0.1', () => (called = true)));
      await withTimeout(onClose(client), 5000, 'close');
      assert.equal(called, false);
    });
  });
}

for (const [sName, cName] of implPairs()) {
  describe(`peer errors: ${sName} server, ${cName} client`, () => {
    test('peer resets the TCP connection mid-stream -> client error ECONNRESET, close(true)', async (t) => {
      const sc = scope(t);
      const { port } = await sc.server(impls[sName], certs.ec, (s) => {
        s.resume();
        // A steady stream so the reset lands in the middle of it.
        const timer = setInterval(() => s.write(Buffer.alloc(16 * 1024, 1)), 5);
        s.on('close', () => clearInterval(timer));
      });
      // A TCP relay in front of the TLS server: once application data flows,
      // it resets the client-facing socket (RST), as a crashing peer would.
      let relaySock;
      const relay = net.createServer((cs) => {
        relaySock = cs;
        const up = net.connect(port, '127.0.0.1');
        sc.sockets.add(up);
        sc.sockets.add(cs);
        cs.on('error', () => {});
        up.on('error', () => {});
        cs.pipe(up);
        let seen = 0;
        up.on('data', (d) => {
          seen += d.length;
          if (seen > 100 * 1024 && !cs.destroyed) {
            cs.resetAndDestroy();
            up.destroy();
          } else if (!cs.destroyed) {
            cs.write(d);
          }
        });
      });
      relay.listen(0, '127.0.0.1');
      await once(relay, 'listening');
      t.after(() => relay.close());
      const client = await sc.connected(impls[cName], {
        port: relay.address().port,
        host: '127.0.0.1',
        ca: certs.ca,
      });
      const events = recordEvents(client, ['end', 'error', 'close']);
      let received = 0;
      client.on('data', (d) => (received += d.length));
      const [err] = await withTimeout(once(client, 'error'), 5000, 'client error');
      await withTimeout(onClose(client), 5000, 'close');
      assert.ok(relaySock);
      assert.ok(received > 0, 'some data arrived before the reset');
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'ECONNRESET');
      assert.equal(err.syscall, 'read');
      assert.deepEqual(events, ['error:ECONNRESET', 'close:true']);
    });

    test('a client that sends garbage -> tlsClientError (ERR_SSL_*), server keeps serving', async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], certs.ec, (s) => s.end('served'));
      const errors = [];
      server.on('tlsClientError', (err, sock) => errors.push({ err, sock }));
      server.on('error', (err) => assert.fail(`server error: ${err}`));
      for (const garbage of ['hello, this is not TLS\r\n\r\n', Buffer.alloc(64, 0)]) {
        const raw = await rawClient(sc, port);
        raw.resume();
        const closed = onClose(raw);
        raw.write(garbage);
        await withTimeout(closed, 5000, 'server closes the garbage connection');
      }
      await withTimeout(
        (async () => {
          while (errors.length < 2) await delay(10);
        })(),
        5000,
        'tlsClientError x2',
      );
      for (const { err, sock } of errors) {
        assert.ok(err instanceof Error);
        assert.match(err.code, /^ERR_SSL_/);
        assert.equal(typeof err.message, 'string');
        assert.ok(sock, 'tlsClientError gets the socket');
        assert.equal(sock.encrypted, true);
      }
      // Same code as node:tls for a non-TLS first record.
      assert.equal(errors[1].err.code, 'ERR_SSL_WRONG_VERSION_NUMBER');
      // A good client is still served.
      const client = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      const chunks = [];
      client.on('data', (d) => chunks.push(d));
      await withTimeout(once(client, 'end'), 5000, 'end');
      assert.equal(Buffer.concat(chunks).toString(), 'served');
    });

    test('a client that hangs up before the handshake -> tlsClientError ECONNRESET', async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], certs.ec, () => assert.fail('no secureConnection'));
      const raw = await rawClient(sc, port);
      const p = once(server, 'tlsClientError');
      raw.end();
      const [err] = await withTimeout(p, 5000, 'tlsClientError');
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'ECONNRESET');
    });

    test('a client that stalls past handshakeTimeout -> tlsClientError ERR_TLS_HANDSHAKE_TIMEOUT', async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], { ...certs.ec, handshakeTimeout: 300 }, (s) =>
        s.end('ok'),
      );
      const start = Date.now();
      const raw = await rawClient(sc, port); // sends nothing at all
      const rawClosed = onClose(raw);
      raw.resume();
      // The second one sends an incomplete ClientHello record and stalls.
      const raw2 = await rawClient(sc, port);
      const raw2Closed = onClose(raw2);
      raw2.resume();
      raw2.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01]));
      const errs = [];
      server.on('tlsClientError', (err, sock) => {
        errs.push({ err, elapsed: Date.now() - start });
        // node:tls leaves closing the socket to this listener.
        sock.destroy();
      });
      await withTimeout(
        (async () => {
          while (errs.length < 2) await delay(10);
        })(),
        5000,
        'two handshake timeouts',
      );
      for (const { err, elapsed } of errs) {
        assert.ok(err instanceof Error);
        assert.equal(err.code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
        assert.equal(err.message, 'TLS handshake timeout');
        assert.ok(elapsed >= 250, `timed out too early: ${elapsed} ms`);
      }
      await withTimeout(Promise.all([rawClosed, raw2Closed]), 3000, 'stalled sockets closed');
      // A prompt client is served in the meantime and afterwards.
      const client = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      const chunks = [];
      client.on('data', (d) => chunks.push(d));
      await withTimeout(once(client, 'end'), 5000, 'end');
      assert.equal(Buffer.concat(chunks).toString(), 'ok');
    });

    test('maxConnections refuses extra connections; getConnections counts', async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], certs.ec, (s) => s.resume());
      server.maxConnections = 1;
      const a = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      await delay(30);
      const count = () => new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
      assert.equal(await count(), 1);
      const b = sc.connect(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      const bEvents = recordEvents(b, ['secureConnect', 'error', 'close']);
      await withTimeout(onClose(b), 5000, 'refused client closes');
      assert.equal(bEvents.includes('secureConnect'), false);
      assert.deepEqual(bEvents, ['error:ECONNRESET', 'close:true']);
      assert.equal(await count(), 1);
      // After the first one leaves there is room again.
      a.end();
      await onClose(a);
      await delay(50);
      assert.equal(await count(), 0);
      const c = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      assert.equal(c.authorized, true);
    });

    test('getConnections counts live connections', async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], certs.ec, (s) => s.resume());
      const count = () => new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
      assert.equal(await count(), 0);
      const a = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      const b = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      await delay(30);
      assert.equal(await count(), 2);
      assert.equal(server.getConnections(() => {}), server);
      a.destroy();
      b.end();
      await Promise.all([onClose(a), onClose(b)]);
      await delay(50);
      assert.equal(await count(), 0);
    });

    // Node counts a TCP connection from its accept: one whose client has
    // not finished (or started) its handshake is a connection too, before
    // and after close().
    test('getConnections counts a connection still in its handshake', async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], certs.ec, (s) => s.resume());
      server.on('tlsClientError', () => {});
      const count = () => new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
      const raw = await rawClient(sc, port);
      await delay(50);
      assert.equal(await count(), 1);
      const closed = once(server, 'close');
      server.close();
      assert.equal(await count(), 1);
      raw.destroy();
      await withTimeout(closed, 5000, "server 'close' once the stalled client leaves");
      assert.equal(await count(), 0);
    });

    test("server.close(): stops accepting at once, 'close' after the last connection ends", async (t) => {
      const sc = scope(t);
      const { server, port } = await sc.server(impls[sName], certs.ec, (s) => s.resume());
      const a = await sc.connected(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      const events = recordEvents(server, ['close']);
      let cbArgs;
      const cbCalled = new Promise((resolve) =>
        server.close((...args) => {
          cbArgs = args;
          resolve();
        }),
      );
      assert.equal(server.listening, false);
      // New connections are refused...
      const b = sc.connect(impls[cName], { port, host: '127.0.0.1', ca: certs.ca });
      const [err] = await withTimeout(once(b, 'error'), 5000, 'refused');
      assert.equal(err.code, 'ECONNREFUSED');
      // ...the established one still works...
      await delay(100);
      assert.deepEqual(events, []);
      assert.equal(a.write('still here'), true);
      // ...and 'close' follows its end.
      a.end();
      await withTimeout(cbCalled, 5000, 'close callback');
      assert.deepEqual(events, ['close:false']);
      assert.equal(cbArgs[0], undefined);
    });

    test("server.close() at the client's secureConnect: 'close' still waits for that connection", async (t) => {
      // With TLS 1.3 the client finishes its handshake first, so close() can
      // come before the server has seen its side complete. The connection is
      // the server's all the same (node:tls counts it from the TCP accept).
      const sc = scope(t);
      for (let i = 0; i < 30; i++) {
        const log = [];
        let serverHasIt;
        const accepted = new Promise((resolve) => (serverHasIt = resolve));
        const { server, port } = await sc.server(impls[sName], certs.ec, (s) => {
          log.push('secureConnection');
          s.resume();
          serverHasIt();
        });
        const serverClosed = new Promise((resolve) =>
          server.on('close', () => {
            log.push('server close');
            resolve();
          }),
        );
        const client = sc.connect(impls[cName], { port, host: '127.0.0.1', ca: certs.ca }, () => {
          server.close();
        });
        await withTimeout(once(client, 'secureConnect'), 5000, 'secureConnect');
        // The server's side completes after the client's (a busy machine
        // may take a while): closed already, the server still gets it.
        await withTimeout(accepted, 5000, 'secureConnection after close()');
        log.push('client end');
        client.end();
        await withTimeout(serverClosed, 5000, 'server close');
        assert.deepEqual(log, ['secureConnection', 'client end', 'server close'], `iteration ${i}`);
      }
    });
  });
}

for (const sName of implNames) {
  describe(`server errors: ${sName}`, () => {
    test('EADDRINUSE on listen -> server error, no listening', async (t) => {
      const sc = scope(t);
      const blocker = net.createServer().listen(0, '127.0.0.1');
      await once(blocker, 'listening');
      t.after(() => blocker.close());
      const { port } = blocker.address();
      const server = impls[sName].createServer(certs.ec);
      sc.servers.add(server);
      const events = recordEvents(server, ['listening', 'error', 'close']);
      server.listen(port, '127.0.0.1');
      const [err] = await withTimeout(once(server, 'error'), 5000, 'error');
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'EADDRINUSE');
      assert.equal(err.syscall, 'listen');
      assert.equal(err.address, '127.0.0.1');
      assert.equal(err.port, port);
      await delay(20);
      assert.deepEqual(events, ['error:EADDRINUSE']);
      assert.equal(server.listening, false);
    });

    test('listen(port, host, callback) and address() of an IPv4 server', async (t) => {
      const server = impls[sName].createServer(certs.ec);
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      t.after(() => server.close());
      const addr = server.address();
      assert.equal(addr.address, '127.0.0.1');
      assert.equal(addr.family, 'IPv4');
      assert.ok(addr.port > 0);
      assert.equal(server.listening, true);
    });

    test('close() on a server that is not listening -> callback with ERR_SERVER_NOT_RUNNING', async () => {
      const server = impls[sName].createServer(certs.ec);
      const [err] = await new Promise((resolve) => server.close((...args) => resolve(args)));
      assert.ok(err instanceof Error);
      assert.equal(err.code, 'ERR_SERVER_NOT_RUNNING');
    });
  });
}

describe('bad options throw synchronously, as node:tls does', () => {
  const cases = {
    'connect({ca: 42})': (tls) => tls.connect({ port: 1, ca: 42 }),
    'connect({key: 42})': (tls) => tls.connect({ port: 1, key: 42 }),
    'connect({cert: {}})': (tls) => tls.connect({ port: 1, cert: {} }),
    "connect({minVersion: 'TLSv9'})": (tls) => tls.connect({ port: 1, minVersion: 'TLSv9' }),
    "connect({maxVersion: 'TLSv0'})": (tls) => tls.connect({ port: 1, maxVersion: 'TLSv0' }),
    'connect({port: -1})': (tls) => tls.connect({ port: -1 }),
    "connect({port: 'abc'})": (tls) => tls.connect({ port: 'abc' }),
    'createServer({key: 42})': (tls) => tls.createServer({ key: 42 }),
    "createServer({handshakeTimeout: 'x'})": (tls) => tls.createServer({ ...certs.ec, handshakeTimeout: 'x' }),
    'createServer({ca: 42})': (tls) => tls.createServer({ ...certs.ec, ca: 42 }),
  };
  for (const [label, fn] of Object.entries(cases)) {
    test(label, () => {
      const expected = errorShape(() => fn(node));
      assert.equal(expected.thrown, true, 'node:tls throws (test premise)');
      for (const name of implNames) {
        assert.deepEqual(errorShape(() => fn(impls[name])), expected, `${name}: ${label}`);
      }
    });
  }

  test("createServer({key: 'garbage', cert: 'garbage'}) throws an Error with a code", () => {
    for (const name of implNames) {
      const shape = errorShape(() => impls[name].createServer({ key: 'garbage', cert: 'garbage' }));
      assert.equal(shape.thrown, true, name);
      assert.equal(shape.isError, true, name);
      assert.equal(typeof shape.code, 'string', name);
    }
  });

  test("createServer({key: 'garbage', cert: 'garbage'}): same code as node:tls", () => {
    const expected = errorShape(() => node.createServer({ key: 'garbage', cert: 'garbage' }));
    assert.equal(expected.code, 'ERR_OSSL_PEM_NO_START_LINE');
    for (const name of implNames) {
      assert.deepEqual(errorShape(() => impls[name].createServer({ key: 'garbage', cert: 'garbage' })), expected, name);
    }
  });

  test('an RSA key that does not match the RSA certificate throws', () => {
    for (const name of implNames) {
      const shape = errorShape(() => impls[name].createServer({ key: certs.rsa.key, cert: certs.client.cert }));
      assert.equal(shape.thrown, true, name);
      assert.equal(shape.isError, true, name);
      assert.equal(typeof shape.code, 'string', name);
    }
  });
});

// What a caller sees of an argument error: class, code and message; or that
// nothing was thrown (a socket made is destroyed, a server closed).
function argErrorOf(fn) {
  const shape = errorShape(fn);
  if (!shape.thrown) return shape;
  try {
    fn();
  } catch (err) {
    return { ...shape, message: err.message };
  }
  return shape;
}

describe('argument errors: same class, code and message as node:tls', () => {
  const port = { port: 1, host: '127.0.0.1' };
  const cases = {
    // net.Socket#connect()'s own checks, which tls.connect() reaches.
    'connect()': (tls) => tls.connect(),
    'connect({})': (tls) => tls.connect({}),
    "connect({host: '127.0.0.1'})": (tls) => tls.connect({ host: '127.0.0.1' }),
    'connect(null)': (tls) => tls.connect(null),
    'connect({port: null})': (tls) => tls.connect({ port: null }),
    'connect({port: true})': (tls) => tls.connect({ port: true }),
    'connect(function)': (tls) => tls.connect(() => {}),
    'connect({path: 5})': (tls) => tls.connect({ path: 5 }),
    "connect({path: ''}) connects by port": (tls) => tls.connect({ path: '' }),
    "connect({localAddress: 'x'})": (tls) => tls.connect({ ...port, localAddress: 'x' }),
    "connect({localPort: 'x'})": (tls) => tls.connect({ ...port, localPort: 'x' }),
    'connect({autoSelectFamily: 5})': (tls) => tls.connect({ ...port, autoSelectFamily: 5 }),
    "connect({host: 'a.invalid', lookup: 5})": (tls) => tls.connect({ port: 1, host: 'a.invalid', lookup: 5 }),
    'connect({lookup: 5}) to an address: not looked up': (tls) => tls.connect({ ...port, lookup: 5 }),
    'new TLSSocket().connect()': (tls) => new tls.TLSSocket().connect(),
    'new TLSSocket().connect({port: null})': (tls) => new tls.TLSSocket().connect({ port: null }),
    // The session option: falsy is none; anything else must be bytes.
    'connect({session: 5})': (tls) => tls.connect({ ...port, session: 5 }),
    'connect({session: {}})': (tls) => tls.connect({ ...port, session: {} }),
    'connect({session: 0})': (tls) => tls.connect({ ...port, session: 0 }),
    'new TLSSocket(null, {session: true})': (tls) => new tls.TLSSocket(null, { session: true }),
    'setSession()': (tls) => new tls.TLSSocket().setSession(),
    'setSession(0)': (tls) => new tls.TLSSocket().setSession(0),
    // A TLSSocket made directly has its context from the start.
    'new TLSSocket(null, {secureContext: 5})': (tls) => new tls.TLSSocket(null, { secureContext: 5 }),
    'new TLSSocket(null, {secureContext: {}})': (tls) => new tls.TLSSocket(null, { secureContext: {} }),
    'new TLSSocket(null, {isServer: true, secureContext: 5})': (tls) =>
      new tls.TLSSocket(null, { isServer: true, secureContext: 5 }),
    'new TLSSocket(null, {key: 5})': (tls) => new tls.TLSSocket(null, { key: 5 }),
    // Options checked though they have no use here (PSK, DHE).
    "connect({pskCallback: 'x'})": (tls) => tls.connect({ ...port, pskCallback: 'x' }),
    'connect({pskCallback: 0})': (tls) => tls.connect({ ...port, pskCallback: 0 }),
    "new TLSSocket(null, {pskCallback: 'x'})": (tls) => new tls.TLSSocket(null, { pskCallback: 'x' }),
    "createServer({pskCallback: 'x'})": (tls) => tls.createServer({ ...certs.ec, pskCallback: 'x' }),
    'createServer({pskIdentityHint: 5})': (tls) => tls.createServer({ ...certs.ec, pskIdentityHint: 5 }),
    'createServer({pskIdentityHint: 0})': (tls) => tls.createServer({ ...certs.ec, pskIdentityHint: 0 }),
    'createSecureContext({dhparam: 5})': (tls) => tls.createSecureContext({ dhparam: 5 }),
    'createSecureContext({dhparam: false})': (tls) => tls.createSecureContext({ dhparam: false }),
    'createServer({dhparam: {}})': (tls) => tls.createServer({ ...certs.ec, dhparam: {} }),
    'createServer({dhparam: 0}) is no dhparam': (tls) => tls.createServer({ ...certs.ec, dhparam: 0 }),
    'setSecureContext({dhparam: 5})': (tls) => tls.createServer(certs.ec).setSecureContext({ ...certs.ec, dhparam: 5 }),
    'connect({dhparam: 0})': (tls) => tls.connect({ ...port, dhparam: 0 }),
    "createSecureContext({key: [{pem: 5}]}) names the pem": (tls) =>
      tls.createSecureContext({ key: [{ pem: 5 }], cert: certs.ec.cert }),
  };
  for (const [label, fn] of Object.entries(cases)) {
    test(label, () => {
      const expected = argErrorOf(() => fn(node));
      for (const name of implNames) {
        assert.deepEqual(argErrorOf(() => fn(impls[name])), expected, `${name}: ${label}`);
      }
    });
  }
});

describe('a peer reset does not crash a server that has no error listeners', () => {
  // The doc's echo server adds no 'error' listener to its sockets. node:tls
  // keeps one of its own on every server-side socket, so a client that
  // resets an established connection cannot take the process down.
  const childScript = String.raw`
    const tls = require(process.env.IMPL);
    const { resetRelay } = require(process.env.RELAY);
    const fs = require('fs');
    const path = require('path');
    const fx = (n) => fs.readFileSync(path.join(process.env.FIXTURES, n));
    let closes = 0;
    const server = tls.createServer({ key: fx('ec-key.pem'), cert: fx('ec-cert.pem') }, (s) => {
      s.on('close', () => closes++);
      s.write('welcome!\n');
      s.pipe(s);
    });
    server.listen(0, '127.0.0.1', () => {
      // client -> relay -> server; the relay resets its server-facing socket.
      const arm = (reset, cs) => cs.once('data', () => setTimeout(reset, 50));
      resetRelay(server.address().port, arm, (relay) => {
        const c = tls.connect({ port: relay.address().port, host: '127.0.0.1', ca: fx('ca-cert.pem') });
        c.on('error', () => {});
        c.on('secureConnect', () => {
          const big = Buffer.alloc(256 * 1024, 1);
          const t = setInterval(() => c.write(big), 5);
          c.on('close', () => clearInterval(t));
        });
        c.on('close', () => setTimeout(() => {
          server.getConnections((err, n) => {
            console.log(JSON.stringify({ closes, connections: n }));
            server.close();
            relay.close();
          });
        }, 200));
      });
    });
  `;
  for (const name of implNames) {
    test(name, { timeout: 15000 }, async () => {
      const child = spawn(process.execPath, ['-e', childScript], {
        env: { ...process.env, IMPL: implPath(name), FIXTURES, RELAY: path.join(__dirname, 'relay.js') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let errOut = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (errOut += d));
      let code;
      try {
        [code] = await withTimeout(once(child, 'exit'), 8000, `child exit; stdout=${out} stderr=${errOut}`);
      } finally {
        child.kill('SIGKILL');
      }
      assert.equal(code, 0, `the server process died:\n${errOut}`);
      assert.deepEqual(JSON.parse(out), { closes: 1, connections: 0 });
    });
  }
});

describe('a process whose servers are closed exits by itself', () => {
  const childScript = String.raw`
    const tls = require(process.env.IMPL);
    const fs = require('fs');
    const path = require('path');
    const fx = (n) => fs.readFileSync(path.join(process.env.FIXTURES, n));
    const mode = process.env.MODE;
    const server = tls.createServer({ key: fx('ec-key.pem'), cert: fx('ec-cert.pem') }, (s) => {
      s.write('welcome!\n');
      s.pipe(s);
    });
    server.listen(0, '127.0.0.1', () => {
      if (mode === 'unref') {
        server.unref();
        console.log('unref');
        return;
      }
      const c = tls.connect({ port: server.address().port, host: '127.0.0.1', ca: fx('ca-cert.pem') }, () => {
        c.write('ping\n');
      });
      let got = '';
      c.setEncoding('utf8');
      c.on('data', (d) => {
        got += d;
        if (got === 'welcome!\nping\n') {
          if (mode === 'end') c.end();
          else c.destroy();
          server.close(() => console.log('closed'));
        }
      });
    });
  `;
  for (const name of implNames) {
    for (const mode of ['end', 'destroy', 'unref']) {
      test(`${name}: ${mode}`, { timeout: 15000 }, async () => {
        const child = spawn(process.execPath, ['-e', childScript], {
          env: { ...process.env, IMPL: implPath(name), FIXTURES, MODE: mode },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let errOut = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (errOut += d));
        const started = Date.now();
        const exited = once(child, 'exit');
        let code;
        try {
          [code] = await withTimeout(exited, 5000, `child exit (${mode}); stdout=${out} stderr=${errOut}`);
        } finally {
          child.kill('SIGKILL');
        }
        assert.equal(code, 0, errOut);
        assert.equal(out.trim(), mode === 'unref' ? 'unref' : 'closed');
        assert.ok(Date.now() - started < 5000);
      });
    }
  }
});

// tls.connect()'s argument forms as Node merges them: an options object
// second (or else third) is assigned over what the first arguments said, so
// its port and host win; an object later than third is not read.
describe('connect() argument forms: where port and host come from', () => {
  async function where(tls, port, form) {
    const closed = await closedPort();
    const options = { ca: certs.ca, servername: 'localhost' };
    const args = {
      'port, host, {host}': [closed, '127.0.0.1', { ...options, port }],
      'port, bad host, {host}': [port, 'bad.invalid', { ...options, host: '127.0.0.1' }],
      '{port: closed}, {port}': [{ port: closed, host: '127.0.0.1' }, { ...options, port }],
      'port, {host}': [port, { ...options, host: '127.0.0.1' }],
    }[form];
    const c = tls.connect(...args);
    c.on('error', () => {});
    c.resume();
    const outcome = await withTimeout(Promise.race([
      once(c, 'secureConnect').then(() => 'secureConnect'),
      once(c, 'error').then(([e]) => e.code),
    ]), 5000, form);
    c.destroy();
    return outcome;
  }
  for (const form of ['port, host, {host}', 'port, bad host, {host}', '{port: closed}, {port}', 'port, {host}']) {
    test(form, async (t) => {
      const sc = scope(t);
      const { port } = await sc.server(node, certs.ec, (s) => s.end());
      const expected = await where(node, port, form);
      for (const name of implNames) assert.equal(await where(impls[name], port, form), expected, name);
    });
  }
});
