'use strict';
// STARTTLS: TLS over sockets and streams that already exist.
//
// - A line protocol over TCP (client says STARTTLS, server answers 220, both
//   upgrade: server with `new TLSSocket(raw, { isServer: true })`, client
//   with `connect({ socket: raw })`), for every (server impl, client impl):
//   lines, then 4 MiB each way with backpressure, orderly and half-open
//   close, and the same in a child process with no timers (the plain sockets
//   are all that keeps it alive: paused for backpressure, they no longer do).
// - Bytes that reached the plain socket before the upgrade and were not
//   consumed (a client that does not wait for the answer) are fed to TLS.
// - Destroying either layer, on either end, closes every layer.
// - TLS over two in-memory Duplex streams joined back to back (no socket
//   underneath): megabytes each way, a stalled link at end(), and a process
//   doing only that completes and exits by itself.
// - tls.createSecurePair() as the module doc describes it (pair.encrypted
//   piped to a socket, pair.cleartext used by the application) against
//   node:tls, and Node's deprecation warning DEP0064.
//
// Where node:tls itself departs from the doc (a pair's client end waits for
// a first write before its handshake, and a pair never sets `authorized`),
// the node:tls run asserts what node:tls does and says so.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const nodeTls = require('node:tls');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { Duplex } = require('node:stream');
const {
  impls,
  implNames,
  implPairs,
  implPath,
  certs,
  scope,
  sha256,
  readAll,
  readBytes,
  onClose,
  withTimeout,
  delay,
  FIXTURES,
} = require('./helpers');

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------
// Helpers of this file
// ---------------------------------------------------------------------------

/**
 * Reads one CRLF/LF-terminated line with stream.read() and unshifts whatever
 * came after it, so the rest stays in the stream for the next reader (here:
 * the TLS layer). With `extra`, waits until at least that many bytes beyond
 * the line are buffered before returning. Resolves { line, rest } where
 * `rest` is the number of bytes given back to the stream.
 */
function readLine(stream, { extra = 0 } = {}) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', reject);
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`stream ended before a line; got ${JSON.stringify(buf.toString('latin1'))}`));
    };
    function onReadable() {
      let chunk;
      while ((chunk = stream.read()) !== null) {
        buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
        const eol = buf.indexOf('\n');
        if (eol !== -1 && buf.length - eol - 1 >= extra) {
          cleanup();
          const rest = buf.subarray(eol + 1);
          if (rest.length > 0) stream.unshift(rest);
          resolve({ line: buf.subarray(0, eol).toString('latin1').replace(/\r$/, ''), rest: rest.length });
          return;
        }
      }
    }
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', reject);
  });
}

/**
 * Writes `buf` in `chunk`-sized pieces, waiting for 'drain' whenever write()
 * returns false. Resolves with the number of times it had to wait.
 */
async function writeAll(stream, buf, chunk = 64 * 1024) {
  let stalls = 0;
  for (let off = 0; off < buf.length; off += chunk) {
    if (!stream.write(buf.subarray(off, off + chunk))) {
      stalls++;
      await withTimeout(once(stream, 'drain'), 10000, 'drain');
    }
  }
  return stalls;
}

/**
 * One end of an in-memory byte pipe: what is written to one end is read at
 * the other. A write completes when the other end's reader has room (so
 * backpressure crosses the pipe); end() is the other end's EOF. hold()
 * stalls delivery (a slow link: writes queue up, their callbacks wait) until
 * release().
 */
class MemoryEnd extends Duplex {
  constructor() {
    super();
    this.other = null;
    this.blockedWrite = null;
    this.held = null;
  }

  hold() {
    this.held = [];
  }

  release() {
    const held = this.held || [];
    this.held = null;
    if (!this.destroyed) for (const [chunk, callback] of held) this._write(chunk, null, callback);
  }

  _write(chunk, _encoding, callback) {
    if (this.held) {
      this.held.push([chunk, callback]);
    } else if (this.other.destroyed) {
      callback(Object.assign(new Error('write after the other end was destroyed'), { code: 'EPIPE' }));
    } else if (this.other.push(chunk)) {
      callback();
    } else {
      this.blockedWrite = callback;
    }
  }

  _read() {
    const callback = this.other && this.other.blockedWrite;
    if (callback) {
      this.other.blockedWrite = null;
      callback();
    }
  }

  _final(callback) {
    if (!this.other.destroyed) this.other.push(null);
    callback();
  }

