'use strict';
// Real HTTP clients, unchanged: `got` (ESM), `axios` and `node-fetch` (ESM),
// from npm. They call node:https's request(), which Node wires to its own
// TLS whatever `tls` resolves to (rustls-tls/register cannot reach it), so
// they reach this package the two ways the README gives: an agent from
// `rustls-tls/https` in their agent option, or `https.globalAgent` replaced
// by one. The server is `rustls-tls/https` or `node:https`; each client runs
// the same requests in every pairing and must get what node:https on both
// ends gets: bodies both ways (1 MiB each), keep-alive reuse, the client
// certificate seen by the server, and the codes of the requests that must
// fail (wrong CA, wrong host name).

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { once } = require('node:events');
const nodeHttps = require('node:https');
const { impls, implPairs, certs, withTimeout, ROOT } = require('./helpers');

const rustlsHttps = require(`${ROOT}/https`);
const httpsOf = { node: nodeHttps, rustls: rustlsHttps };

const big = crypto.randomBytes(1 << 20);
const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

/** An HTTPS server asking for a client certificate; resolves { port, connections, close }. */
async function httpsServer(sName) {
  let connections = 0;
  const server = httpsOf[sName].createServer(
    { ...certs.rsa, ca: certs.ca, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/big') {
          res.setHeader('content-type', 'application/octet-stream');
          res.end(big);
          return;
        }
        const cert = req.socket.getPeerCertificate();
        const body = Buffer.concat(chunks);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({
          method: req.method,
          url: req.url,
          length: body.length,
          sha: sha(body),
          ours: req.socket instanceof impls[sName].TLSSocket,
          authorized: req.socket.authorized,
          cn: cert && cert.subject ? cert.subject.CN : null,
          protocol: req.socket.getProtocol(),
        }));
      });
    },
  );
  server.on('secureConnection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: server.address().port,
    get connections() {
      return connections;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** An https.Agent of `impl` whose sockets are recorded. */
function agentOf(cName, options) {
  const agent = new httpsOf[cName].Agent({ keepAlive: true, ca: certs.ca, ...certs.client, ...options });
  agent.made = [];
  const create = agent.createConnection;
  agent.createConnection = function createConnection(...args) {
    const socket = create.apply(this, args);
    socket.once('secureConnect', () => {
      socket.resumed = socket.isSessionReused();
    });
    agent.made.push(socket);
    return socket;
  };
  return agent;
}

let got;
let axios;
let fetch;
before(async () => {
  got = (await import('got')).default;
  axios = require('axios');
  fetch = (await import('node-fetch')).default;
});

// Each client as: request(url, { method, body, agent }) -> { status, json | body }.
const clients = {
  got: async (url, { method = 'GET', body, agent, raw }) => {
    const res = await got(url, { method, body, agent: agent && { https: agent }, retry: { limit: 0 }, responseType: 'buffer', timeout: { request: 10000 } });
    return { status: res.statusCode, body: raw ? res.body : JSON.parse(res.body) };
  },
  axios: async (url, { method = 'GET', body, agent, raw }) => {
    const res = await axios.request({ url, method, data: body, httpsAgent: agent, responseType: 'arraybuffer', timeout: 10000, proxy: false });
    const buf = Buffer.from(res.data);
    return { status: res.status, body: raw ? buf : JSON.parse(buf) };
  },
  'node-fetch': async (url, { method = 'GET', body, agent, raw }) => {
    const res = await fetch(url, { method, body, agent });
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, body: raw ? buf : JSON.parse(buf) };
  },
};

const baseline = {};
function same(pair, key, value) {
  if (pair === 'node/node') baseline[key] = value;
  else assert.deepEqual(value, baseline[key], `${key}: differs from node:https on both ends`);
}

/** The code a request that must fail fails with (the library's error or its cause). */
async function failure(request, url, agent) {
  try {
    await request(url, { agent });
  } catch (err) {
    const code = err.code && !/^ERR_(BAD_REQUEST|NETWORK|FETCH)/.test(err.code) && err.code !== 'ERR_GOT_REQUEST_ERROR' ? err.code : err.cause && err.cause.code;
    return code || `${err.name}: ${err.message}`;
  } finally {
    agent.destroy();
  }
  assert.fail('the request was expected to fail');
}

for (const [sName, cName] of implPairs()) {
  const pair = `${sName}/${cName}`;
  for (const [clientName, request] of Object.entries(clients)) {
    describe(`${clientName}: agent of ${cName === 'node' ? 'node:https' : 'rustls-tls/https'}, server on ${sName === 'node' ? 'node:https' : 'rustls-tls/https'}`, () => {
      let server;
      before(async () => {
        server = await httpsServer(sName);
      });
      after(() => server.close());

      test('GET, a 1 MiB POST and a 1 MiB response over one kept-alive connection; the server sees the client certificate', async () => {
        const agent = agentOf(cName);
        try {
          const base = `https://127.0.0.1:${server.port}`;
          const before = server.connections;
          const a = await withTimeout(request(`${base}/hello?x=1`, { agent }), 15000, 'GET');
          const b = await withTimeout(request(`${base}/upload`, { method: 'POST', body: big, agent }), 15000, 'POST');
          const c = await withTimeout(request(`${base}/big`, { agent, raw: true }), 15000, 'GET /big');
          assert.deepEqual(a, { status: 200, body: {
            method: 'GET', url: '/hello?x=1', length: 0, sha: sha(Buffer.alloc(0)),
            ours: true, authorized: true, cn: 'client', protocol: 'TLSv1.3',
          } });
          assert.equal(b.body.length, big.length);
          assert.equal(b.body.sha, sha(big));
          assert.equal(c.status, 200);
          assert.ok(c.body.equals(big), 'the 1 MiB response arrived intact');
          assert.equal(server.connections - before, 1, 'one TLS connection for the three requests');
          assert.ok(agent.made.length >= 1);
          assert.ok(agent.made.every((s) => s instanceof impls[cName].TLSSocket), 'the agent made this implementation\'s sockets');
        } finally {
          agent.destroy();
        }
      });

      test('a kept-alive connection the server closes while idle is dropped from the pool, and the next request gets a new one', async () => {
        const agent = agentOf(cName);
        const saved = server.server.keepAliveTimeout;
        server.server.keepAliveTimeout = 150;
        try {
          const base = `https://127.0.0.1:${server.port}`;
          const before = server.connections;
          const a = await withTimeout(request(`${base}/one`, { agent }), 15000, 'first GET');
          const first = agent.made[0];
          const closed = new Promise((resolve) => first.once('close', resolve));
          assert.equal(await withTimeout(closed, 5000, 'the idle socket closes'), false);
          const b = await withTimeout(request(`${base}/two`, { agent }), 15000, 'second GET');
          assert.deepEqual([a.body.url, b.body.url], ['/one', '/two']);
          assert.equal(server.connections - before, 2);
          assert.equal(agent.made.length, 2);
          assert.equal(first.destroyed, true);
          // The agent offered the first connection's session to the second.
          same(pair, `${clientName} resumed`, agent.made[1].resumed);
        } finally {
          server.server.keepAliveTimeout = saved;
          agent.destroy();
        }
      });

      test('without an agent option, through https.globalAgent replaced by one', async () => {
        const agent = agentOf(cName);
        const saved = nodeHttps.globalAgent;
        nodeHttps.globalAgent = agent;
        try {
          const r = await withTimeout(request(`https://127.0.0.1:${server.port}/global`, {}), 15000, 'GET');
          assert.equal(r.body.cn, 'client');
          assert.equal(agent.made.length, 1);
          assert.ok(agent.made[0] instanceof impls[cName].TLSSocket);
        } finally {
          nodeHttps.globalAgent = saved;
          agent.destroy();
        }
      });

      test("the wrong CA, no CA and the wrong host name fail with node:tls's codes", async () => {
        const url = `https://127.0.0.1:${server.port}/x`;
        const got = {
          wrongCa: await failure(request, url, agentOf(cName, { ca: certs.client.cert })),
          noCa: await failure(request, url, agentOf(cName, { ca: undefined })),
          wrongName: await failure(request, url, agentOf(cName, { servername: 'wrong.example' })),
        };
        assert.equal(got.wrongName, 'ERR_TLS_CERT_ALTNAME_INVALID');
        assert.equal(got.noCa, 'SELF_SIGNED_CERT_IN_CHAIN');
        same(pair, `${clientName} failures`, got);
      });
    });
  }
}
