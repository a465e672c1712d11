'use strict';
// Builds the native addon with cargo (release profile) and places it at
// the package root as rustls-tls.node, unless the package was installed with
// a prebuilt binary for this platform. Zero dependencies: it runs when the
// package is installed from a tarball, where only cargo and Node exist.
//
// In a git checkout the build goes to ./target (cargo's cache makes
// rebuilds fast); inside node_modules it goes to a temporary folder that is
// removed afterwards, so no build tree is left behind.

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const out = path.join(root, 'rustls-tls.node');
const inNodeModules = root.split(path.sep).includes('node_modules');

if (process.env.RUSTLS_TLS_SKIP_BUILD) {
  console.log('rustls-tls: RUSTLS_TLS_SKIP_BUILD set, not building');
  process.exit(0);
}

// Installed as a dependency with the prebuilt binary for this platform (an
// optional dependency npm picked by os/cpu/libc): nothing to build, as long
// as that binary loads here. A checkout always builds its own source.
if (inNodeModules && !fs.existsSync(out)) {
  const { packageName } = require('../lib/prebuilt');
  const name = packageName();
  let file = null;
  try {
    file = require.resolve(name, { paths: [root] });
    require(file);
  } catch (err) {
    if (file) console.log(`rustls-tls: the prebuilt ${name} does not load here (${err.message}); building from source`);
    file = null;
  }
  if (file) {
    console.log(`rustls-tls: using the prebuilt binary ${name}`);
    process.exit(0);
  }
}

const targetDir = inNodeModules ?
  fs.mkdtempSync(path.join(os.tmpdir(), 'rustls-tls-build-')) :
  path.join(root, 'target');

console.log(`rustls-tls: building the native addon (cargo build --release, target ${targetDir})`);
const result = spawnSync('cargo', ['build', '--release', '--target-dir', targetDir], {
  cwd: root,
  stdio: 'inherit',
});
const removeBuildTree = () => {
  if (inNodeModules) fs.rmSync(targetDir, { recursive: true, force: true });
};
if (result.error) {
  removeBuildTree();
  console.error(`rustls-tls: could not run cargo (${result.error.message}); install Rust from https://rustup.rs`);
  process.exit(1);
}
if (result.status !== 0) {
  removeBuildTree();
  process.exit(result.status || 1);
}

const names = { linux: 'librustls_tls.so', darwin: 'librustls_tls.dylib', win32: 'rustls_tls.dll' };
const built = path.join(targetDir, 'release', names[process.platform] || names.linux);
fs.copyFileSync(built, `${out}.tmp`);
fs.renameSync(`${out}.tmp`, out);
removeBuildTree();
console.log(`rustls-tls: built ${path.relative(process.cwd(), out) || out}`);
