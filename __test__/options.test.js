'use strict';
// Documented options and methods at the edges of the API, each against
// node:tls on the same scenario: `signal` (AbortSignal) on connect, `onread`,
// `captureRejections` on the server, `pauseOnConnect`, `setServername`, the
// option checks createServer / createSecureContext / new TLSSocket make
// (SNICallback, OpenSSL engines, options given as null).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const events = require('node:events');
const net = require('node:net');
const { once } = events;
const { certs, scope, withTimeout, errorShape, differential } = require('./helpers');

// Events of a client connected with `signal`, aborted at `when`.
async function abortTrace(tls, when, t) {
  const sc = scope(t);
  const { port } = await sc.server(tls, certs.rsa, (s) => s.resume());
  const ac = new AbortController();
  if (when === 'before') ac.abort();
  const c = sc.connect(tls, { port, host: '127.0.0.1', rejectUnauthorized: false, signal: ac.signal });
  const trace = [];
  c.on('secureConnect', () => {
    trace.push('secureConnect');
    if (when === 'after secureConnect') ac.abort();
  });
  c.on('error', (err) => trace.push(`error:${err.name}:${err.code}`));
  const closed = new Promise((resolve) => c.on('close', (hadError) => {
    trace.push(`close:${hadError}`);
    resolve();
  }));
  if (when === 'same tick') ac.abort();
  if (when === 'next tick') process.nextTick(() => ac.abort());
  await withTimeout(closed, 5000, when);
  return { trace, listeners: events.getEventListeners(ac.signal, 'abort').length };
}

// node:tls given a signal that is aborted already emits 'close' twice (from
// the stream constructor with hadError undefined, then from its handle), and
// on Node 20 can then abort the process in its read callback
// (`onread->IsFunction()`); the package emits one 'close' as for any other
// abort. That case is asserted on the package alone.
test('connect({ signal }) aborted before: AbortError then close(true), no listener left', async (t) => {
  const tls = require('..');
  assert.deepEqual(await abortTrace(tls, 'before', t), { trace: ['error:AbortError:ABORT_ERR', 'close:true'], listeners: 0 });
});

for (const when of ['same tick', 'next tick', 'after secureConnect']) {
  test(`connect({ signal }) aborted ${when}: AbortError then close(true), as node:tls`, async (t) => {
    const r = await differential((name, tls) => abortTrace(tls, when, t));
    assert.equal(r.rustls.trace.at(-1), 'close:true');
    assert.ok(r.rustls.trace.includes('error:AbortError:ABORT_ERR'));
  });
}

// Data a client receives through `onread`, with a pause in the middle
// (explicit pause() or the callback returning false).
async function onreadTrace(tls, how, t) {
  const sc = scope(t);
  const message = Buffer.alloc(100 * 1024, 'x');
  for (let i = 0; i < message.length; i++) message[i] = i % 251;
  const { port } = await sc.server(tls, certs.rsa, (s) => s.end(message));
  const buffer = Buffer.alloc(4096);
  const got = [];
  let calls = 0;
  let dataEvents = 0;
  let paused = false;
  const c = sc.connect(tls, {
    port, host: '127.0.0.1', rejectUnauthorized: false,
    onread: {
      buffer: how === 'function' ? () => buffer : buffer,
      callback(nread, buf) {
        assert.equal(buf, buffer);
        assert.ok(nread <= buffer.length);
        calls++;
        got.push(Buffer.from(buf.subarray(0, nread)));
        if (!paused && how === 'pause()') {
          paused = true;
          c.pause();
          setTimeout(() => c.resume(), 50);
        }
        if (!paused && how === 'return false') {
          paused = true;
          setTimeout(() => c.resume(), 50);
          return false;
        }
        return true;
      },
    },
  });
  c.on('data', () => dataEvents++);
  await withTimeout(once(c, 'end'), 5000, `onread ${how}`);
  return { same: Buffer.concat(got).equals(message), dataEvents, several: calls >= message.length / 4096 };
}

for (const how of ['static buffer', 'function', 'pause()', 'return false']) {
  test(`connect({ onread }) with ${how}: bytes in the caller's buffer, no 'data'`, async (t) => {
    const r = await differential((name, tls) => onreadTrace(tls, how, t));
    assert.deepEqual(r.rustls, { same: true, dataEvents: 0, several: true });
  });
}

