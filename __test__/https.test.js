'use strict';
// rustls-tls/https against node:https, in every pairing: this package's
// HTTPS server with Node's client and with its own, its own client with
// Node's server. Also the `path: null` that https.Agent hands tls.connect.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const nodeHttps = require('node:https');
const { once } = require('node:events');
const { impls, implNames, certs, sha256, readAll, withTimeout, ROOT } = require('./helpers');

const https = require(require('node:path').join(ROOT, 'https'));
const httpsImpls = { node: nodeHttps, rustls: https };

const serverOptions = () => ({ key: certs.rsa.key, cert: certs.rsa.cert });
const clientOptions = () => ({ ca: certs.ca, servername: 'localhost' });

/** Serves: GET -> JSON about the request; POST -> sha256 and length of the body. */
function handler(req, res) {
  if (req.method === 'POST') {
    const hash = crypto.createHash('sha256');
    let length = 0;
    req.on('data', (d) => {
      hash.update(d);
      length += d.length;
    });
    req.on('end', () => res.end(JSON.stringify({ sha256: hash.digest('hex'), length })));
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({
    url: req.url,
    encrypted: Boolean(req.socket.encrypted),
    protocol: req.socket.getProtocol(),
    alpn: req.socket.alpnProtocol,
    servername: req.socket.servername,
  }));
}

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

async function close(server) {
  const closed = once(server, 'close');
  server.close();
  await closed;
}

