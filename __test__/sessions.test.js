'use strict';
// Sessions and tickets: 'session' events, getSession() / `session`,
// isSessionReused() on both ends, getTLSTicket(), ticketKeys shared by two
// servers, setTicketKeys() in force at once, and TLS 1.2 session ids through
// 'newSession' / 'resumeSession'. Every scenario runs in every pairing of
// node:tls and rustls-tls; a session Buffer always goes back to the client
// implementation that made it (node:tls's are OpenSSL's format, ours name a
// session kept in this process: neither can be handed to the other).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const { once } = require('node:events');
const { impls, implPairs, certs, scope, withTimeout, errorShape, differential } = require('./helpers');

const VERSIONS = ['TLSv1.2', 'TLSv1.3'];

// One connection: resolves with what both ends said once the client closed.
function session(sc, tls, port, options = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const out = { sessions: [], events: [] };
    const c = sc.connect(tls, { port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
    c.on('secureConnect', () => {
      out.events.push('secureConnect');
      out.reused = c.isSessionReused();
      out.protocol = c.getProtocol();
      out.atConnect = c.getSession();
    });
    c.on('session', (s) => {
      out.events.push('session');
      out.sessions.push(s);
      out.ticket = out.ticket || c.getTLSTicket();
      out.latest = c.getSession();
      assert.ok(out.latest.equals(s));
    });
    c.on('error', reject);
    c.on('close', () => resolve(out));
    c.resume();
  }), 10000, 'session connection');
}

// A server whose connections say 'x' and end, recording isSessionReused().
async function server(sc, tls, options = {}) {
  const seen = [];
  const { server: srv, port } = await sc.server(tls, { ...certs.ec, ...options }, (s) => {
    seen.push({ reused: s.isSessionReused(), ticket: s.getTLSTicket() });
    s.end('x');
  });
  return { srv, port, seen };
}

for (const version of VERSIONS) {
  for (const [sName, cName] of implPairs()) {
    test(`${version}: ${cName} client resumes with a ${sName} server's session`, async (t) => {
      const sc = scope(t);
      const { port, seen } = await server(sc, impls[sName], { maxVersion: version });
      const first = await session(sc, impls[cName], port);
      assert.equal(first.protocol, version);
      assert.equal(first.reused, false);
      assert.equal(first.sessions.length, version === 'TLSv1.3' ? 2 : 1);
      assert.ok(first.sessions.every(Buffer.isBuffer));
      assert.deepEqual(first.events.slice(0, 2), ['secureConnect', 'session']);
      assert.ok(Buffer.isBuffer(first.atConnect));
      // TLS 1.3 tickets come after the handshake: the session at
      // 'secureConnect' is a placeholder; TLS 1.2's is the session itself.
      assert.equal(first.atConnect.equals(first.sessions[0]), version === 'TLSv1.2');
      // getSession() is the newest session.
      assert.ok(first.latest.equals(first.sessions[first.sessions.length - 1]));
      assert.ok(Buffer.isBuffer(first.ticket) && first.ticket.length > 0);

      const second = await session(sc, impls[cName], port, { session: first.sessions[0] });
      assert.equal(second.reused, true);
      // The same session resumes again (a server's tickets are reusable).
      const third = await session(sc, impls[cName], port, { session: first.sessions[0] });
      assert.equal(third.reused, true);
      // The placeholder of a TLS 1.3 handshake resumes nothing.
      const fourth = await session(sc, impls[cName], port, { session: first.atConnect });
      assert.equal(fourth.reused, version === 'TLSv1.2');
      assert.deepEqual(seen.map((s) => s.reused), [false, true, true, version === 'TLSv1.2']);
      assert.deepEqual(seen.map((s) => s.ticket), [undefined, undefined, undefined, undefined]);
    });
  }
}

// A client with a certificate resumes too, with the session of a connection
// made with another context holding the same certificate (https.Agent makes
// a context per connection; found with got/axios/node-fetch on a
// rustls-tls/https agent, http-clients.test.js).
for (const version of VERSIONS) {
  for (const [sName, cName] of implPairs()) {
    test(`${version}: a ${cName} client with a certificate resumes with its session (${sName} server asking for it)`, async (t) => {
      const sc = scope(t);
      const { port, seen } = await server(sc, impls[sName], {
        maxVersion: version, ca: certs.ca, requestCert: true, rejectUnauthorized: false,
      });
      const first = await session(sc, impls[cName], port, { ...certs.client });
      assert.equal(first.reused, false);
      const second = await session(sc, impls[cName], port, { ...certs.client, session: first.sessions[0] });
      assert.equal(second.reused, true);
      const context = impls[cName].createSecureContext({ ...certs.client });
      const third = await session(sc, impls[cName], port, { secureContext: context, session: first.sessions[0] });
      assert.equal(third.reused, true);
      assert.deepEqual(seen.map((x) => x.reused), [false, true, true]);
    });
  }
}