test('captureRejections: a rejected async secureConnection listener destroys that socket with the error', async (t) => {
  const saved = events.captureRejections;
  events.captureRejections = true;
  t.after(() => { events.captureRejections = saved; });
  await differential(async (name, tls) => {
    const sc = scope(t);
    const boom = new Error('kaboom');
    let sawOwnError = false;
    const server = tls.createServer(certs.rsa, async (sock) => {
      sock.on('error', (err) => { sawOwnError = err === boom; });
      throw boom;
    });
    sc.servers.add(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = sc.connect(tls, { port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false });
    await withTimeout(new Promise((resolve) => c.on('close', resolve)), 5000, 'client close');
    return { sawOwnError };
  });
});

test('pauseOnConnect and allowHalfOpen reach the server socket', async (t) => {
  await differential(async (name, tls) => {
    const sc = scope(t);
    const seen = [];
    for (const opts of [{}, { pauseOnConnect: true, allowHalfOpen: true }]) {
      const server = tls.createServer({ ...certs.rsa, ...opts }, (s) => {
        seen.push({ paused: s.isPaused(), halfOpen: s.allowHalfOpen });
        s.destroy();
      });
      sc.servers.add(server);
      seen.push({ pauseOnConnect: server.pauseOnConnect, allowHalfOpen: server.allowHalfOpen });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const c = sc.connect(tls, { port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false });
      await withTimeout(once(c, 'close'), 5000, 'close');
    }
    return seen;
  });
});

test('setServername: argument type, and refused on a server-side socket', async () => {
  await differential((name, tls) => {
    const client = new tls.TLSSocket(new net.Socket(), {});
    const server = new tls.TLSSocket(new net.Socket(), { isServer: true, ...certs.rsa });
    const shapes = [undefined, null, 1, {}].map((v) => errorShape(() => client.setServername(v)));
    shapes.push(errorShape(() => server.setServername('localhost')));
    shapes.push(errorShape(() => client.setServername('example.com')));
    client.destroy();
    server.destroy();
    return shapes;
  });
});

test('SNICallback that is not a function is refused by createServer and new TLSSocket', async () => {
  await differential((name, tls) => ['x', 42, {}, []].flatMap((SNICallback) => [
    errorShape(() => tls.createServer({ SNICallback })),
    errorShape(() => new tls.TLSSocket(new net.Socket(), { isServer: true, SNICallback })),
  ]));
});

test('createSecureContext: options given as null are as if absent, but for ecdhCurve', async () => {
  await differential((name, tls) => [
    errorShape(() => tls.createSecureContext({
      ...certs.rsa, ciphers: null, sessionTimeout: null, ticketKeys: null, sigalgs: null,
      sessionIdContext: null, passphrase: null, clientCertEngine: null, privateKeyEngine: null,
      minVersion: null, maxVersion: null, ca: null, crl: null, pfx: null, honorCipherOrder: null,
    })),
    errorShape(() => tls.createSecureContext({ ...certs.rsa, ecdhCurve: null })),
  ]);
});

test('createSecureContext: an OpenSSL engine fails as one node:tls cannot load', () => {
  // No engine can be used here (rustls has none): each use fails with the
  // running Node's error, here an official build's for an engine OpenSSL
  // does not find (no code, the DSO error, opensslErrorStack);
  // privateKeyEngine alone is ignored, and privateKeyIdentifier without it
  // refused, as in Node.
  const shape = (tls, options) => {
    try {
      tls.createSecureContext(options);
      return 'no throw';
    } catch (err) {
      return [err.name, err.code, err.message, Array.isArray(err.opensslErrorStack) && err.opensslErrorStack.length > 0];
    }
  };
  for (const options of [{ clientCertEngine: 'x' }, { privateKeyEngine: 'e', privateKeyIdentifier: 'k' },
    { privateKeyEngine: 'e' }, { privateKeyIdentifier: 'k' }]) {
    assert.deepEqual(shape(require('..'), options), shape(require('node:tls'), options), JSON.stringify(options));
  }
  assert.deepEqual(shape(require('..'), { clientCertEngine: 'x' }),
                   ['Error', undefined, 'error:12800067:DSO support routines::could not load the shared library', true]);
});
