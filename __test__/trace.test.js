'use strict';
// enableTrace: a protocol trace of the connection's records on stderr, in
// the shape Node prints (OpenSSL's SSL_trace): "Sent Record" / "Received
// Record" ("Sent TLS Record" from OpenSSL 3.2 on), the header, the handshake messages sent in the clear. From the
// server's `enableTrace` option, from `--trace-tls`, and from
// `socket.enableTrace()`; `--trace-tls` warns once that the log can expose
// sensitive data. Each case runs in a child process, once with
// node:tls and once with this package, and both outputs are held to the
// same marks.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const { impls, implNames, implPath, FIXTURES } = require('./helpers');

const CHILD = `
const fs = require('node:fs');
const tls = require(process.env.IMPL);
const mode = process.env.MODE;
const server = tls.createServer({
  key: fs.readFileSync(process.env.FIXTURES + '/rsa-key.pem'),
  cert: fs.readFileSync(process.env.FIXTURES + '/rsa-cert.pem'),
  enableTrace: mode === 'server' ? true : undefined,
}, (s) => s.end('hi'));
server.listen(0, '127.0.0.1', () => {
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
    if (mode === 'method') c.enableTrace();
  });
  c.resume();
  c.on('close', () => {
    server.close();
    // After close there is nothing to trace, and nothing throws.
    c.enableTrace();
  });
});
`;

function run(impl, mode, execArgv = []) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...execArgv, '-e', CHILD],
      { env: { ...process.env, IMPL: implPath(impl), FIXTURES, MODE: mode, NODE_OPTIONS: '' }, timeout: 20000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr })),
    );
  });
}

// What a user looks for in the trace.
function marks(stderr) {
  return {
    // OpenSSL 3.2+ (Node 24) says "Sent TLS Record".
    sent: /Sent (TLS )?Record\n/.test(stderr),
    received: /Received (TLS )?Record\n/.test(stderr),
    header: /^Header:\n {2}Version = TLS 1\.\d \(0x30\d\)\n {2}Content Type = Handshake \(22\)\n {2}Length = \d+$/m.test(stderr),
    clientHello: /ClientHello, Length=\d+/.test(stderr),
    serverHello: /ServerHello, Length=\d+/.test(stderr),
    warnings: (stderr.match(/Warning: Enabling --trace-tls can expose sensitive data in the resulting log/g) || []).length,
  };
}

const every = { sent: true, received: true, header: true, clientHello: true, serverHello: true, warnings: 0 };

test("server option enableTrace: its connections' handshakes are traced, no warning", async () => {
  for (const impl of implNames) {
    const { stderr } = await run(impl, 'server');
    assert.deepEqual(marks(stderr), every, `${impl}:\n${stderr}`);
  }
});

test('--trace-tls: every connection traced, the warning once, nothing on stdout', async () => {
  for (const impl of implNames) {
    const { stdout, stderr } = await run(impl, 'flag', ['--trace-tls']);
    assert.equal(stdout, '');
    // Both ends trace to the same stderr, their lines interleaved.
    const { sent, received, clientHello, warnings } = marks(stderr);
    assert.deepEqual({ sent, received, clientHello, warnings }, { sent: true, received: true, clientHello: true, warnings: 1 },
                     `${impl}:\n${stderr}`);
    assert.match(stderr, /Warning: Enabling --trace-tls can expose sensitive data in the resulting log\./);
  }
});

test('enableTrace() after the handshake: later records only (no hello), no warning', async () => {
  for (const impl of implNames) {
    const { stderr } = await run(impl, 'method');
    const got = marks(stderr);
    assert.equal(got.warnings, 0, `${impl}:\n${stderr}`);
    assert.equal(got.clientHello || got.serverHello, false, `${impl}:\n${stderr}`);
    // (OpenSSL 3.5 may print the decrypted messages without their records.)
    assert.ok(got.sent || got.received || /NewSessionTicket/.test(stderr), `${impl}: nothing traced after enableTrace()\n${stderr}`);
  }
});

test('no tracing asked: no trace, no warning', async () => {
  for (const impl of implNames) {
    const { stderr } = await run(impl, 'none');
    assert.deepEqual(marks(stderr), { ...every, sent: false, received: false, header: false, clientHello: false, serverHello: false, warnings: 0 });
  }
});

test('enableTrace that is not a boolean: the same TypeError as node:tls', () => {
  for (const make of [
    (tls) => tls.connect({ port: 1, enableTrace: 'yes' }),
    (tls) => tls.createServer({ enableTrace: 1 }),
  ]) {
    const shape = (tls) => {
      try {
        make(tls);
      } catch (err) {
        return { name: err.name, code: err.code, message: err.message };
      }
      return 'no throw';
    };
    assert.deepEqual(shape(impls.rustls), shape(impls.node));
  }
});