/** Runs one request; resolves with { res, body, req }. */
function fetchOn(mod, options, body) {
  return new Promise((resolve, reject) => {
    const req = mod.request(options, (res) => {
      readAll(res).then((buf) => resolve({ res, body: buf, req }), reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('tls.connect treats path: null (and an empty path) as TCP, as Node does', () => {
  for (const name of implNames) {
    for (const path of [null, '', undefined]) {
      test(`${name}: tls.connect({ port, host, path: ${JSON.stringify(path)} })`, async () => {
        const server = impls.rustls.createServer(certs.rsa, (s) => s.end('tcp'));
        const port = await listen(server);
        try {
          const c = impls[name].connect({ port, host: '127.0.0.1', path, ...clientOptions() });
          const got = await withTimeout(readAll(c), 5000, 'read');
          assert.equal(got.toString(), 'tcp');
          assert.equal(c.remotePort, port);
        } finally {
          await close(server);
        }
      });
    }
  }
});

for (const sName of Object.keys(httpsImpls)) {
  for (const cName of Object.keys(httpsImpls)) {
    describe(`https: ${sName} server, ${cName} client`, () => {
      test('GET and POST (1 MiB), keep-alive reuse with maxSockets: 1, then close with an idle connection', async () => {
        const server = httpsImpls[sName].createServer(serverOptions(), handler);
        // node:https's server is a tls.Server with http.Server's methods; ours is an http.Server.
        assert.ok(server instanceof (sName === 'node' ? impls.node.Server : http.Server));
        let connections = 0;
        server.on('secureConnection', () => connections++);
        const port = await listen(server);
        const agent = new httpsImpls[cName].Agent({ keepAlive: true, maxSockets: 1, ...clientOptions() });
        try {
          const base = { host: '127.0.0.1', port, agent };
          const first = await fetchOn(httpsImpls[cName], { ...base, path: '/a?b=1' });
          assert.equal(first.res.statusCode, 200);
          assert.deepEqual(JSON.parse(first.body), {
            url: '/a?b=1', encrypted: true, protocol: 'TLSv1.3', alpn: false, servername: 'localhost',
          });
          if (cName === 'rustls') assert.ok(first.req.socket instanceof impls.rustls.TLSSocket);
          assert.equal(first.req.reusedSocket, false);

          const payload = crypto.randomBytes(1 << 20);
          const [posted, again] = await Promise.all([
            fetchOn(httpsImpls[cName], { ...base, method: 'POST', path: '/up' }, payload),
            fetchOn(httpsImpls[cName], { ...base, path: '/again' }),
          ]);
          assert.deepEqual(JSON.parse(posted.body), { sha256: sha256(payload), length: payload.length });
          assert.equal(JSON.parse(again.body).url, '/again');
          assert.equal(connections, 1, 'the one keep-alive connection carried the three requests');
        } finally {
          // The agent keeps its socket: close() ends idle keep-alive connections.
          await withTimeout(close(server), 5000, 'server close with an idle keep-alive socket');
          agent.destroy();
        }
      });
    });
  }
}

describe("http.Server's request timeouts on both servers", () => {
  for (const name of Object.keys(httpsImpls)) {
    test(`${name}: headers that never finish get 408 after headersTimeout`, async () => {
      const server = httpsImpls[name].createServer({
        ...serverOptions(), connectionsCheckingInterval: 50, headersTimeout: 300, requestTimeout: 600,
      }, handler);
      const port = await listen(server);
      try {
        const started = Date.now();
        const c = impls.node.connect({ port, host: '127.0.0.1', ...clientOptions() });
        await once(c, 'secureConnect');
        c.write('GET / HTTP/1.1\r\nHost: x\r\n');
        const got = (await withTimeout(readAll(c), 5000, 'the 408')).toString();
        assert.match(got, /^HTTP\/1\.1 408 Request Timeout\r\n/);
        assert.ok(Date.now() - started >= 250, `after ${Date.now() - started} ms`);
      } finally {
        await close(server);
      }
    });
  }
});

describe('rustls-tls/https like node:https', () => {
  test('request(url string), get(URL, options, cb); globalAgent is an https Agent with keep-alive', async () => {
    const server = https.createServer(serverOptions(), handler);
    const port = await listen(server);
    try {
      assert.ok(https.globalAgent instanceof https.Agent);
      assert.equal(https.globalAgent.keepAlive, true);
      assert.equal(https.globalAgent.defaultPort, 443);
      assert.equal(https.globalAgent.protocol, 'https:');
      const a = await fetchOn({ request: (o, cb) => https.request(`https://127.0.0.1:${port}/s`, o, cb) },
                              clientOptions());
      assert.equal(JSON.parse(a.body).url, '/s');
      const b = await new Promise((resolve, reject) => {
        https.get(new URL(`https://127.0.0.1:${port}/u`), { ...clientOptions(), agent: false }, (res) => {
          readAll(res).then((buf) => resolve(JSON.parse(buf)), reject);
        }).on('error', reject);
      });
      assert.equal(b.url, '/u');
    } finally {
      https.globalAgent.destroy();
      await close(server);
    }
  });

  test("node:https's own request() over this package's TLS: an Agent option, or node:https.globalAgent replaced", async () => {
    const server = nodeHttps.createServer(serverOptions(), handler);
    const port = await listen(server);
    const saved = nodeHttps.globalAgent;
    const agent = new https.Agent(clientOptions());
    try {
      const a = await fetchOn(nodeHttps, { host: '127.0.0.1', port, path: '/agent', agent });
      assert.equal(JSON.parse(a.body).url, '/agent');
      assert.ok(a.req.socket instanceof impls.rustls.TLSSocket, 'the socket is this package\'s');

      nodeHttps.globalAgent = new https.Agent();
      const b = await fetchOn({ request: (o, cb) => nodeHttps.request(`https://localhost:${port}/global`, o, cb) },
                              { ca: certs.ca });
      assert.equal(JSON.parse(b.body).url, '/global');
      assert.ok(b.req.socket instanceof impls.rustls.TLSSocket);
      nodeHttps.globalAgent.destroy();
    } finally {
      nodeHttps.globalAgent = saved;
      agent.destroy();
      await close(server);
    }
  });

  test('an http: URL is refused with ERR_INVALID_PROTOCOL, as node:https refuses it', () => {
    for (const mod of [nodeHttps, https]) {
      assert.throws(() => mod.request('http://127.0.0.1:1/'), { code: 'ERR_INVALID_PROTOCOL' });
    }
  });

  test('an untrusted server fails the request with the verify code (rejectUnauthorized)', async () => {
    const server = https.createServer(serverOptions(), handler);
    const port = await listen(server);
    try {
      for (const mod of [nodeHttps, https]) {
        const err = await fetchOn(mod, { host: '127.0.0.1', port, servername: 'localhost', agent: false })
          .then(() => null, (e) => e);
        assert.equal(err && err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      }
    } finally {
      await close(server);
    }
  });

  test('Agent.getName() keys connections by their TLS options, as node:https does', () => {
    const ours = new https.Agent();
    const name = (o) => ours.getName({ host: 'a', port: 1, ...o });
    assert.equal(name({}), name({}));
    assert.equal(name({ servername: 'a' }), name({}), 'a servername equal to host changes nothing');
    const ctx = impls.rustls.createSecureContext({});
    for (const [a, b] of [
      [{ ca: 'x' }, { ca: 'y' }],
      [{ ca: Buffer.from('x') }, { ca: Buffer.from('y') }],
      [{ ca: [Buffer.from('x')] }, { ca: [Buffer.from('x'), Buffer.from('y')] }],
      [{ servername: 'b' }, { servername: 'c' }],
      [{ rejectUnauthorized: false }, {}],
      [{ minVersion: 'TLSv1.3' }, {}],
      [{ secureContext: ctx }, { secureContext: impls.rustls.createSecureContext({}) }],
      [{ ALPNProtocols: ['h2'] }, { ALPNProtocols: ['http/1.1'] }],
      [{ key: certs.rsa.key }, { key: certs.ec.key }],
    ]) {
      assert.notEqual(name(a), name(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      assert.equal(name(a), name({ ...a }), 'the same options give the same name');
    }
    assert.equal(name({ secureContext: ctx }), name({ secureContext: ctx }));
    assert.equal(name({ ca: Buffer.from('x') }), name({ ca: Buffer.from('x') }));
  });

  test('the server offers http/1.1 by ALPN; events and tlsServer', async () => {
    const server = https.createServer(serverOptions(), handler);
    const secure = [];
    server.on('secureConnection', (s) => secure.push(s.alpnProtocol));
    const port = await listen(server);
    try {
      assert.equal(server.listening, true);
      assert.equal(server.tlsServer.listening, true);
      const c = impls.node.connect({ port, host: '127.0.0.1', ALPNProtocols: ['h2', 'http/1.1'], ...clientOptions() });
      await once(c, 'secureConnect');
      assert.equal(c.alpnProtocol, 'http/1.1');
      c.write('GET /alpn HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const raw = (await readAll(c)).toString();
      assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(raw, /"alpn":"http\/1\.1"/);
      assert.deepEqual(secure, ['http/1.1']);
    } finally {
      await close(server);
    }
    assert.equal(server.listening, false);
    const err = await new Promise((resolve) => server.close(resolve));
    assert.equal(err.code, 'ERR_SERVER_NOT_RUNNING');
  });
});