  _destroy(err, callback) {
    // Torn down: the other end reads EOF, and a write of its waiting for us
    // to read fails, as on a reset socket.
    const other = this.other;
    if (other && !other.destroyed) {
      if (!this.writableFinished) other.push(null);
      const blocked = other.blockedWrite;
      other.blockedWrite = null;
      if (blocked) blocked(Object.assign(new Error('the other end was destroyed'), { code: 'EPIPE' }));
    }
    callback(err);
  }
}

/** Two MemoryEnds joined back to back. */
function memoryPair() {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}

/**
 * Runs `node -e script`; resolves { code, stdout, stderr, out } (out: both
 * interleaved), or rejects if it has not exited within `ms`.
 */
async function runChild(script, ms) {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => ((out += d), (stdout += d)));
  child.stderr.on('data', (d) => ((out += d), (stderr += d)));
  const exited = once(child, 'exit');
  try {
    const [code] = await withTimeout(exited, ms, 'child process exits by itself');
    return { code, stdout, stderr, out };
  } catch (err) {
    err.message += `; output so far: ${out}`;
    throw err;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * A child process script: TLS over a memoryPair() between `sName` (server)
 * and `cName` (client), 1 MiB each way, both end(); prints 'ok' at exit if
 * both ends got the other's bytes and closed.
 */
function memoryScript(sName, cName, mode) {
  return `
    'use strict';
    const { Duplex } = require('node:stream');
    const fs = require('node:fs');
    const path = require('node:path');
    const crypto = require('node:crypto');
    const sTls = require(${JSON.stringify(implPath(sName))});
    const cTls = require(${JSON.stringify(implPath(cName))});
    const fixture = (f) => fs.readFileSync(path.join(${JSON.stringify(FIXTURES)}, f));
    ${MemoryEnd.toString()}
    ${memoryPair.toString()}
    const hold = ${JSON.stringify(mode)} === 'held' ? setInterval(() => {}, 1000) : null;
    const [a, b] = memoryPair();
    const server = new sTls.TLSSocket(a, {
      isServer: true,
      secureContext: sTls.createSecureContext({ key: fixture('ec-key.pem'), cert: fixture('ec-cert.pem') }),
    });
    const client = cTls.connect({ socket: b, ca: fixture('ca-cert.pem'), servername: 'localhost' });
    const payload = crypto.randomBytes(1024 * 1024);
    const digest = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
    const results = {};
    for (const [name, sock] of [['server', server], ['client', client]]) {
      const chunks = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('end', () => { results[name] = digest(Buffer.concat(chunks)); });
      sock.on('close', () => {
        results[name + 'Closed'] = true;
        if (hold && results.serverClosed && results.clientClosed) clearInterval(hold);
      });
      sock.on('error', (err) => { console.error(name, err); process.exitCode = 1; });
    }
    client.on('secureConnect', () => {
      client.end(payload);
      server.end(payload);
    });
    process.on('exit', () => {
      const want = digest(payload);
      const ok = results.server === want && results.client === want &&
        results.serverClosed && results.clientClosed;
      console.log(ok ? 'ok' : 'incomplete at exit: ' + JSON.stringify(results));
      if (!ok) process.exitCode = 1;
    });
  `;
}

/**
 * A child process script: STARTTLS over TCP between `sName` (server) and
 * `cName` (client), 4 MiB each way, both end(); no timers, the listening
 * server closed once it has its connection. Prints 'ok' at exit if both
 * ends got the other's bytes and every layer closed.
 */
function tcpScript(sName, cName) {
  return `
    'use strict';
    const net = require('node:net');
    const fs = require('node:fs');
    const path = require('node:path');
    const crypto = require('node:crypto');
    const sTls = require(${JSON.stringify(implPath(sName))});
    const cTls = require(${JSON.stringify(implPath(cName))});
    const fixture = (f) => fs.readFileSync(path.join(${JSON.stringify(FIXTURES)}, f));
    const up = crypto.randomBytes(4 * 1024 * 1024);
    const down = crypto.randomBytes(4 * 1024 * 1024);
    const digest = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
    const results = {};
    function collect(name, sock) {
      const chunks = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('end', () => { results[name] = digest(Buffer.concat(chunks)); });
      sock.on('close', () => { results[name + 'Closed'] = true; });
      sock.on('error', (err) => { console.error(name, err); process.exitCode = 1; });
    }
    const server = net.createServer({ allowHalfOpen: true }, (raw) => {
      server.close();
      raw.on('close', () => { results.serverRawClosed = true; });
      raw.once('data', () => {
        raw.write('220 go\\r\\n');
        const tls = new sTls.TLSSocket(raw, {
          isServer: true,
          secureContext: sTls.createSecureContext({ key: fixture('ec-key.pem'), cert: fixture('ec-cert.pem') }),
        });
        collect('server', tls);
        tls.end(down);
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const raw = net.connect({ port: server.address().port, host: '127.0.0.1', allowHalfOpen: true });
      raw.on('close', () => { results.clientRawClosed = true; });
      raw.on('connect', () => raw.write('STARTTLS\\r\\n'));
      raw.once('data', () => {
        const tls = cTls.connect({ socket: raw, ca: fixture('ca-cert.pem'), servername: 'localhost' });
        collect('client', tls);
        tls.end(up);
      });
    });
    process.on('exit', () => {
      const ok = results.server === digest(up) && results.client === digest(down) &&
        results.serverClosed && results.clientClosed && results.serverRawClosed && results.clientRawClosed;
      console.log(ok ? 'ok' : 'incomplete at exit: ' + JSON.stringify(results));
      if (!ok) process.exitCode = 1;
    });
  `;
}

/** A net server on 127.0.0.1 torn down with the scope; resolves { server, port }. */
async function netServer(sc, onConnection, options = {}) {
  const server = net.createServer(options, onConnection);
  sc.servers.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: server.address().port };
}

