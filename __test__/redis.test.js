'use strict';
// A real client and a real server: ioredis (from npm), unchanged, against
// redis-server listening for TLS only (--port 0 --tls-port N). The client
// is __test__/apps/redis-app.js, run in a child process twice: with
// `--require rustls-tls/register` (ioredis's require('tls') gets this
// package) and, as the baseline, without (node:tls). Both must see the
// same answers; only the first may hold this package's sockets.
//
// The server (./libs.js Redis) is started by this file in a folder of its
// own on a free port and stopped at the end, even on failure.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { FIXTURES } = require('./helpers');
const { Redis, runApp } = require('./libs');

let server;
let port;

before(async () => {
  server = new Redis();
  process.once('exit', () => server.killNow());
  await server.start();
  port = server.port;
}, { timeout: 900000 });

after(() => server && server.stop());

function runRedisApp(register, app = 'redis-app.js') {
  return runApp(app, {
    register: register && '--require',
    env: { REDIS_PORT: String(port), REDIS_CA: path.join(FIXTURES, 'ca-cert.pem') },
  });
}

const expected = {
  stream: 'TLSSocket',
  protocol: 'TLSv1.3',
  authorized: true,
  ping: 'PONG',
  get: 'hello over rustls',
  incr: [1, 42],
  big: true,
  pipeline: { count: 2000, errors: 0, inOrder: true },
  subscribed: 1,
  pubsub: { delivered: 100, received: 100, inOrder: true },
};

test('ioredis over node:tls (baseline, no register): commands, a 1,000-command pipeline, pub/sub', { timeout: 70000 }, () => {
  assert.deepEqual(runRedisApp(false), { ...expected, isPackageSocket: false });
});

test('ioredis through rustls-tls/register: the same answers over this package\'s sockets', { timeout: 70000 }, () => {
  assert.deepEqual(runRedisApp(true), { ...expected, isPackageSocket: true });
});

// node-redis (`redis` v6, @redis/client): tls.connect() with its own
// defaults (noDelay, keepAlive, onread: undefined, timeout: undefined), a
// client certificate, automatic pipelining, MULTI, pub/sub on a duplicate,
// a reconnect after the server kills the connection, and the connections
// that must fail. The run without register is the baseline.
let nodeRedisBaseline;

test('node-redis over node:tls (baseline): commands, pipelining, MULTI, pub/sub, reconnect after CLIENT KILL, failures', { timeout: 70000 }, () => {
  const out = runRedisApp(false, 'node-redis-app.js');
  assert.equal(out.isPackageSocket, false);
  assert.deepEqual({ ...out, failures: undefined, events: undefined, isPackageSocket: undefined }, {
    protocol: 'TLSv1.3',
    authorized: true,
    ping: 'PONG',
    get: 'hello over rustls',
    incr: [1, 42],
    big: true,
    pipeline: { ok: true, inOrder: true },
    multi: ['OK', 2, '2'],
    pubsub: { received: 100, inOrder: true },
    killed: 1,
    afterReconnect: 'hello over rustls',
    newSocket: true,
    failures: undefined,
    events: undefined,
    isPackageSocket: undefined,
  });
  assert.deepEqual(out.events.slice(0, 2), ['connect', 'ready']);
  assert.ok(out.events.includes('reconnecting'), out.events.join());
  assert.equal(out.failures.wrongName.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  nodeRedisBaseline = out;
});

test("node-redis through rustls-tls/register: the same answers, events and error codes over this package's sockets", { timeout: 70000 }, () => {
  const out = runRedisApp(true, 'node-redis-app.js');
  assert.ok(nodeRedisBaseline, 'the baseline ran');
  assert.deepEqual(out, { ...nodeRedisBaseline, isPackageSocket: true });
});
