'use strict';
// TLSSockets the application makes itself, as node:tls has them:
// - new TLSSocket(null, options).connect(port): 'connect', then 'secure'
//   (no 'secureConnect'), the server's trust left to the application
//   (ssl.verifyError()), data both ways;
// - TLS over an in-memory Duplex pair: once both ends are idle, nothing holds
//   the process, so it exits (Node waits on streams, and a Duplex without a
//   handle holds nothing).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { once } = require('node:events');
const { impls, implPath, certs, scope, withTimeout, differential } = require('./helpers');

test('new TLSSocket(null, options).connect(port): connect, secure, verifyError(), echo', async (t) => {
  await differential(async (name, tls) => {
    const sc = scope(t);
    const { port } = await sc.server(impls.node, certs.rsa, (s) => s.pipe(s));
    const events = [];
    const sock = sc.track(new tls.TLSSocket(null, { ca: certs.ca, servername: 'wrong.example' }));
    for (const e of ['connect', 'secure', 'secureConnect', 'end', 'close']) sock.on(e, () => events.push(e));
    // Node's starts its handshake with the first write.
    sock.on('connect', () => sock.end('ping'));
    sock.connect(port, '127.0.0.1');
    await withTimeout(once(sock, 'secure'), 5000, `${name} secure`);
    const verify = sock.ssl.verifyError();
    let data = '';
    sock.setEncoding('utf8').on('data', (d) => { data += d; });
    await withTimeout(new Promise((resolve) => sock.on('close', resolve)), 5000, `${name} close`);
    return { events, data, verify: verify && verify.code, authorized: sock.authorized };
  });
});

// A child process: TLS over a Duplex pair, a message each way, then
// nothing. Resolves with what it printed once it exited by itself.
function runPair(name) {
  const script = `
    const tls = require(${JSON.stringify(implPath(name))});
    const { Duplex } = require('stream');
    function pair() {
      let a, b;
      a = new Duplex({ read() {}, write(c, e, cb) { b.push(c); cb(); }, final(cb) { b.push(null); cb(); } });
      b = new Duplex({ read() {}, write(c, e, cb) { a.push(c); cb(); }, final(cb) { a.push(null); cb(); } });
      return [a, b];
    }
    const [x, y] = pair();
    const server = new tls.TLSSocket(y, { isServer: true, key: ${JSON.stringify(certs.rsa.key.toString())}, cert: ${JSON.stringify(certs.rsa.cert.toString())} });
    const client = tls.connect({ socket: x, rejectUnauthorized: false });
    server.on('data', (d) => { process.stdout.write('server got ' + d + '\\n'); server.write('pong'); });
    client.on('secureConnect', () => client.write('ping'));
    client.on('data', (d) => process.stdout.write('client got ' + d + '\\n'));
  `;
  return execFileSync(process.execPath, ['-e', script], { timeout: 10000, encoding: 'utf8' });
}

test('TLS over an in-memory Duplex pair: the process exits once both ends are idle', async () => {
  await differential((name) => runPair(name));
  assert.equal(runPair('rustls'), 'server got ping\nclient got pong\n');
});

// A server TLSSocket over a Duplex whose SNICallback never answers: the
// handshake waits for the application, which holds nothing, so the process
// exits (as under Node) instead of hanging.
function runUnansweredSni(name) {
  const script = `
    const tls = require(${JSON.stringify(implPath(name))});
    const { Duplex } = require('stream');
    let a, b;
    a = new Duplex({ read() {}, write(c, e, cb) { b.push(c); cb(); } });
    b = new Duplex({ read() {}, write(c, e, cb) { a.push(c); cb(); } });
    new tls.TLSSocket(a, { isServer: true, SNICallback: (name) => process.stdout.write('asked ' + name + '\\n') });
    tls.connect({ socket: b, servername: 'example.com', rejectUnauthorized: false }).on('error', () => {});
  `;
  return execFileSync(process.execPath, ['-e', script], { timeout: 10000, encoding: 'utf8' });
}

test('an SNICallback that never answers holds nothing: the process exits', async () => {
  await differential((name) => runUnansweredSni(name));
  assert.equal(runUnansweredSni('rustls'), 'asked example.com\n');
});