/**
 * A STARTTLS session over TCP. The client connects with net, says
 * `STARTTLS`; the server reads that line (only that line) from the plain
 * socket, answers `220 go` and upgrades with
 * `new TLSSocket(raw, { isServer: true, secureContext })`; the client reads
 * the answer and upgrades with `tls.connect({ socket: raw, ca, servername })`.
 *
 * With `early`, the client starts TLS right after its STARTTLS line without
 * waiting for an answer (and the server sends none): the server's line
 * reader is made to see bytes of the ClientHello behind the line, and gives
 * them back to the plain socket before it is wrapped.
 *
 * With `allowHalfOpen`, both plain sockets (and so the TLS sockets over
 * them, which inherit it) are half-open.
 */
async function starttls(sc, sName, cName, { early = false, allowHalfOpen = false } = {}) {
  const sTls = impls[sName];
  const cTls = impls[cName];
  const secureContext = sTls.createSecureContext(certs.ec);
  let serverUpgraded;
  const serverSide = new Promise((resolve, reject) => {
    serverUpgraded = { resolve, reject };
  });
  const { port } = await netServer(sc, async (serverRaw) => {
    sc.track(serverRaw);
    try {
      const { line, rest } = await readLine(serverRaw, { extra: early ? 5 : 0 });
      if (line !== 'STARTTLS') throw new Error(`server got ${JSON.stringify(line)}`);
      if (!early) serverRaw.write('220 go\r\n');
      const serverTls = sc.track(new sTls.TLSSocket(serverRaw, { isServer: true, secureContext }));
      const secure = new Promise((resolve, reject) => {
        serverTls.once('secure', resolve);
        serverTls.once('error', reject);
      });
      serverUpgraded.resolve({ serverRaw, serverTls, rest, secure });
    } catch (err) {
      serverUpgraded.reject(err);
    }
  }, { allowHalfOpen });

  const clientRaw = sc.track(net.connect({ port, host: '127.0.0.1', allowHalfOpen }));
  await withTimeout(once(clientRaw, 'connect'), 5000, 'tcp connect');
  clientRaw.write('STARTTLS\r\n');
  if (!early) {
    const { line, rest } = await withTimeout(readLine(clientRaw), 5000, 'server answer');
    assert.equal(line, '220 go');
    assert.equal(rest, 0, 'the server sends nothing after its answer until the ClientHello');
  }
  const clientTls = sc.track(cTls.connect({ socket: clientRaw, ca: certs.ca, servername: 'localhost' }));
  const server = await withTimeout(serverSide, 5000, 'server reads STARTTLS and upgrades');
  await withTimeout(once(clientTls, 'secureConnect'), 5000, 'client secureConnect');
  await withTimeout(server.secure, 5000, "server TLSSocket 'secure'");
  return { clientRaw, clientTls, ...server };
}

/** One line each way over an upgraded pair. */
async function exchangeLines(c) {
  c.clientTls.write('EHLO client.example\r\n');
  assert.equal((await withTimeout(readLine(c.serverTls), 5000, 'server reads EHLO')).line, 'EHLO client.example');
  c.serverTls.write('250 hello client.example\r\n');
  assert.equal((await withTimeout(readLine(c.clientTls), 5000, 'client reads 250')).line, '250 hello client.example');
}

/** Resolves when every stream has emitted 'close'. */
function allClosed(streams, label) {
  return withTimeout(Promise.all(streams.map((s) => (s.closed ? null : onClose(s)))), 5000, label);
}