// A server that writes and ends at once: its tickets, data and close arrive
// together. The client's 'session' events come before its 'end' (and in
// the order node:tls gives them among the data), with or without a client
// certificate; they came after 'end' when the read was done on the JS
// thread, so an https.Agent had no session for its next connection.
for (const sName of Object.keys(impls)) {
  test(`'session' comes before 'end', in node:tls's order, when the ${sName} server writes and ends at once`, async (t) => {
    const sc = scope(t);
    const { port } = await sc.server(impls[sName], { ...certs.rsa, ca: certs.ca, requestCert: true, rejectUnauthorized: false },
      (s) => s.end('hello'));
    const orders = {};
    for (const cName of Object.keys(impls)) {
      for (const withCert of [false, true]) {
        const events = [];
        await withTimeout(new Promise((resolve) => {
          const c = sc.connect(impls[cName], {
            port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...(withCert ? certs.client : {}),
          });
          for (const e of ['secureConnect', 'session', 'data', 'end']) c.on(e, () => events.push(e));
          c.on('close', resolve);
        }), 10000, 'connection');
        orders[`${cName} ${withCert ? 'with' : 'without'} a certificate`] = events;
      }
    }
    for (const [key, events] of Object.entries(orders)) {
      assert.equal(events.filter((e) => e === 'session').length, 2, `${key}: ${events}`);
      assert.ok(events.lastIndexOf('session') < events.indexOf('end'), `${key}: ${events}`);
      assert.deepEqual(events, orders[key.replace(/^\w+/, 'node')], key);
    }
  });
}

for (const [sName, cName] of implPairs()) {
  test(`ticketKeys: two ${sName} servers with the same keys resume each other's sessions (${cName} client)`, async (t) => {
    const sc = scope(t);
    const keys = crypto.randomBytes(48);
    const a = await server(sc, impls[sName], { ticketKeys: keys });
    const b = await server(sc, impls[sName], { ticketKeys: keys });
    const other = await server(sc, impls[sName], { ticketKeys: crypto.randomBytes(48) });
    assert.ok(a.srv.getTicketKeys().equals(keys));
    const first = await session(sc, impls[cName], a.port);
    assert.equal(first.reused, false);
    const onB = await session(sc, impls[cName], b.port, { session: first.sessions[0] });
    assert.equal(onB.reused, true);
    assert.deepEqual(b.seen.map((s) => s.reused), [true]);
    const onOther = await session(sc, impls[cName], other.port, { session: first.sessions[0] });
    assert.equal(onOther.reused, false);
    assert.deepEqual(other.seen.map((s) => s.reused), [false]);
  });

  test(`setTicketKeys: a ${sName} server stops resuming old tickets at once (${cName} client)`, async (t) => {
    const sc = scope(t);
    const { srv, port, seen } = await server(sc, impls[sName]);
    const old = srv.getTicketKeys();
    assert.equal(old.length, 48);
    const first = await session(sc, impls[cName], port);
    const fresh = crypto.randomBytes(48);
    srv.setTicketKeys(fresh);
    assert.ok(srv.getTicketKeys().equals(fresh));
    const after = await session(sc, impls[cName], port, { session: first.sessions[0] });
    assert.equal(after.reused, false);
    srv.setTicketKeys(old);
    const back = await session(sc, impls[cName], port, { session: first.sessions[0] });
    assert.equal(back.reused, true);
    assert.deepEqual(seen.map((s) => s.reused), [false, false, true]);
  });

  for (const mode of ['listening', 'wrapped', 'SNICallback']) {
    test(`TLS 1.2 session ids through newSession / resumeSession (${mode}): ${sName} server, ${cName} client`, async (t) => {
      const sc = scope(t);
      const store = new Map();
      const log = [];
      const options = { maxVersion: 'TLSv1.2', secureOptions: crypto.constants.SSL_OP_NO_TICKET };
      if (mode === 'SNICallback') options.SNICallback = (name, cb) => cb(null, null);
      let { srv, port, seen } = await server(sc, impls[sName], options);
      if (mode === 'wrapped') {
        // Connections handed to the server by a plain TCP server.
        const raw = net.createServer((c) => srv.emit('connection', c));
        sc.servers.add(raw);
        raw.listen(0, '127.0.0.1');
        await once(raw, 'listening');
        port = raw.address().port;
      }
      srv.on('newSession', (id, data, done) => {
        log.push('newSession');
        assert.ok(Buffer.isBuffer(id) && Buffer.isBuffer(data));
        // An asynchronous store: the handshake waits for it.
        setTimeout(() => {
          store.set(id.toString('hex'), data);
          done();
        }, 20);
      });
      srv.on('resumeSession', (id, cb) => {
        log.push('resumeSession');
        setImmediate(cb, null, store.get(id.toString('hex')));
      });
      srv.on('secureConnection', () => log.push('secureConnection'));
      const client = { maxVersion: 'TLSv1.2', servername: 'localhost' };
      const first = await session(sc, impls[cName], port, client);
      assert.equal(first.reused, false);
      assert.equal(store.size, 1);
      const second = await session(sc, impls[cName], port, { ...client, session: first.sessions[0] });
      assert.equal(second.reused, true);
      assert.deepEqual(seen.map((s) => s.reused), [false, true]);
      assert.deepEqual(log, ['newSession', 'secureConnection', 'resumeSession', 'secureConnection']);
    });
  }
}

