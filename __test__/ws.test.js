'use strict';
// A real WebSocket library, unchanged: `ws` (from npm). The server is a
// `WebSocketServer` on an HTTPS server from `rustls-tls/https` or from
// `node:https`; the client is `ws`'s WebSocket with its require('tls')
// resolved to node:tls or to this package (./libs.js useTls +
// freshRequire; ws connects with tls.connect() under node:https's request).
// Every pairing runs the same session and must see what node:tls on both
// ends sees: messages both ways, a 1 MiB message, ping/pong, close codes,
// the client certificate on the server, and the codes of the connections
// that must fail.

const { test, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { once } = require('node:events');
const nodeHttps = require('node:https');
const { impls, implPairs, certs, withTimeout, ROOT } = require('./helpers');
const { useTls, freshRequire } = require('./libs');

const httpsOf = { node: nodeHttps, rustls: require(`${ROOT}/https`) };

after(() => useTls(null));

// ws loaded once per client implementation.
const wsOf = {};
for (const name of Object.keys(impls)) {
  useTls(impls[name]);
  wsOf[name] = freshRequire('ws');
  useTls(null);
}

/** A wss server on 127.0.0.1; resolves { port, wss, seen } (seen: what each connection's TLS socket showed). */
async function wssServer(t, sName, onConnection) {
  const server = httpsOf[sName].createServer({ ...certs.rsa, ca: certs.ca, requestCert: true, rejectUnauthorized: false });
  const { WebSocketServer } = wsOf.node;
  const wss = new WebSocketServer({ server, maxPayload: 4 << 20 });
  const seen = [];
  wss.on('connection', (ws, req) => {
    const socket = req.socket;
    const cert = socket.getPeerCertificate();
    seen.push({
      ours: socket instanceof impls[sName].TLSSocket,
      authorized: socket.authorized,
      cn: cert && cert.subject ? cert.subject.CN : null,
      protocol: socket.getProtocol(),
    });
    onConnection(ws);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.close(() => resolve());
    server.closeAllConnections?.();
  }));
  return { port: server.address().port, wss, seen };
}

/** The next `n` messages of a ws, as [data, isBinary]. */
function messages(ws, n) {
  const got = [];
  return new Promise((resolve) => {
    const onMessage = (data, isBinary) => {
      got.push([data, isBinary]);
      if (got.length === n) {
        ws.off('message', onMessage);
        resolve(got);
      }
    };
    ws.on('message', onMessage);
  });
}

const baseline = {};
function same(pair, key, value) {
  if (pair === 'node/node') baseline[key] = value;
  else assert.deepEqual(value, baseline[key], `${key}: differs from node:tls on both ends`);
}