// ---------------------------------------------------------------------------
// Line-protocol STARTTLS over TCP
// ---------------------------------------------------------------------------

for (const [sName, cName] of implPairs()) {
  describe(`starttls over TCP: ${sName} server, ${cName} client`, () => {
    test('STARTTLS, 220, both upgrade; lines, then 4 MiB each way with backpressure; orderly close', { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const c = await starttls(sc, sName, cName);
      assert.equal(c.rest, 0, 'nothing but the STARTTLS line was buffered at the server');

      assert.equal(c.clientTls.authorized, true, `authorizationError: ${c.clientTls.authorizationError}`);
      assert.equal(c.clientTls.authorizationError, null);
      assert.equal(c.clientTls.encrypted, true);
      assert.equal(c.serverTls.encrypted, true);
      assert.equal(c.clientTls.getProtocol(), 'TLSv1.3');
      assert.equal(c.serverTls.getProtocol(), 'TLSv1.3');
      assert.equal(c.clientTls.getPeerCertificate().subject.CN, 'localhost');

      await exchangeLines(c);

      const up = crypto.randomBytes(4 * MiB);
      const down = crypto.randomBytes(4 * MiB);
      const serverGot = readBytes(c.serverTls, up.length);
      const clientGot = readBytes(c.clientTls, down.length);
      const [upStalls, downStalls] = await Promise.all([writeAll(c.clientTls, up), writeAll(c.serverTls, down)]);
      const [sGot, cGot] = await withTimeout(Promise.all([serverGot, clientGot]), 20000, '4 MiB each way');
      assert.equal(sGot.length, up.length);
      assert.equal(sha256(sGot), sha256(up));
      assert.equal(cGot.length, down.length);
      assert.equal(sha256(cGot), sha256(down));
      // 64 KiB writes against a 16 KiB high-water mark: write() said false
      // and the writers waited for 'drain'.
      assert.ok(upStalls > 0, 'client write() never returned false');
      assert.ok(downStalls > 0, 'server write() never returned false');

      // The client ends; the server (allowHalfOpen false, from its net
      // socket) ends in turn; every layer on both ends closes.
      const closed = allClosed([c.clientTls, c.clientRaw, c.serverTls, c.serverRaw], 'all four layers close');
      const serverEnd = once(c.serverTls, 'end');
      c.clientTls.end();
      await withTimeout(serverEnd, 5000, "server 'end'");
      await closed;
    });

    test('half-open: both ends write 4 MiB and end() at once; every byte arrives before end', { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const c = await starttls(sc, sName, cName, { allowHalfOpen: true });
      assert.equal(c.clientTls.allowHalfOpen, true);
      assert.equal(c.serverTls.allowHalfOpen, true);
      const up = crypto.randomBytes(4 * MiB);
      const down = crypto.randomBytes(4 * MiB);
      const serverGot = readAll(c.serverTls);
      const clientGot = readAll(c.clientTls);
      const closed = allClosed([c.clientTls, c.clientRaw, c.serverTls, c.serverRaw], 'all four layers close');
      await Promise.all([
        writeAll(c.clientTls, up).then(() => c.clientTls.end()),
        writeAll(c.serverTls, down).then(() => c.serverTls.end()),
      ]);
      const [sGot, cGot] = await withTimeout(Promise.all([serverGot, clientGot]), 20000, '4 MiB each way, then end');
      assert.equal(sGot.length, up.length);
      assert.equal(sha256(sGot), sha256(up));
      assert.equal(cGot.length, down.length);
      assert.equal(sha256(cGot), sha256(down));
      await closed;
    });

    test('bytes that reached the plain socket before the upgrade are fed to TLS, not lost', { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const c = await starttls(sc, sName, cName, { early: true });
      assert.ok(c.rest >= 5, `the ClientHello was buffered behind STARTTLS (${c.rest} bytes given back)`);
      assert.equal(c.clientTls.authorized, true, `authorizationError: ${c.clientTls.authorizationError}`);
      assert.equal(c.clientTls.getProtocol(), 'TLSv1.3');
      assert.equal(c.serverTls.getProtocol(), 'TLSv1.3');
      await exchangeLines(c);
      const up = crypto.randomBytes(256 * 1024);
      const serverGot = readBytes(c.serverTls, up.length);
      await writeAll(c.clientTls, up);
      assert.equal(sha256(await withTimeout(serverGot, 10000, '256 KiB up')), sha256(up));
      const closed = allClosed([c.clientTls, c.clientRaw, c.serverTls, c.serverRaw], 'all four layers close');
      c.clientTls.end();
      await closed;
    });

    // The server wraps an accepted net socket only after the client's whole
    // exchange (request, close_notify, FIN) has reached it. The plain socket
    // must not end its own side on the client's FIN (net's default): TLS
    // still has to send (tickets, close_notify) and deliver what arrived.
    // Repeated: how the two ends' threads interleave decides the order.
    test('wrapped after the client already ended: the request and end still arrive, then all close', { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      for (let i = 0; i < 8; i++) {
        let gotServerTls;
        const serverTls = new Promise((resolve) => (gotServerTls = resolve));
        const server = net.createServer((raw) => {
          setTimeout(() => {
            const s = new impls[sName].TLSSocket(raw, {
              isServer: true,
              secureContext: impls[sName].createSecureContext(certs.ec),
            });
            sc.track(s);
            gotServerTls({ s, received: readAll(s) });
          }, 100);
        });
        sc.servers.add(server);
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        const client = sc.connect(impls[cName], { host: '127.0.0.1', port: server.address().port, ca: certs.ca, servername: 'localhost' }, () => {
          client.end(`request ${i}`);
        });
        const clientEnded = once(client, 'end');
        const { s, received } = await withTimeout(serverTls, 5000, 'server wraps');
        assert.equal((await withTimeout(received, 5000, 'server reads to end')).toString(), `request ${i}`);
        await withTimeout(clientEnded, 5000, 'client end');
        await allClosed([client, s], 'both close');
        server.close();
      }
    });

    test('in a process with nothing else to do (no timers): 4 MiB each way completes, then it exits', { timeout: 30000 }, async () => {
      // The plain sockets are the only handles: while one is paused for
      // backpressure, the TLS work in flight must keep the process alive.
      const { code, out } = await runChild(tcpScript(sName, cName), 20000);
      assert.equal(code, 0, out);
      assert.match(out, /^ok$/m);
    });

    for (const side of ['client', 'server']) {
      for (const layer of ['Tls', 'Raw']) {
        const what = layer === 'Tls' ? 'TLS socket' : 'plain socket under it';
        test(`destroying the ${side}'s ${what} closes every layer on both ends`, async (t) => {
          const sc = scope(t);
          const c = await starttls(sc, sName, cName);
          await exchangeLines(c);
          const layers = [c.clientTls, c.clientRaw, c.serverTls, c.serverRaw];
          const closed = allClosed(layers, 'all four layers close');
          c[`${side}${layer}`].destroy();
          await closed;
          for (const s of layers) assert.equal(s.destroyed, true);
        });
      }
    }
  });
}

