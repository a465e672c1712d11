'use strict';
// The published types of every subpath (index.d.ts, https.d.ts,
// register.d.ts through package.json "exports"), checked with tsc as a
// user's project sees them: the package linked into node_modules.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT } = require('./helpers');

let dir;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-types-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'rustls-tls'), 'dir');
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'), 'dir');
  for (const f of fs.readdirSync(path.join(__dirname, 'types'))) {
    fs.copyFileSync(path.join(__dirname, 'types', f), path.join(dir, f));
  }
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function tsc(files) {
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'] },
    files,
  }));
  return spawnSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '-p', dir], {
    cwd: dir, encoding: 'utf8', timeout: 120000,
  });
}

test('rustls-tls, rustls-tls/https and rustls-tls/register type-check from ESM and CommonJS', { timeout: 130000 }, () => {
  const r = tsc(['esm.mts', 'cjs.cts']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('and the types are real: misuse is an error', { timeout: 130000 }, () => {
  const r = tsc(['wrong.mts']);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /wrong\.mts\(5,\d+\): error TS2322: Type 'TLSSocket' is not assignable to type 'number'/);
  assert.match(r.stdout, /wrong\.mts\(6,\d+\): error TS2322: Type 'Server' is not assignable to type 'number'/);
});
