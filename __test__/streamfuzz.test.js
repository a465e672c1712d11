'use strict';
// A short, fixed-seed run of the wrapped-stream property fuzz
// (__test__/harness/streams.js); `npm run fuzz` runs it at length with a
// random seed. Plus the inputs it once found, replayed exactly.

const test = require('node:test');
const assert = require('node:assert');
const fc = require('fast-check');
const streams = require('./harness/streams');

const impls = { node: require('node:tls'), rustls: require('..') };

test('random operations on wrapped streams: no throw, coded errors, always closes', async () => {
  await fc.assert(streams.property(fc, impls), { seed: 20261130, numRuns: 40 });
});

test('a socket fed random bytes alone fails with a code and closes', async () => {
  for (const isServer of [true, false]) {
    const failures = await streams.runScenario(impls, {
      alone: true,
      isServer,
      chunks: [Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]), Uint8Array.from([0xff, 0, 0xff])],
      end: true,
    });
    assert.deepStrictEqual(failures, []);
  }
});

test('garbage injected after the handshake, then writes both ways, closes cleanly', async () => {
  const failures = await streams.runScenario(impls, {
    alone: false,
    impls: ['rustls', 'rustls'],
    maxVersion: 'TLSv1.3',
    ops: [
      { op: 'wait', ms: 15 },
      { op: 'write', side: 0, data: Uint8Array.from([1, 2, 3]) },
      { op: 'inject', side: 0, data: Uint8Array.from([0x17, 3, 3, 0, 2, 9, 9]) },
      { op: 'write', side: 1, data: Uint8Array.from([4]) },
      { op: 'streamError', side: 1 },
      { op: 'end', side: 0 },
    ],
  });
  assert.deepStrictEqual(failures, []);
});
