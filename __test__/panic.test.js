'use strict';
// Panic containment, shown with the addon built with the `fault-injection`
// feature (a test-only build; the package's own binary cannot inject
// faults): a connection task made to panic mid-stream gives its socket
// 'error' with ERR_INTERNAL_ASSERTION, then 'close'; the next connection is
// served normally and the process exits by itself with code 0.
//
// The faulty addon is built here when it is missing or older than the
// sources (cargo keeps both feature sets, so a rebuild only relinks), into
// target/fault-injection/, apart from the package's rustls-tls.node.

const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const addon = path.join(root, 'target', 'fault-injection', 'rustls-tls.node');

function newestSource() {
  const files = [path.join(root, 'Cargo.toml'), path.join(root, 'Cargo.lock')];
  for (const f of fs.readdirSync(path.join(root, 'src'))) files.push(path.join(root, 'src', f));
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

function buildFaulty() {
  if (fs.existsSync(addon) && fs.statSync(addon).mtimeMs >= newestSource()) return;
  const r = spawnSync('cargo', ['build', '--release', '--lib', '--features', 'fault-injection',
    '--message-format=json-render-diagnostics'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.strictEqual(r.status, 0, `cargo build --features fault-injection failed:\n${r.stderr}`);
  const artifact = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .find((m) => m.reason === 'compiler-artifact' && m.target.name === 'rustls_tls' &&
      m.target.kind.includes('cdylib'));
  const lib = artifact.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
  fs.mkdirSync(path.dirname(addon), { recursive: true });
  fs.copyFileSync(lib, addon);
}

// Established connections are read on the JS thread's event loop (a libuv
// poll, src/poll.rs) by default, and by their TLS thread's task with
// RUSTLS_TLS_INLINE=0: the panic is injected where the plaintext is
// delivered, so each path is shown.
for (const inline of ['1', '0']) {
  test(`a reader that panics (RUSTLS_TLS_INLINE=${inline}): its socket errors with a code, the rest carries on`, {
    timeout: 30 * 60 * 1000,
  }, () => faulted(inline));
}

function faulted(inline) {
  buildFaulty();
  const r = spawnSync(process.execPath, [path.join(__dirname, 'harness', 'panic-child.js'), addon], {
    cwd: root, encoding: 'utf8', timeout: 60000, env: { ...process.env, RUSTLS_TLS_INLINE: inline },
  });
  assert.strictEqual(r.signal, null, r.stderr);
  assert.strictEqual(r.status, 0, r.stderr);
  const { faulted, healthy } = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.deepStrictEqual(faulted.events, ['secureConnect', 'error:ERR_INTERNAL_ASSERTION', 'close']);
  assert.strictEqual(faulted.data, '');
  assert.deepStrictEqual(healthy.events, ['secureConnect', 'close']);
  assert.strictEqual(healthy.data, 'echo:okecho:again');
  // The panic was reported (Rust's hook), not swallowed silently.
  assert.match(r.stderr, /fault injection: connection task panics/);
}

test('the package\'s own addon has no fault injection compiled in', () => {
  const own = fs.readFileSync(path.join(root, 'rustls-tls.node'));
  assert.strictEqual(own.includes('rustls-tls:fault-injection:panic'), false);
});