// ---------------------------------------------------------------------------
// TLS over two in-memory Duplex streams
// ---------------------------------------------------------------------------

for (const [sName, cName] of implPairs()) {
  describe(`TLS over in-memory Duplex streams: ${sName} server, ${cName} client`, () => {
    test('handshake, 3 MiB each way byte-exact, both end(), both close', { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const [a, b] = memoryPair();
      const serverTls = sc.track(
        new impls[sName].TLSSocket(a, { isServer: true, secureContext: impls[sName].createSecureContext(certs.ec) }),
      );
      const serverSecure = once(serverTls, 'secure');
      const clientTls = sc.track(impls[cName].connect({ socket: b, ca: certs.ca, servername: 'localhost' }));
      await withTimeout(once(clientTls, 'secureConnect'), 5000, 'client secureConnect');
      await withTimeout(serverSecure, 5000, "server 'secure'");
      assert.equal(clientTls.authorized, true, `authorizationError: ${clientTls.authorizationError}`);
      assert.equal(clientTls.getProtocol(), 'TLSv1.3');
      assert.equal(serverTls.getProtocol(), 'TLSv1.3');

      // A Duplex is half-open by default, and a TLSSocket over it too: each
      // end sends everything, ends, and reads until the other's end.
      const up = crypto.randomBytes(3 * MiB);
      const down = crypto.randomBytes(3 * MiB);
      const serverGot = readAll(serverTls);
      const clientGot = readAll(clientTls);
      const closed = allClosed([clientTls, serverTls], 'both TLS sockets close');
      const [upStalls, downStalls] = await Promise.all([
        writeAll(clientTls, up).then((n) => (clientTls.end(), n)),
        writeAll(serverTls, down).then((n) => (serverTls.end(), n)),
      ]);
      const [sGot, cGot] = await withTimeout(Promise.all([serverGot, clientGot]), 20000, '3 MiB each way');
      assert.equal(sGot.length, up.length);
      assert.equal(sha256(sGot), sha256(up));
      assert.equal(cGot.length, down.length);
      assert.equal(sha256(cGot), sha256(down));
      assert.ok(upStalls > 0 && downStalls > 0, 'write() returned false at least once each way');
      await closed;
    });

    test("over a slow link, end() does not lose what the stream under it has not written yet", { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const [a, b] = memoryPair();
      const serverTls = sc.track(
        new impls[sName].TLSSocket(a, { isServer: true, secureContext: impls[sName].createSecureContext(certs.ec) }),
      );
      const clientTls = sc.track(impls[cName].connect({ socket: b, ca: certs.ca, servername: 'localhost' }));
      await withTimeout(once(clientTls, 'secureConnect'), 5000, 'client secureConnect');
      const clientGot = readAll(clientTls);
      // The server's link stalls; it sends 1 MiB and ends, and the client
      // ends its side at once. The server's socket may only finish and close
      // (and let go of the stream under it) once that stream has written all
      // its ciphertext: its write callbacks are the only proof.
      a.hold();
      const down = crypto.randomBytes(MiB);
      let serverFinished = false;
      serverTls.on('finish', () => (serverFinished = true));
      serverTls.end(down);
      clientTls.end();
      await delay(200);
      assert.equal(serverFinished, false, "server 'finish' before the stream under it wrote the data");
      assert.equal(a.destroyed, false, 'the stream under the server was destroyed with data still queued');
      a.release();
      const got = await withTimeout(clientGot, 10000, 'client reads 1 MiB');
      assert.equal(got.length, down.length);
      assert.equal(sha256(got), sha256(down));
      await allClosed([clientTls, serverTls], 'both TLS sockets close');
    });

    // The same exchange in a child process that never calls destroy() or
    // process.exit(). 'bare': nothing but the two TLS sockets is in the
    // loop, so the process must stay alive for the handshake and data (as it
    // does with node:tls) and then exit. 'held': an interval keeps the loop
    // alive until both sockets close, then is cleared; the process must exit.
    for (const mode of ['bare', 'held']) {
      const title = mode === 'bare'
        ? 'in a process with nothing else to do: completes, then exits by itself'
        : 'in a process kept alive until both close: exits once nothing else holds it';
      test(title, { timeout: 30000 }, async () => {
        const { code, out } = await runChild(memoryScript(sName, cName, mode), 15000);
        assert.equal(code, 0, out);
        assert.match(out, /^ok$/m);
      });
    }
  });
}

