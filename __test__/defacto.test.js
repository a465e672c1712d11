'use strict';
// The de facto TLSSocket surface libraries use, as node:tls has it
// (lib/_tls_wrap.js): `socket.ssl` / `socket._handle` with verifyError(),
// `_start()`, '_tlsError' and control, and sockets made with
// `new TLSSocket(socket, { isServer: true, server: aNetServer, ... })`.
// Each scenario runs against node:tls and this package; the traces
// (events, verifyError() codes, authorized) must be equal.

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { PassThrough } = require('node:stream');
const { impls, implNames, certs, withTimeout, delay, onClose } = require('./helpers');

const nodeTls = impls.node;

// A TCP server on 127.0.0.1 whose connections go to `onConnection`.
async function tcpServer(t, onConnection) {
  const server = net.createServer(onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return server;
}

// A node:tls server (the peer of the scenarios) on 127.0.0.1.
async function tlsPeerServer(t, options, onSecure = (s) => s.end('hi')) {
  const server = nodeTls.createServer(options, onSecure);
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return server;
}

function verifyShape(err) {
  return err === null ? null : { isError: err instanceof Error, code: err.code, message: err.message };
}

// mysql's path: a client TLSSocket made directly over a connected socket,
// _start(), and the application judges the server with ssl.verifyError().
async function standaloneClient(t, tls, ca) {
  const server = await tlsPeerServer(t, certs.rsa);
  const raw = net.connect(server.address().port, '127.0.0.1');
  await once(raw, 'connect');
  const socket = new tls.TLSSocket(raw, {
    secureContext: tls.createSecureContext({ ca }),
    rejectUnauthorized: true,
    requestCert: true,
    isServer: false,
  });
  const events = [];
  for (const e of ['secure', 'secureConnect', 'error', '_tlsError', 'end', 'close']) {
    socket.on(e, () => events.push(e));
  }
  const trace = {};
  socket.on('secure', function onSecure() {
    trace.verifyError = verifyShape(this.ssl.verifyError());
    trace.handleIsSsl = this._handle === this.ssl;
    trace.authorized = this.authorized;
    trace.authorizationError = this.authorizationError;
  });
  const data = [];
  socket.on('data', (d) => data.push(d));
  socket._start();
  await withTimeout(once(socket, 'close'), 5000, 'close');
  trace.events = events;
  trace.data = Buffer.concat(data).toString();
  trace.afterClose = { ssl: socket.ssl, handle: socket._handle };
  return trace;
}

// smtp-server's path: a server TLSSocket the application makes over a
// net.Server's connection, requesting a client certificate.
async function applicationServer(t, tls, serverOptions, clientOptions) {
  const out = { serverEvents: [], netServerEvents: [] };
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const server = await tcpServer(t, (raw) => {
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      server,
      secureContext: tls.createSecureContext({ ...certs.rsa, ca: certs.ca }),
      ...serverOptions,
    });
    for (const e of ['secure', 'secureConnect', 'error', '_tlsError', 'close']) {
      socket.on(e, () => out.serverEvents.push(e));
    }
    socket.on('error', (err) => { out.error = err.code; });
    socket.on('secure', () => {
      out.authorizedAtSecure = socket.authorized;
      out.verifyError = verifyShape(socket._handle.verifyError());
      const cert = socket.getPeerCertificate();
      out.cn = cert && cert.subject ? cert.subject.CN : undefined;
      socket.end('welcome');
    });
    socket.on('close', () => done());
  });
  for (const e of ['secureConnection', 'tlsClientError']) server.on(e, () => out.netServerEvents.push(e));
  const client = nodeTls.connect({
    port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...clientOptions,
  });
  client.on('error', (err) => { out.clientError = err.code; });
  const clientClosed = onClose(client);
  client.resume();
  await withTimeout(finished, 5000, 'server socket close');
  await withTimeout(clientClosed, 5000, 'client close');
  return out;
}

