'use strict';
// Property-based fuzz of TLS over wrapped Duplex streams (the JS-fed
// transport): `tls.connect({ socket })` and `new TLSSocket(duplex)` in
// random pairings with node:tls, then random operations in a random order
// on either end and on the streams under them (writes, bytes injected into
// a stream as from a lying peer, end, destroy with and without an error,
// pause/resume, a stream that ends or fails, setMaxSendFragment), or a
// socket facing random bytes alone. Whatever happens:
//   - no call throws, and no exception escapes (uncaughtException);
//   - every 'error' the package's sockets emit carries a string `code`;
//   - both sockets reach 'close' once destroyed (no hang).
// Used by __test__/streamfuzz.test.js (a few runs, fixed seed) and by
// `npm run fuzz` (random seed, FUZZ_SECONDS).

const { Duplex } = require('stream');
const fs = require('fs');
const path = require('path');

const cases = path.join(__dirname, '..', 'fixtures', 'cases');
const key = fs.readFileSync(path.join(cases, 'valid-key.pem'));
const cert = fs.readFileSync(path.join(cases, 'valid-cert.pem'));

const kCloseTimeoutMs = 5000;

// Pushes into a stream's readable side unless it has ended or is gone
// (a peer that writes after that is a lost write, as on a closed socket).
function pushTo(stream, chunk) {
  if (!stream.destroyed && !stream._readableState.ended) stream.push(chunk);
}

// Two Duplex streams joined back to back; `inject` pushes bytes into one
// side's readable as if the other side had written them.
function duplexPair() {
  const make = () => new Duplex({
    read() {},
    write(chunk, encoding, callback) {
      pushTo(this.peer, chunk);
      callback();
    },
    final(callback) {
      pushTo(this.peer, null);
      callback();
    },
  });
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

function coded(message) {
  return Object.assign(new Error(message), { code: 'EFUZZINJECTED' });
}

function operationArb(fc) {
  const side = fc.constantFrom(0, 1);
  return fc.oneof(
    fc.record({ op: fc.constant('write'), side, data: fc.uint8Array({ maxLength: 4096 }) }),
    fc.record({ op: fc.constant('inject'), side, data: fc.uint8Array({ minLength: 1, maxLength: 96 }) }),
    fc.record({ op: fc.constant('end'), side }),
    fc.record({ op: fc.constant('destroy'), side, withError: fc.boolean() }),
    fc.record({ op: fc.constant('pause'), side }),
    fc.record({ op: fc.constant('resume'), side }),
    fc.record({ op: fc.constant('streamEnd'), side }),
    fc.record({ op: fc.constant('streamError'), side }),
    fc.record({ op: fc.constant('maxFragment'), side, size: fc.integer({ min: 512, max: 16384 }) }),
    fc.record({ op: fc.constant('wait'), ms: fc.integer({ min: 0, max: 15 }) }),
  );
}

// impls: which implementation serves each end ('rustls' or 'node'); the
// client is always made by connect({ socket }), the server by new
// TLSSocket(duplex, { isServer }). `alone`: one socket of the package
// fed random bytes, no TLS peer at all.
function scenarioArb(fc) {
  const paired = fc.record({
    alone: fc.constant(false),
    impls: fc.constantFrom(['rustls', 'node'], ['node', 'rustls'], ['rustls', 'rustls']),
    maxVersion: fc.constantFrom('TLSv1.2', 'TLSv1.3'),
    ops: fc.array(operationArb(fc), { maxLength: 25 }),
  });
  const alone = fc.record({
    alone: fc.constant(true),
    isServer: fc.boolean(),
    chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 600 }), { minLength: 1, maxLength: 8 }),
    end: fc.boolean(),
  });
  return fc.oneof(paired, alone);
}

function watch(socket, impl, failures, label) {
  let closed = false;
  const closedP = new Promise((resolve) => socket.once('close', () => {
    closed = true;
    resolve();
  }));
  socket.on('error', (err) => {
    if (impl === 'rustls' && (typeof err.code !== 'string' || err.code === '')) {
      failures.push(`${label}: 'error' without a code: ${err && err.stack}`);
    }
  });
  socket.on('data', () => {});
  return { closedP, isClosed: () => closed };
}

// Runs one call; a throw is a failure when the package's socket threw
// (node:tls's own throws, e.g. setMaxSendFragment() after destroy(), are
// its behaviour, not this package's).
function guard(failures, label, fn, impl = 'rustls') {
  try {
    fn();
  } catch (err) {
    if (impl === 'rustls') failures.push(`${label} threw: ${err && err.stack}`);
  }
}

