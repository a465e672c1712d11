'use strict';
// setMaxSendFragment(): argument checks as in node:tls, and records of at
// most the given size on the wire. A node:tls client reads one record per
// 'data' chunk, so it shows the record sizes the server sent.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implNames, implPairs, certs, scope, withTimeout } = require('./helpers');

const node = impls.node;

function thrown(fn) {
  try {
    fn();
    return null;
  } catch (err) {
    return { name: err.name, code: err.code };
  }
}

for (const sName of implNames) {
  test(`${sName} server: setMaxSendFragment checks and record sizes`, async (t) => {
    const sc = scope(t);
    const checks = {};
    const { port } = await sc.server(impls[sName], certs.ec, (s) => {
      const args = { undefined, null: null, "''": '', '{}': {}, true: true, '[]': [], NaN, Infinity, '2**31': 2 ** 31, 1.5: 1.5 };
      for (const [label, arg] of Object.entries(args)) checks[label] = thrown(() => s.setMaxSendFragment(arg));
      checks.limits = [s.setMaxSendFragment(511), s.setMaxSendFragment(16385), s.setMaxSendFragment(768)];
      s.end(Buffer.alloc(10000, 7));
    });
    const client = sc.connect(node, { port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    const sizes = [];
    client.on('data', (d) => sizes.push(d.length));
    await withTimeout(once(client, 'end'), 5000, 'end');
    assert.equal(sizes.reduce((a, b) => a + b, 0), 10000);
    assert.ok(Math.max(...sizes) <= 768, `chunks ${sizes.join(',')}`);
    assert.ok(sizes.length >= 14, `10000 bytes in records of <= 768 need >= 14 (${sizes.length})`);
    assert.deepEqual(checks.limits, [false, false, true]);
    for (const bad of ['undefined', 'null', "''", '{}', 'true', '[]']) {
      assert.deepEqual(checks[bad], { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, bad);
    }
    for (const bad of ['NaN', 'Infinity', '2**31', '1.5']) {
      assert.deepEqual(checks[bad], { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, bad);
    }
  });
}

// One 'data' per TLS record, as node:tls (OpenSSL's SSL_read returns one
// record at a time): records of 768 bytes arrive as chunks of 768, however
// many the client read at once; a large write sent as full records arrives
// as 16 KiB chunks. The chunk sizes are compared with node:tls's in every
// pairing, over TLS 1.3 and 1.2, read at once and after a pause.
async function chunkSizes(sName, cName, t, { maxVersion, paused, fragment, size }) {
  const sc = scope(t);
  const { port } = await sc.server(impls[sName], { ...certs.ec, maxVersion }, (s) => {
    if (fragment) s.setMaxSendFragment(fragment);
    s.end(Buffer.alloc(size, 1));
  });
  const client = sc.connect(impls[cName], { port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
  await withTimeout(once(client, 'secureConnect'), 5000, 'secureConnect');
  // Paused: every record is in the socket before the first read.
  if (paused) await new Promise((resolve) => setTimeout(resolve, 200));
  const sizes = [];
  client.on('data', (d) => sizes.push(d.length));
  await withTimeout(once(client, 'end'), 5000, 'end');
  return sizes;
}

for (const [sName, cName] of implPairs()) {
  test(`one 'data' per record, as node:tls: ${sName} server, ${cName} client`, async (t) => {
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2']) {
      for (const paused of [false, true]) {
        const label = `${maxVersion}${paused ? ', paused' : ''}`;
        const small = await chunkSizes(sName, cName, t, { maxVersion, paused, fragment: 768, size: 10000 });
        assert.deepEqual(small, [...Array(13).fill(768), 16], label);
        const full = await chunkSizes(sName, cName, t, { maxVersion, paused, size: 40000 });
        assert.deepEqual(full, [16384, 16384, 7232], label);
      }
    }
  });
}
