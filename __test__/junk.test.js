'use strict';
// Bytes that are not TLS sent to a TLS server. Like node:tls (OpenSSL's
// first-record checks), the server reports 'tlsClientError' with the code
// naming what came (an HTTP request, a proxy request, anything else: a wrong
// version number), sends nothing back and closes, so a raw client that never
// reads still sees 'end'. Records that are TLS but out of place get an alert.
// Differential: node:tls's server on the same input is the expectation.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { impls, certs, scope, withTimeout } = require('./helpers');

const inputs = {
  'HTTP GET': 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  'HTTP POST': 'POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n',
  'proxy CONNECT': 'CONNECT example.com:443 HTTP/1.1\r\n\r\n',
  'text lines': 'blah\nblah\nblah\n',
  '1 KiB of 0x2a': Buffer.alloc(1024, 42),
  zeros: Buffer.alloc(20, 0),
  'handshake record, version 9.9': Buffer.from([0x16, 9, 9, 0, 5, 1, 0, 0, 1, 0]),
  'application data before the handshake': Buffer.from([0x17, 3, 3, 0, 2, 1, 1]),
};

async function serve(tls, data, t) {
  const sc = scope(t);
  const { server, port } = await sc.server(tls, certs.rsa, () => assert.fail('no secureConnection'));
  const errors = [];
  // The client's 'close' and the server's 'tlsClientError' come from two
  // sockets: their order is not something to rely on, so both are awaited.
  const reported = once(server, 'tlsClientError');
  server.on('tlsClientError', (err, socket) => {
    errors.push({ code: err.code, reason: err.reason, library: err.library, message: /SSL routines:[^:]*:/.test(err.message),
      remote: socket.remoteAddress !== undefined });
  });
  const c = net.connect(port, '127.0.0.1');
  sc.track(c);
  await once(c, 'connect');
  c.write(data);
  let reply = Buffer.alloc(0);
  c.on('data', (d) => { reply = Buffer.concat([reply, d]); });
  const ended = once(c, 'end').then(() => true);
  await withTimeout(ended, 5000, 'end from the server');
  await once(c, 'close');
  await withTimeout(reported, 5000, 'tlsClientError');
  // An alert is a record of type 21; anything else would be a mistake.
  return { errors, replied: reply.length > 0 ? reply[0] : null };
}

for (const [name, data] of Object.entries(inputs)) {
  test(`not TLS: ${name}`, async (t) => {
    const results = {};
    for (const [impl, tls] of Object.entries(impls)) results[impl] = await serve(tls, data, t);
    assert.equal(results.rustls.errors.length, 1);
    assert.deepEqual(results.rustls, results.node);
  });
}

test('an HTTP request is ERR_SSL_HTTP_REQUEST and gets no reply', async (t) => {
  const r = await serve(impls.rustls, inputs['HTTP GET'], t);
  assert.deepEqual(r.errors.map((e) => e.code), ['ERR_SSL_HTTP_REQUEST']);
  assert.equal(r.replied, null);
});

// A client that speaks TLS 1.1 at most (openssl s_client -tls1_1): refused
// for its version before anything else, with the protocol_version alert
// (70) and ERR_SSL_UNSUPPORTED_PROTOCOL on the server, as OpenSSL does.
test('a TLS 1.1 client gets protocol_version, the server ERR_SSL_UNSUPPORTED_PROTOCOL', async (t) => {
  const { execFile } = require('node:child_process');
  const results = {};
  for (const [impl, tls] of Object.entries(impls)) {
    const sc = scope(t);
    const { server, port } = await sc.server(tls, certs.rsa, () => assert.fail('no secureConnection'));
    const reported = once(server, 'tlsClientError');
    const stderr = await new Promise((resolve) => execFile('openssl',
      ['s_client', '-quiet', '-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0', '-connect', `127.0.0.1:${port}`],
      { timeout: 5000 }, (err, out, errOut) => resolve(errOut)));
    const [err] = await withTimeout(reported, 5000, 'tlsClientError');
    results[impl] = { alert: /SSL alert number (\d+)/.exec(stderr)?.[1], code: err.code };
  }
  assert.deepEqual(results.rustls, { alert: '70', code: 'ERR_SSL_UNSUPPORTED_PROTOCOL' });
  assert.deepEqual(results.rustls, results.node);
});
