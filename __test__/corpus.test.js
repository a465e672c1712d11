'use strict';
// The fuzz corpus (fuzz/corpus/<target>/: the seeds and every input the
// fuzzers found) replayed by `npm test`: each input goes once more through
// its target (createSecureContext's input, PKCS#12, a server's ClientHello,
// an established connection's record stream) and none may panic. The replay
// is the crate's own test (src/fuzzing.rs, `corpus_replays`), run here
// through cargo; `.ci/run`'s `cargo test` has built it already.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');

test('every input of the fuzz corpus replays without a panic', { timeout: 900000 }, () => {
  const targets = fs.readdirSync(path.join(ROOT, 'fuzz', 'corpus'));
  assert.ok(targets.length >= 4, `fuzz targets with a corpus: ${targets}`);
  const r = spawnSync('cargo', ['test', '--release', '--lib', 'fuzzing::tests::corpus_replays', '--', '--exact'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 890000,
  });
  assert.equal(r.status, 0, `cargo test failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /test fuzzing::tests::corpus_replays \.\.\. ok/);
  assert.match(r.stdout, /test result: ok\. 1 passed/);
});
