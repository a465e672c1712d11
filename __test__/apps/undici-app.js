'use strict';
// An unchanged undici application (npm `undici`): run it with
// `node --require rustls-tls/register` and undici's require('node:tls') gets
// the package. The only addition is bookkeeping: which tls.connect made each
// socket (CHECK_PACKAGE names the package to compare with). Prints JSON.
//
//   URL=https://127.0.0.1:PORT CA=path/to/ca.pem node undici-app.js

const fs = require('node:fs');
const crypto = require('node:crypto');
const tls = require('node:tls');

const sockets = [];
const connect = tls.connect;
tls.connect = function countedConnect(...args) {
  const socket = connect.apply(this, args);
  sockets.push(socket);
  return socket;
};

const { Agent, Pool, request, fetch, setGlobalDispatcher } = require('undici');

const base = process.env.URL;
const connectOptions = { ca: fs.readFileSync(process.env.CA), servername: 'localhost' };

async function main() {
  const out = {};
  const agent = new Agent({ connect: connectOptions, keepAliveTimeout: 10000 });
  try {
    const a = await request(`${base}/hello?x=1`, { dispatcher: agent });
    out.get = { status: a.statusCode, body: await a.body.json() };

    const payload = crypto.randomBytes(1 << 20);
    const b = await request(`${base}/upload`, { method: 'POST', body: payload, dispatcher: agent });
    out.post = { status: b.statusCode, body: await b.body.json(), sha256: crypto.createHash('sha256').update(payload).digest('hex') };
    out.post.match = out.post.body.sha256 === out.post.sha256;
    delete out.post.sha256;
    delete out.post.body.sha256;

    // 50 requests over a pool of 4 keep-alive connections.
    const pool = new Pool(base, { connect: connectOptions, connections: 4 });
    const many = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const r = await pool.request({ path: `/n/${i}`, method: 'GET' });
      return (await r.body.json()).url === `/n/${i}`;
    }));
    out.pool = many.every(Boolean);
    await pool.close();

    // undici's fetch, then the global one through setGlobalDispatcher.
    const f = await fetch(`${base}/fetch`, { dispatcher: agent });
    out.fetch = (await f.json()).url;
    setGlobalDispatcher(agent);
    const g = await globalThis.fetch(`${base}/global`);
    out.globalFetch = (await g.json()).url;
  } finally {
    await agent.close();
  }
  const pkg = process.env.CHECK_PACKAGE ? require(process.env.CHECK_PACKAGE) : null;
  out.sockets = {
    some: sockets.length > 0,
    allPackage: pkg ? sockets.every((s) => s instanceof pkg.TLSSocket) : null,
    anyPackage: pkg ? sockets.some((s) => s instanceof pkg.TLSSocket) : null,
  };
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