// ---------------------------------------------------------------------------
// tls.createSecurePair()
// ---------------------------------------------------------------------------

/** A node:tls server (rsa leaf, CA-signed) that greets and echoes. */
async function nodeEchoServer(sc) {
  return sc.server(nodeTls, { ...certs.rsa }, (s) => {
    s.write('hello\n');
    s.pipe(s);
  });
}

/**
 * The doc's STARTTLS recipe on a fresh TCP connection to `port`: a client
 * pair whose encrypted side is piped to the socket and back.
 */
async function clientPair(sc, tls, port, contextOptions) {
  const raw = sc.track(net.connect(port, '127.0.0.1'));
  await withTimeout(once(raw, 'connect'), 5000, 'tcp connect');
  const pair = tls.createSecurePair(tls.createSecureContext(contextOptions), false);
  sc.track(pair.cleartext);
  pair.encrypted.pipe(raw);
  raw.pipe(pair.encrypted);
  return { raw, pair };
}

/** What node:tls's connect() reports as authorizationError against `port` with `ca`. */
async function nodeVerdict(sc, port, ca) {
  const s = await sc.connected(nodeTls, { port, host: '127.0.0.1', ca, rejectUnauthorized: false });
  const verdict = { authorized: s.authorized, authorizationError: s.authorizationError };
  s.destroy();
  return verdict;
}

