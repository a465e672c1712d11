'use strict';
// What the ava files share: the package, fixtures, small promises.
const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');

const ROOT = path.join(__dirname, '..', '..');
const tls = require(ROOT);
const fx = (name) => fs.readFileSync(path.join(ROOT, '__test__', 'fixtures', name));
const certs = {
  ca: fx('ca-cert.pem'),
  rsa: { key: fx('rsa-key.pem'), cert: fx('rsa-cert.pem') },
  ec: { key: fx('ec-key.pem'), cert: fx('ec-cert.pem') },
};

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server.address().port;
}

function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (d) => chunks.push(d));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

async function closeServer(server) {
  const closed = once(server, 'close');
  server.close();
  await closed;
}

module.exports = { ROOT, tls, fx, certs, listen, readAll, closeServer };
