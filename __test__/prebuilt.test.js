'use strict';
// The package installs without a Rust toolchain when its prebuilt platform
// package is there, and falls back to cargo when it is not:
// scripts/check-prebuilt.sh packs both, installs them in an empty folder
// with no cargo on PATH, and runs a TLS round trip (see the script).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT } = require('./helpers');

test('npm pack + npm install of the package and its linux-x64-gnu binary, no cargo: require works in well under a minute',
  { timeout: 180000 }, () => {
    const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'check-prebuilt.sh')], {
      cwd: ROOT, encoding: 'utf8', timeout: 170000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /using the prebuilt binary rustls-tls-/);
    assert.match(r.stdout, /require\('rustls-tls'\) works: prebuilt ok \(TLSv1\.3\)/);
    const ms = Number(/without cargo took (\d+) ms/.exec(r.stdout)[1]);
    assert.ok(ms < 60000, `${ms} ms`);
    assert.match(r.stdout, /without the platform package, install ran: cargo build --release/);
  });
