'use strict';
// npm `undici` against rustls-tls/https:
//   1. unchanged (__test__/apps/undici-app.js) in a child process, through
//      `--require rustls-tls/register`, and as the baseline without it;
//   2. the README's recipe: an undici Agent whose `connect` is this
//      package's tls.connect, also behind the global fetch
//      (setGlobalDispatcher), in this process.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const { once } = require('node:events');
const { execFile } = require('node:child_process');
const { certs, FIXTURES, ROOT } = require('./helpers');

const https = require(path.join(ROOT, 'https'));
const tls = require(ROOT);

let server;
let base;
const serverSockets = [];

before(async () => {
  server = https.createServer({ key: certs.rsa.key, cert: certs.rsa.cert }, (req, res) => {
    const hash = crypto.createHash('sha256');
    let length = 0;
    req.on('data', (d) => {
      hash.update(d);
      length += d.length;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, length, sha256: hash.digest('hex') }));
    });
  });
  server.on('secureConnection', (s) => serverSockets.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `https://127.0.0.1:${server.address().port}`;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

// Asynchronous: the server the app talks to runs in this process.
function runApp(register) {
  const args = [...(register ? ['--require', 'rustls-tls/register'] : []), path.join(__dirname, 'apps', 'undici-app.js')];
  return new Promise((resolve) => {
    execFile(process.execPath, args, {
      cwd: ROOT,
      timeout: 60000,
      env: { ...process.env, NODE_OPTIONS: '', URL: base, CA: path.join(FIXTURES, 'ca-cert.pem'), CHECK_PACKAGE: ROOT },
    }, (err, stdout, stderr) => {
      assert.equal(err, null, `${err}\n${stdout}\n${stderr}`);
      resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

const expected = {
  get: { status: 200, body: { method: 'GET', url: '/hello?x=1', length: 0, sha256: crypto.createHash('sha256').digest('hex') } },
  post: { status: 200, body: { method: 'POST', url: '/upload', length: 1 << 20 }, match: true },
  pool: true,
  fetch: '/fetch',
  globalFetch: '/global',
};

test('undici over node:tls (baseline, no register) against rustls-tls/https', { timeout: 70000 }, async () => {
  const out = await runApp(false);
  assert.deepEqual(out, { ...expected, sockets: { some: true, allPackage: false, anyPackage: false } });
});

test('undici through rustls-tls/register: the same answers, every socket this package\'s', { timeout: 70000 }, async () => {
  const out = await runApp(true);
  assert.deepEqual(out, { ...expected, sockets: { some: true, allPackage: true, anyPackage: true } });
});

// ---------------------------------------------------------------------------
// The README's recipe, as written there
// ---------------------------------------------------------------------------

// An undici `connect` function on rustls-tls (plain TCP for http: origins).
function rustlsConnector(tlsOptions = {}) {
  return (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === 'http:' ? 80 : 443);
    let socket;
    if (opts.protocol === 'http:') {
      socket = net.connect({ host: opts.hostname, port });
      socket.once('connect', () => callback(null, socket));
    } else {
      socket = tls.connect({
        ALPNProtocols: ['http/1.1'],
        servername: opts.servername || (net.isIP(opts.hostname) ? undefined : opts.hostname),
        ...tlsOptions,
        host: opts.hostname,
        port,
      });
      socket.once('secureConnect', () => callback(null, socket));
    }
    socket.once('error', (err) => callback(err, null));
    socket.setNoDelay(true);
    return socket;
  };
}

test('recipe: undici Agent with a rustls-tls connector, and the global fetch via setGlobalDispatcher', { timeout: 30000 }, async () => {
  const undici = require('undici');
  const before_ = serverSockets.length;
  const made = [];
  const connector = rustlsConnector({ ca: certs.ca, servername: 'localhost' });
  const agent = new undici.Agent({
    connect: (opts, cb) => {
      const s = connector(opts, cb);
      made.push(s);
      return s;
    },
  });
  const previous = undici.getGlobalDispatcher();
  try {
    const r = await undici.request(`${base}/recipe`, { dispatcher: agent });
    assert.equal(r.statusCode, 200);
    assert.equal((await r.body.json()).url, '/recipe');

    undici.setGlobalDispatcher(agent);
    const g = await globalThis.fetch(`${base}/global-fetch`, { method: 'POST', body: 'x'.repeat(100000) });
    assert.deepEqual(await g.json(), {
      method: 'POST', url: '/global-fetch', length: 100000,
      sha256: crypto.createHash('sha256').update('x'.repeat(100000)).digest('hex'),
    });
    assert.ok(made.length >= 1);
    assert.ok(made.every((s) => s instanceof tls.TLSSocket), 'every connection is a rustls-tls TLSSocket');
    assert.equal(made[0].alpnProtocol, 'http/1.1');
    assert.ok(serverSockets.length > before_);
  } finally {
    undici.setGlobalDispatcher(previous);
    await agent.close();
  }
});
