'use strict';
// One side (server or client) of one benchmark run, in its own process.
// Usage: fork('worker.js', [impl, role]) with impl = node | rustls | net.
// run.js sends {cmd: 'start', scenario, opts, port}; the worker answers
// 'ready' (server, with its port), 'mark' (measurement window starts, passed
// on to the peer), 'done' (the measured figures), and to {cmd: 'report'} a
// 'report' with any figures of its own. Anything thrown becomes 'fail'.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const [impl, role] = process.argv.slice(2);
const fixture = (name) => fs.readFileSync(path.join(__dirname, 'fixtures', name));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const noop = () => {};
const send = (type, data) => process.send({ type, ...data });

// Plain TCP behind the two tls calls the scenarios use: the ceiling.
const plainNet = {
  createServer: (options, onConnection) => net.createServer(onConnection),
  connect: (options, onConnect) => net.connect(options, onConnect),
};

function load(name) {
  if (name === 'net') return plainNet;
  if (name === 'node') return require('node:tls');
  return require(process.env.BENCH_PACKAGE || path.resolve(__dirname, '..'));
}

// node:https, or this package's https (Node's http server and client fed by
// its TLS): the same HTTP layer on both sides.
function loadHttps(name) {
  if (name === 'node') return require('node:https');
  return require(path.join(process.env.BENCH_PACKAGE || path.resolve(__dirname, '..'), 'https'));
}

const lib = load(impl);
const ELD_RESOLUTION_MS = 1;

function listen(opts, onSocket) {
  const tlsOptions = { key: fixture(`${opts.cert}-key.pem`), cert: fixture(`${opts.cert}-cert.pem`) };
  const server = lib.createServer(tlsOptions, (socket) => {
    socket.on('error', noop);
    if (socket.setNoDelay) socket.setNoDelay(true);
    onSocket(socket);
  });
  server.on('tlsClientError', noop);
  server.listen(0, '127.0.0.1', () => send('ready', { port: server.address().port }));
}

// Clients trust the benchmark CA through one context built once per process,
// as a busy client would: building it per connection costs node:tls about
// 0.4 ms, enough to make the client the bottleneck of the handshake storm.
let trust;
function connect(opts, onConnect, extra) {
  if (!trust) {
    const ca = fixture('ca-cert.pem');
    trust = lib.createSecureContext ? { secureContext: lib.createSecureContext({ ca }) } : { ca };
  }
  const options = { host: '127.0.0.1', port: opts.port, servername: 'localhost', ...trust, ...extra };
  const socket = lib.connect(options, () => {
    if (socket.setNoDelay) socket.setNoDelay(true);
    onConnect(socket);
  });
  return socket;
}

// What was negotiated, for the record (absent on plain net).
function describe(socket) {
  if (!socket.getProtocol) return {};
  const cipher = socket.getCipher && socket.getCipher();
  const key = socket.getEphemeralKeyInfo && socket.getEphemeralKeyInfo();
  return { protocol: socket.getProtocol(), cipher: cipher && cipher.name, group: key && key.name };
}

// Calls finish(count per second) over opts.duration seconds after opts.warmup;
// a window in which nothing happened is a failure, not a figure.
function measure(opts, count, finish) {
  setTimeout(() => {
    send('mark');
    const start = count();
    const t0 = performance.now();
    setTimeout(() => {
      const n = count() - start;
      if (n === 0) fail(new Error('stalled: no progress in the measured window'));
      else finish(n / ((performance.now() - t0) / 1e3));
    }, opts.duration * 1e3);
  }, opts.warmup * 1e3);
}

function pump(socket, size) {
  const chunk = Buffer.alloc(size, 'x');
  const fill = () => {
    while (!socket.destroyed && socket.write(chunk));
  };
  socket.on('drain', fill);
  fill();
}

function receive(socket, opts) {
  let bytes = 0;
  socket.on('data', (data) => { bytes += data.length; });
  measure(opts, () => bytes, (rate) => {
    send('done', { metrics: { 'MB/s': rate / 1e6 }, info: describe(socket) });
    socket.destroy();
  });
}

