'use strict';
// An unchanged node-redis (`redis` on npm) application: it knows nothing of
// rustls-tls. Run it with `node --require rustls-tls/register` and
// @redis/client's require('node:tls') gets the package. It prints one JSON
// line with what it saw.
//
//   REDIS_PORT=... FIXTURES=path/to/fixtures node node-redis-app.js

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const tls = require('node:tls');
const { createClient, RESP_TYPES } = require('redis');

const fx = (name) => fs.readFileSync(path.join(process.env.FIXTURES, name));

// Every TLS socket the client makes, to tell whose they are.
const made = [];
const connect = tls.connect;
tls.connect = function watchedConnect(...args) {
  const socket = connect.apply(this, args);
  made.push(socket);
  return socket;
};

const socketOptions = (extra) => ({
  tls: true,
  host: '127.0.0.1',
  port: Number(process.env.REDIS_PORT),
  servername: 'localhost',
  ca: fx('ca-cert.pem'),
  key: fx('client-key.pem'),
  cert: fx('client-cert.pem'),
  connectTimeout: 10000,
  reconnectStrategy: (retries) => (retries > 5 ? new Error('gave up') : 50),
  ...extra,
});

/** What a connection that must fail fails with. */
async function failure(extra) {
  const client = createClient({ socket: socketOptions({ reconnectStrategy: false, ...extra }) });
  const errors = [];
  client.on('error', (err) => errors.push(err.code));
  try {
    await client.connect();
  } catch (err) {
    return { code: err.code, events: errors };
  } finally {
    client.destroy();
  }
  return { code: 'connected' };
}

async function main() {
  const out = {};
  const client = createClient({ socket: socketOptions() });
  const events = [];
  for (const e of ['connect', 'ready', 'end', 'reconnecting']) client.on(e, () => events.push(e));
  client.on('error', (err) => events.push(`error:${err.code || err.message}`));
  const sub = client.duplicate();
  sub.on('error', () => {});
  try {
    await client.connect();
    await sub.connect();
    out.protocol = made[0].getProtocol();
    out.authorized = made[0].authorized;

    await client.flushAll();
    out.ping = await client.ping();
    await client.set('greeting', 'hello over rustls');
    out.get = await client.get('greeting');
    out.incr = [await client.incr('n'), await client.incrBy('n', 41)];
    const big = crypto.randomBytes(1 << 20);
    await client.set('big', big);
    const back = await client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get('big');
    out.big = Buffer.isBuffer(back) && back.equals(big);

    // Automatic pipelining: 1,000 commands issued in the same tick.
    const sets = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.set(`k${i}`, `v${i}`)));
    const gets = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.get(`k${i}`)));
    out.pipeline = { ok: sets.every((r) => r === 'OK'), inOrder: gets.every((v, i) => v === `v${i}`) };
    // MULTI/EXEC.
    out.multi = await client.multi().set('m', '1').incr('m').get('m').exec();

    // Pub/sub on the duplicate.
    const received = [];
    const all = new Promise((resolve) => {
      sub.subscribe('news', (message, channel) => {
        received.push(`${channel}:${message}`);
        if (received.length === 100) resolve();
      }).then(() => {
        (async () => {
          for (let i = 0; i < 100; i++) await client.publish('news', `m${i}`);
        })();
      });
    });
    await all;
    out.pubsub = { received: received.length, inOrder: received.every((m, i) => m === `news:m${i}`) };

    // The server drops the connection (CLIENT KILL from the subscriber's
    // peer): the client reconnects on a new TLS socket and carries on.
    const id = await client.clientId();
    const killer = createClient({ socket: socketOptions() });
    killer.on('error', () => {});
    await killer.connect();
    const socketsBefore = made.length;
    const readyAgain = new Promise((resolve) => client.once('ready', resolve));
    out.killed = await killer.sendCommand(['CLIENT', 'KILL', 'ID', String(id)]);
    await readyAgain;
    killer.destroy();
    out.afterReconnect = await client.get('greeting');
    out.newSocket = made.length > socketsBefore;
    out.events = events;

    await client.close();
    await sub.close();
  } finally {
    client.destroy();
    sub.destroy();
  }

  out.failures = {
    wrongCa: await failure({ ca: fx('client-cert.pem') }),
    wrongName: await failure({ servername: 'wrong.example' }),
    untrustedClientCert: await failure({ key: fx('doc-key.pem'), cert: fx('doc-cert.pem') }),
  };
  const pkg = process.env.CHECK_PACKAGE ? require(process.env.CHECK_PACKAGE) : null;
  out.isPackageSocket = pkg ? made.length > 0 && made.every((s) => s instanceof pkg.TLSSocket) : null;
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
