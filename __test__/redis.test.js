'use strict';
// A real client and a real server: ioredis (from npm), unchanged, against
// redis-server listening for TLS only (--port 0 --tls-port N). The client
// is __test__/apps/redis-app.js, run in a child process twice: with
// `--require rustls-tls/register` (ioredis's require('tls') gets this
// package) and, as the baseline, without (node:tls). Both must see the
// same answers; only the first may hold this package's sockets.
//
// The server is started by this file in a folder of its own on a free port
// and stopped at the end, even on failure. redis-server is looked for on
// PATH (or $REDIS_SERVER); when it is missing and this runs as root with
// apt-get, Debian's `redis-server` is installed; otherwise the test fails
// (it is never skipped). .ci/run installs it beforehand.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { closedPort, delay, FIXTURES, ROOT } = require('./helpers');

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function findRedis() {
  const candidates = [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'];
  for (const dir of (process.env.PATH || '').split(path.delimiter)) candidates.push(path.join(dir, 'redis-server'));
  return candidates.find((file) => file && fs.existsSync(file)) || null;
}

function ensureRedis() {
  let bin = findRedis();
  if (bin) return bin;
  if (!isRoot || !fs.existsSync('/usr/bin/apt-get')) {
    throw new Error('redis-server not found (set REDIS_SERVER, or apt-get install redis-server); this test needs a real server');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'redis-server']]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 600000 });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')}: ${r.stderr}`);
  }
  bin = findRedis();
  if (!bin) throw new Error('apt-get install redis-server did not provide redis-server');
  return bin;
}

let dir;
let server;
let port;

function stopServer() {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  server = null;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = null;
}

async function waitForPort(p, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(p, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server did not listen on ${p} within ${ms} ms`);
    await delay(50);
  }
}

before(async () => {
  const bin = ensureRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-redis-'));
  process.once('exit', stopServer);
  port = await closedPort();
  const args = [
    '--port', '0',
    '--tls-port', String(port),
    '--bind', '127.0.0.1',
    '--tls-cert-file', path.join(FIXTURES, 'rsa-cert.pem'),
    '--tls-key-file', path.join(FIXTURES, 'rsa-key.pem'),
    '--tls-ca-cert-file', path.join(FIXTURES, 'ca-cert.pem'),
    // A client certificate is checked when one is sent (node-redis sends one).
    '--tls-auth-clients', 'optional',
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    '--logfile', path.join(dir, 'redis.log'),
  ];
  server = spawn(bin, args, { stdio: 'ignore' });
  let exited = null;
  server.once('exit', (code, signal) => {
    exited = `${code} ${signal}`;
  });
  try {
    await waitForPort(port, 15000);
  } catch (err) {
    const log = fs.existsSync(path.join(dir, 'redis.log')) ? fs.readFileSync(path.join(dir, 'redis.log'), 'utf8') : '';
    err.message += ` (exit: ${exited})\n${log}`;
    throw err;
  }
}, { timeout: 900000 });

after(stopServer);

function runApp(register, app = 'redis-app.js') {
  const args = [...(register ? ['--require', 'rustls-tls/register'] : []), path.join(__dirname, 'apps', app)];
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, NODE_OPTIONS: '', REDIS_PORT: String(port), REDIS_CA: path.join(FIXTURES, 'ca-cert.pem'), FIXTURES, CHECK_PACKAGE: ROOT },
  });
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal || ''}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
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
  assert.deepEqual(runApp(false), { ...expected, isPackageSocket: false });
});

test('ioredis through rustls-tls/register: the same answers over this package\'s sockets', { timeout: 70000 }, () => {
  assert.deepEqual(runApp(true), { ...expected, isPackageSocket: true });
});

// node-redis (`redis` v6, @redis/client): tls.connect() with its own
// defaults (noDelay, keepAlive, onread: undefined, timeout: undefined), a
// client certificate, automatic pipelining, MULTI, pub/sub on a duplicate,
// a reconnect after the server kills the connection, and the connections
// that must fail. The run without register is the baseline.
let nodeRedisBaseline;

test('node-redis over node:tls (baseline): commands, pipelining, MULTI, pub/sub, reconnect after CLIENT KILL, failures', { timeout: 70000 }, () => {
  const out = runApp(false, 'node-redis-app.js');
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
  const out = runApp(true, 'node-redis-app.js');
  assert.ok(nodeRedisBaseline, 'the baseline ran');
  assert.deepEqual(out, { ...nodeRedisBaseline, isPackageSocket: true });
});