async function settleClose(sockets, failures) {
  for (const { socket } of sockets) guard(failures, 'final destroy', () => socket.destroy());
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, kCloseTimeoutMs, 'timeout');
  });
  const r = await Promise.race([Promise.all(sockets.map((s) => s.w.closedP)), timeout]);
  clearTimeout(timer);
  if (r === 'timeout') {
    sockets.forEach((s, i) => {
      if (!s.w.isClosed()) failures.push(`socket ${i} never emitted 'close'`);
    });
  }
}

async function runAlone(impls, sc, failures) {
  const tls = impls.rustls;
  const [mine, theirs] = duplexPair();
  let socket;
  guard(failures, 'create', () => {
    socket = sc.isServer
      ? new tls.TLSSocket(mine, { isServer: true, secureContext: tls.createSecureContext({ key, cert }) })
      : tls.connect({ socket: mine, rejectUnauthorized: false, servername: 'localhost' });
  });
  if (!socket) return;
  const w = watch(socket, 'rustls', failures, 'alone');
  for (const chunk of sc.chunks) {
    pushTo(theirs, Buffer.from(chunk));
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (sc.end) pushTo(theirs, null);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await settleClose([{ socket, w }], failures);
}

async function runPaired(impls, sc, failures) {
  const [a, b] = duplexPair();
  const streams = [a, b];
  const [clientImpl, serverImpl] = sc.impls;
  let client;
  let server;
  guard(failures, 'create', () => {
    const stls = impls[serverImpl];
    server = new stls.TLSSocket(b, {
      isServer: true,
      secureContext: stls.createSecureContext({ key, cert, maxVersion: sc.maxVersion }),
    });
    client = impls[clientImpl].connect({
      socket: a, rejectUnauthorized: false, servername: 'localhost', maxVersion: sc.maxVersion,
    });
  });
  if (!client || !server) return;
  const sockets = [
    { socket: client, w: watch(client, clientImpl, failures, 'client') },
    { socket: server, w: watch(server, serverImpl, failures, 'server') },
  ];
  await new Promise((resolve) => setTimeout(resolve, 5));
  for (const step of sc.ops) {
    const s = step.side === undefined ? null : sockets[step.side].socket;
    const impl = step.side === undefined ? 'rustls' : sc.impls[step.side];
    const stream = step.side === undefined ? null : streams[step.side];
    const label = `${step.op}(${step.side})`;
    switch (step.op) {
      case 'write':
        guard(failures, label, () => s.write(Buffer.from(step.data), () => {}), impl);
        break;
      case 'inject':
        guard(failures, label, () => pushTo(stream, Buffer.from(step.data)));
        break;
      case 'end':
        guard(failures, label, () => s.end(), impl);
        break;
      case 'destroy':
        guard(failures, label, () => s.destroy(step.withError ? coded('fuzz destroy') : undefined), impl);
        break;
      case 'pause':
        guard(failures, label, () => s.pause(), impl);
        break;
      case 'resume':
        guard(failures, label, () => s.resume(), impl);
        break;
      case 'streamEnd':
        guard(failures, label, () => pushTo(stream, null));
        break;
      case 'streamError':
        guard(failures, label, () => stream.destroy(coded('fuzz stream error')));
        break;
      case 'maxFragment':
        guard(failures, label, () => s.setMaxSendFragment(step.size), impl);
        break;
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, step.ms));
        break;
      default:
        failures.push(`unknown op ${step.op}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
  await settleClose(sockets, failures);
}

// Runs one scenario; resolves to the list of invariants it broke.
async function runScenario(impls, sc) {
  const failures = [];
  const onUncaught = (err) => {
    // node:tls's own wrapper of a Duplex (JSStreamSocket) asserts when a
    // stream it was reading from is written to after it shut down: Node's
    // bug, on node:tls's end of a pairing, not this package's.
    if (err && err.code === 'ERR_INTERNAL_ASSERTION' && /js_stream_socket/.test(err.stack)) return;
    failures.push(`uncaught: ${err && err.stack}`);
  };
  process.on('uncaughtException', onUncaught);
  try {
    if (sc.alone) await runAlone(impls, sc, failures);
    else await runPaired(impls, sc, failures);
    // Late events of this scenario land before the next one starts.
    await new Promise((resolve) => setTimeout(resolve, 2));
  } finally {
    process.removeListener('uncaughtException', onUncaught);
  }
  return failures;
}

// The fast-check property: a scenario passes when it breaks nothing.
function property(fc, impls) {
  return fc.asyncProperty(scenarioArb(fc), async (sc) => {
    const failures = await runScenario(impls, sc);
    if (failures.length) throw new Error(failures.join('\n'));
  });
}

module.exports = { property, runScenario, scenarioArb };
