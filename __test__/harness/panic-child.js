'use strict';
// Child process of __test__/panic.test.js: loads the addon built with the
// `fault-injection` feature (path in argv[2]) in place of the package's own,
// then runs two connections to one server. The server sends the fault
// marker on the first: that client's connection task panics. Prints what
// each client saw as one JSON line, and exits normally if the process
// survived.

const Module = require('module');
const path = require('path');
const fs = require('fs');

const root = path.join(__dirname, '..', '..');
const built = path.join(root, 'rustls-tls.node');
const faulty = new Module(built, module);
faulty.filename = built;
faulty.exports = require(process.argv[2]);
faulty.loaded = true;
require.cache[built] = faulty;

const tls = require(root);

// src/contain.rs: FAULT_MARKER.
const marker = Buffer.from('\0rustls-tls:fault-injection:panic\0', 'latin1');
const cases = path.join(root, '__test__', 'fixtures', 'cases');
const key = fs.readFileSync(path.join(cases, 'valid-key.pem'));
const cert = fs.readFileSync(path.join(cases, 'valid-cert.pem'));

const server = tls.createServer({ key, cert }, (socket) => {
  socket.on('error', () => {});
  socket.once('data', (first) => {
    if (first.toString() === 'fault') socket.write(marker);
    else socket.write(Buffer.concat([Buffer.from('echo:'), first]));
    socket.on('data', (more) => socket.write(Buffer.concat([Buffer.from('echo:'), more])));
  });
});

function client(first) {
  return new Promise((resolve) => {
    const seen = { events: [], data: '' };
    const socket = tls.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false });
    socket.on('secureConnect', () => {
      seen.events.push('secureConnect');
      socket.write(first);
    });
    socket.on('data', (d) => {
      seen.data += d.toString('latin1');
      if (seen.data === 'echo:ok') socket.write('again');
      if (seen.data === 'echo:okecho:again') socket.end();
    });
    socket.on('error', (err) => seen.events.push(`error:${err.code}`));
    socket.on('close', () => {
      seen.events.push('close');
      resolve(seen);
    });
  });
}

server.listen(0, '127.0.0.1', async () => {
  const faulted = await client('fault');
  // After the panic: another connection on the same threads still works.
  const healthy = await client('ok');
  server.close();
  console.log(JSON.stringify({ faulted, healthy }));
});