function pingPong(socket, opts) {
  const message = Buffer.alloc(opts.size, 'x');
  let pending = 0;
  let trips = 0;
  socket.on('data', (data) => {
    pending += data.length;
    if (pending >= opts.size) {
      pending -= opts.size;
      trips++;
      socket.write(message);
    }
  });
  socket.write(message);
  measure(opts, () => trips, (rate) => {
    send('done', { metrics: { 'round trips/s': rate }, info: describe(socket) });
    socket.destroy();
  });
}

function memory() {
  global.gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}

async function settledMemory() {
  await sleep(300);
  global.gc();
  await sleep(50);
  return memory();
}

function perConnection(side, before, after, conns) {
  const kib = (key) => (after[key] - before[key]) / conns / 1024;
  return {
    [`${side} RSS KiB/conn`]: kib('rss'),
    [`${side} heap KiB/conn`]: kib('heapUsed'),
    [`${side} external KiB/conn`]: kib('external'),
  };
}

// Each scenario: what the server and the client do, and what each reports
// when asked after the run ('report').
const scenarios = {
  bulk: {
    server(opts) {
      listen(opts, (s) => (opts.dir === 'c2s' ? receive(s, opts) : pump(s, opts.size)));
    },
    client(opts) {
      connect(opts, (s) => (opts.dir === 'c2s' ? pump(s, opts.size) : receive(s, opts))).on('error', noop);
    },
  },

  reqres: {
    server(opts) {
      listen(opts, (s) => s.on('data', (data) => s.write(data)));
    },
    client(opts) {
      connect(opts, (s) => pingPong(s, opts)).on('error', noop);
    },
  },

  // Many connections, each a 1 KiB request/response loop.
  reqresMany: {
    server(opts) {
      listen(opts, (s) => s.on('data', (data) => s.write(data)));
    },
    async client(opts) {
      const message = Buffer.alloc(opts.size, 'x');
      let trips = 0;
      let info = {};
      const sockets = [];
      await new Promise((resolve, reject) => {
        let started = 0;
        let open = 0;
        const next = () => {
          if (started === opts.conns) return;
          started++;
          const socket = connect(opts, () => {
            if (open++ === 0) info = describe(socket);
            if (open === opts.conns) resolve();
            next();
          });
          socket.on('error', (err) => reject(new Error(`connection ${sockets.length}: ${err.message}`)));
          sockets.push(socket);
        };
        for (let i = 0; i < 32; i++) next();
      });
      for (const socket of sockets) {
        let pending = 0;
        socket.on('data', (data) => {
          pending += data.length;
          while (pending >= opts.size) {
            pending -= opts.size;
            trips++;
            socket.write(message);
          }
        });
        socket.write(message);
      }
      measure(opts, () => trips, (rate) => {
        send('done', { metrics: { 'round trips/s': rate }, info });
        for (const socket of sockets) socket.destroy();
      });
    },
  },

  // Node's http server on each TLS server, ~1 KB JSON replies; clients
  // on Node's http client over each TLS (https.Agent), either keep-alive
  // (opts.concurrency connections, one request at a time each) or a new
  // connection per request.
  https: {
    server() {
      const https = loadHttps(impl);
      const delay = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
      delay.enable();
      const body = JSON.stringify({ items: Array.from({ length: 16 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] })) });
      const server = https.createServer({ key: fixture('ec-key.pem'), cert: fixture('ec-cert.pem') }, (req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      });
      server.on('tlsClientError', noop);
      server.listen(0, '127.0.0.1', () => send('ready', { port: server.address().port }));
      const ms = (ns) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
      return {
        mark() {
          delay.reset();
        },
        report() {
          return { 'server ELD p99 ms': ms(delay.percentile(99)) };
        },
      };
    },
    client(opts) {
      const https = loadHttps(impl);
      const agent = new https.Agent({
        keepAlive: opts.keepAlive,
        maxSockets: opts.concurrency,
        ca: fixture('ca-cert.pem'),
        servername: 'localhost',
      });
      let requests = 0;
      let errors = 0;
      let running = true;
      let measuring = false;
      const latencies = [];
      const loop = () => {
        if (!running) return;
        const t0 = performance.now();
        const req = https.request({ host: '127.0.0.1', port: opts.port, path: '/', agent, servername: 'localhost' }, (res) => {
          res.resume();
          res.on('end', () => {
            requests++;
            if (measuring) latencies.push(performance.now() - t0);
            setImmediate(loop);
          });
        });
        req.on('error', () => {
          errors++;
          setImmediate(loop);
        });
        req.end();
      };
      for (let i = 0; i < opts.concurrency; i++) loop();
      setTimeout(() => { measuring = true; }, opts.warmup * 1e3);
      measure(opts, () => requests, (rate) => {
        running = false;
        latencies.sort((a, b) => a - b);
        const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))];
        send('done', { metrics: { 'requests/s': rate, 'client p99 ms': p99 }, info: { errors } });
        agent.destroy();
      });
    },
  },

  handshake: {
    server(opts) {
      const delay = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
      delay.enable();
      let handshakes = 0;
      let start = { handshakes: 0, cpu: process.cpuUsage() };
      listen(opts, (s) => {
        handshakes++;
        s.resume();
      });
      const ms = (ns) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
      return {
        mark() {
          delay.reset();
          start = { handshakes, cpu: process.cpuUsage() };
        },
        report() {
          const cpu = process.cpuUsage(start.cpu);
          return {
            'server ELD p99 ms': ms(delay.percentile(99)),
            'server ELD max ms': ms(delay.max),
            'server CPU ms/handshake': (cpu.user + cpu.system) / 1e3 / (handshakes - start.handshakes),
          };
        },
      };
    },
    client(opts) {
      let handshakes = 0;
      let errors = 0;
      let running = true;
      let info = {};
      // opts.resume: each connection offers the newest session received.
      let session;
      let resumed = 0;
      const loop = () => {
        if (!running) return;
        const socket = connect(opts, () => {
          if (handshakes++ === 0) info = describe(socket);
          if (socket.isSessionReused()) resumed++;
          // end(), not destroy(): a TLS 1.3 client may report the handshake
          // before its Finished is on the wire, and the server must see it.
          socket.end();
        }, opts.resume && session ? { session } : undefined);
        if (opts.resume) socket.on('session', (s) => { session = s; });
        socket.on('error', () => { errors++; });
        socket.on('close', loop);
      };
      for (let i = 0; i < opts.concurrency; i++) loop();
      measure(opts, () => handshakes, (rate) => {
        running = false;
        const extra = opts.resume ? { resumed: `${Math.round((100 * resumed) / handshakes)}%` } : {};
        send('done', { metrics: { 'handshakes/s': rate }, info: { ...info, errors, ...extra } });
      });
    },
  },

  memory: {
    server(opts) {
      const sockets = [];
      const before = memory();
      listen(opts, (s) => sockets.push(s.on('data', noop)));
      return {
        async report() {
          for (let waited = 0; sockets.length < opts.conns && waited < 10e3; waited += 50) await sleep(50);
          if (sockets.length < opts.conns) throw new Error(`server saw ${sockets.length} of ${opts.conns} connections`);
          return perConnection('server', before, await settledMemory(), opts.conns);
        },
      };
    },
    async client(opts) {
      const sockets = [];
      const before = memory();
      let info = {};
      await new Promise((resolve, reject) => {
        let started = 0;
        let open = 0;
        const next = () => {
          if (started === opts.conns) return;
          started++;
          const socket = connect(opts, () => {
            if (open++ === 0) info = describe(socket);
            if (open === opts.conns) resolve();
            next();
          });
          socket.on('data', noop);
          socket.on('error', (err) => reject(new Error(`connection ${sockets.length}: ${err.message}`)));
          sockets.push(socket);
        };
        for (let i = 0; i < opts.concurrency; i++) next();
      });
      send('done', { metrics: perConnection('client', before, await settledMemory(), opts.conns), info });
    },
  },
};

function fail(err) {
  send('fail', { error: (err && err.stack) || String(err) });
  process.exitCode = 1;
  setImmediate(() => process.exit(1));
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

let hooks = {};
process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'start') hooks = (await scenarios[msg.scenario][role]({ ...msg.opts, port: msg.port })) || {};
    else if (msg.cmd === 'mark' && hooks.mark) hooks.mark();
    else if (msg.cmd === 'report') send('report', { metrics: hooks.report ? await hooks.report() : {} });
  } catch (err) {
    fail(err);
  }
});
