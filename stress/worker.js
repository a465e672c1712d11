'use strict';
// One process of a stress run: `worker.js <impl> <role>`, impl = node | rustls,
// role = server | client | flood. run.js forks it and drives it with
// request/answer messages ({id, cmd, ...args} → {id, result} or {id, error}).
// The server and the clients never share a process, so each RSS figure is
// one side's alone.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const v8 = require('node:v8');

const [impl, role] = process.argv.slice(2);
const FIXTURES = path.join(__dirname, '..', 'benchmark', 'fixtures');
const fixture = (name) => fs.readFileSync(path.join(FIXTURES, name));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const noop = () => {};

const tls = impl === 'node' ? require('node:tls') : require(process.env.STRESS_PACKAGE || path.resolve(__dirname, '..'));

/** RSS, heap and external after a collection, once the process is quiet. */
async function memory() {
  await sleep(200);
  global.gc();
  await sleep(50);
  global.gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  // What V8's heap holds in RAM; the rest of RSS is native memory (malloc:
  // OpenSSL or the addon, buffers) and code.
  const v8heap = v8.getHeapStatistics().total_physical_size;
  // The young generation, which V8 grows (up to 3 × 16 MiB) while a process
  // allocates fast and keeps even when idle.
  const young = v8.getHeapSpaceStatistics()
    .filter((space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
    .reduce((n, space) => n + space.physical_space_size, 0);
  return { rss, heapUsed, external, v8heap, young, native: rss - v8heap };
}

/** The highest RSS seen (sampled every 20 ms) between start() and stop(). */
function sampler() {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 20);
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage.rss());
  };
}

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
function latency(times) {
  const s = Float64Array.from(times).sort();
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.length ? s[s.length - 1] : NaN };
}

// ---------------------------------------------------------------- server

const server = {
  sockets: new Set(),
  secured: 0,
  clientErrors: {},
  pump: { accepted: 0, waitingDrain: 0, drains: 0 },
  peak: null,

  /**
   * mode: echo (every chunk written back), sink (never reads: no 'data'
   * listener, never resumed), pump (writes opts.total bytes to each connection,
   * 64 KiB at a time, as backpressure allows).
   */
  listen({ mode, handshakeTimeout, total }) {
    const options = { key: fixture('ec-key.pem'), cert: fixture('ec-cert.pem') };
    if (handshakeTimeout !== undefined) options.handshakeTimeout = handshakeTimeout;
    const srv = tls.createServer(options, (socket) => {
      this.secured++;
      this.sockets.add(socket);
      socket.on('error', noop);
      socket.on('close', () => this.sockets.delete(socket));
      if (mode === 'echo') socket.on('data', (data) => socket.write(data)).on('end', () => socket.end());
      else if (mode === 'pump') this.startPump(socket, total);
    });
    // As Node's docs and tests do: node:tls reports a handshake timeout
    // here and leaves closing the socket to this listener.
    srv.on('tlsClientError', (err, socket) => {
      const code = err.code || err.message;
      this.clientErrors[code] = (this.clientErrors[code] || 0) + 1;
      socket.destroy();
    });
    srv.maxConnections = Infinity;
    this.srv = srv;
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve({ port: srv.address().port }));
    });
  },

  startPump(socket, total) {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let left = total;
    const fill = () => {
      while (left > 0 && !socket.destroyed) {
        left -= chunk.length;
        this.pump.accepted += chunk.length;
        if (!socket.write(chunk)) {
          this.pump.waitingDrain++;
          socket.once('drain', () => { this.pump.drains++; this.pump.waitingDrain--; fill(); });
          return;
        }
      }
    };
    fill();
  },

  memory,
  startPeak() { this.peak = sampler(); },
  stopPeak() { return { peak: this.peak() }; },
  stats() {
    return { secured: this.secured, open: this.sockets.size, clientErrors: this.clientErrors, pump: this.pump };
  },
  closeAll() {
    for (const s of this.sockets) s.destroy();
    return this.stats();
  },
};

// ---------------------------------------------------------------- client

let trust;
function connect(port, onSecure) {
  trust ||= { secureContext: tls.createSecureContext({ ca: fixture('ca-cert.pem') }) };
  return tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...trust }, onSecure);
}

/** Runs `n` jobs, at most `concurrency` at a time; job(done) calls done(). */
function pool(n, concurrency, job) {
  return new Promise((resolve) => {
    let started = 0;
    let finished = 0;
    const next = () => {
      if (finished === n) return resolve();
      if (started === n) return;
      started++;
      job(() => { finished++; next(); });
    };
    if (n === 0) resolve();
    for (let i = 0; i < Math.min(n, concurrency); i++) next();
  });
}