test('setTicketKeys and ticketKeys: argument errors as node:tls', async () => {
  await differential((name, tls) => {
    const srv = tls.createServer({ ...certs.ec });
    const shapes = [];
    for (const bad of ['x', 1, null, {}, [], Buffer.alloc(3), new Uint8Array(49)]) {
      shapes.push(errorShape(() => srv.setTicketKeys(bad)));
    }
    for (const bad of ['x', Buffer.alloc(47)]) {
      shapes.push(errorShape(() => tls.createSecureContext({ ticketKeys: bad })));
    }
    for (const bad of ['1', -1, 2 ** 31]) {
      shapes.push(errorShape(() => tls.createSecureContext({ sessionTimeout: bad })));
    }
    shapes.push(errorShape(() => srv.setTicketKeys(new DataView(new ArrayBuffer(48)))));
    for (const id of ['x'.repeat(32), 'x'.repeat(33), 1]) {
      const shape = errorShape(() => tls.createSecureContext({ sessionIdContext: id }));
      // Node's OpenSSL error has no code; ours has one.
      delete shape.code;
      shapes.push(shape);
    }
    shapes.push(srv.getTicketKeys().length);
    return shapes;
  });
});

test('an OpenSSL session from node:tls is not resumed by rustls-tls, and does no harm', async (t) => {
  const sc = scope(t);
  const { port } = await server(sc, impls.node);
  const first = await session(sc, impls.node, port);
  const mixed = await session(sc, impls.rustls, port, { session: first.sessions[0] });
  assert.equal(mixed.reused, false);
  assert.equal(mixed.sessions.length, 2);
});

test('session: not a Buffer throws as node:tls does', async () => {
  await differential((name, tls) => [123, {}, true].map((session) => {
    try {
      tls.connect({ port: 1, session });
      return null;
    } catch (err) {
      return [err.name, err.code, err.message];
    }
  }));
});

test('sessionTimeout: an expired ticket does not resume', async (t) => {
  const sc = scope(t);
  const { port, seen } = await server(sc, impls.rustls, { sessionTimeout: 1 });
  const first = await session(sc, impls.rustls, port);
  await new Promise((r) => setTimeout(r, 2100));
  const later = await session(sc, impls.rustls, port, { session: first.sessions[0] });
  assert.equal(later.reused, false);
  assert.deepEqual(seen.map((s) => s.reused), [false, false]);
});

test('sessionIdContext: a ticket resumes only where the context is the same', async (t) => {
  const sc = scope(t);
  const keys = crypto.randomBytes(48);
  const a = await server(sc, impls.rustls, { ticketKeys: keys, sessionIdContext: 'one' });
  const b = await server(sc, impls.rustls, { ticketKeys: keys, sessionIdContext: 'two' });
  const first = await session(sc, impls.rustls, a.port);
  const onB = await session(sc, impls.rustls, b.port, { session: first.sessions[0] });
  assert.equal(onB.reused, false);
  const onA = await session(sc, impls.rustls, a.port, { session: first.sessions[0] });
  assert.equal(onA.reused, true);
});