for (const [sName, cName] of implPairs()) {
  const pair = `${sName}/${cName}`;
  describe(`ws: wss server on ${sName === 'node' ? 'node:https' : 'rustls-tls/https'}, ws client over ${cName}`, () => {
    const { WebSocket } = wsOf[cName];

    test('messages both ways, a 1 MiB message, ping/pong, a client close code; client certificate seen by the server', async (t) => {
      const serverClose = [];
      let serverClosed;
      const serverClosedP = new Promise((resolve) => { serverClosed = resolve; });
      const { port, seen } = await wssServer(t, sName, (ws) => {
        ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data}`, { binary: isBinary }));
        ws.on('ping', (data) => serverClose.push(`ping:${data}`));
        ws.on('close', (code, reason) => {
          serverClose.push(`close:${code}:${reason}`);
          serverClosed();
        });
        ws.send('hello from the server');
      });
      const ws = new WebSocket(`wss://127.0.0.1:${port}/path`, { ca: certs.ca, servername: 'localhost', ...certs.client });
      const first = messages(ws, 1);
      await withTimeout(once(ws, 'open'), 10000, 'ws open');
      assert.ok(ws._socket instanceof impls[cName].TLSSocket, `ws's socket is a ${ws._socket.constructor.name}`);
      assert.equal(ws._socket.authorized, true);
      const [[greeting, greetingBinary]] = await withTimeout(first, 10000, 'greeting');
      assert.deepEqual([greeting.toString(), greetingBinary], ['hello from the server', false]);

      const texts = messages(ws, 3);
      for (const m of ['one', 'two', 'three']) ws.send(m);
      assert.deepEqual((await withTimeout(texts, 10000, 'texts')).map(([d, b]) => [d.toString(), b]),
        [['echo:one', false], ['echo:two', false], ['echo:three', false]]);

      const big = crypto.randomBytes(1 << 20);
      const bigBack = messages(ws, 1);
      ws.send(big);
      const [[back, backBinary]] = await withTimeout(bigBack, 15000, '1 MiB echo');
      assert.equal(backBinary, true);
      assert.ok(Buffer.from(back).equals(big), 'the 1 MiB message came back intact');

      const pong = once(ws, 'pong');
      ws.ping('are you there');
      const [pongData] = await withTimeout(pong, 10000, 'pong');
      assert.equal(pongData.toString(), 'are you there');

      const closed = once(ws, 'close');
      ws.close(4001, 'done here');
      const [code, reason] = await withTimeout(closed, 10000, 'ws close');
      assert.deepEqual([code, reason.toString()], [4001, 'done here']);
      await withTimeout(serverClosedP, 10000, 'server side close');
      assert.deepEqual(serverClose, ['ping:are you there', 'close:4001:done here']);
      assert.deepEqual(seen, [{ ours: true, authorized: true, cn: 'client', protocol: 'TLSv1.3' }]);
    });

    test('the server closes with 1001 and a reason; the TLS socket under the client ends cleanly', async (t) => {
      const { port } = await wssServer(t, sName, (ws) => ws.close(1001, 'going away'));
      const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { ca: certs.ca, servername: 'localhost' });
      const errors = [];
      ws.on('error', (e) => errors.push(e.code));
      await withTimeout(once(ws, 'open'), 10000, 'ws open');
      const socket = ws._socket;
      const socketClose = once(socket, 'close');
      const [code, reason] = await withTimeout(once(ws, 'close'), 10000, 'ws close');
      assert.deepEqual([code, reason.toString()], [1001, 'going away']);
      const [hadError] = await withTimeout(socketClose, 10000, 'socket close');
      assert.equal(hadError, false);
      assert.deepEqual(errors, []);
    });

    test('terminate() on either side (no close frame, the TCP connection destroyed): the other side sees 1006', async (t) => {
      const serverSide = [];
      let serverClosed;
      const serverClosedP = new Promise((resolve) => { serverClosed = resolve; });
      const { port } = await wssServer(t, sName, (ws) => {
        ws.on('error', (e) => serverSide.push(`error:${e.code}`));
        ws.on('close', (code) => {
          serverSide.push(`close:${code}`);
          serverClosed();
        });
        ws.on('message', (m) => {
          if (String(m) === 'terminate yourself') ws.terminate();
        });
      });
      // The server terminates.
      const a = new WebSocket(`wss://127.0.0.1:${port}/`, { ca: certs.ca, servername: 'localhost' });
      const aErrors = [];
      a.on('error', (e) => aErrors.push(e.code));
      await withTimeout(once(a, 'open'), 10000, 'ws open');
      a.send('terminate yourself');
      const [aCode] = await withTimeout(once(a, 'close'), 10000, 'client close after the server terminated');
      await withTimeout(serverClosedP, 10000, 'server side close');
      // The client terminates.
      let serverClosed2;
      const serverClosed2P = new Promise((resolve) => { serverClosed2 = resolve; });
      serverClosed = serverClosed2;
      const b = new WebSocket(`wss://127.0.0.1:${port}/`, { ca: certs.ca, servername: 'localhost' });
      await withTimeout(once(b, 'open'), 10000, 'ws open');
      b.terminate();
      const [bCode] = await withTimeout(once(b, 'close'), 10000, 'client close after its terminate()');
      await withTimeout(serverClosed2P, 10000, 'server side close after the client terminated');
      assert.deepEqual({ aCode, aErrors, bCode }, { aCode: 1006, aErrors: [], bCode: 1006 });
      same(pair, 'terminate', serverSide);
    });

    test('the wrong CA, no CA and the wrong host name fail with node:tls\'s codes', async (t) => {
      const { port } = await wssServer(t, sName, () => {});
      const failure = async (options) => {
        const ws = new WebSocket(`wss://127.0.0.1:${port}/`, options);
        const closed = new Promise((resolve) => ws.once('close', resolve));
        const err = await withTimeout(new Promise((resolve) => ws.once('error', resolve)), 10000, 'ws error');
        await withTimeout(closed, 10000, 'ws close after error');
        return { code: err.code, message: err.message };
      };
      const got = {
        wrongCa: await failure({ ca: certs.client.cert, servername: 'localhost' }),
        noCa: await failure({ servername: 'localhost' }),
        wrongName: await failure({ ca: certs.ca, servername: 'wrong.example' }),
      };
      assert.equal(got.wrongName.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(got.noCa.code, 'SELF_SIGNED_CERT_IN_CHAIN');
      assert.ok(got.wrongCa.code, got.wrongCa.message);
      same(pair, 'failures', got);
    });
  });
}
