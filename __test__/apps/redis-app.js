'use strict';
// An unchanged ioredis application: it knows nothing of rustls-tls. Run it
// with `node --require rustls-tls/register` and ioredis's require('tls')
// gets the package. It prints one JSON line with what it saw.
//
//   REDIS_PORT=... REDIS_CA=path/to/ca.pem node redis-app.js

const fs = require('node:fs');
const crypto = require('node:crypto');
const Redis = require('ioredis');

const options = {
  host: '127.0.0.1',
  port: Number(process.env.REDIS_PORT),
  tls: { ca: fs.readFileSync(process.env.REDIS_CA), servername: 'localhost' },
  maxRetriesPerRequest: 1,
  retryStrategy: () => null,
  lazyConnect: true,
};

async function main() {
  const redis = new Redis(options);
  const sub = new Redis(options);
  const out = {};
  try {
    await redis.connect();
    await sub.connect();
    out.stream = redis.stream.constructor.name;
    out.protocol = redis.stream.getProtocol();
    out.authorized = redis.stream.authorized;
    out.isPackageSocket = process.env.CHECK_PACKAGE ?
      redis.stream instanceof require(process.env.CHECK_PACKAGE).TLSSocket : null;

    // Commands (on an empty database: the app may run more than once).
    await redis.flushall();
    out.ping = await redis.ping();
    await redis.set('greeting', 'hello over rustls');
    out.get = await redis.get('greeting');
    out.incr = [await redis.incr('n'), await redis.incrby('n', 41)];
    const big = crypto.randomBytes(1 << 20);
    await redis.set('big', big);
    const back = await redis.getBuffer('big');
    out.big = back.equals(big);

    // A pipeline of 1,000 commands, answered in order.
    const pipeline = redis.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.set(`k${i}`, `v${i}`);
    for (let i = 0; i < 1000; i++) pipeline.get(`k${i}`);
    const results = await pipeline.exec();
    out.pipeline = {
      count: results.length,
      errors: results.filter(([err]) => err).length,
      inOrder: results.slice(1000).every(([, v], i) => v === `v${i}`),
    };

    // Pub/sub on a second connection.
    const received = [];
    const got = new Promise((resolve) => {
      sub.on('message', (channel, message) => {
        received.push(`${channel}:${message}`);
        if (received.length === 100) resolve();
      });
    });
    out.subscribed = await sub.subscribe('news');
    let delivered = 0;
    for (let i = 0; i < 100; i++) delivered += await redis.publish('news', `m${i}`);
    await got;
    out.pubsub = { delivered, received: received.length, inOrder: received.every((m, i) => m === `news:m${i}`) };
  } finally {
    redis.disconnect();
    sub.disconnect();
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