// An error the application raises on the stream it handed to TLS (its
// own destroy(err) or emit('error')) is that stream's, heard by its own
// listeners, and the TLS socket reports it too ('_tlsError', then 'error');
// the stream closes with it and the TLS socket after it.
describe('an error raised on the wrapped stream: its own, and the TLS socket\'s', () => {
  async function trace(tls, how) {
    const out = [];
    const server = nodeTls.createServer(certs.ec, (s) => {
      s.on('error', () => {});
      s.resume();
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      let raw;
      if (how.startsWith('duplex')) {
        const [a, b] = memoryPair();
        raw = b;
        const serverTls = new nodeTls.TLSSocket(a, { isServer: true, secureContext: nodeTls.createSecureContext(certs.ec) });
        serverTls.on('error', () => {});
        serverTls.resume();
      } else {
        raw = net.connect(server.address().port, '127.0.0.1');
      }
      raw.on('error', (e) => out.push(`raw error ${e.message}`));
      raw.on('close', (h) => out.push(`raw close ${h}`));
      const c = tls.connect({ socket: raw, ca: certs.ca, servername: 'localhost' });
      for (const ev of ['_tlsError', 'error']) c.on(ev, (e) => out.push(`tls ${ev} ${e.message}`));
      const closed = new Promise((resolve) => c.on('close', (h) => {
        out.push(`tls close ${h}`);
        resolve();
      }));
      await withTimeout(once(c, 'secureConnect'), 5000, 'secureConnect');
      if (how.endsWith('emit')) {
        raw.emit('error', new Error('raised'));
        await new Promise((resolve) => setTimeout(resolve, 50));
        out.push(`after emit: tls destroyed ${c.destroyed}, raw destroyed ${raw.destroyed}`);
        c.destroy();
      } else {
        raw.destroy(new Error('raised'));
      }
      await withTimeout(closed, 5000, 'TLS socket closes');
      return out;
    } finally {
      server.close();
    }
  }
  for (const how of ['net.Socket destroy(err)', 'net.Socket emit', 'duplex destroy(err)']) {
    test(how, async () => {
      const expected = await trace(nodeTls, how);
      assert.ok(expected.includes('tls error raised'), `node:tls reports it (test premise): ${expected}`);
      for (const name of implNames) assert.deepEqual(await trace(impls[name], how), expected, name);
    });
  }
});

for (const name of implNames) {
  const tls = impls[name];
  // Node 24 removed node:tls's createSecurePair (DEP0064 reached end of
  // life); this package keeps the doc's API on every Node version.
  const skip = name === 'node' && typeof tls.createSecurePair !== 'function' &&
    `node:tls on Node ${process.version} has no createSecurePair (removed in Node 24)`;
  describe(`createSecurePair: ${name}`, { skip }, () => {
    test('exists and returns { encrypted, cleartext } with cleartext a TLSSocket', (t) => {
      assert.equal(typeof tls.createSecurePair, 'function', 'tls.createSecurePair is not implemented');
      const sc = scope(t);
      const pair = tls.createSecurePair(tls.createSecureContext({ ca: certs.ca }), false);
      sc.track(pair.cleartext);
      assert.ok(pair.cleartext instanceof tls.TLSSocket);
      assert.ok(pair.encrypted instanceof Duplex);
      assert.equal(typeof pair.on, 'function');
      pair.cleartext.destroy();
      pair.encrypted.destroy();
    });

    test("client pair piped to a socket, against a node:tls server: 'secure', data both ways", { timeout: 30000 }, async (t) => {
      const sc = scope(t);
      const { port } = await nodeEchoServer(sc);
      const { raw, pair } = await clientPair(sc, tls, port, { ca: certs.ca });
      const secure = once(pair, 'secure');
      // node:tls's pair client waits for the application's first write (or
      // the private _start()) to send its ClientHello; writing first works
      // with both.
      pair.cleartext.write('ping\n');
      await withTimeout(secure, 5000, "pair 'secure'");
      assert.equal(pair.cleartext.getProtocol(), 'TLSv1.3');
      assert.equal(pair.cleartext.encrypted, true);
      if (name === 'node') {
        // node:tls never verifies a pair's client end: authorized stays
        // false with no authorizationError whatever the chain.
        assert.equal(pair.cleartext.authorized, false);
        assert.equal(pair.cleartext.authorizationError, null);
      } else {
        // As the doc says: authorized when the peer's chain reaches `ca`.
        assert.equal(pair.cleartext.authorized, true, `authorizationError: ${pair.cleartext.authorizationError}`);
        assert.equal(pair.cleartext.authorizationError, null);
      }
      const got = await withTimeout(readBytes(pair.cleartext, 'hello\nping\n'.length), 5000, 'greeting and echo');
      assert.equal(got.toString(), 'hello\nping\n');

      // 1 MiB echoed back through the pair.
      const blob = crypto.randomBytes(MiB);
      const echoed = readBytes(pair.cleartext, blob.length);
      await writeAll(pair.cleartext, blob);
      assert.equal(sha256(await withTimeout(echoed, 10000, '1 MiB echo')), sha256(blob));

      const rawClosed = onClose(raw);
      pair.cleartext.end();
      await withTimeout(rawClosed, 5000, 'socket closes after cleartext.end()');
    });

    test('client pair, server cert not trusted: authorized false with the verify code node:tls reports', async (t) => {
      const sc = scope(t);
      const { port } = await nodeEchoServer(sc);
      const expected = await nodeVerdict(sc, port, undefined);
      assert.equal(expected.authorized, false);
      const { pair } = await clientPair(sc, tls, port, {});
      const secure = once(pair, 'secure');
      pair.cleartext.write('ping\n');
      await withTimeout(secure, 5000, "pair 'secure'");
      if (name === 'node') {
        assert.equal(pair.cleartext.authorized, false);
        assert.equal(pair.cleartext.authorizationError, null);
      } else {
        assert.deepEqual(
          { authorized: pair.cleartext.authorized, authorizationError: pair.cleartext.authorizationError },
          expected,
        );
      }
      // A pair's client end does not reject (rejectUnauthorized applies to
      // server pairs): the application decides, and data still flows.
      const got = await withTimeout(readBytes(pair.cleartext, 'hello\nping\n'.length), 5000, 'greeting and echo');
      assert.equal(got.toString(), 'hello\nping\n');
    });

    test(
      'a client pair starts its handshake by itself once wired',
      { skip: name === 'node' && "node:tls's pair client waits for a first write or the private _start()" },
      async (t) => {
        const sc = scope(t);
        const { port } = await nodeEchoServer(sc);
        const { pair } = await clientPair(sc, tls, port, { ca: certs.ca });
        await withTimeout(once(pair, 'secure'), 5000, "pair 'secure' without any write");
        const got = await withTimeout(readBytes(pair.cleartext, 'hello\n'.length), 5000, 'greeting');
        assert.equal(got.toString(), 'hello\n');
      },
    );

    test('server pair behind a net server, node:tls client with a client certificate', async (t) => {
      const sc = scope(t);
      let serverPair;
      const { port } = await netServer(sc, (raw) => {
        sc.track(raw);
        const context = tls.createSecureContext({ ...certs.rsa, ca: certs.ca });
        const pair = tls.createSecurePair(context, true, true, false);
        sc.track(pair.cleartext);
        serverPair = { pair, secure: once(pair, 'secure') };
        pair.encrypted.pipe(raw);
        raw.pipe(pair.encrypted);
        pair.cleartext.write('hello\n');
        pair.cleartext.pipe(pair.cleartext);
      });
      const client = await sc.connected(nodeTls, {
        port,
        host: '127.0.0.1',
        ca: certs.ca,
        servername: 'localhost',
        ...certs.client,
      });
      assert.equal(client.authorized, true, `authorizationError: ${client.authorizationError}`);
      await withTimeout(serverPair.secure, 5000, "server pair 'secure'");
      const cleartext = serverPair.pair.cleartext;
      if (name === 'node') {
        // node:tls verifies a client only on sockets its tls.Server made:
        // a pair's server end keeps authorized false.
        assert.equal(cleartext.authorized, false);
      } else {
        // As the doc says: authorized when the client's chain reaches `ca`.
        assert.equal(cleartext.authorized, true, `authorizationError: ${cleartext.authorizationError}`);
      }
      assert.equal(cleartext.authorizationError, null);
      assert.equal(cleartext.getPeerCertificate().subject.CN, 'client');
      const got = readBytes(client, 'hello\nping\n'.length);
      client.write('ping\n');
      assert.equal((await withTimeout(got, 5000, 'greeting and echo')).toString(), 'hello\nping\n');
      const closed = onClose(client);
      client.end();
      await withTimeout(closed, 5000, 'client close');
    });

    test('emits the DEP0064 DeprecationWarning, once per process', async () => {
      const script = `
        'use strict';
        const tls = require(${JSON.stringify(implPath(name))});
        const seen = [];
        process.on('warning', (w) => seen.push({ name: w.name, code: w.code, message: w.message }));
        for (let i = 0; i < 3; i++) {
          const pair = tls.createSecurePair(tls.createSecureContext({}), false);
          pair.cleartext.on('error', () => {});
          pair.cleartext.destroy();
          pair.encrypted.destroy();
        }
        setTimeout(() => console.log(JSON.stringify(seen)), 50);
      `;
      const { code, stdout, stderr, out } = await runChild(script, 10000);
      assert.equal(code, 0, out);
      assert.deepEqual(JSON.parse(stdout), [
        {
          name: 'DeprecationWarning',
          code: 'DEP0064',
          message: 'tls.createSecurePair() is deprecated. Please use tls.TLSSocket instead.',
        },
      ]);
      assert.match(stderr, /\[DEP0064\] DeprecationWarning: tls\.createSecurePair\(\) is deprecated/);
    });
  });
}