describe('a client TLSSocket made directly (mysql)', () => {
  const results = {};
  for (const name of implNames) {
    test(`${name}: 'secure' only; ssl.verifyError() is null for a trusted server, Node's error otherwise; tls rejects nothing`, async (t) => {
      const trusted = await standaloneClient(t, impls[name], certs.ca);
      const untrusted = await standaloneClient(t, impls[name], certs.client.cert);
      assert.equal(trusted.verifyError, null);
      assert.equal(trusted.data, 'hi');
      assert.deepEqual(trusted.events, ['secure', 'end', 'close']);
      assert.deepEqual(untrusted.events, ['secure', 'end', 'close']);
      assert.equal(untrusted.verifyError.isError, true);
      assert.deepEqual(trusted.afterClose, { ssl: null, handle: null });
      results[name] = { trusted, untrusted };
      if (name !== 'node') assert.deepEqual(results[name], results.node);
    });
  }
});

describe('a server TLSSocket made over a net.Server connection (smtp-server)', () => {
  const results = {};
  for (const name of implNames) {
    test(`${name}: the application judges the client with _handle.verifyError(); the net.Server sees no TLS events`, async (t) => {
      const options = { requestCert: true, rejectUnauthorized: false };
      const got = {
        withCert: await applicationServer(t, impls[name], options, certs.client),
        withoutCert: await applicationServer(t, impls[name], options, {}),
        untrustedCert: await applicationServer(t, impls[name], options, certs.doc),
      };
      assert.equal(got.withCert.verifyError, null);
      assert.equal(got.withCert.cn, 'client');
      assert.equal(got.withoutCert.verifyError.code, 'UNABLE_TO_GET_ISSUER_CERT');
      for (const r of Object.values(got)) {
        assert.equal(r.authorizedAtSecure, false);
        assert.deepEqual(r.netServerEvents, []);
        assert.deepEqual(r.serverEvents, ['secure', 'close']);
      }
      results[name] = got;
      if (name !== 'node') assert.deepEqual(results[name], results.node);
    });

    test(`${name}: a failed handshake is the socket's 'error' and '_tlsError', not the net.Server's 'tlsClientError'`, async (t) => {
      const out = { events: [], netServer: [] };
      const closed = [];
      const server = await tcpServer(t, (raw) => {
        const socket = new impls[name].TLSSocket(raw, {
          isServer: true, server, secureContext: impls[name].createSecureContext(certs.rsa),
        });
        socket.on('error', (err) => out.events.push(`error ${err.code}`));
        socket.on('_tlsError', (err) => out.events.push(`_tlsError ${err.code}`));
        closed.push(onClose(socket));
      });
      server.on('tlsClientError', () => out.netServer.push('tlsClientError'));
      const raw = net.connect(server.address().port, '127.0.0.1', () => raw.write(Buffer.alloc(1024, 42)));
      raw.on('error', () => {});
      raw.resume();
      while (closed.length === 0) await delay(10);
      await withTimeout(closed[0], 5000, 'socket close');
      results[`${name} junk`] = out;
      assert.deepEqual(out.netServer, []);
      // The socket's own '_tlsError' listener (holding control) runs first.
      assert.deepEqual(out.events, ['_tlsError ERR_SSL_WRONG_VERSION_NUMBER', 'error ERR_SSL_WRONG_VERSION_NUMBER']);
    });

    test(`${name}: with rejectUnauthorized a client without a certificate fails the handshake; an untrusted one is the application's call`, async (t) => {
      const options = { requestCert: true, rejectUnauthorized: true };
      const without = await applicationServer(t, impls[name], options, {});
      const untrusted = await applicationServer(t, impls[name], options, certs.doc);
      assert.deepEqual(without.serverEvents, ['_tlsError', 'error', 'close']);
      assert.equal(without.error, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
      assert.equal(without.clientError, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      assert.deepEqual(untrusted.serverEvents, ['secure', 'close']);
      assert.equal(untrusted.verifyError.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      assert.deepEqual(without.netServerEvents, []);
    });
  }
});

describe("SNICallback on a server TLSSocket the application made (smtp-server's per-name certificates)", () => {
  const results = {};
  const fingerprint = (pem) => new (require('node:crypto').X509Certificate)(pem).fingerprint256;

  // One connection: the client asks for `servername`; the callback answers
  // with `answer(servername)` (a context name, null, or an Error).
  async function sniScenario(t, tls, servername, answer) {
    const out = { asked: [] };
    const contexts = { rsa: tls.createSecureContext(certs.rsa), ec: tls.createSecureContext(certs.ec) };
    let serverClosed;
    const closed = new Promise((resolve) => { serverClosed = resolve; });
    const server = await tcpServer(t, (raw) => {
      const socket = new tls.TLSSocket(raw, {
        isServer: true,
        server,
        secureContext: contexts.rsa,
        SNICallback(name, cb) {
          out.asked.push(name);
          const a = answer(name);
          if (a instanceof Error) cb(a);
          else cb(null, a === null ? null : contexts[a]);
        },
      });
      socket.on('secure', () => { out.servername = socket.servername; socket.end(); });
      socket.on('error', (err) => { out.serverError = err.message; });
      socket.on('close', serverClosed);
    });
    const client = nodeTls.connect({
      port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false,
      ...(servername ? { servername } : {}),
    });
    client.on('error', () => {});
    client.on('secureConnect', () => {
      const fp = client.getPeerCertificate().fingerprint256;
      out.served = fp === fingerprint(certs.ec.cert) ? 'ec' : fp === fingerprint(certs.rsa.cert) ? 'rsa' : fp;
    });
    client.resume();
    await withTimeout(closed, 5000, 'server socket close');
    return out;
  }

  for (const name of implNames) {
    test(`${name}: asked only for a name; its context serves, null keeps the socket's, an error destroys the socket`, async (t) => {
      const got = {
        named: await sniScenario(t, impls[name], 'mail.example', () => 'ec'),
        keepOwn: await sniScenario(t, impls[name], 'mail.example', () => null),
        noName: await sniScenario(t, impls[name], undefined, () => 'ec'),
        failed: await sniScenario(t, impls[name], 'bad.example', () => new Error('no such host')),
      };
      assert.deepEqual(got.named, { asked: ['mail.example'], servername: 'mail.example', served: 'ec' });
      assert.deepEqual(got.keepOwn, { asked: ['mail.example'], servername: 'mail.example', served: 'rsa' });
      assert.deepEqual(got.noName, { asked: [], servername: false, served: 'rsa' });
      assert.deepEqual(got.failed, { asked: ['bad.example'], serverError: 'no such host' });
      results[name] = got;
      if (name !== 'node') assert.deepEqual(results[name], results.node);
    });
  }
});

describe('control and the handle', () => {
  for (const name of implNames) {
    const tls = impls[name];

    test(`${name}: an error while control is held is '_tlsError' and never throws without an 'error' listener`, async (t) => {
      const seen = [];
      const server = await tcpServer(t, (raw) => {
        const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: tls.createSecureContext(certs.rsa) });
        socket.on('_tlsError', (err) => seen.push(err.code));
        socket.on('close', () => seen.push('close'));
      });
      const raw = net.connect(server.address().port, '127.0.0.1', () => raw.write(Buffer.alloc(1024, 42)));
      raw.on('error', () => {});
      raw.resume();
      for (let i = 0; i < 300 && !seen.includes('close'); i++) await delay(10);
      assert.deepEqual(seen, ['ERR_SSL_WRONG_VERSION_NUMBER', 'close']);
    });

    test(`${name}: a native context's _external answers only on the context itself`, () => {
      const native = tls.createSecureContext().context;
      assert.doesNotThrow(() => native._external);
      assert.throws(() => ({ __proto__: native })._external, TypeError);
    });

    test(`${name}: tls.connect() releases control; _releaseControl() says whether it was held`, async (t) => {
      const server = await tlsPeerServer(t, certs.rsa);
      const socket = tls.connect({ port: server.address().port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
      assert.equal(socket._controlReleased, true);
      assert.equal(socket._releaseControl(), false);
      const made = new tls.TLSSocket(new PassThrough(), {});
      assert.equal(made._controlReleased, false);
      assert.equal(made.listeners('error').includes(made._tlsError), true);
      assert.equal(made._releaseControl(), true);
      assert.equal(made.listeners('error').includes(made._tlsError), false);
      made.destroy();
      socket.resume();
      await withTimeout(once(socket, 'close'), 5000, 'close');
    });

    test(`${name}: ssl.shutdown() sends close_notify and completes; the peer sees 'end'`, async (t) => {
      let peerEnd;
      const ended = new Promise((resolve) => { peerEnd = resolve; });
      const server = await tlsPeerServer(t, certs.rsa, (s) => {
        s.on('end', peerEnd);
        s.resume();
      });
      const socket = tls.connect({ port: server.address().port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
      await once(socket, 'secureConnect');
      // Node's TLSWrap takes its own request object (test-tls-close-notify
      // gets it the same way); ours takes any object with oncomplete.
      const { ShutdownWrap } = process.binding('stream_wrap');
      const req = new ShutdownWrap();
      const completed = new Promise((resolve) => { req.oncomplete = resolve; });
      req.handle = socket._handle;
      socket._handle.shutdown(req);
      assert.equal(await withTimeout(completed, 5000, 'oncomplete'), 0);
      await withTimeout(ended, 5000, "peer 'end'");
      socket.destroy();
    });

    test(`${name}: tls.connect({ socket }) without host or servername checks the name the socket connected to`, async (t) => {
      const server = await tlsPeerServer(t, certs.rsa);
      const outcome = async (host) => {
        const raw = net.connect(server.address().port, host);
        await once(raw, 'connect');
        const socket = tls.connect({ socket: raw, ca: certs.ca });
        socket.on('error', () => {});
        socket.resume();
        const result = await new Promise((resolve) => {
          socket.on('secureConnect', () => resolve('connected'));
          socket.on('error', (err) => resolve(err.code));
        });
        socket.destroy();
        return result;
      };
      // The certificate names localhost and 127.0.0.1; 'localhost' is what
      // a socket's own name would default to.
      assert.equal(await outcome('127.0.0.1'), 'connected');
      assert.equal(await outcome('localhost'), 'connected');
      const other = await new Promise((resolve) => {
        const raw = net.connect(server.address().port, '127.0.0.1', () => {
          raw._host = 'example.com';
          const socket = tls.connect({ socket: raw, ca: certs.ca });
          socket.on('secureConnect', () => resolve('connected'));
          socket.on('error', (err) => resolve(err.code));
          socket.resume();
        });
      });
      assert.equal(other, 'ERR_TLS_CERT_ALTNAME_INVALID');
    });

    test(`${name}: rejectUnauthorized given as undefined still rejects an untrusted server`, async (t) => {
      const server = await tlsPeerServer(t, certs.rsa);
      const socket = tls.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: undefined });
      socket.on('secureConnect', () => assert.fail('must not connect'));
      const [err] = await withTimeout(once(socket, 'error').catch((e) => [e]), 5000, 'error');
      assert.equal(err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    });

    test(`${name}: over a connected net.Socket, TLS takes the socket over: it emits only 'close', before the TLS socket's`, async (t) => {
      const server = await tlsPeerServer(t, certs.rsa, (s) => {
        s.resume();
        s.on('end', () => s.end('x'.repeat(100000)));
      });
      const raw = net.connect(server.address().port, '127.0.0.1');
      await once(raw, 'connect');
      const trace = [];
      for (const e of ['data', 'end', 'finish', 'close', 'error']) raw.on(e, () => trace.push(`raw ${e}`));
      const socket = tls.connect({ socket: raw, ca: certs.ca, servername: 'localhost' }, () => socket.end('bye'));
      for (const e of ['end', 'finish', 'close', 'error']) socket.on(e, () => trace.push(`tls ${e}`));
      let got = 0;
      socket.on('data', (d) => { got += d.length; });
      await withTimeout(onClose(socket), 5000, 'close');
      assert.equal(got, 100000);
      assert.deepEqual(trace, ['tls finish', 'tls end', 'raw close', 'tls close']);
    });
  }
});
