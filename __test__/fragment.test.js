'use strict';
// setMaxSendFragment(): argument checks as in node:tls, and records of at
// most the given size on the wire. A node:tls client reads one record per
// 'data' chunk, so it shows the record sizes the server sent.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { impls, implNames, certs, scope, withTimeout } = require('./helpers');

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
