'use strict';
// A process whose only work is a TLS client over a net.Socket it wrapped
// (`connect({ socket })`), whose server sends a little and hangs up. Under
// Node the client reads the data and the end, ends and closes both layers,
// and only then does the process exit: nothing else holds the loop, so TLS
// must hold it from the wrapped socket's end until its own 'close' (the end
// is read on another thread here). Each run is its own process, a few at a
// time, since a lost hold shows as an early exit only some of the time.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const { implPath, implNames, FIXTURES } = require('./helpers');

const CHILD = `
const net = require('node:net');
const fs = require('node:fs');
const tls = require(process.env.IMPL);
const server = require('node:tls').createServer({
  key: fs.readFileSync(process.env.FIXTURES + '/rsa-key.pem'),
  cert: fs.readFileSync(process.env.FIXTURES + '/rsa-cert.pem'),
}, (c) => {
  c.write('hello', () => setImmediate(() => { c.destroy(); server.close(); }));
});
const seen = [];
let raw;
server.listen(0, '127.0.0.1', () => {
  raw = net.connect(server.address().port, '127.0.0.1', () => {
    const s = tls.connect({ socket: raw, rejectUnauthorized: false });
    s.on('data', (d) => seen.push('data ' + d));
    s.on('end', () => seen.push('end'));
    s.on('error', (e) => seen.push('error ' + e.code));
    s.on('close', () => seen.push('close'));
    s.resume();
  });
});
process.on('exit', () => {
  console.log(JSON.stringify({ seen, rawDestroyed: raw.destroyed }));
});
`;

function run(impl) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', CHILD],
      { env: { ...process.env, IMPL: implPath(impl), FIXTURES }, timeout: 20000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

test('wrapped client, server sends and hangs up: the process exits after both layers closed, as node:tls', async () => {
  const expected = await run('node');
  assert.deepEqual(expected, { seen: ['data hello', 'end', 'close'], rawDestroyed: true });
  for (const impl of implNames.filter((n) => n !== 'node')) {
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all([run(impl), run(impl), run(impl), run(impl)]);
      for (const g of got) assert.deepEqual(g, expected);
    }
  }
});