for (const [sName, cName] of implPairs()) {
  test(`setSession() before the handshake resumes (${sName} server, ${cName} client)`, async (t) => {
    const sc = scope(t);
    const { port, seen } = await server(sc, impls[sName]);
    const first = await session(sc, impls[cName], port);
    const reused = await withTimeout(new Promise((resolve, reject) => {
      const c = sc.connect(impls[cName], { port, host: '127.0.0.1', rejectUnauthorized: false });
      c.setSession(first.sessions[0]);
      let reused = null;
      c.on('secureConnect', () => { reused = c.isSessionReused(); });
      c.on('close', () => resolve(reused));
      c.on('error', reject);
      c.resume();
    }), 5000, 'setSession');
    assert.equal(reused, true);
    assert.deepEqual(seen.map((s) => s.reused), [false, true]);
  });
}

for (const [sName, cName] of implPairs()) {
  test(`TLS 1.3: one session resumes again and again, resumptions bring no 'session' (${sName} server, ${cName} client)`, async (t) => {
    const sc = scope(t);
    const { port } = await server(sc, impls[sName]);
    const first = await session(sc, impls[cName], port);
    const reused = [];
    const events = [];
    for (let i = 0; i < 5; i++) {
      const next = await session(sc, impls[cName], port, { session: first.sessions[0] });
      reused.push(next.reused);
      events.push(next.reused ? next.sessions.length : -1);
    }
    // rustls uses each ticket once: against node:tls (no tickets after a
    // resumption) a session holds two resumptions, then a full handshake
    // fills it again (see the README).
    const limited = cName === 'rustls' && sName === 'node';
    assert.deepEqual(reused, limited ? [true, true, false, true, true] : [true, true, true, true, true]);
    // A node:tls client resumed by this package's server is sent two
    // tickets, and reports them.
    const perResumption = cName === 'node' && sName === 'rustls' ? 2 : 0;
    assert.deepEqual(events.filter((n) => n >= 0), reused.filter(Boolean).map(() => perResumption));
  });
}

test('before the handshake, and when the server is refused: no session, as node:tls', async (t) => {
  const sc = scope(t);
  await differential(async (name, tls) => {
    const { port } = await server(sc, impls.rustls);
    const out = [];
    for (const maxVersion of VERSIONS) {
      const c = sc.connect(tls, { port, host: '127.0.0.1', maxVersion });
      out.push([c.getSession(), c.isSessionReused(), c.getTLSTicket()]);
      const events = [];
      c.on('session', () => events.push('session'));
      const err = await withTimeout(new Promise((resolve) => c.on('error', resolve)), 5000, 'refused');
      await withTimeout(new Promise((resolve) => c.on('close', resolve)), 5000, 'closed');
      out.push([err.code, events]);
    }
    return out;
  });
});