const client = {
  held: [],

  /** Opens n connections, each sends 64 bytes and waits for the echo, and keeps them open. */
  async hold({ port, n, concurrency }) {
    const before = await memory();
    const times = [];
    let served = 0;
    let errors = 0;
    let firstError;
    const msg = Buffer.alloc(64, 'e');
    const t0 = performance.now();
    await pool(n, concurrency, (done) => {
      const start = performance.now();
      let got = 0;
      let finished = false;
      const finish = () => { if (!finished) { finished = true; done(); } };
      const socket = connect(port, () => {
        times.push(performance.now() - start);
        socket.write(msg);
      });
      socket.on('data', (data) => {
        got += data.length;
        if (got >= msg.length) { served++; finish(); }
      });
      socket.on('error', (err) => { errors++; firstError ||= err.code || err.message; finish(); });
      socket.on('close', finish);
      this.held.push(socket);
    });
    const seconds = (performance.now() - t0) / 1e3;
    const after = await memory();
    return { served, errors, firstError, seconds, handshake: latency(times), before, after };
  },

  releaseAll() {
    for (const s of this.held) s.destroy();
    this.held = [];
    return true;
  },

  /** n short connections: handshake, 64-byte echo, end(), wait for close. */
  async churn({ port, n, concurrency }) {
    let served = 0;
    let errors = 0;
    let firstError;
    const msg = Buffer.alloc(64, 'c');
    const t0 = performance.now();
    await pool(n, concurrency, (done) => {
      let got = 0;
      const socket = connect(port, () => socket.write(msg));
      socket.on('data', (data) => {
        got += data.length;
        if (got >= msg.length) { served++; socket.end(); }
      });
      socket.on('error', (err) => { errors++; firstError ||= err.code || err.message; });
      socket.on('close', done);
    });
    return { served, errors, firstError, seconds: (performance.now() - t0) / 1e3 };
  },

  /**
   * Connects and never reads: no 'data' listener, never resumed, so the
   * stream buffers up to its highWaterMark and must then stop reading from
   * the socket. Resolves once connected; readerPeak() tells the RSS growth.
   */
  async neverRead({ port }) {
    const before = await memory();
    this.peak = sampler();
    this.before = before.rss;
    await new Promise((resolve, reject) => {
      const socket = connect(port, resolve);
      socket.on('error', reject);
      this.held.push(socket);
    });
    return true;
  },

  readerPeak() {
    const buffered = this.held.reduce((n, s) => n + s.readableLength, 0);
    return { growth: this.peak() - this.before, buffered };
  },

  /**
   * Writes up to `total` bytes, 64 KiB at a time, honouring backpressure, to
   * a server that never reads; stops when 'drain' has not come for
   * `stallMs`. Reports what write() accepted and the peak RSS growth.
   */
  async pushToSink({ port, total, stallMs }) {
    const before = await memory();
    const peak = sampler();
    const chunk = Buffer.alloc(64 * 1024, 'y');
    const result = await new Promise((resolve, reject) => {
      let accepted = 0;
      let falses = 0;
      const socket = connect(port, () => fill());
      socket.on('error', reject);
      this.held.push(socket);
      const fill = () => {
        while (accepted < total) {
          accepted += chunk.length;
          if (!socket.write(chunk)) {
            falses++;
            const timer = setTimeout(() => {
              socket.removeListener('drain', fill);
              resolve({ accepted, stalled: true, falses });
            }, stallMs);
            socket.once('drain', () => { clearTimeout(timer); fill(); });
            return;
          }
        }
        resolve({ accepted, stalled: false, falses });
      };
    });
    return { ...result, before, peak: peak() };
  },

  /** Good clients: `concurrency` loops of full handshakes for `seconds`; handshake times. */
  async good({ port, seconds, concurrency }) {
    const times = [];
    let errors = 0;
    let firstError;
    const end = performance.now() + seconds * 1e3;
    await Promise.all(Array.from({ length: concurrency }, () => new Promise((resolve) => {
      const loop = () => {
        if (performance.now() >= end) return resolve();
        const start = performance.now();
        const socket = connect(port, () => {
          times.push(performance.now() - start);
          socket.end();
        });
        socket.on('error', (err) => { errors++; firstError ||= err.code || err.message; });
        socket.on('close', loop);
      };
      loop();
    })));
    return { errors, firstError, handshake: latency(times) };
  },

  memory,
};

// ---------------------------------------------------------------- flood

// The start of a ClientHello: a record header announcing 512 bytes, a
// handshake header, and 32 bytes of the body; the rest never comes.
const PARTIAL_HELLO = Buffer.concat([
  Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
  Buffer.alloc(32, 0x42),
]);

const flood = {
  running: false,
  stats: { opened: 0, closedByServer: 0, refused: 0, lifetimes: [] },

  /** Keeps `count` stalled connections open (half send nothing, half a partial ClientHello), reopening each one the server closes. */
  start({ port, count }) {
    this.running = true;
    let opened = 0;
    const open = (i) => {
      if (!this.running) return;
      const t0 = performance.now();
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        this.stats.opened++;
        if (i % 2) socket.write(PARTIAL_HELLO);
      });
      socket.on('data', noop);
      socket.on('error', () => { this.stats.refused++; });
      socket.on('close', () => {
        if (!this.running) return;
        this.stats.closedByServer++;
        this.stats.lifetimes.push(performance.now() - t0);
        setImmediate(open, i);
      });
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    };
    this.sockets = new Set();
    return new Promise((resolve) => {
      const batch = () => {
        for (let k = 0; k < 200 && opened < count; k++) open(opened++);
        if (opened < count) setTimeout(batch, 10);
        else resolve({ started: count });
      };
      batch();
    });
  },

  stop() {
    this.running = false;
    const open = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    const { lifetimes, ...rest } = this.stats;
    return { ...rest, open, lifetime: latency(lifetimes) };
  },
};

// ---------------------------------------------------------------- wiring

const roles = { server, client, flood };
process.on('message', async ({ id, cmd, args }) => {
  try {
    const result = await roles[role][cmd](args || {});
    process.send({ id, result });
  } catch (err) {
    process.send({ id, error: (err && err.stack) || String(err) });
  }
});
process.on('uncaughtException', (err) => {
  process.send({ id: -1, error: `uncaught in ${impl} ${role}: ${err.stack || err}` });
  setImmediate(() => process.exit(1));
});
process.send({ id: 0, result: 'up' });