for (const cName of Object.keys(impls)) {
  test(`ticketKeys: a server in another process with the same keys resumes the session (${cName} client)`, async (t) => {
    const sc = scope(t);
    const keys = crypto.randomBytes(48);
    // The same sessionIdContext too: by default it comes from the command
    // line, which differs between these two programs (not between cluster
    // workers), and a session resumes only within one context, as in Node.
    const { port } = await server(sc, impls.rustls, { ticketKeys: keys, sessionIdContext: 'shared' });
    const first = await session(sc, impls[cName], port);
    const { spawn } = require('node:child_process');
    const path = require('node:path');
    const script = `
      const tls = require(${JSON.stringify(require('./helpers').ROOT)});
      const fs = require('fs');
      const dir = ${JSON.stringify(path.join(__dirname, 'fixtures'))};
      const srv = tls.createServer({ key: fs.readFileSync(dir + '/ec-key.pem'), cert: fs.readFileSync(dir + '/ec-cert.pem'),
        ticketKeys: Buffer.from(process.argv[1], 'hex'), sessionIdContext: 'shared' }, (s) => { process.send(s.isSessionReused()); s.end('x'); });
      srv.listen(0, '127.0.0.1', () => process.send(srv.address().port));
      process.on('disconnect', () => process.exit());`;
    const child = spawn(process.execPath, ['-e', script, keys.toString('hex')], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    t.after(() => child.kill());
    const messages = [];
    const next = () => new Promise((resolve) => child.once('message', resolve));
    const childPort = await withTimeout(next(), 10000, 'child server');
    const seen = next();
    const other = await session(sc, impls[cName], childPort, { session: first.sessions[0] });
    messages.push(await withTimeout(seen, 5000, 'child connection'));
    assert.equal(other.reused, true);
    assert.deepEqual(messages, [true]);
  });
}

for (const [sName, cName] of implPairs()) {
  test(`a client over an existing socket resumes (tls.connect({ socket }) and new TLSSocket): ${sName} server, ${cName} client`, async (t) => {
    const sc = scope(t);
    const { port, seen } = await server(sc, impls[sName]);
    // The session comes from a connection to the same name (a server of
    // this package resumes a session only for the SNI name it was made for).
    const first = await session(sc, impls[cName], port, { servername: 'localhost' });
    const over = (make) => withTimeout(new Promise((resolve, reject) => {
      const raw = net.connect(port, '127.0.0.1', () => {
        const c = sc.track(make(raw));
        let reused = null;
        // 'secure': a TLSSocket made directly has no 'secureConnect' in Node.
        c.on('secure', () => { reused = c.isSessionReused(); });
        c.on('error', reject);
        c.on('close', () => resolve(reused));
        c.resume();
      });
    }), 5000, 'over a socket');
    const viaConnect = await over((raw) => impls[cName].connect({
      socket: raw, servername: 'localhost', rejectUnauthorized: false, session: first.sessions[0],
    }));
    assert.equal(viaConnect, true);
    // A TLSSocket made directly sends no SNI: its session comes from a
    // connection by address.
    const byAddress = await session(sc, impls[cName], port);
    const viaSocket = await over((raw) => {
      const c = new impls[cName].TLSSocket(raw, { session: byAddress.sessions[0], rejectUnauthorized: false });
      c._start();
      return c;
    });
    // The documented `session` option of new TLSSocket(): Node 20 honours
    // it, Node 24 ignores it (a full handshake); this package honours it.
    const honoured = cName === 'rustls' || Number(process.versions.node.split('.')[0]) < 24;
    assert.equal(viaSocket, honoured);
    assert.deepEqual(seen.map((s) => s.reused), [false, true, false, honoured]);
  });
}

for (const [sName, cName] of implPairs()) {
  test(`resumeSession answering garbage, an error or nothing: a full handshake (${sName} server, ${cName} client)`, async (t) => {
    const sc = scope(t);
    const { srv, port, seen } = await server(sc, impls[sName], {
      maxVersion: 'TLSv1.2',
      secureOptions: crypto.constants.SSL_OP_NO_TICKET,
    });
    let stored = 0;
    srv.on('newSession', (id, data, done) => {
      stored++;
      done();
    });
    const answers = [(cb) => cb(null, Buffer.from('INVALID SESSION')), (cb) => cb(null, undefined), (cb) => cb(null)];
    srv.on('resumeSession', (id, cb) => answers.shift()(cb));
    const client = { maxVersion: 'TLSv1.2' };
    const first = await session(sc, impls[cName], port, client);
    for (let i = 0; i < 3; i++) {
      const next = await session(sc, impls[cName], port, { ...client, session: first.sessions[0] });
      assert.equal(next.reused, false);
    }
    assert.deepEqual(seen.map((s) => s.reused), [false, false, false, false]);
    assert.equal(stored, 4);
  });
}

for (const [sName, cName] of implPairs()) {
  for (const mode of ['listening', 'wrapped']) {
    test(`resumeSession callback error: 'tlsClientError' with it, the client reset (${mode}, ${sName} server, ${cName} client)`, async (t) => {
      const sc = scope(t);
      let { srv, port } = await server(sc, impls[sName], {
        maxVersion: 'TLSv1.2',
        secureOptions: crypto.constants.SSL_OP_NO_TICKET,
      });
      if (mode === 'wrapped') {
        const raw = net.createServer((c) => srv.emit('connection', c));
        sc.servers.add(raw);
        raw.listen(0, '127.0.0.1');
        await once(raw, 'listening');
        port = raw.address().port;
      }
      const failure = new Error('lookup failed');
      srv.on('newSession', (id, data, done) => done());
      srv.on('resumeSession', (id, cb) => setImmediate(cb, failure));
      const clientErrors = [];
      srv.on('tlsClientError', (err) => clientErrors.push(err));
      const first = await session(sc, impls[cName], port, { maxVersion: 'TLSv1.2' });
      const code = await withTimeout(new Promise((resolve) => {
        const c = sc.connect(impls[cName], {
          port, host: '127.0.0.1', maxVersion: 'TLSv1.2', rejectUnauthorized: false, session: first.sessions[0],
        });
        c.on('secureConnect', () => resolve('secureConnect'));
        c.on('error', (err) => resolve(err.code));
      }), 5000, 'refused');
      assert.equal(code, 'ECONNRESET');
      assert.deepEqual(clientErrors, [failure]);
    });
  }
}
